#include "core/store/object_id.h"

#include "core/ca/join_token.h"

namespace shoal::store {

std::string object_id_from_bytes(const ObjectIdBytes& bytes) {
  return ca::base36_encode(bytes.data(), bytes.size(), 25);
}

std::string object_id(Rng& rng) {
  ObjectIdBytes bytes;
  for (size_t i = 0; i < bytes.size(); i += 8) {
    const uint64_t r = rng.next_u64();
    for (size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  return object_id_from_bytes(bytes);
}

std::string new_object_id(Crypto& crypto) {
  ObjectIdBytes bytes;
  crypto.random_bytes(bytes.data(), bytes.size());
  return object_id_from_bytes(bytes);
}

}  // namespace shoal::store
