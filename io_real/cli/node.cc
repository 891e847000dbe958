// shoal node ls|inspect|update|promote|demote|rm — docker's node commands.
//
//   ls        GET /info (for " *" on this node; not with -q), GET /nodes
//   inspect   GET /info (only for "self"), GET /nodes/{id} for each
//   update    GET /nodes/{id}, then POST /nodes/{id}/update?version=N with its Spec changed as the
//             flags say (--label-add/--label-rm edit Spec.Labels here, as docker's client does)
//   promote   GET /nodes/{id}, then POST /nodes/{id}/update?version=N with Spec.Role = "manager"
//   demote    the same with Spec.Role = "worker"
//   rm        DELETE /nodes/{id}?force=true|false for each
#include <algorithm>
#include <memory>
#include <ostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "io_real/api/http_types.h"
#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"
#include "io_real/cli/views.h"

namespace shoal::real {

namespace {

std::string node_path(const std::string& id) { return "/nodes/" + real::percent_encode(id); }

struct LsOptions {
  bool quiet = false;
};

Status run_ls(Context& ctx, const ApiClient& client, const LsOptions& opts) {
  auto nodes = client.get("/nodes");
  if (!nodes.ok()) return nodes.status();
  if (!nodes->is_array()) return Status::io_error("the daemon's node list is not an array");
  std::string self;
  if (!nodes->empty() && !opts.quiet) {
    auto info = client.get("/info");
    if (!info.ok()) return info.status();
    self = str_at(*info, {"Swarm", "NodeID"});
  }
  std::vector<nlohmann::json> list(nodes->begin(), nodes->end());
  sort_nodes(list);
  if (opts.quiet) {
    for (const auto& n : list) ctx.io.out << str_at(n, {"ID"}) << "\n";
    return Status::ok_status();
  }
  ctx.io.out << node_table(list, self);
  return Status::ok_status();
}

struct InspectOptions {
  bool pretty = false;
  std::vector<std::string> refs;
};

Status run_inspect(Context& ctx, const ApiClient& client, const InspectOptions& opts) {
  nlohmann::json found = nlohmann::json::array();
  std::vector<std::string> errors;
  std::string self;
  for (const auto& ref : opts.refs) {
    std::string id = ref;
    if (ref == "self") {
      if (self.empty()) {
        auto info = client.get("/info");
        if (!info.ok()) return info.status();
        self = str_at(*info, {"Swarm", "NodeID"});
      }
      id = self;
    }
    auto node = client.get(node_path(id), NotFound{"node", ref});
    if (!node.ok()) {
      if (node.status().code() != StatusCode::kNotFound) return node.status();
      errors.push_back(node.status().message());
      continue;
    }
    found.push_back(std::move(*node));
  }
  if (opts.pretty) {
    for (size_t i = 0; i < found.size(); ++i) {
      if (i > 0) ctx.io.out << "\n\n";
      ctx.io.out << node_pretty(found[i]);
    }
    if (!found.empty()) ctx.io.out << "\n";
  } else {
    ctx.io.out << inspect_json(found);
  }
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "\n") + e;
    return Status::not_found(joined);
  }
  return Status::ok_status();
}

struct RoleOptions {
  std::vector<std::string> ids;
};

// promote/demote: docker's updateNodes — stop at the first error.
Status run_set_role(Context& ctx, const ApiClient& client, const RoleOptions& opts, const std::string& role) {
  for (const auto& id : opts.ids) {
    auto node = client.get(node_path(id), NotFound{"node", id});
    if (!node.ok()) return node.status();
    nlohmann::json spec = at(*node, {"Spec"});
    if (!spec.is_object()) spec = nlohmann::json::object();
    if (str_at(spec, {"Role"}) == role) {
      ctx.io.out << "Node " << id << " is already a " << role << ".\n";
      continue;
    }
    spec["Role"] = role;
    const int64_t version = int_at(*node, {"Version", "Index"});
    auto r = client.post(node_path(id) + "/update?version=" + std::to_string(version), spec, NotFound{"node", id});
    if (!r.ok()) return r.status();
    if (role == "manager") {
      ctx.io.out << "Node " << id << " promoted to a manager in the swarm.\n";
    } else {
      ctx.io.out << "Manager " << id << " demoted in the swarm.\n";
    }
  }
  return Status::ok_status();
}

struct UpdateOptions {
  std::string availability;
  std::string role;
  std::vector<std::string> label_add;  // key=value (or key: an empty value)
  std::vector<std::string> label_rm;   // key
  std::string id;
};

// docker's mergeNodeUpdate: only what a flag names changes; a label to remove must exist.
Status run_update(Context& ctx, const ApiClient& client, const UpdateOptions& opts) {
  auto node = client.get(node_path(opts.id), NotFound{"node", opts.id});
  if (!node.ok()) return node.status();
  nlohmann::json spec = at(*node, {"Spec"});
  if (!spec.is_object()) spec = nlohmann::json::object();
  if (!opts.role.empty()) spec["Role"] = opts.role;
  if (!opts.availability.empty()) spec["Availability"] = opts.availability;
  if (!spec["Labels"].is_object()) spec["Labels"] = nlohmann::json::object();
  for (const auto& label : opts.label_add) {
    const size_t eq = label.find('=');
    spec["Labels"][label.substr(0, eq)] = eq == std::string::npos ? std::string() : label.substr(eq + 1);
  }
  for (const auto& key : opts.label_rm) {
    if (!spec["Labels"].contains(key)) return Status::invalid_argument("key " + key + " doesn't exist in node's labels");
    spec["Labels"].erase(key);
  }
  const int64_t version = int_at(*node, {"Version", "Index"});
  auto r = client.post(node_path(opts.id) + "/update?version=" + std::to_string(version), spec, NotFound{"node", opts.id});
  if (!r.ok()) return r.status();
  ctx.io.out << opts.id << "\n";
  return Status::ok_status();
}

struct RmOptions {
  bool force = false;
  std::vector<std::string> ids;
};

Status run_rm(Context& ctx, const ApiClient& client, const RmOptions& opts) {
  std::string errors;
  for (const auto& id : opts.ids) {
    auto r = client.del(node_path(id) + "?force=" + (opts.force ? "true" : "false"), NotFound{"node", id});
    if (!r.ok()) {
      errors += (errors.empty() ? "" : "\n") + r.status().message();
      continue;
    }
    ctx.io.out << id << "\n";
  }
  if (!errors.empty()) return Status::aborted(errors);
  return Status::ok_status();
}

}  // namespace

void add_node_commands(CLI::App& app, Context& ctx) {
  auto* node = app.add_subcommand("node", "Manage Shoal nodes");
  node->require_subcommand(1);

  auto ls_opts = std::make_shared<LsOptions>();
  auto* ls = node->add_subcommand("ls", "List nodes in the swarm");
  ls->alias("list");
  ls->add_flag("-q,--quiet", ls_opts->quiet, "Only display IDs");
  ls->callback([&ctx, ls_opts] { ctx.run([&](const ApiClient& c) { return run_ls(ctx, c, *ls_opts); }); });

  auto in_opts = std::make_shared<InspectOptions>();
  auto* inspect = node->add_subcommand("inspect", "Display detailed information on one or more nodes");
  inspect->add_flag("--pretty", in_opts->pretty, "Print the information in a human friendly format");
  inspect->add_option("NODE", in_opts->refs, "Node ID, or \"self\"")->required();
  inspect->callback([&ctx, in_opts] { ctx.run([&](const ApiClient& c) { return run_inspect(ctx, c, *in_opts); }); });

  auto promote_opts = std::make_shared<RoleOptions>();
  auto* promote = node->add_subcommand("promote", "Promote one or more nodes to manager in the swarm");
  promote->add_option("NODE", promote_opts->ids, "Node ID")->required();
  promote->callback([&ctx, promote_opts] {
    ctx.run([&](const ApiClient& c) { return run_set_role(ctx, c, *promote_opts, "manager"); });
  });

  auto demote_opts = std::make_shared<RoleOptions>();
  auto* demote = node->add_subcommand("demote", "Demote one or more nodes from manager in the swarm");
  demote->add_option("NODE", demote_opts->ids, "Node ID")->required();
  demote->callback([&ctx, demote_opts] {
    ctx.run([&](const ApiClient& c) { return run_set_role(ctx, c, *demote_opts, "worker"); });
  });

  auto up_opts = std::make_shared<UpdateOptions>();
  auto* update = node->add_subcommand("update", "Update a node");
  update->add_option("--availability", up_opts->availability, "Availability of the node (\"active\"|\"pause\"|\"drain\")")
      ->check(CLI::IsMember({"active", "pause", "drain"}));
  update->add_option("--role", up_opts->role, "Role of the node (\"worker\"|\"manager\")")
      ->check(CLI::IsMember({"worker", "manager"}));
  update->add_option("--label-add", up_opts->label_add, "Add or update a node label (key=value)")
      ->allow_extra_args(false);
  update->add_option("--label-rm", up_opts->label_rm, "Remove a node label if exists")->allow_extra_args(false);
  update->add_option("NODE", up_opts->id, "Node ID or hostname")->required();
  update->callback([&ctx, up_opts] { ctx.run([&](const ApiClient& c) { return run_update(ctx, c, *up_opts); }); });

  auto rm_opts = std::make_shared<RmOptions>();
  auto* rm = node->add_subcommand("rm", "Remove one or more nodes from the swarm");
  rm->alias("remove");
  rm->add_flag("-f,--force", rm_opts->force, "Force remove a node from the swarm");
  rm->add_option("NODE", rm_opts->ids, "Node ID")->required();
  rm->callback([&ctx, rm_opts] { ctx.run([&](const ApiClient& c) { return run_rm(ctx, c, *rm_opts); }); });
}

}  // namespace shoal::real
