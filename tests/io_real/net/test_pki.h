// A test CA and node certificates for endpoint tests, made with the Crypto seam's PKI functions
// (OpenSslCrypto). Test-only: keys are fresh P-256 keys per call; validity is around now.
//
//   TestPki pki("cluster-a");
//   real::TlsIdentity m1 = pki.node(1, "swarm-manager");
//   real::TlsIdentity expired = pki.node(2, "swarm-manager", {.expired = true});
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "core/ca/node_identity.h"
#include "io_real/crypto/openssl_crypto.h"
#include "io_real/net/endpoint.h"

namespace shoal::real::testing {

struct NodeCertOptions {
  bool expired = false;             // validity ended a day ago
  std::string organization{};       // empty: the CA's cluster id
  bool via_intermediate = false;    // issued by an intermediate CA, sent as leaf + intermediate
};

class TestPki {
 public:
  explicit TestPki(std::string cluster_id) : cluster_id_(std::move(cluster_id)) {
    const int64_t now = std::time(nullptr);
    auto key = crypto_.generate_key();
    require_ok(key);
    root_key_ = key->private_key_pem;
    auto root = crypto_.self_sign(root_key_, {"swarm-ca", "", cluster_id_, now - 3600, now + 30 * 86400, true});
    require_ok(root);
    root_ = *root;
    auto ikey = crypto_.generate_key();
    require_ok(ikey);
    intermediate_key_ = ikey->private_key_pem;
    auto icsr = crypto_.make_csr(intermediate_key_);
    require_ok(icsr);
    auto inter = crypto_.sign_csr(*icsr, {"swarm-intermediate", "", cluster_id_, now - 3600, now + 20 * 86400, true},
                                  root_, root_key_);
    require_ok(inter);
    intermediate_ = *inter;
  }

  const std::string& root_pem() const { return root_; }
  const std::string& cluster_id() const { return cluster_id_; }

  // A node identity issued by this CA, trusting this CA's root.
  TlsIdentity node(NodeId id, std::string_view role, NodeCertOptions o = {}) {
    const int64_t now = std::time(nullptr);
    auto key = crypto_.generate_key();
    require_ok(key);
    auto csr = crypto_.make_csr(key->private_key_pem);
    require_ok(csr);
    CertificateTemplate t{ca::node_id_text(id), std::string(role),
                          o.organization.empty() ? cluster_id_ : o.organization,
                          o.expired ? now - 2 * 86400 : now - 60, o.expired ? now - 86400 : now + 86400, false};
    auto leaf = o.via_intermediate ? crypto_.sign_csr(*csr, t, intermediate_, intermediate_key_)
                                   : crypto_.sign_csr(*csr, t, root_, root_key_);
    require_ok(leaf);
    TlsIdentity out;
    out.cert_chain_pem = *leaf + (o.via_intermediate ? intermediate_ : std::string());
    out.key_pem = key->private_key_pem;
    out.trusted_roots_pem = {root_};
    return out;
  }

 private:
  // Any failure here is a broken test setup: stop loudly.
  template <typename R>
  static void require_ok(const R& r) {
    if (!r.ok()) {
      ADD_FAILURE() << "test PKI: " << r.status().message();
      std::abort();
    }
  }

  real::OpenSslCrypto crypto_;
  std::string cluster_id_;
  std::string root_key_, root_;
  std::string intermediate_key_, intermediate_;
};

}  // namespace shoal::real::testing
