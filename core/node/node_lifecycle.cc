// Node: how a node comes to run — init, join, restart and unlock — and the founding of a new
// cluster. Each step that waits (a disk sync, a manager's answer, an election) continues in a
// callback on the node's loop.
#include "core/node/node.h"

#include "core/ca/certificate_authority.h"
#include "core/ca/join_token.h"
#include "core/ca/join_tokens.h"
#include "core/ca/node_identity.h"
#include "core/node/node_record.h"
#include "core/node/unlock_key.h"
#include "core/store/node_role.h"
#include "core/store/object_id.h"

namespace shoal::node {
namespace {

constexpr Duration kJoinRetry = std::chrono::milliseconds(300);
constexpr Duration kWaitStep = std::chrono::milliseconds(50);

// Runs `done` with `value` on a later turn: a start-up step never completes inside the call.
template <typename T, typename Fn>
void later(Timers& timers, std::weak_ptr<bool> alive, Fn done, T value) {
  timers.after(Duration::zero(), [alive, done = std::move(done), value = std::move(value)]() mutable {
    if (!alive.expired()) done(std::move(value));
  });
}

}  // namespace

Status Node::open_storage(const AeadKey& kek, bool create) {
  auto disk = seams_.storage.open_store(kek, create);
  if (!disk.ok()) return disk.status();
  disk_ = *disk;
  kek_ = kek;
  return {};
}

void Node::wait_until(std::function<bool()> ready, MonoTime give_up, std::function<void(bool)> done) {
  if (ready()) return done(true);
  if (seams_.clock.monotonic_now() >= give_up) return done(false);
  seams_.timers.after(kWaitStep, [this, alive = std::weak_ptr<bool>(alive_), ready = std::move(ready), give_up,
                                  done = std::move(done)]() mutable {
    if (!alive.expired()) wait_until(std::move(ready), give_up, std::move(done));
  });
}

// ---- init ----------------------------------------------------------------------------------

void Node::init(std::function<void(Result<InitResult>)> done) {
  std::weak_ptr<bool> alive = alive_;
  auto fail = [&](Status s) { later(seams_.timers, alive, done, Result<InitResult>(std::move(s))); };
  if (seams_.storage.in_use()) {
    return fail(Status::failed_precondition(seams_.storage.describe() + " already holds a node; restart it instead, " +
                                            "or give `init` an empty data directory"));
  }
  Crypto& crypto = seams_.crypto;
  store::ObjectIdBytes cid;
  crypto.random_bytes(cid.data(), cid.size());
  const std::string cluster_id = store::object_id_from_bytes(cid);
  NodeId self = 0;
  while (self == 0) crypto.random_bytes(reinterpret_cast<uint8_t*>(&self), sizeof self);
  const int64_t lifetime = opts_.cert_expiry_s > 0 ? opts_.cert_expiry_s : ca::kNodeCertLifetimeS;

  auto root = ca::create_root_ca(crypto, cluster_id, now_s());
  if (!root.ok()) return fail(root.status());
  auto key = crypto.generate_key();
  if (!key.ok()) return fail(key.status());
  auto csr = crypto.make_csr(key->private_key_pem);
  if (!csr.ok()) return fail(csr.status());
  auto cert = ca::CertificateAuthority(*root).issue_node_certificate(crypto, *csr, self, NodeRole::kManager, cluster_id,
                                                                      now_s(), lifetime);
  if (!cert.ok()) return fail(cert.status());
  auto digest = crypto.certificate_digest(root->cert_pem);
  if (!digest.ok()) return fail(digest.status());

  AeadKey kek;
  crypto.random_bytes(kek.data(), kek.size());
  if (Status s = open_storage(kek, /*create=*/true); !s.ok()) return fail(s);
  // The key goes next to the sealed data at once (unless autolocked): a crash before the record
  // is durable then leaves a directory that says it holds no node, not one locked for good.
  if (!opts_.autolock) {
    if (Status w = seams_.storage.write_unlock_key(kek_); !w.ok()) return fail(w);
  }
  nodepb::NodeRecord record;
  record.set_node_id(self);
  record.set_cluster_id(cluster_id);
  record.set_role(storepb::MANAGER);
  record.set_listen_addr(opts_.listen_addr);
  record.set_advertise_addr(opts_.advertise_addr);
  record.set_key_pem(key->private_key_pem);
  record.set_cert_pem(*cert);
  record.add_trusted_roots_pem(root->cert_pem);
  record_ = std::move(record);
  save_record();

  storepb::ClusterObject cluster;
  cluster.set_id(cluster_id);
  cluster.set_name("default");
  cluster.set_autolock(opts_.autolock);
  cluster.set_node_cert_expiry_s(lifetime);
  cluster.set_root_ca_cert_pem(root->cert_pem);
  cluster.set_root_ca_key_pem(root->key_pem);
  auto tokens = ca::JoinTokens::generate(*digest, crypto);
  cluster.set_manager_token(tokens.token(NodeRole::kManager));
  cluster.set_worker_token(tokens.token(NodeRole::kWorker));
  if (opts_.autolock) cluster.set_unlock_key(format_unlock_key(kek));
  // Kept until the founding transaction has committed, so a crash before that retries it.
  disk_->put("node/founding", cluster.SerializeAsString());

  InitResult result;
  result.node_id = self;
  result.worker_token = cluster.worker_token();
  result.manager_token = cluster.manager_token();
  result.advertise_addr = opts_.advertise_addr;
  if (opts_.autolock) result.unlock_key = format_unlock_key(kek);
  disk_->sync([this, alive, done, result](Status s) mutable {
    if (alive.expired()) return;
    if (!s.ok()) return done(s);
    if (Status st = start_node({record_->node_id()}); !st.ok()) return done(st);
    // Done once the cluster exists, so the first API call finds it.
    wait_until([this] { return store_ && store_->cluster() != nullptr; },
               seams_.clock.monotonic_now() + opts_.found_patience, [done, result](bool founded) {
                 if (!founded) return done(Status::unavailable("the new cluster was not founded in time (see the log)"));
                 done(result);
               });
  });
}

// The founding transaction: the cluster object and this node, committed once this node leads.
void Node::found_cluster_when_leader() {
  found_timer_ = 0;
  if (!manager_ || !store_) return;
  auto founding = disk_->get("node/founding");
  if (!founding) return;
  if (store_->cluster()) {
    disk_->erase("node/founding");
    return;
  }
  if (!manager_->is_leader()) {
    found_timer_ = seams_.timers.after(opts_.tick, [this] { found_cluster_when_leader(); });
    return;
  }
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::CREATE);
  a->mutable_cluster()->ParseFromString(*founding);
  auto* n = tx.add_actions();
  n->set_kind(storepb::StoreAction::CREATE);
  auto* node = n->mutable_node();
  node->set_id(node_id_text(record_->node_id()));
  node->mutable_spec()->set_desired_role(storepb::MANAGER);
  node->mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
  node->set_role(storepb::MANAGER);
  node->set_hostname(opts_.hostname);
  node->set_addr(record_->advertise_addr());
  node->set_state(storepb::NodeObject::READY);
  node->set_cert_pem(record_->cert_pem());
  manager_->submit(std::move(tx), [this, alive = std::weak_ptr<bool>(alive_)](Status s, uint64_t) {
    if (alive.expired()) return;
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      seams_.log.warn("node", "founding the cluster: {}; retrying", s.message());
      found_timer_ = seams_.timers.after(std::chrono::milliseconds(200), [this] { found_cluster_when_leader(); });
      return;
    }
    if (disk_) disk_->erase("node/founding");
    seams_.log.info("node", "cluster {} founded", record_->cluster_id());
  });
}

// ---- join ----------------------------------------------------------------------------------

void Node::join(std::string token, std::string addr, std::function<void(Result<JoinResult>)> done) {
  std::weak_ptr<bool> alive = alive_;
  auto fail = [&](Status s) { later(seams_.timers, alive, done, Result<JoinResult>(std::move(s))); };
  if (seams_.storage.in_use()) {
    return fail(Status::failed_precondition(seams_.storage.describe() + " already holds a node of a cluster; " +
                                            "restart it instead, or join with an empty data directory"));
  }
  auto parsed = ca::parse_join_token(token);
  if (!parsed.ok()) return fail(Status::invalid_argument("invalid join token: " + parsed.status().message()));
  // 1. The root CA the manager shows, checked against the token before anything secret leaves.
  rpc_.call_address(
      addr, /*anonymous=*/true, {}, "ca.root", "", opts_.join_call_timeout,
      [this, alive, token, addr, parsed = *parsed, done](Status s, std::string root) {
        if (alive.expired()) return;
        auto unreachable = [&](const Status& why) {
          return Status::unavailable("cannot reach a manager at " + addr + ": " + why.message() +
                                     "; check the address and that the manager's port is open");
        };
        if (!s.ok()) {
          const bool network = s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
          return done(network ? unreachable(s) : s);
        }
        auto digest = seams_.crypto.certificate_digest(root);
        if (!digest.ok()) return done(Status::invalid_argument("the manager sent no valid root CA: " + digest.status().message()));
        if (Status v = ca::verify_shown_ca(parsed, *digest); !v.ok()) return done(v);
        // 2. The token and a certificate request, only to a server whose chain verifies
        // against that root.
        auto key = seams_.crypto.generate_key();
        if (!key.ok()) return done(key.status());
        join_with_root(token, addr, root, key->private_key_pem,
                       seams_.clock.monotonic_now() + opts_.join_patience, done);
      });
}

void Node::join_with_root(std::string token, std::string addr, std::string root_pem, std::string key_pem,
                          MonoTime give_up, std::function<void(Result<JoinResult>)> done) {
  auto csr = seams_.crypto.make_csr(key_pem);
  if (!csr.ok()) return done(csr.status());
  managerpb::JoinRequest req;
  req.set_token(token);
  req.set_csr_pem(*csr);
  req.set_advertise_addr(opts_.advertise_addr);
  req.set_hostname(opts_.hostname);
  auto check = [this, root_pem](std::string_view chain) {
    return seams_.crypto.verify_certificate(chain, {root_pem}, now_s());
  };
  rpc_.call_address(
      addr, /*anonymous=*/true, check, "node.join", req.SerializeAsString(), opts_.join_call_timeout,
      [this, alive = std::weak_ptr<bool>(alive_), token, addr, root_pem, key_pem, give_up, done](Status s,
                                                                                                 std::string body) {
        if (alive.expired()) return;
        // A cluster between leaders answers "unavailable": like Docker's join, keep trying a while.
        if (s.code() == StatusCode::kUnavailable && seams_.clock.monotonic_now() < give_up) {
          seams_.timers.after(kJoinRetry, [this, alive = std::weak_ptr<bool>(alive_), token, addr, root_pem, key_pem,
                                          give_up, done] {
            if (!alive.expired()) join_with_root(token, addr, root_pem, key_pem, give_up, done);
          });
          return;
        }
        if (!s.ok()) {
          if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded) {
            return done(Status::unavailable("cannot reach a manager at " + addr + ": " + s.message() +
                                            "; check the address and that the manager's port is open"));
          }
          return done(s);
        }
        managerpb::JoinResponse resp;
        if (!resp.ParseFromString(body)) return done(Status::corruption("the manager's join answer does not parse"));
        finish_join(resp, key_pem, done);
      });
}

void Node::finish_join(const managerpb::JoinResponse& resp, std::string key_pem,
                       std::function<void(Result<JoinResult>)> done) {
  AeadKey kek;
  seams_.crypto.random_bytes(kek.data(), kek.size());
  if (Status s = open_storage(kek, /*create=*/true); !s.ok()) return done(s);
  // As in init: the key is kept with the data from the start (a manager joining an autolocked
  // cluster seals it under the cluster's key once it has the cluster object).
  if (Status w = seams_.storage.write_unlock_key(kek_); !w.ok()) return done(w);
  nodepb::NodeRecord record;
  record.set_node_id(resp.node_id());
  record.set_cluster_id(resp.cluster_id());
  record.set_role(resp.role());
  record.set_listen_addr(opts_.listen_addr);
  record.set_advertise_addr(opts_.advertise_addr);
  record.set_key_pem(std::move(key_pem));
  record.set_cert_pem(resp.cert_chain_pem());
  *record.mutable_trusted_roots_pem() = resp.trusted_roots_pem();
  *record.mutable_managers() = resp.managers();
  record_ = std::move(record);
  save_record();
  const JoinResult result{resp.node_id(), store::from_store(resp.role())};
  disk_->sync([this, alive = std::weak_ptr<bool>(alive_), done, result](Status s) {
    if (alive.expired()) return;
    if (!s.ok()) return done(s);
    if (Status st = start_node({}); !st.ok()) return done(st);
    if (!manager_) return done(result);
    // A new manager is done once it has caught up with the cluster's state, so its API's first
    // answers are not "not caught up yet".
    wait_until([this] { return store_ && store_->cluster() != nullptr; },
               seams_.clock.monotonic_now() + opts_.catch_up_patience, [this, done, result](bool caught_up) {
                 if (!caught_up) {
                   seams_.log.warn("node", "not caught up with the cluster in time; the API answers 503 until it is");
                 }
                 done(result);
               });
  });
}

// ---- restart and unlock --------------------------------------------------------------------

void Node::restart(std::function<void(Status)> done) {
  std::weak_ptr<bool> alive = alive_;
  if (!seams_.storage.in_use()) {
    return later(seams_.timers, alive, done,
                 Status::failed_precondition(seams_.storage.describe() +
                                             " holds no node; create a cluster with `shoald init` or join one "
                                             "with `shoald join --token TOKEN HOST:2377`"));
  }
  auto key = seams_.storage.read_unlock_key();
  if (!key.ok()) return later(seams_.timers, alive, done, key.status());
  if (!*key) {
    locked_ = true;
    seams_.log.warn("node", "this manager is locked: its raft data stays sealed until `shoal swarm unlock`");
    return later(seams_.timers, alive, done, Status{});
  }
  kek_ = **key;
  later(seams_.timers, alive, done, open_and_start());
}

Status Node::unlock(const AeadKey& key) {
  if (!locked_) return Status::failed_precondition("not locked");
  kek_ = key;
  if (Status s = open_and_start(); !s.ok()) return s;
  locked_ = false;
  return {};
}

Status Node::open_and_start() {
  if (Status s = open_storage(kek_, /*create=*/false); !s.ok()) return s;
  auto record = load_node_record(*disk_);
  Status s = record.ok() ? Status{} : record.status();
  if (s.ok()) {
    record_ = *record;
    s = start_node({});
  }
  if (!s.ok()) {
    // Back as it was: closed (and, if it was, locked).
    running_ = false;
    agent_.reset();
    gossip_.reset();
    manager_.reset();
    raft_.reset();
    store_.reset();
    env_.reset();
    record_.reset();
    seams_.storage.close();
    disk_ = nullptr;
    return s;
  }
  locked_ = false;
  return {};
}

}  // namespace shoal::node
