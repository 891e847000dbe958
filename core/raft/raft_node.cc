#include "core/raft/raft_node.h"

#include <algorithm>

#include <string>

#include "core/env/check.h"
#include "core/env/probe.h"
#include "core/raft/bootstrap.h"

namespace shoal::raft {

namespace {

const std::string kHardStateKey = "raft/hardstate";
const std::string kSnapshotKey = "raft/snapshot";
const std::string kEntryPrefix = "raft/e/";
const std::string kEntryEnd = "raft/e0";  // '0' sorts just after '/': past every entry key

// "raft/e/" + the index as 8 big-endian bytes, so keys sort in index order and compare fast.
std::string entry_key(uint64_t index) {
  std::string key = kEntryPrefix;
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((index >> shift) & 0xff));
  return key;
}

}  // namespace

RaftNode::RaftNode(Env& env, RaftNodeOptions options, StateMachine& sm, RaftNodeEvents events)
    : env_(env), opts_(std::move(options)), sm_(sm), events_(std::move(events)) {
  opts_.raft.max_inflight = std::max<size_t>(opts_.raft.max_inflight, 1);
  if (!opts_.raft.log) opts_.raft.log = &env_.log;
  status_ = load();
  restarted_ = storage_.hard_state().term() > 0;
  // The bootstrap is complete once its hard state (written last) says its entries are committed;
  // a crash may have kept only part of it (a torn write), and then it is written again.
  const bool fresh = !opts_.bootstrap_voters.empty() && storage_.snapshot().metadata().index() == 0 &&
                     storage_.hard_state().commit() < opts_.bootstrap_voters.size();
  if (status_.ok() && fresh) bootstrap_log();
  if (status_.ok() && !fresh && opts_.force_new_cluster) force_standalone();
  // A fresh stream per start: a restarted node must not replay its old election timeouts.
  raft_ = std::make_unique<Raft>(opts_.raft, storage_, Rng(env_.rng.next_u64()));
  if (!status_.ok()) return;  // a node with corrupt state does nothing at all
  if (fresh) raft_->bootstrap(opts_.bootstrap_voters);
  applied_ = storage_.snapshot().metadata().index();
  env_.transport.set_handler(
      [this](const PeerIdentity& from, std::string_view payload) { on_message(from, payload); });
  tick_timer_ = env_.timers.after(opts_.tick_interval, [this] { on_tick(); });
}

RaftNode::~RaftNode() {
  *alive_ = false;
  env_.timers.cancel(tick_timer_);
  if (pump_timer_ != 0) env_.timers.cancel(pump_timer_);
  env_.transport.set_handler(nullptr);
}

// A new cluster's first configuration goes into the log itself, as committed conf-change
// entries of term 1 (as etcd does), so a node added later learns it by replaying the log.
void RaftNode::bootstrap_log() {
  const std::vector<raftpb::Entry> entries = bootstrap_log_entries(opts_.bootstrap_voters);
  raftpb::HardState hs;
  hs.set_term(1);
  hs.set_commit(entries.size());
  storage_.append(entries);
  storage_.set_hard_state(hs);
  // Not synced here: a crash before the first sync simply bootstraps the same log again.
  for (const auto& e : entries) env_.disk.put(entry_key(e.index()), e.SerializeAsString());
  env_.disk.put(kHardStateKey, hs.SerializeAsString());
}

void RaftNode::force_standalone() {
  // The membership as of the commit index: the snapshot's, then each committed conf change.
  const raftpb::SnapshotMetadata& meta = storage_.snapshot().metadata();
  std::set<NodeId> members(meta.conf_state().voters().begin(), meta.conf_state().voters().end());
  members.insert(meta.conf_state().learners().begin(), meta.conf_state().learners().end());
  raftpb::HardState hs = storage_.hard_state();
  const uint64_t commit = hs.commit();
  std::vector<raftpb::Entry> kept;
  const uint64_t last_kept = std::min(commit, storage_.last_index());
  if (last_kept >= storage_.first_index()) {
    auto got = storage_.entries(storage_.first_index(), last_kept + 1, UINT64_MAX);
    if (got.ok()) kept = std::move(*got);
  }
  for (const raftpb::Entry& e : kept) {
    if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
      raftpb::ConfChange cc;
      if (cc.ParseFromString(e.data())) {
        if (cc.type() == raftpb::CONF_REMOVE_NODE) members.erase(cc.node_id());
        else members.insert(cc.node_id());
      }
    }
  }
  // Entries past the commit index were never acknowledged to a client: they go.
  env_.disk.erase_range(entry_key(commit + 1), kEntryEnd);
  const uint64_t term = std::max<uint64_t>(hs.term(), 1);
  uint64_t index = commit;
  std::vector<raftpb::Entry> removals;
  // This node becomes a voter (it may have been a learner still catching up), then every other
  // member goes.
  std::vector<std::pair<raftpb::ConfChangeType, NodeId>> changes = {{raftpb::CONF_ADD_NODE, opts_.raft.id}};
  for (NodeId m : members) {
    if (m != opts_.raft.id) changes.emplace_back(raftpb::CONF_REMOVE_NODE, m);
  }
  for (const auto& [type, m] : changes) {
    raftpb::ConfChange cc;
    cc.set_type(type);
    cc.set_node_id(m);
    raftpb::Entry e;
    e.set_term(term);
    e.set_index(++index);
    e.set_type(raftpb::ENTRY_CONF_CHANGE);
    e.set_data(cc.SerializeAsString());
    env_.disk.put(entry_key(e.index()), e.SerializeAsString());
    removals.push_back(std::move(e));
  }
  hs.set_term(term);
  hs.set_commit(index);
  env_.disk.put(kHardStateKey, hs.SerializeAsString());
  // Rebuild the in-memory log: the committed prefix, then the removals.
  Storage rebuilt;
  rebuilt.apply_snapshot(storage_.snapshot());
  rebuilt.append(kept);
  rebuilt.append(removals);
  rebuilt.set_hard_state(hs);
  storage_ = std::move(rebuilt);
}

void RaftNode::forget_log(Disk& disk) {
  raftpb::HardState kept;
  if (auto hs = disk.get(kHardStateKey); hs && kept.ParseFromString(*hs)) kept.set_commit(0);
  disk.erase_range("raft/", "raft0");
  if (kept.term() > 0) disk.put(kHardStateKey, kept.SerializeAsString());
}

Status RaftNode::load() {
  if (auto hs = env_.disk.get(kHardStateKey)) {
    raftpb::HardState parsed;
    if (!parsed.ParseFromString(*hs)) return Status::corruption("raft hard state is unreadable");
    storage_.set_hard_state(parsed);
  }
  if (auto snap = env_.disk.get(kSnapshotKey)) {
    raftpb::Snapshot parsed;
    if (!parsed.ParseFromString(*snap)) return Status::corruption("raft snapshot is unreadable");
    storage_.apply_snapshot(parsed);
    sm_.restore(parsed.data());
    if (parsed.metadata().index() > 0) SHOAL_PROBE("raft.restart_from_snapshot");
  }
  std::vector<raftpb::Entry> entries;
  Status bad;
  env_.disk.scan(kEntryPrefix, kEntryEnd, [&](std::string_view key, std::string_view value) {
    raftpb::Entry e;
    if (!e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      bad = Status::corruption("raft entry " + std::string(key) + " is unreadable");
      return false;
    }
    const uint64_t first = storage_.first_index();
    if (e.index() < first) return true;  // compacted into the snapshot
    const uint64_t expected = entries.empty() ? first : entries.back().index() + 1;
    if (e.index() != expected) return false;  // a torn tail: keep the contiguous prefix
    entries.push_back(std::move(e));
    return true;
  });
  if (!bad.ok()) return bad;
  storage_.append(entries);
  // The hard state's commit can never exceed what the log holds (it is written after entries).
  if (storage_.hard_state().commit() > storage_.last_index()) {
    auto hs = storage_.hard_state();
    hs.set_commit(storage_.last_index());
    storage_.set_hard_state(hs);
  }
  return {};
}

// Structural checks a well-behaved peer always passes; anything else is dropped, not stepped.
Status RaftNode::validate(const raftpb::Message& m) {
  if (m.type() == raftpb::MSG_NONE || !raftpb::MessageType_IsValid(m.type())) {
    return Status::invalid_argument("raft message of unknown type");
  }
  uint64_t expected = m.index() + 1;
  uint64_t prev_term = m.log_term();
  for (const auto& e : m.entries()) {
    if (e.index() != expected++ || e.term() < prev_term || e.term() > m.term()) {
      return Status::invalid_argument("raft append whose entries do not follow on");
    }
    prev_term = e.term();
  }
  if (m.type() == raftpb::MSG_SNAP && m.snapshot().metadata().index() == 0) {
    return Status::invalid_argument("raft snapshot message without a snapshot");
  }
  return {};
}

// ---- inputs --------------------------------------------------------------------------------

void RaftNode::on_message(const PeerIdentity& from, std::string_view payload) {
  // One message object, reused: parsing into it recycles its entries' memory.
  raftpb::Message& m = incoming_;
  if (!m.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    ++bad_messages_;
    if (events_.on_bad_message) events_.on_bad_message("unparsable raft message");
    return;
  }
  if (m.from() != from.node_id || m.to() != raft_->id()) {
    ++bad_messages_;
    if (events_.on_bad_message) events_.on_bad_message("raft message with a forged sender");
    return;
  }
  // A removed member may not know it yet; it must not disturb us (as etcd's transport does).
  if (removed_.count(m.from())) {
    ++bad_messages_;
    if (events_.on_bad_message) events_.on_bad_message("raft message from a removed member");
    return;
  }
  if (Status s = validate(m); !s.ok()) {
    ++bad_messages_;
    if (events_.on_bad_message) events_.on_bad_message(s.message());
    return;
  }
  raft_->step(m);
  pump_soon();
}

// A leader's appends for a follower leave together and arrive in one read, but the transport
// hands them over one by one: pumping at the first would persist it alone, with a sync of its
// own, and the rest with another. Stepping all of them first and taking one Ready at the end of
// this turn of the loop persists them with one sync.
void RaftNode::pump_soon() {
  if (pump_timer_ != 0) return;
  pump_timer_ = env_.timers.after(Duration{0}, [this] {
    pump_timer_ = 0;
    pump();
  });
}

void RaftNode::on_tick() {
  tick_timer_ = env_.timers.after(opts_.tick_interval, [this] { on_tick(); });
  raft_->tick();
  maybe_promote_learners();
  pump();
}

void RaftNode::propose(std::string data, ProposeDone done) {
  if (!status_.ok()) return done(status_, 0);
  auto index = raft_->propose(std::move(data));
  if (!index.ok()) return done(index.status(), 0);
  proposals_[*index] = {raft_->term(), std::move(done)};
  pump();
}

void RaftNode::read(ReadDone done) {
  if (!status_.ok()) return done(status_, 0);
  std::string ctx = std::to_string(raft_->id()) + "/" + std::to_string(next_read_id_++);
  Status s = raft_->read_index(ctx);
  if (!s.ok()) return done(s, 0);
  reads_waiting_quorum_[ctx] = std::move(done);
  pump();
}

Status RaftNode::propose_conf_change(raftpb::ConfChangeType type, NodeId node) {
  raftpb::ConfChange cc;
  cc.set_type(type);
  cc.set_node_id(node);
  auto index = raft_->propose_conf_change(cc);
  pump();
  return index.status();
}

Status RaftNode::transfer_leadership(NodeId target) {
  Status s = raft_->transfer_leadership(target);
  pump();
  return s;
}

void RaftNode::campaign_now() {
  raft_->campaign_now();
  pump();
}

// ---- the Ready loop ------------------------------------------------------------------------

void RaftNode::pump() {
  // Callbacks run inside handle_ready (a proposal's done, an apply) may propose again, which
  // calls pump(): taking a second Ready before the first is advanced would persist entries out
  // of order. The outer loop picks up whatever such a callback added.
  if (pumping_) return;
  pumping_ = true;
  while (status_.ok() && !persisting_ && raft_->has_ready()) handle_ready(raft_->ready());
  pumping_ = false;
}

void RaftNode::handle_ready(Ready rd) {
  if (rd.soft_state) {
    if (rd.soft_state->role != Role::kLeader) fail_pending(Status::not_leader("lost leadership"));
    if (events_.on_soft_state) events_.on_soft_state(raft_->term(), rd.soft_state->role, rd.soft_state->leader);
  }
  // Committed entries are durable on a quorum: apply them now, in parallel with our own write.
  if (rd.snapshot) apply_snapshot(*rd.snapshot);
  apply_committed(rd.committed_entries);
  for (auto& rs : rd.read_states) {
    auto it = reads_waiting_quorum_.find(rs.request_ctx);
    if (it == reads_waiting_quorum_.end()) continue;
    reads_waiting_apply_.emplace(rs.index, std::move(it->second));
    reads_waiting_quorum_.erase(it);
  }
  serve_reads();

  if (!rd.must_sync()) {
    // At most a changed commit index: written but not synced; the next sync makes it durable.
    if (rd.hard_state) {
      env_.disk.put(kHardStateKey, rd.hard_state->SerializeAsString());
      storage_.set_hard_state(*rd.hard_state);
    }
    send_messages(rd.messages);
    raft_->advance(rd);
    return;
  }
  // A leader's appends and heartbeats may leave before its own write is durable (Raft thesis
  // 10.2.1, as etcd does): the leader counts itself toward a quorum only after the sync, so the
  // followers' writes overlap with ours instead of following them. Everything else (votes,
  // acknowledgements) waits for the sync.
  if (opts_.raft.bugs.ack_before_sync) {
    send_messages(rd.messages);  // planted bug: every message, acknowledgements included
  } else {
    send_leader_messages_early(rd.messages);
  }
  persist(rd);
  persisting_ = true;
  auto shared = std::make_shared<Ready>(std::move(rd));
  std::weak_ptr<bool> alive = alive_;
  env_.disk.sync([this, alive, shared](Status s) {
    if (alive.expired() || !*alive.lock()) return;
    SHOAL_CHECK(s.ok(), "raft log sync failed: %s", s.to_string().c_str());
    after_sync(*shared);
  });
}

void RaftNode::persist(const Ready& rd) {
  if (rd.snapshot) {
    env_.disk.put(kSnapshotKey, rd.snapshot->SerializeAsString());
    env_.disk.erase_range(kEntryPrefix, entry_key(rd.snapshot->metadata().index() + 1));
  }
  if (!rd.entries.empty()) {
    // Entries replacing a conflicting suffix: drop the old suffix first.
    if (rd.entries.front().index() <= storage_.last_index()) {
      env_.disk.erase_range(entry_key(rd.entries.front().index()), kEntryEnd);
    }
  }
  // The entries, then the hard state, as one write.
  std::vector<std::pair<std::string, std::string>> puts;
  puts.reserve(rd.entries.size() + 1);
  for (const auto& e : rd.entries) puts.emplace_back(entry_key(e.index()), e.SerializeAsString());
  if (rd.hard_state) puts.emplace_back(kHardStateKey, rd.hard_state->SerializeAsString());
  env_.disk.put_all(std::move(puts));
}

void RaftNode::after_sync(Ready& rd) {
  persisting_ = false;
  if (rd.snapshot) storage_.apply_snapshot(*rd.snapshot);
  storage_.append(rd.entries);
  if (rd.hard_state) {
    storage_.set_hard_state(*rd.hard_state);
    if (events_.on_hard_state_synced) events_.on_hard_state_synced(*rd.hard_state);
  }
  if (!opts_.raft.bugs.ack_before_sync) send_messages(rd.messages);
  raft_->advance(rd);
  maybe_snapshot();
  pump();
}

void RaftNode::send_messages(std::vector<raftpb::Message>& msgs) {
  for (auto& m : msgs) env_.transport.send(m.to(), m.SerializeAsString());
}

void RaftNode::send_leader_messages_early(std::vector<raftpb::Message>& msgs) {
  auto leader_only = [](const raftpb::Message& m) {
    return m.type() == raftpb::MSG_APP || m.type() == raftpb::MSG_HEARTBEAT;
  };
  auto rest = std::stable_partition(msgs.begin(), msgs.end(), [&](const auto& m) { return !leader_only(m); });
  for (auto it = rest; it != msgs.end(); ++it) env_.transport.send(it->to(), it->SerializeAsString());
  msgs.erase(rest, msgs.end());
}

// ---- applying ------------------------------------------------------------------------------

void RaftNode::apply_snapshot(const raftpb::Snapshot& snap) {
  if (restarted_) SHOAL_PROBE("raft.snapshot_after_crash");
  sm_.restore(snap.data());
  applied_ = snap.metadata().index();
  if (events_.on_snapshot_restored) events_.on_snapshot_restored(snap.metadata());
  // Proposals at or below the snapshot can no longer be matched to their entries.
  while (!proposals_.empty() && proposals_.begin()->first <= applied_) {
    auto done = std::move(proposals_.begin()->second.done);
    proposals_.erase(proposals_.begin());
    done(Status::aborted("outcome unknown: replaced by a snapshot"), 0);
  }
}

void RaftNode::apply_committed(const std::vector<raftpb::Entry>& entries) {
  for (const auto& e : entries) {
    if (e.index() <= applied_) continue;
    SHOAL_CHECK(e.index() == applied_ + 1, "applying %lu after %lu", e.index(), applied_);
    applied_ = e.index();
    if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
      raftpb::ConfChange cc;
      if (cc.ParseFromString(e.data())) {
        raft_->apply_conf_change(cc);
        if (cc.type() == raftpb::CONF_REMOVE_NODE) removed_.insert(cc.node_id());
        SHOAL_PROBE("raft.conf_change_applied");
        if (events_.on_conf_change) events_.on_conf_change(cc);
      }
    } else if (!e.data().empty()) {
      sm_.apply(e);
    }
    if (events_.on_apply) events_.on_apply(e);
    auto it = proposals_.find(e.index());
    if (it != proposals_.end()) {
      auto p = std::move(it->second);
      proposals_.erase(it);
      if (p.term == e.term()) {
        p.done({}, e.index());
      } else {
        p.done(Status::aborted("another leader's entry took its place"), 0);
      }
    }
  }
}

void RaftNode::serve_reads() {
  while (!reads_waiting_apply_.empty() && reads_waiting_apply_.begin()->first <= applied_) {
    auto node = reads_waiting_apply_.extract(reads_waiting_apply_.begin());
    node.mapped()({}, node.key());
  }
}

void RaftNode::fail_pending(Status why) {
  auto quorum_reads = std::move(reads_waiting_quorum_);
  reads_waiting_quorum_.clear();
  for (auto& [ctx, done] : quorum_reads) done(why, 0);
  // Proposals too, as etcd answers "leader changed": an entry this node appended as leader may
  // be replaced, and if the log never again reaches its index (a leader that appended while cut
  // off, then a quiet cluster) its callback would wait for ever, and with it whatever waits on it
  // (the dispatcher's one write per node in flight left a restarted node down for good). The
  // entry may still commit; the caller learns only that it does not know.
  auto proposals = std::move(proposals_);
  proposals_.clear();
  for (auto& [index, p] : proposals) p.done(Status::aborted("outcome unknown: this node lost leadership"), 0);
}

void RaftNode::maybe_snapshot() {
  if (opts_.snapshot_every == 0) return;
  const uint64_t snap_index = storage_.snapshot().metadata().index();
  // The state machine is at applied_; snapshot only what our own log also holds durably.
  if (applied_ < snap_index + opts_.snapshot_every || applied_ > storage_.last_index()) return;
  storage_.create_snapshot(applied_, raft_->conf_state(), sm_.snapshot());
  const uint64_t compact_to =
      applied_ > opts_.keep_behind_snapshot ? applied_ - opts_.keep_behind_snapshot : 0;
  storage_.compact(std::max(compact_to, storage_.first_index() - 1));
  SHOAL_PROBE("raft.log_compacted");
  // Written ahead of the next sync; losing it in a crash only means replaying more log.
  env_.disk.put(kSnapshotKey, storage_.snapshot().SerializeAsString());
  env_.disk.erase_range(kEntryPrefix, entry_key(storage_.first_index()));
}

void RaftNode::maybe_promote_learners() {
  if (!opts_.auto_promote_learners || raft_->role() != Role::kLeader) return;
  if (raft_->pending_conf_index() > raft_->log().applied()) return;
  const auto cs = raft_->conf_state();
  for (NodeId learner : cs.learners()) {
    const Progress* pr = raft_->progress(learner);
    // Only a learner that has answered (match > 0) and caught up; promoting a silent one would
    // put a member that may never answer into the quorum.
    if (pr && pr->match > 0 && pr->match + opts_.promote_lag >= raft_->log().last_index()) {
      propose_conf_change(raftpb::CONF_ADD_NODE, learner).ignore();
      return;  // one change at a time
    }
  }
}

}  // namespace shoal::raft
