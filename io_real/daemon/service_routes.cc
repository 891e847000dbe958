#include "io_real/daemon/service_routes.h"

#include <google/protobuf/util/message_differencer.h>

#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io_real/daemon/api_routes.h"
#include "io_real/daemon/route_helpers.h"
#include "io_real/daemon/service_json.h"

namespace shoal::daemon {
namespace {

using api::HttpRequest;
using api::PathParams;
using api::Responder;
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

// An object by exact key or name (`exact`), else by unique id prefix. Errors are Docker's.
template <typename Obj, typename Exact>
Result<const Obj*> resolve(const std::map<std::string, Obj>& all, std::string_view ref, const char* kind, Exact exact) {
  if (const Obj* o = exact(ref)) return o;
  const Obj* found = nullptr;
  size_t matches = 0;
  for (auto it = all.lower_bound(std::string(ref)); it != all.end() && starts_with(it->first, ref); ++it) {
    found = &it->second;
    ++matches;
  }
  if (matches == 1) return found;
  if (matches > 1) {
    return Status::invalid_argument(std::string(kind) + " " + std::string(ref) + " is ambiguous (" +
                                    std::to_string(matches) + " matches found)");
  }
  return Status::not_found(std::string(kind) + " " + std::string(ref) + " not found");
}

Result<const storepb::ServiceObject*> resolve_service(const store::Store& s, std::string_view ref) {
  return resolve(s.services(), ref, "service", [&](std::string_view r) { return s.find_service(r); });
}
Result<const storepb::TaskObject*> resolve_task(const store::Store& s, std::string_view ref) {
  return resolve(s.tasks(), ref, "task", [&](std::string_view r) { return s.find_task(r); });
}
Result<const storepb::NodeObject*> resolve_node(const store::Store& s, std::string_view ref) {
  return resolve(s.nodes(), ref, "node", [&](std::string_view r) { return s.find_node(r); });
}

// "web.2", or "web.<node id>" for a global service's task (as the docker CLI names tasks).
std::string task_name(const storepb::TaskObject& t) {
  return t.service_name() + "." + (t.slot() != 0 ? std::to_string(t.slot()) : t.node_id());
}

// A name for a service created without one, as Docker's namesgenerator makes them.
std::string generated_name(Crypto& crypto, const store::Store& store) {
  static constexpr const char* kLeft[] = {"admiring", "bold",   "brave",  "busy",    "calm",    "clever",  "eager",
                                          "gallant",  "happy",  "keen",   "nifty",   "quirky",  "serene",  "sharp",
                                          "stoic",    "tender", "upbeat", "vibrant", "wizardly", "zealous"};
  static constexpr const char* kRight[] = {"babbage", "curie",  "darwin",  "euler",   "fermi",   "galois", "hopper",
                                           "hypatia", "kepler", "lamport", "liskov",  "lovelace", "noether", "ongaro",
                                           "pascal",  "ritchie", "shannon", "thompson", "turing", "wing"};
  std::string name;
  for (int attempt = 0; attempt < 20; ++attempt) {
    uint8_t r[3];
    crypto.random_bytes(r, sizeof r);
    name = std::string(kLeft[r[0] % std::size(kLeft)]) + "_" + kRight[r[1] % std::size(kRight)];
    if (attempt > 0) name += std::to_string(r[2] % 10);  // Docker's retry appends a digit
    if (!store.find_service(name)) break;
  }
  return name;
}

void add_service_read_routes(api::Router& router, ApiContext& ctx) {
  router.add("GET", "/services", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto filters = parse_filters(req, {"id", "name", "label", "mode"});
    if (!filters.ok()) return respond(from_status(filters.status()));
    for (const auto& mode : (*filters)["mode"]) {
      if (mode != "replicated" && mode != "global") {
        return respond(api::error_response(400, "Invalid filter: 'mode'='" + mode + "'"));
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
    respond(api::json_response(200, out));
  });
  router.add("GET", "/services/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto svc = resolve_service(*ctx.store, p.at("id"));
    if (!svc.ok()) return respond(from_status(svc.status()));
    respond(api::json_response(200, service_json(**svc, nullptr)));
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
      if (!state) return respond(api::error_response(400, "Invalid desired-state filter: '" + word + "'"));
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
        const auto* svc = ctx.store->find_service(t.service_id());
        if (!svc || t.spec_version() != svc->spec_version()) continue;
      }
      out.push_back(task_json(t));
    }
    respond(api::json_response(200, out));
  });
  router.add("GET", "/tasks/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto t = resolve_task(*ctx.store, p.at("id"));
    if (!t.ok()) return respond(from_status(t.status()));
    respond(api::json_response(200, task_json(**t)));
  });
}

// An update made against an old version is a conflict (409), whether this route or the store
// notices it.
int update_status_of(const Status& s) {
  if (s.code() == StatusCode::kFailedPrecondition) return 409;
  return http_status_of(s);
}

void add_service_write_routes(api::Router& router, ApiContext& ctx) {
  router.add("POST", "/services/create", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    auto spec = service_spec_from_json(*body);
    if (!spec.ok()) return respond(api::error_response(400, spec.status().message()));
    if (spec->annotations().name().empty()) {
      spec->mutable_annotations()->set_name(generated_name(*ctx.crypto, *ctx.store));
    }
    if (Status s = validate_service_spec(*spec); !s.ok()) return respond(api::error_response(400, s.message()));
    if (const auto* existing = ctx.store->find_service(spec->annotations().name())) {
      return respond(api::error_response(409, "name conflicts with an existing object: service " +
                                                  spec->annotations().name() + " exists (" + existing->id() + ")"));
    }
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::CREATE);
    storepb::ServiceObject* svc = a->mutable_service();
    svc->set_id(new_object_id(*ctx.crypto));
    *svc->mutable_spec() = std::move(*spec);
    svc->set_spec_version(1);
    const std::string id = svc->id();
    submit(ctx, std::move(tx), respond, [id](uint64_t) { return api::json_response(201, {{"ID", id}}); });
  });

  router.add("POST", "/services/{id}/update", [&ctx](const HttpRequest& req, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto found = resolve_service(*ctx.store, p.at("id"));
    if (!found.ok()) return respond(from_status(found.status()));
    const storepb::ServiceObject& current = **found;
    auto version = query_version(req);
    if (!version.ok()) return respond(from_status(version.status()));
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    auto spec = service_spec_from_json(*body);
    if (!spec.ok()) return respond(api::error_response(400, spec.status().message()));
    if (Status s = validate_service_spec(*spec); !s.ok()) return respond(api::error_response(400, s.message()));
    if (spec->annotations().name() != current.spec().annotations().name()) {
      return respond(api::error_response(400, "renaming services is not supported"));
    }
    if (spec->has_global() != current.spec().has_global()) {
      return respond(api::error_response(400, "service mode change is not allowed"));
    }
    if (*version != current.version()) {
      return respond(api::error_response(
          409, "update out of sequence: service " + current.spec().annotations().name() + " is at version " +
                   std::to_string(current.version()) + ", the update was made against " + std::to_string(*version) +
                   "; read it again and retry"));
    }
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::UPDATE);
    storepb::ServiceObject* svc = a->mutable_service();
    *svc = current;
    const bool task_changed = !google::protobuf::util::MessageDifferencer::Equals(current.spec().task(), spec->task());
    *svc->mutable_previous_spec() = current.spec();
    *svc->mutable_spec() = std::move(*spec);
    if (task_changed) svc->set_spec_version(current.spec_version() + 1);
    submit(
        ctx, std::move(tx), respond, [](uint64_t) { return api::json_response(200, json::object()); },
        update_status_of);
  });

  router.add("DELETE", "/services/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto found = resolve_service(*ctx.store, p.at("id"));
    if (!found.ok()) return respond(from_status(found.status()));
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::REMOVE);
    *a->mutable_service() = **found;
    submit(ctx, std::move(tx), respond, [](uint64_t) { return api::empty_response(200); });
  });
}

}  // namespace

void add_service_routes(api::Router& router, ApiContext& ctx) {
  add_service_read_routes(router, ctx);
  add_service_write_routes(router, ctx);
}

}  // namespace shoal::daemon
