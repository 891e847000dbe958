#include "core/raft/raft.h"

#include <algorithm>

#include "core/env/check.h"
#include "core/env/probe.h"

namespace shoal::raft {

namespace {
constexpr const char* kTransferContext = "transfer";

bool is_vote(raftpb::MessageType t) { return t == raftpb::MSG_VOTE || t == raftpb::MSG_PRE_VOTE; }
raftpb::MessageType vote_resp_type(raftpb::MessageType t) {
  return t == raftpb::MSG_VOTE ? raftpb::MSG_VOTE_RESP : raftpb::MSG_PRE_VOTE_RESP;
}
}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

Raft::Raft(const Config& config, Storage& storage, Rng rng)
    : cfg_(config), id_(config.id), rng_(rng), log_(storage) {
  SHOAL_CHECK(id_ != 0, "node id 0 is reserved");
  SHOAL_CHECK(cfg_.heartbeat_tick > 0 && cfg_.election_tick > cfg_.heartbeat_tick,
              "need 0 < heartbeat_tick < election_tick");
  const auto& hs = storage.hard_state();
  term_ = hs.term();
  vote_ = hs.vote();
  if (hs.commit() > 0) log_.commit_to(std::min(hs.commit(), log_.last_index()));
  apply_conf_state(storage.snapshot().metadata().conf_state());
  prev_hard_ = hs;
  reset_randomized_election_timeout();
  if (cfg_.log) cfg_.log->set_term(term_);
}

void Raft::bootstrap(const std::vector<NodeId>& voters) {
  SHOAL_CHECK(prs_.empty(), "bootstrap of a peer that has a configuration");
  raftpb::ConfState cs;
  for (NodeId v : voters) cs.add_voters(v);
  apply_conf_state(cs);
}

void Raft::apply_conf_state(const raftpb::ConfState& cs) {
  prs_.clear();
  for (NodeId v : cs.voters()) prs_[v] = Progress{.next = log_.last_index() + 1,
                                                  .inflights = Inflights(cfg_.max_inflight)};
  for (NodeId l : cs.learners()) {
    prs_[l] = Progress{.next = log_.last_index() + 1, .is_learner = true,
                       .inflights = Inflights(cfg_.max_inflight)};
  }
}

raftpb::ConfState Raft::conf_state() const {
  raftpb::ConfState cs;
  for (const auto& [id, pr] : prs_) {
    if (pr.is_learner) {
      cs.add_learners(id);
    } else {
      cs.add_voters(id);
    }
  }
  return cs;
}

bool Raft::is_voter(NodeId id) const {
  auto it = prs_.find(id);
  return it != prs_.end() && !it->second.is_learner;
}
bool Raft::is_learner(NodeId id) const {
  auto it = prs_.find(id);
  return it != prs_.end() && it->second.is_learner;
}
const Progress* Raft::progress(NodeId id) const {
  auto it = prs_.find(id);
  return it == prs_.end() ? nullptr : &it->second;
}
bool Raft::promotable() const { return is_voter(id_); }

size_t Raft::quorum() const {
  size_t voters = 0;
  for (const auto& [id, pr] : prs_) voters += pr.is_learner ? 0 : 1;
  return voters / 2 + 1;
}

// ---- roles ---------------------------------------------------------------------------------

void Raft::reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = 0;
    if (cfg_.log) cfg_.log->set_term(term_);
  }
  lead_ = 0;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  votes_.clear();
  for (auto& [id, pr] : prs_) {
    const bool learner = pr.is_learner;
    pr = Progress{.next = log_.last_index() + 1, .is_learner = learner,
                  .inflights = Inflights(cfg_.max_inflight)};
    if (id == id_) pr.match = log_.last_stable_index();
  }
  pending_conf_index_ = 0;
  pending_reads_.clear();
  reads_awaiting_term_commit_.clear();
}

void Raft::reset_randomized_election_timeout() {
  randomized_election_timeout_ =
      cfg_.election_tick + static_cast<int>(rng_.uniform(0, static_cast<uint64_t>(cfg_.election_tick) - 1));
}

void Raft::become_follower(uint64_t term, NodeId lead) {
  const bool changed = role_ != Role::kFollower || term != term_ || (lead != 0 && lead != lead_);
  reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
  if (changed && cfg_.log) {
    if (lead != 0) {
      cfg_.log->info("raft", "follower at term {} of leader {}", term, node_id_text(lead));
    } else {
      cfg_.log->info("raft", "follower at term {}, no leader known", term);
    }
  }
}

void Raft::become_pre_candidate() {
  SHOAL_CHECK(role_ != Role::kLeader, "leader cannot become pre-candidate");
  // Pre-vote changes neither term nor vote: a failed pre-election disturbs nobody.
  votes_.clear();
  lead_ = 0;
  role_ = Role::kPreCandidate;
  if (cfg_.log) cfg_.log->info("raft", "pre-candidate: asking whether it could win term {}", term_ + 1);
}

void Raft::become_candidate() {
  SHOAL_CHECK(role_ != Role::kLeader, "leader cannot become candidate");
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
  if (cfg_.log) cfg_.log->info("raft", "candidate at term {}", term_);
}

void Raft::become_leader() {
  SHOAL_CHECK(role_ != Role::kFollower, "follower cannot become leader directly");
  reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  prs_[id_].become_replicate();
  prs_[id_].match = log_.last_stable_index();
  // Conservatively forbid a new membership change until everything up to now is applied.
  pending_conf_index_ = log_.last_index();
  // An empty entry of the new term lets the leader commit (and so serve reads) in its term.
  append_entries({raftpb::Entry{}});
  if (cfg_.log) cfg_.log->info("raft", "leader at term {}", term_);
}

void Raft::campaign(CampaignType type) {
  if (!promotable()) return;
  uint64_t vote_term;
  raftpb::MessageType vote_msg;
  if (type == CampaignType::kPreElection) {
    become_pre_candidate();
    vote_msg = raftpb::MSG_PRE_VOTE;
    vote_term = term_ + 1;  // the term we would use; ours does not change yet
  } else {
    become_candidate();
    vote_msg = raftpb::MSG_VOTE;
    vote_term = term_;
  }
  if (poll(id_, true).first >= quorum()) {
    if (type == CampaignType::kPreElection) {
      campaign(CampaignType::kElection);
    } else {
      become_leader();
    }
    return;
  }
  for (const auto& [id, pr] : prs_) {
    if (id == id_ || pr.is_learner) continue;
    raftpb::Message m;
    m.set_type(vote_msg);
    m.set_to(id);
    m.set_term(vote_term);
    m.set_index(log_.last_index());
    m.set_log_term(log_.last_term());
    if (type == CampaignType::kTransfer) m.set_context(kTransferContext);
    send(std::move(m));
  }
}

void Raft::campaign_now() {
  if (role_ == Role::kLeader) return;
  campaign(cfg_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
}

std::pair<size_t, size_t> Raft::poll(NodeId from, bool granted) {
  votes_.emplace(from, granted);  // the first answer from a peer counts
  size_t yes = 0, no = 0;
  for (const auto& [id, v] : votes_) {
    if (!is_voter(id)) continue;
    (v ? yes : no)++;
  }
  return {yes, no};
}

// ---- time ----------------------------------------------------------------------------------

void Raft::tick() {
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  election_elapsed_++;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    campaign_now();
  }
}

void Raft::tick_heartbeat() {
  heartbeat_elapsed_++;
  election_elapsed_++;
  if (election_elapsed_ >= cfg_.election_tick) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum && !quorum_active()) {
      SHOAL_PROBE("raft.check_quorum_stepdown");
      if (cfg_.log) cfg_.log->info("raft", "stepping down: no quorum heard from within an election timeout");
      become_follower(term_, 0);
      return;
    }
    if (lead_transferee_ != 0) abort_leader_transfer();  // took longer than an election
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    // Carry the newest pending read, as etcd does, so a read whose acks were lost is retried.
    bcast_heartbeat(pending_reads_.empty() ? std::string() : pending_reads_.back().ctx);
  }
}

// Whether a quorum was heard from since the last round; clears the marks for the next round.
bool Raft::quorum_active() {
  size_t active = 0;
  for (auto& [id, pr] : prs_) {
    if (id == id_) {
      pr.recent_active = true;
    }
    if (pr.recent_active && !pr.is_learner) active++;
    if (id != id_) pr.recent_active = false;
  }
  return active >= quorum();
}

// ---- messages ------------------------------------------------------------------------------

void Raft::step(const raftpb::Message& m) {
  if (m.term() > term_) {
    if (is_vote(m.type())) {
      const bool force = m.context() == kTransferContext;
      const bool in_lease =
          cfg_.check_quorum && lead_ != 0 && election_elapsed_ < cfg_.election_tick;
      if (!force && in_lease) {
        SHOAL_PROBE("raft.vote_ignored_in_lease");
        return;  // we have a live leader: ignore the disruption
      }
    }
    if (m.type() == raftpb::MSG_PRE_VOTE) {
      // A pre-vote request does not change our term.
    } else if (m.type() == raftpb::MSG_PRE_VOTE_RESP && !m.reject()) {
      // Granted pre-votes carry the future term; ours changes only when we campaign.
    } else if (m.type() == raftpb::MSG_APP || m.type() == raftpb::MSG_HEARTBEAT ||
               m.type() == raftpb::MSG_SNAP) {
      become_follower(m.term(), m.from());
    } else {
      become_follower(m.term(), 0);
    }
  } else if (m.term() < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type() == raftpb::MSG_HEARTBEAT || m.type() == raftpb::MSG_APP)) {
      // A stale leader: tell it our term so it steps down (it may be stuck behind pre-vote).
      raftpb::Message resp;
      resp.set_to(m.from());
      resp.set_type(raftpb::MSG_APP_RESP);
      send(std::move(resp));
    } else if (m.type() == raftpb::MSG_PRE_VOTE) {
      raftpb::Message resp;
      resp.set_to(m.from());
      resp.set_type(raftpb::MSG_PRE_VOTE_RESP);
      resp.set_term(term_);
      resp.set_reject(true);
      send(std::move(resp));
    }
    return;
  }

  if (is_vote(m.type())) {
    handle_vote_request(m);
    return;
  }
  switch (role_) {
    case Role::kLeader: step_leader(m); break;
    case Role::kCandidate:
    case Role::kPreCandidate: step_candidate(m); break;
    case Role::kFollower: step_follower(m); break;
  }
}

void Raft::handle_vote_request(const raftpb::Message& m) {
  bool can_vote = vote_ == m.from() || (vote_ == 0 && lead_ == 0) ||
                  (m.type() == raftpb::MSG_PRE_VOTE && m.term() > term_);
  if (cfg_.bugs.vote_twice_in_term && m.type() == raftpb::MSG_VOTE) can_vote = true;
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(vote_resp_type(m.type()));
  const char* kind = m.type() == raftpb::MSG_VOTE ? "vote" : "pre-vote";
  if (can_vote && log_.is_up_to_date(m.index(), m.log_term())) {
    if (cfg_.log) cfg_.log->debug("raft", "granted {} to {} for term {}", kind, node_id_text(m.from()), m.term());
    // Answer with the request's term so a pre-candidate counts it.
    resp.set_term(m.term());
    send(std::move(resp));
    if (m.type() == raftpb::MSG_VOTE) {
      election_elapsed_ = 0;
      vote_ = m.from();
    }
  } else {
    if (cfg_.log) {
      cfg_.log->debug("raft", "refused {} to {} for term {}: {}", kind, node_id_text(m.from()), m.term(),
                      can_vote ? "its log is behind" : "voted for another, or a leader is known");
    }
    resp.set_term(term_);
    resp.set_reject(true);
    send(std::move(resp));
  }
}

void Raft::step_leader(const raftpb::Message& m) {
  auto it = prs_.find(m.from());
  if (it == prs_.end()) return;  // not a member (any more)
  Progress& pr = it->second;
  switch (m.type()) {
    case raftpb::MSG_APP_RESP: {
      pr.recent_active = true;
      if (m.reject()) {
        if (pr.maybe_decr_to(m.index(), m.reject_hint())) {
          if (cfg_.bugs.probe_ignores_match && pr.state == Progress::State::kProbe) {
            pr.next = std::max<uint64_t>(std::min(m.index(), m.reject_hint() + 1), 1);
          }
          if (pr.state == Progress::State::kReplicate) pr.become_probe();
          send_append(m.from());
        }
        return;
      }
      const bool was_paused = pr.is_paused();
      if (!pr.maybe_update(m.index())) return;
      if (pr.state == Progress::State::kProbe) {
        pr.become_replicate();
      } else if (pr.state == Progress::State::kSnapshot && pr.match >= pr.pending_snapshot) {
        pr.become_probe();
        pr.become_replicate();
      } else if (pr.state == Progress::State::kReplicate) {
        pr.inflights.free_le(m.index());
      }
      if (maybe_commit()) {
        on_commit_advanced();
      } else if (was_paused) {
        send_append(m.from());
      }
      // Fill the pipeline while there is room and something to send.
      while (send_append(m.from(), false)) {
      }
      if (m.from() == lead_transferee_ && pr.match == log_.last_index()) {
        send_timeout_now(m.from());
      }
      return;
    }
    case raftpb::MSG_HEARTBEAT_RESP: {
      pr.recent_active = true;
      pr.probe_sent = false;
      if (pr.state == Progress::State::kSnapshot) pr.become_probe();  // retry if it was lost
      // A full window with the follower alive: let one more append out (etcd's FreeFirstOne).
      if (pr.state == Progress::State::kReplicate && pr.inflights.full()) pr.inflights.free_first_one();
      if (pr.match < log_.last_index()) send_append(m.from());
      if (!m.context().empty()) {
        for (auto& r : pending_reads_) {
          if (r.ctx == m.context()) r.acks.insert(m.from());
        }
        release_reads_acked(m.context());
      }
      return;
    }
    default:
      return;
  }
}

void Raft::step_candidate(const raftpb::Message& m) {
  const auto my_resp =
      role_ == Role::kPreCandidate ? raftpb::MSG_PRE_VOTE_RESP : raftpb::MSG_VOTE_RESP;
  switch (m.type()) {
    case raftpb::MSG_APP:
      become_follower(m.term(), m.from());
      handle_append(m);
      return;
    case raftpb::MSG_HEARTBEAT:
      become_follower(m.term(), m.from());
      handle_heartbeat(m);
      return;
    case raftpb::MSG_SNAP:
      become_follower(m.term(), m.from());
      handle_snapshot(m);
      return;
    default:
      break;
  }
  if (m.type() != my_resp) return;
  auto [yes, no] = poll(m.from(), !m.reject());
  if (yes >= quorum()) {
    if (role_ == Role::kPreCandidate) {
      campaign(CampaignType::kElection);
    } else {
      become_leader();
      bcast_append();
    }
  } else if (no >= quorum()) {
    become_follower(term_, 0);
  }
}

void Raft::step_follower(const raftpb::Message& m) {
  switch (m.type()) {
    case raftpb::MSG_APP:
      election_elapsed_ = 0;
      lead_ = m.from();
      handle_append(m);
      return;
    case raftpb::MSG_HEARTBEAT:
      election_elapsed_ = 0;
      lead_ = m.from();
      handle_heartbeat(m);
      return;
    case raftpb::MSG_SNAP:
      election_elapsed_ = 0;
      lead_ = m.from();
      handle_snapshot(m);
      return;
    case raftpb::MSG_TIMEOUT_NOW:
      // Leadership transfer: campaign at once, skipping pre-vote and the others' lease.
      if (promotable()) {
        SHOAL_PROBE("raft.transfer_campaign");
        campaign(CampaignType::kTransfer);
      }
      return;
    default:
      return;
  }
}

void Raft::handle_append(const raftpb::Message& m) {
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MSG_APP_RESP);
  if (m.index() < log_.committed()) {
    resp.set_index(log_.committed());
    send(std::move(resp));
    return;
  }
  std::vector<raftpb::Entry> ents(m.entries().begin(), m.entries().end());
  if (auto last_new = log_.maybe_append(m.index(), m.log_term(), m.commit(), ents)) {
    resp.set_index(*last_new);
  } else {
    resp.set_index(m.index());
    resp.set_reject(true);
    resp.set_reject_hint(log_.last_index());
  }
  send(std::move(resp));
}

void Raft::handle_heartbeat(const raftpb::Message& m) {
  log_.commit_to(std::min(m.commit(), log_.last_index()));
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MSG_HEARTBEAT_RESP);
  resp.set_context(m.context());
  send(std::move(resp));
}

void Raft::handle_snapshot(const raftpb::Message& m) {
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MSG_APP_RESP);
  resp.set_index(restore(m.snapshot()) ? log_.last_index() : log_.committed());
  send(std::move(resp));
}

bool Raft::restore(const raftpb::Snapshot& s) {
  const auto& md = s.metadata();
  if (md.index() <= log_.committed()) return false;
  if (log_.match_term(md.index(), md.term())) {
    // We already have the entries: fast-forward the commit instead of replacing the log.
    log_.commit_to(md.index());
    return false;
  }
  SHOAL_PROBE("raft.snapshot_installed");
  log_.restore(s);
  apply_conf_state(md.conf_state());
  if (cfg_.log) cfg_.log->info("raft", "restored a snapshot at index {} (term {})", md.index(), md.term());
  return true;
}

// ---- replication ---------------------------------------------------------------------------

void Raft::append_entries(std::vector<raftpb::Entry> entries) {
  uint64_t li = log_.last_index();
  for (auto& e : entries) {
    e.set_term(term_);
    e.set_index(++li);
  }
  log_.append(entries);
  if (cfg_.bugs.self_ack_before_persist) {
    prs_[id_].maybe_update(log_.last_index());
    maybe_commit();
  }
}

bool Raft::maybe_commit() {
  std::vector<uint64_t> matches;
  for (const auto& [id, pr] : prs_) {
    if (!pr.is_learner) matches.push_back(pr.match);
  }
  if (matches.empty()) return false;
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const uint64_t mci = matches[quorum() - 1];
  const bool advanced = log_.maybe_commit(mci, term_, cfg_.bugs.commit_old_term_by_counting);
  if (advanced && committed_entry_in_current_term() && !reads_awaiting_term_commit_.empty()) {
    auto waiting = std::move(reads_awaiting_term_commit_);
    reads_awaiting_term_commit_.clear();
    for (auto& ctx : waiting) serve_read_index(std::move(ctx));
  }
  return advanced;
}

void Raft::on_commit_advanced() { bcast_append(); }

bool Raft::send_append(NodeId to, bool send_if_empty) {
  auto it = prs_.find(to);
  if (it == prs_.end() || to == id_) return false;
  Progress& pr = it->second;
  const bool window_ignored = cfg_.bugs.inflights_ignore_window && pr.state == Progress::State::kReplicate;
  if (pr.is_paused() && !window_ignored) return false;
  raftpb::Message m;
  m.set_to(to);
  auto prev_term = log_.term(pr.next - 1);
  auto ents = log_.entries_from(pr.next, cfg_.max_msg_bytes);
  if (!prev_term || !ents) {
    // The entries this follower needs are compacted away: send the snapshot instead.
    if (!pr.recent_active) return false;
    const raftpb::Snapshot& snap = log_.snapshot();
    m.set_type(raftpb::MSG_SNAP);
    *m.mutable_snapshot() = snap;
    pr.become_snapshot(cfg_.bugs.snapshot_state_forgets_index ? 0 : snap.metadata().index());
    send(std::move(m));
    return true;
  }
  if (ents->empty() && !send_if_empty) return false;
  m.set_type(raftpb::MSG_APP);
  m.set_index(pr.next - 1);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  for (auto& e : *ents) *m.add_entries() = std::move(e);
  if (m.entries_size() > 0) {
    const uint64_t last = m.entries(m.entries_size() - 1).index();
    if (pr.state == Progress::State::kReplicate) {
      pr.next = last + 1;
      pr.inflights.add(last);
    } else {
      pr.probe_sent = true;
    }
  } else if (pr.state == Progress::State::kProbe) {
    pr.probe_sent = true;
  }
  send(std::move(m));
  return true;
}

void Raft::bcast_append() {
  for (const auto& [id, pr] : prs_) {
    if (id != id_) send_append(id);
  }
}

void Raft::bcast_heartbeat(const std::string& ctx) {
  for (const auto& [id, pr] : prs_) {
    if (id == id_) continue;
    raftpb::Message m;
    m.set_to(id);
    m.set_type(raftpb::MSG_HEARTBEAT);
    // Never tell a follower to commit beyond what it is known to hold.
    m.set_commit(std::min(pr.match, log_.committed()));
    m.set_context(ctx);
    send(std::move(m));
  }
}

void Raft::send(raftpb::Message m) {
  m.set_from(id_);
  if (m.type() != raftpb::MSG_VOTE && m.type() != raftpb::MSG_PRE_VOTE &&
      m.type() != raftpb::MSG_VOTE_RESP && m.type() != raftpb::MSG_PRE_VOTE_RESP) {
    m.set_term(term_);
  }
  msgs_.push_back(std::move(m));
}

void Raft::send_timeout_now(NodeId to) {
  raftpb::Message m;
  m.set_to(to);
  m.set_type(raftpb::MSG_TIMEOUT_NOW);
  send(std::move(m));
}

// ---- requests ------------------------------------------------------------------------------

Result<uint64_t> Raft::propose(std::string data) {
  if (role_ != Role::kLeader) return Status::not_leader("not the leader");
  if (lead_transferee_ != 0) return Status::busy("leadership transfer in progress");
  raftpb::Entry e;
  e.set_data(std::move(data));
  append_entries({std::move(e)});
  bcast_append();
  return log_.last_index();
}

Result<uint64_t> Raft::propose_conf_change(const raftpb::ConfChange& cc) {
  if (role_ != Role::kLeader) return Status::not_leader("not the leader");
  if (lead_transferee_ != 0) return Status::busy("leadership transfer in progress");
  if (pending_conf_index_ > log_.applied()) {
    return Status::busy("a membership change is still being applied");
  }
  raftpb::Entry e;
  e.set_type(raftpb::ENTRY_CONF_CHANGE);
  e.set_data(cc.SerializeAsString());
  append_entries({std::move(e)});
  pending_conf_index_ = log_.last_index();
  bcast_append();
  return log_.last_index();
}

raftpb::ConfState Raft::apply_conf_change(const raftpb::ConfChange& cc) {
  const NodeId id = cc.node_id();
  switch (cc.type()) {
    case raftpb::CONF_ADD_NODE: {
      auto it = prs_.find(id);
      if (it != prs_.end()) {
        if (it->second.is_learner) SHOAL_PROBE("raft.learner_promoted");
        it->second.is_learner = false;  // promotion
        // A new voter gets a full check-quorum round to answer before it can cost the leader
        // its quorum (as etcd marks added members recently active).
        it->second.recent_active = true;
      } else {
        prs_[id] = Progress{.next = log_.last_index() + 1, .recent_active = true,
                            .inflights = Inflights(cfg_.max_inflight)};
      }
      break;
    }
    case raftpb::CONF_ADD_LEARNER_NODE:
      if (prs_.find(id) == prs_.end()) {
        prs_[id] = Progress{.next = log_.last_index() + 1, .is_learner = true,
                            .inflights = Inflights(cfg_.max_inflight)};
      }
      break;
    case raftpb::CONF_REMOVE_NODE:
      prs_.erase(id);
      if (id == lead_transferee_) abort_leader_transfer();
      break;
    default:
      break;
  }
  if (cfg_.log) {
    static constexpr const char* kChanges[] = {"added voter", "removed", "added learner"};
    cfg_.log->info("raft", "membership: {} {}", kChanges[std::min<int>(cc.type(), 2)], node_id_text(id));
  }
  if (role_ == Role::kLeader) {
    if (!is_voter(id_)) {
      // A leader removed from the configuration steps down; the others elect a new one.
      if (cfg_.log) cfg_.log->info("raft", "stepping down: no longer a voter");
      become_follower(term_, 0);
    } else if (maybe_commit()) {
      on_commit_advanced();
    } else {
      bcast_append();
    }
  }
  return conf_state();
}

Status Raft::read_index(std::string request_ctx) {
  if (role_ != Role::kLeader) return Status::not_leader("not the leader");
  if (!committed_entry_in_current_term() && !cfg_.bugs.read_index_before_own_term_commit) {
    // Our commit index may lag the last leader's until we commit an entry of our own term.
    reads_awaiting_term_commit_.push_back(std::move(request_ctx));
    return {};
  }
  serve_read_index(std::move(request_ctx));
  return {};
}

void Raft::serve_read_index(std::string ctx) {
  if (quorum() == 1) {
    read_states_.push_back({log_.committed(), std::move(ctx)});
    return;
  }
  pending_reads_.push_back({ctx, log_.committed(), {id_}});
  bcast_heartbeat(ctx);
}

void Raft::release_reads_acked(const std::string& ctx) {
  auto it = std::find_if(pending_reads_.begin(), pending_reads_.end(),
                         [&](const ReadIndexStatus& r) { return r.ctx == ctx; });
  if (it == pending_reads_.end()) return;
  size_t acks = 0;
  for (NodeId a : it->acks) acks += is_voter(a) ? 1 : 0;
  if (acks < quorum()) return;
  // A quorum confirmed our leadership after this request arrived, so it and every request
  // queued before it are safe.
  const auto end = std::next(it);
  SHOAL_PROBE("raft.read_index_served");
  for (auto r = pending_reads_.begin(); r != end; ++r) {
    read_states_.push_back({r->index, std::move(r->ctx)});
  }
  pending_reads_.erase(pending_reads_.begin(), end);
}

bool Raft::committed_entry_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

Status Raft::transfer_leadership(NodeId target) {
  if (role_ != Role::kLeader) return Status::not_leader("not the leader");
  if (target == id_) return Status::invalid_argument("already the leader");
  if (!is_voter(target)) return Status::invalid_argument("transfer target is not a voter");
  if (lead_transferee_ == target) return {};
  lead_transferee_ = target;
  if (cfg_.log) cfg_.log->info("raft", "transferring leadership to {}", node_id_text(target));
  election_elapsed_ = 0;  // the transfer must finish within an election timeout
  if (prs_[target].match == log_.last_index()) {
    send_timeout_now(target);
  } else {
    send_append(target);
  }
  return {};
}

// ---- ready ---------------------------------------------------------------------------------

bool Raft::has_ready() const {
  const SoftState soft{lead_, role_};
  if (!(soft == prev_soft_)) return true;
  if (term_ != prev_hard_.term() || vote_ != prev_hard_.vote() ||
      log_.committed() != prev_hard_.commit()) {
    return true;
  }
  return !log_.unstable_entries().empty() || log_.unstable_snapshot() || !msgs_.empty() ||
         log_.has_next_committed() || !read_states_.empty();
}

Ready Raft::ready() {
  Ready rd;
  const SoftState soft{lead_, role_};
  if (!(soft == prev_soft_)) {
    rd.soft_state = soft;
    prev_soft_ = soft;
  }
  if (term_ != prev_hard_.term() || vote_ != prev_hard_.vote() ||
      log_.committed() != prev_hard_.commit()) {
    raftpb::HardState hs;
    hs.set_term(term_);
    hs.set_vote(vote_);
    hs.set_commit(log_.committed());
    rd.hard_state = hs;
    rd.hard_state_must_sync = term_ != prev_hard_.term() || vote_ != prev_hard_.vote();
    prev_hard_ = hs;
  }
  rd.entries = log_.unstable_entries();
  if (log_.unstable_snapshot()) {
    rd.snapshot = *log_.unstable_snapshot();
    log_.applied_to_snapshot(rd.snapshot->metadata().index());
  }
  rd.committed_entries = log_.next_committed(cfg_.max_msg_bytes);
  if (!rd.committed_entries.empty()) log_.applied_to(rd.committed_entries.back().index());
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  return rd;
}

void Raft::advance(const Ready& rd) {
  if (rd.snapshot) log_.stable_snap_to(rd.snapshot->metadata().index());
  if (!rd.entries.empty()) log_.stable_to(rd.entries.back().index(), rd.entries.back().term());
  if (role_ == Role::kLeader && prs_.count(id_)) {
    // The leader counts its own log toward a quorum only once it is durable.
    if (prs_[id_].maybe_update(log_.last_stable_index()) && maybe_commit()) on_commit_advanced();
  }
}

// ---- invariants ----------------------------------------------------------------------------

void Raft::check_invariants() const {
  SHOAL_CHECK(log_.applied() <= log_.committed(), "applied %lu > committed %lu", log_.applied(),
              log_.committed());
  SHOAL_CHECK(log_.committed() <= log_.last_index(), "committed %lu > last %lu", log_.committed(),
              log_.last_index());
  if (role_ == Role::kLeader) {
    SHOAL_CHECK(lead_ == id_, "leader %lu believes %lu leads", id_, lead_);
    SHOAL_CHECK(vote_ == id_ || term_ == 0 || cfg_.bugs.vote_twice_in_term,
                "leader %lu of term %lu voted for %lu", id_, term_, vote_);
  }
  if (role_ == Role::kCandidate) {
    SHOAL_CHECK(vote_ == id_ || cfg_.bugs.vote_twice_in_term, "candidate did not vote for itself");
  }
  if (role_ == Role::kLeader) {
    for (const auto& [peer, pr] : prs_) {
      SHOAL_CHECK(pr.match < pr.next, "leader %lu: peer %lu has match %lu but next %lu", id_, peer, pr.match, pr.next);
      SHOAL_CHECK(pr.state != Progress::State::kSnapshot || pr.pending_snapshot > 0,
                  "leader %lu: peer %lu waits for a snapshot of no index", id_, peer);
      SHOAL_CHECK(pr.inflights.count() <= pr.inflights.capacity(), "leader %lu: %zu appends in flight to %lu, window %zu",
                  id_, pr.inflights.count(), peer, pr.inflights.capacity());
    }
  }
  SHOAL_CHECK(term_ >= checked_.term, "peer %lu: term went back from %lu to %lu", id_, checked_.term, term_);
  SHOAL_CHECK(log_.committed() >= checked_.committed, "peer %lu: commit went back from %lu to %lu", id_,
              checked_.committed, log_.committed());
  checked_ = Checked{term_, log_.committed()};
}

}  // namespace shoal::raft
