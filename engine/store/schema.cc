// The schema and its migrations. PRAGMA user_version is the schema version; each step runs in its
// own transaction and re-reads the version inside it, so processes opening one new database at
// once migrate it exactly once.
#include <nlohmann/json.hpp>

#include "store/chain.h"
#include "store/sqlite_store.h"

namespace nflux::store {
namespace {

// Schema 1, exactly as nflux 0.1 created it (the knowledge part only; user_version stayed 0).
constexpr const char* kSchema1 = R"sql(
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
)sql";

// Schema 2: content-addressed knowledge and rules, builds of both, versioned cases, runs and the
// audit chain. Runs keep their evaluation and trace compressed (zstd); everything else is text.
constexpr const char* kSchema2 = R"sql(
  CREATE TABLE blobs (hash TEXT PRIMARY KEY, text TEXT NOT NULL);
  CREATE TABLE bundles (
    kind TEXT NOT NULL CHECK (kind IN ('knowledge', 'rules')), version TEXT NOT NULL,
    manifest TEXT NOT NULL, bundle_hash TEXT NOT NULL, PRIMARY KEY (kind, version));
  CREATE TABLE builds (
    id INTEGER PRIMARY KEY, knowledge_version TEXT NOT NULL, rules_version TEXT NOT NULL,
    built_at TEXT NOT NULL, source_dir TEXT NOT NULL, engine_version TEXT NOT NULL,
    nodes INTEGER NOT NULL, edges INTEGER NOT NULL);
  CREATE INDEX builds_by_knowledge ON builds (knowledge_version);
  CREATE INDEX builds_by_rules ON builds (rules_version);
  CREATE TABLE cases (case_id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
  CREATE TABLE case_versions (
    case_id TEXT NOT NULL REFERENCES cases (case_id), version INTEGER NOT NULL,
    created_at TEXT NOT NULL, actor TEXT NOT NULL, submitted TEXT NOT NULL, normalised TEXT NOT NULL,
    content_hash TEXT NOT NULL, audit_sequence INTEGER NOT NULL UNIQUE, PRIMARY KEY (case_id, version));
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, actor TEXT NOT NULL, origin TEXT NOT NULL,
    case_id TEXT NOT NULL, case_version INTEGER NOT NULL,
    knowledge_version TEXT NOT NULL, rules_version TEXT NOT NULL, engine_version TEXT NOT NULL,
    options TEXT NOT NULL, evaluation BLOB NOT NULL, trace BLOB NOT NULL,
    content_hash TEXT NOT NULL, audit_sequence INTEGER NOT NULL UNIQUE,
    FOREIGN KEY (case_id, case_version) REFERENCES case_versions (case_id, version));
  CREATE INDEX runs_by_case ON runs (case_id, id);
  CREATE TABLE audit_log (
    sequence INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
    subject TEXT NOT NULL, content_hash TEXT NOT NULL, prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL);
)sql";

// Schema 3: CDS Hooks. A hook run keeps its hookInstance (a column of runs, hashed through the run's
// origin) and the uuids of the cards it answered; feedback on a card is stored with its run and
// chained like runs and case versions.
constexpr const char* kSchema3 = R"sql(
  ALTER TABLE runs ADD COLUMN hook_instance TEXT NOT NULL DEFAULT '';
  CREATE INDEX runs_by_hook_instance ON runs (hook_instance) WHERE hook_instance <> '';
  CREATE TABLE hook_cards (uuid TEXT PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id));
  CREATE TABLE hook_feedback (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id), card TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')), outcome_timestamp TEXT NOT NULL,
    detail TEXT NOT NULL, received_at TEXT NOT NULL, actor TEXT NOT NULL, content_hash TEXT NOT NULL,
    audit_sequence INTEGER NOT NULL UNIQUE);
  CREATE INDEX hook_feedback_by_run ON hook_feedback (run_id, id);
)sql";

// Schema 4: the web app's local accounts, their sessions (only a hash of each token), the events of
// each account (chained like runs: kind "account"), and the practitioner who owns each case.
constexpr const char* kSchema4 = R"sql(
  CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('practitioner', 'reviewer', 'author', 'admin')),
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL,
    failed_sign_ins INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE account_events (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL,
    actor TEXT NOT NULL, at TEXT NOT NULL, content_hash TEXT NOT NULL, audit_sequence INTEGER NOT NULL UNIQUE);
  CREATE INDEX account_events_by_account ON account_events (account, id);
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts (name), csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
  CREATE TABLE case_owners (case_id TEXT PRIMARY KEY, owner TEXT NOT NULL);
)sql";

}  // namespace

Result<int> SqliteStore::SchemaVersion() const {
  int version = 0;
  {
    auto query = Sql("PRAGMA user_version");
    if (!query.ok()) return query.status();
    if ((*query)->Step() != SQLITE_ROW) return Error("reading the schema version");
    version = static_cast<int>((*query)->Int(0));
  }
  if (version != 0) return version;
  // nflux 0.1 never set user_version: its kb_builds table marks schema 1.
  auto query = Sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kb_builds'");
  if (!query.ok()) return query.status();
  int rc = (*query)->Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("reading the schema");
  return rc == SQLITE_ROW ? 1 : 0;
}

Status SqliteStore::Migrate(Mode mode) {
  auto version = SchemaVersion();
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion)
    return Status::IOError(location_ + ": written by a newer nflux (schema " + std::to_string(*version) +
                           "; this one knows " + std::to_string(kSchemaVersion) + ")");
  if (*version == kSchemaVersion) return Status::Ok();
  if (mode == Mode::kReadOnly)
    return Status::IOError(location_ + ": the database has schema " + std::to_string(*version) + " and needs " +
                           std::to_string(kSchemaVersion) +
                           "; open it read-write once to upgrade it (e.g. 'nflux kb build --db " + location_ + "')");
  for (int from = *version; from < kSchemaVersion; ++from) {
    if (Status status = MigrateStep(from); !status.ok()) return status;
  }
  return Status::Ok();
}

Status SqliteStore::MigrateStep(int from) {
  Transaction transaction(this);
  std::string what = "upgrading the schema from " + std::to_string(from) + " to " + std::to_string(from + 1);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto current = SchemaVersion();  // another process may have done it while we waited
  if (!current.ok()) return current.status();
  if (*current == from) {
    Status status = from == 0   ? MigrateToV1()
                    : from == 1 ? MigrateToV2()
                    : from == 2 ? MigrateToV3()
                                : MigrateToV4();
    if (!status.ok()) return status;
    status = Exec("PRAGMA user_version = " + std::to_string(from + 1), what);
    if (!status.ok()) return status;
  }
  return transaction.Commit(what);
}

Status SqliteStore::MigrateToV1() {
  // Several statements: sqlite3_exec (schema text only, nothing bound).
  char* error = nullptr;
  int rc = sqlite3_exec(db_, kSchema1, nullptr, nullptr, &error);
  sqlite3_free(error);
  return rc == SQLITE_OK ? Status::Ok() : Error("creating schema 1");
}

// Every schema-1 build moves into blobs, a knowledge bundle and a build without rules, so that it
// still loads through FindBuild and GetBundle; kb_sources is dropped (its texts are the blobs now).
Status SqliteStore::MigrateToV2() {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, kSchema2, nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return Error("creating schema 2");
  std::vector<std::pair<std::string, std::string>> old_builds;
  {
    auto query = Sql("SELECT version, source_dir FROM kb_builds ORDER BY built_at, rowid");
    if (!query.ok()) return query.status();
    while ((rc = (*query)->Step()) == SQLITE_ROW) old_builds.emplace_back((*query)->Text(0), (*query)->Text(1));
    if (rc != SQLITE_DONE) return Error("reading schema-1 builds");
  }
  for (const auto& [version, source_dir] : old_builds) {
    if (Status status = MoveOldBuild(version, source_dir); !status.ok()) return status;
  }
  return Exec("DROP TABLE kb_sources", "dropping kb_sources");
}

Status SqliteStore::MigrateToV3() {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, kSchema3, nullptr, nullptr, &error);
  sqlite3_free(error);
  return rc == SQLITE_OK ? Status::Ok() : Error("creating schema 3");
}

Status SqliteStore::MigrateToV4() {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, kSchema4, nullptr, nullptr, &error);
  sqlite3_free(error);
  return rc == SQLITE_OK ? Status::Ok() : Error("creating schema 4");
}

Status SqliteStore::MoveOldBuild(const std::string& version, const std::string& source_dir) {
  Bundle bundle{BundleKind::kKnowledge, version, {}};
  {
    auto query = Sql("SELECT path, content FROM kb_sources WHERE version = ? ORDER BY path");
    if (!query.ok()) return query.status();
    (*query)->Bind(1, version);
    int rc;
    // Schema 1 stored paths as given ("knowledge/labs.json"); bundles name files relative to the folder.
    std::string prefix = source_dir + "/";
    while ((rc = (*query)->Step()) == SQLITE_ROW) {
      std::string path = (*query)->Text(0);
      if (path.starts_with(prefix)) path.erase(0, prefix.size());
      bundle.files.push_back({path, (*query)->Text(1)});
    }
    if (rc != SQLITE_DONE) return Error("reading the sources of " + version);
  }
  auto hash = StoreBundle(bundle);
  if (!hash.ok()) return hash.status();
  auto query = Sql("INSERT INTO builds (knowledge_version, rules_version, built_at, source_dir, engine_version, nodes, "
                   "edges) SELECT version, '', built_at, source_dir, engine_version, nodes, edges FROM kb_builds "
                   "WHERE version = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, version);
  if ((*query)->Step() != SQLITE_DONE) return Error("moving build " + version);
  return Status::Ok();
}

}  // namespace nflux::store
