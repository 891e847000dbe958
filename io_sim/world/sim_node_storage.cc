#include "io_sim/world/sim_node_storage.h"

namespace shoal::sim {

SimNodeStorage::SimNodeStorage(Disk& disk, SimDataDir& dir, std::string name)
    : disk_(disk), dir_(dir), name_(std::move(name)) {}

Result<Disk*> SimNodeStorage::open_store(const AeadKey& kek, bool create) {
  if (create) {
    dir_.created = true;
    dir_.sealed_under = kek;
    return &disk_;
  }
  if (!dir_.created) return Status::not_found(describe() + " holds no store");
  if (kek != dir_.sealed_under) {
    return Status::permission_denied("the key does not open " + describe() + " (a wrong unlock key?)");
  }
  return &disk_;
}

Status SimNodeStorage::rewrap(const AeadKey& kek) {
  if (!dir_.created) return Status::failed_precondition(describe() + " is not open");
  dir_.sealed_under = kek;
  return {};
}

Status SimNodeStorage::write_unlock_key(const AeadKey& kek) {
  dir_.unlock_key_file = kek;
  return {};
}

Status SimNodeStorage::remove_unlock_key() {
  dir_.unlock_key_file.reset();
  return {};
}

void SimNodeStorage::wipe() {
  dir_ = SimDataDir{};
  disk_.erase_range("", std::string(1, '\xff'));
  disk_.sync([](Status) {});
}

}  // namespace shoal::sim
