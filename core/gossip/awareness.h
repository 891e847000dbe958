// Awareness: Lifeguard's local health multiplier (LHA), a score in [0, max - 1].
//
// A member that is itself struggling (slow, overloaded, behind a bad link) sees its probes fail
// and its nacks go missing; rather than accuse others it slows down: probe interval and probe
// timeout are multiplied by (score + 1). The score rises on a failed probe (by the missed nacks,
// or 1 when no nacks were expected) and when this member has to refute a suspicion of itself,
// and falls by 1 on every successful probe. As memberlist's awareness.go.
//
//   Awareness a(8);
//   a.apply_delta(+2);
//   Duration t = a.scale(probe_timeout);   // 3 * probe_timeout
#pragma once

#include <algorithm>

#include "core/env/time.h"

namespace shoal::gossip {

class Awareness {
 public:
  explicit Awareness(int max) : max_(std::max(1, max)) {}

  void apply_delta(int delta) { score_ = std::clamp(score_ + delta, 0, max_ - 1); }
  int score() const { return score_; }
  Duration scale(Duration d) const { return d * (score_ + 1); }

 private:
  int max_;
  int score_ = 0;
};

}  // namespace shoal::gossip
