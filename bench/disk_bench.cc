// shoal_bench_disk: RocksDisk (io_real/storage) writes made durable, in items per wall second.
//
//   PutSync/1writer   put one 200-byte value, sync, wait for the callback: one fsync per item.
//   Batch64           64 puts, then one sync: one fsync per 64 items.
//   Pipelined64       64 × (put + sync) without waiting, then wait for all 64 callbacks: the
//                     sync thread's group commit decides how many fsyncs (counter fsyncs/item).
//   PutOnly           put without sync: the cost of sealing plus a WAL append.
//
// The database lives under $SHOAL_BENCH_DIR (default /tmp); the numbers are those of that file
// system's fsync. Times are wall-clock (the waiting happens on the sync thread).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "io_real/crypto/openssl_crypto.h"
#include "io_real/storage/rocksdb_disk.h"

namespace {

using shoal::Status;
using shoal::real::RocksDisk;

class BenchDisk {
 public:
  BenchDisk() {
    const char* base = std::getenv("SHOAL_BENCH_DIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/shoal-disk-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    shoal::AeadKey kek{};
    crypto_.random_bytes(kek.data(), kek.size());
    // Callbacks run inline on the sync thread; the benchmark thread waits on `done_`.
    auto r = RocksDisk::open({.path = dir_ + "/data", .kek = kek, .post = [](std::function<void()> fn) { fn(); }},
                             crypto_);
    if (!r.ok()) std::abort();
    disk_ = std::move(*r);
  }
  ~BenchDisk() {
    disk_->close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RocksDisk& disk() { return *disk_; }
  void sync() {
    disk_->sync([this](Status s) {
      if (!s.ok()) std::abort();
      done_.fetch_add(1);
      done_.notify_one();
    });
  }
  void wait_for(uint64_t n) {
    for (uint64_t d = done_.load(); d < n; d = done_.load()) done_.wait(d);
  }
  uint64_t done() const { return done_.load(); }

 private:
  std::string dir_;
  shoal::real::OpenSslCrypto crypto_;
  std::unique_ptr<RocksDisk> disk_;
  std::atomic<uint64_t> done_{0};
};

std::string key(uint64_t i) { return "raft/e/" + std::to_string(i); }

void BM_PutSync_1writer(benchmark::State& state) {
  BenchDisk b;
  const std::string value(200, 'v');
  uint64_t i = 0;
  for (auto _ : state) {
    b.disk().put(key(i++), value);
    b.sync();
    b.wait_for(i);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.counters["fsyncs/item"] = static_cast<double>(b.disk().stats().wal_syncs) / static_cast<double>(i);
}
BENCHMARK(BM_PutSync_1writer)->UseRealTime();

void BM_Batch64(benchmark::State& state) {
  BenchDisk b;
  const std::string value(200, 'v');
  uint64_t i = 0, syncs = 0;
  for (auto _ : state) {
    for (int n = 0; n < 64; ++n) b.disk().put(key(i++), value);
    b.sync();
    b.wait_for(++syncs);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.counters["fsyncs/item"] = static_cast<double>(b.disk().stats().wal_syncs) / static_cast<double>(i);
}
BENCHMARK(BM_Batch64)->UseRealTime();

void BM_Pipelined64(benchmark::State& state) {
  BenchDisk b;
  const std::string value(200, 'v');
  uint64_t i = 0;
  for (auto _ : state) {
    for (int n = 0; n < 64; ++n) {
      b.disk().put(key(i++), value);
      b.sync();
    }
    b.wait_for(i);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.counters["fsyncs/item"] = static_cast<double>(b.disk().stats().wal_syncs) / static_cast<double>(i);
}
BENCHMARK(BM_Pipelined64)->UseRealTime();

void BM_PutOnly(benchmark::State& state) {
  BenchDisk b;
  const std::string value(200, 'v');
  uint64_t i = 0;
  for (auto _ : state) b.disk().put(key(i++), value);
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(BM_PutOnly)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
