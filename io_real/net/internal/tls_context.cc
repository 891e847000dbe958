#include "io_real/net/internal/tls_context.h"

#include <openssl/ssl.h>

#include "core/ca/node_identity.h"
#include "io_real/crypto/openssl_util.h"

namespace shoal::real::internal {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

void tls13_only(ssl::context& ctx) {
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_num_tickets(ctx.native_handle(), 0);  // no session resumption: every peer is verified
  SSL_CTX_set_verify_depth(ctx.native_handle(), 8);
  // Send exactly the configured chain (leaf + intermediates), not one OpenSSL builds from the
  // trust store.
  SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_NO_AUTO_CHAIN);
}

Status load_identity(ssl::context& ctx, const TlsIdentity& id, const char* what) {
  error_code ec;
  ctx.use_certificate_chain(asio::buffer(id.cert_chain_pem), ec);
  if (ec) return Status::invalid_argument(std::string(what) + ": certificate chain: " + ec.message());
  ctx.use_private_key(asio::buffer(id.key_pem), ssl::context::pem, ec);
  if (ec) return Status::invalid_argument(std::string(what) + ": private key: " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return Status::invalid_argument(std::string(what) + ": the private key does not match the certificate");
  }
  for (const auto& root : id.trusted_roots_pem) {
    ctx.add_certificate_authority(asio::buffer(root), ec);
    if (ec) return Status::invalid_argument(std::string(what) + ": trusted root: " + ec.message());
  }
  return {};
}

}  // namespace

// The identity a certificate's subject states, checked for shape (not for trust).
Result<PeerIdentity> identity_of(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  if (name == nullptr) return Status::invalid_argument("certificate has no subject");
  auto cn = unique_name_entry(name, NID_commonName, "CN");
  if (!cn.ok()) return cn.status();
  auto ou = unique_name_entry(name, NID_organizationalUnitName, "OU");
  if (!ou.ok()) return ou.status();
  auto o = unique_name_entry(name, NID_organizationName, "O");
  if (!o.ok()) return o.status();
  return ca::identity_from_subject(*cn, *ou, *o);
}

std::string describe(const PeerIdentity& id) {
  return "node " + ca::node_id_text(id.node_id) + " (" + std::string(ca::role_ou(id.role)) + ")";
}

std::string describe(const std::optional<PeerIdentity>& id) {
  return id ? describe(*id) : std::string("an anonymous peer");
}

Result<TlsContexts> make_tls_contexts(const TlsIdentity& id, NodeId expected_self, const std::string& cluster_id) {
  try {
    TlsContexts c;
    c.anon_client = std::make_shared<ssl::context>(ssl::context::tls_client);
    tls13_only(*c.anon_client);
    c.anon_client->set_verify_mode(ssl::verify_none);
    if (id.cert_chain_pem.empty()) return c;

    auto leaf = read_certificate(id.cert_chain_pem, "this node's certificate");
    if (!leaf.ok()) return leaf.status();
    auto self = identity_of(leaf->get());
    if (!self.ok()) return Status::invalid_argument("this node's certificate: " + self.status().message());
    if (expected_self != 0 && self->node_id != expected_self) {
      return Status::invalid_argument("this node's certificate names node " + ca::node_id_text(self->node_id) +
                                      ", not this node " + ca::node_id_text(expected_self));
    }
    if (!cluster_id.empty() && self->cluster_id != cluster_id) {
      return Status::invalid_argument("this node's certificate is for cluster '" + self->cluster_id +
                                      "', not '" + cluster_id + "'");
    }
    c.self = *self;
    if (id.trusted_roots_pem.empty()) return Status::invalid_argument("no trusted root certificate given");

    c.server = std::make_shared<ssl::context>(ssl::context::tls_server);
    tls13_only(*c.server);
    if (Status s = load_identity(*c.server, id, "server"); !s.ok()) return s;
    c.server->set_verify_mode(ssl::verify_peer);  // ask for a client certificate, do not require one

    c.client = std::make_shared<ssl::context>(ssl::context::tls_client);
    tls13_only(*c.client);
    if (Status s = load_identity(*c.client, id, "client"); !s.ok()) return s;
    c.client->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    return c;
  } catch (const std::exception& e) {
    return Status::io_error(std::string("TLS setup failed: ") + e.what());
  }
}

}  // namespace shoal::real::internal
