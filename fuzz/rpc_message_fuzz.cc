// Every protobuf message the transport accepts from another node: the RPC frame itself, then
// each request body a manager parses (join, renew, forwarded transaction, read index), fed with
// arbitrary bytes. A forwarded transaction that parses is checked and applied to a store that
// already holds objects, and the store must stay consistent (its snapshot round-trips).
#include <cstddef>
#include <cstdint>
#include <string>

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
    raft::raftpb::Entry e;
    e.set_index(1);
    e.set_data(tx.SerializeAsString());
    st->apply(e);
    return st;
  }();
  return *s;
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
  const uint8_t kind = data[0] % 6;
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
                      copy.secrets().size() == st.secrets().size() && copy.last_index() == st.last_index(),
                  "a store's snapshot must round-trip");
      break;
    }
  }
  return 0;
}
