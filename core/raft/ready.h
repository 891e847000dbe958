// Ready: one batch of work Raft hands to its host, as in etcd's raft.Ready.
//
// The ordering contract, followed by RaftNode and by every host:
//   1. Persist `hard_state`, `entries` and `snapshot`, and, when must_sync(), sync them BEFORE
//      sending any of `messages` (a vote or an acknowledgement must never leave before what it
//      promises is durable). The one exception: a leader's appends and heartbeats (MSG_APP,
//      MSG_HEARTBEAT) may leave at once, in parallel with its own write (Raft thesis 10.2.1),
//      because the leader counts its own log toward a quorum only in advance(), after the sync.
//   2. `committed_entries` are committed on a quorum; they may be applied at once, in order.
//   3. Call Raft::advance(ready) once the persistence of step 1 is done.
// Only one Ready may be outstanding at a time: call ready() again only after advance().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/api/raft.pb.h"
#include "core/env/transport.h"

namespace shoal::raft {

namespace raftpb = ::shoal::raftpb;  // Raft's protobuf types, as raft::raftpb::X

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
const char* to_string(Role role);

// State that need not be persisted: who leads and what this peer is.
struct SoftState {
  NodeId leader = 0;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

// A linearizable read may be served once the state machine has applied `index`.
struct ReadState {
  uint64_t index = 0;
  std::string request_ctx;
};

struct Ready {
  std::optional<SoftState> soft_state;  // set when it changed
  std::optional<raftpb::HardState> hard_state;  // set when it changed
  // Whether the term or the vote changed: those must be durable before any message leaves. A
  // changed commit index alone need not be synced (etcd's MustSync): a node that loses it in a
  // crash learns it again from the leader, and a lower commit never undoes anything.
  bool hard_state_must_sync = false;
  std::vector<raftpb::Entry> entries;   // to persist
  std::optional<raftpb::Snapshot> snapshot;  // to persist and apply
  std::vector<raftpb::Entry> committed_entries;
  std::vector<raftpb::Message> messages;
  std::vector<ReadState> read_states;

  // Whether anything here must be synced before the messages may go.
  bool must_sync() const { return hard_state_must_sync || !entries.empty() || snapshot; }
};

}  // namespace shoal::raft
