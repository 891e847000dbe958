// Placement constraints, parsed and matched as swarmkit's manager/constraint package does:
//   * the expression is split at its first `==` or `!=`; whitespace around the key and the value
//     is trimmed;
//   * the value may hold only swarmkit's characters (letters, digits, whitespace and
//     `: - _ . * ( ) ? + [ ] \ ^ $ | /`), so `=`, `!`, `<`, `>` and `~` stay free for operators
//     (and `a==b==c` is refused instead of quietly meaning "b==c");
//   * the key must be one of the known ones (swarmkit accepts any key and then never matches; we
//     refuse it at once, so a typo is reported instead of leaving tasks pending);
//   * matching is exact for node.id and ASCII case-insensitive for the other values (swarmkit
//     folds case for ids too; ours are hex, so only a typo in case could tell them apart).
#include "core/scheduler/constraint.h"

#include <optional>

#include "core/scheduler/internal/node_key.h"
#include "core/store/node_role.h"

namespace shoal::scheduler {

namespace {

constexpr std::string_view kNodeLabels = "node.labels.";
constexpr std::string_view kEngineLabels = "engine.labels.";
constexpr std::string_view kKnownKeys =
    "node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.NAME "
    "or engine.labels.NAME";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Whitespace as Go's regexp \s and strings.TrimSpace (ASCII) see it.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_label_char(char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; }

// swarmkit's valuePattern: ^(?i)[a-z0-9:\-_\s\.\*\(\)\?\+\[\]\\\^\$\|\/]+$
bool is_value_char(char c) {
  if (is_alnum(c) || is_space(c)) return true;
  switch (c) {
    case ':': case '-': case '_': case '.': case '*': case '(': case ')': case '?': case '+':
    case '[': case ']': case '\\': case '^': case '$': case '|': case '/':
      return true;
    default:
      return false;
  }
}

bool starts_with_fold(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equal_fold(s.substr(0, prefix.size()), prefix);
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

namespace internal {

Result<std::string> canonical_key(std::string_view key) {
  if (key.empty()) return Status::invalid_argument("empty key");
  for (std::string_view prefix : {kNodeLabels, kEngineLabels}) {
    if (!starts_with_fold(key, prefix)) continue;
    const std::string_view name = key.substr(prefix.size());
    if (name.empty()) return Status::invalid_argument("key " + quoted(key) + " names no label");
    for (char c : name) {
      if (!is_label_char(c)) {
        return Status::invalid_argument("label name " + quoted(name) + " in key " + quoted(key) +
                                        " may hold only letters, digits, '.', '_' and '-'");
      }
    }
    return std::string(prefix) + std::string(name);
  }
  const std::string lowered = to_lower(key);
  if (lowered == "node.id" || lowered == "node.hostname" || lowered == "node.role" ||
      lowered == "node.platform.os" || lowered == "node.platform.arch") {
    return lowered;
  }
  return Status::invalid_argument("unknown key " + quoted(key) + " (expected " + std::string(kKnownKeys) + ")");
}

std::optional<std::string> node_value(const storepb::NodeObject& node, std::string_view key) {
  const auto label = [](const google::protobuf::Map<std::string, std::string>& labels,
                        std::string_view name) -> std::optional<std::string> {
    auto it = labels.find(std::string(name));
    if (it == labels.end()) return std::nullopt;
    return it->second;
  };
  if (starts_with_fold(key, kNodeLabels)) {
    return label(node.spec().annotations().labels(), key.substr(kNodeLabels.size()));
  }
  if (starts_with_fold(key, kEngineLabels)) {
    return label(node.description().engine_labels(), key.substr(kEngineLabels.size()));
  }
  if (equal_fold(key, "node.id")) return node.id();
  if (equal_fold(key, "node.hostname")) return node.hostname();
  if (equal_fold(key, "node.role")) return std::string(role_name(store::from_store(node.role())));
  if (equal_fold(key, "node.platform.os")) return node.description().platform().os();
  if (equal_fold(key, "node.platform.arch")) return node.description().platform().architecture();
  return std::nullopt;
}

}  // namespace internal

bool Constraint::matches(const storepb::NodeObject& node) const {
  const std::optional<std::string> have = internal::node_value(node, key);
  // A missing label never equals anything; an empty value never equals a (non-empty) value.
  const bool equal = have.has_value() && (equal_fold(key, "node.id") ? *have == value : equal_fold(*have, value));
  return op == Op::kEq ? equal : !equal;
}

Result<Constraint> parse_constraint(std::string_view expr) {
  const std::string where = "constraint " + quoted(expr) + ": ";
  const size_t eq = expr.find("==");
  const size_t ne = expr.find("!=");
  if (eq == std::string_view::npos && ne == std::string_view::npos) {
    return Status::invalid_argument(where + "no operator (expected KEY==VALUE or KEY!=VALUE)");
  }
  const bool is_eq = ne == std::string_view::npos || (eq != std::string_view::npos && eq < ne);
  const size_t at = is_eq ? eq : ne;
  const std::string_view key = trim(expr.substr(0, at));
  const std::string_view value = trim(expr.substr(at + 2));
  if (key.empty()) return Status::invalid_argument(where + "empty key");
  if (value.empty()) return Status::invalid_argument(where + "empty value");
  for (char c : value) {
    if (!is_value_char(c)) {
      return Status::invalid_argument(where + "value " + quoted(value) + " may not hold '" + std::string(1, c) + "'");
    }
  }
  Result<std::string> canonical = internal::canonical_key(key);
  if (!canonical.ok()) return Status::invalid_argument(where + canonical.status().message());
  Constraint c;
  c.key = std::move(*canonical);
  c.op = is_eq ? Constraint::Op::kEq : Constraint::Op::kNe;
  c.value = std::string(value);
  return c;
}

Result<std::vector<Constraint>> parse_constraints(const google::protobuf::RepeatedPtrField<std::string>& exprs) {
  std::vector<Constraint> out;
  out.reserve(static_cast<size_t>(exprs.size()));
  for (const std::string& expr : exprs) {
    Result<Constraint> c = parse_constraint(expr);
    if (!c.ok()) return c.status();
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace shoal::scheduler
