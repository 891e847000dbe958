#include "io_sim/cluster/kv_state_machine.h"

namespace shoal::sim {

void KvStateMachine::apply(const raft::raftpb::Entry& entry) {
  const std::string& cmd = entry.data();
  const auto eq = cmd.find('=');
  if (eq == std::string::npos) return;  // not a command of ours: ignore, never crash
  data_[cmd.substr(0, eq)] = cmd.substr(eq + 1);
}

std::string KvStateMachine::snapshot() const {
  std::string out;
  for (const auto& [k, v] : data_) {
    out += k;
    out += '=';
    out += v;
    out += '\n';
  }
  return out;
}

void KvStateMachine::restore(std::string_view data) {
  data_.clear();
  while (!data.empty()) {
    const auto nl = data.find('\n');
    const std::string_view line = data.substr(0, nl);
    const auto eq = line.find('=');
    if (eq != std::string_view::npos) data_[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
}

}  // namespace shoal::sim
