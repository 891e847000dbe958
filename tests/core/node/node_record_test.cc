// A node's record in its sealed store (core/node/node_record.h): what is saved loads back
// whole; a missing, unreadable or incomplete record is refused with an error that says which,
// and loading changes nothing on the disk.
#include "core/node/node_record.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include "io_sim/world/sim_disk.h"

namespace shoal::node {
namespace {

constexpr const char* kRecordKey = "node/record";  // where node_record.h says it is kept

nodepb::NodeRecord full_record() {
  nodepb::NodeRecord r;
  r.set_node_id(0x1234);
  r.set_cluster_id("cluster-1");
  r.set_role(storepb::MANAGER);
  r.set_listen_addr("0.0.0.0:2377");
  r.set_advertise_addr("198.18.0.1:2377");
  r.set_key_pem("-----BEGIN PRIVATE KEY-----\n...");
  r.set_cert_pem("-----BEGIN CERTIFICATE-----\nleaf");
  r.add_trusted_roots_pem("-----BEGIN CERTIFICATE-----\nold root");
  r.add_trusted_roots_pem("-----BEGIN CERTIFICATE-----\nnew root");
  auto* m = r.add_managers();
  m->set_node_id(0x5678);
  m->set_addr("198.18.0.2:2377");
  return r;
}

TEST(NodeRecordTest, ASavedRecordLoadsBackWhole) {
  sim::SimDisk disk;
  const nodepb::NodeRecord saved = full_record();
  save_node_record(disk, saved);
  auto loaded = load_node_record(disk);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*loaded, saved));
  EXPECT_EQ(loaded->trusted_roots_pem_size(), 2);
  EXPECT_EQ(loaded->managers(0).node_id(), 0x5678u);
}

TEST(NodeRecordTest, ANewerSaveReplacesTheRecord) {
  sim::SimDisk disk;
  nodepb::NodeRecord r = full_record();
  save_node_record(disk, r);
  r.set_role(storepb::WORKER);
  r.clear_managers();
  save_node_record(disk, r);
  auto loaded = load_node_record(disk);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->role(), storepb::WORKER);
  EXPECT_EQ(loaded->managers_size(), 0);
}

TEST(NodeRecordTest, AnEmptyDataDirectoryHoldsNoRecord) {
  sim::SimDisk disk;
  auto loaded = load_node_record(disk);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find("holds no node record"), std::string::npos) << loaded.status().message();
}

TEST(NodeRecordTest, ARecordThatDoesNotParseIsCorruptAndLeftAsItIs) {
  sim::SimDisk disk;
  const std::string garbage = "\xff\xff\xff\xff garbage";
  disk.put(kRecordKey, garbage);
  auto loaded = load_node_record(disk);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(loaded.status().message(), "the node record in the data directory does not parse");
  EXPECT_EQ(disk.get(kRecordKey), garbage);
  EXPECT_EQ(disk.live().size(), 1u);
}

// Each part a node cannot run without: a record lacking any one of them is refused.
TEST(NodeRecordTest, ARecordLackingAnyEssentialPartIsCorrupt) {
  const std::vector<std::pair<const char*, void (*)(nodepb::NodeRecord&)>> lacks = {
      {"node id", [](nodepb::NodeRecord& r) { r.clear_node_id(); }},
      {"cluster", [](nodepb::NodeRecord& r) { r.clear_cluster_id(); }},
      {"key", [](nodepb::NodeRecord& r) { r.clear_key_pem(); }},
      {"certificate", [](nodepb::NodeRecord& r) { r.clear_cert_pem(); }},
      {"root CA", [](nodepb::NodeRecord& r) { r.clear_trusted_roots_pem(); }},
  };
  for (const auto& [what, strip] : lacks) {
    sim::SimDisk disk;
    nodepb::NodeRecord r = full_record();
    strip(r);
    save_node_record(disk, r);
    auto loaded = load_node_record(disk);
    ASSERT_FALSE(loaded.ok()) << what;
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << what;
    EXPECT_EQ(loaded.status().message(), "the node record lacks its id, cluster, key, certificate or root CA") << what;
  }
  // What a node can do without (no managers heard of yet, no addresses) is not required.
  sim::SimDisk disk;
  nodepb::NodeRecord r = full_record();
  r.clear_managers();
  r.clear_listen_addr();
  save_node_record(disk, r);
  EXPECT_TRUE(load_node_record(disk).ok());
}

}  // namespace
}  // namespace shoal::node
