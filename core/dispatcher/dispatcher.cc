#include "core/dispatcher/dispatcher.h"

#include <google/protobuf/util/message_differencer.h>

#include <string_view>

#include "core/ca/node_identity.h"
#include "core/env/check.h"
#include "core/env/probe.h"
#include "core/store/manager_addresses.h"
#include "core/store/object_id.h"

namespace shoal::dispatcher {
namespace {

// A task the node must still know about: it has not ended, or it has not been told to stop.
bool node_needs(const storepb::TaskObject& t) {
  return t.status().state() <= storepb::RUNNING || t.desired_state() <= storepb::RUNNING;
}

bool has_ended(const storepb::TaskObject& t) { return t.status().state() > storepb::RUNNING; }

// By value: a description's engine labels are a map, whose serialized order is not fixed.
bool same_description(const storepb::NodeDescription& a, const storepb::NodeDescription& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

Dispatcher::Dispatcher(Env& env, Rpc& rpc, store::Store& store, IsLeader is_leader, LeaderId leader, Propose propose,
                       DispatcherOptions options)
    : env_(env),
      rpc_(rpc),
      store_(store),
      is_leader_(std::move(is_leader)),
      leader_(std::move(leader)),
      propose_(std::move(propose)),
      opts_(options),
      ids_(env.rng.next_u64()) {  // drawn, not derived: a new life, new session ids
  std::weak_ptr<bool> alive = alive_;
  auto guard = [this, alive](auto fn) {
    return [this, alive, fn](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
      if (alive.expired() || !*alive.lock()) return reply(Status::unavailable("this node is no longer a manager"), "");
      if (!is_leader_()) return reply(Status::not_leader("this manager is not the leader; try another"), "");
      fn(from->node_id, std::move(body), std::move(reply));
    };
  };
  rpc_.serve("dispatcher.heartbeat", RpcAccess::kAnyNode,
             [this, alive](const PeerIdentity* from, std::string body, Rpc::Reply r) {
               if (alive.expired() || !*alive.lock()) return r(Status::unavailable("this node is no longer a manager"), "");
               dispatcherpb::HeartbeatRequest req;
               if (!req.ParseFromString(body)) return r(Status::invalid_argument("heartbeat does not parse"), "");
               if (!is_leader_()) {
                 dispatcherpb::HeartbeatResponse redirect;
                 redirect.set_leader(leader_());
                 return r({}, redirect.SerializeAsString());
               }
               heartbeat(from->node_id, req, std::move(r));
             });
  rpc_.serve("dispatcher.assignments", RpcAccess::kAnyNode, guard([this](NodeId n, std::string body, Rpc::Reply r) {
               dispatcherpb::AssignmentsRequest req;
               if (!req.ParseFromString(body)) return r(Status::invalid_argument("assignments request does not parse"), "");
               assignments(n, req, std::move(r));
             }));
  rpc_.serve("dispatcher.report", RpcAccess::kAnyNode, guard([this](NodeId n, std::string body, Rpc::Reply r) {
               dispatcherpb::StatusReport req;
               if (!req.ParseFromString(body)) return r(Status::invalid_argument("status report does not parse"), "");
               report(n, req, std::move(r));
             }));
  store_.on_change([this, alive](const storepb::StoreAction& a) {
    if (!alive.expired() && *alive.lock()) on_store_change(a);
  });
  check_timer_ = env_.timers.after(opts_.check_interval, [this] { check(); });
}

Dispatcher::~Dispatcher() {
  *alive_ = false;
  env_.timers.cancel(check_timer_);
  for (auto& [node, s] : sessions_) {
    for (auto& p : s.polls) env_.timers.cancel(p.timeout);
  }
}

void Dispatcher::heartbeat(NodeId node, const dispatcherpb::HeartbeatRequest& req, Rpc::Reply reply) {
  const std::string id = ca::node_id_text(node);
  const storepb::NodeObject* n = store_.find_node(id);
  if (!n) return reply(Status::not_found("node " + id + " is not in the cluster (removed?); join it again"), "");
  Session& s = sessions_[id];
  if (s.id.empty() || req.session_id() != s.id) {
    // A new session: whatever the node was sent before is forgotten, so its next poll gets all.
    if (!s.id.empty()) SHOAL_PROBE("dispatcher.session_replaced");
    s.id = opts_.bugs.dispatcher_shares_session_ids ? "session" : store::object_id(ids_);
    s.sent.clear();
    ++s.sequence;
  }
  s.last_heartbeat = env_.clock.monotonic_now();
  if (n->state() != storepb::NodeObject::READY || !same_description(n->description(), req.description()) ||
      (!req.hostname().empty() && n->hostname() != req.hostname())) {
    std::string why;
    if (n->state() != storepb::NodeObject::READY) {
      why = n->state() == storepb::NodeObject::DOWN ? "heartbeating again" : "first heartbeat";
    }
    mark_node(*n, storepb::NodeObject::READY, &req.description(), req.hostname(), std::move(why));
  }
  dispatcherpb::HeartbeatResponse resp;
  resp.set_session_id(s.id);
  resp.set_period_ms(std::chrono::duration_cast<std::chrono::milliseconds>(opts_.heartbeat_period).count());
  resp.set_poll_waiting(!s.polls.empty());
  store::list_managers(store_, resp.mutable_managers());
  reply({}, resp.SerializeAsString());
}

void Dispatcher::assignments(NodeId node, const dispatcherpb::AssignmentsRequest& req, Rpc::Reply reply) {
  const std::string id = ca::node_id_text(node);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.id != req.session_id()) {
    return reply(Status::failed_precondition("no such session; heartbeat first"), "");
  }
  Session& s = it->second;
  std::weak_ptr<bool> alive = alive_;
  Poll p{req.known_sequence(), std::move(reply), 0};
  p.timeout = env_.timers.after(opts_.long_poll, [this, alive, id] {
    if (!alive.expired() && *alive.lock()) answer_polls(id, /*force=*/true);
  });
  s.polls.push_back(std::move(p));
  answer_polls(id, /*force=*/false);
}

void Dispatcher::answer_polls(const std::string& node_id, bool force) {
  auto it = sessions_.find(node_id);
  if (it == sessions_.end() || it->second.polls.empty()) return;
  Session& s = it->second;
  // Only the newest poll matters; older ones (a retry after a timeout) get the same answer.
  const bool full = s.polls.back().known_sequence != s.sequence;
  dispatcherpb::AssignmentsResponse resp = changes_for(node_id, s, full);
  if (!full && !force && resp.tasks_size() == 0 && resp.removed_size() == 0) return;
  resp.set_sequence(++s.sequence);
  resp.set_full(full);
  const std::string body = resp.SerializeAsString();
  for (auto& p : s.polls) {
    env_.timers.cancel(p.timeout);
    p.reply({}, body);
  }
  s.polls.clear();
}

dispatcherpb::AssignmentsResponse Dispatcher::changes_for(const std::string& node_id, Session& s, bool full) {
  dispatcherpb::AssignmentsResponse resp;
  if (full) s.sent.clear();
  std::map<std::string, uint64_t> now;
  for (const auto* t : store_.tasks_on_node(node_id)) {
    if (!node_needs(*t)) continue;
    if (const std::string* blocker = waits_elsewhere(*t, node_id)) {
      waiters_[*blocker].insert(node_id);
      if (s.sent.count(t->id())) now[t->id()] = s.sent[t->id()];  // sent before it waited: no news
      continue;
    }
    now[t->id()] = t->version();
    auto sent = s.sent.find(t->id());
    if (sent == s.sent.end() || sent->second != t->version()) *resp.add_tasks() = *t;
  }
  for (const auto& [task_id, version] : s.sent) {
    if (!now.count(task_id)) resp.add_removed(task_id);
  }
  s.sent = std::move(now);
  return resp;
}

const std::string* Dispatcher::waits_elsewhere(const storepb::TaskObject& t, const std::string& node_id) const {
  if (t.desired_state() > storepb::RUNNING) return nullptr;  // it is to stop, not start
  if (t.status().state() > storepb::ASSIGNED) return nullptr;  // its node has it already
  for (const auto& id : t.wait_for()) {
    const storepb::TaskObject* w = store_.find_task(id);
    if (!w || has_ended(*w) || w->node_id().empty() || w->node_id() == node_id) continue;
    const storepb::NodeObject* n = store_.find_node(w->node_id());
    if (!n || n->state() == storepb::NodeObject::DOWN) continue;  // its end may never be reported (reconciler.h)
    return &id;
  }
  return nullptr;
}

void Dispatcher::wake_waiters(const std::string& task_id) {
  auto it = waiters_.find(task_id);
  if (it == waiters_.end()) return;
  const std::set<std::string> nodes = std::move(it->second);
  waiters_.erase(it);
  for (const auto& n : nodes) answer_polls(n, false);
}

void Dispatcher::report(NodeId node, const dispatcherpb::StatusReport& req, Rpc::Reply reply) {
  const std::string id = ca::node_id_text(node);
  storepb::Transaction tx;
  tx.set_now_ns(env_.clock.wall_now_unix_ns());
  for (const auto& u : req.updates()) {
    const storepb::TaskObject* t = store_.find_task(u.task_id());
    if (!t || t->node_id() != id) continue;  // not this node's task: a node speaks for its own
    storepb::StoreAction* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::UPDATE);
    *a->mutable_task_status() = u;
    if (a->task_status().status().timestamp_ns() == 0) {
      a->mutable_task_status()->mutable_status()->set_timestamp_ns(tx.now_ns());
    }
  }
  if (tx.actions_size() == 0) return reply({}, dispatcherpb::StatusReportResponse().SerializeAsString());
  propose_(std::move(tx), [reply = std::move(reply)](Status s) {
    reply(s, s.ok() ? dispatcherpb::StatusReportResponse().SerializeAsString() : "");
  });
}

void Dispatcher::check() {
  check_timer_ = env_.timers.after(opts_.check_interval, [this] { check(); });
  const bool leader = is_leader_();
  const MonoTime now = env_.clock.monotonic_now();
  if (leader && !was_leader_) leader_since_ = now;
  if (!leader && was_leader_) {
    // Sessions belong to the leader: drop them, and tell waiting polls to go elsewhere.
    for (auto& [node, s] : sessions_) {
      for (auto& p : s.polls) {
        env_.timers.cancel(p.timeout);
        p.reply(Status::not_leader("this manager is no longer the leader"), "");
      }
    }
    sessions_.clear();
  }
  was_leader_ = leader;
  if (!leader) return;
  for (const auto& [id, n] : store_.nodes()) {
    if (n.state() == storepb::NodeObject::DOWN) continue;
    auto it = sessions_.find(id);
    MonoTime last = leader_since_ + opts_.leader_grace;
    if (it != sessions_.end() && it->second.last_heartbeat > last) last = it->second.last_heartbeat;
    if (now - last > opts_.node_down_after) {
      ++marked_down_;
      std::string why;
      if (env_.log.enabled(LogLevel::kInfo)) {
        const bool heard = it != sessions_.end() && it->second.last_heartbeat > leader_since_;
        why = heard ? fmt::format("no heartbeat for {:.1f} s", to_seconds(now - it->second.last_heartbeat))
                    : fmt::format("no heartbeat in the {:.1f} s since this manager became leader", to_seconds(now - leader_since_));
      }
      mark_node(n, storepb::NodeObject::DOWN, nullptr, "", std::move(why));
    }
  }
}

void Dispatcher::mark_node(const storepb::NodeObject& node, storepb::NodeObject::State state,
                           const storepb::NodeDescription* desc, const std::string& hostname, std::string why) {
  if (!node_writes_in_flight_.insert(node.id()).second) return;  // the next heartbeat or check tries again
  storepb::Transaction tx;
  tx.set_now_ns(env_.clock.wall_now_unix_ns());
  storepb::StoreAction* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  storepb::NodeObject* n = a->mutable_node();
  *n = node;
  n->set_state(state);
  if (desc) *n->mutable_description() = *desc;
  if (!hostname.empty()) n->set_hostname(hostname);
  std::weak_ptr<bool> alive = alive_;
  const std::string name = hostname.empty() ? node.hostname() : hostname;
  propose_(std::move(tx), [this, alive, id = node.id(), name, state, why = std::move(why)](Status s) {
    if (alive.expired() || !*alive.lock()) return;
    node_writes_in_flight_.erase(id);
    if (s.ok() && !why.empty()) {
      env_.log.info("dispatcher", "node {}{} {}: {}", id, name.empty() ? "" : " (" + name + ")",
                    state == storepb::NodeObject::DOWN ? "down" : "ready", why);
    }
  });
}

void Dispatcher::on_store_change(const storepb::StoreAction& a) {
  if (a.object_case() == storepb::StoreAction::kTask) {
    if (!a.task().node_id().empty()) answer_polls(a.task().node_id(), false);
    wake_waiters(a.task().id());
  } else if (a.object_case() == storepb::StoreAction::kTaskStatus) {
    const storepb::TaskObject* t = store_.find_task(a.task_status().task_id());
    if (t && !t->node_id().empty()) answer_polls(t->node_id(), false);
    wake_waiters(a.task_status().task_id());
  } else if (a.object_case() == storepb::StoreAction::kNode && !waiters_.empty()) {
    // A node marked down or removed: what waited on its tasks waits no more.
    std::set<std::string> nodes;
    for (auto& [task, waiting] : waiters_) nodes.insert(waiting.begin(), waiting.end());
    waiters_.clear();
    for (const auto& n : nodes) answer_polls(n, false);
  }
}


void Dispatcher::check_invariants() const {
  std::set<std::string_view> ids;
  for (const auto& [node, s] : sessions_) {
    SHOAL_CHECK(!s.id.empty() || s.polls.empty(), "dispatcher: node %s polls with no session", node.c_str());
    if (s.id.empty()) continue;
    SHOAL_CHECK(ids.insert(s.id).second, "dispatcher: session %s is held by two nodes (one is %s)", s.id.c_str(),
                node.c_str());
  }
}

}  // namespace shoal::dispatcher
