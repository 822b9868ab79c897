// The shipped knowledge base, loaded once per test binary. Every test that needs real ids uses
// this; loading it reports any knowledge problem as a test failure.
#pragma once

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "knowledge/knowledge.h"

namespace nflux::testing {

inline std::shared_ptr<const knowledge::KnowledgeBase> RealKnowledge() {
  static const std::shared_ptr<const knowledge::KnowledgeBase> kb = [] {
    auto files = knowledge::ReadKnowledgeDir(NFLUX_SOURCE_DIR "/knowledge");
    EXPECT_TRUE(files.ok()) << files.status().message();
    auto outcome = knowledge::LoadKnowledge(files.ok() ? *files : std::vector<knowledge::SourceFile>{});
    for (const auto& problem : outcome.problems) ADD_FAILURE() << problem.ToString();
    return outcome.kb;
  }();
  return kb;
}
inline const knowledge::KnowledgeBase& RealKb() { return *RealKnowledge(); }

}  // namespace nflux::testing
