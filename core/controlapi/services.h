// The control API's rules for services: what creating, updating, rolling back or removing a
// service becomes in the store, or the precise error that refuses it. Pure functions of the
// store as it is, the request and the time (the caller reads it from its Clock); new ids and
// names come from the Crypto seam. The caller commits the transaction (Manager::submit) and
// answers. shoald's HTTP routes and the simulator's clients call the same functions.
//
// Errors: invalid_argument (a bad spec, a rename, a mode change, no previous spec), not_found
// (no such service), already_exists (the name is taken), failed_precondition (made against a
// stale version: read the service again and retry).
//
//   auto created = controlapi::create_service(store, spec, clock.wall_now_unix_ns(), crypto);
//   if (!created.ok()) return answer(created.status());
//   manager.submit(std::move(created->tx), ...);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/env/crypto.h"
#include "core/store/store.h"

namespace shoal::controlapi {

struct CreatedService {
  storepb::Transaction tx;
  std::string id;
};

// A new service. A spec without a name gets one as Docker's namesgenerator makes them.
Result<CreatedService> create_service(const store::Store& store, storepb::ServiceSpec spec, int64_t now_ns,
                                      Crypto& crypto);

// A new spec for the service `ref` (id, name or id prefix), made against `version` (its
// Version.Index). A changed task spec raises the service's spec_version and (re)starts a rolling
// update (a paused one too); the current spec becomes the previous one either way.
Result<storepb::Transaction> update_service(const store::Store& store, std::string_view ref, uint64_t version,
                                            storepb::ServiceSpec spec, int64_t now_ns);

// Docker's rollback=previous (swarmkit's UpdateService with Rollback PREVIOUS): the previous
// spec comes back, the current one becomes the previous, and the rollback config applies.
Result<storepb::Transaction> rollback_service(const store::Store& store, std::string_view ref, uint64_t version,
                                              int64_t now_ns);

Result<storepb::Transaction> remove_service(const store::Store& store, std::string_view ref);

}  // namespace shoal::controlapi
