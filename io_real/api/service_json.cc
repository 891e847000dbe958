#include "io_real/api/service_json.h"

#include <cstdio>
#include <limits>
#include <map>

#include "core/scheduler/constraint.h"
#include "io_real/api/docker_json.h"

namespace shoal::real {
namespace {

using nlohmann::json;

// ---- reading, with the field's path in every error ----

const json& member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string join_path(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

Status type_error(const std::string& path, const char* want, const json& got) {
  return Status::invalid_argument(path + ": expected " + want + ", got " + got.type_name());
}

// An object, or null (absent). Anything else is an error.
Status expect_object(const json& v, const std::string& path) {
  if (v.is_null() || v.is_object()) return Status::ok_status();
  return type_error(path, "an object", v);
}

Result<std::optional<int64_t>> opt_int64(const json& v, const std::string& path) {
  if (v.is_null()) return std::optional<int64_t>();
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::invalid_argument(path + ": " + std::to_string(u) + " is too large");
    }
    return std::optional<int64_t>(static_cast<int64_t>(u));
  }
  if (v.is_number_integer()) return std::optional<int64_t>(v.get<int64_t>());
  return type_error(path, "an integer", v);
}

Result<std::optional<uint64_t>> opt_uint64(const json& v, const std::string& path) {
  if (v.is_null()) return std::optional<uint64_t>();
  if (v.is_number_unsigned()) return std::optional<uint64_t>(v.get<uint64_t>());
  if (v.is_number_integer()) return Status::invalid_argument(path + ": must not be negative");
  return type_error(path, "an unsigned integer", v);
}

Result<std::string> opt_string(const json& v, const std::string& path) {
  if (v.is_null()) return std::string();
  if (v.is_string()) return v.get<std::string>();
  return type_error(path, "a string", v);
}

Result<std::vector<std::string>> string_list(const json& v, const std::string& path) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_array()) return type_error(path, "an array of strings", v);
  for (const auto& e : v) {
    if (!e.is_string()) return type_error(path, "an array of strings", v);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Status read_labels(const json& v, const std::string& path, google::protobuf::Map<std::string, std::string>* out) {
  if (v.is_null()) return Status::ok_status();
  if (!v.is_object()) return type_error(path, "an object of strings", v);
  for (const auto& [k, val] : v.items()) {
    if (!val.is_string()) return type_error(path + "." + k, "a string", val);
    (*out)[k] = val.get<std::string>();
  }
  return Status::ok_status();
}

// Reads `field` into `set` when present; propagates errors. Keeps the parsers below flat.
#define SHOAL_READ(var, expr)          \
  auto var = (expr);                   \
  if (!var.ok()) return var.status();

Status read_container(const json& c, const std::string& path, storepb::ContainerSpec* out) {
  if (Status s = expect_object(c, path); !s.ok()) return s;
  SHOAL_READ(image, opt_string(member(c, "Image"), join_path(path, "Image")));
  SHOAL_READ(command, string_list(member(c, "Command"), join_path(path, "Command")));
  SHOAL_READ(args, string_list(member(c, "Args"), join_path(path, "Args")));
  SHOAL_READ(env, string_list(member(c, "Env"), join_path(path, "Env")));
  SHOAL_READ(dir, opt_string(member(c, "Dir"), join_path(path, "Dir")));
  SHOAL_READ(grace, opt_int64(member(c, "StopGracePeriod"), join_path(path, "StopGracePeriod")));
  out->set_image(*image);
  for (auto& s : *command) out->add_command(std::move(s));
  for (auto& s : *args) out->add_args(std::move(s));
  for (auto& s : *env) out->add_env(std::move(s));
  out->set_dir(*dir);
  out->set_stop_grace_period_ns(grace->value_or(kDefaultStopGracePeriodNs));
  const json& hc = member(c, "Healthcheck");
  if (!hc.is_null()) {
    const std::string hp = join_path(path, "Healthcheck");
    if (Status s = expect_object(hc, hp); !s.ok()) return s;
    SHOAL_READ(test, string_list(member(hc, "Test"), join_path(hp, "Test")));
    SHOAL_READ(interval, opt_int64(member(hc, "Interval"), join_path(hp, "Interval")));
    SHOAL_READ(timeout, opt_int64(member(hc, "Timeout"), join_path(hp, "Timeout")));
    SHOAL_READ(retries, opt_uint64(member(hc, "Retries"), join_path(hp, "Retries")));
    SHOAL_READ(start, opt_int64(member(hc, "StartPeriod"), join_path(hp, "StartPeriod")));
    // An empty Test inherits the image's check in Docker; with no image there is none.
    if (!test->empty() || interval->value_or(0) != 0 || timeout->value_or(0) != 0 || retries->value_or(0) != 0 ||
        start->value_or(0) != 0) {
      storepb::HealthConfig* h = out->mutable_healthcheck();
      for (auto& s : *test) h->add_test(std::move(s));
      h->set_interval_ns(interval->value_or(0));
      h->set_timeout_ns(timeout->value_or(0));
      h->set_retries(retries->value_or(0));
      h->set_start_period_ns(start->value_or(0));
    }
  }
  return Status::ok_status();
}

Status read_resources(const json& r, const std::string& path, storepb::Resources* out) {
  if (Status s = expect_object(r, path); !s.ok()) return s;
  SHOAL_READ(cpus, opt_int64(member(r, "NanoCPUs"), join_path(path, "NanoCPUs")));
  SHOAL_READ(mem, opt_int64(member(r, "MemoryBytes"), join_path(path, "MemoryBytes")));
  out->set_nano_cpus(cpus->value_or(0));
  out->set_memory_bytes(mem->value_or(0));
  return Status::ok_status();
}

Status read_restart(const json& r, const std::string& path, storepb::RestartPolicy* out) {
  if (Status s = expect_object(r, path); !s.ok()) return s;
  SHOAL_READ(condition, opt_string(member(r, "Condition"), join_path(path, "Condition")));
  if (condition->empty() || *condition == "any") {
    out->set_condition(storepb::RestartPolicy::ANY);
  } else if (*condition == "on-failure") {
    out->set_condition(storepb::RestartPolicy::ON_FAILURE);
  } else if (*condition == "none") {
    out->set_condition(storepb::RestartPolicy::NONE);
  } else {
    return Status::invalid_argument("invalid RestartCondition: \"" + *condition + "\"");
  }
  SHOAL_READ(delay, opt_int64(member(r, "Delay"), join_path(path, "Delay")));
  SHOAL_READ(attempts, opt_uint64(member(r, "MaxAttempts"), join_path(path, "MaxAttempts")));
  SHOAL_READ(window, opt_int64(member(r, "Window"), join_path(path, "Window")));
  out->set_delay_ns(delay->value_or(kDefaultRestartDelayNs));
  out->set_max_attempts(attempts->value_or(0));
  out->set_window_ns(window->value_or(0));
  return Status::ok_status();
}

Status read_placement(const json& p, const std::string& path, storepb::Placement* out) {
  if (Status s = expect_object(p, path); !s.ok()) return s;
  SHOAL_READ(constraints, string_list(member(p, "Constraints"), join_path(path, "Constraints")));
  for (auto& c : *constraints) out->add_constraints(std::move(c));
  const json& prefs = member(p, "Preferences");
  const std::string prefs_path = join_path(path, "Preferences");
  if (!prefs.is_null() && !prefs.is_array()) return type_error(prefs_path, "an array", prefs);
  if (prefs.is_array()) {
    for (const auto& pref : prefs) {
      if (!pref.is_object()) return type_error(prefs_path, "an array of objects", prefs);
      const json& spread = member(pref, "Spread");
      // Docker keeps only the kinds of preference it knows; Spread is the only one.
      if (spread.is_null()) continue;
      if (Status s = expect_object(spread, prefs_path + ".Spread"); !s.ok()) return s;
      SHOAL_READ(descriptor, opt_string(member(spread, "SpreadDescriptor"), prefs_path + ".Spread.SpreadDescriptor"));
      out->add_preferences()->set_spread(*descriptor);
    }
  }
  SHOAL_READ(max_replicas, opt_uint64(member(p, "MaxReplicas"), join_path(path, "MaxReplicas")));
  out->set_max_replicas(max_replicas->value_or(0));
  return Status::ok_status();
}

Status read_task(const json& t, const std::string& path, storepb::TaskSpec* out) {
  if (Status s = expect_object(t, path); !s.ok()) return s;
  if (Status s = read_container(member(t, "ContainerSpec"), join_path(path, "ContainerSpec"), out->mutable_container());
      !s.ok()) {
    return s;
  }
  const json& res = member(t, "Resources");
  const std::string res_path = join_path(path, "Resources");
  if (Status s = expect_object(res, res_path); !s.ok()) return s;
  if (Status s = read_resources(member(res, "Limits"), join_path(res_path, "Limits"),
                                out->mutable_resources()->mutable_limits());
      !s.ok()) {
    return s;
  }
  if (Status s = read_resources(member(res, "Reservations"), join_path(res_path, "Reservations"),
                                out->mutable_resources()->mutable_reservations());
      !s.ok()) {
    return s;
  }
  if (Status s = read_restart(member(t, "RestartPolicy"), join_path(path, "RestartPolicy"), out->mutable_restart());
      !s.ok()) {
    return s;
  }
  if (Status s = read_placement(member(t, "Placement"), join_path(path, "Placement"), out->mutable_placement());
      !s.ok()) {
    return s;
  }
  SHOAL_READ(force, opt_uint64(member(t, "ForceUpdate"), join_path(path, "ForceUpdate")));
  out->set_force_update(force->value_or(0));
  return Status::ok_status();
}

// Spec.UpdateConfig / Spec.RollbackConfig. Absent (the object or one of its fields): Docker's
// defaults (kDefaultUpdateParallelism, delay 0, pause, kDefaultUpdateMonitorNs, ratio 0,
// stop-first).
Status read_update_config(const json& u, const std::string& path, storepb::UpdateConfig* out) {
  if (Status s = expect_object(u, path); !s.ok()) return s;
  SHOAL_READ(parallelism, opt_uint64(member(u, "Parallelism"), join_path(path, "Parallelism")));
  SHOAL_READ(delay, opt_int64(member(u, "Delay"), join_path(path, "Delay")));
  SHOAL_READ(action, opt_string(member(u, "FailureAction"), join_path(path, "FailureAction")));
  SHOAL_READ(monitor, opt_int64(member(u, "Monitor"), join_path(path, "Monitor")));
  SHOAL_READ(order, opt_string(member(u, "Order"), join_path(path, "Order")));
  const json& ratio = member(u, "MaxFailureRatio");
  if (!ratio.is_null() && !ratio.is_number()) return type_error(join_path(path, "MaxFailureRatio"), "a number", ratio);
  auto parsed_action = parse_failure_action(*action);
  if (!parsed_action) {
    return Status::invalid_argument(join_path(path, "FailureAction") + ": \"" + *action +
                                    "\" is not one of \"pause\", \"continue\", \"rollback\"");
  }
  auto parsed_order = parse_update_order(*order);
  if (!parsed_order) {
    return Status::invalid_argument(join_path(path, "Order") + ": \"" + *order +
                                    "\" is not one of \"stop-first\", \"start-first\"");
  }
  out->set_parallelism(parallelism->value_or(kDefaultUpdateParallelism));
  out->set_delay_ns(delay->value_or(0));
  out->set_failure_action(*parsed_action);
  out->set_monitor_ns(monitor->value_or(kDefaultUpdateMonitorNs));
  out->set_max_failure_ratio(ratio.is_null() ? 0.0 : ratio.get<double>());
  out->set_order(*parsed_order);
  return Status::ok_status();
}

Status read_mode(const json& m, storepb::ServiceSpec* out) {
  if (Status s = expect_object(m, "Mode"); !s.ok()) return s;
  const json& replicated = member(m, "Replicated");
  const json& global = member(m, "Global");
  if (!member(m, "ReplicatedJob").is_null() || !member(m, "GlobalJob").is_null()) {
    return Status::invalid_argument("Mode: job services (ReplicatedJob, GlobalJob) are not supported");
  }
  if (!replicated.is_null() && !global.is_null()) return Status::invalid_argument("must specify only one service mode");
  if (!global.is_null()) {
    if (Status s = expect_object(global, "Mode.Global"); !s.ok()) return s;
    out->mutable_global();
    return Status::ok_status();
  }
  if (Status s = expect_object(replicated, "Mode.Replicated"); !s.ok()) return s;
  SHOAL_READ(replicas, opt_uint64(member(replicated, "Replicas"), "Mode.Replicated.Replicas"));
  out->mutable_replicated()->set_replicas(replicas->value_or(1));
  return Status::ok_status();
}

#undef SHOAL_READ

// ---- writing ----

json labels_json(const google::protobuf::Map<std::string, std::string>& labels) {
  json j = json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

json strings_json(const google::protobuf::RepeatedPtrField<std::string>& list) {
  json j = json::array();
  for (const auto& s : list) j.push_back(s);
  return j;
}

json resources_json(const storepb::Resources& r) {
  json j = json::object();
  if (r.nano_cpus() != 0) j["NanoCPUs"] = r.nano_cpus();
  if (r.memory_bytes() != 0) j["MemoryBytes"] = r.memory_bytes();
  return j;
}

const char* condition_word(storepb::RestartPolicy::Condition c) {
  switch (c) {
    case storepb::RestartPolicy::ON_FAILURE: return "on-failure";
    case storepb::RestartPolicy::NONE: return "none";
    default: return "any";
  }
}

struct StateWord {
  storepb::TaskState state;
  const char* word;
};
constexpr StateWord kStateWords[] = {
    {storepb::NEW, "new"},           {storepb::PENDING, "pending"},   {storepb::ASSIGNED, "assigned"},
    {storepb::ACCEPTED, "accepted"}, {storepb::PREPARING, "preparing"}, {storepb::READY, "ready"},
    {storepb::STARTING, "starting"}, {storepb::RUNNING, "running"},   {storepb::COMPLETE, "complete"},
    {storepb::SHUTDOWN, "shutdown"}, {storepb::FAILED, "failed"},     {storepb::REJECTED, "rejected"},
    {storepb::REMOVE, "remove"},     {storepb::ORPHANED, "orphaned"},
};

json update_config_json(const storepb::UpdateConfig& u) {
  return {{"Parallelism", u.parallelism()},
          {"Delay", u.delay_ns()},
          {"FailureAction", failure_action_word(u.failure_action())},
          {"Monitor", u.monitor_ns()},
          {"MaxFailureRatio", u.max_failure_ratio()},
          {"Order", update_order_word(u.order())}};
}


}  // namespace

std::string failure_action_word(storepb::UpdateConfig::FailureAction a) {
  switch (a) {
    case storepb::UpdateConfig::CONTINUE: return "continue";
    case storepb::UpdateConfig::ROLLBACK: return "rollback";
    default: return "pause";
  }
}

std::optional<storepb::UpdateConfig::FailureAction> parse_failure_action(std::string_view word) {
  if (word.empty() || word == "pause") return storepb::UpdateConfig::PAUSE;
  if (word == "continue") return storepb::UpdateConfig::CONTINUE;
  if (word == "rollback") return storepb::UpdateConfig::ROLLBACK;
  return std::nullopt;
}

std::string update_order_word(storepb::UpdateConfig::Order o) {
  return o == storepb::UpdateConfig::START_FIRST ? "start-first" : "stop-first";
}

std::optional<storepb::UpdateConfig::Order> parse_update_order(std::string_view word) {
  if (word.empty() || word == "stop-first") return storepb::UpdateConfig::STOP_FIRST;
  if (word == "start-first") return storepb::UpdateConfig::START_FIRST;
  return std::nullopt;
}

std::string update_state_word(storepb::UpdateStatus::State s) {
  switch (s) {
    case storepb::UpdateStatus::UPDATING: return "updating";
    case storepb::UpdateStatus::PAUSED: return "paused";
    case storepb::UpdateStatus::COMPLETED: return "completed";
    case storepb::UpdateStatus::ROLLBACK_STARTED: return "rollback_started";
    case storepb::UpdateStatus::ROLLBACK_PAUSED: return "rollback_paused";
    case storepb::UpdateStatus::ROLLBACK_COMPLETED: return "rollback_completed";
    default: return "";
  }
}


Result<storepb::ServiceSpec> service_spec_from_json(const json& j) {
  if (!j.is_object()) return Status::invalid_argument("the service spec must be a JSON object");
  storepb::ServiceSpec spec;
  auto name = opt_string(member(j, "Name"), "Name");
  if (!name.ok()) return name.status();
  spec.mutable_annotations()->set_name(*name);
  if (Status s = read_labels(member(j, "Labels"), "Labels", spec.mutable_annotations()->mutable_labels()); !s.ok()) {
    return s;
  }
  if (Status s = read_task(member(j, "TaskTemplate"), "TaskTemplate", spec.mutable_task()); !s.ok()) return s;
  if (Status s = read_mode(member(j, "Mode"), &spec); !s.ok()) return s;
  if (Status s = read_update_config(member(j, "UpdateConfig"), "UpdateConfig", spec.mutable_update_config());
      !s.ok()) {
    return s;
  }
  if (Status s = read_update_config(member(j, "RollbackConfig"), "RollbackConfig", spec.mutable_rollback_config());
      !s.ok()) {
    return s;
  }
  return spec;
}


json task_spec_json(const storepb::TaskSpec& task) {
  const storepb::ContainerSpec& c = task.container();
  json container = json::object();
  if (!c.image().empty()) container["Image"] = c.image();
  if (!c.command().empty()) container["Command"] = strings_json(c.command());
  if (!c.args().empty()) container["Args"] = strings_json(c.args());
  if (!c.env().empty()) container["Env"] = strings_json(c.env());
  if (!c.dir().empty()) container["Dir"] = c.dir();
  container["StopGracePeriod"] = c.stop_grace_period_ns();
  if (c.has_healthcheck()) {
    const storepb::HealthConfig& h = c.healthcheck();
    container["Healthcheck"] = {{"Test", strings_json(h.test())},
                                {"Interval", h.interval_ns()},
                                {"Timeout", h.timeout_ns()},
                                {"Retries", h.retries()},
                                {"StartPeriod", h.start_period_ns()}};
  }

  json restart{{"Condition", condition_word(task.restart().condition())},
               {"Delay", task.restart().delay_ns()},
               {"MaxAttempts", task.restart().max_attempts()}};
  if (task.restart().window_ns() != 0) restart["Window"] = task.restart().window_ns();

  const storepb::Placement& p = task.placement();
  json placement = json::object();
  if (!p.constraints().empty()) placement["Constraints"] = strings_json(p.constraints());
  if (!p.preferences().empty()) {
    json prefs = json::array();
    for (const auto& pref : p.preferences()) prefs.push_back({{"Spread", {{"SpreadDescriptor", pref.spread()}}}});
    placement["Preferences"] = prefs;
  }
  if (p.max_replicas() != 0) placement["MaxReplicas"] = p.max_replicas();

  return {{"ContainerSpec", container},
          {"Resources",
           {{"Limits", resources_json(task.resources().limits())},
            {"Reservations", resources_json(task.resources().reservations())}}},
          {"RestartPolicy", restart},
          {"Placement", placement},
          {"ForceUpdate", task.force_update()},
          {"Runtime", "container"}};
}

json service_spec_json(const storepb::ServiceSpec& spec) {
  json j{{"Name", spec.annotations().name()},
         {"Labels", labels_json(spec.annotations().labels())},
         {"TaskTemplate", task_spec_json(spec.task())}};
  if (spec.has_global()) {
    j["Mode"] = {{"Global", json::object()}};
  } else {
    j["Mode"] = {{"Replicated", {{"Replicas", spec.replicated().replicas()}}}};
  }
  j["UpdateConfig"] = update_config_json(spec.update_config());
  j["RollbackConfig"] = update_config_json(spec.rollback_config());
  j["EndpointSpec"] = {{"Mode", "vip"}};
  return j;
}

ServiceStatusCounts service_status(const storepb::ServiceObject& service,
                                   const std::vector<const storepb::TaskObject*>& tasks) {
  // As swarmkit's ListServiceStatuses counts them.
  ServiceStatusCounts c;
  uint64_t desired_running = 0;
  for (const auto* t : tasks) {
    if (t->desired_state() == storepb::RUNNING) ++desired_running;
    if (t->status().state() == storepb::RUNNING) ++c.running;
    if (t->status().state() == storepb::COMPLETE) ++c.completed;
  }
  c.desired = service.spec().has_global() ? desired_running : service.spec().replicated().replicas();
  return c;
}

json service_json(const storepb::ServiceObject& s, const ServiceStatusCounts* status) {
  json j{{"ID", s.id()},
         {"Version", {{"Index", s.version()}}},
         {"CreatedAt", rfc3339(s.created_at_ns())},
         {"UpdatedAt", rfc3339(s.updated_at_ns())},
         {"Spec", service_spec_json(s.spec())}};
  if (s.has_previous_spec()) j["PreviousSpec"] = service_spec_json(s.previous_spec());
  j["Endpoint"] = {{"Spec", {{"Mode", "vip"}}}};
  if (s.update_status().state() != storepb::UpdateStatus::NONE) {
    const storepb::UpdateStatus& u = s.update_status();
    json status{{"State", update_state_word(u.state())}, {"Message", u.message()}};
    if (u.started_at_ns() != 0) status["StartedAt"] = rfc3339(u.started_at_ns());
    if (u.completed_at_ns() != 0) status["CompletedAt"] = rfc3339(u.completed_at_ns());
    j["UpdateStatus"] = status;
  }
  if (status) {
    j["ServiceStatus"] = {
        {"RunningTasks", status->running}, {"DesiredTasks", status->desired}, {"CompletedTasks", status->completed}};
  }
  return j;
}

json task_json(const storepb::TaskObject& t) {
  const storepb::TaskStatus& st = t.status();
  json status{{"Timestamp", rfc3339(st.timestamp_ns())},
              {"State", task_state_word(st.state())},
              {"Message", st.message()},
              {"ContainerStatus", {{"PID", st.pid()}, {"ExitCode", st.exit_code()}}}};
  if (!st.err().empty()) status["Err"] = st.err();
  json j{{"ID", t.id()},
         {"Version", {{"Index", t.version()}}},
         {"CreatedAt", rfc3339(t.created_at_ns())},
         {"UpdatedAt", rfc3339(t.updated_at_ns())},
         {"Labels", json::object()},
         {"Spec", task_spec_json(t.spec())},
         {"ServiceID", t.service_id()},
         {"Slot", t.slot()},
         {"Status", status},
         {"DesiredState", task_state_word(t.desired_state())}};
  if (!t.node_id().empty()) j["NodeID"] = t.node_id();
  return j;
}

std::string task_state_word(storepb::TaskState state) {
  for (const auto& sw : kStateWords) {
    if (sw.state == state) return sw.word;
  }
  return "unknown";
}

std::optional<storepb::TaskState> parse_task_state(std::string_view word) {
  std::string lower(word);
  for (char& ch : lower) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  for (const auto& sw : kStateWords) {
    if (lower == sw.word) return sw.state;
  }
  return std::nullopt;
}

}  // namespace shoal::real
