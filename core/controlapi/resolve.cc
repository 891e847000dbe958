#include "core/controlapi/resolve.h"

#include <map>
#include <string>

namespace shoal::controlapi {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

template <typename Obj, typename Exact>
Result<const Obj*> resolve(const std::map<std::string, Obj>& all, std::string_view ref, const char* kind, Exact exact) {
  // Every id starts with the empty string: it names nothing, rather than whatever is alone.
  if (ref.empty()) return Status::invalid_argument(std::string(kind) + " name or id is empty");
  if (const Obj* o = exact(ref)) return o;
  const Obj* found = nullptr;
  size_t matches = 0;
  for (auto it = all.lower_bound(std::string(ref)); it != all.end() && starts_with(it->first, ref); ++it) {
    found = &it->second;
    ++matches;
  }
  if (matches == 1) return found;
  if (matches > 1) {
    return Status::invalid_argument(std::string(kind) + " " + std::string(ref) + " is ambiguous (" +
                                    std::to_string(matches) + " matches found)");
  }
  return Status::not_found(std::string(kind) + " " + std::string(ref) + " not found");
}

}  // namespace

Result<const storepb::ServiceObject*> resolve_service(const store::Store& s, std::string_view ref) {
  return resolve(s.services(), ref, "service", [&](std::string_view r) { return s.find_service(r); });
}
Result<const storepb::TaskObject*> resolve_task(const store::Store& s, std::string_view ref) {
  return resolve(s.tasks(), ref, "task", [&](std::string_view r) { return s.find_task(r); });
}
Result<const storepb::NodeObject*> resolve_node(const store::Store& s, std::string_view ref) {
  return resolve(s.nodes(), ref, "node", [&](std::string_view r) { return s.find_node(r); });
}

}  // namespace shoal::controlapi
