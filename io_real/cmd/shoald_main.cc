// shoald: the Shoal daemon. `shoald init` makes a cluster, `shoald join --token T HOST:2377`
// joins one, and plain `shoald` restarts the node kept in --data-dir.
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "io_real/cli/format.h"
#include "io_real/daemon/daemon.h"

int main(int argc, char** argv) {
  using shoal::real::DaemonOptions;
  DaemonOptions opts;
  CLI::App app{"shoald: the Shoal cluster daemon"};
  app.add_option("--data-dir", opts.data_dir, "where this node keeps its state")->capture_default_str();
  app.add_option("--listen-addr", opts.listen_addr, "cluster port: HOST:PORT")->capture_default_str();
  app.add_option("--advertise-addr", opts.advertise_addr, "address other nodes reach this one at (default: listen)");
  app.add_option("--gossip-addr", opts.gossip_listen_addr, "gossip port, UDP and TCP: HOST:PORT")->capture_default_str();
  app.add_option("--gossip-advertise-addr", opts.gossip_advertise_addr,
                 "address other nodes reach this one's gossip at (default: advertise host, gossip port)");
  app.add_option("--socket", opts.socket_path, "the client API's unix socket")->capture_default_str();
  app.add_option("--hostname", opts.hostname, "name shown in `shoal node ls` (default: the machine's)");
  app.add_flag("--force-new-cluster", opts.force_new_cluster, "restart this manager as the only member, keeping its data (after lost quorum)");
  std::vector<std::string> labels;
  app.add_option("--label", labels, "engine label KEY=VALUE for placement constraints (engine.labels.KEY); repeatable");
  std::string tick = "20";
  app.add_option("--raft-tick-ms", tick, "raft tick in milliseconds (election after 10-20 ticks)")->capture_default_str();

  std::string cert_expiry = "90d";
  auto* init = app.add_subcommand("init", "create a new cluster with this node as its first manager");
  init->add_flag("--autolock", opts.autolock, "seal the managers' data under an unlock key kept off the disk");
  init->add_option("--cert-expiry", cert_expiry, "node certificate lifetime, e.g. 90d, 12h, 10m")->capture_default_str();
  auto* join = app.add_subcommand("join", "join an existing cluster");
  // The daemon's options may come before or after `init`/`join` (`shoald init --listen-addr A`
  // and `shoald --listen-addr A init` mean the same): what a subcommand does not know falls
  // through to the app.
  init->fallthrough();
  join->fallthrough();
  join->add_option("--token", opts.join_token, "the join token (shoal swarm join-token worker|manager)")->required();
  join->add_option("manager", opts.join_addr, "a manager's address, HOST:PORT")->required();
  CLI11_PARSE(app, argc, argv);

  if (*init) {
    opts.mode = DaemonOptions::Mode::kInit;
    // The same duration syntax as `shoal swarm update --cert-expiry` (Go's, plus d for days).
    auto expiry = shoal::real::parse_go_duration(cert_expiry);
    opts.cert_expiry_s = expiry.ok() ? std::chrono::duration_cast<std::chrono::seconds>(*expiry).count() : 0;
    if (opts.cert_expiry_s < 60) {
      std::cerr << "shoald: --cert-expiry '" << cert_expiry << "' is not a duration of at least 1m (like 90d, 12h, 10m)\n";
      return 1;
    }
  } else if (*join) {
    opts.mode = DaemonOptions::Mode::kJoin;
  }
  for (const auto& l : labels) {
    const auto eq = l.find('=');
    if (eq == 0 || eq == std::string::npos) {
      std::cerr << "shoald: --label '" << l << "' is not KEY=VALUE\n";
      return 1;
    }
    opts.engine_labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  try {
    const int ms = std::stoi(tick);
    if (ms < 1 || ms > 10000) throw std::out_of_range("tick");
    opts.tick = std::chrono::milliseconds(ms);
  } catch (const std::exception&) {
    std::cerr << "shoald: --raft-tick-ms must be a number of milliseconds between 1 and 10000\n";
    return 1;
  }
  if (opts.force_new_cluster && opts.mode != DaemonOptions::Mode::kRestart) {
    std::cerr << "shoald: --force-new-cluster restarts an existing manager from its --data-dir; it cannot be "
                 "combined with init or join\n";
    return 1;
  }
  // A peer's malformed message is refused by the parser; protobuf's own complaint goes to the
  // debug log rather than flooding stderr.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string& message) {
    spdlog::debug("protobuf: {}", message);
  });
  return shoal::real::Daemon(std::move(opts)).run();
}
