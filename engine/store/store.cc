#include "store/store.h"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "store/sqlite_store.h"

namespace nflux::store {

std::string DefaultDatabasePath() {
  if (const char* env = std::getenv("NFLUX_DB"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/nflux/nflux.db";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/nflux/nflux.db";
  return "nflux.db";
}

std::string RunName(int64_t run_id) { return "run-" + std::to_string(run_id); }

std::optional<int64_t> ParseRunId(std::string_view text) {
  if (text.starts_with("run-")) text.remove_prefix(4);
  if (text.empty() || text.front() < '1' || text.front() > '9') return std::nullopt;
  int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& location, Mode mode, int busy_timeout_ms) {
  auto store = SqliteStore::Open(location, mode, busy_timeout_ms);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

namespace {

Status PrepareLocation(const std::string& path, Mode mode) {
  std::error_code error;
  if (mode == Mode::kReadOnly) {
    if (!std::filesystem::exists(path, error))
      return Status::NotFound(path + ": database not found (run 'nflux kb build' first, or pass --db PATH)");
    return Status::Ok();
  }
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) return Status::IOError(path + ": cannot create folder " + parent.string() + ": " + error.message());
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& location, Mode mode, int busy_timeout_ms) {
  bool in_memory = location == ":memory:";
  if (!in_memory) {
    if (Status status = PrepareLocation(location, mode); !status.ok()) return status;
  }
  sqlite3* db = nullptr;
  int flags = (mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
              SQLITE_OPEN_NOMUTEX;  // one thread at a time (store.h)
  if (sqlite3_open_v2(location.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Status status = Status::IOError(location + ": cannot open database: " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, location));
  if (Status status = store->Configure(mode, in_memory, busy_timeout_ms); !status.ok()) return status;
  if (Status status = store->Migrate(mode); !status.ok()) return status;
  return store;
}

SqliteStore::~SqliteStore() {
  RollbackBatch();
  statements_.Clear();  // finalized before the connection closes
  sqlite3_close(db_);
}

Status SqliteStore::Configure(Mode mode, bool in_memory, int busy_timeout_ms) {
  // Four processes storing at once each hold the write lock for about a millisecond; the default
  // 10 s is room for a long `kb build` or a checkpoint in another process.
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (Status status = Exec("PRAGMA foreign_keys = ON", "enabling foreign keys"); !status.ok()) return status;
  if (mode == Mode::kReadOnly || in_memory) return Status::Ok();
  if (Status status = EnableWal(busy_timeout_ms); !status.ok()) return status;
  // synchronous=NORMAL: a committed run survives a killed process (it is in the WAL; SIGKILL tests
  // it), and a power cut can lose only the last commits, never corrupt the file. FULL fsyncs every
  // commit: measured here 2.3 ms per run (26 KB evaluation, 59 KB trace) against 1.8 ms, over the
  // 2 ms budget for storing a run (README "Performance").
  return Exec("PRAGMA synchronous = NORMAL", "setting synchronous");
}

// WAL: readers never block the writer, and a commit is one append to the log. Switching a new
// database to WAL needs an exclusive lock, and SQLite does not call the busy handler for it (so
// that two openers cannot deadlock): processes opening one new database at once retry here.
Status SqliteStore::EnableWal(int busy_timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    {
      auto query = Sql("PRAGMA journal_mode = WAL");
      if (!query.ok()) return query.status();
      int rc = (*query)->Step();
      if (rc == SQLITE_ROW && (*query)->Text(0) == "wal") return Status::Ok();
      if (rc != SQLITE_ROW && rc != SQLITE_BUSY) return Error("switching to WAL");
      if (std::chrono::steady_clock::now() >= deadline) return Error("switching to WAL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Status SqliteStore::Error(const std::string& what) const {
  int code = sqlite3_errcode(db_);
  std::string message = location_ + ": " + what + ": " + sqlite3_errmsg(db_);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    message += " (the database is locked by another process; nothing was written)";
  return Status::IOError(message);
}

Result<Query> SqliteStore::Sql(const std::string& sql) const {
  auto query = statements_.Prepare(sql);
  if (!query.ok()) {
    if (sqlite3_errcode(db_) == SQLITE_BUSY) return Error("reading the schema");
    return query.status().WithContext(location_);
  }
  return query;
}

Status SqliteStore::Exec(const std::string& sql, const std::string& what) {
  auto query = Sql(sql);
  if (!query.ok()) return query.status();
  int rc = (*query)->Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(what);
  return Status::Ok();
}

Transaction::~Transaction() {
  // The error that made us roll back is the one to report; a failed ROLLBACK adds nothing (SQLite
  // rolls an open transaction back when the connection closes).
  if (!open_) return;
  if (savepoint_) {
    (void)store_->Exec("ROLLBACK TO nflux_write", "rolling back");
    (void)store_->Exec("RELEASE nflux_write", "rolling back");
  } else {
    (void)store_->Exec("ROLLBACK", "rolling back");
  }
}

Status Transaction::Begin(const std::string& what) {
  savepoint_ = store_->batch_open();
  if (Status status = store_->Exec(savepoint_ ? "SAVEPOINT nflux_write" : "BEGIN IMMEDIATE", what); !status.ok())
    return status;
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit(const std::string& what) {
  if (Status status = store_->Exec(savepoint_ ? "RELEASE nflux_write" : "COMMIT", what); !status.ok()) return status;
  open_ = false;
  return Status::Ok();
}

Status SqliteStore::BeginBatch() {
  if (batch_open_) return Status::InvalidArgument(location_ + ": a batch of writes is already open");
  if (Status status = Exec("BEGIN IMMEDIATE", "starting a batch of writes"); !status.ok()) return status;
  batch_open_ = true;
  return Status::Ok();
}

Status SqliteStore::CommitBatch() {
  if (!batch_open_) return Status::InvalidArgument(location_ + ": no batch of writes is open");
  Status status = Exec("COMMIT", "committing a batch of writes");
  if (!status.ok()) RollbackBatch();
  batch_open_ = false;
  return status;
}

void SqliteStore::RollbackBatch() {
  if (!batch_open_) return;
  // Nothing to report from a failed ROLLBACK: the transaction is gone either way.
  if (sqlite3_get_autocommit(db_) == 0) (void)Exec("ROLLBACK", "rolling back a batch of writes");
  batch_open_ = false;
}

}  // namespace nflux::store
