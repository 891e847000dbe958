#include "io_real/daemon/service_routes.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/agent/agent.h"
#include "core/controlapi/resolve.h"
#include "core/controlapi/services.h"
#include "core/store/task_name.h"
#include "io_real/daemon/api_routes.h"
#include "io_real/daemon/route_helpers.h"
#include "io_real/api/service_json.h"

namespace shoal::real {
namespace {

using real::HttpRequest;
using real::PathParams;
using real::Responder;
using nlohmann::json;

using Filters = std::map<std::string, std::vector<std::string>>;

// The `filters` query parameter (absent: no filters). Keys outside `allowed` are refused.
Result<Filters> parse_filters(const HttpRequest& req, const std::set<std::string>& allowed) {
  Filters out;
  auto it = req.query.find("filters");
  if (it == req.query.end() || it->second.empty()) return out;
  json j = json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::invalid_argument("invalid filters: not a JSON object: " + it->second);
  }
  for (const auto& [key, values] : j.items()) {
    if (!allowed.count(key)) return Status::invalid_argument("invalid filter '" + key + "'");
    std::vector<std::string>& list = out[key];
    if (values.is_array()) {
      for (const auto& v : values) {
        if (!v.is_string()) return Status::invalid_argument("invalid filters: values of '" + key + "' must be strings");
        list.push_back(v.get<std::string>());
      }
    } else if (values.is_object()) {
      for (const auto& [v, on] : values.items()) {
        if (on.is_boolean() && on.get<bool>()) list.push_back(v);
      }
    } else {
      return Status::invalid_argument("invalid filters: '" + key + "' must hold a list of values");
    }
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// True when the filter has no values for `key`, or one of them satisfies `pred`.
template <typename Pred>
bool any_of(const Filters& f, const std::string& key, Pred pred) {
  auto it = f.find(key);
  if (it == f.end() || it->second.empty()) return true;
  for (const auto& v : it->second) {
    if (pred(v)) return true;
  }
  return false;
}

// `label` filter values: "key" (the label is set) or "key=value".
bool labels_match(const google::protobuf::Map<std::string, std::string>& labels, const std::string& filter) {
  const size_t eq = filter.find('=');
  auto it = labels.find(filter.substr(0, eq));
  if (it == labels.end()) return false;
  return eq == std::string::npos || it->second == filter.substr(eq + 1);
}

using controlapi::resolve_node;
using controlapi::resolve_service;
using controlapi::resolve_task;
using store::task_name;

void add_service_read_routes(real::Router& router, ApiContext& ctx) {
  router.add("GET", "/services", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto filters = parse_filters(req, {"id", "name", "label", "mode"});
    if (!filters.ok()) return respond(from_status(filters.status()));
    for (const auto& mode : (*filters)["mode"]) {
      if (mode != "replicated" && mode != "global") {
        return respond(real::error_response(400, "Invalid filter: 'mode'='" + mode + "'"));
      }
    }
    const bool with_status = query_true(req, "status");
    json out = json::array();
    for (const auto& entry : ctx.store->services()) {
      // Named, not structured bindings: clang 14 cannot capture those in the lambdas below.
      const std::string& id = entry.first;
      const storepb::ServiceObject& svc = entry.second;
      const std::string& name = svc.spec().annotations().name();
      const std::string mode = svc.spec().has_global() ? "global" : "replicated";
      if (!any_of(*filters, "id", [&](const std::string& v) { return starts_with(id, v); }) ||
          !any_of(*filters, "name", [&](const std::string& v) { return starts_with(name, v); }) ||
          !any_of(*filters, "label",
                  [&](const std::string& v) { return labels_match(svc.spec().annotations().labels(), v); }) ||
          !any_of(*filters, "mode", [&](const std::string& v) { return v == mode; })) {
        continue;
      }
      if (with_status) {
        const ServiceStatusCounts counts = service_status(svc, ctx.store->tasks_of_service(id));
        out.push_back(service_json(svc, &counts));
      } else {
        out.push_back(service_json(svc, nullptr));
      }
    }
    respond(real::json_response(200, out));
  });
  router.add("GET", "/services/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto svc = resolve_service(*ctx.store, p.at("id"));
    if (!svc.ok()) return respond(from_status(svc.status()));
    respond(real::json_response(200, service_json(**svc, nullptr)));
  });

  router.add("GET", "/tasks", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto filters = parse_filters(req, {"service", "node", "desired-state", "id", "name", "label", "_up-to-date"});
    if (!filters.ok()) return respond(from_status(filters.status()));
    // Services and nodes are named by id, name or prefix; resolve them once.
    std::set<std::string> service_ids, node_ids;
    for (const auto& ref : (*filters)["service"]) {
      auto svc = resolve_service(*ctx.store, ref);
      if (!svc.ok()) return respond(from_status(svc.status()));
      service_ids.insert((*svc)->id());
    }
    for (const auto& ref : (*filters)["node"]) {
      auto node = resolve_node(*ctx.store, ref);
      if (!node.ok()) return respond(from_status(node.status()));
      node_ids.insert((*node)->id());
    }
    std::set<storepb::TaskState> desired;
    for (const auto& word : (*filters)["desired-state"]) {
      auto state = parse_task_state(word);
      if (!state) return respond(real::error_response(400, "Invalid desired-state filter: '" + word + "'"));
      desired.insert(*state);
    }
    const bool up_to_date = !(*filters)["_up-to-date"].empty();
    json out = json::array();
    for (const auto& entry : ctx.store->tasks()) {
      const std::string& id = entry.first;  // not structured bindings: see above
      const storepb::TaskObject& t = entry.second;
      if (!service_ids.empty() && !service_ids.count(t.service_id())) continue;
      if (!node_ids.empty() && !node_ids.count(t.node_id())) continue;
      if (!desired.empty() && !desired.count(t.desired_state())) continue;
      if (!any_of(*filters, "id", [&](const std::string& v) { return starts_with(id, v); })) continue;
      if (!any_of(*filters, "name", [&](const std::string& v) { return starts_with(task_name(t), v); })) continue;
      if (!(*filters)["label"].empty()) continue;  // tasks carry no labels
      if (up_to_date) {
        // As the updater sees it: a task of an older spec_version whose spec is the current one
        // (after a rollback to it) needs no replacing.
        const auto* svc = ctx.store->find_service(t.service_id());
        if (!svc) continue;
        if (t.spec_version() != svc->spec_version() &&
            !google::protobuf::util::MessageDifferencer::Equals(t.spec(), svc->spec().task())) {
          continue;
        }
      }
      out.push_back(task_json(t));
    }
    respond(real::json_response(200, out));
  });
  router.add("GET", "/tasks/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto t = resolve_task(*ctx.store, p.at("id"));
    if (!t.ok()) return respond(from_status(t.status()));
    respond(real::json_response(200, task_json(**t)));
  });
}

// An update made against an old version is a conflict (409), whether this route or the store
// notices it.
int update_status_of(const Status& s) {
  if (s.code() == StatusCode::kFailedPrecondition) return 409;
  return http_status_of(s);
}

void add_service_write_routes(real::Router& router, ApiContext& ctx) {
  router.add("POST", "/services/create", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    auto spec = service_spec_from_json(*body);
    if (!spec.ok()) return respond(real::error_response(400, spec.status().message()));
    auto created = controlapi::create_service(*ctx.store, std::move(*spec), now_ns(ctx), *ctx.crypto);
    if (!created.ok()) return respond(from_status(created.status()));
    submit(ctx, std::move(created->tx), respond,
           [id = created->id](uint64_t) { return real::json_response(201, {{"ID", id}}); });
  });

  router.add("POST", "/services/{id}/update", [&ctx](const HttpRequest& req, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto found = resolve_service(*ctx.store, p.at("id"));
    if (!found.ok()) return respond(from_status(found.status()));
    auto version = query_version(req);
    if (!version.ok()) return respond(from_status(version.status()));
    auto ok = [](uint64_t) { return real::json_response(200, json::object()); };
    const auto rollback = req.query.find("rollback");
    if (rollback != req.query.end() && !rollback->second.empty()) {
      if (rollback->second != "previous") {
        return respond(real::error_response(400, "invalid rollback value \"" + rollback->second +
                                                    "\": the only one is \"previous\""));
      }
      // The body, if any, is not read: the previous spec comes back.
      auto tx = controlapi::rollback_service(*ctx.store, p.at("id"), *version, now_ns(ctx));
      if (!tx.ok()) return respond(real::error_response(update_status_of(tx.status()), tx.status().message()));
      return submit(ctx, std::move(*tx), respond, ok, update_status_of);
    }
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    auto spec = service_spec_from_json(*body);
    if (!spec.ok()) return respond(real::error_response(400, spec.status().message()));
    auto tx = controlapi::update_service(*ctx.store, p.at("id"), *version, std::move(*spec), now_ns(ctx));
    if (!tx.ok()) return respond(real::error_response(update_status_of(tx.status()), tx.status().message()));
    submit(ctx, std::move(*tx), respond, ok, update_status_of);
  });

  router.add("DELETE", "/services/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto tx = controlapi::remove_service(*ctx.store, p.at("id"));
    if (!tx.ok()) return respond(from_status(tx.status()));
    submit(ctx, std::move(*tx), respond, [](uint64_t) { return real::empty_response(200); });
  });
}

// ---- logs ------------------------------------------------------------------------------------

// What one response may carry in all: each task gets an equal share, at most what a node keeps.
constexpr uint64_t kMaxLogResponseBytes = uint64_t{16} << 20;
// With the prefixes (short lines can grow a lot), below what the CLI accepts (64 MiB).
constexpr size_t kMaxLogBodyBytes = size_t{48} << 20;
constexpr uint64_t kMinLogBytesPerTask = uint64_t{4} << 10;

struct LogQuery {
  bool none = false;    // tail=0: no lines at all
  uint64_t tail = 0;    // 0: every line kept
};

// Docker's query: stdout / stderr (at least one), tail ("all" or N), follow, timestamps.
Result<LogQuery> parse_log_query(const HttpRequest& req) {
  if (!query_true(req, "stdout") && !query_true(req, "stderr")) {
    return Status::invalid_argument("Bad parameters: you must choose at least one stream");
  }
  if (query_true(req, "follow")) {
    return Status::invalid_argument("follow is not supported: shoal returns the logs kept so far and ends");
  }
  if (query_true(req, "timestamps")) {
    return Status::invalid_argument("timestamps are not supported: the process runtime does not record when a line was written");
  }
  LogQuery q;
  auto it = req.query.find("tail");
  if (it == req.query.end() || it->second.empty() || it->second == "all") return q;
  const std::string& t = it->second;
  if (t.size() > 18 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::invalid_argument("invalid tail value \"" + t + "\": want \"all\" or a non-negative number of lines");
  }
  q.tail = std::stoull(t);
  q.none = q.tail == 0;
  return q;
}

// One task whose logs are asked for, with its line prefix as `docker service logs` prints it:
// "web.1.abcdefghijkl@host" (service.slot, or service.node-id for a global task; the task id cut
// to 12 characters as docker's TruncateID does; the node's hostname).
struct LogSource {
  std::string task_id;
  std::string node_id;
  std::string node_name;
  std::string prefix;
  uint64_t slot = 0;
};

// Gathers the logs of `tasks` from their nodes and answers once every node has answered (or
// failed). Log lines come task by task (the runtime keeps no times, so they are not merged by
// time); a node that is down or does not answer gives one "warning: " line at the end.
void answer_logs(ApiContext& ctx, std::vector<const storepb::TaskObject*> tasks, const LogQuery& q, Responder respond) {
  std::sort(tasks.begin(), tasks.end(), [](const storepb::TaskObject* a, const storepb::TaskObject* b) {
    auto key = [](const storepb::TaskObject* t) {
      return std::make_tuple(t->slot(), std::string_view(t->node_id()), t->created_at_ns(), std::string_view(t->id()));
    };
    return key(a) < key(b);
  });
  struct Gather {
    std::vector<LogSource> sources;
    std::vector<std::string> logs;                            // by source
    std::map<std::string, std::vector<std::string>> failed;  // "node: reason" -> task names
    size_t pending = 0;
    Responder respond;
  };
  auto g = std::make_shared<Gather>();
  g->respond = std::move(respond);
  std::vector<std::pair<const storepb::NodeObject*, size_t>> calls;  // node, source index
  for (const storepb::TaskObject* t : tasks) {
    if (t->node_id().empty() || t->status().state() < storepb::ASSIGNED) continue;  // never reached a node
    const storepb::NodeObject* node = ctx.store->find_node(t->node_id());
    LogSource src;
    src.task_id = t->id();
    src.node_id = t->node_id();
    src.node_name = node && !node->hostname().empty() ? node->hostname() : t->node_id();
    src.slot = t->slot();
    src.prefix = task_name(*t) + "." + t->id().substr(0, 12) + "@" + src.node_name;
    if (!node || node->state() == storepb::NodeObject::DOWN) {
      g->failed["node " + src.node_name + " is " + (node ? "down" : "gone")].push_back(src.prefix);
      continue;
    }
    calls.emplace_back(node, g->sources.size());
    g->sources.push_back(std::move(src));
  }
  g->logs.resize(g->sources.size());
  g->pending = calls.size();
  auto finish = [](Gather& g) {
    // docker pads the slot so that the bars line up.
    size_t width = 0;
    for (const auto& s : g.sources) width = std::max(width, std::to_string(s.slot).size());
    std::string body;
    bool cut = false;
    for (size_t i = 0; i < g.sources.size() && !cut; ++i) {
      const LogSource& s = g.sources[i];
      const std::string pad(s.slot == 0 ? 0 : width - std::to_string(s.slot).size(), ' ');
      std::string_view rest = g.logs[i];
      while (!rest.empty()) {
        if (body.size() > kMaxLogBodyBytes) {
          cut = true;
          break;
        }
        const size_t nl = rest.find('\n');
        body += s.prefix + pad + "    | ";
        body += rest.substr(0, nl);
        body += '\n';
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      }
    }
    if (cut) body += "warning: output cut at 48 MiB; ask for fewer lines with --tail\n";
    for (const auto& [why, names] : g.failed) {
      body += "warning: no logs from " + std::to_string(names.size()) + (names.size() == 1 ? " task" : " tasks") +
              " (" + why + "):";
      for (const auto& n : names) body += " " + n;
      body += '\n';
    }
    g.respond({200, "text/plain; charset=utf-8", std::move(body)});
  };
  if (calls.empty()) return finish(*g);
  const uint64_t share = std::clamp<uint64_t>(kMaxLogResponseBytes / calls.size(), kMinLogBytesPerTask,
                                              agent::kMaxLogBytes);
  for (const auto& [node, index] : calls) {
    agentpb::LogsRequest req;
    req.set_task_id(g->sources[index].task_id);
    req.set_max_bytes(share);
    req.set_tail_lines(q.tail);
    ctx.task_logs(*node, req, [g, finish, i = index](Status s, std::string reply) {
      agentpb::LogsResponse resp;
      if (s.ok() && !resp.ParseFromString(reply)) s = Status::corruption("the node's answer does not parse");
      if (s.ok()) {
        g->logs[i] = std::move(*resp.mutable_data());
      } else if (s.code() != StatusCode::kNotFound) {  // not found: the node has forgotten it (ended long ago)
        g->failed["node " + g->sources[i].node_name + ": " + s.message()].push_back(g->sources[i].prefix);
      }
      if (--g->pending == 0) finish(*g);
    });
  }
}

void add_log_routes(real::Router& router, ApiContext& ctx) {
  auto ready = [&ctx](const HttpRequest& req, const Responder& respond) -> std::optional<LogQuery> {
    if (!manager_ready(ctx, respond)) return std::nullopt;
    if (!ctx.task_logs) {
      respond(real::error_response(503, "this node cannot reach its cluster's nodes for logs"));
      return std::nullopt;
    }
    auto q = parse_log_query(req);
    if (!q.ok()) {
      respond(from_status(q.status()));
      return std::nullopt;
    }
    return *q;
  };
  router.add("GET", "/services/{id}/logs", [&ctx, ready](const HttpRequest& req, const PathParams& p, Responder respond) {
    auto q = ready(req, respond);
    if (!q) return;
    auto svc = resolve_service(*ctx.store, p.at("id"));
    if (!svc.ok()) return respond(from_status(svc.status()));
    std::vector<const storepb::TaskObject*> tasks;
    if (!q->none) {
      for (const storepb::TaskObject* t : ctx.store->tasks_of_service((*svc)->id())) tasks.push_back(t);
    }
    answer_logs(ctx, std::move(tasks), *q, std::move(respond));
  });
  router.add("GET", "/tasks/{id}/logs", [&ctx, ready](const HttpRequest& req, const PathParams& p, Responder respond) {
    auto q = ready(req, respond);
    if (!q) return;
    auto t = resolve_task(*ctx.store, p.at("id"));
    if (!t.ok()) return respond(from_status(t.status()));
    std::vector<const storepb::TaskObject*> tasks;
    if (!q->none) tasks.push_back(*t);
    answer_logs(ctx, std::move(tasks), *q, std::move(respond));
  });
}

}  // namespace

void add_service_routes(real::Router& router, ApiContext& ctx) {
  add_service_read_routes(router, ctx);
  add_service_write_routes(router, ctx);
  add_log_routes(router, ctx);
}

}  // namespace shoal::real
