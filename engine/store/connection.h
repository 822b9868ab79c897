// Internal: the few things the store asks of a database, so that one store (sql_store.cc) runs on
// SQLite (sqlite_connection.cc) and on PostgreSQL (pg_connection.cc). SQL is written once, with `?`
// (or `?N`) placeholders and the dialect both accept (ON CONFLICT DO NOTHING, RETURNING); the
// PostgreSQL connection renumbers placeholders to `$N`.
//
// A Statement is prepared once per connection and SQL text (a run is stored with the same dozen
// statements every time); a Query is a statement in use, reset (bindings cleared, read locks and
// results released) when it goes out of scope. Not thread-safe: one connection, one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace nflux::store {

enum class StepResult { kRow, kDone, kError };

class Statement {
 public:
  virtual ~Statement() = default;

  // Texts and blobs are bound with their exact length. SQLite keeps any bytes; PostgreSQL refuses a
  // text that is not UTF-8 or holds a NUL (an error, never a silently shortened text).
  virtual Statement& Bind(int index, std::string_view text) = 0;
  virtual Statement& BindBlob(int index, std::string_view bytes) = 0;
  virtual Statement& Bind(int index, int64_t value) = 0;
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }

  // The next row (kRow), the end (kDone), or an error (the connection's LastError() says which).
  virtual StepResult Step() = 0;
  virtual void Reset() = 0;

  virtual std::string Text(int column) const = 0;
  virtual std::string Blob(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual bool IsNull(int column) const = 0;
};

// A statement in use; resets it on destruction so that no read transaction stays open.
class Query {
 public:
  explicit Query(Statement* statement) : statement_(statement) {}
  Query(Query&& other) noexcept : statement_(other.statement_) { other.statement_ = nullptr; }
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  ~Query() {
    if (statement_) statement_->Reset();
  }
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

enum class Backend { kSqlite, kPostgres };

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Backend backend() const = 0;

  // The cached statement for `sql`, prepared on first use. Errors: Internal for a bug in our SQL,
  // IOError for the database's trouble (locked, gone, damaged).
  // REQUIRES: a statement is not used twice at once (no nested Query on the same SQL).
  virtual Result<Query> Prepare(const std::string& sql) = 0;
  // Several statements with nothing bound (schema texts).
  virtual Status ExecScript(const char* sql, const std::string& what) = 0;

  // A write transaction that holds the store's one write lock until it ends: SQLite's BEGIN
  // IMMEDIATE; on PostgreSQL, BEGIN and a transaction-scoped advisory lock, which every writer on
  // every machine takes, so the audit chain's head cannot move under a writer.
  virtual Status BeginWrite(const std::string& what) = 0;
  // A read-only transaction on one snapshot (Verify sees one state while others write).
  virtual Status BeginSnapshot(const std::string& what) = 0;
  virtual bool InTransaction() const = 0;

  // The database's message for the last error, and whether it was another writer's lock.
  virtual std::string LastError() const = 0;
  virtual bool LastErrorWasLock() const = 0;
};

// A SQLite file (created with its folder for kReadWrite) or ":memory:", configured (WAL, foreign
// keys, busy timeout). sqlite_connection.cc.
Result<std::unique_ptr<Connection>> OpenSqliteConnection(const std::string& path, Mode mode, int busy_timeout_ms);

// A libpq connection to `url` (kReadOnly: every transaction read-only); `busy_timeout_ms` becomes
// its lock_timeout. pg_connection.cc.
Result<std::unique_ptr<Connection>> OpenPostgresConnection(const std::string& url, Mode mode, int busy_timeout_ms);

}  // namespace nflux::store
