// Manager: what makes a Raft member a cluster manager — it turns client writes into store
// transactions committed through Raft (forwarding them to the leader from any manager), admits
// joining nodes with a join token and a certificate, renews certificates, and keeps Raft's
// membership in step with the manager nodes in the store.
//
// Every manager runs one. The leader does the work that needs one decider (admission, Raft
// membership, orchestration and scheduling of tasks); any other manager forwards to it over the
// Rpc seam.
//
// RPC methods it serves:
//   ca.root           anonymous     the cluster's root CA certificate (PEM), for a joiner to check
//   node.join         anonymous     JoinRequest -> JoinResponse (forwarded to the leader)
//   manager.join      managers      a join forwarded by another manager
//   manager.propose   managers      a transaction forwarded by another manager
//   ca.renew          any node      RenewRequest -> RenewResponse, for the caller's own node id
//                                   (a follower passes it on: only the leader issues)
//   manager.renew     managers      a renewal forwarded by another manager
//   node.info         any node      NodeInfoResponse: desired role, managers, roots to trust
//   dispatcher.*      any node      worker sessions (core/dispatcher/dispatcher.h)
//
// Root CA rotation: when the cluster's ca_force_rotate moves past rotated_for, the leader makes
// a new root and a cross-signed intermediate; certificates are then issued by the new root
// (with the intermediate, so nodes trusting only the old root accept them), every node trusts
// both roots and renews, and once every node's certificate comes from the new root the leader
// makes it the only root (and issues new join tokens, whose digest names it).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include "core/api/manager.pb.h"
#include "core/ca/join_tokens.h"
#include "core/env/crypto.h"
#include "core/env/env.h"
#include "core/rpc/rpc.h"
#include "core/dispatcher/dispatcher.h"
#include "core/orchestrator/orchestrator.h"
#include "core/raft/raft_node.h"
#include "core/store/store.h"

namespace shoal::manager {

namespace storepb = ::shoal::storepb;
namespace managerpb = ::shoal::managerpb;

struct ManagerOptions {
  NodeId self = 0;
  Duration forward_timeout = std::chrono::seconds(5);
  // How often the leader compares Raft's members with the store's manager nodes.
  Duration membership_interval = std::chrono::milliseconds(500);
  // How often the leader adds a new gossip key and drops the oldest (swarmkit: 12 hours).
  Duration gossip_key_rotation = std::chrono::hours(12);
  orchestrator::OrchestratorOptions orchestrator;
  dispatcher::DispatcherOptions dispatcher;
};

class Manager {
 public:
  using Done = std::function<void(Status, uint64_t index)>;

  Manager(Env& env, Crypto& crypto, Rpc& rpc, raft::RaftNode& raft, store::Store& store, ManagerOptions options);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Commits tx through Raft from any manager. done runs once the transaction has been applied
  // on THIS manager (so a read here sees it), with the store's verdict on it.
  void submit(storepb::Transaction tx, Done done);

  NodeId leader() const { return raft_.raft().leader(); }
  bool is_leader() const { return raft_.raft().role() == raft::Role::kLeader; }
  // Aborts (SHOAL_CHECK) if the dispatcher's or the orchestrator's invariants are broken.
  void check_invariants() const;
  // The leader, and its store holds every entry of the terms before its own: the entry it applied
  // last is of its own term. Until then its store may lack tasks an earlier leader made, and an
  // orchestrator acting on it would make them again.
  bool leader_caught_up() const {
    return is_leader() && raft_.raft().log().term_or_zero(raft_.applied_index()) == raft_.raft().term();
  }
  int64_t now_ns() const { return env_.clock.wall_now_unix_ns(); }

  // Issues a certificate for `node` in `role` from the cluster's root CA (leader or not: every
  // manager holds the CA key in its store). During a root rotation: from the new root, followed
  // by the cross-signed intermediate.
  Result<std::string> issue_certificate(std::string_view csr_pem, NodeId node, NodeRole role);
  // The role `node`'s certificate should carry now: the role the cluster wants for it, except
  // that a manager being demoted keeps its manager certificate until it has left Raft (stopping
  // its Raft node before then would take a voter away from the quorum without removing it).
  storepb::NodeRole role_to_certify(const storepb::NodeObject& node) const;
  // Issues `node` a certificate in role_to_certify() and records it (role and certificate) in
  // the node's object; done gets the answer once that is committed. A follower passes the
  // request on to the leader.
  void renew_certificate(NodeId node, std::string csr_pem, std::function<void(Status, managerpb::RenewResponse)> done);
  // The roots every node should trust now: the cluster's, and while it rotates the new one.
  void add_trusted_roots(google::protobuf::RepeatedPtrField<std::string>* out) const;
  // What a node should trust now, and the root its certificate should come from.
  managerpb::NodeInfoResponse node_info(NodeId node) const;

 private:
  // Whether the orchestrator may act now: leader_caught_up(); when leader but not yet caught up,
  // arranges a pass once it is.
  bool orchestrator_may_act();
  void propose_here(storepb::Transaction tx, Done done);
  // Forwards to the leader; while none is known (an election, a node just joined) it waits for
  // one, up to forward_timeout, so a client sees a short pause rather than an error.
  void forward(storepb::Transaction tx, Done done, MonoTime give_up);
  void handle_join(std::string body, Rpc::Reply reply, bool forwarded);
  void admit(const managerpb::JoinRequest& req, Rpc::Reply reply);
  void handle_renew(const PeerIdentity* from, std::string body, Rpc::Reply reply);
  void reconcile_membership();
  void drive_root_rotation();
  // Makes or rotates the cluster's gossip keys when due (gossip_keys.h); true if it proposed.
  bool drive_gossip_keys();
  void record_certificate(NodeId node, storepb::NodeRole role, std::string cert, int attempts,
                          std::function<void(Status)> done);
  NodeId fresh_node_id();

  Env& env_;
  Crypto& crypto_;
  Rpc& rpc_;
  raft::RaftNode& raft_;
  store::Store& store_;
  ManagerOptions opts_;
  TimerId membership_timer_ = 0;
  // The leader's services-and-tasks loop (idle on other managers).
  std::unique_ptr<orchestrator::Orchestrator> orchestrator_;
  // Worker sessions (answered only by the leader's).
  std::unique_ptr<dispatcher::Dispatcher> dispatcher_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool gossip_keys_in_flight_ = false;
  bool awaiting_catch_up_ = false;  // orchestrator_may_act() waits for this leader's first entry
};

}  // namespace shoal::manager
