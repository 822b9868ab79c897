// The PostgreSQL connection, over libpq (the PostgreSQL project's own C client: errors are values,
// and texts and bytea travel with their exact lengths in binary parameters). Statements are
// prepared once per connection; their `?` placeholders become `$N`. Every write takes one
// transaction-scoped advisory lock, so writers on any number of machines append to the audit
// chain one at a time, as SQLite's single writer lock does on one machine.
#include <dlfcn.h>
#include <libpq-fe.h>

#include <charconv>
#include <map>
#include <vector>

#include "store/connection.h"

namespace nflux::store {
namespace {

// libpq is loaded the first time a PostgreSQL URL is opened, not linked: it brings libssl, Kerberos
// and LDAP, and every nflux command would pay for loading them (build/nflux starts in about 3 ms,
// and a test keeps it free of libssl). Debian's libpq5 is installed with libpq-dev.
#define NFLUX_LIBPQ_FUNCTIONS(X)                                                                           \
  X(PQclear) X(PQconnectdbParams) X(PQerrorMessage) X(PQexec) X(PQexecPrepared) X(PQfinish) X(PQfreemem) \
  X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQntuples) X(PQprepare) X(PQresultErrorField)           \
  X(PQresultStatus) X(PQreset) X(PQsetNoticeProcessor) X(PQstatus) X(PQtransactionStatus)  \
  X(PQunescapeBytea)

struct Libpq {
#define NFLUX_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;  // NOLINT(bugprone-macro-parentheses)
  NFLUX_LIBPQ_FUNCTIONS(NFLUX_LIBPQ_MEMBER)
#undef NFLUX_LIBPQ_MEMBER
};

// The loaded library, or the reason it could not be loaded. Thread-safe (a function-local static).
const Result<Libpq>& LoadLibpq() {
  static const Result<Libpq> loaded = []() -> Result<Libpq> {
    void* handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      return Status::IOError(std::string("a PostgreSQL database needs libpq (Debian's package libpq5): ") + dlerror());
    Libpq lib;
#define NFLUX_LIBPQ_RESOLVE(name)                                                          \
  lib.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name));                    \
  if (!lib.name) return Status::IOError("libpq.so.5 has no " #name ": is it older than 10?");
    NFLUX_LIBPQ_FUNCTIONS(NFLUX_LIBPQ_RESOLVE)
#undef NFLUX_LIBPQ_RESOLVE
    return lib;  // the handle stays open for the life of the process
  }();
  return loaded;
}

// REQUIRES: LoadLibpq() succeeded (OpenPostgresConnection checks it before any connection exists).
const Libpq& Lib() { return *LoadLibpq(); }

// pg_advisory_xact_lock's key: the store's one write lock in this database ("nflux" in ASCII).
constexpr const char* kWriteLockKey = "474989131128";

// SQLSTATEs that mean another writer held a lock too long (lock_timeout) or a deadlock was broken.
bool IsLockState(const std::string& state) { return state == "55P03" || state == "40P01"; }

// libpq's multi-line messages ("FATAL: ...\nserver closed the connection...\n\tThis probably...")
// as one line, as SQLite's: what a log line or a JSON error can carry.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// `?` -> `$1`, `$2`...; `?3` -> `$3`. Quoted texts are left alone.
std::string Renumber(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (c != '?' || quoted) {
      out += c;
      continue;
    }
    out += '$';
    if (i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') continue;  // `?3`: the digits follow
    out += std::to_string(++next);
  }
  return out;
}

class PgConnection;

class PgStatement final : public Statement {
 public:
  PgStatement(PgConnection* connection, std::string name, std::string sql, uint64_t generation)
      : connection_(connection), name_(std::move(name)), sql_(std::move(sql)), generation_(generation) {}
  ~PgStatement() override { Reset(); }
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  // Texts and blobs go in binary format (exact bytes; the server checks a text's encoding);
  // integers in text format, which the server parses into whatever integer type the column has.
  Statement& Bind(int index, std::string_view text) override { return Set(index, std::string(text), 1); }
  Statement& BindBlob(int index, std::string_view bytes) override { return Set(index, std::string(bytes), 1); }
  Statement& Bind(int index, int64_t value) override { return Set(index, std::to_string(value), 0); }
  using Statement::Bind;

  StepResult Step() override;
  void Reset() override {
    if (result_) Lib().PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    values_.clear();
    formats_.clear();
  }

  std::string Text(int column) const override {
    return std::string(Lib().PQgetvalue(result_, row_, column), Lib().PQgetlength(result_, row_, column));
  }
  std::string Blob(int column) const override {
    size_t length = 0;
    unsigned char* bytes =
        Lib().PQunescapeBytea(reinterpret_cast<const unsigned char*>(Lib().PQgetvalue(result_, row_, column)), &length);
    if (!bytes) return std::string();
    std::string blob(reinterpret_cast<const char*>(bytes), length);
    Lib().PQfreemem(bytes);
    return blob;
  }
  int64_t Int(int column) const override {
    const char* text = Lib().PQgetvalue(result_, row_, column);
    int64_t value = 0;
    std::from_chars(text, text + Lib().PQgetlength(result_, row_, column), value);
    return value;
  }
  bool IsNull(int column) const override { return Lib().PQgetisnull(result_, row_, column) != 0; }

 private:
  Statement& Set(int index, std::string value, int format) {
    if (values_.size() < static_cast<size_t>(index)) {
      values_.resize(index);
      formats_.resize(index, 0);
    }
    values_[index - 1] = std::move(value);
    formats_[index - 1] = format;
    return *this;
  }

  PgConnection* connection_;
  std::string name_;
  std::string sql_;      // as sent to the server ($N placeholders)
  uint64_t generation_;  // the connection's generation it was prepared in (a reconnect drops it)
  std::vector<std::string> values_;
  std::vector<int> formats_;
  PGresult* result_ = nullptr;  // the whole result, fetched by the first Step()
  int row_ = -1;                // the current row; -1 before the first Step()
};

class PgConnection final : public Connection {
 public:
  PgConnection(PGconn* conn, std::string setup) : conn_(conn), setup_(std::move(setup)) {}
  ~PgConnection() override {
    statements_.clear();
    Lib().PQfinish(conn_);
  }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Backend backend() const override { return Backend::kPostgres; }

  Result<Query> Prepare(const std::string& sql) override {
    // A lost connection (the server restarted) is opened again. A transaction that was open on it
    // is gone, and nothing runs in its place: the store stops a write at its first error, and a
    // statement of a batch meets a new session where SAVEPOINT fails ("no transaction block").
    if (Lost() && !Reconnect()) return Status::IOError(last_error_);
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
      std::string name = "nflux_" + std::to_string(statements_.size() + 1);
      std::string renumbered = Renumber(sql);
      if (!OnceMoreIfLostIdle(!InTransaction(), [&] { return PrepareOnServer(name, renumbered); })) {
        std::string message = "preparing '" + sql + "': " + last_error_;
        // Class 42 (syntax, undefined table or column) is a bug in our SQL; the rest is the server's.
        if (last_state_.starts_with("42")) return Status::Internal(std::move(message));
        return Status::IOError(std::move(message));
      }
      found = statements_.emplace(sql, std::make_unique<PgStatement>(this, std::move(name), std::move(renumbered),
                                                                     generation_)).first;
    }
    return Query(found->second.get());
  }

  bool PrepareOnServer(const std::string& name, const std::string& sql) {
    PGresult* result = Lib().PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
    bool ok = Check(result);
    Lib().PQclear(result);
    return ok;
  }
  uint64_t generation() const { return generation_; }
  bool Lost() const { return Lib().PQstatus(conn_) == CONNECTION_BAD; }

  // Runs `attempt` (a statement, a PREPARE or a BEGIN) and, when it failed because the session
  // turned out lost (the server restarted while the connection sat idle in a pool), once more on a
  // new session; only when `idle_before` (no transaction was open) and the attempt is safe to send
  // twice: it never reached the server. A transaction's statements are never retried (it is gone).
  template <class Attempt>
  bool OnceMoreIfLostIdle(bool idle_before, Attempt attempt) {
    if (attempt()) return true;
    return idle_before && Lost() && Reconnect() && attempt();
  }

  // A new session on the same URL, set up as the first; its statements are prepared again on use.
  bool Reconnect() {
    Lib().PQreset(conn_);
    if (Lib().PQstatus(conn_) != CONNECTION_OK) {
      last_state_.clear();
      last_error_ = OneLine(Lib().PQerrorMessage(conn_));
      last_error_ += " (the connection to the server is lost and could not be opened again)";
      return false;
    }
    ++generation_;
    PGresult* result = Lib().PQexec(conn_, setup_.c_str());
    bool ok = Check(result);
    Lib().PQclear(result);
    return ok;
  }

  Status ExecScript(const char* sql, const std::string& what) override {
    PGresult* result = Lib().PQexec(conn_, sql);
    bool ok = Check(result);
    Lib().PQclear(result);
    return ok ? Status::Ok() : Status::IOError(what + ": " + last_error_);
  }

  Status BeginWrite(const std::string& what) override {
    return Begin(std::string("BEGIN; SELECT pg_advisory_xact_lock(") + kWriteLockKey + ")", what);
  }
  Status BeginSnapshot(const std::string& what) override {
    return Begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", what);
  }
  bool InTransaction() const override { return Lib().PQtransactionStatus(conn_) != PQTRANS_IDLE; }

  std::string LastError() const override { return last_error_; }
  bool LastErrorWasLock() const override { return IsLockState(last_state_); }

  PGconn* conn() const { return conn_; }

  // Whether `result` succeeded (with rows or without); records its error when not.
  bool Check(const PGresult* result) {
    ExecStatusType status = result ? Lib().PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return true;
    const char* state = result ? Lib().PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    last_state_ = state ? state : "";
    // The primary message alone ("canceling statement due to lock timeout"), without libpq's
    // "ERROR:  " and its DETAIL and CONTEXT lines: one line, as SQLite's messages.
    const char* primary = result ? Lib().PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    last_error_ = OneLine(primary && *primary ? primary : Lib().PQerrorMessage(conn_));
    if (Lost()) last_error_ += " (the connection to the server is lost)";
    return false;
  }

 private:
  Status Begin(const std::string& sql, const std::string& what) {
    // A transaction starts here: whatever was open on a lost connection is gone already.
    if (Lost() && !Reconnect()) return Status::IOError(what + ": " + last_error_);
    const bool ok = OnceMoreIfLostIdle(!InTransaction(), [&] {
      PGresult* result = Lib().PQexec(conn_, sql.c_str());
      bool begun = Check(result);
      Lib().PQclear(result);
      return begun;
    });
    if (ok) return Status::Ok();
    Status status = Status::IOError(what + ": " + last_error_ +
                                    (LastErrorWasLock() ? " (the database is locked by another process; nothing was written)" : ""));
    if (InTransaction()) Lib().PQclear(Lib().PQexec(conn_, "ROLLBACK"));  // BEGIN ran but the lock was not granted
    return status;
  }

  PGconn* conn_;
  std::string setup_;        // the session's settings, run again after a reconnect
  uint64_t generation_ = 0;  // how many times the connection was opened again
  std::map<std::string, std::unique_ptr<PgStatement>, std::less<>> statements_;
  std::string last_error_, last_state_;
};

StepResult PgStatement::Step() {
  if (!result_) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    for (const auto& value : values_) {
      values.push_back(value.data());
      lengths.push_back(static_cast<int>(value.size()));
    }
    auto run = [&] {
      // Prepared again on a session opened since (a reconnect drops the server's statements).
      if (generation_ != connection_->generation()) {
        if (!connection_->PrepareOnServer(name_, sql_)) return false;
        generation_ = connection_->generation();
      }
      result_ = Lib().PQexecPrepared(connection_->conn(), name_.c_str(), static_cast<int>(values.size()),
                                     values.data(), lengths.data(), formats_.data(), 0);
      if (connection_->Check(result_)) return true;
      Lib().PQclear(result_);
      result_ = nullptr;
      return false;
    };
    // Only a read is sent twice: writes run inside transactions.
    if (!connection_->OnceMoreIfLostIdle(!connection_->InTransaction() && sql_.starts_with("SELECT"), run))
      return StepResult::kError;
  }
  if (Lib().PQresultStatus(result_) != PGRES_TUPLES_OK) return StepResult::kDone;
  if (row_ + 1 >= Lib().PQntuples(result_)) return StepResult::kDone;
  ++row_;
  return StepResult::kRow;
}

}  // namespace

bool IsPostgresLocation(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Result<std::unique_ptr<Connection>> OpenPostgresConnection(const std::string& url, Mode mode, int busy_timeout_ms) {
  if (!LoadLibpq().ok()) return LoadLibpq().status().WithContext(RedactPassword(url));
  // The URL's own settings win over these defaults (libpq expands dbname last).
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "nflux", url.c_str(), nullptr};
  PGconn* conn = Lib().PQconnectdbParams(keywords, values, 1);
  if (!conn) return Status::IOError(RedactPassword(url) + ": cannot connect: out of memory");
  if (Lib().PQstatus(conn) != CONNECTION_OK) {
    std::string message = OneLine(Lib().PQerrorMessage(conn));
    Lib().PQfinish(conn);
    return Status::IOError(RedactPassword(url) + ": cannot connect: " + message);
  }
  Lib().PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "relation exists, skipping" is not news
  // A writer waits this long for the write lock, as SQLite's busy timeout; UTC timestamps.
  std::string setup = "SET lock_timeout = " + std::to_string(busy_timeout_ms) + "; SET TIME ZONE 'UTC'";
  // Read-only: the server refuses any write on this connection, as SQLite's read-only open does.
  if (mode == Mode::kReadOnly) setup += "; SET default_transaction_read_only = on";
  auto connection = std::make_unique<PgConnection>(conn, setup);
  if (Status status = connection->ExecScript(setup.c_str(), "configuring the session"); !status.ok())
    return status.WithContext(RedactPassword(url));
  return std::unique_ptr<Connection>(std::move(connection));
}

std::string RedactPassword(const std::string& location) {
  if (!IsPostgresLocation(location)) return location;
  size_t scheme = location.find("://") + 3;
  size_t at = location.find('@', scheme);
  size_t colon = location.find(':', scheme);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return location;
  return location.substr(0, colon + 1) + "***" + location.substr(at);
}

}  // namespace nflux::store
