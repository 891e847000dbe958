#include <utility>  // Boost 1.74's asio/awaitable.hpp misses it under C++20

#include "io_real/daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <algorithm>
#include <optional>

#include "core/agent/agent.h"
#include "core/ca/certificate_authority.h"
#include "core/ca/join_token.h"
#include "core/ca/join_tokens.h"
#include "core/ca/node_identity.h"
#include "core/env/env.h"
#include "core/env/random.h"
#include "core/manager/manager.h"
#include "core/raft/raft_node.h"
#include "core/store/object_id.h"
#include "core/store/node_role.h"
#include "core/store/store.h"
#include "io_real/api/http_server.h"
#include "io_real/api/router.h"
#include "io_real/crypto/openssl_crypto.h"
#include "io_real/daemon/api_context.h"
#include "io_real/daemon/api_routes.h"
#include "io_real/daemon/data_dir.h"
#include "io_real/daemon/docker_json.h"
#include "core/rpc/rpc_peer.h"
#include "io_real/daemon/node_description.h"
#include "io_real/env/real_env.h"
#include "io_real/env/spdlog_sink.h"
#include "io_real/net/endpoint.h"
#include "io_real/runtime/process_runtime.h"
#include "io_real/storage/rocksdb_disk.h"
#include "io_real/daemon/gossip_node.h"

namespace shoal::daemon {
namespace {

constexpr Duration kJoinTimeout = std::chrono::seconds(10);

std::string machine_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

struct Daemon::Impl {
  explicit Impl(DaemonOptions o) : opts(std::move(o)) {
    if (opts.advertise_addr.empty()) opts.advertise_addr = opts.listen_addr;
    if (opts.hostname.empty()) opts.hostname = machine_hostname();
  }

  DaemonOptions opts;
  boost::asio::io_context io;
  real::SystemClock clock;
  real::SpdlogSink log_sink;
  Log log{clock, log_sink};
  real::AsioTimers timers{io};
  Rng rng{real::os_random_seed()};
  io::OpenSslCrypto crypto;
  AeadKey kek{};
  NodeRecord record;
  bool have_record = false;
  bool locked = false;
  std::unique_ptr<storage::RocksDisk> disk;
  std::unique_ptr<net::Endpoint> endpoint;
  std::unique_ptr<RpcPeer> rpc;
  std::unique_ptr<Env> env;
  std::unique_ptr<store::Store> store;
  TimerId info_timer = 0;
  std::unique_ptr<raft::RaftNode> raft;
  std::unique_ptr<manager::Manager> manager;
  // Every node runs tasks: its agent keeps a session with the leader's dispatcher and runs what
  // it is given as child processes. Declared after the manager, so destroyed before it.
  std::unique_ptr<Env> agent_env;
  // Every node gossips (issue 5): who is alive, and the replicated table.
  std::unique_ptr<Env> gossip_env;
  std::unique_ptr<GossipNode> gossip;
  std::unique_ptr<real::ProcessRuntime> runtime;
  std::unique_ptr<agent::Agent> agent;
  api::Router router;
  ApiContext api_ctx;
  std::unique_ptr<api::HttpServer> http;
  TimerId renew_timer = 0;
  bool renewing = false;
  std::vector<std::string> trusted_roots;
  TimerId found_timer = 0;
  bool stopping = false;
  bool wipe_on_exit = false;

  int64_t now_s() const { return clock.wall_now_unix_ns() / 1'000'000'000; }

  // ---- running the loop until something is done (start-up steps that wait on the network) ----
  template <typename Pred>
  bool run_until(Pred done, Duration limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_one_for(std::chrono::milliseconds(50));
      if (io.stopped()) io.restart();
    }
    return done();
  }

  Status sync_disk() {
    std::optional<Status> result;
    disk->sync([&](Status s) { result = s; });
    if (!run_until([&] { return result.has_value(); }, std::chrono::seconds(30))) {
      return Status::io_error("the data directory did not sync within 30 s");
    }
    return *result;
  }

  Status open_disk(bool create) {
    storage::RocksDiskOptions o;
    o.path = opts.data_dir + "/raft";
    o.kek = kek;
    o.create_if_missing = create;
    o.post = [this](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); };
    auto d = storage::RocksDisk::open(std::move(o), crypto);
    if (!d.ok()) return d.status();
    disk = std::move(*d);
    return {};
  }

  // ---- init ----
  Status init_cluster() {
    if (data_dir_in_use(opts.data_dir)) {
      return Status::failed_precondition("data directory " + opts.data_dir +
                                         " already holds a node; start it with `shoald --data-dir " + opts.data_dir +
                                         "`, or give `init` an empty --data-dir");
    }
    if (Status s = make_data_dir(opts.data_dir); !s.ok()) return s;
    store::ObjectIdBytes cid;
    crypto.random_bytes(cid.data(), cid.size());
    const std::string cluster_id = store::object_id_from_bytes(cid);
    NodeId self = 0;
    while (self == 0) crypto.random_bytes(reinterpret_cast<uint8_t*>(&self), sizeof self);

    auto root = ca::create_root_ca(crypto, cluster_id, now_s());
    if (!root.ok()) return root.status();
    auto key = crypto.generate_key();
    if (!key.ok()) return key.status();
    auto csr = crypto.make_csr(key->private_key_pem);
    if (!csr.ok()) return csr.status();
    auto cert = ca::CertificateAuthority(*root).issue_node_certificate(crypto, *csr, self, NodeRole::kManager,
                                                                        cluster_id, now_s(), opts.cert_expiry_s);
    if (!cert.ok()) return cert.status();
    auto digest = crypto.certificate_digest(root->cert_pem);
    if (!digest.ok()) return digest.status();

    crypto.random_bytes(kek.data(), kek.size());
    if (Status s = open_disk(true); !s.ok()) return s;
    record = NodeRecord{self, cluster_id, NodeRole::kManager, opts.listen_addr, opts.advertise_addr, key->private_key_pem,
                        *cert, root->cert_pem, {}};
    save_node_record(*disk, record);

    storepb::ClusterObject cluster;
    cluster.set_id(cluster_id);
    cluster.set_name("default");
    cluster.set_autolock(opts.autolock);
    cluster.set_node_cert_expiry_s(opts.cert_expiry_s);
    cluster.set_root_ca_cert_pem(root->cert_pem);
    cluster.set_root_ca_key_pem(root->key_pem);
    auto tokens = ca::JoinTokens::generate(*digest, crypto);
    cluster.set_manager_token(tokens.token(NodeRole::kManager));
    cluster.set_worker_token(tokens.token(NodeRole::kWorker));
    if (opts.autolock) cluster.set_unlock_key(format_unlock_key(kek));
    // Kept until the founding transaction has committed, so a crash before that retries it.
    disk->put("node/founding", cluster.SerializeAsString());
    if (Status s = sync_disk(); !s.ok()) return s;
    if (opts.autolock) {
      std::cout << "Swarm initialized: current node (" << ca::node_id_text(self) << ") is now a manager.\n\n"
                << "To unlock a swarm manager after it restarts, run the `shoal swarm unlock`\n"
                << "command and provide the following key:\n\n    " << format_unlock_key(kek) << "\n\n"
                << "Please remember to store this key in a password manager, since without it you\n"
                << "will not be able to restart the manager.\n"
                << std::flush;
    } else {
      if (Status s = write_unlock_key_file(opts.data_dir, kek); !s.ok()) return s;
      std::cout << "Swarm initialized: current node (" << ca::node_id_text(self) << ") is now a manager.\n\n"
                << "To add a worker to this swarm, run the following command:\n\n    shoald join --token "
                << cluster.worker_token() << " " << opts.advertise_addr << "\n\n"
                << "To add a manager to this swarm, run 'shoal swarm join-token manager' and follow the "
                   "instructions.\n"
                << std::flush;
    }
    have_record = true;
    if (Status s = start_node({self}); !s.ok()) return s;
    // The API opens once the cluster exists, so the first `shoal` command finds it.
    if (!run_until([this] { return store->cluster() != nullptr; }, std::chrono::seconds(10))) {
      return Status::unavailable("the new cluster was not founded within 10 s (see the log above)");
    }
    return {};
  }

  // The founding transaction: the cluster object and this node, committed once this node leads.
  void found_cluster_when_leader() {
    found_timer = 0;
    auto founding = disk->get("node/founding");
    if (!founding) return;
    if (store->cluster()) {
      disk->erase("node/founding");
      return;
    }
    if (!manager->is_leader()) {
      found_timer = timers.after(opts.tick, [this] { found_cluster_when_leader(); });
      return;
    }
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::CREATE);
    a->mutable_cluster()->ParseFromString(*founding);
    auto* n = tx.add_actions();
    n->set_kind(storepb::StoreAction::CREATE);
    auto* node = n->mutable_node();
    node->set_id(ca::node_id_text(record.node_id));
    node->mutable_spec()->set_desired_role(storepb::MANAGER);
    node->mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
    node->set_role(storepb::MANAGER);
    node->set_hostname(opts.hostname);
    node->set_addr(record.advertise_addr);
    node->set_state(storepb::NodeObject::READY);
    node->set_cert_pem(record.cert_pem);
    manager->submit(std::move(tx), [this](Status s, uint64_t) {
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
        spdlog::warn("founding the cluster: {}; retrying", s.message());
        found_timer = timers.after(std::chrono::milliseconds(200), [this] { found_cluster_when_leader(); });
        return;
      }
      disk->erase("node/founding");
      spdlog::info("cluster {} founded", record.cluster_id);
    });
  }

  // ---- join ----
  Result<std::string> call_once(RpcPeer& rpc, const std::string& method, std::string body,
                                std::function<Status(std::string_view)> check) {
    std::optional<Status> status;
    std::string reply;
    rpc.call_address(opts.join_addr, /*anonymous=*/true, std::move(check), method, std::move(body), kJoinTimeout,
                    [&](Status s, std::string b) {
                      status = s;
                      reply = std::move(b);
                    });
    run_until([&] { return status.has_value(); }, kJoinTimeout + std::chrono::seconds(2));
    if (!status) return Status::unavailable("no answer from " + opts.join_addr);
    if (!status->ok()) return *status;
    return reply;
  }

  Status join_cluster() {
    if (data_dir_in_use(opts.data_dir)) {
      return Status::failed_precondition("data directory " + opts.data_dir +
                                         " already holds a node of a cluster; start it with `shoald --data-dir " +
                                         opts.data_dir + "`, or join with an empty --data-dir");
    }
    auto token = ca::parse_join_token(opts.join_token);
    if (!token.ok()) return Status::invalid_argument("invalid join token: " + token.status().message());
    net::Endpoint anon(io, net::EndpointOptions{}, net::TlsIdentity{});
    RpcPeer anon_rpc(timers, rng, log, anon.rpc_wire(), PeerIdentity{});
    auto unreachable = [this](const Status& s) {
      return Status::unavailable("cannot reach a manager at " + opts.join_addr + ": " + s.message() +
                                 "; check the address and that the manager's port is open");
    };
    // 1. The root CA the manager shows, checked against the token before anything secret leaves.
    auto root = call_once(anon_rpc, "ca.root", "", [](std::string_view) { return Status{}; });
    if (!root.ok()) {
      return root.status().code() == StatusCode::kUnavailable || root.status().code() == StatusCode::kDeadlineExceeded
                 ? unreachable(root.status())
                 : root.status();
    }
    auto digest = crypto.certificate_digest(*root);
    if (!digest.ok()) return Status::invalid_argument("the manager sent no valid root CA: " + digest.status().message());
    if (Status s = ca::verify_shown_ca(*token, *digest); !s.ok()) return s;
    // 2. Token and certificate request, only to a server whose certificate chains to that root.
    auto key = crypto.generate_key();
    if (!key.ok()) return key.status();
    auto csr = crypto.make_csr(key->private_key_pem);
    if (!csr.ok()) return csr.status();
    managerpb::JoinRequest req;
    req.set_token(opts.join_token);
    req.set_csr_pem(*csr);
    req.set_advertise_addr(opts.advertise_addr);
    req.set_hostname(opts.hostname);
    const std::string root_pem = *root;
    // A cluster between leaders answers "unavailable"; like Docker's join, keep trying a while.
    Result<std::string> answer = Status::unavailable("not tried");
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      answer = call_once(anon_rpc, "node.join", req.SerializeAsString(), [this, root_pem](std::string_view chain) {
        return crypto.verify_certificate(chain, {root_pem}, now_s());
      });
      if (answer.ok() || answer.status().code() != StatusCode::kUnavailable ||
          std::chrono::steady_clock::now() > give_up) {
        break;
      }
      run_until([] { return false; }, std::chrono::milliseconds(300));
    }
    anon.stop();
    if (!answer.ok()) {
      if (answer.status().code() == StatusCode::kPermissionDenied) return answer.status();
      return answer.status().code() == StatusCode::kUnavailable ? unreachable(answer.status()) : answer.status();
    }
    managerpb::JoinResponse resp;
    if (!resp.ParseFromString(*answer)) return Status::corruption("the manager's join answer does not parse");

    if (Status s = make_data_dir(opts.data_dir); !s.ok()) return s;
    crypto.random_bytes(kek.data(), kek.size());
    if (Status s = open_disk(true); !s.ok()) return s;
    record = NodeRecord{resp.node_id(), resp.cluster_id(), store::from_store(resp.role()), opts.listen_addr, opts.advertise_addr,
                        key->private_key_pem, resp.cert_chain_pem(), resp.root_ca_pem(), {}};
    for (const auto& m : resp.managers()) record.managers.emplace_back(m.node_id(), m.addr());
    save_node_record(*disk, record);
    if (Status s = sync_disk(); !s.ok()) return s;
    if (Status s = write_unlock_key_file(opts.data_dir, kek); !s.ok()) return s;
    std::cout << "This node joined a swarm as a " << role_name(store::from_store(resp.role())) << " (node " << ca::node_id_text(resp.node_id())
              << ").\n"
              << std::flush;
    have_record = true;
    if (Status s = start_node({}); !s.ok()) return s;
    // A new manager opens its API once it has caught up with the cluster's state, so its first
    // answers are not "not caught up yet".
    if (manager && !run_until([this] { return store->cluster() != nullptr; }, std::chrono::seconds(15))) {
      spdlog::warn("not caught up with the cluster after 15 s; the API answers 503 until it is");
    }
    return {};
  }

  // ---- restart ----
  Status open_existing() {
    if (!data_dir_in_use(opts.data_dir)) {
      return Status::failed_precondition("data directory " + opts.data_dir +
                                         " holds no node; create a cluster with `shoald init` or join one with "
                                         "`shoald join --token TOKEN HOST:2377`");
    }
    auto key = read_unlock_key_file(opts.data_dir);
    if (!key.ok()) return key.status();
    if (!*key) {
      locked = true;
      spdlog::warn("this manager is locked: its raft data stays sealed until `shoal swarm unlock`");
      return {};
    }
    kek = **key;
    return open_and_start();
  }

  Status open_and_start() {
    if (Status s = open_disk(false); !s.ok()) return s;
    auto rec = load_node_record(*disk);
    if (!rec.ok()) return rec.status();
    record = *rec;
    have_record = true;
    locked = false;
    return start_node({});
  }

  Status unlock(const AeadKey& key) {
    if (!locked) return Status::failed_precondition("not locked");
    kek = key;
    Status s = open_and_start();
    if (!s.ok()) {
      disk.reset();
      locked = true;
    }
    return s;
  }

  // ---- running ----
  Status start_node(std::vector<NodeId> bootstrap_voters) {
    // A node that was away longer than its certificate lives cannot prove who it is any more.
    auto own = crypto.parse_certificate(record.cert_pem);
    if (!own.ok()) return Status::corruption("this node's certificate is unreadable: " + own.status().message());
    if (own->not_after_unix_s < now_s()) {
      return Status::failed_precondition(
          "this node's certificate expired at " + rfc3339(own->not_after_unix_s * 1'000'000'000LL) +
          " (it was offline longer than the certificate lives); move " + opts.data_dir +
          " aside and join the cluster again with a join token");
    }
    net::EndpointOptions eo;
    eo.self = record.node_id;
    eo.cluster_id = record.cluster_id;
    eo.listen_address = record.listen_addr;
    trusted_roots = {record.root_ca_pem};
    endpoint = std::make_unique<net::Endpoint>(io, eo, net::TlsIdentity{record.cert_pem, record.key_pem, trusted_roots});
    if (Status s = endpoint->start(); !s.ok()) return s;
    for (const auto& [mid, addr] : record.managers) {
      if (mid != record.node_id) endpoint->set_peer_address(mid, addr);
    }
    rpc = std::make_unique<RpcPeer>(timers, rng, log, endpoint->rpc_wire(), self_identity());
    if (Status s = start_gossip(); !s.ok()) return s;
    if (record.role == NodeRole::kManager) {
      if (Status s = start_manager(std::move(bootstrap_voters)); !s.ok()) return s;
    }
    start_agent();
    api_ctx.record = &record;
    schedule_renewal();
    poll_node_info();
    spdlog::info("node {} ({}) of cluster {} listening on {}", ca::node_id_text(record.node_id), role_name(record.role),
                 record.cluster_id, record.listen_addr);
    return {};
  }

  Status start_gossip() {
    gossip_env = std::make_unique<Env>(Env{clock, timers, rng, endpoint->raft_transport(), *disk, log});
    GossipNodeOptions go;
    go.self = record.node_id;
    go.hostname = opts.hostname;
    go.listen_addr = opts.gossip_listen_addr;
    go.advertise_addr = opts.gossip_advertise_addr;
    go.advertise_host = record.advertise_addr.substr(0, record.advertise_addr.rfind(':'));
    gossip = std::make_unique<GossipNode>(io, *gossip_env, crypto, go);
    return gossip->start();
  }

  PeerIdentity self_identity() const {
    return PeerIdentity{record.node_id, record.role, record.cluster_id};
  }

  // The agent talks to the managers the cluster last named (this node first, if it is one).
  void start_agent() {
    agent_env = std::make_unique<Env>(Env{clock, timers, rng, endpoint->raft_transport(), *disk, log});
    runtime = std::make_unique<real::ProcessRuntime>(io);
    agent::AgentOptions ao;
    ao.hostname = opts.hostname;
    ao.description = describe_this_machine(opts.engine_labels);
    if (gossip) ao.description.set_gossip_addr(gossip->advertise_addr());
    agent = std::make_unique<agent::Agent>(*agent_env, *rpc, *runtime, [this] {
      std::vector<NodeId> ids;
      if (manager) ids.push_back(record.node_id);
      for (const auto& [id, addr] : record.managers) {
        if (id != record.node_id) ids.push_back(id);
      }
      return ids;
    }, ao);
    agent->start();
  }

  // The manager's parts: Raft on the sealed disk, the replicated store, the Manager.
  Status start_manager(std::vector<NodeId> bootstrap_voters) {
    store = std::make_unique<store::Store>();
    env = std::make_unique<Env>(Env{clock, timers, rng, endpoint->raft_transport(), *disk, log});
    store->on_change([this](const storepb::StoreAction& a) { on_store_change(a); });
    raft::RaftNodeOptions ro;
    ro.raft.id = record.node_id;
    ro.raft.election_tick = opts.election_ticks;
    ro.raft.heartbeat_tick = opts.heartbeat_ticks;
    ro.tick_interval = opts.tick;
    // A snapshot copies the whole store; take one every 100,000 entries (etcd's default), keeping
    // 1,000 behind it for followers that lag a little. At 10,000 snapshots were 2.6 % of a
    // manager's CPU under write load with 50,000 configs.
    ro.snapshot_every = 100000;
    ro.keep_behind_snapshot = 1000;
    ro.bootstrap_voters = std::move(bootstrap_voters);
    ro.force_new_cluster = opts.force_new_cluster;
    if (opts.force_new_cluster) spdlog::warn("--force-new-cluster: this manager alone is now the cluster");
    raft::RaftNodeEvents events;
    raft = std::make_unique<raft::RaftNode>(*env, ro, *store, events);
    if (!raft->status().ok()) return Status::corruption("raft state: " + raft->status().message());
    manager::ManagerOptions mo;
    mo.self = record.node_id;
    manager = std::make_unique<manager::Manager>(*env, crypto, *rpc, *raft, *store, mo);
    api_ctx.store = store.get();
    api_ctx.manager = manager.get();
    if (disk->get("node/founding")) found_cluster_when_leader();
    return {};
  }

  // A demoted manager leaves Raft (the leader removes it) and forgets its copy of the log.
  void stop_manager() {
    api_ctx.manager = nullptr;
    api_ctx.store = nullptr;
    manager.reset();
    raft.reset();
    env.reset();
    store.reset();
    disk->erase_range("raft/", "raft0");
    disk->sync([](Status) {});
  }

  void on_store_change(const storepb::StoreAction& a) {
    if (a.object_case() == storepb::StoreAction::kNode) {
      const auto& n = a.node();
      auto id = ca::parse_node_id(n.id());
      if (!id.ok()) return;
      if (*id == record.node_id) {
        // Promote / demote of this node: deferred, so the store finishes applying first.
        if (store::from_store(n.spec().desired_role()) != record.role) boost::asio::post(io, [this] { check_node_info(); });
        return;
      }
      if (a.kind() == storepb::StoreAction::REMOVE) {
        endpoint->forget_peer(*id);
      } else if (!n.addr().empty()) {
        // Managers for Raft; workers too, whose agents a manager asks for task logs.
        endpoint->set_peer_address(*id, n.addr());
      }
    } else if (a.object_case() == storepb::StoreAction::kCluster) {
      apply_autolock(a.cluster());
      boost::asio::post(io, [this] { check_node_info(); });
    }
  }

  // Compares what the cluster wants of this node with what it has: managers read it from their
  // store, workers ask a manager every 2 s.
  void check_node_info() {
    if (manager && store && store->cluster()) apply_node_info(manager->node_info(record.node_id));
  }

  void poll_node_info() {
    timers.cancel(info_timer);
    info_timer = timers.after(std::chrono::seconds(2), [this] { poll_node_info(); });
    if (manager) return check_node_info();
    if (record.managers.empty()) return;
    const NodeId to = record.managers[rng.uniform(0, record.managers.size() - 1)].first;
    rpc->call(to, "node.info", "", std::chrono::seconds(2), [this](Status s, std::string body) {
      managerpb::NodeInfoResponse info;
      if (s.ok() && info.ParseFromString(body)) apply_node_info(info);
    });
  }

  void apply_node_info(const managerpb::NodeInfoResponse& info) {
    if (gossip) gossip->update(info);
    if (info.managers_size() > 0) {
      record.managers.clear();
      for (const auto& m : info.managers()) {
        record.managers.emplace_back(m.node_id(), m.addr());
        if (m.node_id() != record.node_id) endpoint->set_peer_address(m.node_id(), m.addr());
      }
    }
    std::vector<std::string> roots(info.trusted_roots_pem().begin(), info.trusted_roots_pem().end());
    if (!roots.empty() && roots != trusted_roots) {
      trusted_roots = roots;
      if (Status s = endpoint->set_identity({record.cert_pem, record.key_pem, trusted_roots}); !s.ok()) {
        spdlog::error("new trust roots refused: {}", s.message());
      } else {
        spdlog::info("now trusting {} root CA(s)", trusted_roots.size());
      }
    }
    const bool wrong_role = info.has_desired_role() && store::from_store(info.desired_role()) != record.role;
    const bool wrong_root = !info.signing_root_pem().empty() &&
                            !crypto.verify_certificate(record.cert_pem, {info.signing_root_pem()}, now_s()).ok();
    if ((wrong_role || wrong_root) && !renewing) {
      spdlog::info("renewing now: {}", wrong_role ? "the cluster changed this node's role" : "the root CA is rotating");
      renew();
    }
  }

  // Autolock on: this manager's data key is sealed under the cluster's unlock key, and no key
  // file stays on disk. Off: a key of its own, kept in the key file.
  void apply_autolock(const storepb::ClusterObject& c) {
    if (!disk) return;
    if (c.autolock()) {
      auto key = parse_unlock_key(c.unlock_key());
      if (!key.ok() || *key == kek) return;
      if (Status s = disk->rewrap_data_key(*key); !s.ok()) return spdlog::error("autolock: {}", s.message());
      kek = *key;
      remove_unlock_key_file(opts.data_dir).ignore();
      spdlog::info("autolock: data key now sealed under the cluster's unlock key");
    } else {
      auto file = read_unlock_key_file(opts.data_dir);
      if (file.ok() && *file) return;
      AeadKey fresh;
      crypto.random_bytes(fresh.data(), fresh.size());
      if (Status s = disk->rewrap_data_key(fresh); !s.ok()) return spdlog::error("autolock off: {}", s.message());
      kek = fresh;
      write_unlock_key_file(opts.data_dir, kek).ignore();
      spdlog::info("autolock off: unlock key kept in the data directory");
    }
  }

  // ---- certificate renewal ----
  void schedule_renewal() {
    auto info = crypto.parse_certificate(record.cert_pem);
    if (!info.ok()) return spdlog::error("own certificate: {}", info.status().message());
    const Duration delay = ca::renewal_delay(*info, now_s(), rng);
    timers.cancel(renew_timer);
    renew_timer = timers.after(delay, [this] { renew(); });
    spdlog::info("certificate valid until {}, renewal in {:.1f} s", info->not_after_unix_s, to_seconds(delay));
  }

  void renew() {
    timers.cancel(renew_timer);
    renew_timer = 0;
    auto key = crypto.generate_key();
    auto csr = key.ok() ? crypto.make_csr(key->private_key_pem) : Result<std::string>(key.status());
    if (!csr.ok()) return spdlog::error("renewal: {}", csr.status().message());
    renewing = true;
    auto done = [this, key_pem = key->private_key_pem](Status s, const managerpb::RenewResponse& resp) {
      renewing = false;
      if (!s.ok()) {
        spdlog::warn("renewal failed: {}; retrying in 2 s", s.message());
        renew_timer = timers.after(std::chrono::seconds(2), [this] { renew(); });
        return;
      }
      // Posted: installing may stop the manager, which must not happen inside its own callback.
      boost::asio::post(io, [this, key_pem, resp] { install_certificate(key_pem, resp); });
    };
    if (manager) return manager->renew_certificate(record.node_id, *csr, done);
    if (record.managers.empty()) return done(Status::unavailable("no manager address known"), {});
    managerpb::RenewRequest req;
    req.set_csr_pem(*csr);
    const NodeId to = record.managers[rng.uniform(0, record.managers.size() - 1)].first;
    rpc->call(to, "ca.renew", req.SerializeAsString(), std::chrono::seconds(5), [done](Status s, std::string body) {
      managerpb::RenewResponse resp;
      if (s.ok() && !resp.ParseFromString(body)) s = Status::corruption("renew answer does not parse");
      done(s, resp);
    });
  }

  void install_certificate(const std::string& key_pem, const managerpb::RenewResponse& resp) {
    const NodeRole old_role = record.role;
    record.key_pem = key_pem;
    record.cert_pem = resp.cert_chain_pem();
    record.role = store::from_store(resp.role());
    if (rpc) rpc->set_identity(self_identity());
    if (!resp.root_ca_pem().empty()) record.root_ca_pem = resp.root_ca_pem();
    if (std::find(trusted_roots.begin(), trusted_roots.end(), record.root_ca_pem) == trusted_roots.end()) {
      trusted_roots.push_back(record.root_ca_pem);
    }
    if (Status s = endpoint->set_identity({record.cert_pem, record.key_pem, trusted_roots}); !s.ok()) {
      spdlog::error("renewal: the new certificate was refused: {}", s.message());
    }
    save_node_record(*disk, record);
    disk->sync([](Status s) {
      if (!s.ok()) spdlog::error("renewal: saving the certificate: {}", s.message());
    });
    spdlog::info("certificate renewed (role {})", role_name(record.role));
    if (old_role == NodeRole::kManager && record.role == NodeRole::kWorker) {
      spdlog::info("demoted: leaving the managers");
      stop_manager();
    } else if (old_role == NodeRole::kWorker && record.role == NodeRole::kManager) {
      spdlog::info("promoted: joining the managers");
      if (Status s = start_manager({}); !s.ok()) spdlog::error("promotion: {}", s.message());
    }
    schedule_renewal();
  }

  // ---- the API ----
  Status start_api() {
    api_ctx.crypto = &crypto;
    api_ctx.hostname = opts.hostname;
    api_ctx.locked = [this] { return locked; };
    api_ctx.unlock = [this](const AeadKey& k) { return unlock(k); };
    api_ctx.shutdown = [this](bool wipe) {
      wipe_on_exit = wipe;
      boost::asio::post(io, [this] { stop(); });
    };
    api_ctx.reachable = [this](uint64_t id) {
      if (id == record.node_id) return true;
      if (!raft || !manager || !manager->is_leader()) return true;  // only the leader tracks followers
      const raft::Progress* pr = raft->raft().progress(id);
      return pr != nullptr && pr->recent_active;
    };
    // A task's logs, from the agent of the node that runs it (this node's own: without the
    // network). The address comes from the store, in case no change has named it here yet.
    api_ctx.task_logs = [this](const storepb::NodeObject& node, const agentpb::LogsRequest& req, Rpc::Reply done) {
      auto id = ca::parse_node_id(node.id());
      if (!id.ok()) return done(Status::invalid_argument("bad node id " + node.id()), "");
      if (!rpc || !endpoint) return done(Status::unavailable("this node is not running"), "");
      if (*id != record.node_id) {
        if (node.addr().empty()) return done(Status::unavailable("the node has no known address"), "");
        endpoint->set_peer_address(*id, node.addr());
      }
      rpc->call(*id, agent::kLogsMethod, req.SerializeAsString(), std::chrono::seconds(3), std::move(done));
    };
    api_ctx.gossip = gossip.get();
    add_api_routes(router, api_ctx);
    http = std::make_unique<api::HttpServer>(io, [this](api::HttpRequest req, api::Responder respond) {
      router.dispatch(std::move(req), std::move(respond));
    });
    return http->listen_unix(opts.socket_path);
  }

  void stop() {
    if (stopping) return;
    stopping = true;
    spdlog::info("shutting down");
    if (http) http->stop();
    if (gossip) gossip->leave();  // its dead-with-leave goes out in the moment below
    if (endpoint) endpoint->stop();
    // A moment for answers already being written (the reply to `swarm leave`) to go out.
    timers.after(std::chrono::milliseconds(200), [this] { io.stop(); });
  }

  int run() {
    Status s;
    switch (opts.mode) {
      case DaemonOptions::Mode::kInit: s = init_cluster(); break;
      case DaemonOptions::Mode::kJoin: s = join_cluster(); break;
      case DaemonOptions::Mode::kRestart: s = open_existing(); break;
    }
    if (s.ok()) s = start_api();
    if (!s.ok()) {
      std::cerr << "shoald: " << s.message() << "\n";
      return 1;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) stop();
    });
    io.restart();
    io.run();
    agent.reset();
    api_ctx.gossip = nullptr;
    gossip.reset();
    runtime.reset();  // kills and reaps every task still running
    manager.reset();
    raft.reset();
    if (disk) disk->close();
    if (wipe_on_exit) {
      std::error_code ec;
      std::filesystem::remove_all(opts.data_dir, ec);
    }
    return 0;
  }
};

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Daemon::~Daemon() = default;
int Daemon::run() { return impl_->run(); }

}  // namespace shoal::daemon
