#include "io_sim/scenario/scenario.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

namespace shoal::sim {

namespace {

// Every problem names the scenario, the field and what was expected.
struct Bad {
  std::string what;
};

Duration duration_of(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) throw Bad{field + ": expected a duration like 500ms or 2s"};
  auto d = parse_duration(n.as<std::string>());
  if (!d.ok()) throw Bad{field + ": " + d.status().message()};
  return *d;
}

double number_of(const YAML::Node& n, const std::string& field, double lo, double hi) {
  double v = 0;
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    throw Bad{field + ": expected a number"};
  }
  if (!(v >= lo && v <= hi)) {
    throw Bad{field + ": " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
              std::to_string(hi) + "]"};
  }
  return v;
}

Target target_of(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) throw Bad{field + ": expected a node number, leader, follower, all or crashed"};
  const std::string s = n.as<std::string>();
  if (s == "leader") return {Target::Kind::kLeader, 0};
  if (s == "follower") return {Target::Kind::kFollower, 0};
  if (s == "all") return {Target::Kind::kAll, 0};
  if (s == "crashed") return {Target::Kind::kCrashed, 0};
  try {
    size_t used = 0;
    const unsigned long v = std::stoul(s, &used);
    if (used == s.size() && v > 0) return {Target::Kind::kNode, v};
  } catch (const std::exception&) {
  }
  throw Bad{field + ": '" + s + "' is not a node number, leader, follower, all or crashed"};
}

void check_keys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (!allowed.count(key)) throw Bad{where + ": unknown field '" + key + "'"};
  }
}

Step step_of(const YAML::Node& n, size_t i) {
  const std::string where = "timeline[" + std::to_string(i) + "]";
  if (!n.IsMap()) throw Bad{where + ": expected a map with 'at' and one action"};
  Step s;
  std::ostringstream line;
  line << YAML::Dump(n);
  s.line = line.str();
  for (auto& c : s.line) c = c == '\n' ? ' ' : c;
  if (!n["at"]) throw Bad{where + ": missing 'at'"};
  s.at = duration_of(n["at"], where + ".at");
  static const std::set<std::string> kActions = {
      "partition", "isolate", "block", "unblock", "heal", "crash", "restart", "pause",
      "disk_loss", "clock_jump", "clock_drift", "link", "flap", "add_learner", "add_voter",
      "remove_node", "transfer_leader", "scale", "update", "drain", "activate", "promote", "demote", "rotate_ca"};
  for (const auto& kv : n) {
    const auto key = kv.first.as<std::string>();
    if (key == "at") continue;
    if (!kActions.count(key)) throw Bad{where + ": unknown action '" + key + "'"};
    if (!s.action.empty()) throw Bad{where + ": one action per step ('" + s.action + "' and '" + key + "')"};
    s.action = key;
    const YAML::Node& v = kv.second;
    const std::string f = where + "." + key;
    if (key == "partition") {
      if (!v.IsSequence() || v.size() < 2) throw Bad{f + ": expected a list of at least two groups"};
      for (const auto& g : v) {
        if (!g.IsSequence()) throw Bad{f + ": each group is a list of nodes ([] = everyone else)"};
        std::vector<Target> group;
        for (const auto& t : g) group.push_back(target_of(t, f));
        s.groups.push_back(group);
      }
    } else if (key == "heal" || key == "rotate_ca") {
      // `heal: true`, `rotate_ca: true`
    } else if (key == "block" || key == "unblock") {
      if (!v.IsMap()) throw Bad{f + ": expected {from: X, to: Y}"};
      check_keys(v, {"from", "to"}, f);
      s.node = target_of(v["from"], f + ".from");
      s.to = target_of(v["to"], f + ".to");
    } else if (key == "pause") {
      if (!v.IsMap()) throw Bad{f + ": expected {node: X, for: 2s}"};
      check_keys(v, {"node", "for"}, f);
      s.node = target_of(v["node"], f + ".node");
      s.amount = duration_of(v["for"], f + ".for");
    } else if (key == "clock_jump") {
      if (!v.IsMap()) throw Bad{f + ": expected {node: X, by: -5s}"};
      check_keys(v, {"node", "by"}, f);
      s.node = target_of(v["node"], f + ".node");
      s.amount = duration_of(v["by"], f + ".by");
    } else if (key == "clock_drift") {
      if (!v.IsMap()) throw Bad{f + ": expected {node: X, ppm: 500}"};
      check_keys(v, {"node", "ppm"}, f);
      s.node = target_of(v["node"], f + ".node");
      s.ppm = number_of(v["ppm"], f + ".ppm", -100000, 100000);
    } else if (key == "link") {
      if (!v.IsMap()) throw Bad{f + ": expected {drop: P, duplicate: P, reorder: P, latency: D, jitter: D}"};
      check_keys(v, {"drop", "duplicate", "reorder", "latency", "jitter"}, f);
      if (v["latency"]) s.latency = duration_of(v["latency"], f + ".latency");
      if (v["jitter"]) s.jitter = duration_of(v["jitter"], f + ".jitter");
      if (s.latency.count() < -1 || s.jitter.count() < -1) throw Bad{f + ": latency and jitter cannot be negative"};
      if (v["drop"]) s.drop = number_of(v["drop"], f + ".drop", 0, 1);
      if (v["duplicate"]) s.duplicate = number_of(v["duplicate"], f + ".duplicate", 0, 1);
      if (v["reorder"]) s.reorder = number_of(v["reorder"], f + ".reorder", 0, 1);
    } else if (key == "flap") {
      if (!v.IsMap()) throw Bad{f + ": expected {node: X, down: 200ms, up: 300ms, times: N}"};
      check_keys(v, {"node", "down", "up", "times"}, f);
      s.node = target_of(v["node"], f + ".node");
      s.amount = duration_of(v["down"], f + ".down");
      s.amount2 = duration_of(v["up"], f + ".up");
      s.times = static_cast<int>(number_of(v["times"], f + ".times", 1, 1000));
    } else if (key == "update") {
      if (!v.IsMap() || !v["service"]) throw Bad{f + ": expected {service: NAME, failing: false, unhealthy: false}"};
      check_keys(v, {"service", "failing", "unhealthy"}, f);
      s.service = v["service"].as<std::string>();
      if (v["failing"]) s.failing = v["failing"].as<bool>();
      if (v["unhealthy"]) s.unhealthy = v["unhealthy"].as<bool>();
      if (s.failing && s.unhealthy) throw Bad{f + ": a version either crashes (failing) or fails its health checks (unhealthy)"};
    } else if (key == "scale") {
      if (!v.IsMap() || !v["service"] || !v["replicas"]) throw Bad{f + ": expected {service: NAME, replicas: N}"};
      check_keys(v, {"service", "replicas"}, f);
      s.service = v["service"].as<std::string>();
      s.replicas = static_cast<uint64_t>(number_of(v["replicas"], f + ".replicas", 0, 10000));
    } else {
      s.node = target_of(v, f);  // isolate, crash, restart, disk_loss, membership, transfer, drain, activate, promote, demote
    }
  }
  if (s.action.empty()) throw Bad{where + ": no action"};
  return s;
}

std::pair<Duration, Duration> range_of(const YAML::Node& n, const std::string& field) {
  if (!n.IsSequence() || n.size() != 2) throw Bad{field + ": expected [min, max], e.g. [50ms, 500ms]"};
  const Duration lo = duration_of(n[0], field + "[0]");
  const Duration hi = duration_of(n[1], field + "[1]");
  if (lo.count() < 0 || hi < lo) throw Bad{field + ": need 0 <= min <= max"};
  return {lo, hi};
}

SimService service_of(const YAML::Node& n, size_t i) {
  const std::string where = "services[" + std::to_string(i) + "]";
  if (!n.IsMap() || !n["name"]) throw Bad{where + ": expected a map with at least a name"};
  check_keys(n,
             {"name", "replicas", "mode", "constraints", "spread", "max_per_node", "restart_delay", "update", "health",
              "unhealthy"},
             where);
  SimService s;
  s.name = n["name"].as<std::string>();
  if (s.name.empty() || s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    throw Bad{where + ".name: '" + s.name + "' must be lower-case letters, digits and '-'"};
  }
  if (n["mode"]) {
    const std::string mode = n["mode"].as<std::string>();
    if (mode != "replicated" && mode != "global") throw Bad{where + ".mode: '" + mode + "' is neither replicated nor global"};
    s.global = mode == "global";
  }
  if (n["replicas"]) {
    if (s.global) throw Bad{where + ".replicas: a global service has no replica count"};
    s.replicas = static_cast<uint64_t>(number_of(n["replicas"], where + ".replicas", 0, 10000));
  }
  if (const auto c = n["constraints"]) {
    if (!c.IsSequence()) throw Bad{where + ".constraints: expected a list like [node.role==worker]"};
    for (const auto& e : c) s.constraints.push_back(e.as<std::string>());
  }
  if (n["spread"]) s.spread = n["spread"].as<std::string>();
  if (n["max_per_node"]) s.max_per_node = static_cast<uint64_t>(number_of(n["max_per_node"], where + ".max_per_node", 0, 10000));
  if (n["restart_delay"]) s.restart_delay = duration_of(n["restart_delay"], where + ".restart_delay");
  if (const auto h = n["health"]) {
    const std::string hw = where + ".health";
    if (!h.IsMap()) throw Bad{hw + ": expected {interval: D, timeout: D, retries: N, start_period: D}"};
    check_keys(h, {"interval", "timeout", "retries", "start_period"}, hw);
    s.health = true;
    if (h["interval"]) s.health_interval = duration_of(h["interval"], hw + ".interval");
    if (h["timeout"]) s.health_timeout = duration_of(h["timeout"], hw + ".timeout");
    if (h["retries"]) s.health_retries = static_cast<uint64_t>(number_of(h["retries"], hw + ".retries", 0, 100));
    if (h["start_period"]) s.health_start_period = duration_of(h["start_period"], hw + ".start_period");
    if (s.health_interval < std::chrono::milliseconds(1) || s.health_timeout < std::chrono::milliseconds(1) ||
        s.health_start_period.count() < 0) {
      throw Bad{hw + ": interval and timeout must be at least 1ms, start_period not negative"};
    }
  }
  if (n["unhealthy"]) {
    if (!s.health) throw Bad{where + ".unhealthy: a service without health: has no health to fail"};
    s.unhealthy = number_of(n["unhealthy"], where + ".unhealthy", 0, 1);
  }
  if (const auto u = n["update"]) {
    const std::string uw = where + ".update";
    if (!u.IsMap()) throw Bad{uw + ": expected {parallelism: N, delay: D, monitor: D, failure_action: A, order: O}"};
    check_keys(u, {"parallelism", "delay", "monitor", "failure_action", "order"}, uw);
    if (u["parallelism"]) s.update_parallelism = static_cast<uint64_t>(number_of(u["parallelism"], uw + ".parallelism", 0, 10000));
    if (u["delay"]) s.update_delay = duration_of(u["delay"], uw + ".delay");
    if (u["monitor"]) s.update_monitor = duration_of(u["monitor"], uw + ".monitor");
    if (u["failure_action"]) {
      s.update_failure_action = u["failure_action"].as<std::string>();
      if (s.update_failure_action != "pause" && s.update_failure_action != "continue" &&
          s.update_failure_action != "rollback") {
        throw Bad{uw + ".failure_action: '" + s.update_failure_action + "' is not pause, continue or rollback"};
      }
    }
    if (u["order"]) {
      const std::string order = u["order"].as<std::string>();
      if (order != "stop-first" && order != "start-first") throw Bad{uw + ".order: '" + order + "' is not stop-first or start-first"};
      s.update_start_first = order == "start-first";
    }
    if (s.update_delay.count() < 0 || s.update_monitor.count() < 0) throw Bad{uw + ": durations cannot be negative"};
  }
  return s;
}

TaskFaults task_faults_of(const YAML::Node& n) {
  if (!n.IsMap()) throw Bad{"tasks: expected a map"};
  check_keys(n, {"start", "fail_start", "crash", "crash_after", "hang", "stop"}, "tasks");
  TaskFaults t;
  if (n["start"]) std::tie(t.start_min, t.start_max) = range_of(n["start"], "tasks.start");
  if (n["crash_after"]) std::tie(t.crash_min, t.crash_max) = range_of(n["crash_after"], "tasks.crash_after");
  if (n["stop"]) std::tie(t.stop_min, t.stop_max) = range_of(n["stop"], "tasks.stop");
  if (n["fail_start"]) t.fail_start = number_of(n["fail_start"], "tasks.fail_start", 0, 1);
  if (n["crash"]) t.crash = number_of(n["crash"], "tasks.crash", 0, 1);
  if (n["hang"]) t.hang = number_of(n["hang"], "tasks.hang", 0, 1);
  return t;
}

}  // namespace

Result<Duration> parse_duration(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return Status::invalid_argument("'" + text + "' is not a duration (like 500ms or 2s)");
  }
  const std::string unit = text.substr(used);
  double ns_per = 0;
  if (unit == "s") ns_per = 1e9;
  else if (unit == "ms") ns_per = 1e6;
  else if (unit == "us") ns_per = 1e3;
  else if (unit == "m") ns_per = 60e9;
  else return Status::invalid_argument("'" + text + "' needs a unit: us, ms, s or m");
  if (v * ns_per > 1e9 * 3600 * 24 || v * ns_per < -1e9 * 3600 * 24) {
    return Status::invalid_argument("'" + text + "' is out of range");
  }
  return Duration(static_cast<int64_t>(v * ns_per));
}

Result<Scenario> parse_scenario(const std::string& yaml_text, const std::string& name) {
  Scenario sc;
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) throw Bad{"expected a map at the top"};
    check_keys(root, {"name", "description", "cluster", "workload", "safety_phase",
                      "liveness_bound", "max_commit_gap", "max_commit_gap_after", "timeline",
                      "random_faults", "services", "tasks", "check_update_bounds"},
               "top level");
    sc.name = root["name"] ? root["name"].as<std::string>() : name;
    if (root["description"]) sc.description = root["description"].as<std::string>();
    if (const auto c = root["cluster"]) {
      check_keys(c, {"nodes", "voters", "managers", "tick", "election_tick", "heartbeat_tick", "snapshot_every",
                     "pre_vote", "check_quorum", "disk_sync", "max_msg_bytes", "max_inflight", "cert_expiry", "autolock"},
                 "cluster");
      if (c["cert_expiry"]) {
        sc.cert_expiry = duration_of(c["cert_expiry"], "cluster.cert_expiry");
        if (sc.cert_expiry < std::chrono::seconds(10)) throw Bad{"cluster.cert_expiry: at least 10s"};
      }
      if (c["autolock"]) sc.autolock = c["autolock"].as<bool>();
      if (c["nodes"]) sc.nodes = static_cast<size_t>(number_of(c["nodes"], "cluster.nodes", 1, 64));
      if (c["voters"]) sc.voters = static_cast<size_t>(number_of(c["voters"], "cluster.voters", 1, 64));
      if (sc.voters > sc.nodes) throw Bad{"cluster.voters: more voters than nodes"};
      if (c["managers"]) sc.managers = static_cast<size_t>(number_of(c["managers"], "cluster.managers", 1, 64));
      if (sc.managers > sc.nodes) throw Bad{"cluster.managers: more managers than nodes"};
      if (c["tick"]) sc.tick_ms = static_cast<int>(duration_of(c["tick"], "cluster.tick").count() / 1000000);
      if (sc.tick_ms <= 0) throw Bad{"cluster.tick: must be at least 1ms"};
      if (c["election_tick"]) sc.election_tick = static_cast<int>(number_of(c["election_tick"], "cluster.election_tick", 2, 1000));
      if (c["heartbeat_tick"]) sc.heartbeat_tick = static_cast<int>(number_of(c["heartbeat_tick"], "cluster.heartbeat_tick", 1, 1000));
      if (sc.heartbeat_tick >= sc.election_tick) throw Bad{"cluster.heartbeat_tick: must be below election_tick"};
      if (c["snapshot_every"]) sc.snapshot_every = static_cast<uint64_t>(number_of(c["snapshot_every"], "cluster.snapshot_every", 0, 1e9));
      if (c["pre_vote"]) sc.pre_vote = c["pre_vote"].as<bool>();
      if (c["check_quorum"]) sc.check_quorum = c["check_quorum"].as<bool>();
      if (c["max_msg_bytes"]) sc.max_msg_bytes = static_cast<uint64_t>(number_of(c["max_msg_bytes"], "cluster.max_msg_bytes", 1, 1e9));
      if (c["max_inflight"]) sc.max_inflight = static_cast<size_t>(number_of(c["max_inflight"], "cluster.max_inflight", 1, 1e6));
      if (const auto d = c["disk_sync"]) {
        if (!d.IsSequence() || d.size() != 2) throw Bad{"cluster.disk_sync: expected [min, max], e.g. [1ms, 10ms]"};
        sc.disk_sync_min = duration_of(d[0], "cluster.disk_sync[0]");
        sc.disk_sync_max = duration_of(d[1], "cluster.disk_sync[1]");
        if (sc.disk_sync_min.count() < 0 || sc.disk_sync_max < sc.disk_sync_min) {
          throw Bad{"cluster.disk_sync: need 0 <= min <= max"};
        }
      }
    }
    if (const auto w = root["workload"]) {
      check_keys(w, {"writes_per_s", "reads_per_s"}, "workload");
      if (w["writes_per_s"]) sc.writes_per_s = number_of(w["writes_per_s"], "workload.writes_per_s", 0, 1e6);
      if (w["reads_per_s"]) sc.reads_per_s = number_of(w["reads_per_s"], "workload.reads_per_s", 0, 1e6);
    }
    if (root["safety_phase"]) sc.safety_phase = duration_of(root["safety_phase"], "safety_phase");
    if (root["liveness_bound"]) sc.liveness_bound = duration_of(root["liveness_bound"], "liveness_bound");
    if (root["max_commit_gap"]) sc.max_commit_gap = duration_of(root["max_commit_gap"], "max_commit_gap");
    if (root["max_commit_gap_after"]) sc.max_commit_gap_after = duration_of(root["max_commit_gap_after"], "max_commit_gap_after");
    if (const auto t = root["timeline"]) {
      if (!t.IsSequence()) throw Bad{"timeline: expected a list of steps"};
      for (size_t i = 0; i < t.size(); ++i) sc.timeline.push_back(step_of(t[i], i));
    }
    if (const auto f = root["random_faults"]) {
      check_keys(f, {"every", "crash", "restart", "partition", "heal", "loss", "duplicate",
                     "clock", "pause", "power_loss", "disk_torn"},
                 "random_faults");
      auto& rf = sc.faults;
      if (f["every"]) rf.every = duration_of(f["every"], "random_faults.every");
      if (f["crash"]) rf.crash = number_of(f["crash"], "random_faults.crash", 0, 1);
      if (f["restart"]) rf.restart = number_of(f["restart"], "random_faults.restart", 0, 1);
      if (f["partition"]) rf.partition = number_of(f["partition"], "random_faults.partition", 0, 1);
      if (f["heal"]) rf.heal = number_of(f["heal"], "random_faults.heal", 0, 1);
      if (f["loss"]) rf.loss = number_of(f["loss"], "random_faults.loss", 0, 1);
      if (f["duplicate"]) rf.duplicate = number_of(f["duplicate"], "random_faults.duplicate", 0, 1);
      if (f["clock"]) rf.clock = number_of(f["clock"], "random_faults.clock", 0, 1);
      if (f["pause"]) rf.pause = number_of(f["pause"], "random_faults.pause", 0, 1);
      if (f["power_loss"]) rf.power_loss = number_of(f["power_loss"], "random_faults.power_loss", 0, 1);
      if (f["disk_torn"]) rf.disk_torn = number_of(f["disk_torn"], "random_faults.disk_torn", 0, 1);
      if (rf.every.count() <= 0) throw Bad{"random_faults.every: must be positive"};
    }
    if (const auto sv = root["services"]) {
      if (!sv.IsSequence() || sv.size() == 0) throw Bad{"services: expected a list of services"};
      std::set<std::string> names;
      for (size_t i = 0; i < sv.size(); ++i) {
        sc.services.push_back(service_of(sv[i], i));
        if (!names.insert(sc.services.back().name).second) {
          throw Bad{"services: two services named '" + sc.services.back().name + "'"};
        }
      }
      if (sc.managers == 0) throw Bad{"cluster.managers: a services scenario says how many of its nodes are managers"};
      if (sc.voters != 0 && sc.voters != sc.managers) throw Bad{"cluster.voters: in a services scenario the managers are the voters"};
      sc.voters = sc.managers;
    } else if (sc.managers != 0) {
      throw Bad{"cluster.managers: only a services scenario (with services:) has workers"};
    }
    if (root["check_update_bounds"]) sc.check_update_bounds = root["check_update_bounds"].as<bool>();
    if ((sc.cert_expiry.count() > 0 || sc.autolock) && !sc.has_services()) {
      throw Bad{"cluster.cert_expiry, cluster.autolock: only a services scenario (with services:) has certificates"};
    }
    if (const auto t = root["tasks"]) {
      if (!sc.has_services()) throw Bad{"tasks: only a services scenario (with services:) runs tasks"};
      sc.tasks = task_faults_of(t);
    }
    for (const auto& s : sc.timeline) {
      const bool services_step = s.action == "scale" || s.action == "update" || s.action == "drain" ||
                                 s.action == "activate" || s.action == "promote" || s.action == "demote" ||
                                 s.action == "rotate_ca";
      if (services_step && !sc.has_services()) throw Bad{"timeline: '" + s.action + "' needs a services scenario"};
      if (s.action == "update") {
        const SimService* svc = nullptr;
        for (const auto& candidate : sc.services) {
          if (candidate.name == s.service) svc = &candidate;
        }
        if (!svc) throw Bad{"timeline: update: no service named '" + s.service + "'"};
        if ((s.failing || s.unhealthy) && svc->update_failure_action != "rollback") {
          throw Bad{"timeline: update: a failing update of '" + s.service +
                    "' never converges unless its update.failure_action is rollback"};
        }
        if (s.unhealthy && !svc->health) {
          throw Bad{"timeline: update: '" + s.service + "' has no health: check, so an unhealthy version goes unseen"};
        }
        if (svc->unhealthy > 0) {
          throw Bad{"timeline: update: '" + s.service +
                    "' has randomly unhealthy tasks (unhealthy:), which would fail any update of it"};
        }
      }
      if (s.action == "scale") {
        bool known = false;
        for (const auto& svc : sc.services) known = known || (svc.name == s.service && !svc.global);
        if (!known) throw Bad{"timeline: scale: no replicated service named '" + s.service + "'"};
      }
      for (const Target* t : {&s.node, &s.to}) {
        if (t->kind == Target::Kind::kNode && t->node > sc.nodes) {
          throw Bad{"timeline: node " + std::to_string(t->node) + " does not exist (cluster has " +
                    std::to_string(sc.nodes) + ")"};
        }
      }
    }
  } catch (const Bad& b) {
    return Status::invalid_argument(name + ": " + b.what);
  } catch (const YAML::Exception& e) {
    return Status::invalid_argument(name + ": not valid YAML: " + e.what());
  }
  return sc;
}

Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::not_found("cannot open scenario file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_scenario(buf.str(), path);
}

}  // namespace shoal::sim
