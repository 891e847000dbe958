// Disk: the seam through which core code keeps state across crashes.
//
// A small ordered key-value store with an explicit sync. put() and erase() take effect at once
// for reads on this node but are NOT durable: a crash may lose any write made after the last
// completed sync, and may keep a prefix of them (a torn tail). sync(done) makes every earlier
// write durable and then calls done on the event loop. Reads are synchronous.
//
// In io_real this is RocksDB with a synced WAL; in io_sim an in-memory map that keeps only what
// was synced when the node crashes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env/status.h"

namespace shoal {

class Disk {
 public:
  virtual ~Disk() = default;

  virtual void put(std::string key, std::string value) = 0;
  // put() of every pair, in order. An implementation may make them one write that a crash keeps
  // whole or loses whole (RocksDisk: one WriteBatch, which also costs far less than one write
  // per pair); a caller must not count on that.
  virtual void put_all(std::vector<std::pair<std::string, std::string>> pairs) {
    for (auto& [key, value] : pairs) put(std::move(key), std::move(value));
  }
  virtual void erase(std::string key) = 0;
  // Erases every key in [begin, end).
  virtual void erase_range(std::string begin, std::string end) = 0;
  virtual void sync(std::function<void(Status)> done) = 0;

  virtual std::optional<std::string> get(std::string_view key) const = 0;
  // Calls fn(key, value) for every key in [begin, end) in key order; stops when fn returns false.
  virtual void scan(std::string_view begin, std::string_view end,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const = 0;
};

}  // namespace shoal
