// What the control API's tests share: a Store driven as Raft drives it (each transaction a
// committed entry at the next index, its outcome taken back), a manual clock for the `now_ns`
// the API is given, a seeded Crypto for the ids it makes, and small builders of specs and of
// objects put into the store directly (with ids a test chooses, for the prefix rules).
#pragma once

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/store/store.h"
#include "io_sim/world/sim_crypto.h"
#include "tests/core/manual_env.h"
#include "tests/core/store_commit.h"

namespace shoal::controlapi::test {

namespace storepb = ::shoal::storepb;

inline bool same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// A replicated service running `command`, named `name`.
inline storepb::ServiceSpec service_spec(const std::string& name, std::vector<std::string> command = {"/bin/sleep", "60"},
                                         uint64_t replicas = 1) {
  storepb::ServiceSpec spec;
  spec.mutable_annotations()->set_name(name);
  for (auto& arg : command) spec.mutable_task()->mutable_container()->add_command(std::move(arg));
  spec.mutable_replicated()->set_replicas(replicas);
  return spec;
}

class StoreHarness {
 public:
  // Applies `tx` as the next committed entry and returns the store's verdict on it.
  Status commit(const storepb::Transaction& tx) {
    return testing::commit_to_store(store, index_, tx);
  }
  // Puts an object straight into the store (as the orchestrator or the founding would).
  template <typename SetObject>
  void put(storepb::StoreAction::Kind kind, SetObject set) {
    storepb::Transaction tx;
    tx.set_now_ns(now());
    auto* a = tx.add_actions();
    a->set_kind(kind);
    set(*a);
    Status s = commit(tx);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void put_service(const std::string& id, const std::string& name) {
    put(storepb::StoreAction::CREATE, [&](storepb::StoreAction& a) {
      a.mutable_service()->set_id(id);
      *a.mutable_service()->mutable_spec() = service_spec(name);
      a.mutable_service()->set_spec_version(1);
    });
  }
  void put_node(const std::string& id, const std::string& hostname, storepb::NodeRole role,
                storepb::NodeObject::State state = storepb::NodeObject::READY) {
    put(storepb::StoreAction::CREATE, [&](storepb::StoreAction& a) {
      storepb::NodeObject* n = a.mutable_node();
      n->set_id(id);
      n->set_hostname(hostname);
      n->set_role(role);
      n->mutable_spec()->set_desired_role(role);
      n->set_state(state);
    });
  }
  // The whole replicated state, to show that a refusal changed nothing.
  std::string state() const { return store.snapshot(); }
  int64_t now() const { return clock.wall_now_unix_ns(); }
  void advance(Duration d) { clock.now += d; }

  store::Store store;
  shoal::test::ManualClock clock;
  sim::SimCrypto crypto{7};

 private:
  uint64_t index_ = 0;
};

}  // namespace shoal::controlapi::test
