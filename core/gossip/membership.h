// Membership: one member of a gossip cluster — SWIM failure detection and dissemination with the
// Lifeguard refinements, in the shape of hashicorp/memberlist, on the Env seams.
//
// What it does, in SWIM's words:
//   - Probe. Every probe interval (scaled by local health) it probes the next member of a
//     shuffled round-robin list with a ping; if no ack comes within the probe timeout it asks
//     `indirect_checks` other members to ping the target for it (indirect ping, with nacks).
//     With no ack by the end of the interval the target becomes suspect.
//   - Suspect. A suspicion turns into a death after Lifeguard's dynamic timeout (suspicion.h),
//     which shrinks as other members independently confirm it. Every member that hears of a
//     suspicion runs its own timer.
//   - Refute. A member told it is suspect or dead raises its incarnation above the claim and
//     broadcasts itself alive (and sends it straight to the accuser and to the member that
//     passed the claim on); any alive message with a higher incarnation clears a suspicion or
//     a death.
//   - Lifeguard. Local health awareness (awareness.h) slows a struggling member down; nacks tell
//     a prober whether its helpers are working; the buddy system sends a suspect message to the
//     suspected member first, inside the probe itself.
//   - Disseminate. Alive/suspect/dead messages are piggybacked on every packet and sent to
//     `gossip_nodes` random members every gossip interval, each a bounded number of times
//     (broadcast_queue.h). Recently dead members still get gossip so they can refute.
//   - Stale claims. A suspect or dead message older than the alive we hold means its sender
//     missed that alive: we answer the sender with it directly and gossip it again (unless it is
//     still queued). Not in memberlist; it closes the gap where a member that missed a
//     refutation declares a live member dead.
//   - Strangers. A datagram from a member we do not know (its alive missed us) triggers a
//     push-pull with it at once (at most one per stranger_sync_interval).
//   - Anti-entropy. Every push-pull interval a full-state exchange with one random member; and,
//     with probability dead/alive, one with a dead member (reconnect), so healed partitions merge.
//   - Join by a push-pull with any known member (retried); leave by broadcasting dead-with-leave.
//
// The host owns the transport: it passes every incoming datagram to receive() (core/node's
// NodeGossip, through the SealedTransport over the GossipNet seam, and io_sim's gossip cluster
// directly). Members are identified by NodeId; the
// transport's verified sender identity answers probes, never a field of the message.
//
// Bad input changes nothing: a datagram that does not decode (codec.h) or a ping meant for
// another member is dropped and counted in stats().bad_messages; a late or duplicated ack is
// ignored and counted as stale.
//
// Thread contract: single-threaded, on the node's event loop, like the rest of core/. The Env
// outlives the Membership; the destructor cancels its timers.
//
// Invariants (check_invariants()): self is a member, never dead unless it left; num_alive()
// equals the alive and suspect members; a suspect member has a suspicion and no other does; the
// probe list holds every alive or suspect member exactly once.
//
//   Membership m(env, config, {.on_leave = [](const MemberInfo& i) { ... }});
//   env.transport.set_handler([&](const PeerIdentity& p, std::string_view b) { m.receive(p.node_id, b); });
//   m.join({1});
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/gossip.pb.h"
#include "core/env/env.h"
#include "core/gossip/awareness.h"
#include "core/gossip/broadcast_queue.h"
#include "core/gossip/config.h"
#include "core/gossip/suspicion.h"

namespace shoal::gossip {

enum class State { kAlive, kSuspect, kDead, kLeft };
const char* state_name(State s);

struct MemberInfo {
  NodeId id = 0;
  uint64_t incarnation = 0;
  State state = State::kAlive;
  std::string meta;
  MonoTime state_change{0};  // on this member's clock
};

// Subscriber callbacks, about other members (never self). Called on the loop, after the change.
struct Events {
  std::function<void(const MemberInfo&)> on_join = {};    // unknown, dead or left -> alive/suspect
  std::function<void(const MemberInfo&)> on_update = {};  // meta changed while alive
  std::function<void(const MemberInfo&)> on_leave = {};   // -> dead or left
};

// Data that rides on the gossip (memberlist's Delegate): the replicated table (table.h). Called
// on the loop.
class Delegate {
 public:
  virtual ~Delegate() = default;
  // A table entry piggybacked on a packet from `from` (the codec has checked it).
  virtual void on_entry(NodeId from, const gossippb::TableEntry& entry) = 0;
  // Adds this member's state to a push-pull it sends (bulk sync).
  virtual void local_state(gossippb::PushPull& out) = 0;
  // A push-pull from `from`, once its member states are merged.
  virtual void merge_remote_state(NodeId from, const gossippb::PushPull& in) = 0;
  // Another member joined (or came back) or left (dead or gone), after Events heard of it.
  virtual void on_member_change(const MemberInfo& member) = 0;
};

struct Stats {
  uint64_t packets_sent = 0;
  uint64_t push_pulls_sent = 0;
  uint64_t datagrams_received = 0;
  uint64_t bad_messages = 0;                      // dropped, never acted on
  std::map<std::string, uint64_t> bad_by_reason;  // codec reasons + "misdirected-ping", ...
  uint64_t probes = 0;
  uint64_t probe_failures = 0;  // no ack, direct or indirect, by the end of the interval
  uint64_t indirect_probes_sent = 0;
  uint64_t nacks_sent = 0;
  uint64_t suspicions = 0;   // suspicions started here (any origin)
  uint64_t deaths_declared = 0;  // suspicion timeouts that fired here
  uint64_t refutations = 0;
  uint64_t stale_claims_corrected = 0;  // alive re-sent to answer an outdated suspect/dead
  uint64_t stale_acks = 0;  // acks for a probe already over (late or duplicated): ignored
  uint64_t limit_hits = 0;  // members, relayed probes, packet or push-pull size limits
};

class Membership {
 public:
  Membership(Env& env, Config config, Events events = {});
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Asks each seed (other than self) for a full-state exchange, retrying every join_retry until
  // one answers or join_max_attempts rounds passed. joined() turns true at the first answer.
  void join(const std::vector<NodeId>& seeds);
  bool joined() const { return joined_; }
  // Graceful leave: broadcast dead-with-leave about self; stop probing. Keeps answering and
  // gossiping so the news gets out; the host destroys the Membership when it is done.
  void leave();
  // New meta for self: incarnation bump and an alive broadcast (meta over its limit is refused).
  Status set_meta(std::string meta);

  // The delegate (nullptr: none) outlives the Membership or is unset first.
  void set_delegate(Delegate* delegate) { delegate_ = delegate; }
  // Disseminates a table entry by piggybacking, replacing any queued one for the same key.
  void broadcast_entry(const gossippb::TableEntry& entry);

  // A datagram from `from` (the transport's verified sender).
  void receive(NodeId from, std::string_view bytes);

  // --- views
  NodeId id() const { return config_.id; }
  uint64_t incarnation() const { return self().incarnation; }
  // nullptr if unknown (or forgotten after reconnect_timeout).
  const MemberInfo* member(NodeId id) const;
  std::vector<MemberInfo> members() const;  // by id
  size_t num_alive() const { return num_alive_; }  // alive + suspect, self included
  int health_score() const { return awareness_.score(); }
  const Stats& stats() const { return stats_; }
  const Config& config() const { return config_; }
  size_t broadcasts_queued() const { return broadcasts_.size(); }
  uint64_t broadcasts_dropped() const { return broadcasts_.dropped(); }
  // The suspicion of `id`, if it is suspect.
  const Suspicion* suspicion(NodeId id) const;
  // Probe and push-pull intervals as currently scaled.
  Duration probe_interval() const { return awareness_.scale(config_.probe_interval); }
  Duration push_pull_interval() const;
  // Empty if every invariant holds, else what is broken (for reports that go on).
  std::string broken_invariant() const;
  // Aborts (SHOAL_CHECK) if an invariant is broken.
  void check_invariants() const;

 private:
  struct Member {
    MemberInfo info;
    std::unique_ptr<Suspicion> suspicion;
    TimerId suspicion_timer = 0;
    bool in_probe_list = false;
    std::optional<size_t> dead_index;  // position in dead_list_
  };
  struct Probe {
    NodeId target = 0;
    uint64_t seq = 0;
    bool acked = false;
    int expected_nacks = 0;
    int nacks = 0;
    TimerId timeout_timer = 0;
  };
  struct Relayed {
    NodeId origin = 0;
    uint64_t origin_seq = 0;
    bool nack = false;
    TimerId timer = 0;
  };

  const MemberInfo& self() const;
  Member* find(NodeId id);
  void set_state(Member& m, State s);
  void add_to_probe_list(NodeId id);

  // --- timers
  void probe_tick();
  void gossip_tick();
  void push_pull_tick();
  void reconnect_tick();
  void join_tick();
  void arm_probe();
  void arm_gossip();
  void arm_push_pull();
  void arm_reconnect();

  // --- probing
  std::optional<NodeId> next_probe_target();
  void reset_probe_list();
  void start_probe(NodeId target);
  void probe_timed_out();
  void finish_probe();
  std::vector<NodeId> random_members(size_t k, const std::function<bool(const Member&)>& ok);

  // --- incoming
  void handle_part(NodeId from, const gossippb::Part& p);
  void handle_ping(NodeId from, const gossippb::Ping& m);
  void handle_indirect_ping(NodeId from, const gossippb::IndirectPing& m);
  void handle_ack(NodeId from, uint64_t seq);
  void handle_nack(uint64_t seq);
  void handle_push_pull(NodeId from, const gossippb::PushPull& m);

  // --- state changes (SWIM's alive / suspect / dead handling)
  void on_alive(const gossippb::Alive& m);
  // sender: the transport's sender of the message (0 when it comes from this member itself).
  void on_suspect(const gossippb::Suspect& m, NodeId sender = 0);
  void on_dead(const gossippb::Dead& m, NodeId sender = 0);
  void suspicion_expired(NodeId node, uint64_t incarnation);
  // Raises our incarnation above the claim, broadcasts alive and sends it at once to `tell`.
  void refute(uint64_t claimed_incarnation, std::initializer_list<NodeId> tell);
  void correct_stale_claim(const Member& m, NodeId sender);
  void merge(const gossippb::PushPull& m);
  void sync_with_stranger(NodeId from);

  // --- sending
  void send_packet(NodeId to, std::vector<gossippb::Part> parts);
  void send_push_pull(NodeId to, bool join, bool reply);
  void broadcast(NodeId about, gossippb::Part part);
  gossippb::Part alive_part(const MemberInfo& i) const;
  void bad_input(const std::string& reason);

  Env& env_;
  Config config_;
  Events events_;
  Delegate* delegate_ = nullptr;
  Awareness awareness_;
  BroadcastQueue broadcasts_;
  Stats stats_;

  std::map<NodeId, Member> members_;
  size_t num_alive_ = 0;
  std::vector<NodeId> probe_list_;  // shuffled round-robin order; also random picks
  size_t probe_index_ = 0;
  std::vector<NodeId> dead_list_;   // dead (not left) members, for reconnect

  uint64_t seq_ = 0;
  std::optional<Probe> probe_;
  std::map<uint64_t, Relayed> relayed_;  // by our seq of the ping sent for them
  std::vector<gossippb::Part> corrections_;  // alive answers to stale claims in this datagram
  std::optional<MonoTime> last_stranger_sync_;

  bool leaving_ = false;
  bool joined_ = false;
  std::vector<NodeId> join_seeds_;
  int join_attempts_ = 0;

  TimerId probe_timer_ = 0;
  TimerId gossip_timer_ = 0;
  TimerId push_pull_timer_ = 0;
  TimerId reconnect_timer_ = 0;
  TimerId join_timer_ = 0;
};

}  // namespace shoal::gossip
