// Config: the settings of one Raft peer, and the test-only switches that break it on purpose.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/env/transport.h"

namespace shoal::raft {

// Planted bugs: each switch breaks one Raft rule so a test can show that a checker catches it.
// All are off outside tests that turn them on. They are named after what goes wrong.
struct PlantedBugs {
  bool vote_twice_in_term = false;              // grant a vote though one was given this term
  bool commit_old_term_by_counting = false;     // commit an older term's entry by replica count
  bool read_index_before_own_term_commit = false;  // etcd issue 7331
  bool self_ack_before_persist = false;         // leader counts its own unsynced entry (etcd 14370)
  bool ack_before_sync = false;                 // host sends messages before its disk sync (host)
};

struct Config {
  NodeId id = 0;
  // Ticks without hearing from a leader before a follower campaigns; the actual timeout is drawn
  // uniformly from [election_tick, 2 * election_tick - 1] at each reset.
  int election_tick = 10;
  // Ticks between a leader's heartbeats; must be well below election_tick.
  int heartbeat_tick = 1;
  // Batching: at most this many bytes of entries in one append message (at least one entry).
  uint64_t max_msg_bytes = 1 << 20;
  // Pipelining: at most this many unacknowledged append messages to one follower.
  size_t max_inflight = 64;
  // A candidate first asks whether it could win (pre-vote), so a rejoining node cannot disrupt.
  bool pre_vote = true;
  // A leader steps down when it has not heard from a quorum for an election timeout, and
  // followers ignore votes while they have a live leader (the leader lease).
  bool check_quorum = true;
  PlantedBugs bugs;
};

}  // namespace shoal::raft
