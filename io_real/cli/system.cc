// shoal info, shoal version: GET /info and GET /version, printed as `docker info` and
// `docker version` print them (the swarm part of them).
#include <sys/utsname.h>

#include <algorithm>
#include <ostream>

#include <CLI/CLI.hpp>

#include "io_real/api/http_types.h"
#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"

namespace shoal::real {

namespace {

std::string go_arch() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  const std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

// "Label:" padded to the value column, as docker's version template lays it out.
std::string field(std::string_view label, std::string_view value, size_t column = 20) {
  std::string line(label);
  line += ':';
  line.append(line.size() < column ? column - line.size() : 1, ' ');
  line += value;
  return line + "\n";
}

void print_swarm_info(std::ostream& out, const nlohmann::json& info) {
  const nlohmann::json& sw = at(info, {"Swarm"});
  const std::string state = str_at(sw, {"LocalNodeState"});
  out << " Swarm: " << state << "\n";
  if (state == "inactive" || state == "locked" || state.empty()) return;
  out << "  NodeID: " << str_at(sw, {"NodeID"}) << "\n";
  if (const std::string err = str_at(sw, {"Error"}); !err.empty()) out << "  Error: " << err << "\n";
  const bool manager = bool_at(sw, {"ControlAvailable"});
  out << "  Is Manager: " << (manager ? "true" : "false") << "\n";
  const nlohmann::json& cluster = at(sw, {"Cluster"});
  if (cluster.is_object() && manager && str_at(sw, {"Error"}).empty() && state != "error") {
    out << "  ClusterID: " << str_at(cluster, {"ID"}) << "\n";
    out << "  Managers: " << int_at(sw, {"Managers"}) << "\n";
    out << "  Nodes: " << int_at(sw, {"Nodes"}) << "\n";
    if (at(cluster, {"Spec", "Raft"}).is_object()) {
      out << "  Raft:\n";
      out << "   Snapshot Interval: " << int_at(cluster, {"Spec", "Raft", "SnapshotInterval"}) << "\n";
      if (at(cluster, {"Spec", "Raft", "KeepOldSnapshots"}).is_number()) {
        out << "   Number of Old Snapshots to Retain: " << int_at(cluster, {"Spec", "Raft", "KeepOldSnapshots"}) << "\n";
      }
      out << "   Heartbeat Tick: " << int_at(cluster, {"Spec", "Raft", "HeartbeatTick"}) << "\n";
      out << "   Election Tick: " << int_at(cluster, {"Spec", "Raft", "ElectionTick"}) << "\n";
    }
    if (at(cluster, {"Spec", "Dispatcher"}).is_object()) {
      out << "  Dispatcher:\n";
      out << "   Heartbeat Period: "
          << human_duration(Duration(int_at(cluster, {"Spec", "Dispatcher", "HeartbeatPeriod"}))) << "\n";
    }
    out << "  CA Configuration:\n";
    out << "   Expiry Duration: " << human_duration(Duration(int_at(cluster, {"Spec", "CAConfig", "NodeCertExpiry"})))
        << "\n";
    out << "   Force Rotate: " << int_at(cluster, {"Spec", "CAConfig", "ForceRotate"}) << "\n";
    out << "  Autolock Managers: "
        << (bool_at(cluster, {"Spec", "EncryptionConfig", "AutoLockManagers"}) ? "true" : "false") << "\n";
    out << "  Root Rotation In Progress: " << (bool_at(cluster, {"RootRotationInProgress"}) ? "true" : "false")
        << "\n";
  }
  out << "  Node Address: " << str_at(sw, {"NodeAddr"}) << "\n";
  std::vector<std::string> managers;
  if (const auto& rm = at(sw, {"RemoteManagers"}); rm.is_array()) {
    for (const auto& m : rm) managers.push_back(str_at(m, {"Addr"}));
  }
  std::sort(managers.begin(), managers.end());
  if (!managers.empty()) {
    out << "  Manager Addresses:\n";
    for (const auto& m : managers) out << "   " << m << "\n";
  }
}

Status run_info(Context& ctx, const ApiClient& client) {
  auto info = client.get("/info");
  if (!info.ok()) return info.status();
  std::ostream& out = ctx.io.out;
  out << "Server:\n";
  if (auto name = str_at(*info, {"Name"}); !name.empty()) out << " Name: " << name << "\n";
  if (auto v = str_at(*info, {"ServerVersion"}); !v.empty()) out << " Server Version: " << v << "\n";
  print_swarm_info(out, *info);
  if (auto v = str_at(*info, {"KernelVersion"}); !v.empty()) out << " Kernel Version: " << v << "\n";
  if (auto v = str_at(*info, {"OperatingSystem"}); !v.empty()) out << " Operating System: " << v << "\n";
  if (auto v = str_at(*info, {"OSType"}); !v.empty()) out << " OSType: " << v << "\n";
  if (auto v = str_at(*info, {"Architecture"}); !v.empty()) out << " Architecture: " << v << "\n";
  if (auto v = str_at(*info, {"ID"}); !v.empty()) out << " ID: " << v << "\n";
  if (auto v = str_at(*info, {"DockerRootDir"}); !v.empty()) out << " Data Root Dir: " << v << "\n";
  return Status::ok_status();
}

Status run_version(Context& ctx, const ApiClient& client) {
  std::ostream& out = ctx.io.out;
  out << "Client:\n";
  out << field(" Version", kShoalVersion);
  out << field(" API version", real::kApiVersion);
  out << field(" OS/Arch", "linux/" + go_arch());
  out << "\n";
  auto v = client.get("/version");
  if (!v.ok()) return v.status();
  out << "Server:\n";
  out << " Engine:\n";
  out << field("  Version", str_at(*v, {"Version"}));
  std::string api_version = str_at(*v, {"ApiVersion"});
  if (auto min = str_at(*v, {"MinAPIVersion"}); !min.empty()) api_version += " (minimum version " + min + ")";
  out << field("  API version", api_version);
  if (auto c = str_at(*v, {"GitCommit"}); !c.empty()) out << field("  Git commit", c);
  if (auto b = str_at(*v, {"BuildTime"}); !b.empty()) out << field("  Built", b);
  out << field("  OS/Arch", str_at(*v, {"Os"}) + "/" + str_at(*v, {"Arch"}));
  if (auto k = str_at(*v, {"KernelVersion"}); !k.empty()) out << field("  Kernel version", k);
  return Status::ok_status();
}

}  // namespace

void add_system_commands(CLI::App& app, Context& ctx) {
  auto* info = app.add_subcommand("info", "Display system-wide information (GET /info)");
  info->callback([&ctx] { ctx.run([&](const ApiClient& c) { return run_info(ctx, c); }); });
  auto* version = app.add_subcommand("version", "Show the Shoal version information (GET /version)");
  version->callback([&ctx] { ctx.run([&](const ApiClient& c) { return run_version(ctx, c); }); });
}

}  // namespace shoal::real
