// The flux tests' reading of one index of a result.
#pragma once

#include <cmath>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "flux/flux.h"

namespace nflux::flux {

// The index under `key`. A key the model does not have fails the test and reads as NaN, which
// fails every comparison: no check passes on an unknown key.
inline double Index(const FluxResult& r, const std::string& key) {
  std::optional<double> value = r.Value(key);
  EXPECT_TRUE(value.has_value()) << "unknown flux index " << key;
  return value.value_or(std::nan(""));
}

}  // namespace nflux::flux
