#include "io_real/cli/stack_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "core/scheduler/constraint.h"
#include "io_real/cli/format.h"
#include "io_real/api/service_json.h"

namespace shoal::real {
namespace {

using nlohmann::json;

// A Compose file's limits: a stack is read whole before anything is sent.
constexpr size_t kMaxServices = 1000;
constexpr size_t kMaxListItems = 10'000;  // words of a command, variables, constraints, labels

// Keys of a Compose (v3 / compose-spec) service that a Shoal service cannot honour: ignored with
// a warning. Anything else outside the supported keys is an error.
const std::set<std::string, std::less<>> kIgnoredServiceKeys = {
    "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent", "cgroupns_mode", "configs",
    "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime",
    "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on", "device_cgroup_rules", "devices", "dns",
    "dns_opt", "dns_search", "domainname", "env_file", "expose", "external_links", "extra_hosts", "group_add",
    "hostname", "init", "ipc", "isolation", "labels", "links", "logging", "mac_address",
    "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit", "network_mode", "networks",
    "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports", "privileged", "profiles",
    "pull_policy", "read_only", "restart", "runtime", "scale", "secrets", "security_opt", "shm_size",
    "stdin_open", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "user", "userns_mode",
    "uts", "volumes", "volumes_from"};
const std::set<std::string, std::less<>> kServiceKeys = {"command",     "deploy", "entrypoint",        "environment",
                                                         "healthcheck", "image",  "stop_grace_period", "working_dir"};
const std::set<std::string, std::less<>> kIgnoredTopKeys = {"configs", "name", "networks", "secrets", "volumes"};

// Absent (a key not in its mapping) or written without a value.
bool absent(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

std::string kind_of(const YAML::Node& n) {
  if (!n.IsDefined()) return "nothing";
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar (\"" + n.Scalar().substr(0, 40) + "\")";
    default: return "nothing";
  }
}

class Parser {
 public:
  Parser(std::string_view file, std::string_view stack) : file_(file), stack_(stack) {}

  Result<StackFile> parse(std::string_view text);

 private:
  // "<file>:<line>: <path>: <what>"; the line is the node's when it has one.
  Status error(const YAML::Node& at, const std::string& path, const std::string& what) const {
    std::string where = file_;
    const YAML::Mark mark = at.IsDefined() ? at.Mark() : YAML::Mark::null_mark();
    if (mark.line >= 0) where += ":" + std::to_string(mark.line + 1);
    return Status::invalid_argument(where + ": " + (path.empty() ? "" : path + ": ") + what);
  }
  Status type_error(const YAML::Node& n, const std::string& path, const std::string& want) const {
    return error(n, path, "expected " + want + ", got " + kind_of(n));
  }

  // Every key of `map` must be supported, ignored (noted for the warning, as `prefix` + key), or
  // an extension ("x-..."); anything else is an error.
  Status check_keys(const YAML::Node& map, const std::string& path, const std::set<std::string, std::less<>>& supported,
                    const std::set<std::string, std::less<>>& ignored, const std::string& prefix);

  Result<std::string> scalar(const YAML::Node& n, const std::string& path) const {
    if (!n.IsDefined() || !n.IsScalar()) return type_error(n, path, "a string");
    return n.Scalar();
  }
  Result<uint64_t> count(const YAML::Node& n, const std::string& path) const;
  Result<int64_t> duration(const YAML::Node& n, const std::string& path) const;
  Result<std::vector<std::string>> words(const YAML::Node& n, const std::string& path) const;
  Result<std::map<std::string, std::optional<std::string>>> key_values(const YAML::Node& n,
                                                                       const std::string& path) const;
  Result<double> ratio(const YAML::Node& n, const std::string& path) const;
  Result<json> resources(const YAML::Node& n, const std::string& path);
  Result<json> update_config(const YAML::Node& n, const std::string& path);
  Result<json> healthcheck(const YAML::Node& n, const std::string& path);
  Status deploy(const YAML::Node& n, const std::string& path, json& spec);
  Result<json> service(const std::string& name, const YAML::Node& n, const std::string& path);

  std::string file_;
  std::string stack_;
  std::set<std::string> ignored_;  // for the warning
};

Status Parser::check_keys(const YAML::Node& map, const std::string& path,
                          const std::set<std::string, std::less<>>& supported,
                          const std::set<std::string, std::less<>>& ignored, const std::string& prefix) {
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) return type_error(kv.first, path, "string keys");
    const std::string& key = kv.first.Scalar();
    if (supported.count(key)) continue;
    if (ignored.count(key)) {
      ignored_.insert(prefix + key);
      continue;
    }
    if (key.rfind("x-", 0) == 0) continue;
    return error(kv.first, path, "unknown option \"" + key + "\"");
  }
  return Status::ok_status();
}

Result<uint64_t> Parser::count(const YAML::Node& n, const std::string& path) const {
  auto s = scalar(n, path);
  if (!s.ok()) return s.status();
  const bool digits = std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; });
  if (s->empty() || s->size() > 18 || !digits) return error(n, path, "\"" + *s + "\" is not a non-negative integer");
  return std::stoull(*s);
}

Result<int64_t> Parser::duration(const YAML::Node& n, const std::string& path) const {
  auto s = scalar(n, path);
  if (!s.ok()) return s.status();
  auto d = parse_go_duration(*s);
  if (!d.ok()) return error(n, path, d.status().message());
  if (d->count() < 0) return error(n, path, "duration \"" + *s + "\" is negative");
  return static_cast<int64_t>(d->count());
}

// A number from 0 to 1 ("0.2", "1", ".5").
Result<double> Parser::ratio(const YAML::Node& n, const std::string& path) const {
  auto s = scalar(n, path);
  if (!s.ok()) return s.status();
  const bool plain = !s->empty() && s->size() <= 32 &&
                     std::all_of(s->begin(), s->end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                     std::count(s->begin(), s->end(), '.') <= 1 && *s != ".";
  if (!plain) return error(n, path, "\"" + *s + "\" is not a number");
  const double v = std::stod(*s);
  if (v > 1.0) return error(n, path, "\"" + *s + "\" is not between 0 and 1");
  return v;
}

// A string split into words as a shell would, or a list of strings.
Result<std::vector<std::string>> Parser::words(const YAML::Node& n, const std::string& path) const {
  std::vector<std::string> out;
  if (absent(n)) return out;
  if (n.IsScalar()) {
    auto split = split_shell_words(n.Scalar());
    if (!split.ok()) return error(n, path, split.status().message());
    out = std::move(*split);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      auto w = scalar(n[i], path + "[" + std::to_string(i) + "]");
      if (!w.ok()) return w.status();
      out.push_back(std::move(*w));
    }
  } else {
    return type_error(n, path, "a string or a list of strings");
  }
  if (out.size() > kMaxListItems) return error(n, path, "more than " + std::to_string(kMaxListItems) + " words");
  return out;
}

// A mapping (KEY: value, a null value kept as nullopt) or a list of "KEY=value" / "KEY".
Result<std::map<std::string, std::optional<std::string>>> Parser::key_values(const YAML::Node& n,
                                                                             const std::string& path) const {
  std::map<std::string, std::optional<std::string>> out;
  if (absent(n)) return out;
  if (n.IsMap()) {
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return type_error(kv.first, path, "string keys");
      const std::string& key = kv.first.Scalar();
      if (kv.second.IsNull()) {
        out[key] = std::nullopt;
        continue;
      }
      auto v = scalar(kv.second, path + "." + key);
      if (!v.ok()) return v.status();
      out[key] = std::move(*v);
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      auto item = scalar(n[i], path + "[" + std::to_string(i) + "]");
      if (!item.ok()) return item.status();
      const size_t eq = item->find('=');
      if (eq == 0 || item->empty()) return error(n[i], path + "[" + std::to_string(i) + "]", "empty name");
      if (eq == std::string::npos) {
        out[*item] = std::nullopt;
      } else {
        out[item->substr(0, eq)] = item->substr(eq + 1);
      }
    }
  } else {
    return type_error(n, path, "a mapping or a list of \"KEY=value\"");
  }
  if (out.size() > kMaxListItems) return error(n, path, "more than " + std::to_string(kMaxListItems) + " entries");
  return out;
}

// {cpus, memory} -> {"NanoCPUs", "MemoryBytes"}.
Result<json> Parser::resources(const YAML::Node& n, const std::string& path) {
  json r = json::object();
  if (absent(n)) return r;
  if (!n.IsMap()) return type_error(n, path, "a mapping");
  const std::string rel = path.substr(path.find(".deploy.") + 1);  // "deploy.resources.limits"
  if (Status s = check_keys(n, path, {"cpus", "memory"}, {"devices", "generic_resources", "pids"}, rel + ".");
      !s.ok()) {
    return s;
  }
  if (const YAML::Node cpus = n["cpus"]; !absent(cpus)) {
    auto text = scalar(cpus, path + ".cpus");
    if (!text.ok()) return text.status();
    auto nano = parse_nano_cpus(*text);
    if (!nano.ok()) return error(cpus, path + ".cpus", nano.status().message());
    r["NanoCPUs"] = *nano;
  }
  if (const YAML::Node mem = n["memory"]; mem && !mem.IsNull()) {
    auto text = scalar(mem, path + ".memory");
    if (!text.ok()) return text.status();
    auto bytes = parse_ram_bytes(*text);
    if (!bytes.ok()) return error(mem, path + ".memory", bytes.status().message());
    r["MemoryBytes"] = *bytes;
  }
  return r;
}

// update_config / rollback_config: {parallelism, delay, failure_action, monitor,
// max_failure_ratio, order} -> Docker's UpdateConfig; an absent field keeps Docker's default (the
// daemon fills it in), so a file that says nothing compares equal to the defaults.
Result<json> Parser::update_config(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) return type_error(n, path, "a mapping");
  if (Status s = check_keys(n, path, {"delay", "failure_action", "max_failure_ratio", "monitor", "order", "parallelism"},
                            {}, "");
      !s.ok()) {
    return s;
  }
  json u = json::object();
  if (const YAML::Node p = n["parallelism"]; !absent(p)) {
    auto v = count(p, path + ".parallelism");
    if (!v.ok()) return v.status();
    u["Parallelism"] = *v;
  }
  for (const auto& [key, field] : {std::pair{"delay", "Delay"}, std::pair{"monitor", "Monitor"}}) {
    if (const YAML::Node d = n[key]; !absent(d)) {
      auto ns = duration(d, path + "." + key);
      if (!ns.ok()) return ns.status();
      u[field] = *ns;
    }
  }
  if (const YAML::Node a = n["failure_action"]; !absent(a)) {
    auto word = scalar(a, path + ".failure_action");
    if (!word.ok()) return word.status();
    if (!real::parse_failure_action(*word) || word->empty()) {
      return error(a, path + ".failure_action", "unknown action \"" + *word + "\" (pause, continue or rollback)");
    }
    u["FailureAction"] = *word;
  }
  if (const YAML::Node r = n["max_failure_ratio"]; !absent(r)) {
    auto v = ratio(r, path + ".max_failure_ratio");
    if (!v.ok()) return v.status();
    u["MaxFailureRatio"] = *v;
  }
  if (const YAML::Node o = n["order"]; !absent(o)) {
    auto word = scalar(o, path + ".order");
    if (!word.ok()) return word.status();
    if (!real::parse_update_order(*word) || word->empty()) {
      return error(o, path + ".order", "unknown order \"" + *word + "\" (stop-first or start-first)");
    }
    u["Order"] = *word;
  }
  return u;
}

// healthcheck: {test, interval, timeout, retries, start_period, disable} -> ContainerSpec's
// Healthcheck. A string test runs in a shell (["CMD-SHELL", test]), as Compose does; a list is
// taken as written (["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]); `disable: true` is ["NONE"].
Result<json> Parser::healthcheck(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) return type_error(n, path, "a mapping");
  if (Status s = check_keys(n, path, {"disable", "interval", "retries", "start_period", "test", "timeout"},
                            {"start_interval"}, "healthcheck.");
      !s.ok()) {
    return s;
  }
  json h = json::object();
  bool disable = false;
  if (const YAML::Node d = n["disable"]; !absent(d)) {
    auto word = scalar(d, path + ".disable");
    if (!word.ok()) return word.status();
    if (*word != "true" && *word != "false") return error(d, path + ".disable", "expected true or false");
    disable = *word == "true";
  }
  const YAML::Node test = n["test"];
  if (disable) {
    if (!absent(test)) return error(test, path + ".test", "test and disable: true cannot both be set");
    h["Test"] = {"NONE"};
  } else if (!absent(test)) {
    if (test.IsScalar()) {
      if (test.Scalar().empty()) return error(test, path + ".test", "an empty test");
      h["Test"] = {"CMD-SHELL", test.Scalar()};
    } else {
      auto list = words(test, path + ".test");
      if (!list.ok()) return list.status();
      h["Test"] = *list;
    }
  }
  for (const auto& [key, field] : {std::pair{"interval", "Interval"}, std::pair{"timeout", "Timeout"},
                                   std::pair{"start_period", "StartPeriod"}}) {
    if (const YAML::Node d = n[key]; !absent(d)) {
      auto ns = duration(d, path + "." + key);
      if (!ns.ok()) return ns.status();
      h[field] = *ns;
    }
  }
  if (const YAML::Node r = n["retries"]; !absent(r)) {
    auto v = count(r, path + ".retries");
    if (!v.ok()) return v.status();
    h["Retries"] = *v;
  }
  return h;
}

// `deploy`: Mode, service Labels, UpdateConfig, RollbackConfig, and the task template's
// Placement, Resources, RestartPolicy.
Status Parser::deploy(const YAML::Node& n, const std::string& path, json& spec) {
  json& task = spec["TaskTemplate"];
  json mode = {{"Replicated", json::object()}};
  if (absent(n)) {
    spec["Mode"] = mode;
    return Status::ok_status();
  }
  if (!n.IsMap()) return type_error(n, path, "a mapping");
  if (Status s = check_keys(n, path,
                            {"labels", "mode", "placement", "replicas", "resources", "restart_policy",
                             "rollback_config", "update_config"},
                            {"endpoint_mode"}, "deploy.");
      !s.ok()) {
    return s;
  }

  std::string mode_word = "replicated";
  if (const YAML::Node m = n["mode"]; m && !m.IsNull()) {
    auto word = scalar(m, path + ".mode");
    if (!word.ok()) return word.status();
    if (*word != "replicated" && *word != "global") {
      return error(m, path + ".mode", "unknown mode \"" + *word + "\" (replicated or global)");
    }
    mode_word = *word;
  }
  const YAML::Node replicas = n["replicas"];
  if (mode_word == "global") {
    if (replicas && !replicas.IsNull()) {
      return error(replicas, path + ".replicas", "replicas can only be used with replicated mode");
    }
    mode = {{"Global", json::object()}};
  } else if (replicas && !replicas.IsNull()) {
    auto r = count(replicas, path + ".replicas");
    if (!r.ok()) return r.status();
    if (*r > controlapi::kMaxReplicas) {
      return error(replicas, path + ".replicas", "at most " + std::to_string(controlapi::kMaxReplicas) + " replicas");
    }
    mode["Replicated"]["Replicas"] = *r;
  }
  spec["Mode"] = mode;

  if (const YAML::Node l = n["labels"]; l) {
    auto labels = key_values(l, path + ".labels");
    if (!labels.ok()) return labels.status();
    for (const auto& [k, v] : *labels) spec["Labels"][k] = v.value_or("");
    spec["Labels"][std::string(kStackNamespaceLabel)] = stack_;  // Docker's wins over the file's
  }

  if (const YAML::Node p = n["placement"]; p && !p.IsNull()) {
    const std::string ppath = path + ".placement";
    if (!p.IsMap()) return type_error(p, ppath, "a mapping");
    if (Status s = check_keys(p, ppath, {"constraints", "max_replicas_per_node", "preferences"}, {}, "");
        !s.ok()) {
      return s;
    }
    json placement = json::object();
    if (const YAML::Node c = p["constraints"]; c && !c.IsNull()) {
      if (!c.IsSequence()) return type_error(c, ppath + ".constraints", "a list of strings");
      for (size_t i = 0; i < c.size(); ++i) {
        const std::string cpath = ppath + ".constraints[" + std::to_string(i) + "]";
        auto expr = scalar(c[i], cpath);
        if (!expr.ok()) return expr.status();
        if (auto parsed = scheduler::parse_constraint(*expr); !parsed.ok()) {
          return error(c[i], cpath, parsed.status().message());
        }
        placement["Constraints"].push_back(*expr);
      }
      if (c.size() > kMaxListItems) return error(c, ppath + ".constraints", "too many constraints");
    }
    if (const YAML::Node prefs = p["preferences"]; prefs && !prefs.IsNull()) {
      if (!prefs.IsSequence()) return type_error(prefs, ppath + ".preferences", "a list of {spread: ...}");
      for (size_t i = 0; i < prefs.size(); ++i) {
        const std::string ipath = ppath + ".preferences[" + std::to_string(i) + "]";
        const YAML::Node pref = prefs[i];
        if (!pref.IsMap()) return type_error(pref, ipath, "a mapping such as {spread: node.labels.zone}");
        if (Status s = check_keys(pref, ipath, {"spread"}, {}, ""); !s.ok()) return s;
        const YAML::Node spread = pref["spread"];
        if (!spread) return error(pref, ipath, "a placement preference needs \"spread\"");
        auto descriptor = scalar(spread, ipath + ".spread");
        if (!descriptor.ok()) return descriptor.status();
        if (descriptor->empty()) return error(spread, ipath + ".spread", "empty spread descriptor");
        placement["Preferences"].push_back({{"Spread", {{"SpreadDescriptor", *descriptor}}}});
      }
    }
    if (const YAML::Node max = p["max_replicas_per_node"]; max && !max.IsNull()) {
      if (mode_word == "global") {
        return error(max, ppath + ".max_replicas_per_node", "max_replicas_per_node can only be used with replicated mode");
      }
      auto m = count(max, ppath + ".max_replicas_per_node");
      if (!m.ok()) return m.status();
      placement["MaxReplicas"] = *m;
    }
    task["Placement"] = placement;
  }

  if (const YAML::Node r = n["resources"]; r && !r.IsNull()) {
    const std::string rpath = path + ".resources";
    if (!r.IsMap()) return type_error(r, rpath, "a mapping");
    if (Status s = check_keys(r, rpath, {"limits", "reservations"}, {}, ""); !s.ok()) return s;
    auto limits = resources(r["limits"], rpath + ".limits");
    if (!limits.ok()) return limits.status();
    auto reservations = resources(r["reservations"], rpath + ".reservations");
    if (!reservations.ok()) return reservations.status();
    task["Resources"] = {{"Limits", *limits}, {"Reservations", *reservations}};
  }

  if (const YAML::Node rp = n["restart_policy"]; rp && !rp.IsNull()) {
    const std::string rpath = path + ".restart_policy";
    if (!rp.IsMap()) return type_error(rp, rpath, "a mapping");
    if (Status s = check_keys(rp, rpath, {"condition", "delay", "max_attempts", "window"}, {}, ""); !s.ok()) return s;
    json restart = json::object();
    if (const YAML::Node c = rp["condition"]; c && !c.IsNull()) {
      auto word = scalar(c, rpath + ".condition");
      if (!word.ok()) return word.status();
      if (*word != "none" && *word != "on-failure" && *word != "any") {
        return error(c, rpath + ".condition", "unknown condition \"" + *word + "\" (none, on-failure or any)");
      }
      restart["Condition"] = *word;
    }
    if (const YAML::Node d = rp["delay"]; d && !d.IsNull()) {
      auto ns = duration(d, rpath + ".delay");
      if (!ns.ok()) return ns.status();
      restart["Delay"] = *ns;
    }
    if (const YAML::Node m = rp["max_attempts"]; m && !m.IsNull()) {
      auto a = count(m, rpath + ".max_attempts");
      if (!a.ok()) return a.status();
      restart["MaxAttempts"] = *a;
    }
    if (const YAML::Node w = rp["window"]; w && !w.IsNull()) {
      auto ns = duration(w, rpath + ".window");
      if (!ns.ok()) return ns.status();
      restart["Window"] = *ns;
    }
    task["RestartPolicy"] = restart;
  }

  for (const auto& [key, field] : {std::pair{"update_config", "UpdateConfig"},
                                   std::pair{"rollback_config", "RollbackConfig"}}) {
    if (const YAML::Node u = n[key]; !absent(u)) {
      auto config = update_config(u, path + "." + key);
      if (!config.ok()) return config.status();
      spec[field] = *config;
    }
  }
  return Status::ok_status();
}

Result<json> Parser::service(const std::string& name, const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) return type_error(n, path, "a mapping");
  const std::string full_name = stack_ + "_" + name;
  if (!controlapi::valid_service_name(full_name) || full_name.size() > 63) {
    return error(n, path,
                 "invalid service name \"" + name + "\": \"" + full_name +
                     "\" must be letters, digits, '-' and '_', start and end with a letter or digit, and be at most "
                     "63 characters");
  }
  if (Status s = check_keys(n, path, kServiceKeys, kIgnoredServiceKeys, ""); !s.ok()) return s;

  json container = json::object();
  if (const YAML::Node image = n["image"]; image && !image.IsNull()) {
    auto text = scalar(image, path + ".image");
    if (!text.ok()) return text.status();
    container["Image"] = *text;
  }
  auto entrypoint = words(n["entrypoint"], path + ".entrypoint");
  if (!entrypoint.ok()) return entrypoint.status();
  auto command = words(n["command"], path + ".command");
  if (!command.ok()) return command.status();
  if (entrypoint->empty() && command->empty()) {
    return error(n, path,
                 "no command: give `command` (or `entrypoint`); shoal runs processes, not images, so `image` alone "
                 "cannot run");
  }
  // Docker's mapping: the task runs Command (the entrypoint) then Args (the command).
  if (!entrypoint->empty()) container["Command"] = *entrypoint;
  if (!command->empty()) container["Args"] = *command;
  if (const YAML::Node env = n["environment"]; env) {
    auto vars = key_values(env, path + ".environment");
    if (!vars.ok()) return vars.status();
    std::vector<std::string> list;  // sorted, as Docker sends it
    for (const auto& [k, v] : *vars) list.push_back(v ? k + "=" + *v : k);
    if (!list.empty()) container["Env"] = list;
  }
  if (const YAML::Node dir = n["working_dir"]; dir && !dir.IsNull()) {
    auto text = scalar(dir, path + ".working_dir");
    if (!text.ok()) return text.status();
    if (!text->empty()) container["Dir"] = *text;
  }
  if (const YAML::Node grace = n["stop_grace_period"]; grace && !grace.IsNull()) {
    auto ns = duration(grace, path + ".stop_grace_period");
    if (!ns.ok()) return ns.status();
    container["StopGracePeriod"] = *ns;
  }
  if (const YAML::Node hc = n["healthcheck"]; !absent(hc)) {
    auto h = healthcheck(hc, path + ".healthcheck");
    if (!h.ok()) return h.status();
    container["Healthcheck"] = *h;
  }
  if (const YAML::Node labels = n["labels"]; labels) {
    // Container labels: checked, then ignored (a Shoal task has no labels); warned about above.
    auto l = key_values(labels, path + ".labels");
    if (!l.ok()) return l.status();
  }

  json spec{{"Name", full_name},
            {"Labels", {{std::string(kStackNamespaceLabel), stack_}}},
            {"TaskTemplate", {{"ContainerSpec", container}}}};
  if (Status s = deploy(n["deploy"], path + ".deploy", spec); !s.ok()) return s;

  // What the daemon would refuse, refused here, before anything is sent.
  auto stored = real::service_spec_from_json(spec);
  Status valid = stored.ok() ? controlapi::validate_service_spec(*stored) : stored.status();
  if (!valid.ok()) return error(n, path, valid.message());
  return spec;
}

Result<StackFile> Parser::parse(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return Status::invalid_argument(file_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                    std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return error(root, "", "the file is empty: a stack file needs `services`");
  if (!root.IsMap()) return type_error(root, "", "a mapping at the top level");
  if (Status s = check_keys(root, "", {"services", "version"}, kIgnoredTopKeys, ""); !s.ok()) return s;
  const YAML::Node services = root["services"];
  if (!services || services.IsNull()) return error(root, "", "no services: a stack file needs `services`");
  if (!services.IsMap()) return type_error(services, "services", "a mapping of service names");
  if (services.size() == 0) return error(services, "services", "no services");
  if (services.size() > kMaxServices) {
    return error(services, "services", "more than " + std::to_string(kMaxServices) + " services");
  }

  std::map<std::string, json> specs;
  for (const auto& kv : services) {
    if (!kv.first.IsScalar()) return type_error(kv.first, "services", "service names");
    const std::string& name = kv.first.Scalar();
    if (name.rfind("x-", 0) == 0) continue;
    if (specs.count(name)) return error(kv.first, "services", "service \"" + name + "\" is defined twice");
    auto spec = service(name, kv.second, "services." + name);
    if (!spec.ok()) return spec.status();
    specs.emplace(name, std::move(*spec));
  }
  StackFile out;
  for (auto& [name, spec] : specs) out.services.push_back({name, std::move(spec)});
  if (!ignored_.empty()) {
    std::string line = "Ignoring unsupported options: ";
    bool first = true;
    for (const auto& key : ignored_) {
      line += (first ? "" : ", ") + key;
      first = false;
    }
    out.warnings.push_back(line);
  }
  return out;
}

}  // namespace

Status validate_stack_name(std::string_view stack) {
  if (stack.empty()) return Status::invalid_argument("invalid stack name: it is empty");
  if (!controlapi::valid_service_name(stack) || stack.size() > 50) {
    return Status::invalid_argument("invalid stack name \"" + std::string(stack) +
                                    "\": use letters, digits, '-' and '_', starting and ending with a letter or "
                                    "digit, at most 50 characters");
  }
  return Status::ok_status();
}

Result<StackFile> parse_stack_file(std::string_view yaml_text, std::string_view file, std::string_view stack) {
  if (Status s = validate_stack_name(stack); !s.ok()) return s;
  try {
    return Parser(file, stack).parse(yaml_text);
  } catch (const YAML::Exception& e) {
    // Any other YAML error (a bad conversion inside yaml-cpp) still names the file.
    return Status::invalid_argument(std::string(file) + ": invalid YAML: " + e.what());
  }
}

Result<std::vector<std::string>> split_shell_words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  size_t i = 0;
  auto is_blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size()) {
    const char c = text[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return Status::invalid_argument("a trailing backslash in \"" + std::string(text) + "\"");
      if (text[i + 1] != '\n') {  // backslash-newline joins lines
        cur += text[i + 1];
        in_word = true;
      }
      i += 2;
    } else if (c == '\'') {
      const size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return Status::invalid_argument("an unterminated single quote in \"" + std::string(text) + "\"");
      }
      cur.append(text.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      in_word = true;
      bool closed = false;
      for (++i; i < text.size(); ++i) {
        const char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < text.size()) {
          const char e = text[i + 1];
          if (e == '"' || e == '\\' || e == '$' || e == '`') {
            cur += e;
            ++i;
            continue;
          }
          if (e == '\n') {
            ++i;
            continue;
          }
        }
        cur += d;
      }
      if (!closed) return Status::invalid_argument("an unterminated double quote in \"" + std::string(text) + "\"");
    } else {
      cur += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

}  // namespace shoal::real
