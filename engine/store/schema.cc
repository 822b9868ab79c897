// The schema and its migrations. The schema version is PRAGMA user_version on SQLite and the one
// row of nflux_schema on PostgreSQL; each step runs in its own write transaction and re-reads the
// version inside it, so processes opening one new database at once migrate it exactly once.
// SQLite databases climb from whatever version they were written with; a PostgreSQL database
// starts at schema 4 (pg_schema.cc), the first one that backend had, and climbs from there.
#include <nlohmann/json.hpp>

#include "store/chain.h"
#include "store/sql_store.h"

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

// Schema 5: releases of knowledge and rules for every service replica, their activations (the
// latest is the active release), and the release each run used (0: none). One text for both
// backends: ids are chosen under the write lock, so no autoincrement is needed.
constexpr const char* kSchema5 = R"sql(
  CREATE TABLE releases (
    id BIGINT PRIMARY KEY, knowledge_version TEXT NOT NULL, rules_version TEXT NOT NULL,
    published_at TEXT NOT NULL, actor TEXT NOT NULL, note TEXT NOT NULL, content_hash TEXT NOT NULL,
    audit_sequence BIGINT NOT NULL UNIQUE);
  CREATE TABLE release_activations (
    id BIGINT PRIMARY KEY, release_id BIGINT NOT NULL REFERENCES releases (id), at TEXT NOT NULL,
    actor TEXT NOT NULL, content_hash TEXT NOT NULL, audit_sequence BIGINT NOT NULL UNIQUE);
  ALTER TABLE runs ADD COLUMN release_id BIGINT NOT NULL DEFAULT 0;
)sql";

// Schema 6: compression dictionaries (store.h), chained like runs (kind "dictionary"), their content
// kept compressed (plain zstd) and hashed uncompressed; the dictionary each run was compressed with
// (0: none). `bytes` is the backend's binary type.
std::string Schema6(std::string_view bytes) {
  return "CREATE TABLE compression_dictionaries (id BIGINT PRIMARY KEY, content " + std::string(bytes) +
         " NOT NULL, content_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, actor TEXT NOT NULL, "
         "audit_sequence BIGINT NOT NULL UNIQUE);\n"
         "ALTER TABLE runs ADD COLUMN dictionary_id BIGINT NOT NULL DEFAULT 0;\n";
}

}  // namespace

Result<int> SqlStore::SchemaVersion() const {
  if (connection_->backend() == Backend::kPostgres) return PgSchemaVersion();
  int version = 0;
  {
    auto query = Sql("PRAGMA user_version");
    if (!query.ok()) return query.status();
    if ((*query)->Step() != StepResult::kRow) return Error("reading the schema version");
    version = static_cast<int>((*query)->Int(0));
  }
  if (version != 0) return version;
  // nflux 0.1 never set user_version: its kb_builds table marks schema 1.
  auto query = Sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kb_builds'");
  if (!query.ok()) return query.status();
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kError) return Error("reading the schema");
  return rc == StepResult::kRow ? 1 : 0;
}

Status SqlStore::SetSchemaVersion(int version, const std::string& what) {
  if (connection_->backend() == Backend::kPostgres)
    return Exec("UPDATE nflux_schema SET version = " + std::to_string(version), what);
  return Exec("PRAGMA user_version = " + std::to_string(version), what);
}

Status SqlStore::Migrate(Mode mode) {
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
  while (*version < kSchemaVersion) {
    if (Status status = MigrateStep(*version); !status.ok()) return status;
    version = SchemaVersion();
    if (!version.ok()) return version.status();
  }
  return Status::Ok();
}

Status SqlStore::MigrateStep(int from) {
  Transaction transaction(this);
  std::string what = "upgrading the schema from " + std::to_string(from) + " to " + std::to_string(from + 1);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto current = SchemaVersion();  // another process may have done it while we waited
  if (!current.ok()) return current.status();
  if (*current == from) {
    int to = from + 1;
    Status status;
    if (connection_->backend() == Backend::kPostgres && from == 0) {
      status = CreatePgSchema();
      to = kPgFirstSchemaVersion;
    } else {
      status = from == 0   ? MigrateToV1()
               : from == 1 ? MigrateToV2()
               : from == 2 ? MigrateToV3()
               : from == 3 ? MigrateToV4()
               : from == 4 ? connection_->ExecScript(kSchema5, "creating schema 5")
                           : connection_->ExecScript(
                                 Schema6(connection_->backend() == Backend::kPostgres ? "BYTEA" : "BLOB").c_str(),
                                 "creating schema 6");
    }
    if (!status.ok()) return status;
    if (status = SetSchemaVersion(to, what); !status.ok()) return status;
  }
  return transaction.Commit(what);
}

Status SqlStore::MigrateToV1() {
  return connection_->ExecScript(kSchema1, "creating schema 1");
}

// Every schema-1 build moves into blobs, a knowledge bundle and a build without rules, so that it
// still loads through FindBuild and GetBundle; kb_sources is dropped (its texts are the blobs now).
Status SqlStore::MigrateToV2() {
  if (Status status = connection_->ExecScript(kSchema2, "creating schema 2"); !status.ok()) return status;
  std::vector<std::pair<std::string, std::string>> old_builds;
  {
    auto query = Sql("SELECT version, source_dir FROM kb_builds ORDER BY built_at, rowid");
    if (!query.ok()) return query.status();
    StepResult rc;
    while ((rc = (*query)->Step()) == StepResult::kRow) old_builds.emplace_back((*query)->Text(0), (*query)->Text(1));
    if (rc != StepResult::kDone) return Error("reading schema-1 builds");
  }
  for (const auto& [version, source_dir] : old_builds) {
    if (Status status = MoveOldBuild(version, source_dir); !status.ok()) return status;
  }
  return Exec("DROP TABLE kb_sources", "dropping kb_sources");
}

Status SqlStore::MigrateToV3() {
  return connection_->ExecScript(kSchema3, "creating schema 3");
}

Status SqlStore::MigrateToV4() {
  return connection_->ExecScript(kSchema4, "creating schema 4");
}

Status SqlStore::MoveOldBuild(const std::string& version, const std::string& source_dir) {
  Bundle bundle{BundleKind::kKnowledge, version, {}};
  {
    auto query = Sql("SELECT path, content FROM kb_sources WHERE version = ? ORDER BY path");
    if (!query.ok()) return query.status();
    (*query)->Bind(1, version);
    StepResult rc;
    // Schema 1 stored paths as given ("knowledge/labs.json"); bundles name files relative to the folder.
    std::string prefix = source_dir + "/";
    while ((rc = (*query)->Step()) == StepResult::kRow) {
      std::string path = (*query)->Text(0);
      if (path.starts_with(prefix)) path.erase(0, prefix.size());
      bundle.files.push_back({path, (*query)->Text(1)});
    }
    if (rc != StepResult::kDone) return Error("reading the sources of " + version);
  }
  auto hash = StoreBundle(bundle);
  if (!hash.ok()) return hash.status();
  auto query = Sql("INSERT INTO builds (knowledge_version, rules_version, built_at, source_dir, engine_version, nodes, "
                   "edges) SELECT version, '', built_at, source_dir, engine_version, nodes, edges FROM kb_builds "
                   "WHERE version = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, version);
  if ((*query)->Step() != StepResult::kDone) return Error("moving build " + version);
  return Status::Ok();
}

}  // namespace nflux::store
