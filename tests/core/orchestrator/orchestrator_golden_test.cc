// Golden transcripts of the orchestrator's decisions: each file under testdata/orchestrator/ is a
// script of commands (tests/datadriven/datadriven.h) whose output — the actions each pass
// proposes and the lines the orchestrator logs about them — is checked in, so a test fails when
// a decision changes. Rewrite the expectations with SHOAL_REWRITE=1 and read the diff.
//
// The real Orchestrator (reconciler, updater and scheduler in one pass) runs as the leader over a
// real Store, on a hand-driven clock. Nothing happens between commands: the script plays the API
// (node and service commands), the agents (task commands) and Raft (`reconcile` commits the
// pass's transaction at once).
//
// Task ids are random (Docker-shaped); the transcript calls each task t1, t2, ... in the order it
// first appears, and writes that alias wherever the id would appear.
//
// Commands:
//   node add <id> [state=ready|down|unknown] [availability=active|pause|drain]
//   node (ready|down|active|pause|drain|remove) <id>
//   service create <name> [replicas=<n>|global] [args=(a,b)] [restart=any|on-failure|none]
//       [restart-delay=<dur>] [max-attempts=<n>] [restart-window=<dur>] [parallelism=<n>]
//       [delay=<dur>] [order=stop-first|start-first] [failure-action=pause|continue|rollback]
//       [monitor=<dur>] [max-failure-ratio=<x>] and the same with a rollback- prefix for the
//       rollback config (defaults: the update config's values)
//   service update <name> [any key of create except global]   through controlapi::update_service
//   service rollback <name>                                   through controlapi::rollback_service
//   service remove <name>
//   services                      each service's spec version, replicas and update status
//   task (run|fail|complete|shutdown) <task>... [unhealthy]
//       An agent's report. <task> is an alias (t3) or a name (web.2): the slot's newest task
//       still desired running, or for shutdown its oldest task asked to stop and not yet ended.
//       A task that waits for another (a stop-first update) does not run before that one ended.
//   agents                        every agent on a ready node does what it was asked: tasks asked
//                                 to stop report shutdown, then assigned tasks free to start run
//   reconcile                     one orchestrator pass, committed
//   advance <dur>                 the clock moves on (500ms, 10s, 2m); passes wait for reconcile
//   tasks [<service>]             the task table
//   log-level debug|info|warn|error|off
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/controlapi/service_spec.h"
#include "core/controlapi/services.h"
#include "core/orchestrator/orchestrator.h"
#include "core/orchestrator/restart_policy.h"
#include "core/store/store.h"
#include "core/store/task_name.h"
#include "tests/core/manual_env.h"
#include "tests/datadriven/datadriven.h"
#include "tests/datadriven/transcript_log_sink.h"
#include "tests/core/store_commit.h"

namespace shoal::orchestrator {
namespace {

using datadriven::TestCase;

constexpr int64_t kSecond = 1'000'000'000;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string state_name(storepb::TaskState s) { return lower(storepb::TaskState_Name(s)); }

std::string update_state_name(storepb::UpdateStatus::State s) {
  std::string name = lower(storepb::UpdateStatus::State_Name(s));
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

// "500ms", "10s", "2m", "0".
std::optional<int64_t> parse_duration_ns(const std::string& s) {
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  const int64_t n = std::stoll(s.substr(0, digits));
  const std::string unit = s.substr(digits);
  if (unit == "ms") return n * kSecond / 1000;
  if (unit == "s") return n * kSecond;
  if (unit == "m") return n * 60 * kSecond;
  if (unit.empty() && n == 0) return 0;
  return std::nullopt;
}

class OrchestratorGoldenHarness {
 public:
  OrchestratorGoldenHarness()
      : timers_(clock_),
        rng_(1),
        env_{clock_, timers_, rng_, transport_, disk_, log_},
        orchestrator_(env_, store_, [] { return true; },
                      [this](storepb::Transaction tx, std::function<void(Status)> done) {
                        proposal_ = Proposal{std::move(tx), std::move(done)};
                      },
                      {}) {}

  std::string handle(const TestCase& tc) {
    out_.clear();
    const auto pos = tc.positional();
    if (tc.cmd == "node") {
      node(tc, pos);
    } else if (tc.cmd == "service") {
      service(tc, pos);
    } else if (tc.cmd == "services") {
      for (const auto& [id, svc] : store_.services()) describe_service(svc);
    } else if (tc.cmd == "task") {
      task(tc, pos);
    } else if (tc.cmd == "agents") {
      agents();
    } else if (tc.cmd == "reconcile") {
      reconcile();
    } else if (tc.cmd == "advance") {
      auto d = pos.empty() ? std::nullopt : parse_duration_ns(pos[0]);
      if (!d) {
        tc.fail("advance <duration>");
      } else {
        clock_.now += Duration(*d);
      }
    } else if (tc.cmd == "tasks") {
      tasks(pos.empty() ? "" : pos[0]);
    } else if (tc.cmd == "log-level") {
      auto level = parse_log_level(pos.empty() ? "" : pos[0]);
      if (!level) {
        tc.fail("want debug, info, warn, error or off");
      } else {
        sink_.set_level(*level);
      }
    } else {
      tc.fail("unknown command");
    }
    return with_aliases(out_);
  }

 private:
  struct Proposal {
    storepb::Transaction tx;
    std::function<void(Status)> done;
  };

  int64_t now_ns() const { return clock_.wall_now_unix_ns(); }

  Status commit(storepb::Transaction tx) {
    if (tx.now_ns() == 0) tx.set_now_ns(now_ns());
    return testing::commit_to_store(store_, index_, tx);
  }
  void commit_action(storepb::StoreAction a) {
    storepb::Transaction tx;
    *tx.add_actions() = std::move(a);
    if (Status s = commit(std::move(tx)); !s.ok()) out_ += "refused: " + s.to_string() + "\n";
  }

  // ---- nodes ---------------------------------------------------------------------------------

  void node(const TestCase& tc, const std::vector<std::string>& pos) {
    if (pos.size() != 2) return tc.fail("node <verb> <id>");
    const std::string& verb = pos[0];
    const std::string& id = pos[1];
    const storepb::NodeObject* existing = store_.find_node(id);
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    storepb::NodeObject* n = a.mutable_node();
    if (verb == "add") {
      a.set_kind(storepb::StoreAction::CREATE);
      n->set_id(id);
      n->set_role(storepb::WORKER);
      n->mutable_description()->mutable_resources()->set_memory_bytes(int64_t{1} << 30);
      n->mutable_description()->mutable_resources()->set_nano_cpus(2'000'000'000);
      const std::string state = tc.str_arg("state", "ready");
      if (state == "ready") n->set_state(storepb::NodeObject::READY);
      else if (state == "down") n->set_state(storepb::NodeObject::DOWN);
      else if (state == "unknown") n->set_state(storepb::NodeObject::UNKNOWN);
      else return tc.fail("state: ready, down or unknown");
      if (!set_availability(*n, tc.str_arg("availability", "active"))) return tc.fail("availability: active, pause or drain");
      return commit_action(std::move(a));
    }
    if (!existing) return tc.fail("no node " + id);
    *n = *existing;
    if (verb == "ready") {
      n->set_state(storepb::NodeObject::READY);
    } else if (verb == "down") {
      n->set_state(storepb::NodeObject::DOWN);
    } else if (verb == "remove") {
      a.set_kind(storepb::StoreAction::REMOVE);
    } else if (!set_availability(*n, verb)) {
      return tc.fail("unknown node verb " + verb);
    }
    commit_action(std::move(a));
  }

  static bool set_availability(storepb::NodeObject& n, const std::string& availability) {
    if (availability == "active") n.mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
    else if (availability == "pause") n.mutable_spec()->set_availability(storepb::NodeSpec::PAUSE);
    else if (availability == "drain") n.mutable_spec()->set_availability(storepb::NodeSpec::DRAIN);
    else return false;
    return true;
  }

  // ---- services ------------------------------------------------------------------------------

  void service(const TestCase& tc, const std::vector<std::string>& pos) {
    const bool global = tc.has_arg("global");
    if (pos.size() != (global ? 3u : 2u)) return tc.fail("service <verb> <name> [global]");
    const std::string& verb = pos[0];
    const std::string& name = pos[1];
    if (verb == "create") {
      storepb::ServiceSpec spec;
      spec.mutable_annotations()->set_name(name);
      spec.mutable_task()->mutable_container()->add_command("/bin/app");
      if (global) {
        spec.mutable_global();
      } else {
        spec.mutable_replicated()->set_replicas(1);
      }
      if (!apply_spec_args(tc, spec, /*creating=*/true)) return;
      if (Status s = controlapi::validate_service_spec(spec); !s.ok()) {
        out_ += "error: " + s.to_string() + "\n";
        return;
      }
      storepb::StoreAction a;
      a.set_kind(storepb::StoreAction::CREATE);
      storepb::ServiceObject* svc = a.mutable_service();
      svc->set_id(name);  // the id is the name: short, and never printed apart from it
      *svc->mutable_spec() = std::move(spec);
      svc->set_spec_version(1);
      commit_action(std::move(a));
      return;
    }
    const storepb::ServiceObject* current = store_.find_service(name);
    if (!current) return tc.fail("no service " + name);
    Result<storepb::Transaction> tx = Status::invalid_argument("unknown service verb " + verb);
    if (verb == "update") {
      storepb::ServiceSpec spec = current->spec();
      if (!apply_spec_args(tc, spec, /*creating=*/false)) return;
      tx = controlapi::update_service(store_, name, current->version(), std::move(spec), now_ns());
    } else if (verb == "rollback") {
      tx = controlapi::rollback_service(store_, name, current->version(), now_ns());
    } else if (verb == "remove") {
      tx = controlapi::remove_service(store_, name);
    } else {
      return tc.fail("unknown service verb " + verb);
    }
    if (!tx.ok()) {
      out_ += "error: " + tx.status().to_string() + "\n";
      return;
    }
    if (Status s = commit(std::move(*tx)); !s.ok()) {
      out_ += "refused: " + s.to_string() + "\n";
      return;
    }
    if (const storepb::ServiceObject* svc = store_.find_service(name)) describe_service(*svc);
  }

  // Sets what the case's arguments say on `spec`; false (after reporting) on a bad value.
  bool apply_spec_args(const TestCase& tc, storepb::ServiceSpec& spec, bool creating) {
    if (auto r = tc.arg("replicas")) {
      if (spec.has_global()) {
        tc.fail("a global service has no replicas");
        return false;
      }
      spec.mutable_replicated()->set_replicas(std::stoull(*r));
    }
    storepb::TaskSpec& task = *spec.mutable_task();
    if (const auto* args = tc.find_arg("args")) {
      task.mutable_container()->clear_args();
      for (const auto& v : args->vals) task.mutable_container()->add_args(v);
    }
    storepb::RestartPolicy& restart = *task.mutable_restart();
    if (auto c = tc.arg("restart")) {
      if (*c == "any") restart.set_condition(storepb::RestartPolicy::ANY);
      else if (*c == "on-failure") restart.set_condition(storepb::RestartPolicy::ON_FAILURE);
      else if (*c == "none") restart.set_condition(storepb::RestartPolicy::NONE);
      else return bad(tc, "restart: any, on-failure or none");
    }
    if (!duration_arg(tc, "restart-delay", [&](int64_t ns) { restart.set_delay_ns(ns); })) return false;
    if (!duration_arg(tc, "restart-window", [&](int64_t ns) { restart.set_window_ns(ns); })) return false;
    if (auto m = tc.arg("max-attempts")) restart.set_max_attempts(std::stoull(*m));
    if (!update_config_args(tc, "", *spec.mutable_update_config())) return false;
    // The rollback config starts from the update config given here, as a script rarely needs
    // two different ones; rollback- keys override it.
    if (creating) *spec.mutable_rollback_config() = spec.update_config();
    return update_config_args(tc, "rollback-", *spec.mutable_rollback_config());
  }

  bool update_config_args(const TestCase& tc, const std::string& prefix, storepb::UpdateConfig& cfg) {
    if (auto p = tc.arg(prefix + "parallelism")) cfg.set_parallelism(std::stoull(*p));
    if (!duration_arg(tc, prefix + "delay", [&](int64_t ns) { cfg.set_delay_ns(ns); })) return false;
    if (!duration_arg(tc, prefix + "monitor", [&](int64_t ns) { cfg.set_monitor_ns(ns); })) return false;
    if (auto r = tc.arg(prefix + "max-failure-ratio")) cfg.set_max_failure_ratio(std::stod(*r));
    if (auto o = tc.arg(prefix + "order")) {
      if (*o == "stop-first") cfg.set_order(storepb::UpdateConfig::STOP_FIRST);
      else if (*o == "start-first") cfg.set_order(storepb::UpdateConfig::START_FIRST);
      else return bad(tc, prefix + "order: stop-first or start-first");
    }
    if (auto f = tc.arg(prefix + "failure-action")) {
      if (*f == "pause") cfg.set_failure_action(storepb::UpdateConfig::PAUSE);
      else if (*f == "continue") cfg.set_failure_action(storepb::UpdateConfig::CONTINUE);
      else if (*f == "rollback") cfg.set_failure_action(storepb::UpdateConfig::ROLLBACK);
      else return bad(tc, prefix + "failure-action: pause, continue or rollback");
    }
    return true;
  }

  bool duration_arg(const TestCase& tc, const std::string& key, const std::function<void(int64_t)>& set) {
    auto v = tc.arg(key);
    if (!v) return true;
    auto ns = parse_duration_ns(*v);
    if (!ns) return bad(tc, key + ": a duration such as 500ms, 10s or 2m");
    set(*ns);
    return true;
  }

  static bool bad(const TestCase& tc, const std::string& what) {
    tc.fail(what);
    return false;
  }

  void describe_service(const storepb::ServiceObject& svc) {
    std::string line = svc.spec().annotations().name() + ": spec " + std::to_string(svc.spec_version());
    if (svc.spec().has_replicated()) {
      line += ", " + std::to_string(svc.spec().replicated().replicas()) + " replicas";
    } else {
      line += ", global";
    }
    const auto& u = svc.update_status();
    if (u.state() != storepb::UpdateStatus::NONE) {
      line += ", update " + update_state_name(u.state()) + " (" + u.message() + ")";
    }
    out_ += line + "\n";
  }

  // ---- tasks ---------------------------------------------------------------------------------

  std::string alias(const std::string& id) {
    auto [it, fresh] = aliases_.try_emplace(id, "");
    if (fresh) {
      it->second = "t" + std::to_string(aliases_.size());
      ids_by_alias_[it->second] = id;
    }
    return it->second;
  }

  // Replaces every task id in `text` by its alias.
  std::string with_aliases(std::string text) const {
    for (const auto& [id, a] : aliases_) {
      for (size_t at = text.find(id); at != std::string::npos; at = text.find(id, at + a.size())) {
        text.replace(at, id.size(), a);
      }
    }
    return text;
  }

  // The tasks of one slot ("web.2"), oldest first.
  std::vector<const storepb::TaskObject*> slot_tasks(const std::string& name) {
    std::vector<const storepb::TaskObject*> out;
    for (const auto& [id, t] : store_.tasks()) {
      if (store::task_name(t) == name) out.push_back(&t);
    }
    sort_by_age(out);
    return out;
  }

  const storepb::TaskObject* find_task(const std::string& ref, bool stopping) {
    if (auto it = ids_by_alias_.find(ref); it != ids_by_alias_.end()) return store_.find_task(it->second);
    const auto history = slot_tasks(ref);
    if (stopping) {
      for (const auto* t : history) {
        if (t->desired_state() > storepb::RUNNING && !is_terminal(t->status().state())) return t;
      }
      return nullptr;
    }
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      if ((*it)->desired_state() <= storepb::RUNNING) return *it;
    }
    return nullptr;
  }

  // The first task `t` waits for that has not ended yet; nullptr if none.
  const storepb::TaskObject* waiting_for(const storepb::TaskObject& t) const {
    for (const auto& id : t.wait_for()) {
      const storepb::TaskObject* w = store_.find_task(id);
      if (w && !is_terminal(w->status().state())) return w;
    }
    return nullptr;
  }

  void task(const TestCase& tc, const std::vector<std::string>& pos) {
    if (pos.size() < 2) return tc.fail("task <verb> <task>...");
    const std::string& verb = pos[0];
    storepb::TaskState state;
    std::string message;
    std::string err;
    if (verb == "run") {
      state = storepb::RUNNING;
      message = "started";
    } else if (verb == "fail") {
      state = storepb::FAILED;
      message = err = tc.has_arg("unhealthy") ? "task: unhealthy container" : "task: non-zero exit (1)";
    } else if (verb == "complete") {
      state = storepb::COMPLETE;
      message = "finished";
    } else if (verb == "shutdown") {
      state = storepb::SHUTDOWN;
      message = "shutdown";
    } else {
      return tc.fail("unknown task verb " + verb);
    }
    for (size_t i = 1; i < pos.size(); ++i) {
      if (pos[i] == "unhealthy") continue;
      const storepb::TaskObject* t = find_task(pos[i], state == storepb::SHUTDOWN);
      if (!t) {
        tc.fail("no such task " + pos[i]);
        continue;
      }
      report(*t, state, message, err);
    }
  }

  // An agent's report about `t`, committed; prints one line.
  void report(const storepb::TaskObject& t, storepb::TaskState state, const std::string& message,
              const std::string& err) {
    const std::string who = alias(t.id()) + " " + store::task_name(t);
    if (t.node_id().empty()) {
      out_ += who + ": not on a node\n";
      return;
    }
    if (state == storepb::RUNNING) {
      if (const storepb::TaskObject* w = waiting_for(t)) {
        out_ += who + ": waits for " + alias(w->id()) + " to end\n";
        return;
      }
    }
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    a.mutable_task_status()->set_task_id(t.id());
    storepb::TaskStatus* st = a.mutable_task_status()->mutable_status();
    st->set_state(state);
    st->set_timestamp_ns(now_ns());
    st->set_message(message);
    st->set_err(err);
    if (state == storepb::FAILED) st->set_exit_code(1);
    out_ += who + ": " + state_name(state) + (err.empty() ? "" : " (" + err + ")") + "\n";
    commit_action(std::move(a));
  }

  // Transcript order: by service, slot (a global service's tasks: node), then age.
  static bool by_name(const storepb::TaskObject* a, const storepb::TaskObject* b) {
    if (a->service_name() != b->service_name()) return a->service_name() < b->service_name();
    if (a->slot() != b->slot()) return a->slot() < b->slot();
    if (a->slot() == 0 && a->node_id() != b->node_id()) return a->node_id() < b->node_id();
    if (a->created_index() != b->created_index()) return a->created_index() < b->created_index();
    return a->id() < b->id();
  }

  bool node_ready(const std::string& id) const {
    const storepb::NodeObject* n = store_.find_node(id);
    return n && n->state() == storepb::NodeObject::READY;
  }

  void agents() {
    std::vector<const storepb::TaskObject*> stop, start;
    for (const auto& [id, t] : store_.tasks()) {
      if (t.node_id().empty() || !node_ready(t.node_id()) || is_terminal(t.status().state())) continue;
      if (t.desired_state() > storepb::RUNNING) stop.push_back(&t);
    }
    std::sort(stop.begin(), stop.end(), by_name);
    std::vector<std::string> stop_ids;
    for (const auto* t : stop) stop_ids.push_back(t->id());
    for (const auto& id : stop_ids) report(*store_.find_task(id), storepb::SHUTDOWN, "shutdown", "");
    for (const auto& [id, t] : store_.tasks()) {
      if (t.node_id().empty() || !node_ready(t.node_id()) || t.desired_state() > storepb::RUNNING) continue;
      if (t.status().state() >= storepb::ASSIGNED && t.status().state() < storepb::RUNNING && !waiting_for(t)) {
        start.push_back(&t);
      }
    }
    std::sort(start.begin(), start.end(), by_name);
    std::vector<std::string> start_ids;
    for (const auto* t : start) start_ids.push_back(t->id());
    for (const auto& id : start_ids) report(*store_.find_task(id), storepb::RUNNING, "started", "");
    if (stop_ids.empty() && start_ids.empty()) out_ += "nothing to do\n";
  }

  void tasks(const std::string& service) {
    std::vector<const storepb::TaskObject*> all;
    for (const auto& [id, t] : store_.tasks()) {
      if (service.empty() || t.service_name() == service) all.push_back(&t);
    }
    std::sort(all.begin(), all.end(), by_name);
    if (all.empty()) {
      out_ += "no tasks\n";
      return;
    }
    out_ += fmt::format("{:<4} {:<8} {:<4} {:<9} {:<9} {:<4} {}\n", "id", "task", "node", "desired", "state", "spec",
                        "notes");
    for (const auto* t : all) {
      std::string notes;
      if (t->attempt() > 0) notes += "attempt " + std::to_string(t->attempt());
      if (!t->status().err().empty()) notes += (notes.empty() ? "" : "; ") + t->status().err();
      if (t->not_restarted()) notes += (notes.empty() ? "" : "; ") + std::string("not restarted");
      if (t->wait_for_size() > 0) {
        std::string w;
        for (const auto& id : t->wait_for()) w += (w.empty() ? "" : ",") + alias(id);
        notes += (notes.empty() ? "" : "; ") + ("waits for " + w);
      }
      const std::string line = fmt::format("{:<4} {:<8} {:<4} {:<9} {:<9} {:<4} {}", alias(t->id()),
                                           store::task_name(*t), t->node_id().empty() ? "-" : t->node_id(),
                                           state_name(t->desired_state()), state_name(t->status().state()),
                                           t->spec_version(), notes);
      out_ += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
    }
  }

  // ---- the orchestrator ----------------------------------------------------------------------

  // One pass: whatever timers are due run (the first one to run proposes; the others find a
  // proposal in flight), and the proposal is committed at once.
  void reconcile() {
    orchestrator_.request_pass();
    timers_.advance(Duration::zero());
    if (!proposal_) {
      out_ += "no changes\n";
      return;
    }
    Proposal p = std::move(*proposal_);
    proposal_.reset();
    for (const auto& a : p.tx.actions()) describe_action(a);
    const Status s = commit(p.tx);
    if (!s.ok()) out_ += "refused: " + s.to_string() + "\n";
    p.done(s);  // logs the pass's notes
  }

  void describe_action(const storepb::StoreAction& a) {
    if (a.has_task()) {
      const storepb::TaskObject& t = a.task();
      const std::string who = alias(t.id()) + " " + store::task_name(t);
      if (a.kind() == storepb::StoreAction::CREATE) {
        std::string line = "create " + who + " node=" + (t.node_id().empty() ? "-" : t.node_id()) +
                           " state=" + state_name(t.status().state()) + " spec=" + std::to_string(t.spec_version());
        if (t.attempt() > 0) line += " attempt=" + std::to_string(t.attempt());
        if (t.wait_for_size() > 0) {
          line += " wait-for=(";
          for (int i = 0; i < t.wait_for_size(); ++i) line += (i ? "," : "") + alias(t.wait_for(i));
          line += ")";
        }
        if (!t.status().err().empty()) line += " err=\"" + t.status().err() + "\"";
        out_ += line + "\n";
        return;
      }
      if (a.kind() == storepb::StoreAction::REMOVE) {
        out_ += "remove " + who + "\n";
        return;
      }
      const storepb::TaskObject* stored = store_.find_task(t.id());
      std::string changes;
      if (!stored || stored->desired_state() != t.desired_state()) changes += " desired=" + state_name(t.desired_state());
      if (!stored || stored->node_id() != t.node_id()) changes += " node=" + t.node_id();
      if (!stored || stored->status().state() != t.status().state()) changes += " state=" + state_name(t.status().state());
      if (t.not_restarted() && (!stored || !stored->not_restarted())) changes += " not-restarted";
      out_ += "update " + who + (changes.empty() ? " (no change)" : changes) + "\n";
      return;
    }
    if (a.has_task_status()) {
      const storepb::TaskObject* t = store_.find_task(a.task_status().task_id());
      const std::string who = alias(a.task_status().task_id()) + (t ? " " + store::task_name(*t) : "");
      out_ += "status " + who + " err=\"" + a.task_status().status().err() + "\"\n";
      return;
    }
    if (a.has_service()) {
      const storepb::ServiceObject& svc = a.service();
      const storepb::ServiceObject* stored = store_.find_service(svc.id());
      std::string line = "service " + svc.spec().annotations().name();
      if (stored && stored->spec_version() != svc.spec_version()) {
        line += " spec " + std::to_string(stored->spec_version()) + "->" + std::to_string(svc.spec_version());
      }
      line += " update " + update_state_name(svc.update_status().state()) + " (" + svc.update_status().message() + ")";
      out_ += line + "\n";
      return;
    }
    out_ += "other action\n";
  }

  test::ManualClock clock_;
  test::ManualTimers timers_;
  Rng rng_;
  test::NoTransport transport_;
  test::NoDisk disk_;
  std::string out_;
  datadriven::TranscriptLogSink sink_{out_};
  Log log_{clock_, sink_};
  Env env_;
  store::Store store_;
  uint64_t index_ = 0;
  std::optional<Proposal> proposal_;
  Orchestrator orchestrator_;
  std::map<std::string, std::string> aliases_;       // task id -> t<n>
  std::map<std::string, std::string> ids_by_alias_;  // t<n> -> task id
};

const std::string kTestdata = std::string(SHOAL_SOURCE_DIR) + "/testdata/orchestrator";

SHOAL_DATADRIVEN_TESTS(OrchestratorGolden, OrchestratorGoldenHarness, kTestdata, 6)

}  // namespace
}  // namespace shoal::orchestrator
