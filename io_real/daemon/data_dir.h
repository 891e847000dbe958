// DataDir: a node's data directory on a real disk, behind the NodeStorage seam
// (core/env/node_storage.h):
//
//   <dir>/raft/        RocksDB (io_real/storage/rocksdb_disk.h): Raft's log and the node's own
//                      record (core/node/node_record.h), every value sealed under the data key
//   <dir>/unlock.key   the key-encryption key as an unlock key "SWMKEY-1-<base64>", mode 0600;
//                      absent when the cluster is autolocked (then `shoal swarm unlock` gives it)
//
// Thread contract: the node's loop; the store's sync completions are posted there with `post`.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/env/node_storage.h"
#include "io_real/storage/rocksdb_disk.h"

namespace shoal::real {

class DataDir final : public NodeStorage {
 public:
  using Post = std::function<void(std::function<void()>)>;
  DataDir(std::string dir, Crypto& crypto, Post post);
  ~DataDir() override;

  std::string describe() const override { return "data directory " + dir_; }
  bool in_use() const override;
  Result<Disk*> open_store(const AeadKey& kek, bool create) override;
  Status rewrap(const AeadKey& kek) override;
  void close() override;
  Result<std::optional<AeadKey>> read_unlock_key() const override;
  Status write_unlock_key(const AeadKey& kek) override;
  Status remove_unlock_key() override;
  void wipe() override;

 private:
  std::string unlock_path() const { return dir_ + "/unlock.key"; }

  std::string dir_;
  Crypto& crypto_;
  Post post_;
  std::unique_ptr<real::RocksDisk> disk_;
};

}  // namespace shoal::real
