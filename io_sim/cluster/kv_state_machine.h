// KvStateMachine: the replicated state the simulator's Raft clusters drive — a string map.
//
// A command is "key=value". apply() stores it; snapshot() and restore() round-trip the map.
// Keys and values never contain '\n' or '=' in the key (the workload makes them so).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/raft/state_machine.h"

namespace shoal::sim {

class KvStateMachine final : public raft::StateMachine {
 public:
  void apply(const raft::raftpb::Entry& entry) override;
  std::string snapshot() const override;
  void restore(std::string_view data) override;

  const std::map<std::string, std::string>& data() const { return data_; }

 private:
  std::map<std::string, std::string> data_;
};

}  // namespace shoal::sim
