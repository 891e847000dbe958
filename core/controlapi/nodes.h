// The control API's rules for nodes: `node update` (role, availability, name, labels) and
// `node rm`. Pure, like services.h.
//
// Errors: not_found (no such node), invalid_argument (demoting the last manager, removing a
// manager, removing a node that is still ready without force).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/store/store.h"

namespace shoal::controlapi {

// What `node update` asks; each part left unset stays as it is.
struct NodeSpecChange {
  std::optional<storepb::NodeRole> role;
  std::optional<storepb::NodeSpec::Availability> availability;
  std::optional<std::string> name;
  std::optional<std::map<std::string, std::string>> labels;  // replaces every label
};

// Made against `version` (the node's Version.Index): the store refuses a stale one.
Result<storepb::Transaction> update_node(const store::Store& store, std::string_view ref, uint64_t version,
                                         const NodeSpecChange& change, int64_t now_ns);

// A manager must be demoted first and gone from Raft (`raft_member`: whether it still is, as the
// caller's Raft says); a node that is still ready needs `force`.
Result<storepb::Transaction> remove_node(const store::Store& store, std::string_view ref, bool force, bool raft_member);

}  // namespace shoal::controlapi
