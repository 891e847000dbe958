// LookupIndex and IndexedMap (core/store/lookup_index.h): hash lookups that can never leak hash
// order, and an ordered map whose index stays in step with it.
#include "core/store/lookup_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shoal::store {
namespace {

template <typename T>
concept Iterable = requires(T t) { t.begin(); };

// The reason a LookupIndex may be a hash table in core/: nothing can walk it.
static_assert(!Iterable<LookupIndex<std::string>>, "a LookupIndex must not be iterable");
static_assert(Iterable<IndexedMap<std::string>>);

TEST(LookupIndex, FindsWhatWasSetAndForgetsWhatWasErased) {
  LookupIndex<std::string> names;
  EXPECT_EQ(names.find("web"), nullptr);
  names.set("web", "id1");
  names.set("web", "id2");  // replaces
  ASSERT_NE(names.find("web"), nullptr);
  EXPECT_EQ(*names.find("web"), "id2");
  EXPECT_EQ(names.size(), 1u);
  names.erase("web");
  EXPECT_EQ(names.find("web"), nullptr);
}

TEST(IndexedMap, IteratesInKeyOrderWhateverTheInsertionOrder) {
  IndexedMap<int> m;
  for (const char* k : {"m", "c", "x", "a", "q"}) m[k] = static_cast<int>(k[0]);
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "c", "m", "q", "x"}));
  EXPECT_EQ(m.ordered().size(), 5u);
}

TEST(IndexedMap, FindEraseAndAtStayInStepWithTheMap) {
  IndexedMap<std::string> m;
  for (int i = 0; i < 1000; ++i) m["k" + std::to_string(i)] = "v" + std::to_string(i);
  for (int i = 0; i < 1000; i += 2) EXPECT_EQ(m.erase("k" + std::to_string(i)), 1u);
  EXPECT_EQ(m.erase("k0"), 0u) << "already gone";
  EXPECT_EQ(m.size(), 500u);
  for (int i = 0; i < 1000; ++i) {
    const std::string k = "k" + std::to_string(i);
    auto it = m.find(k);
    if (i % 2 == 0) {
      EXPECT_EQ(it, m.end()) << k;
      EXPECT_EQ(m.count(k), 0u);
    } else {
      ASSERT_NE(it, m.end()) << k;
      EXPECT_EQ(it->first, k);
      EXPECT_EQ(m.at(k), "v" + std::to_string(i));
    }
  }
  m["k1"] = "changed";  // an existing key: no second element
  EXPECT_EQ(m.size(), 500u);
  EXPECT_EQ(m.find("k1")->second, "changed");
  // Erasing by the element's own key (a reference into the element) is safe.
  const std::string& own = m.find("k3")->first;
  EXPECT_EQ(m.erase(own), 1u);
  EXPECT_EQ(m.find("k3"), m.end());
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find("k5"), m.end());
}

}  // namespace
}  // namespace shoal::store
