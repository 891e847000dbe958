#include "io_real/daemon/route_helpers.h"

#include "core/store/object_id.h"
#include "io_real/daemon/api_routes.h"

namespace shoal::real {
namespace {

constexpr const char* kLockedMessage =
    "Swarm is encrypted and needs to be unlocked before it can be used. Please use \"shoal swarm unlock\" to "
    "unlock it.";
constexpr const char* kNotManagerMessage =
    "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run "
    "this command on a manager node or promote the current node to a manager.";

}  // namespace

real::HttpResponse from_status(const Status& s) { return real::error_response(http_status_of(s), s.message()); }

bool query_true(const real::HttpRequest& r, const char* key) {
  auto it = r.query.find(key);
  return it != r.query.end() && (it->second == "1" || it->second == "true" || it->second == "True");
}

Result<uint64_t> query_version(const real::HttpRequest& r) {
  auto it = r.query.find("version");
  if (it == r.query.end()) {
    return Status::invalid_argument("the version query parameter is required (the object's Version.Index)");
  }
  try {
    size_t used = 0;
    const uint64_t v = std::stoull(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    return Status::invalid_argument("invalid version '" + it->second + "'");
  }
}

Result<nlohmann::json> parse_body(const real::HttpRequest& r) {
  try {
    return r.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::exception& e) {
    return Status::invalid_argument(std::string("request body is not valid JSON: ") + e.what());
  }
}

void fill_annotations(const nlohmann::json& spec, storepb::Annotations* a) {
  if (spec.contains("Name") && spec["Name"].is_string()) a->set_name(spec["Name"].get<std::string>());
  if (spec.contains("Labels") && spec["Labels"].is_object()) {
    for (const auto& [k, v] : spec["Labels"].items()) {
      if (v.is_string()) (*a->mutable_labels())[k] = v.get<std::string>();
    }
  }
}

bool manager_ready(ApiContext& ctx, const real::Responder& respond) {
  if (ctx.locked && ctx.locked()) {
    respond(real::error_response(503, kLockedMessage));
    return false;
  }
  if ((!ctx.manager && !ctx.submit) || !ctx.store) {
    respond(real::error_response(503, kNotManagerMessage));
    return false;
  }
  if (!ctx.store->cluster()) {
    respond(real::error_response(503, "this manager has not caught up with the cluster yet; try again shortly"));
    return false;
  }
  return true;
}

void submit(ApiContext& ctx, storepb::Transaction tx, real::Responder respond,
            std::function<real::HttpResponse(uint64_t)> ok) {
  submit(ctx, std::move(tx), std::move(respond), std::move(ok), http_status_of);
}

void submit(ApiContext& ctx, storepb::Transaction tx, real::Responder respond,
            std::function<real::HttpResponse(uint64_t)> ok, std::function<int(const Status&)> status_of) {
  auto done = [respond, ok, status_of](Status s, uint64_t index) {
    if (!s.ok()) return respond(real::error_response(status_of(s), s.message()));
    respond(ok(index));
  };
  if (ctx.submit) return ctx.submit(std::move(tx), std::move(done));
  ctx.manager->submit(std::move(tx), std::move(done));
}

}  // namespace shoal::real
