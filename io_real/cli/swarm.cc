// shoal swarm join-token|leave|unlock|unlock-key|update|ca — docker's swarm commands.
//
//   join-token ROLE   [--rotate: GET /swarm, POST /swarm/update?version=N&rotate{Worker,Manager}Token=true
//                     with the current Spec]; GET /swarm; without -q also GET /info and
//                     GET /nodes/{self} for the manager address to print in the join command
//   leave             POST /swarm/leave?force=true|false
//   unlock            GET /info (must be "locked"), key from stdin, POST /swarm/unlock {"UnlockKey"}
//   unlock-key        [--rotate: GET /swarm, POST /swarm/update?version=N&rotateManagerUnlockKey=true];
//                     GET /swarm/unlockkey
//   update            GET /swarm, POST /swarm/update?version=N with Spec.EncryptionConfig.AutoLockManagers
//                     and/or Spec.CAConfig.NodeCertExpiry changed; GET /swarm/unlockkey when autolock
//                     was just turned on
//   ca                GET /swarm (prints TLSInfo.TrustRoot); --rotate: POST /swarm/update?version=N
//                     with Spec.CAConfig.ForceRotate + 1, then polls GET /swarm and GET /nodes until
//                     every node has the new certificate and trust root (unless --detach)
#include <memory>
#include <ostream>

#include <CLI/CLI.hpp>

#include "io_real/api/http_types.h"
#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"
#include "io_real/cli/views.h"

namespace shoal::real {

namespace {

constexpr auto kRotationPollInterval = std::chrono::milliseconds(200);
constexpr int kRotationMaxPolls = 1500;  // five minutes of polls, then the rotation goes on unwatched

std::string update_target(const nlohmann::json& sw, std::string_view flag = {}) {
  std::string t = "/swarm/update?version=" + std::to_string(int_at(sw, {"Version", "Index"}));
  if (!flag.empty()) t += "&" + std::string(flag) + "=true";
  return t;
}

nlohmann::json spec_of(const nlohmann::json& sw) {
  const nlohmann::json& spec = at(sw, {"Spec"});
  return spec.is_object() ? spec : nlohmann::json::object();
}

// ---- join-token

struct JoinTokenOptions {
  std::string role;
  bool rotate = false;
  bool quiet = false;
};

Status run_join_token(Context& ctx, const ApiClient& client, const JoinTokenOptions& opts) {
  const bool worker = opts.role == "worker", manager = opts.role == "manager";
  if (!worker && !manager) return Status::invalid_argument("unknown role " + opts.role);
  if (opts.rotate) {
    auto sw = client.get("/swarm");
    if (!sw.ok()) return sw.status();
    auto r = client.post(update_target(*sw, worker ? "rotateWorkerToken" : "rotateManagerToken"), spec_of(*sw));
    if (!r.ok()) return r.status();
    if (!opts.quiet) ctx.io.out << "Successfully rotated " << opts.role << " join token.\n\n";
  }
  auto sw = client.get("/swarm");  // again: the update changed the tokens
  if (!sw.ok()) return sw.status();
  const std::string token = str_at(*sw, {"JoinTokens", worker ? "Worker" : "Manager"});
  if (opts.quiet) {
    ctx.io.out << token << "\n";
    return Status::ok_status();
  }
  auto info = client.get("/info");
  if (!info.ok()) return info.status();
  const std::string self = str_at(*info, {"Swarm", "NodeID"});
  auto node = client.get("/nodes/" + real::percent_encode(self), NotFound{"node", self});
  if (!node.ok()) return node.status();
  if (at(*node, {"ManagerStatus"}).is_object()) {
    ctx.io.out << join_command_text(opts.role, token, str_at(*node, {"ManagerStatus", "Addr"}));
  }
  return Status::ok_status();
}

// ---- leave

Status run_leave(Context& ctx, const ApiClient& client, bool force) {
  auto r = client.post(std::string("/swarm/leave?force=") + (force ? "true" : "false"));
  if (!r.ok()) return r.status();
  ctx.io.out << "Node left the swarm.\n";
  return Status::ok_status();
}

// ---- unlock

Status run_unlock(Context& ctx, const ApiClient& client) {
  auto info = client.get("/info");
  if (!info.ok()) return info.status();
  const std::string state = str_at(*info, {"Swarm", "LocalNodeState"});
  if (state == "inactive") return Status::failed_precondition("Error: This node is not part of a swarm");
  if (state != "locked") return Status::failed_precondition("Error: swarm is not locked");
  const std::string key = read_key(ctx, "Please enter unlock key: ");
  auto r = client.post("/swarm/unlock", nlohmann::json{{"UnlockKey", key}});
  if (!r.ok()) return r.status();
  return Status::ok_status();
}

// ---- unlock-key

struct UnlockKeyOptions {
  bool rotate = false;
  bool quiet = false;
};

Status run_unlock_key(Context& ctx, const ApiClient& client, const UnlockKeyOptions& opts) {
  if (opts.rotate) {
    auto sw = client.get("/swarm");
    if (!sw.ok()) return sw.status();
    if (!bool_at(*sw, {"Spec", "EncryptionConfig", "AutoLockManagers"})) {
      return Status::failed_precondition("cannot rotate because autolock is not turned on");
    }
    auto r = client.post(update_target(*sw, "rotateManagerUnlockKey"), spec_of(*sw));
    if (!r.ok()) return r.status();
    if (!opts.quiet) ctx.io.out << "Successfully rotated manager unlock key.\n\n";
  }
  auto key = client.get("/swarm/unlockkey");
  if (!key.ok()) return key.status();
  const std::string k = str_at(*key, {"UnlockKey"});
  if (k.empty()) return Status::failed_precondition("no unlock key is set");
  if (opts.quiet) {
    ctx.io.out << k << "\n";
  } else {
    ctx.io.out << unlock_key_text(k);
  }
  return Status::ok_status();
}

// ---- update

struct UpdateOptions {
  bool autolock = false;
  std::string cert_expiry;
  CLI::Option* autolock_flag = nullptr;
  CLI::Option* cert_expiry_flag = nullptr;
};

Status run_update(Context& ctx, const ApiClient& client, const UpdateOptions& opts) {
  Duration expiry{};
  if (opts.cert_expiry_flag->count() > 0) {
    auto d = parse_go_duration(opts.cert_expiry);
    if (!d.ok()) return Status::invalid_argument("invalid argument for \"--cert-expiry\" flag: " + d.status().message());
    expiry = *d;
  }
  auto sw = client.get("/swarm");
  if (!sw.ok()) return sw.status();
  nlohmann::json spec = spec_of(*sw);
  const bool was_locked = bool_at(spec, {"EncryptionConfig", "AutoLockManagers"});
  if (opts.autolock_flag->count() > 0) spec["EncryptionConfig"]["AutoLockManagers"] = opts.autolock;
  if (opts.cert_expiry_flag->count() > 0) spec["CAConfig"]["NodeCertExpiry"] = static_cast<int64_t>(expiry.count());
  auto r = client.post(update_target(*sw), spec);
  if (!r.ok()) return r.status();
  ctx.io.out << "Swarm updated.\n";
  if (opts.autolock_flag->count() > 0 && opts.autolock && !was_locked) {
    auto key = client.get("/swarm/unlockkey");
    if (!key.ok()) return key.status();
    ctx.io.out << unlock_key_text(str_at(*key, {"UnlockKey"}));
  }
  return Status::ok_status();
}

// ---- ca

struct CaOptions {
  bool rotate = false;
  bool quiet = false;
  bool detach = false;
};

Status print_trust_root(Context& ctx, const nlohmann::json& sw) {
  const std::string root = trim(str_at(sw, {"TLSInfo", "TrustRoot"}));
  if (root.empty()) return Status::failed_precondition("No CA information available");
  ctx.io.out << root << "\n";
  return Status::ok_status();
}

// Docker's RootRotationProgress: how many nodes have a certificate from the new issuer, and how
// many trust the new root. Done when all have both and the cluster says the rotation is over.
Status watch_rotation(Context& ctx, const ApiClient& client, bool quiet) {
  std::string last;
  for (int poll = 0; poll < kRotationMaxPolls; ++poll) {
    if (poll > 0) ctx.pause(kRotationPollInterval);
    auto sw = client.get("/swarm");
    if (!sw.ok()) return sw.status();
    auto nodes = client.get("/nodes");
    if (!nodes.ok()) return nodes.status();
    const std::string root = str_at(*sw, {"TLSInfo", "TrustRoot"});
    const std::string subject = str_at(*sw, {"TLSInfo", "CertIssuerSubject"});
    const std::string key = str_at(*sw, {"TLSInfo", "CertIssuerPublicKey"});
    int64_t total = 0, certs = 0, roots = 0, reporting = 0;
    if (nodes->is_array()) {
      for (const auto& n : *nodes) {
        const nlohmann::json& tls = at(n, {"Description", "TLSInfo"});
        reporting += !str_at(tls, {"TrustRoot"}).empty() || !str_at(tls, {"CertIssuerSubject"}).empty() ||
                     !str_at(tls, {"CertIssuerPublicKey"}).empty();
      }
    }
    if (reporting == 0) {
      // Nothing to watch: no node says which certificate it holds.
      if (!quiet) ctx.io.out << "The daemon does not report the nodes' TLS info; not waiting for the rotation.\n";
      return quiet ? Status::ok_status() : print_trust_root(ctx, *sw);
    }
    if (nodes->is_array()) {
      for (const auto& n : *nodes) {
        ++total;
        certs += str_at(n, {"Description", "TLSInfo", "CertIssuerSubject"}) == subject &&
                 str_at(n, {"Description", "TLSInfo", "CertIssuerPublicKey"}) == key;
        roots += str_at(n, {"Description", "TLSInfo", "TrustRoot"}) == root;
      }
    }
    const bool certs_done = certs == total && !bool_at(*sw, {"RootRotationInProgress"});
    if (!certs_done) roots = 0;  // trust roots only count once every certificate is renewed
    const std::string line = "  rotated TLS certificates: " + std::to_string(certs) + "/" + std::to_string(total) +
                             " nodes\n  rotated CA certificates:  " + std::to_string(roots) + "/" +
                             std::to_string(total) + " nodes\n";
    if (!quiet && line != last) ctx.io.out << line << std::flush;
    last = line;
    if (certs_done && roots == total) {
      if (quiet) return Status::ok_status();
      return print_trust_root(ctx, *sw);
    }
  }
  ctx.io.out << "Operation continuing in background.\nUse `shoal swarm ca` to see the root CA in use.\n";
  return Status::ok_status();
}

Status run_ca(Context& ctx, const ApiClient& client, const CaOptions& opts) {
  auto sw = client.get("/swarm");
  if (!sw.ok()) return sw.status();
  if (!opts.rotate) {
    if (opts.detach) return Status::invalid_argument("`--detach` flag requires the `--rotate` flag");
    return print_trust_root(ctx, *sw);
  }
  nlohmann::json spec = spec_of(*sw);
  const nlohmann::json& current = at(spec, {"CAConfig", "ForceRotate"});
  const uint64_t force = current.is_number_unsigned() ? current.get<uint64_t>()
                         : current.is_number_integer() ? static_cast<uint64_t>(current.get<int64_t>())
                                                       : 0;
  spec["CAConfig"]["ForceRotate"] = force + 1;
  spec["CAConfig"]["SigningCACert"] = "";
  spec["CAConfig"]["SigningCAKey"] = "";
  auto r = client.post(update_target(*sw), spec);
  if (!r.ok()) return r.status();
  if (opts.detach) return Status::ok_status();
  return watch_rotation(ctx, client, opts.quiet);
}

}  // namespace

void add_swarm_commands(CLI::App& app, Context& ctx) {
  auto* swarm = app.add_subcommand("swarm", "Manage the swarm");
  swarm->require_subcommand(1);

  auto jt = std::make_shared<JoinTokenOptions>();
  auto* join_token = swarm->add_subcommand("join-token", "Manage join tokens");
  join_token->add_option("ROLE", jt->role, "worker or manager")->required();
  join_token->add_flag("--rotate", jt->rotate, "Rotate join token");
  join_token->add_flag("-q,--quiet", jt->quiet, "Only display token");
  join_token->callback([&ctx, jt] { ctx.run([&](const ApiClient& c) { return run_join_token(ctx, c, *jt); }); });

  auto force = std::make_shared<bool>(false);
  auto* leave = swarm->add_subcommand("leave", "Leave the swarm");
  leave->add_flag("-f,--force", *force, "Force this node to leave the swarm, ignoring warnings");
  leave->callback([&ctx, force] { ctx.run([&](const ApiClient& c) { return run_leave(ctx, c, *force); }); });

  auto* unlock = swarm->add_subcommand("unlock", "Unlock swarm (the key is read from stdin)");
  unlock->callback([&ctx] { ctx.run([&](const ApiClient& c) { return run_unlock(ctx, c); }); });

  auto uk = std::make_shared<UnlockKeyOptions>();
  auto* unlock_key = swarm->add_subcommand("unlock-key", "Manage the unlock key");
  unlock_key->add_flag("--rotate", uk->rotate, "Rotate unlock key");
  unlock_key->add_flag("-q,--quiet", uk->quiet, "Only display token");
  unlock_key->callback([&ctx, uk] { ctx.run([&](const ApiClient& c) { return run_unlock_key(ctx, c, *uk); }); });

  auto up = std::make_shared<UpdateOptions>();
  auto* update = swarm->add_subcommand("update", "Update the swarm");
  up->autolock_flag = update->add_flag("--autolock", up->autolock,
                                       "Change manager autolocking setting (--autolock=true|false)");
  up->cert_expiry_flag =
      update->add_option("--cert-expiry", up->cert_expiry, "Validity period for node certificates (e.g. 2160h)");
  update->callback([&ctx, up, update] {
    if (up->autolock_flag->count() == 0 && up->cert_expiry_flag->count() == 0) {
      ctx.io.out << update->help();  // docker prints usage when no flag is given
      return;
    }
    ctx.run([&](const ApiClient& c) { return run_update(ctx, c, *up); });
  });

  auto ca_opts = std::make_shared<CaOptions>();
  auto* ca = swarm->add_subcommand("ca", "Display and rotate the root CA");
  ca->add_flag("--rotate", ca_opts->rotate, "Rotate the swarm CA: a new root key and certificate are generated");
  ca->add_flag("-d,--detach", ca_opts->detach, "Exit immediately instead of waiting for the root rotation to converge");
  ca->add_flag("-q,--quiet", ca_opts->quiet, "Suppress progress output");
  ca->callback([&ctx, ca_opts] { ctx.run([&](const ApiClient& c) { return run_ca(ctx, c, *ca_opts); }); });
}

}  // namespace shoal::real
