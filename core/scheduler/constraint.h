// Placement constraints, as Docker writes them: `KEY==VALUE` or `KEY!=VALUE`, where KEY is one of
//   node.id, node.hostname, node.role, node.platform.os, node.platform.arch,
//   node.labels.NAME, engine.labels.NAME
// Whitespace around KEY, the operator and VALUE is ignored; matching is exact for ids and
// case-insensitive for everything else (as swarmkit does). A label the node does not have
// never equals anything, so `node.labels.zone!=east` holds on a node without the label.
//
//   Result<Constraint> c = parse_constraint("node.labels.zone == east");
//   bool ok = c->matches(node);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/api/store.pb.h"
#include "core/env/status.h"

namespace shoal::scheduler {

struct Constraint {
  enum class Op { kEq, kNe };
  std::string key;    // "node.labels.zone"
  Op op = Op::kEq;
  std::string value;  // "east"

  bool matches(const storepb::NodeObject& node) const;
};

// invalid_argument naming the expression and what is wrong with it: no operator, an unknown key,
// an empty key or value.
Result<Constraint> parse_constraint(std::string_view expr);
Result<std::vector<Constraint>> parse_constraints(const google::protobuf::RepeatedPtrField<std::string>& exprs);

}  // namespace shoal::scheduler
