// The SQLite connection: a file in WAL mode (readers never block the writer), BEGIN IMMEDIATE for
// writes (the write lock taken up front, so a writer waits in the busy handler instead of failing
// half-way), statements prepared once per SQL text.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "store/connection.h"

namespace nflux::store {
namespace {

class SqliteStatement final : public Statement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Exact lengths: embedded NULs and any bytes round-trip.
  Statement& Bind(int index, std::string_view text) override {
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  Statement& BindBlob(int index, std::string_view bytes) override {
    sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, int64_t value) override {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  using Statement::Bind;

  StepResult Step() override {
    int rc = sqlite3_step(stmt_);
    return rc == SQLITE_ROW ? StepResult::kRow : rc == SQLITE_DONE ? StepResult::kDone : StepResult::kError;
  }
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string Text(int column) const override {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return text ? std::string(text, sqlite3_column_bytes(stmt_, column)) : std::string();
  }
  std::string Blob(int column) const override {
    const void* data = sqlite3_column_blob(stmt_, column);
    return data ? std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, column)) : std::string();
  }
  int64_t Int(int column) const override { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    statements_.clear();  // finalized before the connection closes
    sqlite3_close(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Backend backend() const override { return Backend::kSqlite; }

  Result<Query> Prepare(const std::string& sql) override {
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (int code = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
          code != SQLITE_OK) {
        sqlite3_finalize(stmt);
        std::string message = "preparing '" + sql + "': " + sqlite3_errmsg(db_);
        if (LastErrorWasLock()) return Status::IOError("reading the schema: " + LastError() + kLockedHint);
        // An error in our SQL is a bug; anything else is the file's (not a database, damaged).
        return (code & 0xff) == SQLITE_ERROR ? Status::Internal(std::move(message))
                                             : Status::IOError(std::move(message));
      }
      found = statements_.emplace(sql, std::make_unique<SqliteStatement>(stmt)).first;
    }
    return Query(found->second.get());
  }

  Status ExecScript(const char* sql, const std::string& what) override {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
    sqlite3_free(error);
    return rc == SQLITE_OK ? Status::Ok() : Status::IOError(what + ": " + LastError());
  }

  Status BeginWrite(const std::string& what) override { return Run("BEGIN IMMEDIATE", what); }
  Status BeginSnapshot(const std::string& what) override { return Run("BEGIN", what); }
  bool InTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }

  std::string LastError() const override { return sqlite3_errmsg(db_); }
  bool LastErrorWasLock() const override {
    int code = sqlite3_errcode(db_);
    return code == SQLITE_BUSY || code == SQLITE_LOCKED;
  }

  Status Configure(Mode mode, bool in_memory, int busy_timeout_ms);

 private:
  static constexpr const char* kLockedHint = " (the database is locked by another process; nothing was written)";
  // One statement, no rows expected; the caller adds the location.
  Status Run(const std::string& sql, const std::string& what) {
    auto query = Prepare(sql);
    if (!query.ok()) return query.status();
    if ((*query)->Step() == StepResult::kError)
      return Status::IOError(what + ": " + LastError() + (LastErrorWasLock() ? kLockedHint : ""));
    return Status::Ok();
  }
  Status EnableWal(int busy_timeout_ms);

  sqlite3* db_;
  std::map<std::string, std::unique_ptr<SqliteStatement>, std::less<>> statements_;
};

Status SqliteConnection::Configure(Mode mode, bool in_memory, int busy_timeout_ms) {
  // Four processes storing at once each hold the write lock for about a millisecond; the default
  // 10 s is room for a long `kb build` or a checkpoint in another process.
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (Status status = Run("PRAGMA foreign_keys = ON", "enabling foreign keys"); !status.ok()) return status;
  if (mode == Mode::kReadOnly || in_memory) return Status::Ok();
  if (Status status = EnableWal(busy_timeout_ms); !status.ok()) return status;
  // synchronous=NORMAL: a committed run survives a killed process (it is in the WAL; SIGKILL tests
  // it), and a power cut can lose only the last commits, never corrupt the file. FULL fsyncs every
  // commit: measured here 2.3 ms per run (26 KB evaluation, 59 KB trace) against 1.8 ms, over the
  // 2 ms budget for storing a run (README "Performance").
  return Run("PRAGMA synchronous = NORMAL", "setting synchronous");
}

// Switching a new database to WAL needs an exclusive lock, and SQLite does not call the busy
// handler for it (so that two openers cannot deadlock): processes opening one new database at
// once retry here.
Status SqliteConnection::EnableWal(int busy_timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    {
      auto query = Prepare("PRAGMA journal_mode = WAL");
      if (!query.ok()) return query.status();
      StepResult rc = (*query)->Step();
      if (rc == StepResult::kRow && (*query)->Text(0) == "wal") return Status::Ok();
      bool busy = rc == StepResult::kError && sqlite3_errcode(db_) == SQLITE_BUSY;
      if ((rc == StepResult::kError && !busy) || std::chrono::steady_clock::now() >= deadline)
        return Status::IOError("switching to WAL: " + LastError() + (busy ? kLockedHint : ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

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

Result<std::unique_ptr<Connection>> OpenSqliteConnection(const std::string& path, Mode mode, int busy_timeout_ms) {
  bool in_memory = path == ":memory:";
  if (!in_memory) {
    if (Status status = PrepareLocation(path, mode); !status.ok()) return status;
  }
  sqlite3* db = nullptr;
  int flags = (mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
              SQLITE_OPEN_NOMUTEX;  // one thread at a time (store.h)
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Status status = Status::IOError(path + ": cannot open database: " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return status;
  }
  auto connection = std::make_unique<SqliteConnection>(db);
  if (Status status = connection->Configure(mode, in_memory, busy_timeout_ms); !status.ok())
    return status.WithContext(path);
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace nflux::store
