#include "io_sim/world/world.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "core/env/check.h"

namespace shoal::sim {

NodeApp::~NodeApp() = default;

namespace {

// Appends the decimal form of v to buf at pos; returns the new end.
char* put_u64(char* p, char* end, uint64_t v) { return std::to_chars(p, end, v).ptr; }
char* put_str(char* p, char* end, std::string_view s) {
  const size_t n = std::min(s.size(), static_cast<size_t>(end - p));
  std::copy_n(s.data(), n, p);
  return p + n;
}

// "from->to bytes=N[ suffix]" without heap allocation.
struct LinkDetail {
  char buf[96];
  size_t len;
  LinkDetail(NodeId from, NodeId to, size_t bytes, std::string_view suffix = {}) {
    char* end = buf + sizeof buf;
    char* p = put_u64(buf, end, from);
    p = put_str(p, end, "->");
    p = put_u64(p, end, to);
    p = put_str(p, end, " bytes=");
    p = put_u64(p, end, bytes);
    if (!suffix.empty()) {
      p = put_str(p, end, " ");
      p = put_str(p, end, suffix);
    }
    len = static_cast<size_t>(p - buf);
  }
  std::string_view view() const { return {buf, len}; }
};

std::string signed_time(Duration d) {
  return (d.count() >= 0 ? "+" : "") + format_sim_time(d);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Per-node seams. Each forwards to the World and ignores the node's calls while it is down
// (a dead process can neither send, arm timers nor write).

class World::NodeTimers final : public Timers {
 public:
  NodeTimers(World& world, Node& node) : world_(world), node_(node) {}

  TimerId after(Duration delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  // Crash: every armed timer is cancelled.
  void clear();

 private:
  struct Armed {
    EventId event;
    MonoTime deadline;  // on the node's monotonic clock
    std::function<void()> fn;
  };
  void schedule(TimerId id, Armed& armed);
  void fire(TimerId id);

  World& world_;
  Node& node_;
  TimerId next_id_ = 1;
  std::map<TimerId, Armed> armed_;
};

class World::NodeTransport final : public Transport {
 public:
  NodeTransport(World& world, Node& node) : world_(world), node_(node) {}
  void send(NodeId to, std::string payload) override;
  void set_handler(Handler handler) override;

 private:
  World& world_;
  Node& node_;
};

class World::NodeDisk final : public Disk {
 public:
  explicit NodeDisk(Node& node) : node_(node) {}
  void put(std::string key, std::string value) override;
  void erase(std::string key) override;
  void erase_range(std::string begin, std::string end) override;
  void sync(std::function<void(Status)> done) override;
  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view begin, std::string_view end,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

 private:
  Node& node_;
};

struct World::Node {
  struct Deferred {
    uint64_t epoch;
    std::function<void()> fn;
  };

  Node(World& world, size_t index_, Rng rng_, SimClock clock_)
      : index(index_),
        id(index_ + 1),
        rng(rng_),
        clock(clock_),
        timers(world, *this),
        transport(world, *this),
        disk([&world, this] { world.schedule_sync(*this); }),
        node_disk(*this),
        log_sink(world, id),
        log(clock, log_sink, id),
        env{clock, timers, rng, transport, node_disk, log},
        identity{id, NodeRole::kManager, "sim"} {}

  size_t index;
  NodeId id;
  Rng rng;
  SimClock clock;
  NodeTimers timers;
  NodeTransport transport;
  SimDisk disk;
  NodeDisk node_disk;
  ForwardingSink log_sink;
  Log log;
  Env env;
  PeerIdentity identity;  // how this node appears to the receivers of its messages

  std::unique_ptr<NodeApp> app;
  std::shared_ptr<Transport::Handler> handler;
  bool up = false;
  bool started_once = false;
  uint64_t incarnation = 0;
  bool paused = false;
  uint64_t pause_gen = 0;
  SimTime paused_until{0};
  std::vector<Deferred> deferred;
  SimTime last_sync_done{0};
  NodeStats stats;
};

TimerId World::NodeTimers::after(Duration delay, std::function<void()> fn) {
  const TimerId id = next_id_++;
  if (!node_.up) return id;
  if (delay < Duration::zero()) delay = Duration::zero();
  Armed& armed = armed_.emplace(id, Armed{kNoEvent, node_.clock.monotonic_now() + delay, std::move(fn)})
                     .first->second;
  schedule(id, armed);
  return id;
}

void World::NodeTimers::schedule(TimerId id, Armed& armed) {
  // The closure stays small ([this, id]) so std::function stores it without allocating.
  armed.event = world_.queue_.schedule(node_.clock.global_time_for(armed.deadline),
                                       static_cast<int32_t>(node_.index), [this, id] { fire(id); },
                                       node_.incarnation);
}

void World::NodeTimers::fire(TimerId id) {
  auto it = armed_.find(id);
  if (it == armed_.end()) return;  // cancelled while deferred by a pause
  if (node_.clock.monotonic_now() < it->second.deadline) {
    // The node's clock was slowed after the timer was armed: not due yet on its clock.
    schedule(id, it->second);
    return;
  }
  std::function<void()> fn = std::move(it->second.fn);
  armed_.erase(it);
  ++node_.stats.timers_fired;
  char buf[32];
  char* p = put_str(buf, buf + sizeof buf, "id=");
  p = put_u64(p, buf + sizeof buf, id);
  world_.trace_.record(node_.id, "timer", std::string_view(buf, static_cast<size_t>(p - buf)));
  fn();
}

void World::NodeTimers::cancel(TimerId id) {
  auto it = armed_.find(id);
  if (it == armed_.end()) return;
  world_.queue_.cancel(it->second.event);
  armed_.erase(it);
}

void World::NodeTimers::clear() {
  for (const auto& [id, armed] : armed_) world_.queue_.cancel(armed.event);
  armed_.clear();
}

void World::NodeTransport::send(NodeId to, std::string payload) {
  world_.send_message(node_, to, std::move(payload));
}

void World::NodeTransport::set_handler(Handler handler) {
  if (!node_.up) return;
  node_.handler = handler ? std::make_shared<Handler>(std::move(handler)) : nullptr;
}

void World::NodeDisk::put(std::string key, std::string value) {
  if (node_.up) node_.disk.put(std::move(key), std::move(value));
}
void World::NodeDisk::erase(std::string key) {
  if (node_.up) node_.disk.erase(std::move(key));
}
void World::NodeDisk::erase_range(std::string begin, std::string end) {
  if (node_.up) node_.disk.erase_range(std::move(begin), std::move(end));
}
void World::NodeDisk::sync(std::function<void(Status)> done) {
  if (node_.up) node_.disk.sync(std::move(done));
}
std::optional<std::string> World::NodeDisk::get(std::string_view key) const {
  return node_.disk.get(key);
}
void World::NodeDisk::scan(std::string_view begin, std::string_view end,
                           const std::function<bool(std::string_view, std::string_view)>& fn) const {
  node_.disk.scan(begin, end, fn);
}

// ---------------------------------------------------------------------------------------------

World::World(WorldOptions options, AppFactory factory)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      root_rng_(options_.seed),
      net_rng_(root_rng_.derive("net")),
      disk_rng_(root_rng_.derive("disk")),
      trace_([this] { return queue_.now(); }),
      network_(options_.nodes, options_.link) {
  SHOAL_CHECK(options_.nodes >= 1, "a world needs at least one node");
  SHOAL_CHECK(factory_, "a world needs an app factory");
  trace_.set_keep(options_.keep_trace);
  Rng clock_rng = root_rng_.derive("clock");
  const int64_t max_ppb = std::llabs(std::llround(options_.clock.max_drift_ppm * 1000.0));
  const int64_t max_skew = std::llabs(options_.clock.max_wall_skew.count());
  nodes_.reserve(options_.nodes);
  for (size_t i = 0; i < options_.nodes; ++i) {
    const NodeId id = i + 1;
    // Arbitrary per-node monotonic origin, so cross-node comparisons of monotonic readings
    // (a bug) show up as nonsense rather than passing by luck.
    const MonoTime origin(static_cast<int64_t>(clock_rng.uniform(1'000'000'000ULL, 1'000'000'000'000ULL)));
    const int64_t drift = static_cast<int64_t>(clock_rng.uniform(0, 2 * static_cast<uint64_t>(max_ppb))) - max_ppb;
    const int64_t skew = static_cast<int64_t>(clock_rng.uniform(0, 2 * static_cast<uint64_t>(max_skew))) - max_skew;
    nodes_.push_back(std::make_unique<Node>(
        *this, i, root_rng_.derive("node/" + std::to_string(id)),
        SimClock(queue_, origin, drift, options_.clock.epoch_unix_ns, Duration(skew))));
  }
}

World::~World() {
  // Callbacks the apps handed us (handlers, timers, sync callbacks, deferred and queued events)
  // go first, while the apps they may point into still exist; then the apps, while the seams
  // they reference still exist.
  for (auto& n : nodes_) {
    n->up = false;
    n->handler.reset();
    n->timers.clear();
    n->deferred.clear();
    n->disk.drop_pending_syncs();
  }
  queue_.clear();
  for (auto& n : nodes_) n->app.reset();
  graveyard_.clear();
}

World::Node& World::node(NodeId id) {
  SHOAL_CHECK(id >= 1 && id <= nodes_.size(), "no node %llu (nodes are 1..%zu)",
              static_cast<unsigned long long>(id), nodes_.size());
  return *nodes_[id - 1];
}

const World::Node& World::node(NodeId id) const {
  SHOAL_CHECK(id >= 1 && id <= nodes_.size(), "no node %llu (nodes are 1..%zu)",
              static_cast<unsigned long long>(id), nodes_.size());
  return *nodes_[id - 1];
}

// --- lifecycle -------------------------------------------------------------------------------

void World::bring_up(Node& n, std::string_view kind) {
  n.up = true;
  n.started_once = true;
  ++n.incarnation;
  trace_.record(n.id, kind, "");
  n.log.set_term(0);  // a new process knows no node and no term yet
  n.log.set_node(n.id);
  auto app = factory_(n.id, n.env);
  SHOAL_CHECK(app != nullptr, "app factory returned null for node %llu",
              static_cast<unsigned long long>(n.id));
  // The app's constructor may have crashed its own node (through a scenario hook): then the
  // new app is already dead.
  if (n.up) n.app = std::move(app);
}

void World::start_all() {
  for (auto& n : nodes_) {
    if (!n->up) bring_up(*n, n->started_once ? "restart" : "start");
  }
}

bool World::crash(NodeId id) {
  Node& n = node(id);
  if (!n.up) return false;
  n.up = false;
  ++n.incarnation;
  ++n.stats.crashes;
  n.paused = false;
  ++n.pause_gen;
  // Deferred deliveries go back to the queue, to be dropped (and traced) as "down"; every
  // other deferred event belonged to the dead incarnation.
  for (auto& d : n.deferred) {
    if (d.epoch == kAnyEpoch) queue_.schedule(now(), static_cast<int32_t>(n.index), std::move(d.fn), d.epoch);
  }
  n.deferred.clear();
  n.handler.reset();
  n.timers.clear();
  const SimDisk::CrashResult r = n.disk.crash(disk_rng_, options_.disk.torn);
  n.last_sync_done = now();
  std::string detail = "unsynced=" + std::to_string(r.unsynced_ops) +
                       " torn_kept=" + std::to_string(r.kept_ops) +
                       " syncs_lost=" + std::to_string(r.dropped_syncs);
  trace_.record(n.id, "crash", detail);
  if (running_node_ == static_cast<int32_t>(n.index)) {
    graveyard_.push_back(std::move(n.app));  // its code is on the stack: destroy after the event
  } else {
    n.app.reset();
  }
  return true;
}

bool World::restart(NodeId id) {
  Node& n = node(id);
  if (n.up) return false;
  SHOAL_CHECK(running_node_ != static_cast<int32_t>(n.index),
              "node %llu cannot be restarted from inside its own event",
              static_cast<unsigned long long>(id));
  bring_up(n, n.started_once ? "restart" : "start");
  return true;
}

void World::pause(NodeId id, Duration d) {
  Node& n = node(id);
  if (!n.up) return;
  const SimTime until = now() + std::max(d, Duration::zero());
  if (n.paused && until <= n.paused_until) return;
  n.paused = true;
  n.paused_until = until;
  const uint64_t gen = ++n.pause_gen;
  trace_.record(n.id, "pause", "until=" + format_sim_time(until));
  queue_.schedule(until, -1, [this, id, gen] {
    if (node(id).pause_gen == gen) resume(id);
  });
}

bool World::resume(NodeId id) {
  Node& n = node(id);
  if (!n.paused) return false;
  n.paused = false;
  ++n.pause_gen;
  trace_.record(n.id, "resume", "deferred=" + std::to_string(n.deferred.size()));
  // Re-queue in their original order; fresh sequence numbers keep that order.
  std::vector<Node::Deferred> deferred = std::move(n.deferred);
  n.deferred.clear();
  for (auto& d : deferred) {
    queue_.schedule(now(), static_cast<int32_t>(n.index), std::move(d.fn), d.epoch);
  }
  return true;
}

void World::disk_loss(NodeId id) {
  crash(id);
  node(id).disk.wipe();
  trace_.record(id, "disk_loss", "");
}

bool World::is_up(NodeId id) const { return node(id).up; }
bool World::is_paused(NodeId id) const { return node(id).paused; }
uint64_t World::incarnation(NodeId id) const { return node(id).incarnation; }
NodeApp* World::app(NodeId id) { return node(id).app.get(); }
SimClock& World::clock(NodeId id) { return node(id).clock; }
SimDisk& World::disk(NodeId id) { return node(id).disk; }
const NodeStats& World::stats(NodeId id) const { return node(id).stats; }

// --- network ---------------------------------------------------------------------------------

void World::partition(const std::vector<std::vector<NodeId>>& groups) {
  network_.partition(groups);
  std::string detail;
  for (const auto& g : groups) {
    if (!detail.empty()) detail += ' ';
    detail += '{';
    for (size_t i = 0; i < g.size(); ++i) {
      if (i) detail += ',';
      detail += std::to_string(g[i]);
    }
    detail += '}';
  }
  trace_.record(0, "partition", detail);
}

void World::block(NodeId from, NodeId to) {
  network_.block(from, to);
  trace_.record(0, "block", std::to_string(from) + "->" + std::to_string(to));
}

void World::unblock(NodeId from, NodeId to) {
  network_.unblock(from, to);
  trace_.record(0, "unblock", std::to_string(from) + "->" + std::to_string(to));
}

void World::isolate(NodeId id) {
  network_.isolate(id);
  trace_.record(id, "isolate", "");
}

void World::heal() {
  network_.heal();
  trace_.record(0, "heal", "");
}

void World::drop(NodeId at, NodeId from, NodeId to, size_t bytes, std::string_view why) {
  if (from >= 1 && from <= nodes_.size()) ++nodes_[from - 1]->stats.messages_dropped;
  trace_.record(at, "drop", LinkDetail(from, to, bytes, why).view());
}

void World::send_message(Node& from, NodeId to, std::string payload) {
  if (!from.up) return;
  const size_t bytes = payload.size();
  ++from.stats.messages_sent;
  from.stats.bytes_sent += bytes;
  trace_.record(from.id, "send", LinkDetail(from.id, to, bytes).view());
  if (wire_tap_) wire_tap_(from.id, to, payload);
  if (!network_.valid(to)) return drop(from.id, from.id, to, bytes, "unknown-node");
  if (!network_.connected(from.id, to)) return drop(from.id, from.id, to, bytes, "partition");
  const Network::Fate fate = network_.decide(from.id, to, net_rng_);
  if (fate.dropped) return drop(from.id, from.id, to, bytes, "loss");
  Node& dst = node(to);
  InFlight message{from.id, static_cast<uint32_t>(dst.index), dst.incarnation, std::move(payload)};
  if (fate.duplicated) {
    trace_.record(from.id, "dup", LinkDetail(from.id, to, bytes).view());
    schedule_delivery(now() + fate.duplicate_latency, message);
  }
  schedule_delivery(now() + fate.latency, std::move(message));
}

void World::schedule_delivery(SimTime at, InFlight message) {
  uint32_t slot;
  if (!inflight_free_.empty()) {
    slot = inflight_free_.back();
    inflight_free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(inflight_.size());
    inflight_.emplace_back();
  }
  const int32_t to_index = static_cast<int32_t>(message.to_index);
  inflight_[slot] = std::move(message);
  // Tagged with the receiver (so a pause defers it) but any epoch: deliver() itself decides,
  // and records the drop, if the receiver went down.
  queue_.schedule(at, to_index, [this, slot] { deliver(slot); }, kAnyEpoch);
}

void World::deliver(uint32_t slot) {
  InFlight m = std::move(inflight_[slot]);
  inflight_free_.push_back(slot);
  Node& dst = *nodes_[m.to_index];
  const NodeId from = m.from;
  const size_t bytes = m.payload.size();
  if (!network_.connected(from, dst.id)) return drop(dst.id, from, dst.id, bytes, "partition");
  if (!dst.up || dst.incarnation != m.incarnation) return drop(dst.id, from, dst.id, bytes, "down");
  if (!dst.handler) return drop(dst.id, from, dst.id, bytes, "no-handler");
  ++dst.stats.messages_received;
  dst.stats.bytes_received += bytes;
  trace_.record(dst.id, "recv", LinkDetail(from, dst.id, bytes).view());
  // Keep the handler alive even if it replaces itself or its node crashes while it runs.
  std::shared_ptr<Transport::Handler> handler = dst.handler;
  (*handler)(nodes_[from - 1]->identity, m.payload);
}

// --- clocks and disks ------------------------------------------------------------------------

void World::jump_wall_clock(NodeId id, Duration delta) {
  node(id).clock.jump_wall(delta);
  trace_.record(id, "clock_jump", "delta=" + signed_time(delta));
}

void World::set_clock_drift_ppm(NodeId id, double ppm) {
  Node& n = node(id);
  n.clock.set_drift_ppm(ppm);
  trace_.record(id, "drift", "ppb=" + std::to_string(n.clock.drift_ppb()));
}

void World::schedule_sync(Node& n) {
  // Completions are FIFO per node: never earlier than the previous one.
  const DiskOptions& o = options_.disk;
  const uint64_t lo = static_cast<uint64_t>(std::max<int64_t>(0, o.min_sync_latency.count()));
  const uint64_t hi = std::max(lo, static_cast<uint64_t>(std::max<int64_t>(0, o.max_sync_latency.count())));
  const SimTime at = std::max(now() + Duration(static_cast<int64_t>(disk_rng_.uniform(lo, hi))),
                              n.last_sync_done);
  n.last_sync_done = at;
  queue_.schedule(at, static_cast<int32_t>(n.index), [this, &n] { complete_sync(n); }, n.incarnation);
}

void World::complete_sync(Node& n) {
  auto done = n.disk.complete_next_sync();
  SHOAL_CHECK(done.has_value(), "sync completion without a pending sync on node %llu",
              static_cast<unsigned long long>(n.id));
  ++n.stats.syncs_completed;
  trace_.record(n.id, "sync", "ops=" + std::to_string(done->ops_made_durable));
  if (done->done) done->done(Status{});
}

// --- running ---------------------------------------------------------------------------------

EventId World::at(SimTime t, std::function<void()> fn) {
  return queue_.schedule(std::max(t, now()), -1, std::move(fn));
}

EventId World::after_on(NodeId id, Duration d, std::function<void()> fn) {
  Node& n = node(id);
  return queue_.schedule(now() + std::max(d, Duration::zero()), static_cast<int32_t>(n.index),
                         std::move(fn), n.up ? n.incarnation : kAnyEpoch - 1);
}

bool World::step_until(const SimTime* limit) {
  SHOAL_CHECK(!in_step_, "World::step/run called from inside an event");
  while (true) {
    const auto next = queue_.next_time();
    if (!next || (limit && *next > *limit)) return false;
    auto ev = queue_.pop_next();
    if (ev->node >= 0) {
      Node& n = *nodes_[static_cast<size_t>(ev->node)];
      if (ev->epoch != kAnyEpoch && ev->epoch != n.incarnation) continue;  // its incarnation is gone
      if (n.paused) {
        n.deferred.push_back(Node::Deferred{ev->epoch, std::move(ev->fn)});
        ++events_;
        return true;
      }
    }
    ++events_;
    {
      // Restores the world's bookkeeping even if the event throws (a check-failure handler
      // may throw to abandon a run).
      struct Guard {
        World& w;
        ~Guard() {
          w.running_node_ = -1;
          w.in_step_ = false;
          w.graveyard_.clear();
        }
      } guard{*this};
      in_step_ = true;
      running_node_ = ev->node;
      ev->fn();
    }
    if (ev->node >= 0 && check_node_invariants_) {
      // The node may have crashed itself in the event: only a live program is checked.
      Node& n = *nodes_[static_cast<size_t>(ev->node)];
      if (n.up && n.app) n.app->check_invariants();
    }
    if (after_event_) after_event_();
    return true;
  }
}

bool World::step() { return step_until(nullptr); }

void World::run_until(SimTime t) {
  SHOAL_CHECK(t >= now(), "run_until into the past");
  while (step_until(&t)) {
  }
  queue_.advance_to(t);
}

}  // namespace shoal::sim
