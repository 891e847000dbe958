#include <utility>  // Boost 1.74's asio/awaitable.hpp misses it under C++20

#include "io_real/daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "core/env/random.h"
#include "core/node/node.h"
#include "io_real/api/http_server.h"
#include "io_real/api/router.h"
#include "io_real/crypto/openssl_crypto.h"
#include "io_real/daemon/api_context.h"
#include "io_real/daemon/api_routes.h"
#include "io_real/daemon/data_dir.h"
#include "io_real/daemon/node_description.h"
#include "io_real/env/real_env.h"
#include "io_real/env/spdlog_sink.h"
#include "io_real/net/endpoint.h"
#include "io_real/net/gossip_socket.h"
#include "io_real/runtime/process_runtime.h"

namespace shoal::real {
namespace {

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
  real::OpenSslCrypto crypto;
  // The cluster port: no identity until the node has one (a node that joins calls anonymously).
  real::Endpoint endpoint{io, real::EndpointOptions{}, TlsIdentity{}};
  real::GossipSocket gossip{io, real::GossipSocketOptions{.listen_address = opts.gossip_listen_addr}};
  real::ProcessRuntime runtime{io};
  DataDir data{opts.data_dir, crypto, [this](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); }};
  std::unique_ptr<node::Node> node;
  real::Router router;
  ApiContext api_ctx;
  std::unique_ptr<real::HttpServer> http;
  bool stopping = false;
  bool wipe_on_exit = false;
  int exit_code = 0;

  node::NodeOptions node_options() const {
    node::NodeOptions no;
    no.hostname = opts.hostname;
    no.listen_addr = opts.listen_addr;
    no.advertise_addr = opts.advertise_addr;
    no.gossip_advertise_addr = opts.gossip_advertise_addr;
    no.gossip_port = gossip.port();
    no.description = describe_this_machine(opts.engine_labels);
    no.autolock = opts.autolock;
    no.cert_expiry_s = opts.cert_expiry_s;
    no.tick = opts.tick;
    no.election_ticks = opts.election_ticks;
    no.heartbeat_ticks = opts.heartbeat_ticks;
    // A snapshot copies the whole store: one every 100,000 entries (etcd's default), keeping
    // 1,000 behind it for followers that lag a little.
    no.snapshot_every = 100000;
    no.keep_behind_snapshot = 1000;
    no.force_new_cluster = opts.force_new_cluster;
    return no;
  }

  // Start-up failed: one line saying what is wrong and what to do, and exit 1.
  void fail(const Status& s) {
    std::cerr << "shoald: " << s.message() << "\n";
    exit_code = 1;
    io.stop();
  }

  void started() {
    if (Status s = start_api(); !s.ok()) fail(s);
  }

  void start_node() {
    node = std::make_unique<node::Node>(
        node::NodeSeams{clock, timers, rng, log, crypto, endpoint, &gossip, data, runtime}, node_options());
    node->on_manager_changed([this] {
      api_ctx.store = node->store();
      api_ctx.manager = node->manager();
    });
    switch (opts.mode) {
      case DaemonOptions::Mode::kInit:
        return node->init([this](Result<node::InitResult> r) {
          if (!r.ok()) return fail(r.status());
          print_init(*r);
          started();
        });
      case DaemonOptions::Mode::kJoin:
        return node->join(opts.join_token, opts.join_addr, [this](Result<node::JoinResult> r) {
          if (!r.ok()) return fail(r.status());
          std::cout << "This node joined a swarm as a " << role_name(r->role) << " (node " << node_id_text(r->node_id)
                    << ").\n"
                    << std::flush;
          started();
        });
      case DaemonOptions::Mode::kRestart:
        return node->restart([this](Status s) {
          if (!s.ok()) return fail(s);
          started();
        });
    }
  }

  void print_init(const node::InitResult& r) {
    std::cout << "Swarm initialized: current node (" << node_id_text(r.node_id) << ") is now a manager.\n\n";
    if (r.unlock_key) {
      std::cout << "To unlock a swarm manager after it restarts, run the `shoal swarm unlock`\n"
                << "command and provide the following key:\n\n    " << *r.unlock_key << "\n\n"
                << "Please remember to store this key in a password manager, since without it you\n"
                << "will not be able to restart the manager.\n";
    } else {
      std::cout << "To add a worker to this swarm, run the following command:\n\n    shoald join --token "
                << r.worker_token << " " << r.advertise_addr << "\n\n"
                << "To add a manager to this swarm, run 'shoal swarm join-token manager' and follow the "
                   "instructions.\n";
    }
    std::cout << std::flush;
  }

  Status start_api() {
    api_ctx.crypto = &crypto;
    api_ctx.clock = &clock;
    api_ctx.hostname = opts.hostname;
    api_ctx.record = [this] { return node->record(); };
    api_ctx.gossip = [this] { return node->gossip(); };
    api_ctx.store = node->store();
    api_ctx.manager = node->manager();
    api_ctx.locked = [this] { return node->locked(); };
    api_ctx.unlock = [this](const AeadKey& k) { return node->unlock(k); };
    api_ctx.shutdown = [this](bool wipe) {
      wipe_on_exit = wipe;
      boost::asio::post(io, [this] { stop(); });
    };
    api_ctx.reachable = [this](uint64_t id) { return node->reachable(id); };
    api_ctx.raft_member = [this](uint64_t id) {
      const raft::RaftNode* r = node->raft();
      return r && (r->raft().is_voter(id) || r->raft().is_learner(id));
    };
    api_ctx.task_logs = [this](const storepb::NodeObject& n, const agentpb::LogsRequest& req, Rpc::Reply done) {
      node->task_logs(n, req, std::move(done));
    };
    add_api_routes(router, api_ctx);
    http = std::make_unique<real::HttpServer>(io, [this](real::HttpRequest req, real::Responder respond) {
      router.dispatch(std::move(req), std::move(respond));
    });
    return http->listen_unix(opts.socket_path);
  }

  void stop() {
    if (stopping) return;
    stopping = true;
    spdlog::info("shutting down");
    if (http) http->stop();
    if (node) node->stop();
    // A moment for answers already being written (the reply to `swarm leave`) to go out.
    timers.after(std::chrono::milliseconds(200), [this] { io.stop(); });
  }

  int run() {
    if (Status s = gossip.start(); !s.ok()) {
      std::cerr << "shoald: gossip: " << s.message() << "\n";
      return 1;
    }
    start_node();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) stop();
    });
    io.run();
    http.reset();
    node.reset();
    gossip.stop();
    endpoint.stop();
    data.close();
    if (wipe_on_exit) data.wipe();
    return exit_code;
  }
};

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Daemon::~Daemon() = default;
int Daemon::run() { return impl_->run(); }

}  // namespace shoal::real
