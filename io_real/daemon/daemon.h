// Daemon: one shoald process on one io_context thread. It wires the real world to the node
// (core/node/node.h), which makes every protocol decision: the TLS endpoint on the cluster port,
// the gossip socket, the process runtime, the data directory, the OS clock, Asio timers and
// spdlog. It starts the node one of three ways (init, join, restart; see the Node), serves the
// client API (Docker's shape, io_real/daemon/api_routes) on a unix socket once the node is up,
// and runs until SIGINT/SIGTERM or a `swarm leave`.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "core/ca/certificate_authority.h"
#include "core/env/status.h"
#include "core/env/time.h"

namespace shoal::real {

struct DaemonOptions {
  enum class Mode { kRestart, kInit, kJoin };
  Mode mode = Mode::kRestart;
  std::string data_dir = "/var/lib/shoal";
  std::string listen_addr = "0.0.0.0:2377";
  std::string advertise_addr;  // defaults to listen_addr
  std::string socket_path = "/var/run/shoal.sock";
  // Gossip (UDP and TCP): where it listens, and the address others reach it at (empty: the
  // advertise address's host with the bound gossip port).
  std::string gossip_listen_addr = "0.0.0.0:7946";
  std::string gossip_advertise_addr;
  std::string hostname;        // defaults to the machine's
  std::map<std::string, std::string> engine_labels;  // --label KEY=VALUE: engine.labels.KEY
  std::string join_token;
  std::string join_addr;
  bool autolock = false;
  bool force_new_cluster = false;
  int64_t cert_expiry_s = ca::kNodeCertLifetimeS;
  // Raft timing: a tick, and election / heartbeat in ticks. Failover takes about
  // election_ticks..2*election_ticks ticks.
  Duration tick = std::chrono::milliseconds(20);
  int election_ticks = 10;
  int heartbeat_ticks = 1;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();
  // Runs until a signal or a leave; returns the process exit code. Errors that stop start-up
  // are printed as one line saying what is wrong and what to do.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::real
