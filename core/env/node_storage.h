// NodeStorage: the seam of a node's data directory: whether it holds a node, the sealed store
// that keeps the node's records and Raft's log (a Disk whose values are sealed under a data key,
// itself sealed under a key-encryption key, the KEK), and the unlock key file that holds the KEK
// unless the cluster is autolocked.
//
// shoald's is a directory with RocksDB and a key file (io_real/daemon/data_dir.h); the
// simulator keeps the same things beside the node's simulated disk.
#pragma once

#include <optional>
#include <string>

#include "core/env/crypto.h"
#include "core/env/disk.h"
#include "core/env/status.h"

namespace shoal {

class NodeStorage {
 public:
  virtual ~NodeStorage() = default;
  // Where it is, for messages ("data directory /var/lib/shoal").
  virtual std::string describe() const = 0;
  // Whether it already holds a node.
  virtual bool in_use() const = 0;
  // Opens the sealed store under `kek`; `create` makes a new one (and the directory). A wrong
  // key is an error that says so. The Disk lives until close().
  virtual Result<Disk*> open_store(const AeadKey& kek, bool create) = 0;
  // Seals the open store's data key under a new KEK.
  virtual Status rewrap(const AeadKey& kek) = 0;
  virtual void close() = 0;
  // The unlock key file: nullopt when there is none (an autolocked manager).
  virtual Result<std::optional<AeadKey>> read_unlock_key() const = 0;
  virtual Status write_unlock_key(const AeadKey& kek) = 0;
  virtual Status remove_unlock_key() = 0;
  // Removes everything (after close()): a node that left its cluster for good.
  virtual void wipe() = 0;
};

}  // namespace shoal
