// The cluster port's TLS: contexts for TLS 1.3 with mutual authentication, made from a node's
// TlsIdentity, and a certificate's subject read as a node identity (CN node id, OU role, O
// cluster: core/ca/node_identity.h). Internal to io_real/net.
#pragma once
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/env/cluster_net.h"
#include "core/env/status.h"

namespace shoal::real::internal {

// The identity a certificate's subject states, checked for shape (not for trust).
Result<PeerIdentity> identity_of(X509* cert);
// "node 00000000000000ab (swarm-manager)", or "an anonymous peer".
std::string describe(const PeerIdentity& id);
std::string describe(const std::optional<PeerIdentity>& id);

// The TLS contexts made from one TlsIdentity.
struct TlsContexts {
  std::shared_ptr<boost::asio::ssl::context> server;       // null without a certificate
  std::shared_ptr<boost::asio::ssl::context> client;       // null without a certificate
  std::shared_ptr<boost::asio::ssl::context> anon_client;  // no certificate, no verification
  std::optional<PeerIdentity> self;                        // what our own certificate says
};

// The contexts for `id`. `self` and `cluster_id`, where set, must be what its certificate names.
Result<TlsContexts> make_tls_contexts(const TlsIdentity& id, NodeId self, const std::string& cluster_id);

}  // namespace shoal::real::internal
