#include "io_real/storage/rocksdb_disk.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "io_real/crypto/openssl_crypto.h"

namespace shoal::real {
namespace {

// A temporary directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/shoal-rocksdisk-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (made == nullptr) std::abort();
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string db() const { return path_ + "/data"; }

 private:
  std::string path_;
};

// The test's event loop: post() queues callbacks from the sync thread; the test drains them.
class Loop {
 public:
  std::function<void(std::function<void()>)> poster() {
    return [this](std::function<void()> fn) {
      {
        std::lock_guard lk(mu_);
        queue_.push_back(std::move(fn));
      }
      cv_.notify_all();
    };
  }
  // Runs queued callbacks until `n` have run in total or 20 s pass; returns how many have run.
  size_t run_until(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (ran_ < n) {
      std::function<void()> fn;
      {
        std::unique_lock lk(mu_);
        if (!cv_.wait_until(lk, deadline, [&] { return !queue_.empty(); })) break;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
      ++ran_;
    }
    return ran_;
  }
  size_t ran() const { return ran_; }
  size_t queued() {
    std::lock_guard lk(mu_);
    return queue_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t ran_ = 0;
};

AeadKey make_key(real::OpenSslCrypto& c) {
  AeadKey k{};
  c.random_bytes(k.data(), k.size());
  return k;
}

std::string entry_key(uint64_t index) {
  std::string key = "raft/e/";
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((index >> shift) & 0xff));
  return key;
}

class RocksDiskTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<RocksDisk>> open(const AeadKey& kek, bool create = true) {
    return RocksDisk::open({.path = dir_.db(), .kek = kek, .create_if_missing = create, .post = loop_.poster()}, crypto_);
  }
  std::unique_ptr<RocksDisk> open_ok(const AeadKey& kek) {
    auto r = open(kek);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : nullptr;
  }
  // Syncs and waits (on the test's loop) for the callback; returns its status.
  Status sync_and_wait(RocksDisk& disk) {
    Status got = Status::aborted("sync callback never ran");
    const size_t before = loop_.ran();
    disk.sync([&](Status s) { got = s; });
    loop_.run_until(before + 1);
    return got;
  }
  std::map<std::string, std::string> all(const RocksDisk& disk) {
    std::map<std::string, std::string> out;
    disk.scan(std::string(1, '\0'), std::string(8, '\xff'), [&](std::string_view k, std::string_view v) {
      out.emplace(k, v);
      return true;
    });
    return out;
  }

  // Raw RocksDB access to the directory (RocksDisk must be closed): both column families.
  struct Raw {
    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> cfs;
    ~Raw() {
      for (auto* h : cfs) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
  };
  std::unique_ptr<Raw> open_raw() {
    auto raw = std::make_unique<Raw>();
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> descs = {{rocksdb::kDefaultColumnFamilyName, {}}, {"meta", {}}};
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), dir_.db(), descs, &raw->cfs, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    raw->db.reset(db);
    return raw;
  }
  std::string raw_get(Raw& raw, const std::string& key) {
    std::string v;
    EXPECT_TRUE(raw.db->Get(rocksdb::ReadOptions(), raw.cfs[0], key, &v).ok());
    return v;
  }
  void raw_put(Raw& raw, const std::string& key, const std::string& value) {
    ASSERT_TRUE(raw.db->Put(rocksdb::WriteOptions(), raw.cfs[0], key, value).ok());
  }

  TempDir dir_;
  Loop loop_;
  real::OpenSslCrypto crypto_;
  AeadKey kek_ = make_key(crypto_);
};

TEST_F(RocksDiskTest, PutGetEraseAndScanInKeyOrder) {
  auto disk = open_ok(kek_);
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(disk->get("raft/hardstate"), std::nullopt);
  disk->put("raft/hardstate", "term 3");
  for (uint64_t i : {300, 1, 256, 2, 255}) disk->put(entry_key(i), "entry " + std::to_string(i));
  EXPECT_EQ(disk->get("raft/hardstate"), "term 3");
  disk->put("raft/hardstate", "term 4");  // overwrite
  EXPECT_EQ(disk->get("raft/hardstate"), "term 4");
  disk->put("empty", "");
  EXPECT_EQ(disk->get("empty"), "");

  std::vector<std::string> seen;
  disk->scan("raft/e/", "raft/e0", [&](std::string_view k, std::string_view v) {
    seen.emplace_back(v);
    EXPECT_EQ(k.substr(0, 7), "raft/e/");
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"entry 1", "entry 2", "entry 255", "entry 256", "entry 300"}));

  // scan stops when fn returns false; [begin, end) excludes end.
  seen.clear();
  disk->scan(entry_key(2), entry_key(300), [&](std::string_view, std::string_view v) {
    seen.emplace_back(v);
    return seen.size() < 2;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"entry 2", "entry 255"}));
  seen.clear();
  disk->scan(entry_key(256), entry_key(300), [&](std::string_view, std::string_view v) {
    seen.emplace_back(v);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"entry 256"}));
  int calls = 0;
  disk->scan(entry_key(300), entry_key(2), [&](std::string_view, std::string_view) { return ++calls > 0; });
  EXPECT_EQ(calls, 0) << "an empty range scans nothing";

  disk->erase(entry_key(255));
  disk->erase("no such key");
  EXPECT_EQ(disk->get(entry_key(255)), std::nullopt);

  disk->erase_range(entry_key(2), entry_key(300));  // drops 2 and 256, keeps 1 and 300
  disk->erase_range(entry_key(9), entry_key(3));    // empty range: nothing
  seen.clear();
  disk->scan("raft/e/", "raft/e0", [&](std::string_view, std::string_view v) {
    seen.emplace_back(v);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"entry 1", "entry 300"}));
  // A key erased by a range can be written again (the Raft log's conflicting-suffix rewrite).
  disk->put(entry_key(2), "entry 2 again");
  EXPECT_EQ(disk->get(entry_key(2)), "entry 2 again");
  EXPECT_EQ(all(*disk).size(), 5u);  // empty, 3 entries, hardstate
}

TEST_F(RocksDiskTest, SyncedValuesSurviveCloseAndReopen) {
  {
    auto disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    for (uint64_t i = 1; i <= 100; ++i) disk->put(entry_key(i), std::string(200, static_cast<char>('a' + i % 26)));
    disk->put("raft/hardstate", "term 7 vote 2");
    disk->erase_range(entry_key(1), entry_key(11));
    disk->erase(entry_key(50));
    ASSERT_TRUE(sync_and_wait(*disk).ok());
    disk->close();
    disk->close();  // idempotent
  }
  auto disk = open_ok(kek_);
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(disk->stats().records_verified, 100u - 10u - 1u + 1u);
  EXPECT_EQ(disk->get("raft/hardstate"), "term 7 vote 2");
  EXPECT_EQ(disk->get(entry_key(10)), std::nullopt);
  EXPECT_EQ(disk->get(entry_key(50)), std::nullopt);
  EXPECT_EQ(disk->get(entry_key(11)), std::string(200, static_cast<char>('a' + 11 % 26)));
  EXPECT_EQ(all(*disk).size(), 90u);
}

// put_all is one WriteBatch: every pair sealed like put()'s (verified on reopen), in order, so a
// later pair for the same key wins.
TEST_F(RocksDiskTest, PutAllWritesEveryPairSealedInOrder) {
  {
    auto disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    std::vector<std::pair<std::string, std::string>> pairs;
    for (uint64_t i = 1; i <= 20; ++i) pairs.emplace_back(entry_key(i), "entry " + std::to_string(i));
    pairs.emplace_back("raft/hardstate", "commit 5");
    pairs.emplace_back("raft/hardstate", "commit 20");
    disk->put_all(std::move(pairs));
    disk->put_all({});  // nothing to write: no error, no record
    EXPECT_EQ(disk->get(entry_key(7)), "entry 7") << "readable before the sync";
    ASSERT_TRUE(sync_and_wait(*disk).ok());
    disk->close();
  }
  auto disk = open_ok(kek_);
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(disk->stats().records_verified, 21u);
  EXPECT_EQ(disk->get(entry_key(20)), "entry 20");
  EXPECT_EQ(disk->get("raft/hardstate"), "commit 20");
}

TEST_F(RocksDiskTest, SyncCallbackIsDeliveredThroughPostInRequestOrder) {
  auto disk = open_ok(kek_);
  ASSERT_NE(disk, nullptr);
  std::vector<int> order;
  std::thread::id caller;
  for (int i = 0; i < 3; ++i) {
    disk->put("k" + std::to_string(i), "v");
    disk->sync([&, i](Status s) {
      EXPECT_TRUE(s.ok()) << s.message();
      order.push_back(i);
      caller = std::this_thread::get_id();
    });
  }
  EXPECT_TRUE(order.empty()) << "callbacks must not run before the loop runs them";
  ASSERT_EQ(loop_.run_until(3), 3u);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(caller, std::this_thread::get_id()) << "callbacks run on the loop's thread";
  EXPECT_EQ(disk->stats().sync_requests, 3u);
}

TEST_F(RocksDiskTest, CloseWaitsForQueuedSyncs) {
  auto disk = open_ok(kek_);
  ASSERT_NE(disk, nullptr);
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    disk->put(entry_key(i), "x");
    disk->sync([&](Status s) { done += s.ok() ? 1 : 0; });
  }
  disk->close();
  EXPECT_EQ(loop_.queued(), 50u) << "every queued sync was covered and posted before close returned";
  loop_.run_until(50);
  EXPECT_EQ(done, 50);
}

TEST_F(RocksDiskTest, ManyConcurrentSyncRequestsAllCompleteAndShareFsyncs) {
  auto disk = open_ok(kek_);
  ASSERT_NE(disk, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::atomic<int> ok{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        disk->put(entry_key(static_cast<uint64_t>(t) << 32 | static_cast<uint64_t>(i)), std::string(200, 'w'));
        disk->sync([&](Status s) { ok += s.ok() ? 1 : 0; });
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_EQ(loop_.run_until(kThreads * kPerThread), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  const auto st = disk->stats();
  EXPECT_EQ(st.sync_requests, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_LT(st.wal_syncs, st.sync_requests) << "group commit: one fsync covers many requests";
  EXPECT_EQ(all(*disk).size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(RocksDiskTest, WrongKekIsRefusedWithAnActionableMessage) {
  open_ok(kek_).reset();
  auto r = open(make_key(crypto_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("key-encryption key does not open"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("shoal swarm unlock"), std::string::npos) << r.status().message();
  EXPECT_TRUE(open(kek_).ok()) << "the right key still opens it";
}

TEST_F(RocksDiskTest, MissingDirectoryWithoutCreateIsRefused) {
  auto r = open(kek_, /*create=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("no Shoal data directory at '" + dir_.db() + "'"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(std::filesystem::exists(dir_.db())) << "nothing created";
}

TEST_F(RocksDiskTest, ASecondOpenOfTheSameDirectoryIsRefused) {
  auto first = open_ok(kek_);
  ASSERT_NE(first, nullptr);
  auto second = open(kek_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use by another process"), std::string::npos) << second.status().message();
}

TEST_F(RocksDiskTest, ForeignRocksDbIsNotTakenForADataDirectory) {
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.db(), &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "x", "y").ok());
    delete db;
  }
  auto r = open(kek_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a Shoal data directory"), std::string::npos) << r.status().message();
}

TEST_F(RocksDiskTest, TamperedValueIsReportedAtOpenNamingTheKey) {
  {
    auto disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    disk->put(entry_key(1), "first entry");
    disk->put(entry_key(0x0102), "the entry an attacker edits");
    disk->put("raft/hardstate", "term 1");
    ASSERT_TRUE(sync_and_wait(*disk).ok());
  }
  {
    auto raw = open_raw();
    std::string v = raw_get(*raw, entry_key(0x0102));
    v[v.size() / 2] = static_cast<char>(v[v.size() / 2] ^ 0x01);
    raw_put(*raw, entry_key(0x0102), v);
  }
  auto r = open(kek_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("is corrupt: record 'raft/e/\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x02' fails "
                                      "authentication (tampered or truncated"),
            std::string::npos)
      << r.status().message();
}

TEST_F(RocksDiskTest, TruncatedValueIsReportedAtOpen) {
  {
    auto disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    disk->put("raft/snapshot", std::string(1000, 's'));
    ASSERT_TRUE(sync_and_wait(*disk).ok());
  }
  for (size_t keep : {size_t{500}, size_t{10}}) {
    {
      auto raw = open_raw();
      std::string v = raw_get(*raw, "raft/snapshot");
      raw_put(*raw, "raft/snapshot", v.substr(0, keep));
    }
    auto r = open(kek_);
    ASSERT_FALSE(r.ok()) << "kept " << keep;
    EXPECT_NE(r.status().message().find("record 'raft/snapshot' fails authentication (tampered or truncated"),
              std::string::npos)
        << r.status().message();
  }
}

TEST_F(RocksDiskTest, ValueMovedToAnotherKeyIsReported) {
  {
    auto disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    disk->put("raft/hardstate", "term 9 vote 1");
    ASSERT_TRUE(sync_and_wait(*disk).ok());
  }
  {
    auto raw = open_raw();
    raw_put(*raw, "raft/hardstate-copy", raw_get(*raw, "raft/hardstate"));
  }
  auto r = open(kek_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("record 'raft/hardstate-copy' fails authentication"), std::string::npos)
      << r.status().message();
}

TEST_F(RocksDiskTest, TamperedOrTruncatedDataKeyIsRefused) {
  open_ok(kek_).reset();
  std::string sealed;
  {
    auto raw = open_raw();
    ASSERT_TRUE(raw->db->Get(rocksdb::ReadOptions(), raw->cfs[1], "data-key", &sealed).ok());
    ASSERT_TRUE(raw->db->Put(rocksdb::WriteOptions(), raw->cfs[1], "data-key", sealed.substr(0, 40)).ok());
  }
  auto r = open(kek_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("sealed data key is 40 bytes"), std::string::npos) << r.status().message();
}

TEST_F(RocksDiskTest, RewrapDataKeyChangesTheKekAndKeepsTheData) {
  const AeadKey new_kek = make_key(crypto_);
  std::string sealed_before;
  {
    auto disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    disk->put("raft/hardstate", "term 2");
    ASSERT_TRUE(sync_and_wait(*disk).ok());
    disk->close();
    sealed_before = raw_get(*open_raw(), "raft/hardstate");
    disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    ASSERT_TRUE(disk->rewrap_data_key(new_kek).ok());
    EXPECT_EQ(disk->get("raft/hardstate"), "term 2");
  }
  EXPECT_EQ(raw_get(*open_raw(), "raft/hardstate"), sealed_before) << "records are not rewritten";
  auto old = open(kek_);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("key-encryption key does not open"), std::string::npos);
  auto disk = open_ok(new_kek);
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(disk->get("raft/hardstate"), "term 2");
  disk->close();
  EXPECT_FALSE(disk->rewrap_data_key(kek_).ok()) << "refused after close";
}

TEST_F(RocksDiskTest, PlaintextNeverReachesTheDisk) {
  const std::string secret = "SECRET-service-env-PASSWORD=hunter2-0123456789";
  {
    auto disk = open_ok(kek_);
    ASSERT_NE(disk, nullptr);
    for (uint64_t i = 0; i < 20; ++i) disk->put(entry_key(i), secret + std::to_string(i));
    ASSERT_TRUE(sync_and_wait(*disk).ok());
  }
  {
    auto raw = open_raw();
    const std::string v = raw_get(*raw, entry_key(3));
    EXPECT_EQ(v.size(), secret.size() + 1 + Crypto::kSealOverhead);
    EXPECT_EQ(v.find("SECRET"), std::string::npos);
    // And RocksDB's files as well (WAL, SSTs after the raw open's flush, MANIFEST, ...).
    ASSERT_TRUE(raw->db->Flush(rocksdb::FlushOptions(), raw->cfs).ok());
  }
  size_t files = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.db())) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("SECRET"), std::string::npos) << "plaintext in " << f.path();
    ++files;
  }
  EXPECT_GT(files, 3u);
}

TEST_F(RocksDiskTest, CreationInterruptedBeforeTheDataKeyIsFinishedOnNextOpen) {
  {
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    Raw raw;
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> descs = {{rocksdb::kDefaultColumnFamilyName, {}}, {"meta", {}}};
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.db(), descs, &raw.cfs, &db).ok());
    raw.db.reset(db);
  }
  EXPECT_FALSE(open(kek_, /*create=*/false).ok());
  auto disk = open_ok(kek_);
  ASSERT_NE(disk, nullptr);
  disk->put("k", "v");
  EXPECT_EQ(disk->get("k"), "v");
}

TEST_F(RocksDiskTest, RecordsWithoutADataKeyAreCorruption) {
  open_ok(kek_).reset();
  {
    auto raw = open_raw();
    raw_put(*raw, "raft/hardstate", "whatever");
    ASSERT_TRUE(raw->db->Delete(rocksdb::WriteOptions(), raw->cfs[1], "data-key").ok());
  }
  auto r = open(kek_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("has records but no data key"), std::string::npos) << r.status().message();
}

// A Crypto whose unseal can be told to fail: stands in for a record damaged after open.
class BreakableCrypto final : public Crypto {
 public:
  void random_bytes(uint8_t* out, size_t n) override { real_.random_bytes(out, n); }
  Sha256Digest sha256(std::string_view data) override { return real_.sha256(data); }
  std::string seal(const AeadKey& key, std::string_view plaintext, std::string_view aad) override {
    return real_.seal(key, plaintext, aad);
  }
  Result<std::string> unseal(const AeadKey& key, std::string_view sealed, std::string_view aad) override {
    if (broken) return Status::corruption("sealed data failed authentication (test)");
    return real_.unseal(key, sealed, aad);
  }
  bool broken = false;

 private:
  real::OpenSslCrypto real_;
};

TEST_F(RocksDiskTest, RecordFailingToUnsealAfterOpenStopsTheProcessNamingIt) {
  // "fast" death tests: the child is forked at EXPECT_DEATH and reads the parent's open database
  // (the memtable); it needs none of RocksDB's background threads, and leaves no directory behind.
  BreakableCrypto crypto;
  auto r = RocksDisk::open({.path = dir_.db(), .kek = kek_, .post = loop_.poster()}, crypto);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto& disk = **r;
  disk.put(std::string("raft/e/\x00\x07", 9), "entry");
  disk.put("raft/hardstate", "term 1");
  crypto.broken = true;
  EXPECT_DEATH(disk.get("raft/hardstate"), "record 'raft/hardstate' fails authentication");
  EXPECT_DEATH(disk.scan("raft/e/", "raft/e0", [](std::string_view, std::string_view) { return true; }),
               "record 'raft/e/\\\\x00\\\\x07' fails authentication");
  crypto.broken = false;
  EXPECT_EQ(disk.get("raft/hardstate"), "term 1");
}

TEST(RocksDiskPrintableKey, ShowsBinaryBytesAsHex) {
  EXPECT_EQ(printable_key("raft/hardstate"), "raft/hardstate");
  EXPECT_EQ(printable_key(std::string("raft/e/\x00\x01\xff", 10)), "raft/e/\\x00\\x01\\xff");
  EXPECT_EQ(printable_key("a'b\\c"), "a\\x27b\\x5cc");
  EXPECT_EQ(printable_key(std::string(200, 'k')), std::string(96, 'k') + "...");
}

}  // namespace
}  // namespace shoal::real
