// Golden transcripts of Raft, after etcd-io/raft's interaction tests: each file under
// testdata/raft/ is a script of commands (tests/datadriven/datadriven.h) whose output — the
// peers' Log records and every message delivered — is checked in, so a test fails when a
// decision changes. Rewrite the expectations with SHOAL_REWRITE=1 and read the diff.
//
// The cluster is a RaftTestNetwork (raft_test_network.h) bootstrapped as RaftNode does it
// (committed conf-change entries of term 1), each peer logging to the transcript. Nothing
// moves between commands unless a command says so: ticks and requests only queue messages;
// `stabilize` delivers them.
//
// Commands (ids are 1, 2, ...):
//   add-nodes <n> [election-tick=5] [pre-vote=true] [check-quorum=true] [seed=1]
//       The first call founds a cluster of n voters; later calls add n blank peers (no
//       configuration: new members that wait to hear from the leader).
//   campaign <id>                 start an election now (pre-vote first when enabled)
//   tick <id> [<count>]           tick the peer count times (default 1)
//   tick-election <id>            tick a follower until its election timer fires (at most
//                                 2 * election-tick ticks), a leader election-tick times (one
//                                 check-quorum round); stops early when role, term or leader change
//   stabilize                     rounds until quiet: handle every peer's Ready (printing what it
//                                 applies), then deliver the messages they sent, in order,
//                                 printing each (and "dropped" for those a partition eats)
//   propose <id> <data>           a normal entry; prints its index or the error
//   propose-conf-change <id> (add-voter=<n>|add-learner=<n>|remove=<n>)
//   transfer-leader <from> <to>
//   partition <id>...             cut the listed peers off from all the others
//   heal                          remove every partition
//   status [<id>]                 role, term, vote, commit, applied, last index, members; a
//                                 leader's view of each follower
//   raft-log <id>                 the entries the peer has made durable
//   log-level debug|info|warn|error|off
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/raft/raft.h"
#include "tests/core/manual_env.h"
#include "tests/core/raft/raft_test_network.h"
#include "tests/datadriven/datadriven.h"
#include "tests/datadriven/transcript_log_sink.h"

namespace shoal::raft {
namespace {

using datadriven::TestCase;
using testnet::RaftTestNetwork;

const char* message_name(raftpb::MessageType t) {
  switch (t) {
    case raftpb::MSG_APP: return "MsgApp";
    case raftpb::MSG_APP_RESP: return "MsgAppResp";
    case raftpb::MSG_VOTE: return "MsgVote";
    case raftpb::MSG_VOTE_RESP: return "MsgVoteResp";
    case raftpb::MSG_PRE_VOTE: return "MsgPreVote";
    case raftpb::MSG_PRE_VOTE_RESP: return "MsgPreVoteResp";
    case raftpb::MSG_SNAP: return "MsgSnap";
    case raftpb::MSG_HEARTBEAT: return "MsgHeartbeat";
    case raftpb::MSG_HEARTBEAT_RESP: return "MsgHeartbeatResp";
    case raftpb::MSG_TIMEOUT_NOW: return "MsgTimeoutNow";
    case raftpb::MSG_PROP: return "MsgProp";
    default: return "MsgNone";
  }
}

const char* conf_change_name(raftpb::ConfChangeType t) {
  switch (t) {
    case raftpb::CONF_ADD_NODE: return "add-voter";
    case raftpb::CONF_REMOVE_NODE: return "remove";
    case raftpb::CONF_ADD_LEARNER_NODE: return "add-learner";
    default: return "?";
  }
}

std::string ids_text(const google::protobuf::RepeatedField<uint64_t>& ids) {
  std::string out = "(";
  for (int i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + ")";
}

// "term/index" and what the entry holds: "2/4 \"x\"", "2/5 conf add-voter 4".
std::string entry_text(const raftpb::Entry& e) {
  std::string out = std::to_string(e.term()) + "/" + std::to_string(e.index());
  if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
    raftpb::ConfChange cc;
    if (!cc.ParseFromString(e.data())) return out + " conf (unreadable)";
    return out + " conf " + conf_change_name(cc.type()) + " " + std::to_string(cc.node_id());
  }
  return out + " \"" + e.data() + "\"";
}

// One line per message, in etcd's interaction-test style:
// "1->2 MsgApp Term:2 Log:1/3 Commit:3 Entries:[2/4 \"x\"]".
std::string message_text(const raftpb::Message& m) {
  std::string out = std::to_string(m.from()) + "->" + std::to_string(m.to()) + " " + message_name(m.type()) +
                    " Term:" + std::to_string(m.term());
  const std::string log = " Log:" + std::to_string(m.log_term()) + "/" + std::to_string(m.index());
  switch (m.type()) {
    case raftpb::MSG_VOTE:
    case raftpb::MSG_PRE_VOTE:
      out += log;
      if (!m.context().empty()) out += " Context:" + m.context();
      break;
    case raftpb::MSG_VOTE_RESP:
    case raftpb::MSG_PRE_VOTE_RESP:
      if (m.reject()) out += " Rejected";
      break;
    case raftpb::MSG_APP: {
      out += log + " Commit:" + std::to_string(m.commit());
      if (m.entries_size() > 0) {
        out += " Entries:[";
        for (int i = 0; i < m.entries_size(); ++i) out += (i ? ", " : "") + entry_text(m.entries(i));
        out += "]";
      }
      break;
    }
    case raftpb::MSG_APP_RESP:
      out += " Index:" + std::to_string(m.index());
      if (m.reject()) out += " Rejected Hint:" + std::to_string(m.reject_hint());
      break;
    case raftpb::MSG_HEARTBEAT:
      out += " Commit:" + std::to_string(m.commit());
      if (!m.context().empty()) out += " Context:" + m.context();
      break;
    case raftpb::MSG_HEARTBEAT_RESP:
      if (!m.context().empty()) out += " Context:" + m.context();
      break;
    case raftpb::MSG_SNAP: {
      const auto& md = m.snapshot().metadata();
      out += " Snapshot:" + std::to_string(md.term()) + "/" + std::to_string(md.index()) +
             " Voters:" + ids_text(md.conf_state().voters()) + " Learners:" + ids_text(md.conf_state().learners());
      break;
    }
    default: break;
  }
  return out;
}

class RaftGoldenHarness {
 public:
  std::string handle(const TestCase& tc) {
    out_.clear();
    if (tc.cmd == "add-nodes") {
      add_nodes(tc);
    } else if (tc.cmd == "log-level") {
      auto level = parse_log_level(tc.positional().empty() ? "" : tc.positional()[0]);
      if (!level) {
        tc.fail("want debug, info, warn, error or off");
      } else {
        sink_.set_level(*level);
      }
    } else if (!net_) {
      tc.fail("add-nodes first");
    } else if (tc.cmd == "campaign") {
      if (auto id = peer_arg(tc, 0)) raft(*id).campaign_now();
    } else if (tc.cmd == "tick") {
      if (auto id = peer_arg(tc, 0)) {
        const auto pos = tc.positional();
        const int count = pos.size() > 1 ? std::stoi(pos[1]) : 1;
        for (int i = 0; i < count; ++i) raft(*id).tick();
      }
    } else if (tc.cmd == "tick-election") {
      if (auto id = peer_arg(tc, 0)) tick_election(*id);
    } else if (tc.cmd == "stabilize") {
      stabilize();
    } else if (tc.cmd == "propose") {
      const auto pos = tc.positional();
      if (auto id = peer_arg(tc, 0); id && pos.size() == 2) {
        auto r = raft(*id).propose(pos[1]);
        out_ += r.ok() ? "index " + std::to_string(*r) + "\n" : "error: " + r.status().to_string() + "\n";
      } else if (id) {
        tc.fail("propose <id> <data>");
      }
    } else if (tc.cmd == "propose-conf-change") {
      propose_conf_change(tc);
    } else if (tc.cmd == "transfer-leader") {
      // The target may be any id: Raft must refuse one that is not a voter.
      auto from = peer_arg(tc, 0);
      const auto pos = tc.positional();
      if (from && pos.size() == 2) {
        Status s = raft(*from).transfer_leadership(std::stoull(pos[1]));
        if (!s.ok()) out_ += "error: " + s.to_string() + "\n";
      }
    } else if (tc.cmd == "partition") {
      partition(tc);
    } else if (tc.cmd == "heal") {
      net_->recover();
    } else if (tc.cmd == "status") {
      if (tc.positional().empty()) {
        for (NodeId id : net_->ids()) status(id);
      } else if (auto id = peer_arg(tc, 0)) {
        status(*id);
      }
    } else if (tc.cmd == "raft-log") {
      if (auto id = peer_arg(tc, 0)) raft_log(*id);
    } else {
      tc.fail("unknown command");
    }
    return out_;
  }

 private:
  Raft& raft(NodeId id) { return net_->raft(id); }

  // The n-th positional argument as the id of a peer that exists.
  std::optional<NodeId> peer_arg(const TestCase& tc, size_t n) {
    const auto pos = tc.positional();
    if (pos.size() <= n) {
      tc.fail("missing a peer id");
      return std::nullopt;
    }
    const NodeId id = std::stoull(pos[n]);
    if (!net_->has_peer(id)) {
      tc.fail("no peer " + pos[n]);
      return std::nullopt;
    }
    return id;
  }

  void add_nodes(const TestCase& tc) {
    const auto pos = tc.positional();
    const int n = pos.empty() ? 0 : std::stoi(pos[0]);
    if (n <= 0) return tc.fail("add-nodes <n>, n > 0");
    if (!net_) {
      election_tick_ = static_cast<int>(tc.int_arg("election-tick", 5));
      pre_vote_ = tc.str_arg("pre-vote", "true") == "true";
      check_quorum_ = tc.str_arg("check-quorum", "true") == "true";
      const uint64_t seed = static_cast<uint64_t>(tc.int_arg("seed", 1));
      net_ = std::make_unique<RaftTestNetwork>(
          [this](Config& cfg) {
            cfg.election_tick = election_tick_;
            cfg.heartbeat_tick = 1;
            cfg.pre_vote = pre_vote_;
            cfg.check_quorum = check_quorum_;
            cfg.log = log_of(cfg.id);
          },
          seed);
      std::vector<NodeId> voters;
      for (int i = 1; i <= n; ++i) voters.push_back(static_cast<NodeId>(i));
      for (NodeId id : voters) {
        net_->add_peer(id, testnet::make_bootstrap_log_storage(voters));
        raft(id).bootstrap(voters);
      }
      // Applying the bootstrap entries repeats the configuration just given: not worth a line.
      const LogLevel level = sink_.level();
      sink_.set_level(LogLevel::kOff);
      for (NodeId id : voters) net_->handle_ready(id);
      sink_.set_level(level);
      for (NodeId id : voters) status(id);
      return;
    }
    NodeId next = net_->ids().back() + 1;
    for (int i = 0; i < n; ++i, ++next) {
      net_->add_peer(next, std::make_unique<Storage>());
      out_ += std::to_string(next) + ": a new peer with no configuration\n";
    }
  }

  Log* log_of(NodeId id) {
    auto& log = logs_[id];
    if (!log) log = std::make_unique<Log>(clock_, sink_, id);
    return log.get();
  }

  void tick_election(NodeId id) {
    Raft& r = raft(id);
    const bool leader = r.role() == Role::kLeader;
    const int limit = leader ? election_tick_ : 2 * election_tick_;
    const Role role = r.role();
    const uint64_t term = r.term();
    const NodeId lead = r.leader();
    for (int i = 0; i < limit; ++i) {
      r.tick();
      if (r.role() != role || r.term() != term || r.leader() != lead) break;
    }
  }

  // Handles one peer's Ready: what it applied, then the records written while doing so (the
  // host applies, then Raft says what the entries changed).
  void handle_ready(NodeId id) {
    const uint64_t before = net_->peer(id).applied_index;
    const size_t mark = out_.size();
    net_->handle_ready_to_pending(id);
    const std::string records = out_.substr(mark);
    out_.resize(mark);
    const auto& p = net_->peer(id);
    if (p.applied_index > before) {
      std::string applied;
      for (auto it = p.applied.upper_bound(before); it != p.applied.end(); ++it) {
        applied += (applied.empty() ? "" : ", ") + entry_text(it->second);
      }
      out_ += "> " + std::to_string(id) + " applied " + applied + "\n";
    }
    out_ += records;
  }

  void stabilize() {
    const size_t violations = net_->violations().size();
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (NodeId id : net_->ids()) {
        if (raft(id).has_ready()) {
          handle_ready(id);
          any = true;
        }
      }
      // Deliver what this round sent; what the deliveries send goes in the next round.
      std::vector<raftpb::Message> batch = std::move(net_->pending());
      net_->pending().clear();
      for (auto& m : batch) {
        any = true;
        const bool dropped = net_->dropped(m);
        out_ += message_text(m) + (dropped ? " (dropped)" : "") + "\n";
        net_->enqueue({std::move(m)});
        net_->deliver(net_->pending().size() - 1);
      }
      if (!any) break;
    }
    for (size_t i = violations; i < net_->violations().size(); ++i) {
      out_ += "VIOLATION: " + net_->violations()[i] + "\n";
    }
  }

  void propose_conf_change(const TestCase& tc) {
    auto id = peer_arg(tc, 0);
    if (!id) return;
    raftpb::ConfChange cc;
    if (auto v = tc.arg("add-voter")) {
      cc.set_type(raftpb::CONF_ADD_NODE);
      cc.set_node_id(std::stoull(*v));
    } else if (auto l = tc.arg("add-learner")) {
      cc.set_type(raftpb::CONF_ADD_LEARNER_NODE);
      cc.set_node_id(std::stoull(*l));
    } else if (auto r = tc.arg("remove")) {
      cc.set_type(raftpb::CONF_REMOVE_NODE);
      cc.set_node_id(std::stoull(*r));
    } else {
      return tc.fail("want add-voter=, add-learner= or remove=");
    }
    auto r = raft(*id).propose_conf_change(cc);
    out_ += r.ok() ? "index " + std::to_string(*r) + "\n" : "error: " + r.status().to_string() + "\n";
  }

  void partition(const TestCase& tc) {
    std::vector<NodeId> side;
    for (const auto& p : tc.positional()) side.push_back(std::stoull(p));
    for (NodeId a : side) {
      for (NodeId b : net_->ids()) {
        if (std::find(side.begin(), side.end(), b) == side.end()) net_->cut(a, b);
      }
    }
  }

  void status(NodeId id) {
    Raft& r = raft(id);
    const auto cs = r.conf_state();
    out_ += std::to_string(id) + ": " + to_string(r.role()) + " term=" + std::to_string(r.term()) +
            " lead=" + std::to_string(r.leader()) + " vote=" + std::to_string(net_->storage(id).hard_state().vote()) +
            " commit=" + std::to_string(r.log().committed()) + " applied=" +
            std::to_string(net_->peer(id).applied_index) + " last=" + std::to_string(r.log().last_index()) +
            " voters=" + ids_text(cs.voters()) + " learners=" + ids_text(cs.learners()) + "\n";
    if (r.role() != Role::kLeader) return;
    for (NodeId peer : net_->ids()) {
      const Progress* pr = r.progress(peer);
      if (peer == id || !pr) continue;
      out_ += "  " + std::to_string(peer) + ": match=" + std::to_string(pr->match) +
              " next=" + std::to_string(pr->next) + " " + to_string(pr->state) +
              (pr->is_learner ? " learner" : "") + "\n";
    }
  }

  void raft_log(NodeId id) {
    const Storage& s = net_->storage(id);
    if (s.last_index() < s.first_index()) {
      out_ += "(empty)\n";
      return;
    }
    auto ents = s.entries(s.first_index(), s.last_index() + 1, UINT64_MAX);
    if (!ents.ok()) {
      out_ += "error: " + ents.status().to_string() + "\n";
      return;
    }
    for (const auto& e : *ents) out_ += entry_text(e) + "\n";
  }

  test::ManualClock clock_;  // the Log's wall time; never printed
  std::string out_;
  datadriven::TranscriptLogSink sink_{out_};
  std::map<NodeId, std::unique_ptr<Log>> logs_;
  std::unique_ptr<RaftTestNetwork> net_;
  int election_tick_ = 5;
  bool pre_vote_ = true;
  bool check_quorum_ = true;
};

const std::string kTestdata = std::string(SHOAL_SOURCE_DIR) + "/testdata/raft";

SHOAL_DATADRIVEN_TESTS(RaftGolden, RaftGoldenHarness, kTestdata, 6)

}  // namespace
}  // namespace shoal::raft
