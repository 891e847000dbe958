#include "io_sim/checkers/services_checker.h"

#include <algorithm>

#include "core/orchestrator/restart_policy.h"
#include "core/orchestrator/updater.h"

namespace shoal::sim {

namespace {

std::string state_name(storepb::TaskState s) { return storepb::TaskState_Name(s); }

std::string describe(const storepb::TaskObject& t) {
  return t.id() + " " + state_name(t.status().state()) + " (desired " + state_name(t.desired_state()) + ", node " +
         (t.node_id().empty() ? "none" : t.node_id()) + ", \"" + t.status().message() +
         (t.status().err().empty() ? "" : ": " + t.status().err()) + "\")";
}

}  // namespace

void ServicesChecker::check(const std::vector<NodeId>& managers) {
  for (NodeId m : managers) {
    const store::Store* st = store_of_(m);
    if (!st) continue;
    uint64_t& checked = checked_index_[m];
    if (st->last_index() == checked) continue;
    checked = st->last_index();
    scan(m, *st);
  }
}

void ServicesChecker::forget_manager(NodeId manager) {
  checked_index_.erase(manager);
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    it = it->first.first == manager ? tasks_.erase(it) : std::next(it);
  }
}

void ServicesChecker::report(const std::string& key, const std::string& what) {
  if (reported_.insert(key).second) sink_.add("orchestration", what);
}

void ServicesChecker::scan(NodeId m, const store::Store& st) {
  ++scans_;
  const std::string on = " (on manager n" + std::to_string(m) + "'s store at index " + std::to_string(st.last_index()) + ")";
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> live;  // (service, slot) -> tasks
  for (const auto& [id, t] : st.tasks()) {
    auto [it, fresh] = tasks_.try_emplace({m, id}, Seen{t.status().state(), t.desired_state(), t.node_id()});
    Seen& seen = it->second;
    if (!fresh) {
      if (t.status().state() < seen.state) {
        report("back/" + id, "task " + id + " moved backwards from " + state_name(seen.state) + " to " +
                                 state_name(t.status().state()) + on);
      }
      if (t.desired_state() < seen.desired) {
        report("desired/" + id, "task " + id + "'s desired state moved backwards from " + state_name(seen.desired) +
                                    " to " + state_name(t.desired_state()) + on);
      }
      if (!seen.node_id.empty() && t.node_id() != seen.node_id) {
        report("moved/" + id, "task " + id + " moved from node " + seen.node_id + " to node " +
                                  (t.node_id().empty() ? "none" : t.node_id()) + on);
      }
      seen = Seen{std::max(seen.state, t.status().state()), std::max(seen.desired, t.desired_state()),
                  seen.node_id.empty() ? t.node_id() : seen.node_id};
    }
    if (t.desired_state() <= storepb::RUNNING) {
      const std::string slot = t.slot() > 0 ? "slot " + std::to_string(t.slot()) : "node " + t.node_id();
      live[{t.service_id(), slot}].push_back(id);
    }
  }
  for (const auto& [key, ids] : live) {
    // A start-first update runs a slot's new task beside its old one until the new one runs.
    const auto* svc = st.find_service(key.first);
    const bool start_first =
        svc && orchestrator::active_update_config(*svc).order() == storepb::UpdateConfig::START_FIRST;
    if (ids.size() < (start_first ? 3u : 2u)) continue;
    std::string list;
    for (const auto& id : ids) {
      const storepb::TaskObject* t = st.find_task(id);
      list += (list.empty() ? "" : ", ") + (t ? describe(*t) + " spec v" + std::to_string(t->spec_version()) + " attempt " +
                                                       std::to_string(t->attempt()) + " made at index " +
                                                       std::to_string(t->created_index())
                                                 : id);
    }
    report("slot/" + key.first + "/" + key.second,
           "service " + key.first + " has " + std::to_string(ids.size()) + " live tasks in " + key.second + ": " + list +
               on);
  }
}

std::string unconverged_reason(const store::Store& st,
                               const std::function<const std::vector<std::string>*(const std::string&)>& running_on) {
  for (const auto& [id, n] : st.nodes()) {
    if (n.state() != storepb::NodeObject::READY) return "node " + id + " is " + storepb::NodeObject::State_Name(n.state());
  }
  // The tasks each node should be running: live and RUNNING in the store.
  std::map<std::string, std::set<std::string>> wanted_on;
  for (const auto& [sid, svc] : st.services()) {
    const std::string name = svc.spec().annotations().name();
    std::map<std::string, int> running_per_slot;
    for (const auto* t : st.tasks_of_service(sid)) {
      if (t->desired_state() > storepb::RUNNING) continue;
      if (t->status().state() != storepb::RUNNING) {
        return "service " + name + ": task " + describe(*t) + " is not running";
      }
      if (const auto* n = st.find_node(t->node_id()); n && n->spec().availability() == storepb::NodeSpec::DRAIN) {
        return "service " + name + ": task " + describe(*t) + " is still live on a drained node";
      }
      const auto* rt = running_on(t->node_id());
      if (!rt || std::find(rt->begin(), rt->end(), t->id()) == rt->end()) {
        return "service " + name + ": task " + t->id() + " is RUNNING in the store but not on node " + t->node_id();
      }
      wanted_on[t->node_id()].insert(t->id());
      running_per_slot[t->slot() > 0 ? std::to_string(t->slot()) : t->node_id()]++;
    }
    if (svc.spec().has_replicated()) {
      const uint64_t want = svc.spec().replicated().replicas();
      for (uint64_t slot = 1; slot <= want; ++slot) {
        if (!running_per_slot.count(std::to_string(slot))) {
          return "service " + name + ": slot " + std::to_string(slot) + " of " + std::to_string(want) + " has no running task";
        }
      }
      if (running_per_slot.size() != want) {
        return "service " + name + ": " + std::to_string(running_per_slot.size()) + " slots running, " +
               std::to_string(want) + " wanted";
      }
    } else {
      for (const auto& [nid, n] : st.nodes()) {
        if (n.spec().availability() == storepb::NodeSpec::DRAIN) continue;
        if (running_per_slot.count(nid)) continue;
        std::string history;
        for (const auto* t : st.tasks_of_service(sid)) {
          if (t->node_id() != nid) continue;
          history += "; " + describe(*t);
        }
        return "global service " + name + ": no running task on node " + nid + " (availability " +
               storepb::NodeSpec::Availability_Name(n.spec().availability()) + ")" + (history.empty() ? "; it has no tasks" : history);
      }
    }
  }
  for (const auto& [nid, n] : st.nodes()) {
    const auto* rt = running_on(nid);
    if (!rt) continue;
    for (const auto& tid : *rt) {
      if (!wanted_on[nid].count(tid)) return "node " + nid + " still runs task " + tid + ", which the store does not want running";
    }
  }
  return "";
}

}  // namespace shoal::sim
