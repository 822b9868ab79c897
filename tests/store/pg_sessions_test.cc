// A PostgreSQL store connection whose session ended while it sat idle (the server restarted, an
// administrator ended it, a pool kept it through an outage): its next read and its next transaction
// run on a new session, so that the first request after an outage does not fail; a transaction
// that was open when its session ended is gone, and its writes fail with nothing written.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/pg_cluster.h"
#include "store/store.h"
#include "store/store_test_support.h"
#include "testutil.h"

namespace nflux::store {
namespace {

using testing::OpenOrFail;
using testing::PgCluster;
using testing::PgRaw;

CaseVersion Visit(const std::string& case_id) { return {.case_id = case_id, .submitted = "{}", .normalised = "{}"}; }

TEST(StorePostgresSessions, AnIdleConnectionWhoseSessionEndedReadsAndWritesOnANewOne) {
  const std::string url = testing::NewDatabaseUrl("store_postgres_sessions");
  ASSERT_FALSE(url.empty());
  auto store = OpenOrFail(url);
  ASSERT_NE(store, nullptr);
  PgRaw admin(*PgCluster::Url());  // on the cluster's own database, so never ended here
  const std::string on_database = "SELECT pid FROM pg_stat_activity WHERE datname = '" + testing::PgUrlDatabase(url) + "'";
  const std::string sessions = "SELECT count(*) FROM (" + on_database + ") s";
  // Ends the store's session behind its back and waits until the server has let it go. (The pids
  // first: in one WHERE the server may call pg_terminate_backend before it filters.)
  auto end_session = [&] {
    EXPECT_EQ(admin.Int("WITH s AS MATERIALIZED (" + on_database + ") SELECT count(pg_terminate_backend(pid)) FROM s"), 1);
    for (int i = 0; i < 1000 && admin.Int(sessions) > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(admin.Int(sessions), 0);
  };

  ASSERT_OK(store->AddCaseVersion(Visit("c-1"), {}));
  ASSERT_OK(store->ListCases());  // prepared on the first session
  end_session();
  auto cases = store->ListCases();  // a statement prepared before, run again on a new session
  ASSERT_OK(cases);
  EXPECT_EQ(cases->size(), 1u);
  end_session();
  EXPECT_OK(store->Ping());  // a statement prepared on the new session
  end_session();
  ASSERT_OK(store->AddCaseVersion(Visit("c-2"), {}));  // a write: its transaction begins on a new session
  EXPECT_EQ(admin.Int(sessions), 1);  // one session again, not one per retry

  // A batch whose session ends: what it wrote is gone and its next write fails.
  ASSERT_OK(store->BeginBatch());
  ASSERT_OK(store->AddCaseVersion(Visit("c-3"), {}));
  end_session();
  auto lost = store->AddCaseVersion(Visit("c-4"), {});
  ASSERT_FALSE(lost.ok());
  EXPECT_NE(lost.status().message().find("connection"), std::string::npos) << lost.status().message();
  store->RollbackBatch();
  cases = store->ListCases();
  ASSERT_OK(cases);
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[0].case_id, "c-1");
  EXPECT_EQ((*cases)[1].case_id, "c-2");
  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->case_versions, 2);
}

}  // namespace
}  // namespace nflux::store
