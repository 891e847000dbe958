// Config: the settings of one Raft peer, and the test-only switches that break it on purpose.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/env/log.h"
#include "core/env/planted_bugs.h"
#include "core/env/transport.h"

namespace shoal::raft {

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
  // Where the peer says what it did (role changes, membership, snapshots); null: nowhere. Raft
  // also keeps the log's term up to date (Log::set_term).
  Log* log = nullptr;
  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
};

}  // namespace shoal::raft
