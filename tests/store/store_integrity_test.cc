// Tests for the store's integrity: Verify() names exactly what was changed behind its back; a
// locked database fails with the locked message and stays byte-identical; several processes store
// runs at once; SIGKILL at random points leaves a database that opens, checks and verifies.
//
// Forked children never use gtest assertions: they _exit(0) only when every save returned ok.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "store/store.h"
#include "store/store_test_support.h"

namespace nflux::store {
namespace {

using testing::OpenOrFail;
using testing::RawConnection;
using testing::ReadBytes;
using testing::SampleRules;
using testing::SampleRun;
using testing::TempDatabase;

CaseVersion Version(const std::string& case_id, const std::string& submitted) {
  return CaseVersion{.case_id = case_id, .actor = "dr_who", .submitted = submitted, .normalised = "{\"n\": 1}"};
}

// Case c-1 versions 1 and 2 (audit entries 1, 2) and runs 1-3 (entries 3-5), run-2 of version 2.
void FillSample(Store& store) {
  ASSERT_OK(store.AddCaseVersion(Version("c-1", "{\"visit\": 1, \"labs\": []}"), {}));
  ASSERT_OK(store.AddCaseVersion(Version("c-1", "{\"visit\": 2, \"labs\": []}"), {}));
  ASSERT_OK(store.SaveRun(SampleRun("c-1", 1, 1)));
  ASSERT_OK(store.SaveRun(SampleRun("c-1", 2, 2)));
  ASSERT_OK(store.SaveRun(SampleRun("c-1", 2, 3)));
}

std::string FirstProblem(const Store& store) {
  auto report = store.Verify();
  EXPECT_TRUE(report.ok()) << report.status().message();
  if (!report.ok() || report->ok()) return "(no problem)";
  return report->problems.front();
}

TEST(StoreTamper, VerifyNamesWhatChanged) {
  const std::string sleep_hash = ContentHash(SampleRules().files[1].text);
  struct Case {
    const char* name;
    std::function<void(RawConnection&)> tamper;
    std::string prefix;  // of the first problem
  };
  const Case cases[] = {
      {"a run's evaluation bytes", [](RawConnection& raw) { raw.FlipByte("runs", "evaluation", "id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's trace bytes", [](RawConnection& raw) { raw.FlipByte("runs", "trace", "id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's options", [](RawConnection& raw) { raw.Exec("UPDATE runs SET options = '{}' WHERE id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's engine version",
       [](RawConnection& raw) { raw.Exec("UPDATE runs SET engine_version = '0.0.9' WHERE id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's rules version",
       [](RawConnection& raw) { raw.Exec("UPDATE runs SET rules_version = 'sha256:other' WHERE id = 2"); },
       "run-2: its rules version sha256:other is not stored"},
      {"a case version's submitted text",
       [](RawConnection& raw) { raw.FlipByte("case_versions", "submitted", "version = 2", 3); },
       "case c-1 version 2: content hash sha256:"},
      {"a case version's normalised text",
       [](RawConnection& raw) { raw.Exec("UPDATE case_versions SET normalised = '{\"n\": 2}' WHERE version = 2"); },
       "case c-1 version 2: content hash sha256:"},
      {"a case version's text and its hash",
       [](RawConnection& raw) {
         raw.Exec("UPDATE case_versions SET submitted = '{}', content_hash = 'sha256:forged' WHERE version = 2");
       },
       "case c-1 version 2: "},
      {"a rule file's text",
       [&](RawConnection& raw) { raw.Exec("UPDATE blobs SET text = text || ' ' WHERE hash = '" + sleep_hash + "'"); },
       "rules file sleep.rules (blob " + sleep_hash + "): its text does not match its hash"},
      {"a bundle's manifest",
       [](RawConnection& raw) {
         raw.Exec("UPDATE bundles SET manifest = replace(manifest, 'mood.rules', 'Mood.rules') WHERE kind = 'rules'");
       },
       "rules version sha256:rules-v1: its manifest does not match its bundle hash"},
      {"an audit entry's hash",
       [](RawConnection& raw) { raw.Exec("UPDATE audit_log SET entry_hash = 'sha256:00' WHERE sequence = 3"); },
       "audit entry 3: its entry hash does not match"},
      {"an audit entry's content hash",
       [](RawConnection& raw) { raw.Exec("UPDATE audit_log SET content_hash = 'sha256:00' WHERE sequence = 4"); },
       "audit entry 4: its entry hash does not match"},
      {"a deleted audit entry", [](RawConnection& raw) { raw.Exec("DELETE FROM audit_log WHERE sequence = 4"); },
       "audit entry 4: missing (the sequence jumps from 3 to 5)"},
      {"a deleted run", [](RawConnection& raw) { raw.Exec("DELETE FROM runs WHERE id = 2"); }, "run-2: deleted (audit entry 4"},
      {"the last run deleted", [](RawConnection& raw) { raw.Exec("DELETE FROM runs WHERE id = 3"); },
       "run-3: deleted (audit entry 5"},
      {"a deleted case version",
       [](RawConnection& raw) { raw.Exec("PRAGMA foreign_keys = OFF; DELETE FROM case_versions WHERE version = 1"); },
       "case c-1 version 1: deleted (audit entry 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDatabase temp;
    auto store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    FillSample(*store);
    EXPECT_EQ(FirstProblem(*store), "(no problem)");
    {
      RawConnection raw(temp.path());
      c.tamper(raw);
    }
    std::string first = FirstProblem(*store);
    EXPECT_EQ(first.rfind(c.prefix, 0), 0u) << first;
  }
}

// The database file and its WAL, checkpointed into the file first.
std::string Snapshot(const std::string& path) {
  RawConnection raw(path);
  raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return ReadBytes(path) + "|wal:" + ReadBytes(path + "-wal");
}

TEST(StoreAtomicity, LockedDatabaseFailsAndStaysByteIdentical) {
  TempDatabase temp;
  auto store = OpenOrFail(temp.path(), Mode::kReadWrite, 200);
  ASSERT_NE(store, nullptr);
  FillSample(*store);
  const std::string before = Snapshot(temp.path());
  {
    RawConnection other(temp.path());
    other.Exec("BEGIN IMMEDIATE");  // another process holds the write lock
    auto run = store->SaveRun(SampleRun("c-1", 2, 9));
    EXPECT_EQ(run.status().code(), Status::Code::kIOError);
    EXPECT_EQ(run.status().message(),
              temp.path() + ": storing a run of case c-1 version 2: database is locked (the database is locked by "
                            "another process; nothing was written)");
    auto visit = store->AddCaseVersion(Version("c-1", "{}"), {});
    EXPECT_EQ(visit.status().message(),
              temp.path() + ": storing case c-1: database is locked (the database is locked by another process; "
                            "nothing was written)");
    RunToStore new_rules = SampleRun("c-1", 2, 9);
    new_rules.rules = SampleRules("sha256:rules-v2");
    EXPECT_FALSE(store->SaveRun(new_rules).ok());
    other.Exec("ROLLBACK");
  }
  // Compared: the checkpointed file bytes and the (empty) WAL, which covers every row.
  EXPECT_TRUE(Snapshot(temp.path()) == before) << "the database changed";
  // The connection is usable once the lock is gone.
  auto run = store->SaveRun(SampleRun("c-1", 2, 9));
  ASSERT_OK(run);
  EXPECT_EQ(*run, 4);
}

// Each child opens its own store and saves `runs` runs; exit 0 only when every save was ok.
pid_t ForkSaver(const std::string& path, int runs, int child) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int failures = 0;
  {
    auto store = OpenStore(path, Mode::kReadWrite);
    if (!store.ok()) {
      std::fprintf(stderr, "child %d: %s\n", child, store.status().message().c_str());
      _exit(2);
    }
    for (int i = 0; i < runs; ++i) {
      auto id = (*store)->SaveRun(SampleRun("c-1", 1 + (i % 2), child * 1000 + i));
      if (!id.ok()) {
        std::fprintf(stderr, "child %d: %s\n", child, id.status().message().c_str());
        ++failures;
      }
    }
  }
  _exit(failures == 0 ? 0 : 1);
}

TEST(StoreConcurrency, TwoThenFourProcessesStoreRunsAtOnce) {
  TempDatabase temp;
  {
    auto store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion(Version("c-1", "{}"), {}));
    ASSERT_OK(store->AddCaseVersion(Version("c-1", "{\"v\": 2}"), {}));
  }
  int expected_runs = 0;
  for (int processes : {2, 4}) {
    SCOPED_TRACE(processes);
    std::vector<pid_t> children;
    for (int child = 0; child < processes; ++child) children.push_back(ForkSaver(temp.path(), 25, child));
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed: " << status;
    }
    expected_runs += 25 * processes;
    auto store = OpenOrFail(temp.path(), Mode::kReadOnly);
    ASSERT_NE(store, nullptr);
    auto report = store->Verify();
    ASSERT_OK(report);
    EXPECT_TRUE(report->ok()) << report->problems.front();
    EXPECT_EQ(report->runs, expected_runs);
    EXPECT_EQ(report->entries, expected_runs + 2);  // gap-free: Verify checks every sequence number
    RawConnection raw(temp.path());
    EXPECT_EQ(raw.Int("SELECT MAX(sequence) FROM audit_log"), expected_runs + 2);
    EXPECT_EQ(raw.Count("bundles"), 2);
  }
}

// Four children that wait at a gate (a pipe), then open `path` at the same moment and each store
// case c-<n> and 5 runs of it; exit 0 only when all of that was ok.
std::vector<pid_t> ForkOpeners(const std::string& path, const int gate[2]) {
  std::vector<pid_t> children;
  for (int child = 0; child < 4; ++child) {
    pid_t pid = fork();
    if (pid != 0) {
      children.push_back(pid);
      continue;
    }
    close(gate[1]);
    char byte;
    (void)!read(gate[0], &byte, 1);  // returns at EOF: when the parent closes its end
    auto store = OpenStore(path, Mode::kReadWrite);
    if (!store.ok()) {
      std::fprintf(stderr, "child %d: %s\n", child, store.status().message().c_str());
      _exit(2);
    }
    std::string case_id = "c-" + std::to_string(child);
    bool ok = (*store)->AddCaseVersion(Version(case_id, "{}"), {}).ok();
    for (int i = 0; i < 5 && ok; ++i) ok = (*store)->SaveRun(SampleRun(case_id, 1, i)).ok();
    _exit(ok ? 0 : 1);
  }
  return children;
}

// Processes opening one new database at once: exactly one switches it to WAL and migrates it.
// Round 1 races them on a file that does not exist yet; in round 2 the file is a WAL database at
// schema 0 whose write lock the test holds until every child has read schema version 0, so that
// all of them then queue to migrate it (each must re-read the version inside its transaction).
TEST(StoreConcurrency, FourProcessesCreateOneDatabaseAtOnce) {
  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE(round);
    TempDatabase temp;
    std::filesystem::create_directories(temp.dir());
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    // Forked before the test opens any connection: SQLite's lock bookkeeping must not cross a fork.
    std::vector<pid_t> children = ForkOpeners(temp.path(), gate);
    std::unique_ptr<RawConnection> holder;
    if (round == 2) {
      holder = std::make_unique<RawConnection>(temp.path());
      // A WAL database at schema 0 (a table of someone else's, so that the file is not empty).
      holder->Exec("PRAGMA journal_mode = WAL; CREATE TABLE unrelated (x)");
      holder->Exec("BEGIN IMMEDIATE");
    }
    close(gate[0]);
    close(gate[1]);
    if (holder) {
      usleep(300000);
      holder->Exec("ROLLBACK");
      holder.reset();
    }
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed: " << status;
    }
    auto store = OpenOrFail(temp.path(), Mode::kReadOnly);
    ASSERT_NE(store, nullptr);
    auto report = store->Verify();
    ASSERT_OK(report);
    EXPECT_TRUE(report->ok()) << report->problems.front();
    EXPECT_EQ(report->runs, 20);
    EXPECT_EQ(report->case_versions, 4);
    EXPECT_EQ(report->entries, 24);
  }
}

TEST(StoreCrash, SigkillWhileStoringLeavesAConsistentDatabase) {
  TempDatabase temp;
  {
    auto store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion(Version("c-1", "{}"), {}));
    ASSERT_OK(store->AddCaseVersion(Version("c-1", "{\"v\": 2}"), {}));
  }
  const unsigned seed = static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
  std::printf("SIGKILL test seed %u\n", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_us(0, 30000);
  int64_t previous_runs = 0;
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE("seed " + std::to_string(seed) + ", round " + std::to_string(round));
    pid_t pid = ForkSaver(temp.path(), 1 << 30, round);
    usleep(delay_us(random));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    auto store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    {
      RawConnection raw(temp.path());
      EXPECT_EQ(raw.Text("PRAGMA integrity_check"), "ok");
      // No partial run: every run has its audit entry and every run entry its run (Verify checks
      // both ways too).
      EXPECT_EQ(raw.Count("runs"), raw.Int("SELECT COUNT(*) FROM audit_log WHERE kind = 'run'"));
      EXPECT_GE(raw.Count("runs"), previous_runs);
      previous_runs = raw.Count("runs");
    }
    auto report = store->Verify();
    ASSERT_OK(report);
    ASSERT_TRUE(report->ok()) << report->problems.front();
  }
  std::printf("runs stored across 50 killed writers: %lld\n", static_cast<long long>(previous_runs));
}

}  // namespace
}  // namespace nflux::store
