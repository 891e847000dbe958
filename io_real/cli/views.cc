#include "io_real/cli/views.h"

#include <algorithm>

#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"

namespace shoal::cli {

namespace {

std::string when(const nlohmann::json& obj, std::string_view key) {
  const std::string raw = str_at(obj, {key});
  auto t = parse_rfc3339(raw);
  return t.ok() ? pretty_time(*t) : raw;
}

void labels_lines(std::string& out, const nlohmann::json& labels, std::string_view title) {
  if (!labels.is_object() || labels.empty()) return;
  out += std::string(title) + ":\n";
  for (const auto& [k, v] : labels.items()) {
    const std::string value = v.is_string() ? v.get<std::string>() : std::string();
    out += " - " + k + (value.empty() ? "" : "=" + value) + "\n";
  }
}

}  // namespace

void sort_nodes(std::vector<nlohmann::json>& nodes) {
  std::stable_sort(nodes.begin(), nodes.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    const std::string ha = str_at(a, {"Description", "Hostname"}), hb = str_at(b, {"Description", "Hostname"});
    if (ha != hb) return natural_less(ha, hb);
    return str_at(a, {"ID"}) < str_at(b, {"ID"});
  });
}

std::string manager_status_text(const nlohmann::json& node) {
  const nlohmann::json& ms = at(node, {"ManagerStatus"});
  if (!ms.is_object()) return "";
  if (bool_at(ms, {"Leader"})) return "Leader";
  return pretty_word(str_at(ms, {"Reachability"}));
}

std::string node_table(const std::vector<nlohmann::json>& nodes, std::string_view self_id) {
  std::vector<Row> rows;
  for (const auto& n : nodes) {
    const std::string id = str_at(n, {"ID"});
    rows.push_back({id + (!self_id.empty() && id == self_id ? " *" : ""), str_at(n, {"Description", "Hostname"}),
                    pretty_word(str_at(n, {"Status", "State"})), pretty_word(str_at(n, {"Spec", "Availability"})),
                    manager_status_text(n), str_at(n, {"Description", "Engine", "EngineVersion"})});
  }
  return format_table({"ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"}, rows);
}

std::string node_pretty(const nlohmann::json& n) {
  std::string out = "ID:\t\t\t" + str_at(n, {"ID"}) + "\n";
  if (auto name = str_at(n, {"Spec", "Name"}); !name.empty()) out += "Name:\t\t\t" + name + "\n";
  labels_lines(out, at(n, {"Spec", "Labels"}), "Labels");
  out += "Hostname:              \t" + str_at(n, {"Description", "Hostname"}) + "\n";
  out += "Joined at:             \t" + when(n, "CreatedAt") + "\n";
  out += "Status:\n";
  out += " State:\t\t\t" + pretty_word(str_at(n, {"Status", "State"})) + "\n";
  if (auto msg = str_at(n, {"Status", "Message"}); !msg.empty()) out += " Message:              \t" + msg + "\n";
  out += " Availability:         \t" + pretty_word(str_at(n, {"Spec", "Availability"})) + "\n";
  if (auto addr = str_at(n, {"Status", "Addr"}); !addr.empty()) out += " Address:\t\t" + addr + "\n";
  if (at(n, {"ManagerStatus"}).is_object()) {
    out += "Manager Status:\n";
    out += " Address:\t\t" + str_at(n, {"ManagerStatus", "Addr"}) + "\n";
    out += " Raft Status:\t\t" + pretty_word(str_at(n, {"ManagerStatus", "Reachability"})) + "\n";
    out += std::string(" Leader:\t\t") + (bool_at(n, {"ManagerStatus", "Leader"}) ? "Yes" : "No") + "\n";
  }
  out += "Platform:\n";
  out += " Operating System:\t" + str_at(n, {"Description", "Platform", "OS"}) + "\n";
  out += " Architecture:\t\t" + str_at(n, {"Description", "Platform", "Architecture"}) + "\n";
  out += "Resources:\n";
  out += " CPUs:\t\t\t" + std::to_string(int_at(n, {"Description", "Resources", "NanoCPUs"}) / 1'000'000'000) + "\n";
  const int64_t mem = int_at(n, {"Description", "Resources", "MemoryBytes"});
  out += " Memory:\t\t" + (mem == 0 ? std::string() : bytes_size(static_cast<double>(mem))) + "\n";
  out += "Engine Version:\t\t" + str_at(n, {"Description", "Engine", "EngineVersion"});
  if (const auto& labels = at(n, {"Description", "Engine", "Labels"}); labels.is_object() && !labels.empty()) {
    out += "\n";
    labels_lines(out, labels, "Engine Labels");
    out.pop_back();
  }
  const std::string root = str_at(n, {"Description", "TLSInfo", "TrustRoot"});
  const std::string subject = str_at(n, {"Description", "TLSInfo", "CertIssuerSubject"});
  const std::string key = str_at(n, {"Description", "TLSInfo", "CertIssuerPublicKey"});
  if (!root.empty() || !subject.empty() || !key.empty()) {
    out += "\nTLS Info:\n TrustRoot:\n" + root;
    if (!root.empty() && root.back() != '\n') out += "\n";
    out += " Issuer Subject:\t" + subject + "\n";
    out += " Issuer Public Key:\t" + key;
  }
  return out;
}

void sort_by_name(std::vector<nlohmann::json>& objects) {
  std::stable_sort(objects.begin(), objects.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return natural_less(str_at(a, {"Spec", "Name"}), str_at(b, {"Spec", "Name"}));
  });
}

std::string object_table(const std::vector<nlohmann::json>& objects, bool is_secret, int64_t now_ns) {
  std::vector<Row> rows;
  for (const auto& o : objects) {
    Row row{str_at(o, {"ID"}), str_at(o, {"Spec", "Name"})};
    if (is_secret) row.push_back(str_at(o, {"Spec", "Driver", "Name"}));
    row.push_back(ago(str_at(o, {"CreatedAt"}), now_ns));
    row.push_back(ago(str_at(o, {"UpdatedAt"}), now_ns));
    rows.push_back(std::move(row));
  }
  if (is_secret) return format_table({"ID", "NAME", "DRIVER", "CREATED", "UPDATED"}, rows);
  return format_table({"ID", "NAME", "CREATED", "UPDATED"}, rows);
}

std::string object_pretty(const nlohmann::json& o, bool is_secret) {
  std::string out = "ID:              " + str_at(o, {"ID"}) + "\n";
  out += "Name:              " + str_at(o, {"Spec", "Name"}) + "\n";
  labels_lines(out, at(o, {"Spec", "Labels"}), "Labels");
  if (is_secret) out += "Driver:            " + str_at(o, {"Spec", "Driver", "Name"}) + "\n";
  out += "Created at:        " + when(o, "CreatedAt") + "\n";
  out += "Updated at:        " + when(o, "UpdatedAt");
  if (!is_secret) {
    auto data = base64_decode(str_at(o, {"Spec", "Data"}));
    out += "\nData:\n" + (data.ok() ? *data : std::string("<data is not valid base64>"));
  }
  return out;
}

std::string join_command_text(std::string_view role, std::string_view token, std::string_view manager_addr) {
  return "To add a " + std::string(role) + " to this swarm, run the following command:\n\n    shoald join --token " +
         std::string(token) + " " + std::string(manager_addr) + "\n\n";
}

std::string unlock_key_text(std::string_view key) {
  if (key.empty()) return "";
  return "To unlock a swarm manager after it restarts, run the `shoal swarm unlock`\n"
         "command and provide the following key:\n\n    " +
         std::string(key) +
         "\n\nPlease remember to store this key in a password manager, since without it you\n"
         "will not be able to restart the manager.\n";
}

}  // namespace shoal::cli
