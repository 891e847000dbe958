// shoal service create|ls|ps|inspect|scale|update|rollback|rm|logs — docker's service commands.
//
//   create   POST /services/create {ServiceSpec} -> {"ID"}, printed; then, unless -d, waits for the
//            service to converge (below)
//   ls       GET /services?status=true[&filters=...]
//   ps       GET /services/{ref} for each SERVICE, GET /tasks?filters={"service":[ids],...},
//            GET /nodes (for hostnames)
//   inspect  GET /services/{ref} for each
//   scale    for each SERVICE=N: GET /services/{ref}, POST /services/{id}/update?version=V with the
//            same Spec but Replicas = N; then, unless -d, waits for each to converge
//   update   GET /services/{ref}, then POST /services/{id}/update?version=V with the Spec changed
//            by the flags (removals first, then additions; --force bumps ForceUpdate); then,
//            unless -d, follows the update (below)
//   rollback GET /services/{ref}, then POST /services/{id}/update?version=V&rollback=previous:
//            the daemon puts back the previous spec (also `update --rollback`, which takes no
//            other flag); then, unless -d, follows the rollback
//   rm       DELETE /services/{ref} for each
//   logs     GET /services/{ref} (else GET /tasks/{ref}), then GET /services/{id}/logs or
//            /tasks/{id}/logs?stdout=1&stderr=1&tail=T[&follow=1][&timestamps=1]: the daemon
//            answers text, each line already prefixed "web.1.abcdefghijkl@host    | "; lines
//            starting "warning: " (tasks on nodes that are down or do not answer) go to stderr.
//            The daemon refuses --follow and --timestamps with its reason.
//
// A service's process runs COMMAND ARGS (ContainerSpec.Command); there is no image. As with
// docker's IMAGE, flags stop at COMMAND: `shoal service create --name web sleep 1d --x` runs
// `sleep 1d --x`.
//
// Waiting (docker's progress, as plain lines): every 200 ms GET /tasks?filters={"service":[id],
// "desired-state":["running"]} (for an update or rollback, only the tasks already up to date);
// print "overall progress: R out of D tasks" when R or D changes, "i/D: <state>" when a slot's
// task changes state (a global service's lines are "<node id>: <state>"; node ids are 16 hex
// digits, short already), and each task's error (Status.Err, such as "no suitable node (...)")
// once. Done when every desired task runs: "verify: Service converged". An update or rollback
// that pauses ends the wait with its reason, and an update the daemon rolled back fails with
// "service rolled back: ...". Docker waits without a bound; here --timeout bounds the wait
// (create and scale 60s, update and rollback 10m), after which the command fails and says that
// the service keeps converging in the background. -q waits without printing.
#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <tuple>

#include <CLI/CLI.hpp>

#include "io_real/api/http_types.h"
#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"
#include "io_real/cli/stack_file.h"
#include "io_real/cli/views.h"

namespace shoal::real {

namespace {

using nlohmann::json;

constexpr Duration kPollInterval = std::chrono::milliseconds(200);

std::string service_path(const std::string& ref) { return "/services/" + real::percent_encode(ref); }

std::string filters_query(const json& filters) { return "filters=" + real::percent_encode(filters.dump()); }

Status flag_error(const std::string& flag, const std::string& value, const std::string& why) {
  return Status::invalid_argument("invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + why);
}

Result<uint64_t> parse_count(const std::string& flag, const std::string& text) {
  const bool digits = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (text.empty() || text.size() > 19 || !digits) {
    return flag_error(flag, text, "not a non-negative integer");
  }
  return std::stoull(text);
}

Result<int64_t> parse_duration_flag(const std::string& flag, const std::string& text) {
  auto d = parse_go_duration(text);
  if (!d.ok()) return flag_error(flag, text, d.status().message());
  return static_cast<int64_t>(d->count());
}

// The --restart-* flags that were given, into a RestartPolicy object (service create and update).
Status merge_restart_flags(const std::string& condition, const std::string& delay, const std::string& max_attempts,
                           const std::string& window, json& r) {
  if (!condition.empty()) r["Condition"] = condition;
  if (!delay.empty()) {
    auto d = parse_duration_flag("--restart-delay", delay);
    if (!d.ok()) return d.status();
    r["Delay"] = *d;
  }
  if (!max_attempts.empty()) {
    auto n = parse_count("--restart-max-attempts", max_attempts);
    if (!n.ok()) return n.status();
    r["MaxAttempts"] = *n;
  }
  if (!window.empty()) {
    auto d = parse_duration_flag("--restart-window", window);
    if (!d.ok()) return d.status();
    r["Window"] = *d;
  }
  return Status::ok_status();
}

}  // namespace

// Declared in commands.h: stack commands filter too.
Result<json> filters_json(const std::vector<std::string>& filters) {
  json out = json::object();
  for (const auto& f : filters) {
    const size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::invalid_argument("bad format of filter (expected name=value): " + f);
    }
    out[f.substr(0, eq)].push_back(f.substr(eq + 1));
  }
  return out;
}

// Declared in commands.h: `service ps` and `stack ps` list tasks alike.
Status print_tasks(Context& ctx, const ApiClient& client, const json& filters,
                   const std::map<std::string, std::string>& service_names, bool quiet, bool no_trunc) {
  auto tasks = client.get("/tasks?" + filters_query(filters));
  if (!tasks.ok()) return tasks.status();
  if (!tasks->is_array()) return Status::io_error("the daemon's task list is not an array");
  std::vector<json> list(tasks->begin(), tasks->end());
  if (quiet) {
    sort_tasks(list, service_names);
    for (const auto& t : list) {
      const std::string id = str_at(t, {"ID"});
      ctx.io.out << (no_trunc ? id : short_id(id)) << "\n";
    }
    return Status::ok_status();
  }
  std::map<std::string, std::string> node_names;
  if (!list.empty()) {
    auto nodes = client.get("/nodes");
    if (!nodes.ok()) return nodes.status();
    if (nodes->is_array()) {
      for (const auto& n : *nodes) node_names[str_at(n, {"ID"})] = str_at(n, {"Description", "Hostname"});
    }
  }
  ctx.io.out << task_table(std::move(list), service_names, node_names, ctx.now_ns(), !no_trunc);
  return Status::ok_status();
}

// ---- waiting for a service to converge (declared in commands.h: stack deploy waits too) ----

// The updater's message names the task that failed ("update paused due to failure or early
// termination of task ID"); that task's own error says why it failed, so it is added:
// "... of task ID (task: unhealthy container)". Any other message is returned as it is.
namespace {
std::string with_failed_task_error(const ApiClient& client, const std::string& message) {
  static constexpr std::string_view kMarker = "early termination of task ";
  const size_t at = message.rfind(kMarker);
  if (at == std::string::npos) return message;
  const std::string id = message.substr(at + kMarker.size());
  if (id.empty() || id.find_first_of(" /?&%") != std::string::npos) return message;
  auto task = client.get("/tasks/" + id);
  if (!task.ok()) return message;
  const std::string err = str_at(*task, {"Status", "Err"});
  return err.empty() ? message : message + " (" + err + ")";
}
}  // namespace

Status wait_converged(Context& ctx, const ApiClient& client, const std::string& service_id, const WaitOptions& opts) {
  auto svc = client.get(service_path(service_id), NotFound{"service", service_id});
  if (!svc.ok()) return svc.status();
  const std::string name = str_at(*svc, {"Spec", "Name"});
  const bool global = service_mode(*svc) == "global";
  int64_t replicas = int_at(*svc, {"Spec", "Mode", "Replicated", "Replicas"});
  const bool updating = opts.what != WaitFor::kConverged;
  json filters{{"service", {service_id}}, {"desired-state", {"running"}}};
  if (updating) filters["_up-to-date"] = {"true"};  // docker's own filter for this progress
  const std::string target = "/tasks?" + filters_query(filters);

  // The poll count bounds the wait even when the clock does not move (tests).
  const int64_t max_polls = std::max<int64_t>(1, opts.timeout / kPollInterval);
  const int64_t started = ctx.now_ns();
  int64_t shown_running = -1, shown_desired = -1, running = 0, desired = 0;
  std::string shown_phase;
  std::map<std::string, std::string> shown_state;  // slot key -> state last printed
  std::set<std::string> shown_errors;              // task id + error
  bool saw_update = false;                         // this wait saw the update (or rollback) run
  std::string rolled_back;                         // why the updater rolled the update back
  for (int64_t poll = 0; poll < max_polls; ++poll) {
    if (poll > 0) {
      if (ctx.now_ns() - started >= opts.timeout.count()) break;
      ctx.pause(kPollInterval);
    }
    std::string state, message;
    if (updating) {
      if (poll > 0) {
        svc = client.get(service_path(service_id), NotFound{"service", service_id});
        if (!svc.ok()) return svc.status();
      }
      replicas = int_at(*svc, {"Spec", "Mode", "Replicated", "Replicas"});  // a rollback may change it
      state = str_at(*svc, {"UpdateStatus", "State"});
      message = str_at(*svc, {"UpdateStatus", "Message"});
      if (state == "updating" || state == "rollback_started") saw_update = true;
      if (state == "rollback_started" && rolled_back.empty()) {
        rolled_back = message.empty() ? "rollback started" : with_failed_task_error(client, message);
        if (!opts.quiet) ctx.io.out << "rollback: " << rolled_back << "\n";
      }
    }
    auto tasks = client.get(target);
    if (!tasks.ok()) return tasks.status();
    if (!tasks->is_array()) return Status::io_error("the daemon's task list is not an array");
    // The newest task that should run, per slot (a global service's slots are its nodes).
    std::map<int64_t, json> slots;
    std::map<std::string, json> nodes;
    auto newer = [](const json& a, const json& b) { return str_at(a, {"CreatedAt"}) > str_at(b, {"CreatedAt"}); };
    for (const auto& t : *tasks) {
      if (global) {
        auto [it, fresh] = nodes.emplace(str_at(t, {"NodeID"}), t);
        if (!fresh && newer(t, it->second)) it->second = t;
      } else {
        const int64_t slot = int_at(t, {"Slot"});
        if (slot < 1 || slot > replicas) continue;
        auto [it, fresh] = slots.emplace(slot, t);
        if (!fresh && newer(t, it->second)) it->second = t;
      }
    }
    std::vector<std::pair<std::string, const json*>> lines;  // label, task
    for (const auto& [slot, t] : slots) lines.emplace_back(std::to_string(slot) + "/" + std::to_string(replicas), &t);
    for (const auto& [node, t] : nodes) lines.emplace_back(node, &t);
    desired = global ? static_cast<int64_t>(nodes.size()) : replicas;
    running = 0;
    for (const auto& [label, t] : lines) running += str_at(*t, {"Status", "State"}) == "running";

    if (!opts.quiet) {
      const std::string phase = state.rfind("rollback", 0) == 0 ? "rolling back update: " : "";
      if (running != shown_running || desired != shown_desired || phase != shown_phase) {
        ctx.io.out << "overall progress: " << phase << running << " out of " << desired << " tasks\n";
        shown_running = running;
        shown_desired = desired;
        shown_phase = phase;
      }
      for (const auto& [label, t] : lines) {
        const std::string task_state = str_at(*t, {"Status", "State"});
        if (shown_state[label] != task_state) {
          ctx.io.out << label << ": " << task_state << "\n";
          shown_state[label] = task_state;
        }
        const std::string err = str_at(*t, {"Status", "Err"});
        if (!err.empty() && shown_errors.insert(str_at(*t, {"ID"}) + "\n" + err).second) {
          ctx.io.out << label << ": " << err << "\n";
        }
      }
      ctx.io.out << std::flush;
    }
    // docker's ServiceProgress: a paused update or rollback ends the wait with its reason.
    if (state == "paused") return Status::aborted("service update paused: " + with_failed_task_error(client, message));
    if (state == "rollback_paused") {
      return Status::aborted("service rollback paused: " + with_failed_task_error(client, message));
    }
    const bool update_done = !updating || state.empty() || state == "completed" || state == "rollback_completed";
    // A global service with no task yet has not been reconciled (or has no node to run on):
    // keep waiting rather than call nothing converged.
    if (update_done && running == desired && (!global || desired > 0)) {
      if (!opts.quiet) ctx.io.out << "verify: Service converged\n";
      if (opts.what == WaitFor::kUpdate && state == "rollback_completed" && (saw_update || !rolled_back.empty())) {
        return Status::aborted("service rolled back: " + (rolled_back.empty() ? message : rolled_back));
      }
      return Status::ok_status();
    }
  }
  return Status::deadline_exceeded("timeout: service " + name + " has not converged after " +
                                   format_go_duration(opts.timeout) + " (" + std::to_string(running) + " of " +
                                   std::to_string(desired) +
                                   " tasks running); it keeps converging in the background: see `shoal service ps " +
                                   name + "`");
}

namespace {

Result<WaitOptions> wait_options(bool quiet, const std::string& timeout) {
  auto t = parse_go_duration(timeout);
  if (!t.ok()) return flag_error("--timeout", timeout, t.status().message());
  if (t->count() <= 0) return flag_error("--timeout", timeout, "must be positive");
  return WaitOptions{quiet, *t};
}

// ---- create ----

// ---- update and rollback policies, health checks (create and update share these flags) ----

struct UpdatePolicyFlags {
  std::string parallelism, delay, failure_action, monitor, max_failure_ratio, order;
};

struct PolicyOptions {
  UpdatePolicyFlags update, rollback;
  std::string health_cmd, health_interval, health_timeout, health_retries, health_start_period;
  bool no_healthcheck = false;
  bool any_health() const {
    return !health_cmd.empty() || !health_interval.empty() || !health_timeout.empty() || !health_retries.empty() ||
           !health_start_period.empty();
  }
};

void add_policy_flags(CLI::App& cmd, PolicyOptions& o) {
  for (auto [flags, prefix, what] : {std::tuple{&o.update, "update", "update"},
                                     std::tuple{&o.rollback, "rollback", "rollback"}}) {
    const std::string p = std::string("--") + prefix + "-";
    const std::string w = what;
    cmd.add_option(p + "parallelism", flags->parallelism,
                   "Maximum number of tasks " + std::string(w == "update" ? "updated" : "rolled back") +
                       " simultaneously (0 to " + w + " all at once) (default 1)");
    cmd.add_option(p + "delay", flags->delay, "Delay between " + w + "s (ns|us|ms|s|m|h) (default 0s)");
    cmd.add_option(p + "failure-action", flags->failure_action,
                   "Action on " + w + " failure (" +
                       (w == "update" ? std::string("\"pause\", \"continue\", \"rollback\"")
                                      : std::string("\"pause\", \"continue\"")) +
                       ") (default \"pause\")");
    cmd.add_option(p + "monitor", flags->monitor,
                   "Duration after each task " + w + " to monitor for failure (ns|us|ms|s|m|h) (default 5s)");
    cmd.add_option(p + "max-failure-ratio", flags->max_failure_ratio, "Failure rate to tolerate during " + w);
    cmd.add_option(p + "order", flags->order,
                   "Order of operations during " + w + "s (\"start-first\", \"stop-first\") (default \"stop-first\")");
  }
  cmd.add_option("--health-cmd", o.health_cmd, "Command to run to check health");
  cmd.add_option("--health-interval", o.health_interval, "Time between running the check (ms|s|m|h)");
  cmd.add_option("--health-timeout", o.health_timeout, "Maximum time to allow one check to run (ms|s|m|h)");
  cmd.add_option("--health-retries", o.health_retries, "Consecutive failures needed to report unhealthy");
  cmd.add_option("--health-start-period", o.health_start_period,
                 "Start period for the task to initialize before counting retries towards unstable (ms|s|m|h)");
  cmd.add_flag("--no-healthcheck", o.no_healthcheck, "Disable any container-specified HEALTHCHECK");
}

// Sets the given fields of an UpdateConfig / RollbackConfig (`u`, an object or null).
Status apply_update_policy(const UpdatePolicyFlags& f, const std::string& prefix, json& u) {
  if (f.parallelism.empty() && f.delay.empty() && f.failure_action.empty() && f.monitor.empty() &&
      f.max_failure_ratio.empty() && f.order.empty()) {
    return Status::ok_status();
  }
  if (!u.is_object()) u = json::object();
  const std::string p = "--" + prefix + "-";
  if (!f.parallelism.empty()) {
    auto n = parse_count(p + "parallelism", f.parallelism);
    if (!n.ok()) return n.status();
    u["Parallelism"] = *n;
  }
  if (!f.delay.empty()) {
    auto d = parse_duration_flag(p + "delay", f.delay);
    if (!d.ok()) return d.status();
    u["Delay"] = *d;
  }
  if (!f.monitor.empty()) {
    auto d = parse_duration_flag(p + "monitor", f.monitor);
    if (!d.ok()) return d.status();
    u["Monitor"] = *d;
  }
  if (!f.failure_action.empty()) {
    const bool ok = f.failure_action == "pause" || f.failure_action == "continue" ||
                    (prefix == "update" && f.failure_action == "rollback");
    if (!ok) {
      return flag_error(p + "failure-action", f.failure_action,
                        prefix == "update" ? "must be \"pause\", \"continue\" or \"rollback\""
                                           : "must be \"pause\" or \"continue\"");
    }
    u["FailureAction"] = f.failure_action;
  }
  if (!f.max_failure_ratio.empty()) {
    double ratio = 0;
    size_t used = 0;
    try {
      ratio = std::stod(f.max_failure_ratio, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != f.max_failure_ratio.size()) {
      return flag_error(p + "max-failure-ratio", f.max_failure_ratio, "not a number");
    }
    if (!(ratio >= 0 && ratio <= 1)) {
      return flag_error(p + "max-failure-ratio", f.max_failure_ratio, "must be between 0 and 1");
    }
    u["MaxFailureRatio"] = ratio;
  }
  if (!f.order.empty()) {
    if (f.order != "start-first" && f.order != "stop-first") {
      return flag_error(p + "order", f.order, "must be \"start-first\" or \"stop-first\"");
    }
    u["Order"] = f.order;
  }
  return Status::ok_status();
}

// The policies and the health check of `spec` (a ServiceSpec), changed as the flags say.
Status apply_policy(const PolicyOptions& o, json& spec) {
  if (Status s = apply_update_policy(o.update, "update", spec["UpdateConfig"]); !s.ok()) return s;
  if (Status s = apply_update_policy(o.rollback, "rollback", spec["RollbackConfig"]); !s.ok()) return s;
  if (spec["UpdateConfig"].is_null()) spec.erase("UpdateConfig");
  if (spec["RollbackConfig"].is_null()) spec.erase("RollbackConfig");
  if (o.no_healthcheck && o.any_health()) return Status::invalid_argument("--no-healthcheck conflicts with --health-* options");
  if (!o.no_healthcheck && !o.any_health()) return Status::ok_status();
  json& container = spec["TaskTemplate"]["ContainerSpec"];
  if (o.no_healthcheck) {
    container["Healthcheck"] = {{"Test", {"NONE"}}};
    return Status::ok_status();
  }
  json& h = container["Healthcheck"];
  if (!h.is_object()) h = json::object();
  // docker: other flags on a disabled check start from an empty test
  if (h.contains("Test") && h["Test"] == json::array({"NONE"})) h.erase("Test");
  if (!o.health_cmd.empty()) h["Test"] = {"CMD-SHELL", o.health_cmd};
  for (const auto& [text, flag, key] : {std::tuple{&o.health_interval, "--health-interval", "Interval"},
                                        std::tuple{&o.health_timeout, "--health-timeout", "Timeout"},
                                        std::tuple{&o.health_start_period, "--health-start-period", "StartPeriod"}}) {
    if (text->empty()) continue;
    auto d = parse_duration_flag(flag, *text);
    if (!d.ok()) return d.status();
    h[key] = *d;
  }
  if (!o.health_retries.empty()) {
    auto n = parse_count("--health-retries", o.health_retries);
    if (!n.ok()) return n.status();
    h["Retries"] = *n;
  }
  return Status::ok_status();
}

struct CreateOptions {
  PolicyOptions policy;
  std::string name;
  std::string mode = "replicated";
  std::string replicas;
  std::vector<std::string> constraints, preferences, env, labels;
  std::string reserve_cpu, reserve_memory, limit_cpu, limit_memory;
  std::string restart_condition, restart_delay, restart_max_attempts, restart_window;
  std::string workdir, stop_grace_period, max_replicas;
  bool detach = false, quiet = false;
  std::string timeout = "60s";
  std::vector<std::string> command;
};

Result<json> resources_json(const std::string& cpu_flag, const std::string& cpu, const std::string& mem_flag,
                            const std::string& mem) {
  json r = json::object();
  if (!cpu.empty()) {
    auto n = parse_nano_cpus(cpu);
    if (!n.ok()) return flag_error(cpu_flag, cpu, n.status().message());
    r["NanoCPUs"] = *n;
  }
  if (!mem.empty()) {
    auto b = parse_ram_bytes(mem);
    if (!b.ok()) return flag_error(mem_flag, mem, b.status().message());
    r["MemoryBytes"] = *b;
  }
  return r;
}

// The ServiceSpec docker's `service create` would send for these flags.
Result<json> create_spec(const CreateOptions& o) {
  if (o.command.empty()) return Status::invalid_argument("\"shoal service create\" requires a COMMAND to run");
  json container{{"Command", o.command}};
  if (!o.env.empty()) container["Env"] = o.env;
  if (!o.workdir.empty()) container["Dir"] = o.workdir;
  if (!o.stop_grace_period.empty()) {
    auto d = parse_duration_flag("--stop-grace-period", o.stop_grace_period);
    if (!d.ok()) return d.status();
    container["StopGracePeriod"] = *d;
  }

  auto reservations = resources_json("--reserve-cpu", o.reserve_cpu, "--reserve-memory", o.reserve_memory);
  if (!reservations.ok()) return reservations.status();
  auto limits = resources_json("--limit-cpu", o.limit_cpu, "--limit-memory", o.limit_memory);
  if (!limits.ok()) return limits.status();

  json task{{"ContainerSpec", container}, {"Resources", {{"Limits", *limits}, {"Reservations", *reservations}}}};
  // Like docker, a RestartPolicy only when a restart flag is given; the daemon fills the rest in.
  if (!o.restart_condition.empty() || !o.restart_delay.empty() || !o.restart_max_attempts.empty() ||
      !o.restart_window.empty()) {
    json r = json::object();
    if (Status st = merge_restart_flags(o.restart_condition, o.restart_delay, o.restart_max_attempts, o.restart_window, r);
        !st.ok()) {
      return st;
    }
    task["RestartPolicy"] = r;
  }

  json placement = json::object();
  if (!o.constraints.empty()) placement["Constraints"] = o.constraints;
  for (const auto& p : o.preferences) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos) {
      return flag_error("--placement-pref", p, "placement preference must be of the format \"<strategy>=<arg>\"");
    }
    if (p.substr(0, eq) != "spread") {
      return flag_error("--placement-pref", p,
                        "unsupported placement preference " + p.substr(0, eq) + " (only spread is supported)");
    }
    placement["Preferences"].push_back({{"Spread", {{"SpreadDescriptor", p.substr(eq + 1)}}}});
  }

  json mode;
  if (o.mode == "global") {
    if (!o.replicas.empty()) {
      return Status::invalid_argument("replicas can only be used with replicated or replicated-job mode");
    }
    if (!o.max_replicas.empty()) {
      return Status::invalid_argument("replicas-max-per-node can only be used with replicated or replicated-job mode");
    }
    mode = {{"Global", json::object()}};
  } else if (o.mode == "replicated") {
    json replicated = json::object();
    if (!o.replicas.empty()) {
      auto n = parse_count("--replicas", o.replicas);
      if (!n.ok()) return n.status();
      replicated["Replicas"] = *n;
    }
    if (!o.max_replicas.empty()) {
      auto n = parse_count("--replicas-max-per-node", o.max_replicas);
      if (!n.ok()) return n.status();
      placement["MaxReplicas"] = *n;
    }
    mode = {{"Replicated", replicated}};
  } else {
    return Status::invalid_argument("Unknown mode: " + o.mode + ", only replicated and global supported");
  }
  task["Placement"] = placement;

  json spec{{"Labels", labels_json(o.labels)}, {"TaskTemplate", task}, {"Mode", mode}};
  if (!o.name.empty()) spec["Name"] = o.name;
  if (Status s = apply_policy(o.policy, spec); !s.ok()) return s;
  return spec;
}

Status run_create(Context& ctx, const ApiClient& client, const CreateOptions& opts) {
  auto spec = create_spec(opts);
  if (!spec.ok()) return spec.status();
  auto wait = wait_options(opts.quiet, opts.timeout);
  if (!wait.ok()) return wait.status();
  auto r = client.post("/services/create", *spec);
  if (!r.ok()) return r.status();
  const std::string id = str_at(*r, {"ID"});
  ctx.io.out << id << "\n" << std::flush;
  if (opts.detach) return Status::ok_status();
  return wait_converged(ctx, client, id, *wait);
}

// ---- update, rollback ----

struct UpdateOptions {
  PolicyOptions policy;
  std::string args, replicas;
  std::vector<std::string> env_add, env_rm, constraint_add, constraint_rm, pref_add, pref_rm;
  std::string reserve_cpu, reserve_memory, limit_cpu, limit_memory;
  std::string restart_condition, restart_delay, restart_max_attempts, restart_window;
  bool force = false, rollback = false, detach = false, quiet = false;
  std::string timeout = "10m";
  std::string ref;
  std::vector<std::string> other_flags;  // given flags besides --rollback, -d, -q, --timeout
};

// "KEY=value" or "KEY" -> "KEY".
std::string env_key(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// docker's `service update`: the current spec, changed by the flags given (removals first, then
// additions; constraints sorted, as docker's updatePlacementConstraints leaves them).
Status apply_update_flags(const UpdateOptions& o, json& spec) {
  json& task = spec["TaskTemplate"];
  json& container = task["ContainerSpec"];
  if (!o.args.empty()) {
    auto words = split_shell_words(o.args);
    if (!words.ok()) return flag_error("--args", o.args, words.status().message());
    container["Args"] = *words;
  }
  if (!o.env_add.empty() || !o.env_rm.empty()) {
    std::map<std::string, std::string> env;  // key -> entry
    if (container["Env"].is_array()) {
      for (const auto& e : container["Env"]) {
        if (e.is_string()) env[env_key(e.get<std::string>())] = e.get<std::string>();
      }
    }
    for (const auto& k : o.env_rm) env.erase(env_key(k));
    for (const auto& e : o.env_add) env[env_key(e)] = e;
    json list = json::array();
    for (const auto& [k, e] : env) list.push_back(e);
    if (list.empty()) {
      container.erase("Env");
    } else {
      container["Env"] = list;
    }
  }
  if (!o.replicas.empty()) {
    if (!at(spec, {"Mode", "Replicated"}).is_object()) {
      return Status::invalid_argument("replicas can only be used with replicated or replicated-job mode");
    }
    auto n = parse_count("--replicas", o.replicas);
    if (!n.ok()) return n.status();
    spec["Mode"]["Replicated"]["Replicas"] = *n;
  }
  json& placement = task["Placement"];
  if (!placement.is_object()) placement = json::object();
  if (!o.constraint_add.empty() || !o.constraint_rm.empty()) {
    std::vector<std::string> list;
    if (placement["Constraints"].is_array()) {
      for (const auto& c : placement["Constraints"]) {
        if (c.is_string()) list.push_back(c.get<std::string>());
      }
    }
    list.insert(list.end(), o.constraint_add.begin(), o.constraint_add.end());
    std::vector<std::string> kept;
    for (const auto& c : list) {
      if (std::find(o.constraint_rm.begin(), o.constraint_rm.end(), c) == o.constraint_rm.end()) kept.push_back(c);
    }
    std::sort(kept.begin(), kept.end());
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
    if (kept.empty()) {
      placement.erase("Constraints");
    } else {
      placement["Constraints"] = kept;
    }
  }
  if (!o.pref_add.empty() || !o.pref_rm.empty()) {
    json prefs = json::array();
    if (placement["Preferences"].is_array()) {
      for (const auto& p : placement["Preferences"]) {
        const std::string text = "spread=" + str_at(p, {"Spread", "SpreadDescriptor"});
        if (std::find(o.pref_rm.begin(), o.pref_rm.end(), text) == o.pref_rm.end()) prefs.push_back(p);
      }
    }
    for (const auto& p : o.pref_add) {
      const size_t eq = p.find('=');
      if (eq == std::string::npos) {
        return flag_error("--placement-pref-add", p, "placement preference must be of the format \"<strategy>=<arg>\"");
      }
      if (p.substr(0, eq) != "spread") {
        return flag_error("--placement-pref-add", p,
                          "unsupported placement preference " + p.substr(0, eq) + " (only spread is supported)");
      }
      prefs.push_back({{"Spread", {{"SpreadDescriptor", p.substr(eq + 1)}}}});
    }
    if (prefs.empty()) {
      placement.erase("Preferences");
    } else {
      placement["Preferences"] = prefs;
    }
  }
  for (const auto& [cpu_flag, cpu, mem_flag, mem, key] :
       {std::tuple{"--reserve-cpu", &o.reserve_cpu, "--reserve-memory", &o.reserve_memory, "Reservations"},
        std::tuple{"--limit-cpu", &o.limit_cpu, "--limit-memory", &o.limit_memory, "Limits"}}) {
    if (cpu->empty() && mem->empty()) continue;
    auto r = resources_json(cpu_flag, *cpu, mem_flag, *mem);
    if (!r.ok()) return r.status();
    json& target = task["Resources"][key];
    if (!target.is_object()) target = json::object();
    target.update(*r);
  }
  if (!o.restart_condition.empty() || !o.restart_delay.empty() || !o.restart_max_attempts.empty() ||
      !o.restart_window.empty()) {
    json& r = task["RestartPolicy"];
    if (!r.is_object()) r = json::object();
    if (Status st = merge_restart_flags(o.restart_condition, o.restart_delay, o.restart_max_attempts, o.restart_window, r);
        !st.ok()) {
      return st;
    }
  }
  if (o.force) task["ForceUpdate"] = int_at(task, {"ForceUpdate"}) + 1;
  return apply_policy(o.policy, spec);
}

// `service update` (or, with `rollback`, `service rollback`): one POST at the service's version,
// then, unless detached, the update's progress.
Status run_update(Context& ctx, const ApiClient& client, const UpdateOptions& opts) {
  auto wait = wait_options(opts.quiet, opts.timeout);
  if (!wait.ok()) return wait.status();
  if (opts.rollback && !opts.other_flags.empty()) {
    return Status::invalid_argument("other flags may not be combined with --rollback");
  }
  auto svc = client.get(service_path(opts.ref), NotFound{"service", opts.ref});
  if (!svc.ok()) return svc.status();
  const std::string id = str_at(*svc, {"ID"});
  json spec = (*svc)["Spec"];
  std::string target = service_path(id) + "/update?version=" + std::to_string(int_at(*svc, {"Version", "Index"}));
  if (opts.rollback) {
    target += "&rollback=previous";  // docker's: the daemon takes the previous spec
  } else if (Status s = apply_update_flags(opts, spec); !s.ok()) {
    return s;
  }
  auto r = client.post(target, spec, NotFound{"service", opts.ref});
  if (!r.ok()) return r.status();
  ctx.io.out << opts.ref << "\n" << std::flush;
  if (opts.detach) return Status::ok_status();
  wait->what = opts.rollback ? WaitFor::kRollback : WaitFor::kUpdate;
  return wait_converged(ctx, client, id, *wait);
}

void add_update_command(CLI::App& group, Context& ctx) {
  auto o = std::make_shared<UpdateOptions>();
  auto* update = group.add_subcommand("update", "Update a service");
  update->add_option("--args", o->args, "Service command args");
  update->add_option("--env-add", o->env_add, "Add or update an environment variable")->allow_extra_args(false);
  update->add_option("--env-rm", o->env_rm, "Remove an environment variable")->allow_extra_args(false);
  update->add_option("--replicas", o->replicas, "Number of tasks");
  update->add_option("--constraint-add", o->constraint_add, "Add or update a placement constraint")
      ->allow_extra_args(false);
  update->add_option("--constraint-rm", o->constraint_rm, "Remove a constraint")->allow_extra_args(false);
  update->add_option("--placement-pref-add", o->pref_add, "Add a placement preference")->allow_extra_args(false);
  update->add_option("--placement-pref-rm", o->pref_rm, "Remove a placement preference")->allow_extra_args(false);
  update->add_option("--reserve-cpu", o->reserve_cpu, "Reserve CPUs");
  update->add_option("--reserve-memory", o->reserve_memory, "Reserve Memory");
  update->add_option("--limit-cpu", o->limit_cpu, "Limit CPUs");
  update->add_option("--limit-memory", o->limit_memory, "Limit Memory");
  update->add_option("--restart-condition", o->restart_condition,
                     "Restart when condition is met (\"none\"|\"on-failure\"|\"any\")");
  update->add_option("--restart-delay", o->restart_delay, "Delay between restart attempts (ns|us|ms|s|m|h)");
  update->add_option("--restart-max-attempts", o->restart_max_attempts, "Maximum number of restarts before giving up");
  update->add_option("--restart-window", o->restart_window, "Window used to evaluate the restart policy (ns|us|ms|s|m|h)");
  update->add_flag("--force", o->force, "Force update even if no changes require it");
  add_policy_flags(*update, o->policy);
  update->add_flag("--rollback", o->rollback, "Rollback to previous specification");
  update->add_flag("-d,--detach", o->detach, "Exit immediately instead of waiting for the service to converge");
  update->add_flag("-q,--quiet", o->quiet, "Suppress progress output");
  update->add_option("--timeout", o->timeout, "How long to wait for the update (not in docker)")->default_str("10m");
  update->add_option("SERVICE", o->ref, "Service name or ID")->required();
  update->callback([&ctx, o, update] {
    o->other_flags.clear();
    for (const CLI::Option* opt : update->get_options()) {
      const std::string name = opt->get_name();
      if (opt->count() == 0 || name == "SERVICE" || name == "--rollback" || name == "--detach" ||
          name == "--quiet" || name == "--timeout" || name == "--help") {
        continue;
      }
      o->other_flags.push_back(name);
    }
    ctx.run([&](const ApiClient& c) { return run_update(ctx, c, *o); });
  });
}

void add_rollback_command(CLI::App& group, Context& ctx) {
  auto o = std::make_shared<UpdateOptions>();
  o->rollback = true;
  auto* rollback = group.add_subcommand("rollback", "Revert changes to a service's configuration");
  rollback->add_flag("-d,--detach", o->detach, "Exit immediately instead of waiting for the service to converge");
  rollback->add_flag("-q,--quiet", o->quiet, "Suppress progress output");
  rollback->add_option("--timeout", o->timeout, "How long to wait for the rollback (not in docker)")->default_str("10m");
  rollback->add_option("SERVICE", o->ref, "Service name or ID")->required();
  rollback->callback([&ctx, o] { ctx.run([&](const ApiClient& c) { return run_update(ctx, c, *o); }); });
}

// ---- ls, ps, inspect ----

struct LsOptions {
  bool quiet = false;
  std::vector<std::string> filters;
};

Status run_ls(Context& ctx, const ApiClient& client, const LsOptions& opts) {
  std::string target = "/services?status=true";
  if (!opts.filters.empty()) {
    auto f = filters_json(opts.filters);
    if (!f.ok()) return f.status();
    target += "&" + filters_query(*f);
  }
  auto list = client.get(target);
  if (!list.ok()) return list.status();
  if (!list->is_array()) return Status::io_error("the daemon's service list is not an array");
  std::vector<json> services(list->begin(), list->end());
  sort_by_name(services);
  if (opts.quiet) {
    for (const auto& s : services) ctx.io.out << short_id(str_at(s, {"ID"})) << "\n";
    return Status::ok_status();
  }
  ctx.io.out << service_table(services);
  return Status::ok_status();
}

struct PsOptions {
  bool quiet = false;
  bool no_trunc = false;
  std::vector<std::string> filters;
  std::vector<std::string> refs;
};

Status run_ps(Context& ctx, const ApiClient& client, const PsOptions& opts) {
  auto filters = filters_json(opts.filters);
  if (!filters.ok()) return filters.status();
  std::map<std::string, std::string> service_names;  // id -> name
  std::string errors;
  for (const auto& ref : opts.refs) {
    auto svc = client.get(service_path(ref), NotFound{"service", ref});
    if (!svc.ok()) {
      if (svc.status().code() != StatusCode::kNotFound) return svc.status();
      errors += (errors.empty() ? "" : "\n") + svc.status().message();
      continue;
    }
    const std::string id = str_at(*svc, {"ID"});
    service_names[id] = str_at(*svc, {"Spec", "Name"});
    (*filters)["service"].push_back(id);
  }
  if (service_names.empty()) return Status::not_found(errors);
  if (Status st = print_tasks(ctx, client, *filters, service_names, opts.quiet, opts.no_trunc); !st.ok()) return st;
  if (!errors.empty()) return Status::not_found(errors);
  return Status::ok_status();
}

struct InspectOptions {
  bool pretty = false;
  std::vector<std::string> refs;
};

Status run_inspect(Context& ctx, const ApiClient& client, const InspectOptions& opts) {
  json found = json::array();
  std::string errors;
  for (const auto& ref : opts.refs) {
    auto s = client.get(service_path(ref), NotFound{"service", ref});
    if (!s.ok()) {
      if (s.status().code() != StatusCode::kNotFound) return s.status();
      errors += (errors.empty() ? "" : "\n") + s.status().message();
      continue;
    }
    found.push_back(std::move(*s));
  }
  if (opts.pretty) {
    for (size_t i = 0; i < found.size(); ++i) {
      if (i > 0) ctx.io.out << "\n\n";
      ctx.io.out << service_pretty(found[i], ctx.now_ns());
    }
    if (!found.empty()) ctx.io.out << "\n";
  } else {
    ctx.io.out << inspect_json(found);
  }
  if (!errors.empty()) return Status::not_found(errors);
  return Status::ok_status();
}

// ---- scale, rm ----

struct ScaleOptions {
  bool detach = false;
  std::string timeout = "60s";
  std::vector<std::string> pairs;  // SERVICE=REPLICAS
};

// Scales one service; its id, for waiting.
Result<std::string> scale_one(Context& ctx, const ApiClient& client, const std::string& ref, uint64_t replicas) {
  auto svc = client.get(service_path(ref), NotFound{"service", ref});
  if (!svc.ok()) return svc.status();
  if (!at(*svc, {"Spec", "Mode", "Replicated"}).is_object()) {
    return Status::invalid_argument("scale can only be used with replicated or replicated-job mode");
  }
  json spec = (*svc)["Spec"];
  spec["Mode"]["Replicated"]["Replicas"] = replicas;
  const int64_t version = int_at(*svc, {"Version", "Index"});
  auto r = client.post(service_path(str_at(*svc, {"ID"})) + "/update?version=" + std::to_string(version), spec,
                       NotFound{"service", ref});
  if (!r.ok()) return r.status();
  ctx.io.out << ref << " scaled to " << replicas << "\n";
  return str_at(*svc, {"ID"});
}

Status run_scale(Context& ctx, const ApiClient& client, const ScaleOptions& opts) {
  // docker checks every argument before scaling anything.
  std::vector<std::pair<std::string, uint64_t>> targets;
  for (const auto& pair : opts.pairs) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      return Status::invalid_argument("Invalid scale specifier '" + pair +
                                      "'.\nSee 'shoal service scale --help'.\n\nUsage:  shoal service scale "
                                      "SERVICE=REPLICAS [SERVICE=REPLICAS...]");
    }
    const std::string value = pair.substr(eq + 1);
    auto n = parse_count("scale", value);
    if (!n.ok()) return Status::invalid_argument("invalid replicas value " + value + ": not a non-negative integer");
    targets.emplace_back(pair.substr(0, eq), *n);
  }
  auto wait = wait_options(/*quiet=*/false, opts.timeout);
  if (!wait.ok()) return wait.status();
  std::string errors;
  auto fail = [&](const std::string& ref, const Status& s) {
    // The client's own wording already names the service; the daemon's does not.
    const std::string prefix = s.message().rfind("Error: ", 0) == 0 ? "" : ref + ": ";
    errors += (errors.empty() ? "" : "\n") + prefix + s.message();
  };
  std::vector<std::pair<std::string, std::string>> scaled;  // ref, id
  for (const auto& [ref, replicas] : targets) {
    auto id = scale_one(ctx, client, ref, replicas);
    if (!id.ok()) {
      fail(ref, id.status());
      continue;
    }
    scaled.emplace_back(ref, *id);
  }
  if (!opts.detach) {
    for (const auto& [ref, id] : scaled) {
      if (Status s = wait_converged(ctx, client, id, *wait); !s.ok()) fail(ref, s);
    }
  }
  if (!errors.empty()) return Status::aborted(errors);
  return Status::ok_status();
}

Status run_rm(Context& ctx, const ApiClient& client, const std::vector<std::string>& refs) {
  std::string errors;
  for (const auto& ref : refs) {
    auto r = client.del(service_path(ref), NotFound{"service", ref});
    if (!r.ok()) {
      errors += (errors.empty() ? "" : "\n") + r.status().message();
      continue;
    }
    ctx.io.out << ref << "\n";
  }
  if (!errors.empty()) return Status::aborted(errors);
  return Status::ok_status();
}

// ---- logs ----

struct LogsOptions {
  std::string tail = "all";
  bool follow = false, timestamps = false;
  std::string ref;
};

Status run_logs(Context& ctx, const ApiClient& client, const LogsOptions& opts) {
  // A service first, then a task, as docker tries them.
  std::string path;
  auto svc = client.get(service_path(opts.ref), NotFound{"service", opts.ref});
  if (svc.ok()) {
    path = service_path(str_at(*svc, {"ID"}));
  } else if (svc.status().code() == StatusCode::kNotFound) {
    auto task = client.get("/tasks/" + real::percent_encode(opts.ref), NotFound{"task", opts.ref});
    if (!task.ok()) {
      if (task.status().code() == StatusCode::kNotFound) {
        return Status::not_found("Error: No such service or task: " + opts.ref);
      }
      return task.status();
    }
    path = "/tasks/" + real::percent_encode(str_at(*task, {"ID"}));
  } else {
    return svc.status();
  }
  std::string target = path + "/logs?stdout=1&stderr=1&tail=" + real::percent_encode(opts.tail);
  if (opts.follow) target += "&follow=1";
  if (opts.timestamps) target += "&timestamps=1";
  auto text = client.get_text(target, NotFound{"service or task", opts.ref});
  if (!text.ok()) return text.status();
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    (line.rfind("warning: ", 0) == 0 ? ctx.io.err : ctx.io.out) << line << "\n";
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  ctx.io.out << std::flush;
  ctx.io.err << std::flush;
  return Status::ok_status();
}

void add_logs_command(CLI::App& group, Context& ctx) {
  auto o = std::make_shared<LogsOptions>();
  auto* logs = group.add_subcommand("logs", "Fetch the logs of a service or task");
  logs->add_option("-n,--tail", o->tail, "Number of lines to show from the end of the logs of each task")
      ->default_str("all");
  logs->add_flag("-f,--follow", o->follow, "Follow log output (not supported yet: the daemon refuses it)");
  logs->add_flag("-t,--timestamps", o->timestamps, "Show timestamps (not supported: the runtime keeps no times)");
  logs->add_option("SERVICE|TASK", o->ref, "Service or task name or ID")->required();
  logs->callback([&ctx, o] { ctx.run([&](const ApiClient& c) { return run_logs(ctx, c, *o); }); });
}

void add_create_command(CLI::App& group, Context& ctx) {
  auto o = std::make_shared<CreateOptions>();
  auto* create = group.add_subcommand("create", "Create a new service");
  create->positionals_at_end();  // flags stop at COMMAND, as docker's stop at IMAGE
  create->add_option("--name", o->name, "Service name");
  create->add_option("--mode", o->mode, "Service mode (replicated or global)")->default_str("replicated");
  create->add_option("--replicas", o->replicas, "Number of tasks");
  create->add_option("--replicas-max-per-node,--max-replicas", o->max_replicas,
                     "Maximum number of tasks per node (default 0 = unlimited)");
  create->add_option("--constraint", o->constraints, "Placement constraints")->allow_extra_args(false);
  create->add_option("--placement-pref", o->preferences, "Add a placement preference (spread=node.labels.zone)")
      ->allow_extra_args(false);
  create->add_option("--reserve-cpu", o->reserve_cpu, "Reserve CPUs");
  create->add_option("--reserve-memory", o->reserve_memory, "Reserve Memory");
  create->add_option("--limit-cpu", o->limit_cpu, "Limit CPUs");
  create->add_option("--limit-memory", o->limit_memory, "Limit Memory");
  create->add_option("--restart-condition", o->restart_condition,
                     "Restart when condition is met (\"none\"|\"on-failure\"|\"any\") (default \"any\")");
  create->add_option("--restart-delay", o->restart_delay, "Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)");
  create->add_option("--restart-max-attempts", o->restart_max_attempts, "Maximum number of restarts before giving up");
  create->add_option("--restart-window", o->restart_window, "Window used to evaluate the restart policy (ns|us|ms|s|m|h)");
  create->add_option("-e,--env", o->env, "Set environment variables")->allow_extra_args(false);
  create->add_option("-w,--workdir", o->workdir, "Working directory inside the task");
  create->add_option("-l,--label", o->labels, "Service labels")->allow_extra_args(false);
  create->add_option("--stop-grace-period", o->stop_grace_period,
                     "Time to wait before force killing a task (ns|us|ms|s|m|h) (default 10s)");
  create->add_flag("-d,--detach", o->detach, "Exit immediately instead of waiting for the service to converge");
  create->add_flag("-q,--quiet", o->quiet, "Suppress progress output");
  create->add_option("--timeout", o->timeout, "How long to wait for the service to converge (not in docker)")
      ->default_str("60s");
  add_policy_flags(*create, o->policy);
  create->add_option("COMMAND", o->command, "What each task runs, with its arguments (flags end at COMMAND)");
  create->callback([&ctx, o] { ctx.run([&](const ApiClient& c) { return run_create(ctx, c, *o); }); });
}

}  // namespace

void add_service_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("service", "Manage Shoal services");
  group->require_subcommand(1);
  add_create_command(*group, ctx);

  auto ls_opts = std::make_shared<LsOptions>();
  auto* ls = group->add_subcommand("ls", "List services");
  ls->alias("list");
  ls->add_flag("-q,--quiet", ls_opts->quiet, "Only display IDs");
  ls->add_option("-f,--filter", ls_opts->filters, "Filter output based on conditions provided (id, name, label, mode)")
      ->allow_extra_args(false);
  ls->callback([&ctx, ls_opts] { ctx.run([&](const ApiClient& c) { return run_ls(ctx, c, *ls_opts); }); });

  auto ps_opts = std::make_shared<PsOptions>();
  auto* ps = group->add_subcommand("ps", "List the tasks of one or more services");
  ps->add_flag("-q,--quiet", ps_opts->quiet, "Only display task IDs");
  ps->add_flag("--no-trunc", ps_opts->no_trunc, "Do not truncate output");
  ps->add_option("-f,--filter", ps_opts->filters,
                 "Filter output based on conditions provided (desired-state, id, name, node)")
      ->allow_extra_args(false);
  ps->add_option("SERVICE", ps_opts->refs, "Service name or ID")->required();
  ps->callback([&ctx, ps_opts] { ctx.run([&](const ApiClient& c) { return run_ps(ctx, c, *ps_opts); }); });

  auto in_opts = std::make_shared<InspectOptions>();
  auto* inspect = group->add_subcommand("inspect", "Display detailed information on one or more services");
  inspect->add_flag("--pretty", in_opts->pretty, "Print the information in a human friendly format");
  inspect->add_option("SERVICE", in_opts->refs, "Service name or ID")->required();
  inspect->callback([&ctx, in_opts] { ctx.run([&](const ApiClient& c) { return run_inspect(ctx, c, *in_opts); }); });

  auto scale_opts = std::make_shared<ScaleOptions>();
  auto* scale = group->add_subcommand("scale", "Scale one or multiple replicated services");
  scale->add_flag("-d,--detach", scale_opts->detach, "Exit immediately instead of waiting for the services to converge");
  scale->add_option("--timeout", scale_opts->timeout, "How long to wait for each service to converge (not in docker)")
      ->default_str("60s");
  scale->add_option("SERVICE=REPLICAS", scale_opts->pairs, "Services and their new replica counts")->required();
  scale->callback([&ctx, scale_opts] { ctx.run([&](const ApiClient& c) { return run_scale(ctx, c, *scale_opts); }); });

  add_update_command(*group, ctx);
  add_rollback_command(*group, ctx);
  add_logs_command(*group, ctx);

  auto rm_refs = std::make_shared<std::vector<std::string>>();
  auto* rm = group->add_subcommand("rm", "Remove one or more services");
  rm->alias("remove");
  rm->add_option("SERVICE", *rm_refs, "Service name or ID")->required();
  rm->callback([&ctx, rm_refs] { ctx.run([&](const ApiClient& c) { return run_rm(ctx, c, *rm_refs); }); });
}

}  // namespace shoal::real
