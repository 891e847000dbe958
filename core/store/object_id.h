// Object ids as Docker makes them: 25 base36 digits of 128 random bits (services, tasks,
// configs, secrets, the cluster, worker sessions).
//
//   std::string id = object_id(rng);              // from the node's seeded stream: unique, not secret
//   std::string id = object_id_from_bytes(bytes); // from 16 bytes of the caller's (e.g. OpenSSL)
//   std::string id = new_object_id(crypto);       // from the Crypto seam's strong randomness
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/env/crypto.h"
#include "core/env/random.h"

namespace shoal::store {

using ObjectIdBytes = std::array<uint8_t, 16>;

std::string object_id_from_bytes(const ObjectIdBytes& bytes);
std::string object_id(Rng& rng);
std::string new_object_id(Crypto& crypto);

}  // namespace shoal::store
