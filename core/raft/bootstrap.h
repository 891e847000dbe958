// The log a brand-new cluster starts from: its first configuration written as committed
// conf-change entries (one CONF_ADD_NODE per voter, term 1, indexes 1..n), as etcd does, so a
// node that joins later learns the founding voters by replaying the log.
#pragma once

#include <vector>

#include "core/api/raft.pb.h"
#include "core/env/transport.h"

namespace shoal::raft {

std::vector<raftpb::Entry> bootstrap_log_entries(const std::vector<NodeId>& voters);

}  // namespace shoal::raft
