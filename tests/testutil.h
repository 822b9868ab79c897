// Test helpers shared by every engine test (as leveldb's util/testutil.h): assertions on Status
// and Result<T> that print the error message when they fail, and the fixture knowledge base.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/status.h"
#include "golden/golden.h"
#include "knowledge/knowledge.h"

namespace nflux::testing {

// A fresh folder under the system's temporary one ("nflux_NAME_PID"), removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("nflux_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The golden cases' files (rules/tests/*.case.json) as `nflux rules test` finds them, in name
// order: for the tests that walk every one. A folder that cannot be listed fails the test.
inline std::vector<std::filesystem::path> GoldenCaseFiles() {
  const golden::Layout layout = golden::GoldenLayout(NFLUX_SOURCE_DIR "/rules/tests");
  auto names = golden::FindCases(layout);
  EXPECT_TRUE(names.ok()) << names.status().message();
  std::vector<std::filesystem::path> files;
  if (names.ok())
    for (const auto& name : *names) files.emplace_back(layout.CasePath(name));
  return files;
}

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
