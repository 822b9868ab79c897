// Tests for the store's integrity, on both backends (store_backend.h): Verify() names exactly what
// was changed behind its back; a locked database fails with the locked message and stays unchanged;
// several processes store runs at once, and 8 writers in 3 processes keep one gap-free chain;
// SIGKILL at random points leaves a database that opens, checks and verifies.
//
// Forked children never use gtest assertions: they _exit(0) only when every save returned ok, or
// report what they did through a pipe.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/chain.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_test_support.h"

namespace nflux::store {
namespace {

using testing::Backend;
using testing::OpenOrFail;
using testing::RawDatabase;
using testing::SampleRules;
using testing::SampleRun;
using testing::TestDatabase;

NFLUX_BACKEND_SUITE(StoreTamper);
NFLUX_BACKEND_SUITE(StoreAtomicity);
NFLUX_BACKEND_SUITE(StoreConcurrency);
NFLUX_BACKEND_SUITE(StoreCrash);

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

// Each of `cases` on a database of its own: `fill` stores what the case will change, Verify finds
// nothing wrong, the case's `tamper` changes the database behind the store's back, and `check`
// looks at the result through the store that was open.
template <typename Cases, typename Fill, typename Check>
void ForEachTampered(Backend backend, const Cases& cases, Fill fill, Check check) {
  int index = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const TestDatabase database(backend, std::to_string(++index));
    auto store = OpenOrFail(database.location());
    ASSERT_NE(store, nullptr);
    fill(*store);
    if (::testing::Test::HasFatalFailure()) return;  // as an ASSERT in the test itself would
    EXPECT_EQ(FirstProblem(*store), "(no problem)");
    {
      RawDatabase raw(backend, database.location());
      c.tamper(raw);
    }
    check(c, *store, database.location());
  }
}

TEST_P(StoreTamper, VerifyNamesWhatChanged) {
  const std::string sleep_hash = ContentHash(SampleRules().files[1].text);
  struct Case {
    const char* name;
    std::function<void(RawDatabase&)> tamper;
    std::string prefix;  // of the first problem
  };
  const Case cases[] = {
      {"a run's evaluation bytes", [](RawDatabase& raw) { raw.FlipByte("runs", "evaluation", "id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's trace bytes", [](RawDatabase& raw) { raw.FlipByte("runs", "trace", "id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's options", [](RawDatabase& raw) { raw.Exec("UPDATE runs SET options = '{}' WHERE id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's engine version",
       [](RawDatabase& raw) { raw.Exec("UPDATE runs SET engine_version = '0.0.9' WHERE id = 2"); },
       "run-2: content hash sha256:"},
      {"a run's rules version",
       [](RawDatabase& raw) { raw.Exec("UPDATE runs SET rules_version = 'sha256:other' WHERE id = 2"); },
       "run-2: its rules version sha256:other is not stored"},
      {"a case version's submitted text",
       [](RawDatabase& raw) { raw.FlipByte("case_versions", "submitted", "version = 2", 3); },
       "case c-1 version 2: content hash sha256:"},
      {"a case version's normalised text",
       [](RawDatabase& raw) { raw.Exec("UPDATE case_versions SET normalised = '{\"n\": 2}' WHERE version = 2"); },
       "case c-1 version 2: content hash sha256:"},
      {"a case version's text and its hash",
       [](RawDatabase& raw) {
         raw.Exec("UPDATE case_versions SET submitted = '{}', content_hash = 'sha256:forged' WHERE version = 2");
       },
       "case c-1 version 2: "},
      {"a rule file's text",
       [&](RawDatabase& raw) { raw.Exec("UPDATE blobs SET text = text || ' ' WHERE hash = '" + sleep_hash + "'"); },
       "rules file sleep.rules (blob " + sleep_hash + "): its text does not match its hash"},
      {"a bundle's manifest",
       [](RawDatabase& raw) {
         raw.Exec("UPDATE bundles SET manifest = replace(manifest, 'mood.rules', 'Mood.rules') WHERE kind = 'rules'");
       },
       "rules version sha256:rules-v1: its manifest does not match its bundle hash"},
      {"an audit entry's hash",
       [](RawDatabase& raw) { raw.Exec("UPDATE audit_log SET entry_hash = 'sha256:00' WHERE sequence = 3"); },
       "audit entry 3: its entry hash does not match"},
      {"an audit entry's content hash",
       [](RawDatabase& raw) { raw.Exec("UPDATE audit_log SET content_hash = 'sha256:00' WHERE sequence = 4"); },
       "audit entry 4: its entry hash does not match"},
      {"a deleted audit entry", [](RawDatabase& raw) { raw.Exec("DELETE FROM audit_log WHERE sequence = 4"); },
       "audit entry 4: missing (the sequence jumps from 3 to 5)"},
      {"a deleted run", [](RawDatabase& raw) { raw.Exec("DELETE FROM runs WHERE id = 2"); }, "run-2: deleted (audit entry 4"},
      {"the last run deleted", [](RawDatabase& raw) { raw.Exec("DELETE FROM runs WHERE id = 3"); },
       "run-3: deleted (audit entry 5"},
      {"a deleted case version",
       [](RawDatabase& raw) { raw.ExecWithoutForeignKeys("DELETE FROM case_versions WHERE version = 1"); },
       "case c-1 version 1: deleted (audit entry 1"},
  };
  ForEachTampered(backend(), cases, FillSample, [](const Case& c, Store& store, const std::string&) {
    std::string first = FirstProblem(store);
    EXPECT_EQ(first.rfind(c.prefix, 0), 0u) << first;
  });
}

// A run compressed with a dictionary (store.h): changing the dictionary, or which one the run
// names, shows in Verify(), and reading the run then is an error, never other text.
TEST_P(StoreTamper, VerifyNamesAChangedCompressionDictionary) {
  struct Case {
    const char* name;
    std::function<void(RawDatabase&)> tamper;
    std::string prefix;      // of the first problem
    bool run_reads = false;  // GetRun still gives the run (the change is to metadata only)
  };
  const Case cases[] = {
      {"its content", [](RawDatabase& raw) { raw.FlipByte("compression_dictionaries", "content", "id = 1", 20); },
       "dictionary-1: its "},
      {"its content hash",
       [](RawDatabase& raw) { raw.Exec("UPDATE compression_dictionaries SET content_hash = 'sha256:00' WHERE id = 1"); },
       "dictionary-1: its content does not match its hash sha256:00"},
      {"its actor", [](RawDatabase& raw) { raw.Exec("UPDATE compression_dictionaries SET actor = 'dr_no' WHERE id = 1"); },
       "dictionary-1: audit entry 2 records dictionary-1 with content hash", true},
      {"deleted", [](RawDatabase& raw) { raw.Exec("DELETE FROM compression_dictionaries WHERE id = 1"); },
       "dictionary-1: deleted (audit entry 2"},
      {"the run's dictionary", [](RawDatabase& raw) { raw.Exec("UPDATE runs SET dictionary_id = 0 WHERE id = 1"); },
       "run-1: content hash sha256:"},
  };
  auto fill = [](Store& store) {
    ASSERT_OK(store.AddCaseVersion(Version("c-1", "{\"visit\": 1}"), {}));  // audit entry 1
    RunToStore run = SampleRun("c-1", 1, 4);
    std::string trace = Decompress(run.trace.bytes, "trace").value();
    auto dictionary = store.SaveDictionary(run.evaluation + trace, "dr_who");  // entry 2
    ASSERT_OK(dictionary);
    run.trace = CompressText(trace, "the trace", *dictionary).value();
    ASSERT_OK(store.SaveRun(run));  // run-1, entry 3
  };
  ForEachTampered(backend(), cases, fill, [](const Case& c, Store&, const std::string& location) {
    auto fresh = OpenOrFail(location);  // reads the dictionary as it is now
    ASSERT_NE(fresh, nullptr);
    std::string first = FirstProblem(*fresh);
    EXPECT_EQ(first.rfind(c.prefix, 0), 0u) << first;
    EXPECT_EQ(fresh->GetRun(1).ok(), c.run_reads) << fresh->GetRun(1).status().message();
  });
}

// Another writer holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the store's advisory
// lock): every write waits the busy timeout, fails naming the lock, and writes nothing.
TEST_P(StoreAtomicity, LockedDatabaseFailsAndStaysUnchanged) {
  auto store = OpenOrFail(location(), Mode::kReadWrite, 200);
  ASSERT_NE(store, nullptr);
  FillSample(*store);
  RawDatabase raw(backend(), location());
  const std::string before = raw.Contents();
  // SQLite's message and PostgreSQL's (lock_timeout cancels the wait for the lock).
  const std::string locked = backend() == Backend::kSqlite
                                 ? "database is locked (the database is locked by another process; nothing was written)"
                                 : "canceling statement due to lock timeout (the database is locked by another "
                                   "process; nothing was written)";
  {
    RawDatabase other(backend(), location());
    other.TakeWriteLock();
    auto run = store->SaveRun(SampleRun("c-1", 2, 9));
    EXPECT_EQ(run.status().code(), Status::Code::kIOError);
    EXPECT_EQ(run.status().message(), location() + ": storing a run of case c-1 version 2: " + locked);
    auto visit = store->AddCaseVersion(Version("c-1", "{}"), {});
    EXPECT_EQ(visit.status().code(), Status::Code::kIOError);
    EXPECT_EQ(visit.status().message(), location() + ": storing case c-1: " + locked);
    RunToStore new_rules = SampleRun("c-1", 2, 9);
    new_rules.rules = SampleRules("sha256:rules-v2");
    auto with_bundle = store->SaveRun(new_rules);
    EXPECT_EQ(with_bundle.status().code(), Status::Code::kIOError);
    EXPECT_NE(with_bundle.status().message().find("locked"), std::string::npos) << with_bundle.status().message();
    other.ReleaseWriteLock();
  }
  // SQLite: the checkpointed file bytes and the (empty) WAL, which covers every row; PostgreSQL:
  // every table's rows.
  EXPECT_TRUE(raw.Contents() == before) << "the database changed";
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

TEST_P(StoreConcurrency, TwoThenFourProcessesStoreRunsAtOnce) {
  {
    auto store = OpenOrFail(location());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion(Version("c-1", "{}"), {}));
    ASSERT_OK(store->AddCaseVersion(Version("c-1", "{\"v\": 2}"), {}));
  }
  int expected_runs = 0;
  for (int processes : {2, 4}) {
    SCOPED_TRACE(processes);
    std::vector<pid_t> children;
    for (int child = 0; child < processes; ++child) children.push_back(ForkSaver(location(), 25, child));
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed: " << status;
    }
    expected_runs += 25 * processes;
    auto store = OpenOrFail(location(), Mode::kReadOnly);
    ASSERT_NE(store, nullptr);
    auto report = store->Verify();
    ASSERT_OK(report);
    EXPECT_TRUE(report->ok()) << report->problems.front();
    EXPECT_EQ(report->runs, expected_runs);
    EXPECT_EQ(report->entries, expected_runs + 2);  // gap-free: Verify checks every sequence number
    RawDatabase raw(backend(), location());
    EXPECT_EQ(raw.Int("SELECT MAX(sequence) FROM audit_log"), expected_runs + 2);
    EXPECT_EQ(raw.Count("bundles"), 2);
  }
}

// ---- 8 writers in 3 processes

constexpr int kWritesPerWriter = 10;  // each a case version and a run of it

// `text` on one line (a server's message may have several).
std::string OneLine(std::string text) {
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text;
}

// Writer `writer`, on a store of its own: kWritesPerWriter new versions of case w-<writer>, each
// followed by a run of it, once all writers of its process have opened their stores. What it did,
// a line a write: "case CASE VERSION", "run ID CASE VERSION", or "failed MESSAGE".
std::string RunWriter(const std::string& location, int writer, std::latch& opened) {
  auto store = OpenStore(location, Mode::kReadWrite);
  opened.arrive_and_wait();
  if (!store.ok()) return "failed writer " + std::to_string(writer) + ": " + OneLine(store.status().message()) + "\n";
  const std::string case_id = "w-" + std::to_string(writer);
  std::string log;
  for (int i = 0; i < kWritesPerWriter; ++i) {
    auto version = (*store)->AddCaseVersion(Version(case_id, "{\"visit\": " + std::to_string(i) + "}"), {});
    if (!version.ok()) {
      log += "failed " + OneLine(version.status().message()) + "\n";
      continue;
    }
    const std::string stored = case_id + " " + std::to_string(version->version);
    log += "case " + stored + "\n";
    auto run = (*store)->SaveRun(SampleRun(case_id, version->version, writer * 100 + i));
    if (!run.ok()) {
      log += "failed " + OneLine(run.status().message()) + "\n";
      continue;
    }
    log += "run " + std::to_string(*run) + " " + stored + "\n";
  }
  return log;
}

// A child process with `writers` threads, writers first_writer, first_writer + 1, ...: it waits at
// the gate (until the parent closes its end), runs them, and writes their lines to `report`.
pid_t ForkWriters(const std::string& location, int first_writer, int writers, const int gate[2], const int report[2]) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  close(gate[1]);
  close(report[0]);
  char byte;
  (void)!read(gate[0], &byte, 1);  // returns at EOF: when the parent closes its end
  std::latch opened(writers);
  std::vector<std::string> logs(writers);
  std::vector<std::thread> threads;
  for (int i = 0; i < writers; ++i)
    threads.emplace_back([&, i] { logs[i] = RunWriter(location, first_writer + i, opened); });
  for (auto& thread : threads) thread.join();
  std::string all;
  for (const auto& log : logs) all += log;
  for (size_t written = 0; written < all.size();) {
    ssize_t n = write(report[1], all.data() + written, all.size() - written);
    if (n <= 0) _exit(2);
    written += static_cast<size_t>(n);
  }
  _exit(0);
}

// Everything a child wrote to `fd`, until it closed it.
std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  close(fd);
  return text;
}

// The test of the chain on many machines: 8 writers, each with its own connection, in 3
// processes (3 + 3 + 2 threads), store case versions and runs at once into one database. Every
// write succeeds (writers take the write lock in turn), every one is there, and the chain has
// exactly one entry per write, sequences 1..N without a gap, and verifies.
TEST_P(StoreConcurrency, EightWritersInThreeProcessesKeepOneGapFreeChain) {
  {
    auto store = OpenOrFail(location());  // the schema, made once (FourProcessesCreate... races that)
    ASSERT_NE(store, nullptr);
  }
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  std::vector<std::pair<pid_t, int>> children;  // pid, the read end of its report
  int first_writer = 0;
  for (int writers : {3, 3, 2}) {
    int report[2];
    if (pipe(report) != 0) break;
    children.emplace_back(ForkWriters(location(), first_writer, writers, gate, report), report[0]);
    close(report[1]);
    first_writer += writers;
  }
  close(gate[0]);
  close(gate[1]);
  std::string lines;
  for (const auto& [pid, report] : children) {
    lines += ReadAll(report);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed: " << status;
  }
  ASSERT_EQ(children.size(), 3u);

  std::vector<std::pair<std::string, int>> versions;
  struct StoredRun {
    int64_t id;
    std::string case_id;
    int version;
  };
  std::vector<StoredRun> runs;
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "case") {
      versions.emplace_back();
      fields >> versions.back().first >> versions.back().second;
    } else if (kind == "run") {
      runs.emplace_back();
      fields >> runs.back().id >> runs.back().case_id >> runs.back().version;
    } else {
      ADD_FAILURE() << line;
    }
  }
  const int64_t writes = static_cast<int64_t>(versions.size() + runs.size());
  EXPECT_EQ(writes, 8 * kWritesPerWriter * 2) << "every write succeeds: writers wait for the lock in turn";

  auto store = OpenOrFail(location(), Mode::kReadOnly);
  ASSERT_NE(store, nullptr);
  for (const auto& [case_id, version] : versions) {
    auto got = store->GetCaseVersion(case_id, version);
    EXPECT_TRUE(got.ok()) << got.status().message();
  }
  std::set<int64_t> run_ids;
  for (const auto& run : runs) {
    EXPECT_TRUE(run_ids.insert(run.id).second) << RunName(run.id) << " reported twice";
    auto got = store->GetRun(run.id);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(got->summary.case_id, run.case_id);
    EXPECT_EQ(got->summary.case_version, run.version);
  }
  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->entries, writes);
  EXPECT_EQ(report->case_versions, static_cast<int64_t>(versions.size()));
  EXPECT_EQ(report->runs, static_cast<int64_t>(runs.size()));
  RawDatabase raw(backend(), location());
  EXPECT_EQ(raw.Count("audit_log"), writes);
  EXPECT_EQ(raw.Int("SELECT MIN(sequence) FROM audit_log"), 1);
  EXPECT_EQ(raw.Int("SELECT MAX(sequence) FROM audit_log"), writes);  // with the count: 1..N, no gap
  EXPECT_EQ(raw.Count("case_versions"), static_cast<int64_t>(versions.size()));
  EXPECT_EQ(raw.Count("runs"), static_cast<int64_t>(runs.size()));
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

// Processes opening one new database at once: exactly one migrates it (on SQLite, switches it to
// WAL too). Round 1 races them on a database that is empty (SQLite: a file that does not exist
// yet); in round 2 the database is at schema 0 with a table of someone else's (SQLite: a WAL file)
// and the test holds its write lock until every child has read schema version 0, so that all of
// them then queue to migrate it (each must re-read the version inside its transaction).
TEST_P(StoreConcurrency, FourProcessesCreateOneDatabaseAtOnce) {
  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE(round);
    const TestDatabase database(backend(), "round" + std::to_string(round));
    const std::string& location = database.location();
    if (backend() == Backend::kSqlite) std::filesystem::create_directories(std::filesystem::path(location).parent_path());
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    // Forked before the test opens any connection: SQLite's lock bookkeeping must not cross a fork.
    std::vector<pid_t> children = ForkOpeners(location, gate);
    std::unique_ptr<RawDatabase> holder;
    if (round == 2) {
      holder = std::make_unique<RawDatabase>(backend(), location);
      holder->Exec(backend() == Backend::kSqlite ? "PRAGMA journal_mode = WAL; CREATE TABLE unrelated (x)"
                                                 : "CREATE TABLE unrelated (x integer)");
      holder->TakeWriteLock();
    }
    close(gate[0]);
    close(gate[1]);
    if (holder) {
      usleep(300000);
      holder->ReleaseWriteLock();
      holder.reset();
    }
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed: " << status;
    }
    auto store = OpenOrFail(location, Mode::kReadOnly);
    ASSERT_NE(store, nullptr);
    auto report = store->Verify();
    ASSERT_OK(report);
    EXPECT_TRUE(report->ok()) << report->problems.front();
    EXPECT_EQ(report->runs, 20);
    EXPECT_EQ(report->case_versions, 4);
    EXPECT_EQ(report->entries, 24);
  }
}

TEST_P(StoreCrash, SigkillWhileStoringLeavesAConsistentDatabase) {
  {
    auto store = OpenOrFail(location());
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
    pid_t pid = ForkSaver(location(), 1 << 30, round);
    usleep(delay_us(random));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    auto store = OpenOrFail(location());
    ASSERT_NE(store, nullptr);
    {
      RawDatabase raw(backend(), location());
      if (backend() == Backend::kSqlite) {
        EXPECT_EQ(raw.Text("PRAGMA integrity_check"), "ok");
      }
      // No partial run: every run has its audit entry and every run entry its run (Verify checks
      // both ways too). One statement, one snapshot: on PostgreSQL the killed writer's server
      // process may still be committing what it was sent.
      EXPECT_EQ(raw.Int("SELECT (SELECT COUNT(*) FROM runs) - (SELECT COUNT(*) FROM audit_log WHERE kind = 'run')"), 0);
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
