// Commits a transaction to a bare store::Store as Raft would: as the next entry, returning the
// store's verdict on it. For tests of what sits on the store without a Raft beneath it.
#pragma once

#include <cstdint>

#include "core/api/store.pb.h"
#include "core/env/status.h"
#include "core/store/store.h"

namespace shoal::testing {

inline Status commit_to_store(store::Store& store, uint64_t& last_index, const storepb::Transaction& tx) {
  raft::raftpb::Entry e;
  e.set_index(++last_index);
  e.set_term(1);
  e.set_data(tx.SerializeAsString());
  store.apply(e);
  return store.take_result(last_index);
}

}  // namespace shoal::testing
