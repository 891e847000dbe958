// Daemon: one shoald process — a manager or a worker of one cluster — on one io_context thread.
//
// Start-up takes one of three paths, then runs the node until SIGINT/SIGTERM:
//   init     make a new cluster: root CA, this manager's certificate, join tokens, a one-member
//            Raft; once it leads, it commits the founding transaction (cluster + node objects)
//   join     fetch the root CA from a manager, check it against the token's digest, then send
//            the token with a certificate request; a manager joins Raft as a learner
//   restart  open the data directory (or wait to be unlocked, when the cluster is autolocked)
//
// The client API (Docker's shape, io_real/daemon/api_routes) is served on a unix socket.
#pragma once
#include <memory>
#include <string>
#include "core/ca/certificate_authority.h"
#include <map>

#include "core/env/status.h"
#include "core/env/time.h"

namespace shoal::daemon {

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

}  // namespace shoal::daemon
