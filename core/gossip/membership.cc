#include "core/gossip/membership.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/env/check.h"
#include "core/env/probe.h"
#include "core/gossip/codec.h"

namespace shoal::gossip {

namespace {

// Envelope overhead around a compound's parts: version, body tag and length.
constexpr size_t kEnvelopeOverhead = 10;

bool is_live(State s) { return s == State::kAlive || s == State::kSuspect; }
bool is_gone(State s) { return s == State::kDead || s == State::kLeft; }

gossippb::MemberState to_wire(State s) {
  switch (s) {
    case State::kAlive: return gossippb::MEMBER_ALIVE;
    case State::kSuspect: return gossippb::MEMBER_SUSPECT;
    case State::kDead: return gossippb::MEMBER_DEAD;
    case State::kLeft: return gossippb::MEMBER_LEFT;
  }
  return gossippb::MEMBER_ALIVE;
}

gossippb::Part suspect_part(NodeId node, uint64_t incarnation, NodeId from) {
  gossippb::Part p;
  auto* s = p.mutable_suspect();
  s->set_node(node);
  s->set_incarnation(incarnation);
  s->set_from(from);
  return p;
}

gossippb::Part dead_part(NodeId node, uint64_t incarnation, NodeId from) {
  gossippb::Part p;
  auto* d = p.mutable_dead();
  d->set_node(node);
  d->set_incarnation(incarnation);
  d->set_from(from);
  return p;
}

}  // namespace

const char* state_name(State s) {
  switch (s) {
    case State::kAlive: return "alive";
    case State::kSuspect: return "suspect";
    case State::kDead: return "dead";
    case State::kLeft: return "left";
  }
  return "?";
}

Membership::Membership(Env& env, Config config, Events events)
    : env_(env),
      config_(std::move(config)),
      events_(std::move(events)),
      awareness_(config_.awareness_max_multiplier),
      broadcasts_(config_.max_broadcasts) {
  SHOAL_CHECK(config_.id != 0, "a gossip member needs an id");
  SHOAL_CHECK(config_.probe_interval > Duration::zero() && config_.gossip_interval > Duration::zero() &&
                  config_.push_pull_interval > Duration::zero() &&
                  config_.reconnect_interval > Duration::zero(),
              "gossip intervals must be positive");
  SHOAL_CHECK(config_.meta.size() <= config_.max_meta_bytes, "meta over its limit");
  Member& self = members_[config_.id];
  self.info = MemberInfo{config_.id, 1, State::kAlive, config_.meta, env_.clock.monotonic_now()};
  num_alive_ = 1;
  add_to_probe_list(config_.id);
  broadcast(config_.id, alive_part(self.info));
  // Stagger the first tick of each loop, as memberlist does, so members do not move in step.
  auto stagger = [this](Duration d) { return Duration(env_.rng.uniform(0, static_cast<uint64_t>(d.count()))); };
  probe_timer_ = env_.timers.after(stagger(config_.probe_interval), [this] { probe_tick(); });
  gossip_timer_ = env_.timers.after(stagger(config_.gossip_interval), [this] { gossip_tick(); });
  push_pull_timer_ = env_.timers.after(stagger(push_pull_interval()), [this] { push_pull_tick(); });
  reconnect_timer_ = env_.timers.after(stagger(config_.reconnect_interval), [this] { reconnect_tick(); });
}

Membership::~Membership() {
  for (TimerId t : {probe_timer_, gossip_timer_, push_pull_timer_, reconnect_timer_, join_timer_}) {
    if (t != 0) env_.timers.cancel(t);
  }
  if (probe_ && probe_->timeout_timer != 0) env_.timers.cancel(probe_->timeout_timer);
  for (const auto& [seq, r] : relayed_) env_.timers.cancel(r.timer);
  for (const auto& [id, m] : members_) {
    if (m.suspicion_timer != 0) env_.timers.cancel(m.suspicion_timer);
  }
}

// --- views -----------------------------------------------------------------------------------

const MemberInfo& Membership::self() const { return members_.at(config_.id).info; }

Membership::Member* Membership::find(NodeId id) {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

const MemberInfo* Membership::member(NodeId id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second.info;
}

std::vector<MemberInfo> Membership::members() const {
  std::vector<MemberInfo> out;
  out.reserve(members_.size());
  for (const auto& [id, m] : members_) out.push_back(m.info);
  return out;
}

const Suspicion* Membership::suspicion(NodeId id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : it->second.suspicion.get();
}

Duration Membership::push_pull_interval() const {
  // memberlist's pushPullScale: no scaling up to 32 members, then one more interval per doubling.
  constexpr double kThreshold = 32;
  const double n = static_cast<double>(num_alive_);
  if (n <= kThreshold) return config_.push_pull_interval;
  const int64_t mult = static_cast<int64_t>(std::ceil(std::log2(n) - std::log2(kThreshold))) + 1;
  return config_.push_pull_interval * mult;
}

void Membership::check_invariants() const {
  const std::string broken = broken_invariant();
  SHOAL_CHECK(broken.empty(), "gossip: %s", broken.c_str());
}

std::string Membership::broken_invariant() const {
  auto it = members_.find(config_.id);
  if (it == members_.end()) return "self is not a member";
  const State self_state = it->second.info.state;
  if (!(self_state == State::kAlive || (leaving_ && self_state == State::kLeft))) {
    return std::string("self is ") + state_name(self_state);
  }
  size_t live = 0, dead = 0;
  for (const auto& [id, m] : members_) {
    if (is_live(m.info.state)) ++live;
    if (m.info.state == State::kDead) ++dead;
    if ((m.info.state == State::kSuspect) != (m.suspicion != nullptr)) {
      return "member " + std::to_string(id) + " is " + state_name(m.info.state) +
             (m.suspicion ? " with" : " without") + " a suspicion";
    }
    if (is_live(m.info.state) && !m.in_probe_list) {
      return "live member " + std::to_string(id) + " is not in the probe list";
    }
    if ((m.info.state == State::kDead) != m.dead_index.has_value()) {
      return "member " + std::to_string(id) + " dead list mismatch";
    }
  }
  if (live != num_alive_) {
    return "num_alive " + std::to_string(num_alive_) + " but " + std::to_string(live) + " live members";
  }
  if (dead != dead_list_.size()) return "dead list size mismatch";
  std::vector<NodeId> sorted = probe_list_;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return "probe list has duplicates";
  return {};
}

// --- bookkeeping -----------------------------------------------------------------------------

void Membership::set_state(Member& m, State s) {
  const State old = m.info.state;
  if (is_live(old) && !is_live(s)) --num_alive_;
  if (!is_live(old) && is_live(s)) ++num_alive_;
  if (old == State::kDead && s != State::kDead && m.dead_index) {
    const size_t i = *m.dead_index;
    const NodeId last = dead_list_.back();
    dead_list_[i] = last;
    members_.at(last).dead_index = i;
    dead_list_.pop_back();
    m.dead_index.reset();
  }
  if (s == State::kDead && old != State::kDead) {
    m.dead_index = dead_list_.size();
    dead_list_.push_back(m.info.id);
  }
  m.info.state = s;
  m.info.state_change = env_.clock.monotonic_now();
}

void Membership::add_to_probe_list(NodeId id) {
  Member& m = members_.at(id);
  if (m.in_probe_list) return;
  m.in_probe_list = true;
  // At a random position, as memberlist does, so a newcomer is not always probed last.
  probe_list_.push_back(id);
  const size_t n = probe_list_.size();
  const size_t at = static_cast<size_t>(env_.rng.uniform(0, n - 1));
  std::swap(probe_list_[at], probe_list_[n - 1]);
}

void Membership::reset_probe_list() {
  const MonoTime now = env_.clock.monotonic_now();
  std::vector<NodeId> kept;
  kept.reserve(probe_list_.size());
  for (NodeId id : probe_list_) {
    Member& m = members_.at(id);
    if (is_gone(m.info.state) && now - m.info.state_change > config_.gossip_to_the_dead) {
      m.in_probe_list = false;
      continue;
    }
    kept.push_back(id);
  }
  probe_list_ = std::move(kept);
  // Forget members gone for longer than reconnect_timeout (amortized: once per probe round).
  std::vector<NodeId> forget;
  for (const auto& [id, m] : members_) {
    if (id != config_.id && is_gone(m.info.state) && !m.in_probe_list &&
        now - m.info.state_change > config_.reconnect_timeout) {
      forget.push_back(id);
    }
  }
  for (NodeId id : forget) {
    Member& m = members_.at(id);
    if (m.info.state == State::kDead) set_state(m, State::kLeft);  // leaves the dead list
    members_.erase(id);
  }
  // Fisher-Yates with the member's own Rng.
  for (size_t i = probe_list_.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(env_.rng.uniform(0, i - 1));
    std::swap(probe_list_[i - 1], probe_list_[j]);
  }
}

std::vector<NodeId> Membership::random_members(size_t k,
                                               const std::function<bool(const Member&)>& ok) {
  std::vector<NodeId> out;
  const size_t n = probe_list_.size();
  if (n == 0 || k == 0) return out;
  for (size_t tries = 0; tries < 3 * n && out.size() < k; ++tries) {
    const NodeId id = probe_list_[static_cast<size_t>(env_.rng.uniform(0, n - 1))];
    if (std::find(out.begin(), out.end(), id) != out.end()) continue;
    if (!ok(members_.at(id))) continue;
    out.push_back(id);
  }
  return out;
}

void Membership::bad_input(const std::string& reason) {
  ++stats_.bad_messages;
  ++stats_.bad_by_reason[reason];
}

// --- public actions --------------------------------------------------------------------------

void Membership::join(const std::vector<NodeId>& seeds) {
  join_seeds_.clear();
  for (NodeId s : seeds) {
    if (s != config_.id && s != 0) join_seeds_.push_back(s);
  }
  join_attempts_ = 0;
  if (join_timer_ != 0) env_.timers.cancel(join_timer_);
  join_timer_ = 0;
  join_tick();
}

void Membership::join_tick() {
  join_timer_ = 0;
  if (joined_ || join_seeds_.empty() || join_attempts_ >= config_.join_max_attempts) return;
  ++join_attempts_;
  for (NodeId s : join_seeds_) send_push_pull(s, /*join=*/true, /*reply=*/false);
  join_timer_ = env_.timers.after(config_.join_retry, [this] { join_tick(); });
}

void Membership::leave() {
  if (leaving_) return;
  leaving_ = true;
  Member& me = members_.at(config_.id);
  set_state(me, State::kLeft);
  broadcast(config_.id, dead_part(config_.id, me.info.incarnation, config_.id));
  if (probe_) {
    if (probe_->timeout_timer != 0) env_.timers.cancel(probe_->timeout_timer);
    probe_.reset();
  }
}

Status Membership::set_meta(std::string meta) {
  if (meta.size() > config_.max_meta_bytes) return Status::invalid_argument("gossip meta over its limit");
  if (leaving_) return Status::failed_precondition("this member has left");
  Member& me = members_.at(config_.id);
  me.info.meta = std::move(meta);
  config_.meta = me.info.meta;
  ++me.info.incarnation;
  broadcast(config_.id, alive_part(me.info));
  return {};
}

// --- loops -----------------------------------------------------------------------------------

void Membership::arm_probe() {
  probe_timer_ = env_.timers.after(probe_interval(), [this] { probe_tick(); });
}
void Membership::arm_gossip() {
  gossip_timer_ = env_.timers.after(config_.gossip_interval, [this] { gossip_tick(); });
}
void Membership::arm_push_pull() {
  push_pull_timer_ = env_.timers.after(push_pull_interval(), [this] { push_pull_tick(); });
}
void Membership::arm_reconnect() {
  reconnect_timer_ = env_.timers.after(config_.reconnect_interval, [this] { reconnect_tick(); });
}

void Membership::probe_tick() {
  probe_timer_ = 0;
  if (probe_) finish_probe();
  if (!leaving_) {
    if (auto target = next_probe_target()) start_probe(*target);
  }
  arm_probe();
}

void Membership::gossip_tick() {
  gossip_timer_ = 0;
  if (!broadcasts_.empty()) {
    const MonoTime now = env_.clock.monotonic_now();
    auto targets = random_members(static_cast<size_t>(config_.gossip_nodes), [&](const Member& m) {
      if (m.info.id == config_.id) return false;
      if (is_live(m.info.state)) return true;
      return m.info.state == State::kDead && now - m.info.state_change <= config_.gossip_to_the_dead;
    });
    for (NodeId to : targets) {
      if (broadcasts_.empty()) break;
      send_packet(to, {});
    }
  }
  arm_gossip();
}

void Membership::push_pull_tick() {
  push_pull_timer_ = 0;
  auto peer = random_members(1, [&](const Member& m) {
    return m.info.id != config_.id && m.info.state == State::kAlive;
  });
  if (!peer.empty()) send_push_pull(peer[0], /*join=*/false, /*reply=*/false);
  arm_push_pull();
}

void Membership::reconnect_tick() {
  reconnect_timer_ = 0;
  if (!dead_list_.empty() && num_alive_ > 0) {
    const double p = static_cast<double>(dead_list_.size()) / static_cast<double>(num_alive_);
    if (env_.rng.chance(p)) {
      const NodeId id = dead_list_[static_cast<size_t>(env_.rng.uniform(0, dead_list_.size() - 1))];
      const Member& m = members_.at(id);
      if (env_.clock.monotonic_now() - m.info.state_change <= config_.reconnect_timeout) {
        SHOAL_PROBE("gossip.reconnect");
        send_push_pull(id, /*join=*/false, /*reply=*/false);
      }
    }
  }
  arm_reconnect();
}

// --- probing ---------------------------------------------------------------------------------

std::optional<NodeId> Membership::next_probe_target() {
  size_t checked = 0;
  while (checked < probe_list_.size()) {
    if (probe_index_ >= probe_list_.size()) {
      reset_probe_list();
      probe_index_ = 0;
      ++checked;
      continue;
    }
    const NodeId id = probe_list_[probe_index_++];
    const Member& m = members_.at(id);
    if (id == config_.id || !is_live(m.info.state)) {
      ++checked;
      continue;
    }
    return id;
  }
  return std::nullopt;
}

void Membership::start_probe(NodeId target) {
  const Member& m = members_.at(target);
  Probe p;
  p.target = target;
  p.seq = ++seq_;
  std::vector<gossippb::Part> parts;
  if (m.info.state == State::kSuspect) {
    // Lifeguard's buddy system: tell a suspected member first, in the probe itself, so it can
    // refute at once (its ack carries the refutation back).
    SHOAL_PROBE("gossip.buddy_suspect");
    parts.push_back(suspect_part(target, m.info.incarnation, config_.id));
  }
  gossippb::Part ping;
  ping.mutable_ping()->set_seq_no(p.seq);
  ping.mutable_ping()->set_target(target);
  parts.push_back(std::move(ping));
  ++stats_.probes;
  p.timeout_timer = env_.timers.after(awareness_.scale(config_.probe_timeout), [this] { probe_timed_out(); });
  probe_ = p;
  send_packet(target, std::move(parts));
}

void Membership::probe_timed_out() {
  if (!probe_) return;
  probe_->timeout_timer = 0;
  if (probe_->acked) return;
  const NodeId target = probe_->target;
  auto helpers = random_members(static_cast<size_t>(config_.indirect_checks), [&](const Member& m) {
    return m.info.id != config_.id && m.info.id != target && m.info.state == State::kAlive;
  });
  probe_->expected_nacks = static_cast<int>(helpers.size());
  const uint64_t seq = probe_->seq;
  for (NodeId h : helpers) {
    gossippb::Part part;
    auto* ip = part.mutable_indirect_ping();
    ip->set_seq_no(seq);
    ip->set_target(target);
    ip->set_nack(true);
    ++stats_.indirect_probes_sent;
    send_packet(h, {std::move(part)});
  }
}

void Membership::finish_probe() {
  const Probe p = *probe_;
  probe_.reset();
  if (p.timeout_timer != 0) env_.timers.cancel(p.timeout_timer);
  if (p.acked) {
    awareness_.apply_delta(-1);
    return;
  }
  ++stats_.probe_failures;
  // Lifeguard: missing nacks mean we, not the target, may be the problem.
  awareness_.apply_delta(p.expected_nacks > 0 ? std::max(0, p.expected_nacks - p.nacks) : 1);
  Member* m = find(p.target);
  if (m == nullptr || !is_live(m->info.state)) return;
  gossippb::Suspect s;
  s.set_node(p.target);
  s.set_incarnation(m->info.incarnation);
  s.set_from(config_.id);
  on_suspect(s);
}

// --- incoming --------------------------------------------------------------------------------

void Membership::receive(NodeId from, std::string_view bytes) {
  ++stats_.datagrams_received;
  if (from == 0) return bad_input("zero-sender");
  auto env = decode(bytes, config_);
  if (!env.ok()) return bad_input(env.status().message());
  if (members_.find(from) == members_.end() && !leaving_) sync_with_stranger(from);
  if (env->has_compound()) {
    corrections_.clear();
    for (const auto& part : env->compound().parts()) handle_part(from, part);
    if (!corrections_.empty()) send_packet(from, std::move(corrections_));
    corrections_.clear();
  } else {
    handle_push_pull(from, env->push_pull());
  }
}

void Membership::handle_part(NodeId from, const gossippb::Part& p) {
  switch (p.kind_case()) {
    case gossippb::Part::kPing: return handle_ping(from, p.ping());
    case gossippb::Part::kIndirectPing: return handle_indirect_ping(from, p.indirect_ping());
    case gossippb::Part::kAck: return handle_ack(from, p.ack().seq_no());
    case gossippb::Part::kNack: return handle_nack(p.nack().seq_no());
    case gossippb::Part::kAlive: return on_alive(p.alive());
    case gossippb::Part::kSuspect: return on_suspect(p.suspect(), from);
    case gossippb::Part::kDead: return on_dead(p.dead(), from);
    case gossippb::Part::kEntry:
      if (delegate_) delegate_->on_entry(from, p.entry());
      return;
    case gossippb::Part::KIND_NOT_SET: return;  // decode() refuses these
  }
}

void Membership::handle_ping(NodeId from, const gossippb::Ping& m) {
  if (m.target() != config_.id) return bad_input("misdirected-ping");
  gossippb::Part ack;
  ack.mutable_ack()->set_seq_no(m.seq_no());
  send_packet(from, {std::move(ack)});
}

void Membership::handle_indirect_ping(NodeId from, const gossippb::IndirectPing& m) {
  if (m.target() == config_.id) {
    gossippb::Part ack;
    ack.mutable_ack()->set_seq_no(m.seq_no());
    return send_packet(from, {std::move(ack)});
  }
  if (relayed_.size() >= config_.max_relayed_probes) {
    ++stats_.limit_hits;
    return;
  }
  const uint64_t seq = ++seq_;
  Relayed r{from, m.seq_no(), m.nack(), 0};
  r.timer = env_.timers.after(config_.probe_timeout, [this, seq] {
    auto it = relayed_.find(seq);
    if (it == relayed_.end()) return;
    const Relayed gone = it->second;
    relayed_.erase(it);
    if (gone.nack) {
      gossippb::Part nack;
      nack.mutable_nack()->set_seq_no(gone.origin_seq);
      ++stats_.nacks_sent;
      send_packet(gone.origin, {std::move(nack)});
    }
  });
  relayed_.emplace(seq, r);
  gossippb::Part ping;
  ping.mutable_ping()->set_seq_no(seq);
  ping.mutable_ping()->set_target(m.target());
  send_packet(m.target(), {std::move(ping)});
}

void Membership::handle_ack(NodeId /*from*/, uint64_t seq) {
  if (auto it = relayed_.find(seq); it != relayed_.end()) {
    const Relayed r = it->second;
    env_.timers.cancel(r.timer);
    relayed_.erase(it);
    gossippb::Part ack;
    ack.mutable_ack()->set_seq_no(r.origin_seq);
    return send_packet(r.origin, {std::move(ack)});
  }
  if (probe_ && probe_->seq == seq) {
    probe_->acked = true;
    if (probe_->timeout_timer != 0) env_.timers.cancel(probe_->timeout_timer);
    probe_->timeout_timer = 0;
    return;
  }
  ++stats_.stale_acks;  // late (after its probe ended) or duplicated; harmless
}

void Membership::handle_nack(uint64_t seq) {
  if (probe_ && probe_->seq == seq) ++probe_->nacks;
}

void Membership::handle_push_pull(NodeId from, const gossippb::PushPull& m) {
  if (!config_.bugs.push_pull_ignores_remote || m.join()) {
    merge(m);
    if (delegate_) delegate_->merge_remote_state(from, m);
  }
  if (m.reply()) {
    // Only the answer to our join counts as joining (a periodic exchange among members that
    // joined us must not stop our retries: they may be an island of their own).
    const bool from_seed = std::find(join_seeds_.begin(), join_seeds_.end(), from) != join_seeds_.end();
    if (!joined_ && m.join() && from_seed) {
      joined_ = true;
      if (join_timer_ != 0) env_.timers.cancel(join_timer_);
      join_timer_ = 0;
    }
    return;
  }
  // Answer after merging, so a refutation of what the initiator told us travels back at once.
  send_push_pull(from, m.join(), /*reply=*/true);
}

void Membership::sync_with_stranger(NodeId from) {
  // A member we never heard of talks to us: its alive missed us (bounded retransmissions), so
  // exchange full state with it now rather than at the next push-pull, minutes away in a large
  // cluster. At most one such exchange per stranger_sync_interval: while a large cluster forms
  // everyone is a stranger, and a full-state exchange costs O(members).
  const MonoTime now = env_.clock.monotonic_now();
  if (last_stranger_sync_ && now - *last_stranger_sync_ < config_.stranger_sync_interval) return;
  last_stranger_sync_ = now;
  SHOAL_PROBE("gossip.stranger_sync");
  send_push_pull(from, /*join=*/false, /*reply=*/false);
}

void Membership::merge(const gossippb::PushPull& m) {
  for (const auto& st : m.states()) {
    switch (st.state()) {
      case gossippb::MEMBER_ALIVE: {
        gossippb::Alive a;
        a.set_node(st.node());
        a.set_incarnation(st.incarnation());
        a.set_meta(st.meta());
        on_alive(a);
        break;
      }
      case gossippb::MEMBER_LEFT: {
        gossippb::Dead d;
        d.set_node(st.node());
        d.set_incarnation(st.incarnation());
        d.set_from(st.node());
        on_dead(d);
        break;
      }
      default: {
        // As memberlist: a peer's dead or suspect is only a suspicion here.
        gossippb::Suspect s;
        s.set_node(st.node());
        s.set_incarnation(st.incarnation());
        s.set_from(config_.id);
        on_suspect(s);
        break;
      }
    }
  }
}

// --- state changes ---------------------------------------------------------------------------

gossippb::Part Membership::alive_part(const MemberInfo& i) const {
  gossippb::Part p;
  auto* a = p.mutable_alive();
  a->set_node(i.id);
  a->set_incarnation(i.incarnation);
  a->set_meta(i.meta);
  return p;
}

void Membership::on_alive(const gossippb::Alive& a) {
  if (a.node() == config_.id) {
    if (leaving_) return;
    const MemberInfo& me = self();
    if (a.incarnation() > me.incarnation || (a.incarnation() == me.incarnation && a.meta() != me.meta)) {
      refute(a.incarnation(), {});
    }
    return;
  }
  Member* m = find(a.node());
  if (m == nullptr) {
    if (members_.size() >= config_.max_members) {
      ++stats_.limit_hits;
      return;
    }
    Member& fresh = members_[a.node()];
    fresh.info = MemberInfo{a.node(), a.incarnation(), State::kDead, a.meta(), env_.clock.monotonic_now()};
    fresh.info.state = State::kLeft;  // so set_state counts the transition to alive
    set_state(fresh, State::kAlive);
    add_to_probe_list(a.node());
    broadcast(a.node(), alive_part(fresh.info));
    if (events_.on_join) events_.on_join(fresh.info);
    if (delegate_) delegate_->on_member_change(fresh.info);
    return;
  }
  if (a.incarnation() <= m->info.incarnation) return;
  const State old = m->info.state;
  const bool meta_changed = m->info.meta != a.meta();
  if (m->suspicion_timer != 0) env_.timers.cancel(m->suspicion_timer);
  m->suspicion_timer = 0;
  m->suspicion.reset();
  m->info.incarnation = a.incarnation();
  m->info.meta = a.meta();
  if (old != State::kAlive) set_state(*m, State::kAlive);
  add_to_probe_list(a.node());
  broadcast(a.node(), alive_part(m->info));
  if (is_gone(old)) {
    if (events_.on_join) events_.on_join(m->info);
    if (delegate_) delegate_->on_member_change(m->info);
  } else if (meta_changed) {
    if (events_.on_update) events_.on_update(m->info);
  }
}

void Membership::on_suspect(const gossippb::Suspect& s, NodeId sender) {
  Member* m = find(s.node());
  if (m == nullptr) return;
  if (s.incarnation() < m->info.incarnation) return correct_stale_claim(*m, sender);
  if (m->suspicion && s.incarnation() > m->info.incarnation) {
    // A suspicion of a newer incarnation: the member refuted the one we hold (we missed its
    // alive) and is suspected anew. Start over rather than count it as a confirmation of the
    // old one, which would declare the refuted incarnation dead. (memberlist confirms here.)
    SHOAL_PROBE("gossip.suspicion_superseded");
    env_.timers.cancel(m->suspicion_timer);
    m->suspicion_timer = 0;
    m->suspicion.reset();
    set_state(*m, State::kAlive);
  }
  if (m->suspicion) {
    if (m->suspicion->confirm(s.from())) {
      SHOAL_PROBE("gossip.suspicion_confirmed");
      // Pass the confirmation on, and shorten our own timer.
      broadcast(s.node(), suspect_part(s.node(), s.incarnation(), s.from()));
      env_.timers.cancel(m->suspicion_timer);
      const Duration left = std::max(Duration::zero(), m->suspicion->remaining(env_.clock.monotonic_now()));
      const NodeId node = s.node();
      const uint64_t inc = m->info.incarnation;
      m->suspicion_timer = env_.timers.after(left, [this, node, inc] { suspicion_expired(node, inc); });
    }
    return;
  }
  if (is_gone(m->info.state)) return;
  if (s.node() == config_.id) {
    if (!leaving_) refute(s.incarnation(), {s.from(), sender});
    return;
  }
  broadcast(s.node(), suspect_part(s.node(), s.incarnation(), s.from()));
  m->info.incarnation = s.incarnation();
  set_state(*m, State::kSuspect);
  const int n = static_cast<int>(num_alive_);
  int k = config_.suspicion_mult - 2;
  if (n - 2 < k) k = 0;  // too few members to expect confirmations
  const Duration min = suspicion_timeout(config_.suspicion_mult, num_alive_, config_.probe_interval);
  const Duration max = min * config_.suspicion_max_timeout_mult;
  m->suspicion = std::make_unique<Suspicion>(s.from(), k, min, max, env_.clock.monotonic_now());
  ++stats_.suspicions;
  const NodeId node = s.node();
  const uint64_t inc = s.incarnation();
  m->suspicion_timer = env_.timers.after(k >= 1 ? max : min, [this, node, inc] { suspicion_expired(node, inc); });
}

void Membership::suspicion_expired(NodeId node, uint64_t incarnation) {
  Member* m = find(node);
  if (m == nullptr || m->info.state != State::kSuspect || m->info.incarnation != incarnation) return;
  m->suspicion_timer = 0;
  if (config_.bugs.suspicion_never_expires) return;
  ++stats_.deaths_declared;
  gossippb::Dead d;
  d.set_node(node);
  d.set_incarnation(incarnation);
  d.set_from(config_.id);
  on_dead(d);
}

void Membership::on_dead(const gossippb::Dead& d, NodeId sender) {
  Member* m = find(d.node());
  if (m == nullptr) return;
  if (d.incarnation() < m->info.incarnation) return correct_stale_claim(*m, sender);
  if (is_gone(m->info.state)) return;
  if (d.node() == config_.id) {
    if (!leaving_) refute(d.incarnation(), {d.from(), sender});
    return;
  }
  if (m->suspicion_timer != 0) env_.timers.cancel(m->suspicion_timer);
  m->suspicion_timer = 0;
  m->suspicion.reset();
  broadcast(d.node(), dead_part(d.node(), d.incarnation(), d.from()));
  m->info.incarnation = d.incarnation();
  set_state(*m, d.from() == d.node() ? State::kLeft : State::kDead);
  if (events_.on_leave) events_.on_leave(m->info);
  if (delegate_) delegate_->on_member_change(m->info);
}

void Membership::correct_stale_claim(const Member& m, NodeId sender) {
  // The sender still spreads a suspicion or death that a later alive already cleared: it missed
  // that alive (retransmissions are bounded, so some member occasionally does). Answer it
  // directly, batched per datagram (receive() sends them), and gossip the alive again unless it
  // is still going out. Shoal's addition to memberlist: without it, a member that missed a
  // refutation declares a live member dead when its own suspicion times out. Stale claims about
  // ourselves come straight from the prober (buddy system).
  if (!is_live(m.info.state)) return;
  if (m.info.id == config_.id && leaving_) return;
  SHOAL_PROBE("gossip.stale_claim_corrected");
  ++stats_.stale_claims_corrected;
  if (sender != 0 && sender != config_.id && corrections_.size() < config_.max_parts / 2) {
    corrections_.push_back(alive_part(m.info));
  }
  if (broadcasts_.transmits(m.info.id) < 0) broadcast(m.info.id, alive_part(m.info));
}

void Membership::refute(uint64_t claimed_incarnation, std::initializer_list<NodeId> tell) {
  if (config_.bugs.never_refute) return;
  SHOAL_PROBE("gossip.refuted");
  Member& me = members_.at(config_.id);
  me.info.incarnation = std::max(me.info.incarnation, claimed_incarnation) + 1;
  ++stats_.refutations;
  awareness_.apply_delta(1);  // being suspected is a sign of our own trouble (Lifeguard)
  broadcast(config_.id, alive_part(me.info));
  // Besides gossip, straight to the accuser and to whoever passed the claim on: the accuser's
  // suspicion runs longest when nobody confirms it, and gossip may miss it.
  std::vector<NodeId> told;
  for (NodeId to : tell) {
    if (to == 0 || to == config_.id || std::find(told.begin(), told.end(), to) != told.end()) continue;
    told.push_back(to);
    send_packet(to, {});
  }
}

// --- sending ---------------------------------------------------------------------------------

void Membership::broadcast(NodeId about, gossippb::Part part) { broadcasts_.queue(about, std::move(part)); }

void Membership::broadcast_entry(const gossippb::TableEntry& entry) {
  gossippb::Part part;
  *part.mutable_entry() = entry;
  std::string name = entry.table();
  name.push_back('\0');
  name += entry.key();
  broadcasts_.queue(BroadcastKey{0, std::move(name)}, std::move(part));
}

void Membership::send_packet(NodeId to, std::vector<gossippb::Part> parts) {
  size_t used = kEnvelopeOverhead;
  for (const auto& p : parts) used += p.ByteSizeLong() + kPartOverhead;
  if (used < config_.max_packet_bytes && parts.size() < config_.max_parts) {
    auto extra = broadcasts_.take(config_.max_packet_bytes - used,
                                  retransmit_limit(config_.retransmit_mult, num_alive_),
                                  config_.max_parts - parts.size());
    for (auto& p : extra) parts.push_back(std::move(p));
  }
  if (parts.empty()) return;
  gossippb::Envelope env;
  env.set_version(kWireVersion);
  auto* c = env.mutable_compound();
  for (auto& p : parts) *c->add_parts() = std::move(p);
  std::string bytes = env.SerializeAsString();
  if (bytes.size() > config_.max_packet_bytes) ++stats_.limit_hits;  // sent anyway: probes must go
  ++stats_.packets_sent;
  env_.transport.send(to, std::move(bytes));
}

void Membership::send_push_pull(NodeId to, bool join, bool reply) {
  gossippb::Envelope env;
  env.set_version(kWireVersion);
  auto* pp = env.mutable_push_pull();
  pp->set_join(join);
  pp->set_reply(reply);
  for (const auto& [id, m] : members_) {
    auto* st = pp->add_states();
    st->set_node(id);
    st->set_incarnation(m.info.incarnation);
    st->set_state(to_wire(m.info.state));
    st->set_meta(m.info.meta);
  }
  if (delegate_) delegate_->local_state(*pp);
  std::string bytes = env.SerializeAsString();
  if (bytes.size() > config_.max_push_pull_bytes) {
    ++stats_.limit_hits;
    return;
  }
  ++stats_.push_pulls_sent;
  env_.transport.send(to, std::move(bytes));
}

}  // namespace shoal::gossip
