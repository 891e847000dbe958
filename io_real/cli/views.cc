#include "io_real/cli/views.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"

namespace shoal::real {

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
  // The gossip view, when the daemon answering has one (a Shoal field), beside the managers'.
  const bool gossip = std::any_of(nodes.begin(), nodes.end(), [](const auto& n) { return at(n, {"Gossip"}).is_object(); });
  std::vector<Row> rows;
  for (const auto& n : nodes) {
    const std::string id = str_at(n, {"ID"});
    rows.push_back({id + (!self_id.empty() && id == self_id ? " *" : ""), str_at(n, {"Description", "Hostname"}),
                    pretty_word(str_at(n, {"Status", "State"})), pretty_word(str_at(n, {"Spec", "Availability"})),
                    manager_status_text(n), str_at(n, {"Description", "Engine", "EngineVersion"})});
    if (gossip) rows.back().push_back(pretty_word(str_at(n, {"Gossip", "State"})));
  }
  std::vector<std::string> header = {"ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"};
  if (gossip) header.push_back("GOSSIP");
  return format_table(header, rows);
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

std::string short_id(std::string_view id) { return std::string(id.substr(0, 12)); }

std::string command_text(const nlohmann::json& task_template) {
  std::string out;
  for (const char* key : {"Command", "Args"}) {
    const nlohmann::json& list = at(task_template, {"ContainerSpec", key});
    if (!list.is_array()) continue;
    for (const auto& word : list) {
      if (!word.is_string()) continue;
      if (!out.empty()) out += ' ';
      out += word.get<std::string>();
    }
  }
  return out;
}

std::string service_mode(const nlohmann::json& service) {
  return at(service, {"Spec", "Mode", "Global"}).is_object() ? "global" : "replicated";
}

std::string replicas_text(const nlohmann::json& s) {
  std::string out = std::to_string(int_at(s, {"ServiceStatus", "RunningTasks"})) + "/" +
                    std::to_string(int_at(s, {"ServiceStatus", "DesiredTasks"}));
  const int64_t max = int_at(s, {"Spec", "TaskTemplate", "Placement", "MaxReplicas"});
  if (service_mode(s) == "replicated" && max > 0) out += " (max " + std::to_string(max) + " per node)";
  return out;
}

std::string service_table(const std::vector<nlohmann::json>& services) {
  std::vector<Row> rows;
  for (const auto& s : services) {
    rows.push_back({short_id(str_at(s, {"ID"})), str_at(s, {"Spec", "Name"}), service_mode(s), replicas_text(s),
                    ellipsize(command_text(at(s, {"Spec", "TaskTemplate"})), 40)});
  }
  return format_table({"ID", "NAME", "MODE", "REPLICAS", "COMMAND"}, rows);
}

namespace {

std::string joined(const nlohmann::json& list, const char* separator) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& e : list) {
    if (!e.is_string()) continue;
    if (!out.empty()) out += separator;
    out += e.get<std::string>();
  }
  return out;
}

void resources_lines(std::string& out, const nlohmann::json& r, const char* title) {
  const int64_t cpus = int_at(r, {"NanoCPUs"});
  const int64_t mem = int_at(r, {"MemoryBytes"});
  if (cpus == 0 && mem == 0) return;
  out += std::string(" ") + title + ":\n";
  if (cpus > 0) out += "  CPU:\t\t" + format_cpus(cpus) + "\n";
  if (mem > 0) out += "  Memory:\t" + bytes_size(static_cast<double>(mem)) + "\n";
}

}  // namespace

namespace {

// docker's UpdateConfig / RollbackConfig block of `service inspect --pretty`.
void update_config_lines(std::string& out, const nlohmann::json& u, const char* title, const char* order_title) {
  if (!u.is_object()) return;
  out += std::string(title) + ":\n";
  out += " Parallelism:\t" + std::to_string(int_at(u, {"Parallelism"})) + "\n";
  if (const int64_t d = int_at(u, {"Delay"}); d > 0) out += " Delay:\t\t" + format_go_duration(Duration(d)) + "\n";
  const std::string action = str_at(u, {"FailureAction"});
  out += " On failure:\t" + (action.empty() ? std::string("pause") : action) + "\n";
  if (const int64_t m = int_at(u, {"Monitor"}); m > 0) {
    out += " Monitoring Period: " + format_go_duration(Duration(m)) + "\n";
  }
  const nlohmann::json& ratio = at(u, {"MaxFailureRatio"});
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", ratio.is_number() ? ratio.get<double>() : 0.0);
  out += std::string(" Max failure ratio: ") + buf + "\n";
  const std::string order = str_at(u, {"Order"});
  // docker's template lines the order up with the ratio: " Update order:      start-first".
  const std::string label = std::string(" ") + order_title + ":";
  out += label + std::string(label.size() < 20 ? 20 - label.size() : 1, ' ') +
         (order.empty() ? std::string("stop-first") : order) + "\n";
}

}  // namespace

std::string service_pretty(const nlohmann::json& s, int64_t now_ns) {
  const nlohmann::json& spec = at(s, {"Spec"});
  const nlohmann::json& task = at(spec, {"TaskTemplate"});
  std::string out = "ID:\t\t" + str_at(s, {"ID"}) + "\n";
  out += "Name:\t\t" + str_at(spec, {"Name"}) + "\n";
  if (const auto& labels = at(spec, {"Labels"}); labels.is_object() && !labels.empty()) {
    out += "Labels:\n";
    for (const auto& [k, v] : labels.items()) {
      const std::string value = v.is_string() ? v.get<std::string>() : std::string();
      out += " " + k + (value.empty() ? "" : "=" + value) + "\n";
    }
  }
  if (service_mode(s) == "global") {
    out += "Service Mode:\tGlobal\n";
  } else {
    out += "Service Mode:\tReplicated\n";
    out += " Replicas:\t" + std::to_string(int_at(spec, {"Mode", "Replicated", "Replicas"})) + "\n";
  }
  if (const auto& u = at(s, {"UpdateStatus"}); u.is_object() && !str_at(u, {"State"}).empty()) {
    out += "UpdateStatus:\n";
    out += " State:\t\t" + str_at(u, {"State"}) + "\n";
    if (auto started = ago(str_at(u, {"StartedAt"}), now_ns); !started.empty()) out += " Started:\t" + started + "\n";
    const std::string state = str_at(u, {"State"});
    if (state == "completed" || state == "rollback_completed") {
      if (auto done = ago(str_at(u, {"CompletedAt"}), now_ns); !done.empty()) out += " Completed:\t" + done + "\n";
    }
    out += " Message:\t" + str_at(u, {"Message"}) + "\n";
  }
  out += "Placement:\n";
  if (const auto& c = at(task, {"Placement", "Constraints"}); c.is_array() && !c.empty()) {
    out += " Constraints:\t[" + joined(c, " ") + "]\n";
  }
  if (const auto& prefs = at(task, {"Placement", "Preferences"}); prefs.is_array() && !prefs.empty()) {
    std::string list;
    for (const auto& p : prefs) {
      list += (list.empty() ? "" : " ") + std::string("spread=") + str_at(p, {"Spread", "SpreadDescriptor"});
    }
    out += " Preferences:\t[" + list + "]\n";
  }
  if (const int64_t max = int_at(task, {"Placement", "MaxReplicas"}); max > 0) {
    out += " Max Replicas Per Node:\t" + std::to_string(max) + "\n";
  }
  if (const auto& r = at(task, {"RestartPolicy"}); r.is_object()) {
    out += "RestartPolicy:\n";
    out += " Condition:\t" + str_at(r, {"Condition"}) + "\n";
    out += " Delay:\t\t" + format_go_duration(Duration(int_at(r, {"Delay"}))) + "\n";
    out += " MaxAttempts:\t" + std::to_string(int_at(r, {"MaxAttempts"})) + "\n";
    if (const int64_t w = int_at(r, {"Window"}); w > 0) out += " Window:\t" + format_go_duration(Duration(w)) + "\n";
  }
  update_config_lines(out, at(spec, {"UpdateConfig"}), "UpdateConfig", "Update order");
  update_config_lines(out, at(spec, {"RollbackConfig"}), "RollbackConfig", "Rollback order");
  out += "ContainerSpec:\n";
  if (auto image = str_at(task, {"ContainerSpec", "Image"}); !image.empty()) out += " Image:\t\t" + image + "\n";
  if (auto cmd = joined(at(task, {"ContainerSpec", "Command"}), " "); !cmd.empty()) out += " Command:\t" + cmd + "\n";
  if (auto args = joined(at(task, {"ContainerSpec", "Args"}), " "); !args.empty()) out += " Args:\t\t" + args + "\n";
  if (auto env = joined(at(task, {"ContainerSpec", "Env"}), " "); !env.empty()) out += " Env:\t\t" + env + "\n";
  if (auto dir = str_at(task, {"ContainerSpec", "Dir"}); !dir.empty()) out += " Dir:\t\t" + dir + "\n";
  if (const int64_t grace = int_at(task, {"ContainerSpec", "StopGracePeriod"}); grace > 0) {
    out += " StopGracePeriod:\t" + format_go_duration(Duration(grace)) + "\n";
  }
  if (const auto& h = at(task, {"ContainerSpec", "Healthcheck"}); h.is_object()) {
    out += " Healthcheck:\n";
    out += "  Test:\t\t" + joined(at(h, {"Test"}), " ") + "\n";
    for (const auto& [key, label] : {std::pair{"Interval", "  Interval:\t"}, std::pair{"Timeout", "  Timeout:\t"},
                                     std::pair{"StartPeriod", "  StartPeriod:\t"}}) {
      if (const int64_t d = int_at(h, {key}); d > 0) out += std::string(label) + format_go_duration(Duration(d)) + "\n";
    }
    if (const int64_t r = int_at(h, {"Retries"}); r > 0) out += "  Retries:\t" + std::to_string(r) + "\n";
  }
  std::string resources;
  resources_lines(resources, at(task, {"Resources", "Reservations"}), "Reservations");
  resources_lines(resources, at(task, {"Resources", "Limits"}), "Limits");
  if (!resources.empty()) out += "Resources:\n" + resources;
  out += "Endpoint Mode:\tvip";
  return out;
}

std::string task_name(const nlohmann::json& task, const std::map<std::string, std::string>& service_names) {
  const std::string service_id = str_at(task, {"ServiceID"});
  auto it = service_names.find(service_id);
  const std::string service = it == service_names.end() ? service_id : it->second;
  const int64_t slot = int_at(task, {"Slot"});
  return service + "." + (slot != 0 ? std::to_string(slot) : str_at(task, {"NodeID"}));
}

void sort_tasks(std::vector<nlohmann::json>& tasks, const std::map<std::string, std::string>& service_names) {
  auto created = [](const nlohmann::json& t) {
    auto ns = parse_rfc3339(str_at(t, {"CreatedAt"}));
    return ns.ok() ? *ns : 0;
  };
  std::stable_sort(tasks.begin(), tasks.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
    const std::string na = task_name(a, service_names), nb = task_name(b, service_names);
    if (na != nb) return natural_less(na, nb);
    return created(a) > created(b);
  });
}

std::string task_table(std::vector<nlohmann::json> tasks, const std::map<std::string, std::string>& service_names,
                       const std::map<std::string, std::string>& node_names, int64_t now_ns, bool trunc) {
  sort_tasks(tasks, service_names);
  std::vector<Row> rows;
  std::string previous;
  for (const auto& t : tasks) {
    const std::string name = task_name(t, service_names);
    const std::string shown = name == previous ? " \\_ " + name : name;
    previous = name;
    const std::string node_id = str_at(t, {"NodeID"});
    auto node = node_names.find(node_id);
    std::string current = pretty_word(str_at(t, {"Status", "State"}));
    if (auto since = ago(str_at(t, {"Status", "Timestamp"}), now_ns); !since.empty()) {
      since[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(since[0])));
      current += " " + since;
    }
    std::string err = str_at(t, {"Status", "Err"});
    if (trunc) err = ellipsize(err, 30);
    if (!err.empty()) err = "\"" + err + "\"";
    const std::string command = command_text(at(t, {"Spec"}));
    rows.push_back({trunc ? short_id(str_at(t, {"ID"})) : str_at(t, {"ID"}), shown,
                    trunc ? ellipsize(command, 40) : command, node == node_names.end() ? node_id : node->second,
                    pretty_word(str_at(t, {"DesiredState"})), current, err});
  }
  return format_table({"ID", "NAME", "COMMAND", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"}, rows);
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

}  // namespace shoal::real
