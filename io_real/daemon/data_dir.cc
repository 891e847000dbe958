#include "io_real/daemon/data_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/node/unlock_key.h"

namespace shoal::real {
namespace fs = std::filesystem;

DataDir::DataDir(std::string dir, Crypto& crypto, Post post)
    : dir_(std::move(dir)), crypto_(crypto), post_(std::move(post)) {}

DataDir::~DataDir() { close(); }

bool DataDir::in_use() const {
  std::error_code ec;
  return fs::exists(fs::path(dir_) / "raft" / "CURRENT", ec);
}

Result<Disk*> DataDir::open_store(const AeadKey& kek, bool create) {
  if (create) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Status::io_error("cannot create data directory " + dir_ + ": " + ec.message());
    ::chmod(dir_.c_str(), 0700);
  }
  real::RocksDiskOptions o;
  o.path = dir_ + "/raft";
  o.kek = kek;
  o.create_if_missing = create;
  o.post = post_;
  auto d = real::RocksDisk::open(std::move(o), crypto_);
  if (!d.ok()) return d.status();
  disk_ = std::move(*d);
  return static_cast<Disk*>(disk_.get());
}

Status DataDir::rewrap(const AeadKey& kek) {
  if (!disk_) return Status::failed_precondition("the data directory is not open");
  return disk_->rewrap_data_key(kek);
}

void DataDir::close() {
  if (disk_) disk_->close();
}

Result<std::optional<AeadKey>> DataDir::read_unlock_key() const {
  std::ifstream in(unlock_path());
  if (!in) return std::optional<AeadKey>{};
  std::stringstream ss;
  ss << in.rdbuf();
  auto kek = node::parse_unlock_key(ss.str());
  if (!kek.ok()) return Status::corruption(unlock_path() + ": " + kek.status().message());
  return std::optional<AeadKey>(*kek);
}

Status DataDir::write_unlock_key(const AeadKey& kek) {
  const std::string tmp = unlock_path() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::io_error("cannot write " + tmp + ": " + std::strerror(errno));
    ::chmod(tmp.c_str(), 0600);
    out << node::format_unlock_key(kek) << "\n";
    out.flush();
    if (!out) return Status::io_error("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, unlock_path(), ec);
  if (ec) return Status::io_error("cannot install " + unlock_path() + ": " + ec.message());
  return {};
}

Status DataDir::remove_unlock_key() {
  std::error_code ec;
  fs::remove(unlock_path(), ec);
  if (ec) return Status::io_error("cannot remove " + unlock_path() + ": " + ec.message());
  return {};
}

void DataDir::wipe() {
  close();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace shoal::real
