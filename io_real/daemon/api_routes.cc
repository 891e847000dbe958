#include "io_real/daemon/api_routes.h"

#include <nlohmann/json.hpp>

#include "core/ca/join_token.h"
#include "core/ca/join_tokens.h"
#include "core/ca/node_identity.h"
#include "core/wire/base64.h"
#include "io_real/api/docker_json.h"
#include "core/controlapi/cluster.h"
#include "core/controlapi/nodes.h"
#include "core/controlapi/objects.h"
#include "core/node/unlock_key.h"
#include "io_real/daemon/route_helpers.h"
#include "io_real/daemon/service_routes.h"

namespace shoal::real {
namespace {

using real::HttpRequest;
using real::HttpResponse;
using real::PathParams;
using real::Responder;
using nlohmann::json;

// Configs and secrets share their routes; Kind picks the object.
template <typename Obj>
struct ObjectRoutes;

template <>
struct ObjectRoutes<storepb::ConfigObject> {
  static constexpr const char* kName = "config";
  static constexpr auto create = &controlapi::create_config;
  static constexpr auto remove = &controlapi::remove_config;
  static const std::map<std::string, storepb::ConfigObject>& all(store::Store& s) { return s.configs(); }
  static const storepb::ConfigObject* find(store::Store& s, std::string_view k) { return s.find_config(k); }
  static storepb::ConfigObject* mutable_in(storepb::StoreAction* a) { return a->mutable_config(); }
  static json to_json(const storepb::ConfigObject& c) { return config_json(c); }
};
template <>
struct ObjectRoutes<storepb::SecretObject> {
  static constexpr const char* kName = "secret";
  static constexpr auto create = &controlapi::create_secret;
  static constexpr auto remove = &controlapi::remove_secret;
  static const std::map<std::string, storepb::SecretObject>& all(store::Store& s) { return s.secrets(); }
  static const storepb::SecretObject* find(store::Store& s, std::string_view k) { return s.find_secret(k); }
  static storepb::SecretObject* mutable_in(storepb::StoreAction* a) { return a->mutable_secret(); }
  static json to_json(const storepb::SecretObject& c) { return secret_json(c); }
};

template <typename Obj>
void add_object_routes(real::Router& router, ApiContext& ctx, const std::string& base) {
  using R = ObjectRoutes<Obj>;
  router.add("GET", base, [&ctx](const HttpRequest&, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    json out = json::array();
    for (const auto& [id, o] : R::all(*ctx.store)) out.push_back(R::to_json(o));
    respond(real::json_response(200, out));
  });
  router.add("POST", base + "/create", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    storepb::Annotations spec;
    fill_annotations(*body, &spec);
    std::string data_b64 = body->contains("Data") && (*body)["Data"].is_string() ? (*body)["Data"].get<std::string>() : "";
    auto data = wire::base64_decode(data_b64);
    if (spec.name().empty()) return respond(real::error_response(400, std::string(R::kName) + " name is required"));
    if (!data.ok()) return respond(real::error_response(400, "Data: " + data.status().message()));
    auto created = R::create(spec, std::move(*data), now_ns(ctx), *ctx.crypto);
    if (!created.ok()) return respond(from_status(created.status()));
    submit(ctx, std::move(created->tx), respond,
           [id = created->id](uint64_t) { return real::json_response(201, {{"ID", id}}); });
  });
  router.add("GET", base + "/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    const Obj* o = R::find(*ctx.store, p.at("id"));
    if (!o) return respond(real::error_response(404, std::string(R::kName) + " " + p.at("id") + " not found"));
    respond(real::json_response(200, R::to_json(*o)));
  });
  router.add("DELETE", base + "/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto tx = R::remove(*ctx.store, p.at("id"));
    if (!tx.ok()) return respond(from_status(tx.status()));
    submit(ctx, std::move(*tx), respond, [](uint64_t) { return real::empty_response(204); });
  });
}

// A node as GET /nodes shows it. Without a manager (tests) nobody is leader; without a
// reachability probe every manager counts as reachable.
json node_view(ApiContext& ctx, const storepb::NodeObject& n) {
  auto nid = ca::parse_node_id(n.id());
  const bool reachable = nid.ok() && (!ctx.reachable || ctx.reachable(*nid));
  json j = node_json(n, ctx.manager ? ctx.manager->leader() : 0, reachable);
  // Beside the managers' view, the answering node's gossip view (a Shoal field; Docker has none).
  node::NodeGossip* g = ctx.gossip ? ctx.gossip() : nullptr;
  const gossip::Membership* m = g ? g->membership() : nullptr;
  if (nid.ok() && m != nullptr) {
    const gossip::MemberInfo* info = m->member(*nid);
    j["Gossip"] = {{"State", info ? gossip::state_name(info->state) : "unknown"},
                   {"Addr", n.description().gossip_addr()}};
  }
  return j;
}

// GET /gossip (Shoal's own): this node's gossip view — every member it knows and its table.
json gossip_view(ApiContext& ctx) {
  json members = json::array();
  json tables = json::object();
  node::NodeGossip* g = ctx.gossip ? ctx.gossip() : nullptr;
  const gossip::Membership* m = g ? g->membership() : nullptr;
  if (m != nullptr) {
    for (const auto& info : m->members()) {
      members.push_back({{"ID", ca::node_id_text(info.id)}, {"State", gossip::state_name(info.state)},
                         {"Incarnation", info.incarnation}, {"Addr", info.meta}});
    }
    for (const auto& [key, value] : g->table()->visible()) {
      tables[key.first][key.second] = {{"Value", value.second}, {"Owner", ca::node_id_text(value.first)}};
    }
  }
  json dropped = json::object();
  if (const gossip::SealStats* st = g ? g->seal_stats() : nullptr) {
    for (const auto& [why, n] : st->dropped_by_reason) dropped[why] = n;
  }
  if (m != nullptr) {
    for (const auto& [why, n] : m->stats().bad_by_reason) dropped[why] = n;
  }
  return {{"Started", m != nullptr}, {"Members", members}, {"Tables", tables}, {"Dropped", dropped}};
}

json info_json(ApiContext& ctx) {
  json swarm;
  const bool locked = ctx.locked && ctx.locked();
  const nodepb::NodeRecord* record = ctx.record ? ctx.record() : nullptr;
  swarm["LocalNodeState"] = locked ? "locked" : (record ? "active" : "inactive");
  swarm["ControlAvailable"] = ctx.manager != nullptr;
  swarm["Error"] = "";
  if (record) {
    swarm["NodeID"] = ca::node_id_text(record->node_id());
    swarm["NodeAddr"] = record->advertise_addr().substr(0, record->advertise_addr().rfind(':'));
    json remotes = json::array();
    for (const auto& m : record->managers()) {
      remotes.push_back({{"NodeID", ca::node_id_text(m.node_id())}, {"Addr", m.addr()}});
    }
    swarm["RemoteManagers"] = remotes;
  }
  if (ctx.store && ctx.store->cluster()) {
    int managers = 0;
    for (const auto& [id, n] : ctx.store->nodes()) managers += n.role() == storepb::MANAGER;
    swarm["Nodes"] = ctx.store->nodes().size();
    swarm["Managers"] = managers;
    json c = swarm_json(*ctx.store->cluster());
    c.erase("JoinTokens");
    swarm["Cluster"] = c;
    json remotes = json::array();
    for (const auto& [id, n] : ctx.store->nodes()) {
      if (n.role() == storepb::MANAGER) remotes.push_back({{"NodeID", id}, {"Addr", n.addr()}});
    }
    swarm["RemoteManagers"] = remotes;
  }
  return {{"ID", record ? ca::node_id_text(record->node_id()) : ""},
          {"Name", ctx.hostname},
          {"ServerVersion", "shoal-0.3"},
          {"OperatingSystem", "linux"},
          {"Swarm", swarm}};
}

}  // namespace

int http_status_of(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kUnavailable:
    case StatusCode::kNotLeader:
    case StatusCode::kBusy:
    case StatusCode::kAborted: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

void add_api_routes(real::Router& router, ApiContext& ctx) {
  router.add("GET", "/_ping", [](const HttpRequest&, const PathParams&, Responder respond) {
    respond({200, "text/plain; charset=utf-8", "OK"});
  });
  router.add("HEAD", "/_ping", [](const HttpRequest&, const PathParams&, Responder respond) {
    respond({200, "text/plain; charset=utf-8", ""});
  });
  router.add("GET", "/version", [](const HttpRequest&, const PathParams&, Responder respond) {
    respond(real::json_response(200, {{"Version", "0.3.0"},
                                     {"ApiVersion", std::string(real::kApiVersion)},
                                     {"MinAPIVersion", "1.12"},
                                     {"Os", "linux"},
                                     {"Arch", "amd64"},
                                     {"Components", json::array({{{"Name", "Shoal"}, {"Version", "0.3.0"}}})}}));
  });
  router.add("GET", "/gossip", [&ctx](const HttpRequest&, const PathParams&, Responder respond) {
    respond(real::json_response(200, gossip_view(ctx)));
  });
  router.add("GET", "/info", [&ctx](const HttpRequest&, const PathParams&, Responder respond) {
    respond(real::json_response(200, info_json(ctx)));
  });
  router.add("GET", "/swarm", [&ctx](const HttpRequest&, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    respond(real::json_response(200, swarm_json(*ctx.store->cluster())));
  });
  auto already = [](const HttpRequest&, const PathParams&, Responder respond) {
    respond(real::error_response(503, "This node is already part of a swarm. Use \"shoal swarm leave\" to leave this "
                                     "swarm and join another one."));
  };
  router.add("POST", "/swarm/init", already);
  router.add("POST", "/swarm/join", already);
  router.add("POST", "/swarm/update", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    auto version = query_version(req);
    if (!version.ok()) return respond(from_status(version.status()));
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    controlapi::ClusterChange change;
    change.rotate_worker_token = query_true(req, "rotateWorkerToken");
    change.rotate_manager_token = query_true(req, "rotateManagerToken");
    change.rotate_unlock_key = query_true(req, "rotateManagerUnlockKey");
    const json& spec = *body;
    if (spec.contains("EncryptionConfig") && spec["EncryptionConfig"].contains("AutoLockManagers")) {
      change.autolock = spec["EncryptionConfig"]["AutoLockManagers"].get<bool>();
    }
    if (spec.contains("CAConfig")) {
      const json& ca_cfg = spec["CAConfig"];
      if (ca_cfg.contains("NodeCertExpiry") && ca_cfg["NodeCertExpiry"].is_number_integer()) {
        change.node_cert_expiry_ns = ca_cfg["NodeCertExpiry"].get<int64_t>();
      }
      if (ca_cfg.contains("ForceRotate") && ca_cfg["ForceRotate"].is_number_unsigned()) {
        change.ca_force_rotate = ca_cfg["ForceRotate"].get<uint64_t>();
      }
    }
    auto tx = controlapi::update_cluster(*ctx.store, *version, change, now_ns(ctx), *ctx.crypto);
    if (!tx.ok()) return respond(from_status(tx.status()));
    submit(ctx, std::move(*tx), respond, [](uint64_t) { return real::empty_response(200); });
  });
  router.add("GET", "/swarm/unlockkey", [&ctx](const HttpRequest&, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    respond(real::json_response(200, {{"UnlockKey", ctx.store->cluster()->unlock_key()}}));
  });
  router.add("POST", "/swarm/unlock", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    if (!ctx.locked || !ctx.locked()) return respond(real::error_response(503, "swarm is not locked"));
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    auto key = node::parse_unlock_key(body->value("UnlockKey", ""));
    if (!key.ok()) return respond(real::error_response(400, "invalid unlock key: " + key.status().message()));
    Status s = ctx.unlock(*key);
    if (!s.ok()) return respond(real::error_response(400, "the unlock key is incorrect: " + s.message()));
    respond(real::empty_response(200));
  });
  router.add("POST", "/swarm/leave", [&ctx](const HttpRequest& req, const PathParams&, Responder respond) {
    const bool force = query_true(req, "force");
    if (ctx.manager && !force) {
      return respond(real::error_response(
          503, "You are attempting to leave the swarm on a node that is participating as a manager. Removing this "
               "node leaves fewer managers, which may cost the cluster its quorum. Demote it first with `shoal node "
               "demote`, or use `--force` to ignore this message."));
    }
    respond(real::empty_response(200));
    ctx.shutdown(/*wipe=*/true);
  });

  router.add("GET", "/nodes", [&ctx](const HttpRequest&, const PathParams&, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    json out = json::array();
    for (const auto& [id, n] : ctx.store->nodes()) out.push_back(node_view(ctx, n));
    respond(real::json_response(200, out));
  });
  router.add("GET", "/nodes/{id}", [&ctx](const HttpRequest&, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    const auto* n = ctx.store->find_node(p.at("id"));
    if (!n) return respond(real::error_response(404, "node " + p.at("id") + " not found"));
    respond(real::json_response(200, node_view(ctx, *n)));
  });
  router.add("POST", "/nodes/{id}/update", [&ctx](const HttpRequest& req, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    const auto* n = ctx.store->find_node(p.at("id"));
    if (!n) return respond(real::error_response(404, "node " + p.at("id") + " not found"));
    auto version = query_version(req);
    if (!version.ok()) return respond(from_status(version.status()));
    auto body = parse_body(req);
    if (!body.ok()) return respond(from_status(body.status()));
    const json& js = *body;
    controlapi::NodeSpecChange change;
    if (js.contains("Role")) {
      const std::string word = js["Role"].get<std::string>();
      change.role = parse_node_role(word);
      if (!change.role) return respond(real::error_response(400, "invalid role '" + word + "'"));
    }
    if (js.contains("Availability")) {
      const std::string word = js["Availability"].get<std::string>();
      change.availability = parse_availability(word);
      if (!change.availability) return respond(real::error_response(400, "invalid availability '" + word + "'"));
    }
    storepb::Annotations a;
    fill_annotations(js, &a);
    if (js.contains("Name") && js["Name"].is_string()) change.name = a.name();
    if (js.contains("Labels")) change.labels = std::map<std::string, std::string>(a.labels().begin(), a.labels().end());
    auto tx = controlapi::update_node(*ctx.store, n->id(), *version, change, now_ns(ctx));
    if (!tx.ok()) return respond(from_status(tx.status()));
    submit(ctx, std::move(*tx), respond, [](uint64_t) { return real::empty_response(200); });
  });
  router.add("DELETE", "/nodes/{id}", [&ctx](const HttpRequest& req, const PathParams& p, Responder respond) {
    if (!manager_ready(ctx, respond)) return;
    const auto* n = ctx.store->find_node(p.at("id"));
    if (!n) return respond(real::error_response(404, "node " + p.at("id") + " not found"));
    auto nid = ca::parse_node_id(n->id());
    const bool member = nid.ok() && ctx.raft_member && ctx.raft_member(*nid);
    auto tx = controlapi::remove_node(*ctx.store, n->id(), query_true(req, "force"), member);
    if (!tx.ok()) return respond(from_status(tx.status()));
    submit(ctx, std::move(*tx), respond, [](uint64_t) { return real::empty_response(200); });
  });

  add_object_routes<storepb::ConfigObject>(router, ctx, "/configs");
  add_object_routes<storepb::SecretObject>(router, ctx, "/secrets");
  add_service_routes(router, ctx);
}

}  // namespace shoal::real
