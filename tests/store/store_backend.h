// The store tests on both backends. A test parametrized by Backend gets a fresh database of its own
// (a SQLite file under TempDir(), or a schema on the test process's throw-away PostgreSQL server,
// tests/store/pg_cluster.h), stores through OpenStore as every caller does, and reaches behind the
// store's back through RawDatabase (counts, locks, tampering) in the backend's own SQL.
//
//   NFLUX_BACKEND_SUITE(StoreRuns);   // or, for a fixture of its own: NFLUX_ON_EVERY_BACKEND(Suite)
//   TEST_P(StoreRuns, Something) {
//     auto store = OpenOrFail(location());
//     RawDatabase raw(backend(), location());
//     EXPECT_EQ(raw.Count("runs"), 1);
//   }
//
// Test names end in /sqlite or /postgres. tests/CMakeLists.txt runs the postgres ones of a binary in
// one process, so that its server starts once. When the server cannot start, every postgres test
// fails with the reason (it never skips).
//
// A schema per test rather than a database: about 6 ms to make instead of 40-60 ms. The store's
// write lock (an advisory lock) is per database, so tests that share a server through
// NFLUX_TEST_PG_URL also share that lock: they wait for each other's writes, never break them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "store/pg_cluster.h"
#include "store/store.h"
#include "store/store_test_support.h"

namespace nflux::store::testing {

enum class Backend { kSqlite, kPostgres };

inline const char* BackendText(Backend backend) { return backend == Backend::kSqlite ? "sqlite" : "postgres"; }
inline void PrintTo(Backend backend, std::ostream* out) { *out << BackendText(backend); }

inline ::testing::internal::ParamGenerator<Backend> AllBackends() {
  return ::testing::Values(Backend::kSqlite, Backend::kPostgres);
}
// The test name's suffix: "sqlite" or "postgres".
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return BackendText(info.param); }

// Runs every TEST_P of `Suite` (a BackendTest) on both backends: Backends/Suite.Test/sqlite, /postgres.
#define NFLUX_ON_EVERY_BACKEND(Suite)                                                           \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::nflux::store::testing::AllBackends(), \
                           ::nflux::store::testing::BackendName)
// A suite with nothing of its own but BackendTest, on both backends.
#define NFLUX_BACKEND_SUITE(Suite)                               \
  class Suite : public ::nflux::store::testing::BackendTest {}; \
  NFLUX_ON_EVERY_BACKEND(Suite)

// pg_advisory_xact_lock's key for the store's one write lock (engine/store/pg_connection.cc).
inline constexpr const char* kPgWriteLockKey = "474989131128";

// The running test's name as a PostgreSQL schema name: "StoreRuns_RoundTrip_postgres_SUFFIX" without
// the instantiation's prefix, lower case, and at most 60 characters (a long one ends in a hash of
// the whole, so that two long names stay apart).
inline std::string PgTestName(const std::string& suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string suite = info->test_suite_name();
  suite = suite.substr(suite.find('/') + 1);  // "Backends/StoreRuns" -> "StoreRuns"
  const std::string whole = suite + "_" + info->name() + (suffix.empty() ? "" : "_" + suffix);
  if (whole.size() <= 60) return PgName(whole);
  char hash[16];
  std::snprintf(hash, sizeof hash, "_%08zx", std::hash<std::string>{}(whole) & 0xffffffffu);
  return PgName(whole).substr(0, 51) + hash;
}

// A fresh, empty database for the running test: a SQLite file (TempDatabase), or a PostgreSQL schema
// named after the test (NewSchemaUrl). A second database in one test needs its own `suffix`.
// location() is "" after a failure (which the test reports).
class TestDatabase {
 public:
  explicit TestDatabase(Backend backend, const std::string& suffix = "") : backend_(backend) {
    if (backend == Backend::kSqlite) {
      file_.emplace(suffix);
      location_ = file_->path();
    } else {
      location_ = NewSchemaUrl(PgTestName(suffix));
    }
  }
  Backend backend() const { return backend_; }
  const std::string& location() const { return location_; }

 private:
  Backend backend_;
  std::optional<TempDatabase> file_;
  std::string location_;
};

// A raw connection to a test's database on either backend, for counting, locking and tampering
// behind the store's back. Every statement is EXPECTed to succeed.
class RawDatabase {
 public:
  RawDatabase(Backend backend, const std::string& location) : location_(location) {
    if (backend == Backend::kSqlite) sqlite_ = std::make_unique<RawConnection>(location);
    else postgres_ = std::make_unique<PgRaw>(location);
  }
  Backend backend() const { return sqlite_ ? Backend::kSqlite : Backend::kPostgres; }

  void Exec(const std::string& sql) { sqlite_ ? sqlite_->Exec(sql) : postgres_->Exec(sql); }
  // The first column of the first row as text ("" when there is none).
  std::string Text(const std::string& sql) { return sqlite_ ? sqlite_->Text(sql) : postgres_->Text(sql); }
  int64_t Int(const std::string& sql) { return sqlite_ ? sqlite_->Int(sql) : postgres_->Int(sql); }
  int64_t Count(const std::string& table) { return Int("SELECT COUNT(*) FROM " + table); }

  // Flips the lowest bit of the byte at `at` of `column` in the one row `where` selects, keeping its
  // type: a text stays a text (on PostgreSQL, valid UTF-8: the character at `at`), a blob a blob.
  void FlipByte(const std::string& table, const std::string& column, const std::string& where, size_t at = 10) {
    if (sqlite_) return sqlite_->FlipByte(table, column, where, at);
    const std::string type = Text("SELECT pg_typeof(" + column + ")::text FROM " + table + " WHERE " + where);
    const std::string position = std::to_string(at);
    const std::string flipped =
        type == "bytea" ? "set_byte(" + column + ", " + position + ", get_byte(" + column + ", " + position + ") # 1)"
                        : "overlay(" + column + " placing chr(ascii(substr(" + column + ", " + position + " + 1, 1)) # 1) from " +
                              position + " + 1 for 1)";
    EXPECT_EQ(Int("WITH changed AS (UPDATE " + table + " SET " + column + " = " + flipped + " WHERE " + where +
                  " RETURNING 1) SELECT COUNT(*) FROM changed"),
              1)
        << table << "." << column << " (" << type << ") WHERE " << where;
  }

  // Runs `sql` with foreign keys unchecked (to delete what others refer to).
  void ExecWithoutForeignKeys(const std::string& sql) {
    if (sqlite_) return Exec("PRAGMA foreign_keys = OFF; " + sql);
    Exec("SET session_replication_role = replica; " + sql + "; SET session_replication_role = DEFAULT");
  }

  // The schema version the store reads: PRAGMA user_version, or the one row of nflux_schema.
  void SetSchemaVersion(int version) {
    if (sqlite_) return Exec("PRAGMA user_version = " + std::to_string(version));
    Exec("UPDATE nflux_schema SET version = " + std::to_string(version));
  }

  // Takes the store's write lock, as another writer would (SQLite: BEGIN IMMEDIATE; PostgreSQL: the
  // store's advisory lock in a transaction), until ReleaseWriteLock().
  void TakeWriteLock() {
    Exec(sqlite_ ? std::string("BEGIN IMMEDIATE") : std::string("BEGIN; SELECT pg_advisory_xact_lock(") + kPgWriteLockKey + ")");
  }
  void ReleaseWriteLock() { Exec("ROLLBACK"); }

  // Everything stored: equal before and after means nothing was written. SQLite: the file's bytes
  // (checkpointed) and its WAL's; PostgreSQL: each table's row count and a digest of its rows.
  std::string Contents() {
    if (sqlite_) {
      Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return ReadBytes(location_) + "|wal:" + ReadBytes(location_ + "-wal");
    }
    std::string tables = Text(
        "SELECT string_agg(quote_ident(table_name), ',' ORDER BY table_name) FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
    std::string contents;
    size_t start = 0;
    while (start < tables.size()) {
      size_t end = tables.find(',', start);
      if (end == std::string::npos) end = tables.size();
      const std::string table = tables.substr(start, end - start);
      contents += table + ": " +
                  Text("SELECT COUNT(*) || ' ' || COALESCE(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM " +
                       table + " t") +
                  "\n";
      start = end + 1;
    }
    return contents;
  }

 private:
  std::string location_;
  std::unique_ptr<RawConnection> sqlite_;
  std::unique_ptr<PgRaw> postgres_;
};

// A test on each backend with a fresh database of its own (location()), made before the test body.
class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (backend() == Backend::kPostgres) {
      ASSERT_NE(PgCluster::Url(), nullptr) << PgCluster::StartError();
    }
    database_.emplace(backend());
    ASSERT_FALSE(location().empty());
  }
  Backend backend() const { return GetParam(); }
  const std::string& location() const { return database_->location(); }

 private:
  std::optional<TestDatabase> database_;
};

}  // namespace nflux::store::testing
