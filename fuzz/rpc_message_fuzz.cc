// Every protobuf message the transport accepts from another node: the RPC frame itself, then
// each request body a manager parses (join, renew, forwarded transaction, read index, a worker
// session's heartbeat, assignments and status report), fed with arbitrary bytes. A forwarded transaction that parses is checked and applied to a store that
// already holds objects, and the store must stay consistent (its snapshot round-trips).
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <set>
#include <string>

#include "core/api/dispatcher.pb.h"
#include "core/api/manager.pb.h"
#include "core/api/rpc.pb.h"
#include "core/api/store.pb.h"
#include "core/ca/join_tokens.h"
#include "core/env/check.h"
#include "core/store/store.h"
#include <google/protobuf/stubs/logging.h>

using namespace shoal;

namespace {

store::Store& seeded_store() {
  static store::Store* s = [] {
    auto* st = new store::Store();
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->mutable_cluster()->set_id("cluster");
    auto* c = tx.add_actions();
    c->mutable_config()->set_id("c1");
    c->mutable_config()->mutable_spec()->set_name("web");
    auto* n = tx.add_actions();
    n->mutable_node()->set_id("0000000000000001");
    auto* svc = tx.add_actions();
    svc->mutable_service()->set_id("s1");
    svc->mutable_service()->mutable_spec()->mutable_annotations()->set_name("web");
    auto* t = tx.add_actions();
    t->mutable_task()->set_id("t1");
    t->mutable_task()->set_service_id("s1");
    t->mutable_task()->set_node_id("0000000000000001");
    t->mutable_task()->mutable_status()->set_state(storepb::RUNNING);
    raft::raftpb::Entry e;
    e.set_index(1);
    e.set_data(tx.SerializeAsString());
    st->apply(e);
    return st;
  }();
  return *s;
}

// Checks and applies tx to the seeded store; the store must stay consistent.
void apply_and_check(const storepb::Transaction& tx) {
  store::Store& st = seeded_store();
  const Status verdict = st.check(tx);
  raft::raftpb::Entry e;
  e.set_index(st.last_index() + 1);
  e.set_data(tx.SerializeAsString());
  st.apply(e);
  const Status applied = st.take_result(e.index());
  SHOAL_CHECK(verdict.ok() == applied.ok(), "check and apply must agree");
  store::Store copy;
  copy.restore(st.snapshot());
  SHOAL_CHECK(copy.nodes().size() == st.nodes().size() && copy.configs().size() == st.configs().size() &&
                  copy.secrets().size() == st.secrets().size() && copy.last_index() == st.last_index() &&
                  copy.services().size() == st.services().size() && copy.tasks().size() == st.tasks().size(),
              "a store's snapshot must round-trip");
  // The indexes by service and by node hold every task exactly where it is.
  std::set<std::string> service_ids;
  for (const auto& [id, t] : st.tasks()) {
    service_ids.insert(t.service_id());
    const auto of_service = st.tasks_of_service(t.service_id());
    SHOAL_CHECK(std::count(of_service.begin(), of_service.end(), &t) == 1, "task missing from its service index");
    if (t.node_id().empty()) continue;
    const auto on_node = st.tasks_on_node(t.node_id());
    SHOAL_CHECK(std::count(on_node.begin(), on_node.end(), &t) == 1, "task missing from its node index");
  }
  size_t indexed = 0;
  for (const auto& id : service_ids) indexed += st.tasks_of_service(id).size();
  SHOAL_CHECK(indexed == st.tasks().size(), "the service index holds tasks that are gone");
}

template <typename Msg>
void parse_and_round_trip(const uint8_t* data, size_t size) {
  Msg m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return;
  Msg again;
  SHOAL_CHECK(again.ParseFromString(m.SerializeAsString()), "a parsed message must re-parse");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every invalid UTF-8 string it refuses; the refusal is what we test, not the log.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const uint8_t kind = data[0] % 9;
  ++data;
  --size;
  switch (kind) {
    case 0: parse_and_round_trip<rpcpb::RpcFrame>(data, size); break;
    case 1: {
      managerpb::JoinRequest req;
      if (!req.ParseFromArray(data, static_cast<int>(size))) break;
      static const ca::JoinTokens tokens = [] {
        ca::JoinToken manager, worker;
        manager.ca_digest.fill(7);
        worker.ca_digest.fill(7);
        manager.secret.fill(1);
        worker.secret.fill(2);
        return *ca::JoinTokens::from_tokens(ca::format_join_token(manager), ca::format_join_token(worker));
      }();
      tokens.admit(req.token()).status().ignore();
      break;
    }
    case 2: parse_and_round_trip<managerpb::RenewRequest>(data, size); break;
    case 3: parse_and_round_trip<managerpb::ForwardedResult>(data, size); break;
    case 4: parse_and_round_trip<managerpb::NodeInfoResponse>(data, size); break;
    case 5: {
      managerpb::ForwardedTransaction fwd;
      storepb::Transaction tx;
      if (!fwd.ParseFromArray(data, static_cast<int>(size)) || !tx.ParseFromString(fwd.transaction())) {
        // Also try the bytes as a transaction directly, so the fuzzer reaches the store quickly.
        if (!tx.ParseFromArray(data, static_cast<int>(size))) break;
      }
      apply_and_check(tx);
      break;
    }
    case 6: parse_and_round_trip<dispatcherpb::HeartbeatRequest>(data, size); break;
    case 7: parse_and_round_trip<dispatcherpb::AssignmentsResponse>(data, size); break;
    case 8: {
      // An agent's status report, as the dispatcher turns it into a transaction.
      dispatcherpb::StatusReport report;
      if (!report.ParseFromArray(data, static_cast<int>(size))) break;
      storepb::Transaction tx;
      for (const auto& u : report.updates()) {
        auto* a = tx.add_actions();
        a->set_kind(storepb::StoreAction::UPDATE);
        *a->mutable_task_status() = u;
      }
      apply_and_check(tx);
      break;
    }
  }
  return 0;
}

