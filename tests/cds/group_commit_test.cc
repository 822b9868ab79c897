// Group commit of the service's store writes: writes queued while a transaction is written share
// the next one; each writer gets its own status; a failing write costs only itself.
#include "cds/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <chrono>
#include <thread>
#include <vector>

#include "store/store_test_support.h"
#include "testutil.h"

namespace nflux::cds {
namespace {

using store::testing::OpenOrFail;
using store::testing::SampleRun;
using store::testing::TempDatabase;

Status SaveSampleRun(store::Store& store) {
  auto id = store.SaveRun(SampleRun("c-1", 1));
  return id.ok() ? Status::Ok() : id.status();
}

// Until `count` writers wait in the queue (the leader among them).
void AwaitWaiting(const GroupCommit& commit, size_t count) {
  while (commit.waiting() < count) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// A store with case c-1 stored, ready for runs of it; TearDown checks the chain.
class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion({.case_id = "c-1", .submitted = "{}", .normalised = "{}"}, {}));
  }
  void TearDown() override {
    if (store == nullptr) return;
    auto report = store->Verify();
    ASSERT_OK(report);
    EXPECT_TRUE(report->ok());
  }

  TempDatabase temp;
  std::unique_ptr<store::Store> store;  // the test's own connection, to set up and check
  store::StorePool stores{temp.path(), store::Mode::kReadWrite, 2};  // the group commit's
};

TEST_F(GroupCommitTest, WritesQueuedDuringATransactionShareTheNextAndEachGetsItsStatus) {
  GroupCommit commit(stores);

  constexpr int kFollowers = 7;
  std::atomic<bool> release{false};
  Status first = Status::Ok();
  // The first writer leads alone and holds its transaction open until every follower is queued.
  std::thread leader([&] {
    first = commit.Write([&](store::Store& s) {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return SaveSampleRun(s);
    });
  });
  AwaitWaiting(commit, 1);
  std::vector<Status> statuses(kFollowers, Status::Ok());
  std::vector<std::thread> followers;
  for (int i = 0; i < kFollowers; ++i)
    followers.emplace_back([&, i] {
      statuses[i] = commit.Write([i](store::Store& s) {
        if (i == 3) return Status::InvalidArgument("write 3 refused");  // costs only itself
        return SaveSampleRun(s);
      });
    });
  AwaitWaiting(commit, 1 + kFollowers);
  release = true;
  leader.join();
  for (auto& thread : followers) thread.join();

  EXPECT_OK(first);
  for (int i = 0; i < kFollowers; ++i) {
    if (i == 3) {
      EXPECT_EQ(statuses[i].message(), "write 3 refused");
    } else {
      EXPECT_TRUE(statuses[i].ok()) << "writer " << i << ": " << statuses[i].message();
    }
  }
  EXPECT_EQ(commit.transactions(), 2u);  // the leader's, then all seven followers together
  EXPECT_EQ(commit.waiting(), 0u);
  auto runs = store->ListRuns(std::nullopt);
  ASSERT_OK(runs);
  EXPECT_EQ(runs->size(), 1u + kFollowers - 1);
}

TEST_F(GroupCommitTest, ManyThreadsStoreEveryRunOnceInAGapFreeChain) {
  GroupCommit commit(stores, 4);
  constexpr int kThreads = 8, kWritesEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kWritesEach; ++i)
        if (!commit.Write(SaveSampleRun).ok()) ++failures;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  auto runs = store->ListRuns(std::nullopt);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), static_cast<size_t>(kThreads * kWritesEach));
  for (size_t i = 0; i < runs->size(); ++i) EXPECT_EQ((*runs)[i].id, static_cast<int64_t>(i + 1));
}

}  // namespace
}  // namespace nflux::cds
