#include "core/raft/progress.h"

#include <algorithm>

namespace shoal::raft {

void Progress::become_probe() {
  if (state == State::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = State::kProbe;
  pending_snapshot = 0;
  probe_sent = false;
  inflights.reset();
}

void Progress::become_replicate() {
  state = State::kReplicate;
  next = match + 1;
  probe_sent = false;
  inflights.reset();
}

void Progress::become_snapshot(uint64_t snapshot_index) {
  state = State::kSnapshot;
  pending_snapshot = snapshot_index;
  probe_sent = false;
  inflights.reset();
}

bool Progress::maybe_update(uint64_t n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::maybe_decr_to(uint64_t rejected, uint64_t hint) {
  if (state == State::kReplicate) {
    if (rejected <= match) return false;  // stale rejection
    next = match + 1;
    return true;
  }
  if (next - 1 != rejected) return false;  // stale rejection
  // Never below match + 1: a rejection delayed past later acknowledgements carries an old hint.
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state) {
    case State::kProbe: return probe_sent;
    case State::kReplicate: return inflights.full();
    case State::kSnapshot: return true;
  }
  return true;
}

const char* to_string(Progress::State s) {
  switch (s) {
    case Progress::State::kProbe: return "probe";
    case Progress::State::kReplicate: return "replicate";
    case Progress::State::kSnapshot: return "snapshot";
  }
  return "?";
}

}  // namespace shoal::raft
