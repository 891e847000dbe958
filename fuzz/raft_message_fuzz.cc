// Raft messages from the wire: any bytes either fail to parse or validation, or are stepped into
// a live peer of a three-voter cluster without breaking any of its invariants.
#include <cstddef>
#include <cstdint>

#include "core/raft/raft.h"
#include "core/raft/raft_node.h"
#include "core/raft/storage.h"

using namespace shoal;
using namespace shoal::raft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raftpb::Message m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return 0;
  m.set_to(1);
  m.set_from(2 + m.from() % 2);  // the transport vouches for a member as the sender
  if (!RaftNode::validate(m).ok()) return 0;

  // A peer with a short log, some of it committed.
  Storage storage;
  std::vector<raftpb::Entry> entries;
  for (uint64_t i = 1; i <= 5; ++i) {
    raftpb::Entry e;
    e.set_index(i);
    e.set_term(i < 4 ? 1 : 2);
    entries.push_back(e);
  }
  storage.append(entries);
  raftpb::HardState hs;
  hs.set_term(2);
  hs.set_commit(3);
  storage.set_hard_state(hs);
  Config cfg;
  cfg.id = 1;
  Raft raft(cfg, storage, Rng(7));
  raft.bootstrap({1, 2, 3});

  raft.step(m);
  for (int round = 0; round < 4 && raft.has_ready(); ++round) {
    Ready rd = raft.ready();
    if (rd.snapshot) storage.apply_snapshot(*rd.snapshot);
    storage.append(rd.entries);
    if (rd.hard_state) storage.set_hard_state(*rd.hard_state);
    raft.advance(rd);
  }
  raft.check_invariants();
  return 0;
}
