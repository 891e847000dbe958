// A node's data directory: what it keeps between runs and how it is protected.
//
//   <dir>/raft/        RocksDB (io_real/storage): the Raft log and this node's own records,
//                      every value sealed under the data key
//   <dir>/unlock.key   the key-encryption key as an unlock key "SWMKEY-1-<base64>", mode 0600;
//                      absent when the cluster is autolocked (then `shoal swarm unlock` gives it)
//
// The node's own records live in the sealed store beside the Raft log, under "node/...": its
// identity (node id, cluster id, role, addresses), private key, certificate and the root CA.
#pragma once
#include <optional>
#include <string>
#include <vector>
#include "core/env/crypto.h"
#include "core/env/disk.h"
#include "core/env/status.h"
#include "core/env/transport.h"

namespace shoal::daemon {

struct NodeRecord {
  NodeId node_id = 0;
  std::string cluster_id;
  NodeRole role = NodeRole::kWorker;
  std::string listen_addr;
  std::string advertise_addr;
  std::string key_pem;
  std::string cert_pem;
  std::string root_ca_pem;
  std::vector<std::pair<NodeId, std::string>> managers;  // last known manager addresses
};

// Whether `dir` already holds a node (its raft store exists).
bool data_dir_in_use(const std::string& dir);
Status make_data_dir(const std::string& dir);

// The unlock key's text form, as Docker's: "SWMKEY-1-" + base64 of the 32-byte key.
std::string format_unlock_key(const AeadKey& kek);
Result<AeadKey> parse_unlock_key(std::string_view text);
// Reads <dir>/unlock.key; nullopt when absent (autolocked).
Result<std::optional<AeadKey>> read_unlock_key_file(const std::string& dir);
Status write_unlock_key_file(const std::string& dir, const AeadKey& kek);
Status remove_unlock_key_file(const std::string& dir);

void save_node_record(Disk& disk, const NodeRecord& rec);
// The node's record, or an error naming what is missing or malformed.
Result<NodeRecord> load_node_record(const Disk& disk);

}  // namespace shoal::daemon
