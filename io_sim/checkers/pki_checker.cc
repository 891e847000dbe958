#include "io_sim/checkers/pki_checker.h"

#include "core/ca/node_identity.h"

namespace shoal::sim {

void PkiChecker::report(const std::string& key, const std::string& what) {
  if (reported_.insert(key).second) sink_.add("pki", what);
}

void PkiChecker::on_message(NodeId from, NodeId to, std::string_view payload) {
  // Only a message with a PEM private key in it needs a closer look (raft entries carrying the
  // cluster object hold the CA's keys).
  if (payload.find("PRIVATE KEY-----") == std::string_view::npos) return;
  for (const HostView& h : hosts_()) {
    if (!h.key_pem.empty()) keys_.insert(h.key_pem);
  }
  for (const std::string& key : keys_) {
    if (payload.find(key) != std::string_view::npos) {
      report("key/" + key.substr(key.size() / 2, 16),
             "a node's private key crossed the network, in a message from n" + std::to_string(from) + " to n" +
                 std::to_string(to));
    }
  }
}

void PkiChecker::check_end(const storepb::ClusterObject& cluster,
                           const std::function<std::string(const std::string&)>& desired_role) {
  const std::vector<HostView> hosts = hosts_();
  for (const HostView& h : hosts) {
    const std::string who = "n" + std::to_string(h.host);
    for (const HostView& m : hosts) {
      if (!m.manager || m.host == h.host) continue;
      if (Status s = crypto_.verify_certificate(h.cert_pem, m.trusted_roots, m.now_unix_s); !s.ok()) {
        report("refused/" + who + "/" + std::to_string(m.host),
               who + " holds a certificate that manager n" + std::to_string(m.host) + " refuses: " + s.message());
      }
    }
    auto info = crypto_.parse_certificate(h.cert_pem);
    const std::string want = desired_role(h.cert_pem);
    if (info.ok() && !want.empty()) {
      const std::string has = info->org_unit == ca::kManagerOu ? "manager" : "worker";
      if (has != want) {
        report("role/" + who, who + "'s certificate says " + has + " but the cluster wants it a " + want);
      }
    }
    if (!cluster.has_rotation() &&
        (h.trusted_roots.size() != 1 || h.trusted_roots.front() != cluster.root_ca_cert_pem())) {
      report("roots/" + who, who + " trusts " + std::to_string(h.trusted_roots.size()) +
                                 " root(s) after the rotation is over, not the cluster's root alone");
    }
  }
}

}  // namespace shoal::sim
