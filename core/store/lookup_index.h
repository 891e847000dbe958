// LookupIndex and IndexedMap: the store's objects found by key through a hash table.
//
// A std::map lookup among 50,000 configs walks about sixteen nodes, each a cache miss or two
// (the node, then the heap buffer of its key), and every write is looked up in several checks
// and applies on every manager. A hash lookup is one or two misses.
//
// Hash order is unspecified, and traces, snapshots and API listings must not depend on it. So a
// LookupIndex cannot be iterated at all, and an IndexedMap iterates its std::map, in key order;
// the hash table only finds. This file is the one place in core/ allowed std::unordered_map
// (tests/core/core_purity_test.cc; tests/core/store/lookup_index_test.cc checks that a
// LookupIndex has no begin()).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/env/check.h"

namespace shoal::store {

// Key -> value for lookups only: no iteration.
template <typename V>
class LookupIndex {
 public:
  const V* find(const std::string& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  V* find(const std::string& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  void set(const std::string& key, V value) { map_.insert_or_assign(key, std::move(value)); }
  void erase(const std::string& key) { map_.erase(key); }
  void clear() { map_.clear(); }
  size_t size() const { return map_.size(); }

 private:
  std::unordered_map<std::string, V> map_;
};

// The subset of std::map<std::string, V> the store uses, iterated in key order, with find(),
// count(), at(), erase() and operator[] on an existing key answered by the hash index of
// iterators (std::map iterators stay valid until their element is erased).
template <typename V>
class IndexedMap {
 public:
  using Map = std::map<std::string, V>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;
  using mapped_type = V;

  IndexedMap() = default;
  // Copying would leave the index pointing into the other map.
  IndexedMap(const IndexedMap&) = delete;
  IndexedMap& operator=(const IndexedMap&) = delete;

  const Map& ordered() const { return map_; }
  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

  iterator find(const std::string& key) {
    const iterator* it = index_.find(key);
    return it ? *it : map_.end();
  }
  const_iterator find(const std::string& key) const {
    const iterator* it = index_.find(key);
    return it ? const_iterator(*it) : map_.end();
  }
  size_t count(const std::string& key) const { return index_.find(key) ? 1 : 0; }
  const V& at(const std::string& key) const {
    const iterator* it = index_.find(key);
    SHOAL_CHECK(it != nullptr, "IndexedMap::at: no key %s", key.c_str());
    return (*it)->second;
  }
  V& operator[](const std::string& key) {
    if (iterator* it = index_.find(key)) return (*it)->second;
    iterator it = map_.emplace(key, V{}).first;
    index_.set(key, it);
    return it->second;
  }
  size_t erase(const std::string& key) {
    const iterator* found = index_.find(key);
    if (!found) return 0;
    const iterator victim = *found;
    index_.erase(key);  // first: `key` may be the erased element's own id
    map_.erase(victim);
    return 1;
  }
  void clear() {
    map_.clear();
    index_.clear();
  }

 private:
  Map map_;
  LookupIndex<iterator> index_;
};

}  // namespace shoal::store
