// Test helpers shared by every engine test (as leveldb's util/testutil.h): assertions on Status
// and Result<T> that print the error message when they fail, and the fixture knowledge base.
#pragma once

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "base/status.h"
#include "knowledge/knowledge.h"

namespace nflux::testing {

inline Status StatusOf(const Status& status) { return status; }
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

// The fixture knowledge base of tests/fixtures/knowledge (a small, hand-kept extract of the shipped
// one; see tests/fixtures/README.md), loaded once per test binary. Engine unit tests use it so
// that they test the engine, not the shipped content; any load problem fails the test.
inline std::shared_ptr<const knowledge::KnowledgeBase> FixtureKnowledge() {
  static const std::shared_ptr<const knowledge::KnowledgeBase> kb = [] {
    auto files = knowledge::ReadKnowledgeDir(NFLUX_SOURCE_DIR "/tests/fixtures/knowledge");
    EXPECT_TRUE(files.ok()) << files.status().message();
    auto outcome = knowledge::LoadKnowledge(files.ok() ? *files : std::vector<knowledge::SourceFile>{});
    EXPECT_TRUE(files.ok() && !files->empty()) << "no fixture knowledge files";
    for (const auto& problem : outcome.problems) ADD_FAILURE() << problem.ToString();
    return outcome.kb;
  }();
  return kb;
}

}  // namespace nflux::testing

// ASSERT_OK(expr) / EXPECT_OK(expr): expr is a Status or a Result<T>; on failure the message of
// the error is printed.
#define ASSERT_OK(expr)                                                             \
  do {                                                                              \
    const ::nflux::Status nflux_status_ = ::nflux::testing::StatusOf(expr);         \
    ASSERT_TRUE(nflux_status_.ok()) << #expr << ": " << nflux_status_.message();    \
  } while (0)
#define EXPECT_OK(expr)                                                             \
  do {                                                                              \
    const ::nflux::Status nflux_status_ = ::nflux::testing::StatusOf(expr);         \
    EXPECT_TRUE(nflux_status_.ok()) << #expr << ": " << nflux_status_.message();    \
  } while (0)
