#include "core/node/node_record.h"

namespace shoal::node {
namespace {
constexpr const char* kRecordKey = "node/record";
}  // namespace

void save_node_record(Disk& disk, const nodepb::NodeRecord& record) {
  disk.put(kRecordKey, record.SerializeAsString());
}

Result<nodepb::NodeRecord> load_node_record(const Disk& disk) {
  auto bytes = disk.get(kRecordKey);
  if (!bytes) return Status::not_found("the data directory holds no node record (was `shoald init` or `join` interrupted?)");
  nodepb::NodeRecord record;
  if (!record.ParseFromString(*bytes)) return Status::corruption("the node record in the data directory does not parse");
  if (record.node_id() == 0 || record.cluster_id().empty() || record.key_pem().empty() || record.cert_pem().empty() ||
      record.trusted_roots_pem().empty()) {
    return Status::corruption("the node record lacks its id, cluster, key, certificate or root CA");
  }
  return record;
}

}  // namespace shoal::node
