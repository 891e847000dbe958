// Finding an object the way Docker's API does: by exact id or name, else by a unique id prefix.
// The errors are Docker's: "service web not found", "service ab is ambiguous (2 matches found)".
#pragma once

#include <string_view>

#include "core/store/store.h"

namespace shoal::controlapi {

Result<const storepb::ServiceObject*> resolve_service(const store::Store& store, std::string_view ref);
Result<const storepb::TaskObject*> resolve_task(const store::Store& store, std::string_view ref);
Result<const storepb::NodeObject*> resolve_node(const store::Store& store, std::string_view ref);

}  // namespace shoal::controlapi
