// shoal stack deploy|ls|services|ps|rm — docker's stack commands, over the services API. A stack
// is the services labelled com.docker.stack.namespace=<stack>, named "<stack>_<service>"; the
// daemon knows nothing of stacks.
//
//   deploy    reads and checks the whole Compose file first (stack_file.h: a bad file sends
//             nothing); GET /services?filters={"label":["com.docker.stack.namespace=S"]}; with
//             --prune, DELETE /services/{id} of each stack service the file no longer has; then
//             per service of the file POST /services/create ("Creating service S_web"), or, when
//             the spec the daemon would store differs from the one it has, POST
//             /services/{id}/update?version=V ("Updating service S_web (id: ...)"). An unchanged
//             service is not touched, so deploying the same file twice changes nothing. A file
//             without deploy.replicas keeps an existing service's replica count (a `service
//             scale` survives a redeploy). Unless -d, waits for each created service to converge
//             as `service create` does and for each updated one to finish its rolling update as
//             `service update` does (a paused or rolled-back update is an error saying why;
//             --timeout per service, default 60s).
//   ls        GET /services; NAME SERVICES per namespace label
//   services  GET /services?status=true&filters=label; the `service ls` table
//   ps        the stack's services, then GET /tasks?filters={"service":[ids]} (tasks carry no
//             labels), GET /nodes; the `service ps` table
//   rm        DELETE /services/{id} of each stack service ("Removing service S_web")
// A stack with no service is an error: "Nothing found in stack: S" (docker prints it and exits 0
// for services/ps/rm; here the exit code says so too).
#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <set>

#include <CLI/CLI.hpp>

#include "io_real/api/http_types.h"
#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"
#include "io_real/cli/stack_file.h"
#include "io_real/cli/views.h"
#include "io_real/api/service_json.h"

namespace shoal::real {
namespace {

using nlohmann::json;

std::string service_path(const std::string& id) { return "/services/" + real::percent_encode(id); }

std::string filters_query(const json& filters) { return "filters=" + real::percent_encode(filters.dump()); }

std::string namespace_label(const std::string& stack) { return std::string(kStackNamespaceLabel) + "=" + stack; }

// The services of a stack that pass `filters`, by name. The daemon ORs the values of one filter,
// so the namespace label joins the query only when the user gave no label filter of their own;
// it is checked here in any case.
Result<std::vector<json>> stack_services(const ApiClient& client, const std::string& stack, bool status,
                                         json filters = json::object()) {
  if (!filters.contains("label")) filters["label"].push_back(namespace_label(stack));
  auto list = client.get(std::string("/services?") + (status ? "status=true&" : "") + filters_query(filters));
  if (!list.ok()) return list.status();
  if (!list->is_array()) return Status::io_error("the daemon's service list is not an array");
  std::vector<json> services;
  for (const auto& s : *list) {
    if (str_at(s, {"Spec", "Labels", kStackNamespaceLabel}) == stack) services.push_back(s);
  }
  sort_by_name(services);
  return services;
}

Status nothing_found(const std::string& stack) { return Status::not_found("Nothing found in stack: " + stack); }

// A spec as the daemon would store and show it (its defaults filled in), for comparing.
Result<json> stored_form(const json& spec) {
  auto parsed = real::service_spec_from_json(spec);
  if (!parsed.ok()) return parsed.status();
  return real::service_spec_json(*parsed);
}

// ---- deploy ----

struct DeployOptions {
  std::vector<std::string> compose_files;
  bool detach = false;
  bool prune = false;
  bool quiet = false;
  std::string timeout = "60s";
  std::string stack;
};

Status run_deploy(Context& ctx, const ApiClient& client, const DeployOptions& opts) {
  if (opts.compose_files.empty()) return Status::invalid_argument("Please specify a Compose file (with --compose-file).");
  if (opts.compose_files.size() > 1) {
    return Status::invalid_argument("Please specify only one compose file (with --compose-file): shoal does not merge files");
  }
  auto timeout = parse_go_duration(opts.timeout);
  if (!timeout.ok() || timeout->count() <= 0) {
    return Status::invalid_argument("invalid argument \"" + opts.timeout + "\" for \"--timeout\" flag: " +
                                    (timeout.ok() ? "must be positive" : timeout.status().message()));
  }
  // Everything is read and checked before the first call to the daemon.
  const std::string& file = opts.compose_files.front();
  auto text = read_data_file(ctx, file);
  if (!text.ok()) return text.status();
  auto stack = parse_stack_file(*text, file == "-" ? "<stdin>" : file, opts.stack);
  if (!stack.ok()) return stack.status();
  for (const auto& w : stack->warnings) ctx.io.err << w << "\n";
  ctx.io.err << std::flush;

  auto current = stack_services(client, opts.stack, /*status=*/false);
  if (!current.ok()) return current.status();
  std::map<std::string, const json*> by_name;
  for (const auto& s : *current) by_name[str_at(s, {"Spec", "Name"})] = &s;

  if (opts.prune) {
    std::set<std::string> wanted;
    for (const auto& s : stack->services) wanted.insert(str_at(s.spec, {"Name"}));
    for (const auto& s : *current) {
      const std::string name = str_at(s, {"Spec", "Name"});
      if (wanted.count(name)) continue;
      ctx.io.out << "Removing service " << name << "\n" << std::flush;
      auto r = client.del(service_path(str_at(s, {"ID"})), NotFound{"service", name});
      if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
    }
  }

  struct Changed {
    std::string name, id;
    WaitFor what;  // a created service converges; an updated one rolls (and may pause or roll back)
  };
  std::vector<Changed> changed;
  for (const auto& s : stack->services) {
    json desired = s.spec;
    const std::string name = str_at(desired, {"Name"});
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      ctx.io.out << "Creating service " << name << "\n" << std::flush;
      auto r = client.post("/services/create", desired);
      if (!r.ok()) return Status::aborted("failed to create service " + name + ": " + r.status().message());
      changed.push_back({name, str_at(*r, {"ID"}), WaitFor::kConverged});
      continue;
    }
    const json& svc = *it->second;
    const json& mode = at(desired, {"Mode", "Replicated"});
    const json& now_replicas = at(svc, {"Spec", "Mode", "Replicated", "Replicas"});
    if (mode.is_object() && !mode.contains("Replicas") && !now_replicas.is_null()) {
      desired["Mode"]["Replicated"]["Replicas"] = now_replicas;
    }
    auto want = stored_form(desired);
    if (!want.ok()) return want.status();
    auto have = stored_form(at(svc, {"Spec"}));
    if (have.ok() && *want == *have) continue;  // unchanged: not even a new version

    const std::string id = str_at(svc, {"ID"});
    ctx.io.out << "Updating service " << name << " (id: " << id << ")\n" << std::flush;
    const std::string version = std::to_string(int_at(svc, {"Version", "Index"}));
    auto r = client.post(service_path(id) + "/update?version=" + version, desired, NotFound{"service", name});
    if (!r.ok()) return Status::aborted("failed to update service " + name + ": " + r.status().message());
    changed.push_back({name, id, WaitFor::kUpdate});
  }

  if (opts.detach) return Status::ok_status();
  std::string errors;
  for (const auto& [name, id, what] : changed) {
    if (!opts.quiet) ctx.io.out << "Waiting for service " << name << " to converge\n";
    if (Status s = wait_converged(ctx, client, id, WaitOptions{opts.quiet, *timeout, what}); !s.ok()) {
      errors += (errors.empty() ? "" : "\n") + s.message();
    }
  }
  if (!errors.empty()) return Status::deadline_exceeded(errors);
  return Status::ok_status();
}

// ---- ls, services, ps, rm ----

Status run_ls(Context& ctx, const ApiClient& client) {
  auto list = client.get("/services");
  if (!list.ok()) return list.status();
  if (!list->is_array()) return Status::io_error("the daemon's service list is not an array");
  std::map<std::string, int> counts;
  for (const auto& s : *list) {
    const json& ns = at(s, {"Spec", "Labels", kStackNamespaceLabel});
    if (ns.is_string()) ++counts[ns.get<std::string>()];
  }
  std::vector<std::string> names;
  for (const auto& [name, n] : counts) names.push_back(name);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) { return natural_less(a, b); });
  std::vector<Row> rows;
  for (const auto& name : names) rows.push_back({name, std::to_string(counts[name])});
  ctx.io.out << format_table({"NAME", "SERVICES"}, rows);
  return Status::ok_status();
}

struct ServicesOptions {
  bool quiet = false;
  std::vector<std::string> filters;
  std::string stack;
};

Status run_services(Context& ctx, const ApiClient& client, const ServicesOptions& opts) {
  auto filters = filters_json(opts.filters);
  if (!filters.ok()) return filters.status();
  auto services = stack_services(client, opts.stack, /*status=*/true, *filters);
  if (!services.ok()) return services.status();
  if (services->empty()) return nothing_found(opts.stack);
  if (opts.quiet) {
    for (const auto& s : *services) ctx.io.out << short_id(str_at(s, {"ID"})) << "\n";
    return Status::ok_status();
  }
  ctx.io.out << service_table(*services);
  return Status::ok_status();
}

struct PsOptions {
  bool quiet = false;
  bool no_trunc = false;
  std::vector<std::string> filters;
  std::string stack;
};

Status run_ps(Context& ctx, const ApiClient& client, const PsOptions& opts) {
  auto filters = filters_json(opts.filters);
  if (!filters.ok()) return filters.status();
  auto services = stack_services(client, opts.stack, /*status=*/false);
  if (!services.ok()) return services.status();
  if (services->empty()) return nothing_found(opts.stack);
  std::map<std::string, std::string> service_names;  // id -> name
  for (const auto& s : *services) {
    service_names[str_at(s, {"ID"})] = str_at(s, {"Spec", "Name"});
    (*filters)["service"].push_back(str_at(s, {"ID"}));
  }
  return print_tasks(ctx, client, *filters, service_names, opts.quiet, opts.no_trunc);
}

Status run_rm(Context& ctx, const ApiClient& client, const std::vector<std::string>& stacks) {
  std::string errors;
  auto fail = [&](const std::string& message) { errors += (errors.empty() ? "" : "\n") + message; };
  for (const auto& stack : stacks) {
    auto services = stack_services(client, stack, /*status=*/false);
    if (!services.ok()) return services.status();
    if (services->empty()) {
      fail(nothing_found(stack).message());
      continue;
    }
    for (const auto& s : *services) {
      const std::string name = str_at(s, {"Spec", "Name"});
      ctx.io.out << "Removing service " << name << "\n" << std::flush;
      auto r = client.del(service_path(str_at(s, {"ID"})), NotFound{"service", name});
      if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
        fail("Failed to remove service " + name + ": " + r.status().message());
      }
    }
  }
  if (!errors.empty()) return Status::aborted(errors);
  return Status::ok_status();
}

}  // namespace

void add_stack_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("stack", "Manage Shoal stacks (services from a Compose file)");
  group->require_subcommand(1);

  auto d = std::make_shared<DeployOptions>();
  auto* deploy = group->add_subcommand("deploy", "Deploy a new stack or update an existing stack");
  deploy->alias("up");
  deploy->add_option("-c,--compose-file", d->compose_files, "Path to a Compose file, or \"-\" to read from stdin")
      ->allow_extra_args(false);
  deploy->add_flag("--prune", d->prune, "Prune services that are no longer referenced");
  deploy->add_flag("-d,--detach", d->detach, "Exit immediately instead of waiting for the stack services to converge");
  deploy->add_flag("-q,--quiet", d->quiet, "Suppress progress output");
  deploy->add_option("--timeout", d->timeout, "How long to wait for each service to converge (not in docker)")
      ->default_str("60s");
  deploy->add_option("STACK", d->stack, "Stack name")->required();
  deploy->callback([&ctx, d] { ctx.run([&](const ApiClient& c) { return run_deploy(ctx, c, *d); }); });

  auto* ls = group->add_subcommand("ls", "List stacks");
  ls->alias("list");
  ls->callback([&ctx] { ctx.run([&](const ApiClient& c) { return run_ls(ctx, c); }); });

  auto so = std::make_shared<ServicesOptions>();
  auto* services = group->add_subcommand("services", "List the services in the stack");
  services->add_flag("-q,--quiet", so->quiet, "Only display IDs");
  services->add_option("-f,--filter", so->filters, "Filter output based on conditions provided (id, name, label, mode)")
      ->allow_extra_args(false);
  services->add_option("STACK", so->stack, "Stack name")->required();
  services->callback([&ctx, so] { ctx.run([&](const ApiClient& c) { return run_services(ctx, c, *so); }); });

  auto po = std::make_shared<PsOptions>();
  auto* ps = group->add_subcommand("ps", "List the tasks in the stack");
  ps->add_flag("-q,--quiet", po->quiet, "Only display task IDs");
  ps->add_flag("--no-trunc", po->no_trunc, "Do not truncate output");
  ps->add_option("-f,--filter", po->filters, "Filter output based on conditions provided (desired-state, id, name, node)")
      ->allow_extra_args(false);
  ps->add_option("STACK", po->stack, "Stack name")->required();
  ps->callback([&ctx, po] { ctx.run([&](const ApiClient& c) { return run_ps(ctx, c, *po); }); });

  auto rm_stacks = std::make_shared<std::vector<std::string>>();
  auto* rm = group->add_subcommand("rm", "Remove one or more stacks");
  rm->alias("remove");
  rm->alias("down");
  rm->add_option("STACK", *rm_stacks, "Stack name")->required();
  rm->callback([&ctx, rm_stacks] { ctx.run([&](const ApiClient& c) { return run_rm(ctx, c, *rm_stacks); }); });
}

}  // namespace shoal::real
