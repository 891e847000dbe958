// Trace: the timeline of one simulation run, one record per event that matters, and its hash.
//
// Owned by the World (world.trace()); the world records message send/recv/drop, timer fires,
// sync completions, crashes, restarts, pauses, partitions and clock jumps, and the hosts running
// on top (raft, checkers) add their own records ("leader", "commit", ...) with record().
// Single-threaded, like everything in the simulator.
//
// Invariants:
//   - hash() covers every record ever made, whether or not records are kept: it is a running
//     64-bit hash folded word by word over a canonical serialization of each record (LEB128
//     varints of t_ns and node, then kind, then detail, each field closed by its length) so
//     two runs with the same hash saw the same records in the same order. Keeping records or not never changes
//     the hash.
//   - records() holds every record made since recording was last switched on (set_keep(true));
//     first_kept_index() is the event number of records().front() (0 when kept from the start).
//
// Event numbers in first_divergence() messages are 1-based, matching line numbers of the
// write_jsonl() output of a trace kept from the start.
//
//   Trace trace([&] { return queue.now(); });
//   trace.set_keep(true);
//   trace.record(3, "leader", "term=2");
//   std::cout << trace.hash();        // 16 hex digits
//   trace.write_jsonl(file);
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/transport.h"
#include "io_sim/world/sim_time.h"

namespace shoal::sim {

class Trace {
 public:
  struct Record {
    SimTime t{0};
    NodeId node = 0;  // 0: not about one node (world-level)
    std::string kind;
    std::string detail;

    bool operator==(const Record&) const = default;
  };

  // `now` supplies the time for record(); without it record() stamps time 0.
  explicit Trace(std::function<SimTime()> now = {});

  void set_clock(std::function<SimTime()> now) { now_ = std::move(now); }
  // Switching on starts a fresh record list (numbered from the current count); switching off
  // discards the kept records. The hash is unaffected either way.
  void set_keep(bool keep);
  bool keep() const { return keep_; }

  void record(NodeId node, std::string_view kind, std::string_view detail);
  void record_at(SimTime t, NodeId node, std::string_view kind, std::string_view detail);

  // Running hash of every record, as 16 lowercase hex digits.
  std::string hash() const;
  uint64_t hash_value() const { return hash_; }
  // Total number of records ever made (kept or not).
  uint64_t count() const { return count_; }
  const std::vector<Record>& records() const { return records_; }
  uint64_t first_kept_index() const { return first_kept_; }

  // One JSON object per kept record: {"t_ns":..,"node":..,"kind":"..","detail":".."}.
  void write_jsonl(std::ostream& out) const;
  // Human timeline, one line per kept record: "   1.234567s  n3  recv  2->3 bytes=40".
  void write_text(std::ostream& out) const;

 private:
  std::function<SimTime()> now_;
  bool keep_ = false;
  uint64_t hash_ = 0xcbf29ce484222325ULL;  // any fixed start value
  uint64_t count_ = 0;
  uint64_t first_kept_ = 0;
  std::vector<Record> records_;
};

// Names the first record where a and b differ, e.g.
//   "event #12 at t=1.234567s node 3: 'recv 2->3 bytes=40' vs 'drop 2->3 bytes=40 partition'"
// (when time or node differ too, each side shows its own). nullopt when the traces are equal
// (same count and hash). When the differing record was not kept by both traces, says so.
std::optional<std::string> first_divergence(const Trace& a, const Trace& b);

// JSON string body escaping (quotes, backslash, control characters); no surrounding quotes.
std::string json_escape(std::string_view s);

}  // namespace shoal::sim
