// StateMachine: what a replicated log drives. RaftNode applies committed normal entries to it in
// log order, asks it for a snapshot to compact the log, and restores it from a snapshot.
#pragma once

#include <string>
#include <string_view>

#include "core/api/raft.pb.h"

namespace shoal::raft {

namespace raftpb = ::shoal::raftpb;  // Raft's protobuf types, as raft::raftpb::X

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual void apply(const raftpb::Entry& entry) = 0;
  virtual std::string snapshot() const = 0;
  virtual void restore(std::string_view data) = 0;
};

}  // namespace shoal::raft
