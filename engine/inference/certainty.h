// Internal: the certainty-factor algebra (MYCIN), kept apart so it can be tested alone. The one
// implementation: the engine combines evidence with it, and explain (what-would-it-add) reuses it.
#pragma once

#include <algorithm>

namespace nflux::inference {

// x ⊕ y for two pieces of evidence of the same direction, both in [0, 1]. Commutative and
// associative, so the order rules fire in does not matter.
inline double CombineSameSign(double x, double y) { return x + y - x * y; }

// Evidence for (P) and against (N), each already combined, into one certainty in [0, 1].
inline double CombineForAgainst(double support, double against) {
  double denominator = 1 - std::min(support, against);
  if (denominator <= 0) return 0;  // full certainty both ways: no conclusion
  return std::max(0.0, (support - against) / denominator);
}

}  // namespace nflux::inference
