// PkiChecker: the cluster's certificates and keys, checked as the simulation runs and at its end.
//
//   keys stay home       no node's private key ever crosses the network: only certificate
//                        requests do. (The CA's keys travel among managers in the replicated
//                        store, as Swarm keeps them; they are not a node's.)
//   accepted everywhere  once the faults have healed and the cluster converged, every running
//                        node holds a certificate that every running manager accepts (it
//                        verifies against that manager's trusted roots at its time), in the
//                        role the cluster gives the node;
//   one root             once the cluster's root rotation is over, every running node trusts
//                        the cluster's root and only it.
//
// Violations go to the run's RaftChecker, with the simulated time and a sentence to act on.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/store.pb.h"
#include "core/env/crypto.h"
#include "io_sim/checkers/raft_checker.h"

namespace shoal::sim {

class PkiChecker {
 public:
  // What the checker sees of one running host.
  struct HostView {
    NodeId host = 0;
    std::string key_pem;                     // its private key
    std::string cert_pem;                    // the certificate it shows
    std::vector<std::string> trusted_roots;  // the roots it trusts
    bool manager = false;                    // it runs a manager's parts
    int64_t now_unix_s = 0;                  // its wall clock
  };
  using Hosts = std::function<std::vector<HostView>()>;

  PkiChecker(RaftChecker& sink, Crypto& crypto, Hosts hosts) : sink_(sink), crypto_(crypto), hosts_(std::move(hosts)) {}

  // Every message sent (the World's wire tap).
  void on_message(NodeId from, NodeId to, std::string_view payload);
  // The end of a converged run: `cluster` is the leader's cluster object; `desired_role(node
  // certificate)` the role the store gives the node whose certificate it is ("" : not in it).
  void check_end(const storepb::ClusterObject& cluster,
                 const std::function<std::string(const std::string& cert_pem)>& desired_role);

 private:
  void report(const std::string& key, const std::string& what);

  RaftChecker& sink_;
  Crypto& crypto_;
  Hosts hosts_;
  std::set<std::string> keys_;  // every node key seen, so a renewed node's old key counts too
  std::set<std::string> reported_;
};

}  // namespace shoal::sim
