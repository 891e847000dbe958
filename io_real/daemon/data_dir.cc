#include "io_real/daemon/data_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/ca/node_identity.h"
#include "io_real/api/base64.h"

namespace shoal::daemon {
namespace fs = std::filesystem;

namespace {
constexpr std::string_view kUnlockPrefix = "SWMKEY-1-";
std::string unlock_path(const std::string& dir) { return dir + "/unlock.key"; }
}  // namespace

bool data_dir_in_use(const std::string& dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / "raft" / "CURRENT", ec);
}

Status make_data_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io_error("cannot create data directory " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return {};
}

std::string format_unlock_key(const AeadKey& kek) {
  return std::string(kUnlockPrefix) + api::base64_encode(std::string_view(reinterpret_cast<const char*>(kek.data()), kek.size()));
}

Result<AeadKey> parse_unlock_key(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (text.substr(0, kUnlockPrefix.size()) != kUnlockPrefix) {
    return Status::invalid_argument("an unlock key starts with SWMKEY-1-; this one does not");
  }
  auto bytes = api::base64_decode(text.substr(kUnlockPrefix.size()));
  if (!bytes.ok()) return Status::invalid_argument("the unlock key is not valid base64");
  if (bytes->size() != AeadKey{}.size()) return Status::invalid_argument("the unlock key has the wrong length");
  AeadKey kek{};
  std::memcpy(kek.data(), bytes->data(), kek.size());
  return kek;
}

Result<std::optional<AeadKey>> read_unlock_key_file(const std::string& dir) {
  std::ifstream in(unlock_path(dir));
  if (!in) return std::optional<AeadKey>{};
  std::stringstream ss;
  ss << in.rdbuf();
  auto kek = parse_unlock_key(ss.str());
  if (!kek.ok()) return Status::corruption(unlock_path(dir) + ": " + kek.status().message());
  return std::optional<AeadKey>(*kek);
}

Status write_unlock_key_file(const std::string& dir, const AeadKey& kek) {
  const std::string tmp = unlock_path(dir) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::io_error("cannot write " + tmp + ": " + std::strerror(errno));
    ::chmod(tmp.c_str(), 0600);
    out << format_unlock_key(kek) << "\n";
    out.flush();
    if (!out) return Status::io_error("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, unlock_path(dir), ec);
  if (ec) return Status::io_error("cannot install " + unlock_path(dir) + ": " + ec.message());
  return {};
}

Status remove_unlock_key_file(const std::string& dir) {
  std::error_code ec;
  fs::remove(unlock_path(dir), ec);
  if (ec) return Status::io_error("cannot remove " + unlock_path(dir) + ": " + ec.message());
  return {};
}

void save_node_record(Disk& disk, const NodeRecord& rec) {
  nlohmann::json j;
  j["node_id"] = ca::node_id_text(rec.node_id);
  j["cluster_id"] = rec.cluster_id;
  j["role"] = role_name(rec.role);
  j["listen_addr"] = rec.listen_addr;
  j["advertise_addr"] = rec.advertise_addr;
  j["managers"] = nlohmann::json::array();
  for (const auto& [id, addr] : rec.managers) j["managers"].push_back({{"id", ca::node_id_text(id)}, {"addr", addr}});
  disk.put("node/meta", j.dump());
  disk.put("node/key", rec.key_pem);
  disk.put("node/cert", rec.cert_pem);
  disk.put("node/root", rec.root_ca_pem);
}

Result<NodeRecord> load_node_record(const Disk& disk) {
  auto meta = disk.get("node/meta");
  if (!meta) return Status::not_found("the data directory holds no node record (was `shoald init` or `join` interrupted?)");
  NodeRecord rec;
  try {
    auto j = nlohmann::json::parse(*meta);
    auto id = ca::parse_node_id(j.at("node_id").get<std::string>());
    if (!id.ok()) return Status::corruption("node record: " + id.status().message());
    rec.node_id = *id;
    rec.cluster_id = j.at("cluster_id").get<std::string>();
    rec.role = j.at("role").get<std::string>() == "manager" ? NodeRole::kManager : NodeRole::kWorker;
    rec.listen_addr = j.at("listen_addr").get<std::string>();
    rec.advertise_addr = j.at("advertise_addr").get<std::string>();
    for (const auto& m : j.at("managers")) {
      auto mid = ca::parse_node_id(m.at("id").get<std::string>());
      if (mid.ok()) rec.managers.emplace_back(*mid, m.at("addr").get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::corruption(std::string("node record is malformed: ") + e.what());
  }
  auto key = disk.get("node/key");
  auto cert = disk.get("node/cert");
  auto root = disk.get("node/root");
  if (!key || !cert || !root) return Status::corruption("node record lacks its key, certificate or root CA");
  rec.key_pem = *key;
  rec.cert_pem = *cert;
  rec.root_ca_pem = *root;
  return rec;
}

}  // namespace shoal::daemon
