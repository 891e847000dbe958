// SimDisk: a node's simulated disk, an in-memory ordered key-value store with crash semantics.
//
// Implements shoal::Disk (core/env/disk.h). Owned by the World, one per node; it outlives the
// node's NodeApp and survives crash/restart (that is the point). Single-threaded.
//
// Model (after LevelDB's fault-injection Env):
//   - live image: what reads see; put/erase/erase_range change it at once.
//   - durable image: what survives a crash. It is not stored: it is the live image with the
//     unsynced operations undone, which keeps the hot path to one map operation per write.
//   - unsynced log: one undo record per put/erase/erase_range applied to the live image since
//     the last completed sync, oldest first (it holds the displaced values and map nodes).
//   - sync(done) covers every operation issued before it. The disk only queues the request and
//     tells its owner (the `on_sync` hook); the owner later calls complete_next_sync() (the
//     World does so after a simulated latency, on the node's loop) which makes those operations
//     durable (drops their undo records) and hands back `done` for the owner to call. Syncs
//     complete in request order.
//   - crash(): the live image becomes the durable image plus, with probability `torn`, a random
//     non-empty prefix of the unsynced operations (a partially written WAL): the other
//     operations are undone, newest first. Pending syncs are forgotten: their callbacks never
//     run.
//   - wipe(): disk loss; everything is gone.
//
// Invariants: undoing the whole unsynced log (newest first) from the live image gives the
// durable image; every pending sync covers a prefix of the unsynced log, and pending syncs
// cover growing prefixes.
//
//   SimDisk disk([&] { schedule_completion(); });
//   disk.put("k", "v");
//   disk.sync([](Status s) { ... });
//   auto c = disk.complete_next_sync();   // later, from the world
//   c->done(Status{});
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/disk.h"
#include "core/env/random.h"

namespace shoal::sim {

class SimDisk final : public Disk {
 public:
  using Image = std::map<std::string, std::string, std::less<>>;

  // on_sync is called once per sync() request, after the request is queued.
  explicit SimDisk(std::function<void()> on_sync = {});

  void set_on_sync(std::function<void()> on_sync) { on_sync_ = std::move(on_sync); }

  // shoal::Disk
  void put(std::string key, std::string value) override;
  void erase(std::string key) override;
  void erase_range(std::string begin, std::string end) override;
  void sync(std::function<void(Status)> done) override;
  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view begin, std::string_view end,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  // Completes the oldest pending sync: its operations become durable. Returns its callback
  // (for the caller to invoke with an ok Status) and how many operations it made durable;
  // nullopt when no sync is pending.
  struct CompletedSync {
    std::function<void(Status)> done;
    size_t ops_made_durable = 0;
  };
  std::optional<CompletedSync> complete_next_sync();

  // What a crash did to the disk.
  struct CrashResult {
    size_t unsynced_ops = 0;  // operations not durable when the crash hit
    size_t kept_ops = 0;      // how many of them (a prefix) survived as a torn write
    size_t dropped_syncs = 0;  // pending syncs whose callbacks will never run
  };
  // Applies crash semantics; draws from rng only when there are unsynced operations.
  CrashResult crash(Rng& rng, double torn_probability);
  // Disk loss: durable and live images, unsynced log and pending syncs all gone.
  void wipe();
  // Forgets pending syncs (their callbacks never run) and changes nothing else; for teardown.
  void drop_pending_syncs() { syncs_.clear(); }

  const Image& live() const { return live_; }
  // The image a crash without a torn write would leave (computed: a copy, for tests and
  // checkers, not for hot paths).
  Image durable() const;
  size_t unsynced_ops() const { return log_.size(); }
  size_t pending_syncs() const { return syncs_.size(); }

 private:
  // How to undo one operation.
  struct Undo {
    enum class Kind : uint8_t {
      kNothing,       // the operation changed nothing (erase of a missing key, empty range)
      kRemoveKey,     // a put created `key`
      kRestoreValue,  // a put overwrote `key`, whose value was `old_value`
      kReinsert,      // an erase removed `nodes`
    };
    Kind kind = Kind::kNothing;
    std::string key;
    std::string old_value;
    std::vector<Image::node_type> nodes;
  };
  struct PendingSync {
    uint64_t upto;  // operations with sequence < upto are covered
    std::function<void(Status)> done;
  };
  static void undo_in_place(Image& image, Undo& u);  // consumes u
  static void undo_copy(Image& image, const Undo& u);

  std::function<void()> on_sync_;
  Image live_;
  std::deque<Undo> log_;
  uint64_t log_base_ = 0;  // sequence number of log_.front()
  std::deque<PendingSync> syncs_;
};

}  // namespace shoal::sim
