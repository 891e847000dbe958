#include "core/raft/bootstrap.h"

namespace shoal::raft {

std::vector<raftpb::Entry> bootstrap_log_entries(const std::vector<NodeId>& voters) {
  std::vector<raftpb::Entry> entries;
  for (NodeId v : voters) {
    raftpb::ConfChange cc;
    cc.set_type(raftpb::CONF_ADD_NODE);
    cc.set_node_id(v);
    raftpb::Entry e;
    e.set_term(1);
    e.set_index(entries.size() + 1);
    e.set_type(raftpb::ENTRY_CONF_CHANGE);
    e.set_data(cc.SerializeAsString());
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace shoal::raft
