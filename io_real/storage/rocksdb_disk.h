// RocksDisk: the Disk seam (core/env/disk.h) on RocksDB, with every value sealed.
//
// What it is. A node's data directory: the Raft log, hard state and snapshots (whatever core code
// puts through Disk) in one RocksDB database. Every value is stored as
// crypto.seal(data_key, value, aad = key): AES-256-GCM under a 32-byte data key, bound to its
// record key so a value cannot be moved to another key unnoticed. The data key itself is stored
// sealed under a key-encryption key (KEK) the owner supplies (the manager's unlock key when
// autolock is on, a key kept beside the directory when it is off). Keys are NOT encrypted: they
// are names like "raft/e/<index>" and "raft/hardstate".
//
// Layout. Column family "default" holds the Disk records and nothing else, so no Disk key can
// collide with metadata. Column family "meta" holds
//   "format"    "shoal-rocksdisk/1"
//   "data-key"  crypto.seal(kek, data_key, aad = "shoal/data-key")
//
// Durability. put/erase/erase_range go to RocksDB at once (WAL append, no fsync), so reads see
// them immediately. sync(done) queues done for one background thread, which calls SyncWAL and
// then hands done(status) to options.post (the node's event loop). Group commit: one SyncWAL
// covers every sync request queued before it started, so many writers share one fsync.
// Callbacks run in request order. RocksDB's point-in-time WAL recovery keeps a prefix of the
// unsynced writes after a crash, matching the Disk contract (a torn tail) and SimDisk.
//
// Errors. open() refuses, with a message a person can act on: a missing directory when
// create_if_missing is off, a directory that is not a Shoal data directory, a directory in use
// by another process, a KEK that does not open the data key, and any record that fails
// authentication (every record is unsealed at open; the first bad one is named). A failed write
// or a failed fsync is sticky: that sync and every later one report an io_error (after a failed
// fsync the state of the page cache is unknown, so the disk never again claims durability).
// A record that fails to unseal AFTER open (get/scan) cannot be reported through the Disk
// interface; the process stops (abort) with a message naming the record, rather than hand core
// code bytes it cannot trust. The next start-up's verification names it again.
//
// Not detected: a record deleted or rolled back to an older sealed value of the same key (the
// seal binds a value to its key, not to a version), or a whole directory swapped for an older
// copy. RocksDB's own checksums catch accidental damage to its files.
//
// Threads. put/erase/erase_range/sync/get/scan/rewrap_data_key may be called from any thread
// (RocksDB and the sync queue are thread-safe) provided the Crypto is thread-safe, as
// OpenSslCrypto is; core code calls them from its one event-loop thread. options.post is called
// from the sync thread and must not block waiting for the event loop. close() must not be called
// from a callback running on the sync thread (that is: from inside post when post runs the
// callback inline); it checks. After close() only close() and the destructor may be called.
//
//   real::OpenSslCrypto crypto;
//   auto disk = real::RocksDisk::open({.path = dir, .kek = kek, .post = loop_post}, crypto);
//   if (!disk.ok()) return disk.status();           // "data directory is corrupt: record ..."
//   (*disk)->put("raft/hardstate", bytes);
//   (*disk)->sync([](Status s) { /* on the loop: durable if s.ok() */ });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/env/crypto.h"
#include "core/env/disk.h"
#include "core/env/status.h"

namespace shoal::real {

struct RocksDiskOptions {
  std::string path;             // directory of the RocksDB database
  AeadKey kek{};                // key-encryption key: opens the sealed data key (wiped after open)
  bool create_if_missing = true;
  // Runs a callback on the node's event loop. Required. Called from the sync thread.
  std::function<void(std::function<void()>)> post;
};

class RocksDisk final : public Disk {
 public:
  // Opens (or creates) the data directory and verifies every record. On creation the data key
  // is 32 bytes from crypto.random_bytes, written sealed and synced before open returns.
  // `crypto` must outlive the RocksDisk.
  static Result<std::unique_ptr<RocksDisk>> open(RocksDiskOptions options, Crypto& crypto);

  ~RocksDisk() override;  // calls close()
  RocksDisk(const RocksDisk&) = delete;
  RocksDisk& operator=(const RocksDisk&) = delete;

  // shoal::Disk
  void put(std::string key, std::string value) override;
  void put_all(std::vector<std::pair<std::string, std::string>> pairs) override;  // one WriteBatch
  void erase(std::string key) override;
  void erase_range(std::string begin, std::string end) override;
  void sync(std::function<void(Status)> done) override;
  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view begin, std::string_view end,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  // Seals the data key under new_kek and writes that record synced; the records themselves are
  // untouched (autolock on/off, unlock-key rotation). After it returns ok only new_kek opens the
  // directory. Copies of the directory taken before still open with the old KEK.
  Status rewrap_data_key(const AeadKey& new_kek);

  // Waits for every queued sync (their callbacks are posted), stops the sync thread and closes
  // the database. Idempotent.
  void close();

  // Counters, for tests, benchmarks and metrics.
  struct Stats {
    uint64_t sync_requests = 0;      // sync() calls
    uint64_t wal_syncs = 0;          // SyncWAL calls made by the sync thread (group commits)
    uint64_t records_verified = 0;   // records unsealed by open()'s verification
  };
  Stats stats() const;

 private:
  struct Impl;
  explicit RocksDisk(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How a record key is shown in messages: printable ASCII as is, other bytes (and '\\', '\'') as
// \xNN, at most 96 bytes of the key followed by "..." when longer.
std::string printable_key(std::string_view key);

}  // namespace shoal::real
