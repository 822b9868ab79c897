// Shared by the libFuzzer targets (tests/fuzz/*.cc): the shipped knowledge and rules, opened once
// per process through the pipeline facade, and the check that stops a run on a broken invariant.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "pipeline/pipeline.h"

namespace nflux::fuzz {

// The pipeline on the repository's knowledge/ and rules/ (NFLUX_SOURCE_DIR), from the sources.
inline const pipeline::Pipeline& Shipped() {
  static const pipeline::Pipeline* pipeline = [] {
    pipeline::Options options;
    options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
    options.rules_dir = NFLUX_SOURCE_DIR "/rules";
    auto opened = pipeline::Pipeline::Open(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "cannot open the shipped pipeline: %s\n", opened.status().message().c_str());
      std::abort();
    }
    return opened->release();  // kept for the process: the fuzzer runs until it is stopped
  }();
  return *pipeline;
}

// Stops the run (libFuzzer saves the input) when `holds` is false: an invariant, not bad input.
inline void Require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

inline std::string_view Text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace nflux::fuzz
