#include "io_real/storage/rocksdb_disk.h"

#include <openssl/crypto.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/env/check.h"

namespace shoal::real {

namespace {

constexpr char kMetaFamily[] = "meta";
constexpr char kFormatKey[] = "format";
constexpr char kFormat[] = "shoal-rocksdisk/1";
constexpr char kDataKeyKey[] = "data-key";
constexpr char kDataKeyAad[] = "shoal/data-key";
constexpr size_t kPrintableKeyLimit = 96;

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

void cleanse(void* p, size_t n) { OPENSSL_cleanse(p, n); }

// A record that fails to unseal or read after open: the directory changed under a running node,
// or the disk is failing. Disk::get/scan cannot return an error and handing core code bytes that
// do not authenticate is worse than stopping, so stop, naming the record. (Not SHOAL_CHECK: this
// is bad data, not a programmer error, and must not be turned into a simulator violation.)
[[noreturn]] void fatal_disk_corruption(const std::string& path, std::string_view key, const std::string& why) {
  std::fprintf(stderr,
               "fatal: data directory '%s' is corrupt: record '%s' %s; stopping rather than using it "
               "(the next start-up verifies every record and names the first bad one)\n",
               path.c_str(), printable_key(key).c_str(), why.c_str());
  std::abort();
}

}  // namespace

std::string printable_key(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = std::min(key.size(), kPrintableKeyLimit);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  if (key.size() > n) out += "...";
  return out;
}

struct RocksDisk::Impl {
  Impl(RocksDiskOptions o, Crypto& c) : opts(std::move(o)), crypto(c) {}
  ~Impl() { cleanse(data_key.data(), data_key.size()); }

  RocksDiskOptions opts;
  Crypto& crypto;
  AeadKey data_key{};
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* data_cf = nullptr;  // "default": the Disk records
  rocksdb::ColumnFamilyHandle* meta_cf = nullptr;  // "meta": format and sealed data key
  uint64_t records_verified = 0;
  std::atomic<bool> closed{false};

  // The sync thread and what it shares with callers; guarded by mu.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::function<void(Status)>> queued;  // sync requests not yet covered by a SyncWAL
  bool stopping = false;
  Status sticky_error;  // first failed write or fsync; every later sync reports it
  uint64_t sync_requests = 0;
  uint64_t wal_syncs = 0;
  std::thread syncer;

  void record_write_error(const char* op, std::string_view key, const rocksdb::Status& s) {
    std::lock_guard lk(mu);
    if (!sticky_error.ok()) return;
    sticky_error = Status::io_error("data directory '" + opts.path + "': " + op + " of record '" +
                                    printable_key(key) + "' failed: " + s.ToString());
    std::fprintf(stderr, "shoal: %s (every later sync will fail)\n", sticky_error.message().c_str());
  }

  void sync_loop() {
    for (;;) {
      std::vector<std::function<void(Status)>> batch;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return stopping || !queued.empty(); });
        if (queued.empty()) return;  // stopping, and nothing left to cover
        batch.swap(queued);
      }
      // Every write issued before any request in `batch` had returned from RocksDB (and so was
      // in the WAL buffer) before the request was queued; this flush + fsync starts after, so
      // covers it.
      const rocksdb::Status rs = db->FlushWAL(/*sync=*/true);
      Status s;
      {
        std::lock_guard lk(mu);
        ++wal_syncs;
        if (sticky_error.ok() && !rs.ok()) {
          sticky_error = Status::io_error("data directory '" + opts.path + "': WAL fsync failed: " + rs.ToString());
          std::fprintf(stderr, "shoal: %s (every later sync will fail)\n", sticky_error.message().c_str());
        }
        s = sticky_error;
      }
      for (auto& done : batch) {
        opts.post([done = std::move(done), s]() { done(s); });
      }
    }
  }

  void close() {
    if (closed.exchange(true)) return;
    if (syncer.joinable()) {
      SHOAL_CHECK(std::this_thread::get_id() != syncer.get_id(),
                  "RocksDisk::close called from a sync callback running on the sync thread");
      {
        std::lock_guard lk(mu);
        stopping = true;
      }
      cv.notify_all();
      syncer.join();
    }
    if (db) {
      for (auto* h : {data_cf, meta_cf}) {
        if (h != nullptr) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
      }
      data_cf = meta_cf = nullptr;
      const rocksdb::Status s = db->Close();
      if (!s.ok()) std::fprintf(stderr, "shoal: closing data directory '%s': %s\n", opts.path.c_str(), s.ToString().c_str());
      db.reset();
    }
    cleanse(data_key.data(), data_key.size());
  }

  // Writes a freshly made data key, sealed under the KEK, and the format marker; synced.
  Status create_data_key() {
    crypto.random_bytes(data_key.data(), data_key.size());
    std::string sealed = crypto.seal(opts.kek, std::string_view(reinterpret_cast<const char*>(data_key.data()), data_key.size()), kDataKeyAad);
    rocksdb::WriteBatch batch;
    rocksdb::Status s = batch.Put(meta_cf, kFormatKey, kFormat);
    if (s.ok()) s = batch.Put(meta_cf, kDataKeyKey, sealed);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (s.ok()) s = db->Write(wo, &batch);
    if (s.ok()) s = db->FlushWAL(/*sync=*/true);  // manual_wal_flush: a sync write alone stays buffered
    if (!s.ok()) return Status::io_error("data directory '" + opts.path + "': writing the new data key failed: " + s.ToString());
    return Status{};
  }

  // Reads the meta family: creates the data key in a new (or half-created) directory, else
  // opens it with the KEK.
  Status load_data_key() {
    std::string format, sealed;
    rocksdb::Status fs = db->Get(rocksdb::ReadOptions(), meta_cf, kFormatKey, &format);
    rocksdb::Status ks = db->Get(rocksdb::ReadOptions(), meta_cf, kDataKeyKey, &sealed);
    for (const auto* s : {&fs, &ks}) {
      if (!s->ok() && !s->IsNotFound()) {
        return Status::io_error("data directory '" + opts.path + "': reading its metadata failed: " + s->ToString());
      }
    }
    if (ks.IsNotFound()) {
      // A directory whose creation stopped before the data key was written has no records either.
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), data_cf));
      it->SeekToFirst();
      const bool has_records = it->Valid();
      if (!it->status().ok()) {
        return Status::corruption("data directory '" + opts.path + "' cannot be read: " + it->status().ToString());
      }
      if (has_records || fs.ok()) {
        return Status::corruption("data directory '" + opts.path + "' has " + (has_records ? "records" : "a format marker") +
                                  " but no data key: it is damaged, or it is not a Shoal data directory");
      }
      if (!opts.create_if_missing) {
        return Status::not_found("data directory '" + opts.path + "' was never initialised (no data key) and create_if_missing is off");
      }
      return create_data_key();
    }
    if (fs.IsNotFound()) {
      return Status::corruption("data directory '" + opts.path + "' has a data key but no format marker: it is damaged");
    }
    if (format != kFormat) {
      return Status::failed_precondition("data directory '" + opts.path + "' has format '" + printable_key(format) +
                                         "', which this build does not read (it reads '" + kFormat + "')");
    }
    if (sealed.size() != data_key.size() + Crypto::kSealOverhead) {
      return Status::corruption("data directory '" + opts.path + "' is corrupt: its sealed data key is " +
                                std::to_string(sealed.size()) + " bytes, not " +
                                std::to_string(data_key.size() + Crypto::kSealOverhead) + " (truncated or overwritten)");
    }
    Result<std::string> opened = crypto.unseal(opts.kek, sealed, kDataKeyAad);
    if (!opened.ok()) {
      return Status::failed_precondition(
          "the key-encryption key does not open the data key of data directory '" + opts.path +
          "' (is the manager locked? unlock it with `shoal swarm unlock`; if the key is right, the data key record "
          "was tampered with)");
    }
    SHOAL_CHECK(opened->size() == data_key.size(), "unsealed data key has %zu bytes", opened->size());
    std::copy(opened->begin(), opened->end(), reinterpret_cast<char*>(data_key.data()));
    cleanse(opened->data(), opened->size());
    return Status{};
  }

  // Unseals every record with its key as aad; reports the first that fails.
  Status verify_records() {
    rocksdb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, data_cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = view(it->key());
      Result<std::string> plain = crypto.unseal(data_key, view(it->value()), key);
      if (!plain.ok()) {
        return Status::corruption("data directory '" + opts.path + "' is corrupt: record '" + printable_key(key) +
                                  "' fails authentication (tampered or truncated: " + plain.status().message() + ")");
      }
      cleanse(plain->data(), plain->size());
      ++records_verified;
    }
    if (!it->status().ok()) {
      return Status::corruption("data directory '" + opts.path + "' is corrupt: RocksDB cannot read it: " + it->status().ToString());
    }
    return Status{};
  }

  Status open() {
    if (opts.path.empty()) return Status::invalid_argument("RocksDisk: no data directory path given");
    if (!opts.post) return Status::invalid_argument("RocksDisk: no post function given (sync callbacks need an event loop)");

    std::error_code ec;
    const bool exists = std::filesystem::exists(std::filesystem::path(opts.path) / "CURRENT", ec);
    if (!exists && !opts.create_if_missing) {
      return Status::not_found("no Shoal data directory at '" + opts.path + "' (and create_if_missing is off)");
    }
    if (exists) {
      std::vector<std::string> families;
      rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), opts.path, &families);
      if (!s.ok()) return Status::io_error("cannot read data directory '" + opts.path + "': " + s.ToString());
      bool has_meta = false;
      for (const auto& f : families) {
        if (f == kMetaFamily) {
          has_meta = true;
        } else if (f != rocksdb::kDefaultColumnFamilyName) {
          return Status::failed_precondition("'" + opts.path + "' is not a Shoal data directory (unexpected column family '" +
                                             printable_key(f) + "')");
        }
      }
      if (!has_meta) {
        return Status::failed_precondition("'" + opts.path + "' holds a RocksDB database that is not a Shoal data directory (no '" +
                                           kMetaFamily + "' column family)");
      }
    }

    rocksdb::DBOptions dbo;
    dbo.create_if_missing = !exists;
    dbo.create_missing_column_families = !exists;
    dbo.paranoid_checks = true;
    // Keep a prefix of the unsynced writes after a crash (the Disk contract's torn tail).
    dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    dbo.keep_log_file_num = 5;              // RocksDB's own LOG files: bounded
    // WAL records stay in RocksDB's buffer until a sync flushes and fsyncs them together: one
    // write(2) per group commit instead of one per put. Unsynced writes may be lost on a crash,
    // which the Disk contract allows.
    dbo.manual_wal_flush = true;
    dbo.max_log_file_size = 8 << 20;
    rocksdb::ColumnFamilyOptions data_opts;
    data_opts.compression = rocksdb::kNoCompression;  // sealed values do not compress
    rocksdb::ColumnFamilyOptions meta_opts;
    meta_opts.compression = rocksdb::kNoCompression;
    std::vector<rocksdb::ColumnFamilyDescriptor> descs = {{rocksdb::kDefaultColumnFamilyName, data_opts},
                                                           {kMetaFamily, meta_opts}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(dbo, opts.path, descs, &handles, &raw);
    if (!s.ok()) {
      if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
        return Status::unavailable("data directory '" + opts.path + "' is in use by another process (" + s.ToString() + ")");
      }
      if (s.IsCorruption()) return Status::corruption("data directory '" + opts.path + "' is corrupt: " + s.ToString());
      return Status::io_error("cannot open data directory '" + opts.path + "': " + s.ToString());
    }
    db.reset(raw);
    data_cf = handles[0];
    meta_cf = handles[1];

    Status keyed = load_data_key();
    cleanse(opts.kek.data(), opts.kek.size());  // not needed once the data key is open
    if (!keyed.ok()) return keyed;
    if (Status st = verify_records(); !st.ok()) return st;
    syncer = std::thread([this] { sync_loop(); });
    return Status{};
  }

  std::string seal(std::string_view key, std::string_view value) { return crypto.seal(data_key, value, key); }

  std::string unseal_or_die(std::string_view key, std::string_view sealed) const {
    Result<std::string> plain = crypto.unseal(data_key, sealed, key);
    if (!plain.ok()) fatal_disk_corruption(opts.path, key, "fails authentication (" + plain.status().message() + ")");
    return std::move(*plain);
  }

  void check_open(const char* what) const { SHOAL_CHECK(!closed.load(), "RocksDisk::%s after close()", what); }
};

RocksDisk::RocksDisk(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RocksDisk::~RocksDisk() { close(); }

Result<std::unique_ptr<RocksDisk>> RocksDisk::open(RocksDiskOptions options, Crypto& crypto) {
  auto impl = std::make_unique<Impl>(std::move(options), crypto);
  if (Status s = impl->open(); !s.ok()) {
    impl->close();
    return s;
  }
  return std::unique_ptr<RocksDisk>(new RocksDisk(std::move(impl)));
}

void RocksDisk::close() {
  if (impl_) impl_->close();
}

void RocksDisk::put(std::string key, std::string value) {
  impl_->check_open("put");
  const std::string sealed = impl_->seal(key, value);
  const rocksdb::Status s = impl_->db->Put(rocksdb::WriteOptions(), impl_->data_cf, key, sealed);
  if (!s.ok()) impl_->record_write_error("put", key, s);
}

void RocksDisk::put_all(std::vector<std::pair<std::string, std::string>> pairs) {
  impl_->check_open("put");
  if (pairs.empty()) return;
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : pairs) {
    const rocksdb::Status s = batch.Put(impl_->data_cf, key, impl_->seal(key, value));
    if (!s.ok()) return impl_->record_write_error("put", key, s);
  }
  const rocksdb::Status s = impl_->db->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) impl_->record_write_error("put", pairs.front().first, s);
}

void RocksDisk::erase(std::string key) {
  impl_->check_open("erase");
  const rocksdb::Status s = impl_->db->Delete(rocksdb::WriteOptions(), impl_->data_cf, key);
  if (!s.ok()) impl_->record_write_error("erase", key, s);
}

void RocksDisk::erase_range(std::string begin, std::string end) {
  impl_->check_open("erase_range");
  if (!(begin < end)) return;  // empty range (RocksDB refuses end < begin)
  // One range tombstone, O(1) whatever the range holds. The Raft log writes one per snapshot
  // (and one per conflicting-suffix truncation), so tombstones stay few between flushes.
  const rocksdb::Status s = impl_->db->DeleteRange(rocksdb::WriteOptions(), impl_->data_cf, begin, end);
  if (!s.ok()) impl_->record_write_error("erase_range from", begin, s);
}

void RocksDisk::sync(std::function<void(Status)> done) {
  impl_->check_open("sync");
  {
    std::lock_guard lk(impl_->mu);
    impl_->queued.push_back(std::move(done));
    ++impl_->sync_requests;
  }
  impl_->cv.notify_one();
}

std::optional<std::string> RocksDisk::get(std::string_view key) const {
  impl_->check_open("get");
  rocksdb::PinnableSlice sealed;
  const rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->data_cf, slice(key), &sealed);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) fatal_disk_corruption(impl_->opts.path, key, "cannot be read (" + s.ToString() + ")");
  return impl_->unseal_or_die(key, view(sealed));
}

void RocksDisk::scan(std::string_view begin, std::string_view end,
                     const std::function<bool(std::string_view, std::string_view)>& fn) const {
  impl_->check_open("scan");
  if (!(begin < end)) return;
  const rocksdb::Slice upper = slice(end);  // must outlive the iterator
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->data_cf));
  for (it->Seek(slice(begin)); it->Valid(); it->Next()) {
    const std::string_view key = view(it->key());
    const std::string plain = impl_->unseal_or_die(key, view(it->value()));
    if (!fn(key, plain)) return;
  }
  if (!it->status().ok()) fatal_disk_corruption(impl_->opts.path, begin, "(scan from here) cannot be read (" + it->status().ToString() + ")");
}

Status RocksDisk::rewrap_data_key(const AeadKey& new_kek) {
  if (impl_->closed.load()) return Status::failed_precondition("RocksDisk::rewrap_data_key after close()");
  Impl& m = *impl_;
  const std::string sealed =
      m.crypto.seal(new_kek, std::string_view(reinterpret_cast<const char*>(m.data_key.data()), m.data_key.size()), kDataKeyAad);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = m.db->Put(wo, m.meta_cf, kDataKeyKey, sealed);
  if (s.ok()) s = m.db->FlushWAL(/*sync=*/true);  // manual_wal_flush: a sync write alone stays buffered
  if (!s.ok()) return Status::io_error("data directory '" + m.opts.path + "': writing the rewrapped data key failed: " + s.ToString());
  // Hygiene, not a guarantee: push the old sealed record out of the live files. Old WAL files and
  // copies made earlier may still hold it.
  s = m.db->Flush(rocksdb::FlushOptions(), m.meta_cf);
  if (s.ok()) s = m.db->CompactRange(rocksdb::CompactRangeOptions(), m.meta_cf, nullptr, nullptr);
  if (!s.ok()) {
    std::fprintf(stderr, "shoal: data directory '%s': compacting the old data key record away failed: %s\n",
                 m.opts.path.c_str(), s.ToString().c_str());
  }
  return Status{};
}

RocksDisk::Stats RocksDisk::stats() const {
  std::lock_guard lk(impl_->mu);
  return Stats{impl_->sync_requests, impl_->wal_syncs, impl_->records_verified};
}

}  // namespace shoal::real
