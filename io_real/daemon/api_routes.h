// The client API's routes: Docker Engine API v1.41's swarm endpoints on Shoal's store.
//
//   GET  /_ping /version /info
//   GET  /swarm            POST /swarm/init|join (already in a swarm: 503, as Docker)
//   POST /swarm/update?version=N[&rotateWorkerToken=true][&rotateManagerToken=true][&rotateManagerUnlockKey=true]
//   GET  /swarm/unlockkey  POST /swarm/unlock  POST /swarm/leave[?force=true]
//   GET  /nodes  GET|DELETE /nodes/{id}  POST /nodes/{id}/update?version=N
//   GET  /configs  POST /configs/create  GET|DELETE /configs/{id}   (same for /secrets)
//   /services and /tasks: service_routes.h
//
// Writes go through Manager::submit (any manager; forwarded to the leader). Errors are Docker's
// {"message": ...} with Docker's status codes.
#pragma once
#include "io_real/api/router.h"
#include "io_real/daemon/api_context.h"

namespace shoal::real {

// Adds every route to `router`; `ctx` must outlive it.
void add_api_routes(real::Router& router, ApiContext& ctx);

// The HTTP status Docker gives an error of this kind.
int http_status_of(const Status& s);

}  // namespace shoal::real
