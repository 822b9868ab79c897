// Internal: prepared statements for the SQLite store. A Statement finalizes itself; a
// StatementCache keeps one prepared statement per SQL text for the life of its connection (a run
// is stored with the same dozen statements every time, so each is compiled once); a Query is a
// statement in use, reset (bindings cleared, read locks released) when it goes out of scope.
// Not thread-safe: they belong to one connection, used from one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nflux::store {

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind texts and blobs with their exact length: embedded NULs and any bytes round-trip.
  Statement& Bind(int index, std::string_view text) {
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& BindBlob(int index, std::string_view bytes) {
    sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }

  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string Text(int column) const {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return text ? std::string(text, sqlite3_column_bytes(stmt_, column)) : std::string();
  }
  std::string Blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    return data ? std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, column)) : std::string();
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_;
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

class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  // The statement for `sql`, prepared on first use. Errors: the SQLite message (a bug in our SQL, or
  // a schema the statement does not fit).
  // REQUIRES: a statement is not used twice at once (no nested Query on the same SQL).
  Result<Query> Prepare(const std::string& sql) {
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (int code = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr); code != SQLITE_OK) {
        sqlite3_finalize(stmt);
        std::string message = std::string("preparing '") + sql + "': " + sqlite3_errmsg(db_);
        // An error in our SQL is a bug; anything else is the file's (not a database, locked, damaged).
        return (code & 0xff) == SQLITE_ERROR ? Status::Internal(std::move(message)) : Status::IOError(std::move(message));
      }
      found = statements_.emplace(sql, std::make_unique<Statement>(stmt)).first;
    }
    return Query(found->second.get());
  }
  void Clear() { statements_.clear(); }

 private:
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> statements_;
};

}  // namespace nflux::store
