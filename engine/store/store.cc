#include "store/store.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "base/text.h"
#include "store/chain.h"
#include "store/sql_store.h"

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

Status CheckUtf8(std::string_view text, const std::string& what) {
  return IsValidUtf8(text) ? Status::Ok() : Status::InvalidArgument(what + " cannot be stored: it is not UTF-8");
}

Result<CompressedText> CompressText(std::string_view text, const std::string& what,
                                    std::shared_ptr<const CompressionDictionary> dictionary) {
  if (Status utf8 = CheckUtf8(text, what); !utf8.ok()) return utf8;
  auto bytes = Compress(text, dictionary.get());
  if (!bytes.ok()) return bytes.status();
  return CompressedText{std::move(bytes).value(), std::move(dictionary)};
}

std::string DictionaryName(int64_t dictionary_id) { return "dictionary-" + std::to_string(dictionary_id); }

Status SetTraceId(std::string& evaluation, std::string_view trace_id) {
  static constexpr std::string_view kKey = R"(,"trace_id":")";
  const size_t at = evaluation.rfind(kKey);
  const size_t value = at + kKey.size();
  if (at != std::string::npos && evaluation.starts_with('{') && evaluation.ends_with("\"}") &&
      evaluation.find('"', value) == evaluation.size() - 2) {
    evaluation.replace(value, evaluation.size() - 2 - value, trace_id);
    return Status::Ok();
  }
  auto parsed = nlohmann::ordered_json::parse(evaluation, nullptr, false);
  if (!parsed.is_object()) return Status::InvalidArgument("a run's evaluation must be a JSON object");
  parsed["trace_id"] = trace_id;
  evaluation = parsed.dump();
  return Status::Ok();
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& location, Mode mode, int busy_timeout_ms) {
  auto connection = IsPostgresLocation(location) ? OpenPostgresConnection(location, mode, busy_timeout_ms)
                                            : OpenSqliteConnection(location, mode, busy_timeout_ms);
  if (!connection.ok()) return connection.status();
  auto store = SqlStore::Open(std::move(*connection), RedactPassword(location), mode);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

StorePool::StorePool(std::string location, Mode mode, size_t max_size, int busy_timeout_ms)
    : location_(std::move(location)), mode_(mode), max_size_(std::max<size_t>(max_size, 1)),
      busy_timeout_ms_(busy_timeout_ms) {}

Result<StorePool::Lease> StorePool::Acquire() {
  {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [this] { return !idle_.empty() || open_ < max_size_; });
    if (!idle_.empty()) {
      std::unique_ptr<Store> store = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(store));
    }
    ++open_;  // counted before opening, outside the lock, so that the bound holds meanwhile
  }
  auto opened = OpenStore(location_, mode_, busy_timeout_ms_);
  if (!opened.ok()) {
    Return(nullptr);
    return opened.status();
  }
  return Lease(this, std::move(opened).value());
}

void StorePool::Return(std::unique_ptr<Store> store) {
  {
    std::lock_guard lock(mutex_);
    if (store) idle_.push_back(std::move(store));
    else --open_;
  }
  returned_.notify_one();
}

size_t StorePool::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

StorePool::Lease::~Lease() {
  if (pool_) pool_->Return(std::move(store_));
}

Result<std::unique_ptr<SqlStore>> SqlStore::Open(std::unique_ptr<Connection> connection, std::string location,
                                                 Mode mode) {
  std::unique_ptr<SqlStore> store(new SqlStore(std::move(connection), std::move(location)));
  if (Status status = store->Migrate(mode); !status.ok()) return status;
  return store;
}

SqlStore::~SqlStore() { RollbackBatch(); }

Status SqlStore::Ping() const {
  // A table every schema has, so that the read reaches the database file or server.
  auto query = Sql("SELECT id FROM runs LIMIT 1");
  if (!query.ok()) return query.status();
  if ((*query)->Step() == StepResult::kError) return Error("reading the database");
  return Status::Ok();
}

Status SqlStore::Error(const std::string& what) const {
  std::string message = location_ + ": " + what + ": " + connection_->LastError();
  if (connection_->LastErrorWasLock()) message += " (the database is locked by another process; nothing was written)";
  return Status::IOError(message);
}

Result<Query> SqlStore::Sql(const std::string& sql) const {
  auto query = connection_->Prepare(sql);
  if (!query.ok()) return query.status().WithContext(location_);
  return query;
}

Status SqlStore::Exec(const std::string& sql, const std::string& what) {
  auto query = Sql(sql);
  if (!query.ok()) return query.status();
  if ((*query)->Step() == StepResult::kError) return Error(what);
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
  Status status = savepoint_ ? store_->Exec("SAVEPOINT nflux_write", what) : store_->BeginWrite(what);
  if (!status.ok()) return status;
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit(const std::string& what) {
  if (Status status = store_->Exec(savepoint_ ? "RELEASE nflux_write" : "COMMIT", what); !status.ok()) return status;
  open_ = false;
  return Status::Ok();
}

Status SqlStore::BeginBatch() {
  if (batch_open_) return Status::InvalidArgument(location_ + ": a batch of writes is already open");
  if (Status status = BeginWrite("starting a batch of writes"); !status.ok()) return status;
  batch_open_ = true;
  return Status::Ok();
}

Status SqlStore::CommitBatch() {
  if (!batch_open_) return Status::InvalidArgument(location_ + ": no batch of writes is open");
  Status status = Exec("COMMIT", "committing a batch of writes");
  if (!status.ok()) RollbackBatch();
  batch_open_ = false;
  return status;
}

void SqlStore::RollbackBatch() {
  if (!batch_open_) return;
  // Nothing to report from a failed ROLLBACK: the transaction is gone either way.
  if (connection_->InTransaction()) (void)Exec("ROLLBACK", "rolling back a batch of writes");
  batch_open_ = false;
}

}  // namespace nflux::store
