// StorePool: the bound on open connections, waiting for a lease to end, discarding a broken
// connection, and an opening error that leaves nothing counted.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "store/store.h"
#include "store/store_test_support.h"

namespace nflux::store {
namespace {

using testing::TempDatabase;

TEST(StorePool, NeverOpensMoreThanItsBoundAndAThirdWaiterGetsAReturnedConnection) {
  TempDatabase temp;
  StorePool pool(temp.path(), Mode::kReadWrite, 2);
  auto first = pool.Acquire();
  auto second = pool.Acquire();
  ASSERT_TRUE(first.ok() && second.ok()) << (first.ok() ? second.status() : first.status()).message();
  EXPECT_EQ(pool.open(), 2u);
  Store* first_connection = &**first;

  std::atomic<bool> got_third{false};
  Store* third_connection = nullptr;
  std::thread waiter([&] {
    auto third = pool.Acquire();
    ASSERT_TRUE(third.ok());
    third_connection = &**third;
    got_third = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(got_third) << "a third lease while two are out";
  { auto returned = std::move(*first); }  // the lease ends: its connection goes back
  waiter.join();
  EXPECT_TRUE(got_third);
  EXPECT_EQ(third_connection, first_connection);  // reused, not a new one
  EXPECT_EQ(pool.open(), 2u);

  // Every connection reads and writes the one database.
  ASSERT_TRUE((*second)->AddCaseVersion({.case_id = "c-1", .submitted = "{}", .normalised = "{}"}, {}).ok());
  auto again = pool.Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->GetCaseVersion("c-1", 0).ok());
}

TEST(StorePool, ADiscardedConnectionIsClosedAndReplaced) {
  TempDatabase temp;
  StorePool pool(temp.path(), Mode::kReadWrite, 1);
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    lease->Discard();
  }
  EXPECT_EQ(pool.open(), 0u);
  auto fresh = pool.Acquire();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(pool.open(), 1u);
}

TEST(StorePool, AConnectionThatCannotOpenIsAnErrorAndCountsNothing) {
  TempDatabase temp;
  StorePool pool(temp.dir() + "/missing.db", Mode::kReadOnly, 1);
  auto lease = pool.Acquire();
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(pool.open(), 0u);
  auto again = pool.Acquire();  // the bound is not used up by the failure
  EXPECT_FALSE(again.ok());
}

}  // namespace
}  // namespace nflux::store
