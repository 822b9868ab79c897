// Internal: store::Store over SQL, once for both backends. One Connection per SqlStore (SQLite:
// sqlite_connection.cc; PostgreSQL: pg_connection.cc). Schema and migrations: schema.cc (SQLite)
// and pg_schema.cc; writes: sql_store.cc; Verify(): verify.cc; CDS Hooks: hooks.cc; accounts:
// accounts.cc.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "store/connection.h"
#include "store/store.h"

namespace nflux::store {

// "case c-1 version 2": how messages and the audit chain name a case version.
std::string CaseSubject(const std::string& case_id, int version);
// An audit_log row read as sequence, at, actor, kind, subject, content_hash, prev_hash, entry_hash.
AuditEntry ReadAuditEntry(const Statement& row);
// Verify(): the audit entry a chained row names is there and records `subject` with `content_hash`;
// `row` holds the entry's sequence at `sequence_column` and, LEFT JOINed, its subject and content
// hash at `subject_column` and the one after. A problem names the row as `name` and what it is
// (`what`: "run", "case version"...).
void CheckAuditEntry(const Statement& row, int sequence_column, int subject_column, const std::string& name,
                     const std::string& subject, const std::string& content_hash, const std::string& what,
                     VerifyReport& report);

// The schema a new PostgreSQL database is created at (pg_schema.cc).
inline constexpr int kPgFirstSchemaVersion = 4;

class SqlStore final : public Store {
 public:
  // Takes an open connection and migrates its database (`mode` kReadWrite) or checks its schema.
  static Result<std::unique_ptr<SqlStore>> Open(std::unique_ptr<Connection> connection, std::string location,
                                                Mode mode);
  ~SqlStore() override;
  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  std::string Describe() const override { return location_; }
  Status Ping() const override;
  Result<CaseVersion> AddCaseVersion(const CaseVersion& version, const AddOptions& options) override;
  Result<CaseVersion> GetCaseVersion(const std::string& case_id, int version) const override;
  Result<std::vector<CaseVersion>> ListCaseVersions(const std::string& case_id) const override;
  Result<std::vector<CaseSummary>> ListCases() const override;
  Result<int64_t> SaveRun(RunToStore run) override;
  Result<bool> HasBundle(BundleKind kind, const std::string& version) const override;
  Result<RunRecord> GetRun(int64_t run_id) const override;
  Result<std::vector<RunSummary>> ListRuns(const std::optional<std::string>& case_id) const override;
  Result<std::optional<int64_t>> FindHookRun(const std::string& hook_instance) const override;
  Result<Feedback> SaveFeedback(Feedback feedback) override;
  Result<std::vector<Feedback>> ListFeedback(int64_t run_id) const override;
  Result<Account> AddAccount(Account account, const std::string& actor) override;  // accounts.cc
  Result<std::optional<Account>> FindAccount(const std::string& name) const override;
  Result<std::vector<Account>> ListAccounts() const override;
  Status UpdateSignIns(const std::string& name, int failed_sign_ins, int64_t locked_until,
                       AccountEvent event) override;
  Status RecordAccountEvent(AccountEvent event) override;
  Result<std::vector<AccountEvent>> ListAccountEvents(const std::string& name) const override;
  Status SaveSession(const Session& session) override;
  Result<std::optional<Session>> FindSession(const std::string& token_hash, int64_t now) const override;
  Status DeleteSession(const std::string& token_hash) override;
  Status SetCaseOwner(const std::string& case_id, const std::string& owner) override;
  Result<std::optional<std::string>> CaseOwner(const std::string& case_id) const override;
  Result<Bundle> GetBundle(BundleKind kind, const std::string& version) const override;
  Status SaveBuild(const knowledge::KnowledgeBase& kb, const Bundle& knowledge, const Bundle& rules,
                   const std::string& source_dir) override;
  Result<Build> FindBuild(const std::optional<std::string>& version) const override;
  Result<std::vector<Build>> ListBuilds() const override;
  Result<Release> PublishRelease(Release release, const Bundle& knowledge, const Bundle& rules) override;
  Result<Release> ActivateRelease(int64_t release_id, const std::string& actor) override;  // releases.cc
  Result<std::optional<Release>> ActiveRelease() const override;
  Result<std::vector<Release>> ListReleases() const override;
  Result<std::shared_ptr<const CompressionDictionary>> SaveDictionary(std::string content,
                                                                      const std::string& actor) override;  // dictionaries.cc
  Status BeginBatch() override;
  Status CommitBatch() override;
  void RollbackBatch() override;
  bool batch_open() const { return batch_open_; }
  Result<std::vector<AuditEntry>> AuditEntries() const override;
  Result<VerifyReport> Verify() const override;

  // Used by the migrations and the write helpers (all in this module).
  // IOError "location: what: <SQLite message>", plus the locked hint for SQLITE_BUSY.
  Status Error(const std::string& what) const;
  // The cached statement for `sql`; errors name the location.
  Result<Query> Sql(const std::string& sql) const;
  // Runs one statement that returns no rows (binding nothing).
  Status Exec(const std::string& sql, const std::string& what);
  // The write lock (Connection::BeginWrite), with the location in its error.
  Status BeginWrite(const std::string& what) { return connection_->BeginWrite(what).WithContext(location_); }

 private:
  SqlStore(std::unique_ptr<Connection> connection, std::string location)
      : connection_(std::move(connection)), location_(std::move(location)) {}
  // schema.cc
  Result<int> SchemaVersion() const;
  Status SetSchemaVersion(int version, const std::string& what);
  Result<int> PgSchemaVersion() const;  // pg_schema.cc
  Status CreatePgSchema();              // pg_schema.cc: schema kPgFirstSchemaVersion in one step
  Status Migrate(Mode mode);
  Status MigrateStep(int from);
  Status MigrateToV1();
  Status MigrateToV2();
  Status MigrateToV3();
  Status MigrateToV4();
  Status MoveOldBuild(const std::string& version, const std::string& source_dir);

  // Write steps, each inside the caller's transaction.
  Result<std::string> StoreBundle(const Bundle& bundle);  // -> its bundle hash
  Result<std::string> StoreBlob(const std::string& text);  // -> its hash
  Result<AuditEntry> AppendAudit(const std::string& actor, const std::string& kind, const std::string& subject,
                                 const std::string& content_hash);
  Result<CaseVersion> InsertCaseVersion(CaseVersion version, const AddOptions& options);
  Result<std::string> CaseHashOf(const std::string& case_id, int version) const;
  Result<int64_t> InsertRun(RunToStore& run);
  Status InsertHookCards(int64_t run_id, const std::vector<std::string>& cards);  // hooks.cc
  Status InsertAccountEvent(AccountEvent& event);  // accounts.cc: the event and its audit entry
  Result<int64_t> NextId(const std::string& table) const;  // MAX(id) + 1: call under the write lock
  Status InsertActivation(const Release& release, const std::string& actor);
  Status StoreKnowledgeTables(const knowledge::KnowledgeBase& kb, const std::string& source_dir);
  Status InsertBuild(const knowledge::KnowledgeBase& kb, const Bundle& knowledge, const Bundle& rules,
                     const std::string& source_dir);
  Result<std::optional<std::string>> StoredBundleHash(BundleKind kind, const std::string& version) const;
  Result<std::string> CaseVersionsText(const std::string& case_id) const;

  // verify.cc
  Status VerifyBundles(VerifyReport& report, std::map<std::string, std::string>& blob_names) const;
  Status VerifyBlobs(VerifyReport& report, const std::map<std::string, std::string>& blob_names) const;
  Status VerifyChain(VerifyReport& report) const;
  Status VerifyCaseVersions(VerifyReport& report) const;
  Status VerifyRuns(VerifyReport& report) const;
  Status VerifyFeedback(VerifyReport& report) const;  // hooks.cc
  Status VerifyAccountEvents(VerifyReport& report) const;  // accounts.cc
  Status VerifyReleases(VerifyReport& report) const;       // releases.cc
  Status VerifyDictionaries(VerifyReport& report) const;   // dictionaries.cc

  // dictionaries.cc: a stored dictionary by id, read once and kept (NotFound naming the run's `what`).
  Result<std::shared_ptr<const CompressionDictionary>> Dictionary(int64_t id, const std::string& what) const;

  std::unique_ptr<Connection> connection_;
  std::string location_;
  bool batch_open_ = false;  // BeginBatch(): writes are savepoints inside it
  // Dictionaries saved or read through this connection (a store is used by one thread at a time).
  mutable std::map<int64_t, std::shared_ptr<const CompressionDictionary>> dictionaries_;
};

// BEGIN IMMEDIATE (the write lock taken up front, so a writer waits in the busy handler instead
// of failing half-way); rolls back on destruction unless committed. Inside a batch (BeginBatch) a
// savepoint instead, released on commit and rolled back to on destruction.
class Transaction {
 public:
  explicit Transaction(SqlStore* store) : store_(store) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status Begin(const std::string& what);
  Status Commit(const std::string& what);

 private:
  SqlStore* store_;
  bool open_ = false;
  bool savepoint_ = false;
};

}  // namespace nflux::store
