// SimNodeStorage: a simulated node's data directory, the NodeStorage seam
// (core/env/node_storage.h). The sealed store is the node's SimDisk (with its crash semantics);
// beside it, a SimDataDir that outlives the node's crashes as files would: whether the store
// exists, the key-encryption key it is sealed under (opening it with another key fails, as
// RocksDisk's does), and the unlock key file. Disk loss wipes both.
#pragma once

#include <optional>
#include <string>

#include "core/env/node_storage.h"

namespace shoal::sim {

// What a host's data directory holds besides its disk; owned by the run, one per host.
struct SimDataDir {
  bool created = false;
  AeadKey sealed_under{};
  std::optional<AeadKey> unlock_key_file;
};

class SimNodeStorage final : public NodeStorage {
 public:
  SimNodeStorage(Disk& disk, SimDataDir& dir, std::string name);

  std::string describe() const override { return "data directory of " + name_; }
  bool in_use() const override { return dir_.created; }
  Result<Disk*> open_store(const AeadKey& kek, bool create) override;
  Status rewrap(const AeadKey& kek) override;
  void close() override {}
  Result<std::optional<AeadKey>> read_unlock_key() const override { return dir_.unlock_key_file; }
  Status write_unlock_key(const AeadKey& kek) override;
  Status remove_unlock_key() override;
  void wipe() override;

 private:
  Disk& disk_;
  SimDataDir& dir_;
  std::string name_;
};

}  // namespace shoal::sim
