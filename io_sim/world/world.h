// World: a whole simulated cluster — N nodes driven by ONE event queue from one seed.
//
// The World owns the EventQueue, the Trace, the Network and, per node, a SimClock, timers, a
// transport, a SimDisk and an Rng stream, gathered into the node's shoal::Env. The node's
// program is a NodeApp built by a caller-supplied factory; the app registers its transport
// handler and arms its timers in its constructor and is destroyed on crash (its memory is gone;
// its disk survives). Everything runs on the caller's thread; handlers run to completion.
//
// Randomness: Rng(seed) is the root; each node's Env rng is root.derive("node/<id>"), and each
// fault source has its own stream ("net", "disk", "clock"), so an extra draw in one place does
// not reshuffle the others. Same seed + same calls => same events, same trace hash.
//
// Semantics worth knowing:
//   - Incarnation: every node carries a counter that changes whenever it goes up or down.
//     Timer fires, sync completions and after_on() callbacks are tied to the incarnation that
//     scheduled them and silently vanish if it is gone. A message is delivered only if its
//     receiver is up and in the same incarnation as when the message was sent (a restarted
//     process has new connections); messages from a sender that crashed after sending are
//     still delivered (they were on the wire).
//   - Partitions: a link cut after a message was sent still drops it, at delivery time (trace
//     "drop ... partition"). Cuts accumulate until heal().
//   - crash(node): app destroyed, timers cancelled, pending events of the node void, pending
//     syncs never call back, disk reverts to its durable image plus (with probability
//     DiskOptions::torn) a random prefix of the unsynced writes. Messages it had not yet
//     received (in flight, or deferred by a pause) are dropped. The clock keeps running.
//     Crashing the node whose event is running is allowed (its app is destroyed when that event
//     returns). A NodeApp's destructor must not rely on the Env: while the node is down, sends,
//     timer arming, handler changes and disk writes/syncs are ignored.
//   - pause(node, d): the node runs nothing for d. Its events that come due meanwhile (timers,
//     deliveries, sync completions) are deferred and run, in their original order, when it
//     resumes. Its clock keeps running.
//   - disk_loss(node): crashes the node if it is up, then wipes its disk.
//   - Timers fire on the node's own monotonic clock, so drift changes how long they take in
//     global time. A drift change applies to armed timers too (they never fire early).
//
//   World world({.nodes = 5, .seed = 42},
//               [](NodeId id, Env& env) { return std::make_unique<RaftHost>(id, env); });
//   world.start_all();
//   world.after(2s, [&] { world.partition({{1, 2}, {3, 4, 5}}); });
//   world.run_for(10s);
//   std::cout << "seed 42 trace " << world.trace().hash() << "\n";
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/env/env.h"
#include "io_sim/world/event_queue.h"
#include "io_sim/world/network.h"
#include "io_sim/world/sim_clock.h"
#include "io_sim/world/sim_disk.h"
#include "io_sim/world/sim_time.h"
#include "io_sim/world/trace.h"

namespace shoal::sim {

// A node's program: whatever the factory builds on top of the node's Env. The World creates and
// destroys it, and runs its invariants after each of its events; hosts downcast World::app() to
// reach their own type.
class NodeApp {
 public:
  virtual ~NodeApp();
  // Aborts (SHOAL_CHECK) if an invariant of the program's state machines is broken. The World
  // calls it after every event of the node, so it must be cheap.
  virtual void check_invariants() {}
  // The checks too slow for every event (they walk every member or entry): run periodically by
  // whoever drives the run.
  virtual void check_slow_invariants() {}
};

// Where the nodes' log records go, with the host each came from.
class HostLogSink {
 public:
  virtual ~HostLogSink() = default;
  virtual LogLevel level() const = 0;
  virtual void write(NodeId host, const LogRecord& record) = 0;
};

using AppFactory = std::function<std::unique_ptr<NodeApp>(NodeId, Env&)>;

struct ClockOptions {
  double max_drift_ppm = 100.0;  // each node's drift drawn uniformly in [-max, +max]
  Duration max_wall_skew = std::chrono::milliseconds(10);  // wall offset drawn in [-max, +max]
  int64_t epoch_unix_ns = kSimEpochUnixNs;  // wall time at global time 0 (before skew)
};

struct DiskOptions {
  Duration min_sync_latency = std::chrono::microseconds(100);
  Duration max_sync_latency = std::chrono::milliseconds(2);
  double torn = 0.5;  // probability that a crash keeps a random prefix of the unsynced writes
};

struct WorldOptions {
  size_t nodes = 3;
  uint64_t seed = 1;
  LinkOptions link;  // default settings of every link (latency, loss, duplication, reordering)
  DiskOptions disk;
  ClockOptions clock;
  bool keep_trace = false;  // keep trace records (the hash is computed either way)
};

struct NodeStats {
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_received = 0;  // delivered to the handler
  uint64_t bytes_received = 0;
  uint64_t messages_dropped = 0;  // sent by this node and never delivered (each copy counted)
  uint64_t timers_fired = 0;
  uint64_t syncs_completed = 0;
  uint64_t crashes = 0;
};

class World {
 public:
  World(WorldOptions options, AppFactory factory);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  size_t size() const { return nodes_.size(); }
  uint64_t seed() const { return options_.seed; }
  const WorldOptions& options() const { return options_; }
  // An independent random stream for a world-level consumer (workload, fault schedule).
  Rng derive_rng(std::string_view name) const { return root_rng_.derive(name); }

  // --- node lifecycle (ids are 1..size())
  // Starts every node that is down (first start: trace "start").
  void start_all();
  // Returns false (and does nothing) if the node was already down / up.
  bool crash(NodeId node);
  bool restart(NodeId node);
  void pause(NodeId node, Duration d);
  // Ends a pause early; false if the node was not paused.
  bool resume(NodeId node);
  void disk_loss(NodeId node);
  // Up = its app exists (a paused node is up).
  bool is_up(NodeId node) const;
  bool is_paused(NodeId node) const;
  uint64_t incarnation(NodeId node) const;
  // The node's app, nullptr while it is down.
  NodeApp* app(NodeId node);

  // --- network faults (recorded in the trace)
  Network& network() { return network_; }
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void block(NodeId from, NodeId to);
  void unblock(NodeId from, NodeId to);
  void isolate(NodeId node);
  void heal();

  // --- clocks and disks
  SimClock& clock(NodeId node);
  SimDisk& disk(NodeId node);
  void jump_wall_clock(NodeId node, Duration delta);
  void set_clock_drift_ppm(NodeId node, double ppm);
  void set_disk_options(const DiskOptions& options) { options_.disk = options; }

  // --- running
  SimTime now() const { return queue_.now(); }
  // Runs one event; false if nothing is pending.
  bool step();
  // Runs every event due at or before t, then sets now() to t.
  void run_until(SimTime t);
  void run_for(Duration d) { run_until(now() + d); }
  // World-level callbacks (scenario timelines, workload clients); never deferred or voided.
  EventId at(SimTime t, std::function<void()> fn);
  EventId after(Duration d, std::function<void()> fn) { return at(now() + d, std::move(fn)); }
  // A callback on the node's own loop: deferred while it is paused, void if the node's current
  // incarnation ends first (or the node is down now).
  EventId after_on(NodeId node, Duration d, std::function<void()> fn);
  bool cancel(EventId id) { return queue_.cancel(id); }
  // Called after every event (for checkers of the whole run), once the node whose event it was
  // has checked its own invariants (NodeApp::check_invariants). Empty to remove.
  void set_after_event(std::function<void()> fn) { after_event_ = std::move(fn); }
  // Test-only: false stops running the nodes' invariants after their events.
  void set_check_node_invariants(bool on) { check_node_invariants_ = on; }
  // Sees every message as it is sent (for checkers of what may cross the network). Empty to remove.
  using WireTap = std::function<void(NodeId from, NodeId to, std::string_view payload)>;
  void set_wire_tap(WireTap tap) { wire_tap_ = std::move(tap); }

  // Where every node's Log goes (core/env/log.h); null: nowhere. The sink outlives the run.
  void set_log_sink(HostLogSink* sink) { log_target_ = sink; }

  Trace& trace() { return trace_; }
  const Trace& trace() const { return trace_; }
  const NodeStats& stats(NodeId node) const;
  // Events run so far (deferrals count; voided events do not).
  uint64_t events_processed() const { return events_; }
  EventQueue& queue() { return queue_; }

 private:
  class NodeTimers;
  class NodeTransport;
  class NodeDisk;
  struct Node;
  friend class NodeTimers;
  friend class NodeTransport;
  friend class NodeDisk;

  static constexpr uint64_t kAnyEpoch = UINT64_MAX;

  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  bool step_until(const SimTime* limit);
  void bring_up(Node& n, std::string_view kind);
  // A message on the wire. Parked in a table so the delivery event's closure stays small.
  struct InFlight {
    NodeId from = 0;
    uint32_t to_index = 0;
    uint64_t incarnation = 0;  // of the receiver when sent
    std::string payload;
  };
  void send_message(Node& from, NodeId to, std::string payload);
  void schedule_delivery(SimTime at, InFlight message);
  void deliver(uint32_t slot);
  void drop(NodeId at, NodeId from, NodeId to, size_t bytes, std::string_view why);
  void schedule_sync(Node& n);
  void complete_sync(Node& n);

  // A node's records, forwarded with its host to the sink set_log_sink() named, if any.
  struct ForwardingSink final : LogSink {
    ForwardingSink(const World& world, NodeId host) : world(world), host(host) {}
    const World& world;
    NodeId host;
    LogLevel level() const override { return world.log_target_ ? world.log_target_->level() : LogLevel::kOff; }
    void write(const LogRecord& r) override {
      if (world.log_target_) world.log_target_->write(host, r);
    }
  };

  WorldOptions options_;
  HostLogSink* log_target_ = nullptr;
  AppFactory factory_;
  Rng root_rng_;
  Rng net_rng_;
  Rng disk_rng_;
  EventQueue queue_;
  Trace trace_;
  Network network_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::function<void()> after_event_;
  bool check_node_invariants_ = true;
  WireTap wire_tap_;
  uint64_t events_ = 0;
  bool in_step_ = false;
  int32_t running_node_ = -1;  // index of the node whose event is running, or -1
  std::vector<std::unique_ptr<NodeApp>> graveyard_;  // apps crashed from inside their own event
  std::vector<InFlight> inflight_;        // slots of messages on the wire
  std::vector<uint32_t> inflight_free_;   // free slots, reused last-in first-out
};

}  // namespace shoal::sim
