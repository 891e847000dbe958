// A node's record in its sealed store: who it is (node id, cluster, role), its private key and
// certificate, the root it trusts, where its ports are and the managers it last heard of. Kept
// under one key ("node/record") beside Raft's log, so the store's sealing protects the key.
#pragma once

#include "core/api/node.pb.h"
#include "core/env/disk.h"
#include "core/env/status.h"

namespace shoal::node {

namespace nodepb = ::shoal::nodepb;

// Writes the record (not durable until the disk syncs).
void save_node_record(Disk& disk, const nodepb::NodeRecord& record);
// The record, or an error naming what is missing or malformed.
Result<nodepb::NodeRecord> load_node_record(const Disk& disk);

}  // namespace shoal::node
