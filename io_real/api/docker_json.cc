#include "io_real/api/docker_json.h"

#include <cstdio>
#include <ctime>

#include "core/ca/node_identity.h"
#include "core/wire/base64.h"
#include "core/wire/rfc3339.h"

namespace shoal::real {
namespace {

nlohmann::json labels_json(const google::protobuf::Map<std::string, std::string>& labels) {
  // Sorted keys: nlohmann's object is ordered by key.
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

nlohmann::json meta(uint64_t version, int64_t created, int64_t updated) {
  return {{"Version", {{"Index", version}}}, {"CreatedAt", rfc3339(created)}, {"UpdatedAt", rfc3339(updated)}};
}

}  // namespace


const char* node_role_word(storepb::NodeRole role) { return role == storepb::MANAGER ? "manager" : "worker"; }

const char* availability_word(storepb::NodeSpec::Availability availability) {
  switch (availability) {
    case storepb::NodeSpec::PAUSE: return "pause";
    case storepb::NodeSpec::DRAIN: return "drain";
    default: return "active";
  }
}

const char* node_state_word(storepb::NodeObject::State state) {
  switch (state) {
    case storepb::NodeObject::DOWN: return "down";
    case storepb::NodeObject::READY: return "ready";
    default: return "unknown";
  }
}

std::optional<storepb::NodeRole> parse_node_role(std::string_view word) {
  if (word == "manager") return storepb::MANAGER;
  if (word == "worker") return storepb::WORKER;
  return std::nullopt;
}

std::optional<storepb::NodeSpec::Availability> parse_availability(std::string_view word) {
  if (word == "active") return storepb::NodeSpec::ACTIVE;
  if (word == "pause") return storepb::NodeSpec::PAUSE;
  if (word == "drain") return storepb::NodeSpec::DRAIN;
  return std::nullopt;
}

nlohmann::json node_json(const storepb::NodeObject& n, uint64_t leader_id, bool reachable) {
  nlohmann::json j = meta(n.version(), n.created_at_ns(), n.updated_at_ns());
  j["ID"] = n.id();
  j["Spec"] = {{"Labels", labels_json(n.spec().annotations().labels())},
               {"Role", node_role_word(n.spec().desired_role())},
               {"Availability", availability_word(n.spec().availability())}};
  if (!n.spec().annotations().name().empty()) j["Spec"]["Name"] = n.spec().annotations().name();
  // A node that has not reported its description yet reads as Linux on x86_64 with no resources.
  const storepb::NodeDescription& d = n.description();
  const std::string os = d.platform().os().empty() ? "linux" : d.platform().os();
  const std::string arch = d.platform().architecture().empty() ? "x86_64" : d.platform().architecture();
  j["Description"] = {{"Hostname", n.hostname()},
                      {"Platform", {{"Architecture", arch}, {"OS", os}}},
                      {"Resources", {{"NanoCPUs", d.resources().nano_cpus()}, {"MemoryBytes", d.resources().memory_bytes()}}},
                      {"Engine", {{"EngineVersion", "shoal-0.3"}}},
                      {"TLSInfo", {{"TrustRoot", ""}, {"CertIssuerSubject", ""}, {"CertIssuerPublicKey", ""}}}};
  if (!d.engine_labels().empty()) j["Description"]["Engine"]["Labels"] = labels_json(d.engine_labels());
  const std::string host = n.addr().substr(0, n.addr().rfind(':'));
  j["Status"] = {{"State", node_state_word(n.state())}, {"Addr", host}};
  if (n.role() == storepb::MANAGER) {
    const bool is_leader = leader_id != 0 && ca::node_id_text(leader_id) == n.id();
    j["ManagerStatus"] = {{"Reachability", reachable ? "reachable" : "unreachable"}, {"Addr", n.addr()}};
    if (is_leader) j["ManagerStatus"]["Leader"] = true;
  }
  return j;
}

nlohmann::json config_json(const storepb::ConfigObject& c) {
  nlohmann::json j = meta(c.version(), c.created_at_ns(), c.updated_at_ns());
  j["ID"] = c.id();
  j["Spec"] = {{"Name", c.spec().name()}, {"Labels", labels_json(c.spec().labels())}, {"Data", wire::base64_encode(c.data())}};
  return j;
}

nlohmann::json secret_json(const storepb::SecretObject& s) {
  nlohmann::json j = meta(s.version(), s.created_at_ns(), s.updated_at_ns());
  j["ID"] = s.id();
  j["Spec"] = {{"Name", s.spec().name()}, {"Labels", labels_json(s.spec().labels())}};
  return j;
}

nlohmann::json swarm_json(const storepb::ClusterObject& c) {
  nlohmann::json j = meta(c.version(), c.created_at_ns(), c.updated_at_ns());
  j["ID"] = c.id();
  j["Spec"] = {{"Name", c.name()},
               {"Labels", nlohmann::json::object()},
               {"CAConfig", {{"NodeCertExpiry", c.node_cert_expiry_s() * 1'000'000'000LL},
                             {"ForceRotate", c.ca_force_rotate()}}},
               {"EncryptionConfig", {{"AutoLockManagers", c.autolock()}}}};
  j["TLSInfo"] = {{"TrustRoot", c.root_ca_cert_pem()}};
  j["RootRotationInProgress"] = c.has_rotation();
  j["JoinTokens"] = {{"Worker", c.worker_token()}, {"Manager", c.manager_token()}};
  return j;
}

}  // namespace shoal::real
