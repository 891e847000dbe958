// The client API's service and task routes, in Docker Engine API v1.41's shapes (service_json.h):
//
//   GET    /services[?filters={"id":[..],"name":[..],"label":[..],"mode":[..]}][&status=true]
//   POST   /services/create                 ServiceSpec -> 201 {"ID"}
//   GET    /services/{id}                   id, name or unique id prefix
//   POST   /services/{id}/update?version=N  ServiceSpec -> 200 {}
//   DELETE /services/{id}
//   GET    /tasks[?filters={"service":[..],"node":[..],"desired-state":[..],"id":[..],"name":[..]}]
//   GET    /tasks/{id}
//   GET    /services/{id}/logs?stdout=1&stderr=1[&tail=N|all]
//   GET    /tasks/{id}/logs?stdout=1&stderr=1[&tail=N|all]
//
// As Docker's daemon does: a spec without a Name gets a generated one ("quirky_lovelace"); a name
// taken is 409; an update must be made against the service's current Version.Index ("update out
// of sequence", 409), may not rename the service or change its mode, keeps the spec it replaces
// as PreviousSpec, and moves spec_version (which makes the orchestrator replace the service's
// tasks) only when the task template changed, as swarmkit replaces only tasks whose spec is
// dirty: scaling does not restart anything. Removing a service leaves its tasks to the
// orchestrator, which stops and deletes them.
//
// Filters are Docker's: the `filters` query parameter is JSON, each key holding a list of values
// ({"name":["web"]}) or, the older form, an object of values ({"name":{"web":true}}). Values of a
// key are alternatives; keys must all match. id and name match prefixes; a task's name is
// "service.slot" (or "service.node-id" for a global service). An unknown key is 400.
//
// Logs: the manager asks the agent of each task's node (ctx.task_logs: agent.logs over the Rpc
// seam) and answers text/plain, not Docker's multiplexed stream. Each line carries the prefix
// `docker service logs` prints ("web.1.abcdefghijkl@host    | "); tasks come one after another
// (the runtime keeps no times to merge lines by), each with its last `tail` lines. stdout and
// stderr come together whichever is asked for (the process runtime keeps them in one buffer);
// follow and timestamps are refused (400). Tasks whose node is down or does not answer (3 s)
// cost one line at the end, "warning: no logs from 1 task (node w1 is down):
// web.2.abcdefghijkl@w1", and the others are still answered. Limits: each task's share is 16 MiB
// divided among the tasks (at least 4 KiB, at most 1 MiB); the answer stops at 48 MiB.
#pragma once
#include "io_real/api/router.h"
#include "io_real/daemon/api_context.h"

namespace shoal::real {

// Adds the routes above to `router`; `ctx` must outlive it.
void add_service_routes(real::Router& router, ApiContext& ctx);

}  // namespace shoal::real
