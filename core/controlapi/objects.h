// The control API's rules for configs and secrets: create (a name, the data) and remove. Pure,
// like services.h; the store enforces Docker's size limits and unique names.
#pragma once

#include <string>
#include <string_view>

#include "core/env/crypto.h"
#include "core/store/store.h"

namespace shoal::controlapi {

struct CreatedObject {
  storepb::Transaction tx;
  std::string id;
};

Result<CreatedObject> create_config(const storepb::Annotations& spec, std::string data, int64_t now_ns, Crypto& crypto);
Result<CreatedObject> create_secret(const storepb::Annotations& spec, std::string data, int64_t now_ns, Crypto& crypto);
// By id or name.
Result<storepb::Transaction> remove_config(const store::Store& store, std::string_view ref);
Result<storepb::Transaction> remove_secret(const store::Store& store, std::string_view ref);

}  // namespace shoal::controlapi
