// Internal: the working memory of an evaluation (per-thread slots stamped with a generation).
#pragma once

#include <cstdint>

namespace nflux::inference {

// Test hook: sets the calling thread's generation counter, so a test can run evaluations across
// its wrap-around without 2^32 evaluations first.
void SetThreadGenerationForTesting(uint32_t generation);

}  // namespace nflux::inference
