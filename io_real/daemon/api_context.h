// What the client API's routes need from the running daemon. The daemon fills it in; members
// that do not exist yet (a locked or worker node has no store) are null. Tests may fill in only
// `crypto`, `store` and `submit` (a fake commit that applies to a local store).
#pragma once
#include <functional>
#include <string>
#include "core/api/agent.pb.h"
#include "core/api/node.pb.h"
#include "core/env/crypto.h"
#include "core/manager/manager.h"
#include "core/node/node_gossip.h"
#include "core/rpc/rpc.h"
#include "core/store/store.h"

namespace shoal::real {

struct ApiContext {
  Crypto* crypto = nullptr;
  const Clock* clock = nullptr;  // the node's: the time a write records (null: the manager's)
  // This node's record; null while it is locked (or in tests).
  std::function<const nodepb::NodeRecord*()> record;
  store::Store* store = nullptr;       // managers only
  manager::Manager* manager = nullptr; // managers only
  std::string hostname;
  // Unlocks a locked manager with the key given; an error says why it did not open.
  std::function<Status(const AeadKey&)> unlock;
  std::function<bool()> locked;
  // Stops the daemon after the response is sent; with wipe, its data directory is removed.
  std::function<void(bool wipe)> shutdown;
  // Whether a manager is reachable from here (for ManagerStatus.Reachability).
  std::function<bool(uint64_t node_id)> reachable;
  // Whether a node is still a member of this manager's Raft (null: none is).
  std::function<bool(uint64_t node_id)> raft_member;
  // Asks the agent of `node` for a task's output (agent.logs over the Rpc seam); `done` runs
  // once, on the daemon's loop. Null on nodes that are not managers.
  std::function<void(const storepb::NodeObject& node, const agentpb::LogsRequest& req, Rpc::Reply done)> task_logs;
  // This node's gossip (null in tests, or while locked): its membership view and table, for
  // GET /gossip and the Gossip field of GET /nodes.
  std::function<node::NodeGossip*()> gossip;
  // Commits a store transaction; null: manager->submit (the daemon leaves it null).
  std::function<void(storepb::Transaction, manager::Manager::Done)> submit;
};

}  // namespace shoal::real
