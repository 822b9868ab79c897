#include "store/store.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace nflux::store {
namespace {

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  Statement& Bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, int value) {
    sqlite3_bind_int(stmt_, index, value);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int column) const {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return text ? std::string(text, sqlite3_column_bytes(stmt_, column)) : std::string();
  }
  int Int(int column) const { return sqlite3_column_int(stmt_, column); }
  std::string Error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

std::string NowUtc() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

Status SqlError(const std::string& path, sqlite3* db, const std::string& what) {
  int code = sqlite3_errcode(db);
  std::string message = path + ": " + what + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    message += " (the database is locked by another process; nothing was written)";
  return Status::IOError(message);
}

}  // namespace

std::string DefaultDatabasePath() {
  if (const char* env = std::getenv("NFLUX_DB"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/nflux/nflux.db";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/nflux/nflux.db";
  return "nflux.db";
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, Mode mode) {
  if (mode == Mode::kReadWrite) {
    std::error_code error;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) return Status::IOError(path + ": cannot create folder " + parent.string() + ": " + error.message());
  } else if (!std::filesystem::exists(path)) {
    return Status::NotFound(path + ": database not found (run 'nflux kb build' first, or pass --db PATH)");
  }
  sqlite3* db = nullptr;
  int flags = mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Status status = Status::IOError(path + ": cannot open database: " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 2000);
  std::unique_ptr<Database> database(new Database(db, path));
  if (mode == Mode::kReadWrite) {
    if (Status status = database->Migrate(); !status.ok()) return status;
  }
  return database;
}

Database::~Database() { sqlite3_close(db_); }

Status Database::Execute(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    Status status = SqlError(path_, db_, "SQL failed");
    sqlite3_free(error);
    return status;
  }
  return Status::Ok();
}

Status Database::Migrate() {
  return Execute(R"sql(
    PRAGMA foreign_keys = ON;
    CREATE TABLE IF NOT EXISTS kb_builds (
      version TEXT PRIMARY KEY, built_at TEXT NOT NULL, source_dir TEXT NOT NULL,
      engine_version TEXT NOT NULL, nodes INTEGER NOT NULL, edges INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS kb_sources (
      version TEXT NOT NULL REFERENCES kb_builds(version), path TEXT NOT NULL, content TEXT NOT NULL,
      PRIMARY KEY (version, path));
    CREATE TABLE IF NOT EXISTS kb_nodes (
      version TEXT NOT NULL REFERENCES kb_builds(version), id TEXT NOT NULL, kind TEXT NOT NULL,
      label TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (version, id));
    CREATE TABLE IF NOT EXISTS kb_edges (
      version TEXT NOT NULL REFERENCES kb_builds(version), from_id TEXT NOT NULL, type TEXT NOT NULL,
      to_id TEXT NOT NULL, sign INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (version, from_id, type, to_id));
    CREATE TABLE IF NOT EXISTS kb_citations (
      version TEXT NOT NULL REFERENCES kb_builds(version), key TEXT NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (version, key));
  )sql");
}

Status Database::SaveKnowledge(const knowledge::KnowledgeBase& kb, const std::vector<knowledge::SourceFile>& sources,
                               const std::string& source_dir) {
  {
    Statement exists(db_, "SELECT 1 FROM kb_builds WHERE version = ?");
    if (!exists.ok()) return SqlError(path_, db_, "prepare");
    exists.Bind(1, kb.version());
    int rc = exists.Step();
    if (rc == SQLITE_ROW) return Status::Ok();
    if (rc != SQLITE_DONE) return SqlError(path_, db_, "checking for the build");
  }
  if (Status status = Execute("BEGIN IMMEDIATE"); !status.ok()) return status;
  auto fail = [&](const std::string& what) {
    Status status = SqlError(path_, db_, what);
    // The failure above is the error to report; a failed ROLLBACK adds nothing (SQLite rolls an
    // open transaction back when the connection closes).
    (void)Execute("ROLLBACK");
    return status;
  };
  {
    Statement build(db_, "INSERT INTO kb_builds VALUES (?, ?, ?, ?, ?, ?)");
    build.Bind(1, kb.version()).Bind(2, NowUtc()).Bind(3, source_dir).Bind(4, NFLUX_VERSION)
        .Bind(5, static_cast<int>(kb.nodes().size())).Bind(6, static_cast<int>(kb.edges().size()));
    if (build.Step() != SQLITE_DONE) return fail("storing the build");
    Statement source(db_, "INSERT INTO kb_sources VALUES (?, ?, ?)");
    for (const auto& file : sources) {
      source.Bind(1, kb.version()).Bind(2, file.path).Bind(3, file.text);
      if (source.Step() != SQLITE_DONE) return fail("storing " + file.path);
      source.Reset();
    }
    Statement node(db_, "INSERT INTO kb_nodes VALUES (?, ?, ?, ?, ?)");
    for (const auto& n : kb.nodes()) {
      node.Bind(1, kb.version()).Bind(2, n.id).Bind(3, std::string(knowledge::KindName(n.kind))).Bind(4, n.label)
          .Bind(5, n.data.dump());
      if (node.Step() != SQLITE_DONE) return fail("storing node " + n.id);
      node.Reset();
    }
    Statement edge(db_, "INSERT INTO kb_edges VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& e : kb.edges()) {
      edge.Bind(1, kb.version()).Bind(2, e.from).Bind(3, std::string(knowledge::EdgeTypeName(e.type))).Bind(4, e.to)
          .Bind(5, e.sign).Bind(6, e.ToJson().dump());
      if (edge.Step() != SQLITE_DONE) return fail("storing edge " + e.from + " -> " + e.to);
      edge.Reset();
    }
    Statement citation(db_, "INSERT INTO kb_citations VALUES (?, ?, ?)");
    for (const auto& [key, c] : kb.citations()) {
      citation.Bind(1, kb.version()).Bind(2, key).Bind(3, c.data.dump());
      if (citation.Step() != SQLITE_DONE) return fail("storing citation " + key);
      citation.Reset();
    }
  }
  if (Status status = Execute("COMMIT"); !status.ok()) {
    (void)Execute("ROLLBACK");  // Report the COMMIT failure, as above.
    return status;
  }
  return Status::Ok();
}

Result<std::vector<knowledge::SourceFile>> Database::LoadKnowledgeSources(const std::optional<std::string>& version) const {
  std::string chosen;
  if (version) {
    chosen = *version;
  } else {
    Statement latest(db_, "SELECT version FROM kb_builds ORDER BY built_at DESC, rowid DESC LIMIT 1");
    if (!latest.ok()) return SqlError(path_, db_, "reading builds");
    if (latest.Step() != SQLITE_ROW)
      return Status::NotFound(path_ + ": no knowledge base has been built into this database (run 'nflux kb build')");
    chosen = latest.Text(0);
  }
  Statement sources(db_, "SELECT path, content FROM kb_sources WHERE version = ? ORDER BY path");
  if (!sources.ok()) return SqlError(path_, db_, "reading sources");
  sources.Bind(1, chosen);
  std::vector<knowledge::SourceFile> files;
  int rc;
  while ((rc = sources.Step()) == SQLITE_ROW) files.push_back(knowledge::SourceFile{sources.Text(0), sources.Text(1)});
  if (rc != SQLITE_DONE) return SqlError(path_, db_, "reading sources");
  if (files.empty()) return Status::NotFound(path_ + ": knowledge version '" + chosen + "' is not in this database");
  return files;
}

Result<std::vector<KnowledgeBuild>> Database::ListKnowledgeBuilds() const {
  Statement builds(db_, "SELECT version, built_at, source_dir, nodes, edges FROM kb_builds ORDER BY built_at, rowid");
  if (!builds.ok()) return SqlError(path_, db_, "reading builds");
  std::vector<KnowledgeBuild> result;
  while (builds.Step() == SQLITE_ROW)
    result.push_back(KnowledgeBuild{builds.Text(0), builds.Text(1), builds.Text(2), builds.Int(3), builds.Int(4)});
  return result;
}

}  // namespace nflux::store
