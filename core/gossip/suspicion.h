// Suspicion: one member's suspicion of another, with Lifeguard's dynamic timeout.
//
// A suspicion starts at the max timeout and shrinks toward the min as independent confirmations
// (suspect messages from distinct members) arrive, up to k of them:
//
//   timeout(c) = max - log(c + 1) / log(k + 1) * (max - min),  never below min
//
// where min = suspicion_mult * max(1, log10(n)) * probe_interval and max = max_mult * min
// (hashicorp/memberlist's suspicion.go, the Lifeguard paper section 4.2). With k < 1 the timeout
// is min from the start. The member that raised the suspicion is not a confirmation.
//
// Pure arithmetic and bookkeeping: the owner (Membership) arms and re-arms the timer.
//
//   Suspicion s(/*from=*/7, /*k=*/2, min, max, now);
//   if (s.confirm(9)) rearm(s.remaining(now));
#pragma once

#include <cstddef>
#include <set>

#include "core/env/time.h"
#include "core/env/transport.h"

namespace shoal::gossip {

// The minimum suspicion timeout for a cluster of n members.
Duration suspicion_timeout(int suspicion_mult, size_t n, Duration probe_interval);

// Lifeguard's timeout after `confirmations` of k, minus the time already elapsed.
Duration remaining_suspicion_time(int confirmations, int k, Duration elapsed, Duration min,
                                  Duration max);

class Suspicion {
 public:
  Suspicion(NodeId from, int k, Duration min, Duration max, MonoTime start);

  // Counts `from` as a confirmation if it is new and fewer than k were counted; true if counted.
  bool confirm(NodeId from);
  // Time left at `now` (zero or negative: it has expired).
  Duration remaining(MonoTime now) const;

  int confirmations() const { return confirmations_; }
  int k() const { return k_; }
  Duration min() const { return min_; }
  Duration max() const { return max_; }
  MonoTime start() const { return start_; }

 private:
  int k_;
  int confirmations_ = 0;
  Duration min_;
  Duration max_;
  MonoTime start_;
  std::set<NodeId> confirmers_;  // includes the member that raised it
};

}  // namespace shoal::gossip
