// What the client API's route files share (internal to io_real/daemon/): request parsing, the
// guard for routes that need a manager, and committing a store transaction.
//
//   if (!manager_ready(ctx, respond)) return;
//   auto body = parse_body(req);
//   if (!body.ok()) return respond(from_status(body.status()));
//   submit(ctx, std::move(tx), respond, [](uint64_t) { return real::empty_response(200); });
//
// Thread contract: as the routes' — called from a handler, on the daemon's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/store/object_id.h"
#include "io_real/api/router.h"
#include "io_real/daemon/api_context.h"

namespace shoal::real {

// Docker's {"message"} error with the status http_status_of gives `s`.
real::HttpResponse from_status(const Status& s);

using store::new_object_id;

// The node's wall clock, for the control API (0 without a clock: the manager stamps it).
inline int64_t now_ns(const ApiContext& ctx) { return ctx.clock ? ctx.clock->wall_now_unix_ns() : 0; }

// Whether the query parameter is "1", "true" or "True".
bool query_true(const real::HttpRequest& r, const char* key);

// The required ?version=N (the object's Version.Index).
Result<uint64_t> query_version(const real::HttpRequest& r);

// The request body as JSON; an empty body is {}.
Result<nlohmann::json> parse_body(const real::HttpRequest& r);

// Annotations' Name and Labels from a Docker spec object.
void fill_annotations(const nlohmann::json& spec, storepb::Annotations* a);

// Guards a route that needs a running manager with a store: answers 503 (locked, not a manager,
// not caught up) and returns false otherwise.
bool manager_ready(ApiContext& ctx, const real::Responder& respond);

// Commits `tx` (ctx.submit, else ctx.manager->submit) and answers with ok(index) once it applied
// here, or with the store's error.
void submit(ApiContext& ctx, storepb::Transaction tx, real::Responder respond,
            std::function<real::HttpResponse(uint64_t)> ok);
// The same, with the error's HTTP status chosen by `status_of` (a route with its own mapping).
void submit(ApiContext& ctx, storepb::Transaction tx, real::Responder respond,
            std::function<real::HttpResponse(uint64_t)> ok, std::function<int(const Status&)> status_of);

}  // namespace shoal::real
