// Persistence: stored cases (every version), runs (an evaluation with everything needed to replay
// it), compiled knowledge and rule builds, and the tamper-evident audit chain. Nothing else in
// NeuroFlux touches SQL.
//
// The interface speaks in cases, runs and audit entries, never in SQL, so that a second backend (a
// PostgreSQL server for a clinic) fits behind it without touching callers:
//
//   auto store = store::OpenStore(path, store::Mode::kReadWrite);   // SQLite file (created, migrated)
//   auto v = (*store)->AddCaseVersion({.case_id = "c-1", .submitted = text, .normalised = json});
//   auto run = (*store)->SaveRun(run_to_store);                      // -> run id, chained
//   auto report = (*store)->Verify();                                // recomputes every hash
//
// Content addressing. Knowledge files and rule texts are stored once per content: a file is a blob
// keyed by the SHA-256 of its text; a bundle (one knowledge or rule version) is the list of its
// files' names and blob hashes, keyed by its version. 10,000 runs under one rule base store it once.
//
// Tamper evidence. Every case version and every run appends one entry to a single audit chain:
// entry_hash = SHA-256(prev_hash, sequence, kind, subject, content_hash). A run's content hash covers
// its metadata, its options, the stored bytes of its evaluation and trace, its case version's content
// hash and its two bundle hashes; a bundle hash covers its manifest; a blob's key is the hash of its
// text. Verify() recomputes all of it and names the first thing that does not match. (A chain proves
// nothing against someone who rewrites all of it: keep the head hash Verify() reports elsewhere.)
//
// Backends: a SQLite file (one machine; the default) or a PostgreSQL database (a clinic's server,
// shared by service replicas on many machines), chosen by the location OpenStore is given. Both
// keep the same tables, hashes and messages.
//
// Thread-safety: a Store is one connection; use it from one thread at a time (open one per thread,
// or lease them from a StorePool). Many processes, on one machine or (PostgreSQL) many, may write
// at once: every write is one transaction; writers take one write lock in turn (waiting up to the
// busy timeout) and the chain stays gap-free. On any error nothing is written.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "knowledge/knowledge.h"

namespace nflux::store {

// $NFLUX_DB if set, else $XDG_DATA_HOME/nflux/nflux.db, else ~/.local/share/nflux/nflux.db.
std::string DefaultDatabasePath();

// The current schema version (PRAGMA user_version for SQLite). Opening an older database migrates it
// step by step; a newer one is refused (IOError: "written by a newer nflux").
inline constexpr int kSchemaVersion = 6;

enum class Mode { kReadOnly, kReadWrite };

// ---- Cases

// One stored version of a case (a visit). Version numbers start at 1 and never change.
// Members default to {} so that designated initializers may name only what they set.
struct CaseVersion {
  std::string case_id = {};
  int version = 0;
  std::string created_at = {};    // UTC, ISO 8601, set by the store
  std::string actor = {};         // who stored it (the OS user for the CLI; the account for the web app)
  std::string submitted = {};     // the exact text submitted
  std::string normalised = {};    // the parsed case as JSON text (casefile::CaseToJson)
  std::string content_hash = {};  // "sha256:...", set by the store
};

struct CaseSummary {
  std::string case_id;
  int versions = 0;          // the latest version's number
  std::string created_at;    // version 1
  std::string updated_at;    // latest version
  int runs = 0;              // stored runs of any version
};

// ---- Knowledge and rule content

// A file of a knowledge base or rule base: its name relative to its folder and its exact text.
struct NamedText {
  std::string name;
  std::string text;
};

enum class BundleKind { kKnowledge, kRules };

// One knowledge or rule version with its files (in name order when read back).
struct Bundle {
  BundleKind kind = BundleKind::kKnowledge;
  std::string version;  // knowledge::KnowledgeBase::version() or rules::RuleBase::version
  std::vector<NamedText> files;
};

// A compiled knowledge + rule version (`nflux kb build`): what `--from-db` loads, both together.
struct Build {
  int64_t id = 0;
  std::string knowledge_version;
  std::string rules_version;  // empty for a build stored before rules were stored (schema 1)
  std::string built_at;       // UTC, ISO 8601
  std::string source_dir;     // the knowledge folder it was built from
  int nodes = 0;
  int edges = 0;
};

// ---- Compression dictionaries (schema 6)

// A zstd dictionary that runs are compressed with: raw content made of texts like the runs' own (a
// batch makes one from its first cases' evaluations and traces), so that the keys, rule names,
// tests and citations every trace repeats become short references. A batch's runs then take about
// half the bytes and half the compression time. A dictionary is stored once per content and
// chained (kind "dictionary", subject "dictionary-1"); a run records the one it was compressed
// with, and the run's content hash covers the dictionary's. Made by Store::SaveDictionary; shared,
// immutable, usable from any thread.
class CompressionDictionary;  // store/chain.h
// "dictionary-3".
std::string DictionaryName(int64_t dictionary_id);

// ---- Runs

// JSON text compressed as the store keeps it (zstd), made on any thread before the store's one
// writer takes it: a batch's workers and the hook service's request threads compress a run's trace,
// most of its bytes, side by side. With a dictionary, the store compresses the run's evaluation
// with the same one.
struct CompressedText {
  std::string bytes;
  std::shared_ptr<const CompressionDictionary> dictionary = {};  // none: plain zstd
};
// Errors: InvalidArgument "WHAT cannot be stored: it is not UTF-8" (JSON holds UTF-8 only), as
// CheckUtf8 says it.
Result<CompressedText> CompressText(std::string_view text, const std::string& what,
                                    std::shared_ptr<const CompressionDictionary> dictionary = nullptr);
Status CheckUtf8(std::string_view text, const std::string& what);

// What a front end hands the store after an evaluation.
struct RunToStore {
  std::string case_id;
  int case_version = 0;  // must exist
  std::string actor;
  std::string origin;    // what made the run: "evaluate --save", "run", "hook neuroflux-patient-view ..."
  std::string engine_version;
  Bundle knowledge;      // its files are stored when its version is not there yet; they may be left
                         // empty when HasBundle() said it is (else InvalidArgument)
  Bundle rules;
  // Ordered: read back exactly as written (key order included).
  nlohmann::ordered_json options;  // how it was evaluated: strict, source name, flux overrides...
  // The evaluation (output.md) as JSON text (front ends write it without a DOM), an object whose
  // trace_id the store sets to the run id (SetTraceId).
  std::string evaluation;
  // The full rule trace (inference::Trace::ToJsonText), compressed by the caller (CompressText).
  CompressedText trace;
  // A CDS Hooks call (schema 3): its hookInstance, and the uuids of the cards answered, so that
  // feedback on a card finds its run. Empty for other runs. (The hook instance is hashed through
  // `origin`, which the service makes "hook SERVICE HOOK_INSTANCE".)
  std::string hook_instance = {};
  std::vector<std::string> hook_cards = {};
  // The published release the knowledge and rules came from (schema 5); 0: none (folders, a build).
  int64_t release_id = 0;
};

// A run's identity as users see it: "run-17". ParseRunId accepts "run-17" and "17".
std::string RunName(int64_t run_id);
std::optional<int64_t> ParseRunId(std::string_view text);

// Sets the top-level "trace_id" of an evaluation's compact JSON text (added last when missing). When
// it is the last key, as the report writes it, its value is replaced in place; any other shape is
// parsed and dumped again, key order kept. Errors: InvalidArgument "a run's evaluation must be a JSON
// object" (also for text that does not parse).
Status SetTraceId(std::string& evaluation, std::string_view trace_id);

struct RunSummary {
  int64_t id = 0;
  std::string created_at;
  std::string actor, origin;
  std::string case_id;
  int case_version = 0;
  std::string knowledge_version, rules_version, engine_version;
  int64_t release_id = 0;  // RunToStore::release_id
};

struct RunRecord {
  RunSummary summary;
  nlohmann::ordered_json options;
  nlohmann::ordered_json evaluation;  // trace_id = RunName(id)
  nlohmann::ordered_json trace;
  std::string content_hash;   // "sha256:..."
  int64_t audit_sequence = 0;
};

// ---- CDS Hooks feedback (schema 3)

// One card outcome a CDS client reported (CDS Hooks feedback), stored with the card's run and
// appended to the audit chain (kind "feedback", subject "run-17 feedback 3").
struct Feedback {
  int64_t id = 0;                       // set by the store
  int64_t run_id = 0;                   // set by the store from the card's uuid
  std::string card = {};                // the card's uuid
  std::string outcome = {};             // "accepted" | "overridden"
  std::string outcome_timestamp = {};   // as the client sent it
  std::string detail = {};              // the feedback item exactly as received (JSON text)
  std::string received_at = {};         // UTC, ISO 8601, set by the store
  std::string actor = {};
  std::string content_hash = {};        // set by the store
};

// ---- Accounts of the web app (schema 4)

// A local account. The store keeps what it is given: engine/accounts hashes passwords, checks names
// and roles, and decides lock-outs.
struct Account {
  std::string name = {};
  std::string role = {};           // "practitioner" | "reviewer" | "author" | "admin"
  std::string password_hash = {};  // libsodium crypto_pwhash_str (Argon2id); never the password
  std::string created_at = {};     // UTC, ISO 8601, set by the store
  int failed_sign_ins = 0;         // in a row, since the last successful sign-in
  int64_t locked_until = 0;        // Unix seconds; 0: not locked
};

// Something that happened to an account (added, signed in, sign-in failed, locked, signed out),
// stored and appended to the audit chain (kind "account", subject "account NAME: EVENT").
struct AccountEvent {
  std::string account = {};  // the name tried, even when there is no such account
  std::string event = {};    // "added" | "signed_in" | "sign_in_failed" | "locked" | "signed_out" | ...
  std::string detail = {};   // "role practitioner", "3 failures in a row", ...
  std::string actor = {};    // who did it (the account itself for sign-ins; the OS user for the CLI)
  std::string at = {};       // set by the store
  std::string content_hash = {};  // set by the store
};

// A signed-in browser. The token itself is never stored, only its hash.
struct Session {
  std::string token_hash = {};  // ContentHash of the cookie's token
  std::string account = {};
  std::string csrf_token = {};  // sent back with every form (a hidden field) and compared
  int64_t created_at = 0;       // Unix seconds
  int64_t expires_at = 0;
};

// ---- Releases (schema 5)

// A knowledge + rule version published for every service replica (`nflux release publish`). The
// store keeps what it is given; the pipeline validates a release before it publishes or activates
// it. Publishing and each activation append to the audit chain (kind "release", subject
// "release-3 published" / "release-3 activated").
struct Release {
  int64_t id = 0;                     // 1, 2, 3... in publishing order; set by the store
  std::string knowledge_version = {};
  std::string rules_version = {};
  std::string published_at = {};      // set by the store
  std::string actor = {};             // the account that published it
  std::string note = {};              // what changed, in the publisher's words
  std::string content_hash = {};      // over the above and both bundle hashes; set by the store
  bool active = false;                // read back: the release every replica serves now
  std::string activated_at = {};      // read back: its latest activation ("" if never since replaced)
};

// "release-3"; ParseReleaseId accepts "release-3" and "3".
std::string ReleaseName(int64_t release_id);
std::optional<int64_t> ParseReleaseId(std::string_view text);

// ---- The audit chain

struct AuditEntry {
  int64_t sequence = 0;      // 1, 2, 3... without gaps
  std::string at;            // UTC, ISO 8601
  std::string actor;
  std::string kind;          // "case_version" | "run" | "feedback" | "account"
  std::string subject;       // "case c-1 version 2" | "run-17"
  std::string content_hash;  // the case version's or the run's
  std::string prev_hash;     // the previous entry's entry_hash ("" for the first)
  std::string entry_hash;
};

struct VerifyReport {
  int64_t entries = 0, runs = 0, case_versions = 0, blobs = 0, bundles = 0, feedback = 0, account_events = 0;
  int64_t releases = 0;  // releases and their activations
  int64_t dictionaries = 0;
  std::string head_hash;  // the last entry's hash: keep it elsewhere to anchor the chain
  // Every mismatch found, the first one first, each naming what does not match:
  // "run-17: content hash sha256:ab... does not match the stored run (evaluation, trace or metadata changed)".
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// ---- The store

class Store {
 public:
  virtual ~Store() = default;

  virtual std::string Describe() const = 0;  // the path or URL, for messages
  // Whether the database answers a read now (a service's health check): Ok, or IOError with why
  // ("no connection to the server").
  virtual Status Ping() const = 0;

  // Cases. AddCaseVersion stores version 1 of a new case, or the next version of an existing one
  // (`version` in the argument is ignored); it returns the stored version with its number, time and
  // hash. When `only_if_new_case` and the case exists: InvalidArgument ("case c-1 exists (2 versions);
  // 'nflux case edit' stores a new version"). When `only_if_existing` and it does not: NotFound.
  struct AddOptions {
    bool only_if_new_case = false;
    bool only_if_existing = false;
  };
  virtual Result<CaseVersion> AddCaseVersion(const CaseVersion& version, const AddOptions& options) = 0;
  // NotFound naming the case (and the versions it has) when missing; version 0 = the latest.
  virtual Result<CaseVersion> GetCaseVersion(const std::string& case_id, int version) const = 0;
  virtual Result<std::vector<CaseVersion>> ListCaseVersions(const std::string& case_id) const = 0;
  virtual Result<std::vector<CaseSummary>> ListCases() const = 0;

  // Runs. SaveRun stores the bundles that are not there yet, the run and its audit entry in one
  // transaction and returns the run id. Errors: NotFound for a case version that does not exist.
  // Taken by value: move the run in (its JSON is large) unless the caller keeps it.
  virtual Result<int64_t> SaveRun(RunToStore run) = 0;
  virtual Result<RunRecord> GetRun(int64_t run_id) const = 0;  // NotFound: "run-17: no such run"
  // Every run, or those of one case, oldest first.
  virtual Result<std::vector<RunSummary>> ListRuns(const std::optional<std::string>& case_id) const = 0;

  // CDS Hooks. FindHookRun: the latest run stored with that hookInstance (nullopt: none).
  // SaveFeedback: stores the outcome with the run that answered `feedback.card` (one transaction
  // with its audit entry) and returns it as stored; NotFound "card UUID: no stored hook run answered
  // it". ListFeedback: a run's feedback, oldest first.
  virtual Result<std::optional<int64_t>> FindHookRun(const std::string& hook_instance) const = 0;
  virtual Result<Feedback> SaveFeedback(Feedback feedback) = 0;
  virtual Result<std::vector<Feedback>> ListFeedback(int64_t run_id) const = 0;

  // Accounts (the web app). AddAccount: InvalidArgument when the name is taken; it records the
  // event "added". UpdateSignIns stores an account's failure count and lock after a sign-in attempt,
  // with the event in the same transaction; RecordAccountEvent records one without a change (a
  // sign-in tried with an unknown name, a sign-out). NotFound for an account that does not exist.
  virtual Result<Account> AddAccount(Account account, const std::string& actor) = 0;
  virtual Result<std::optional<Account>> FindAccount(const std::string& name) const = 0;
  virtual Result<std::vector<Account>> ListAccounts() const = 0;  // by name
  virtual Status UpdateSignIns(const std::string& name, int failed_sign_ins, int64_t locked_until,
                               AccountEvent event) = 0;
  virtual Status RecordAccountEvent(AccountEvent event) = 0;
  virtual Result<std::vector<AccountEvent>> ListAccountEvents(const std::string& name) const = 0;  // oldest first
  // Sessions: FindSession gives nullopt for an unknown or expired one (`now`: Unix seconds).
  virtual Status SaveSession(const Session& session) = 0;
  virtual Result<std::optional<Session>> FindSession(const std::string& token_hash, int64_t now) const = 0;
  virtual Status DeleteSession(const std::string& token_hash) = 0;
  // Whose patient a case is (the web app's practitioners see their own). SetCaseOwner keeps the
  // first owner: InvalidArgument when the case already has another one.
  virtual Status SetCaseOwner(const std::string& case_id, const std::string& owner) = 0;
  virtual Result<std::optional<std::string>> CaseOwner(const std::string& case_id) const = 0;

  // Knowledge and rule content. GetBundle: NotFound when the version is not stored. HasBundle lets a
  // caller leave a run's bundle files out (copying them costs more than storing the run).
  virtual Result<Bundle> GetBundle(BundleKind kind, const std::string& version) const = 0;
  virtual Result<bool> HasBundle(BundleKind kind, const std::string& version) const = 0;
  // `nflux kb build`: the knowledge base (also into queryable node, edge and citation tables) and its
  // rules as one build. Storing a pair that is already the latest build is a no-op.
  // REQUIRES: `kb` was loaded from exactly `knowledge.files`.
  virtual Status SaveBuild(const knowledge::KnowledgeBase& kb, const Bundle& knowledge, const Bundle& rules,
                           const std::string& source_dir) = 0;
  // The latest build, or the latest with that knowledge or rules version. NotFound when none.
  virtual Result<Build> FindBuild(const std::optional<std::string>& version) const = 0;
  virtual Result<std::vector<Build>> ListBuilds() const = 0;

  // Releases. PublishRelease stores both bundles (files may be left out of one already stored) and
  // the release, and activates it, in one transaction; it returns the release as stored.
  // ActivateRelease makes an earlier release the active one again (NotFound "release-9: no such
  // release"). ActiveRelease: nullopt when none was ever published. ListReleases: oldest first.
  virtual Result<Release> PublishRelease(Release release, const Bundle& knowledge, const Bundle& rules) = 0;
  virtual Result<Release> ActivateRelease(int64_t release_id, const std::string& actor) = 0;
  virtual Result<std::optional<Release>> ActiveRelease() const = 0;
  virtual Result<std::vector<Release>> ListReleases() const = 0;

  // Compression dictionaries. SaveDictionary stores raw content as a dictionary (one transaction
  // with its audit entry, or inside an open batch) and returns it ready to compress runs with
  // (CompressText); the same content stored again is the dictionary already there, not a second one.
  // Errors: InvalidArgument for empty content.
  virtual Result<std::shared_ptr<const CompressionDictionary>> SaveDictionary(std::string content,
                                                                              const std::string& actor) = 0;

  // Many writes as one transaction (`nflux batch --save`: a commit per run would be most of its
  // cost). After BeginBatch(), every AddCaseVersion and SaveRun joins the one open transaction, each
  // still all or nothing (a savepoint: a write that fails leaves the batch as it was); CommitBatch()
  // commits them together, RollbackBatch() (or destroying the store) drops every write since
  // BeginBatch(). The batch holds the write lock until then, so the chain stays gap-free.
  // Errors: InvalidArgument for BeginBatch() with a batch open, CommitBatch() with none; IOError as
  // writes (a failed commit rolls the batch back).
  virtual Status BeginBatch() = 0;
  virtual Status CommitBatch() = 0;
  virtual void RollbackBatch() = 0;

  // The audit chain, oldest first.
  virtual Result<std::vector<AuditEntry>> AuditEntries() const = 0;
  // Recomputes every blob, bundle, case version and run hash and the chain; never fails for a
  // mismatch (that is in the report), only for a database that cannot be read.
  virtual Result<VerifyReport> Verify() const = 0;
};

// Opens a store: a SQLite file path (kReadWrite creates the file and its folder, and migrates;
// ":memory:" is a private in-memory database, for tests), or a PostgreSQL URL
// ("postgresql://user@host:port/db"; the database must exist; kReadWrite creates the tables). Errors: NotFound (kReadOnly, no such
// database), IOError (cannot open; locked; a newer schema; kReadOnly on an older schema).
// `busy_timeout_ms`: how long a write waits for another process's write lock before it fails with
// "locked" (tests shorten it).
inline constexpr int kDefaultBusyTimeoutMs = 10000;
Result<std::unique_ptr<Store>> OpenStore(const std::string& location, Mode mode,
                                         int busy_timeout_ms = kDefaultBusyTimeoutMs);

// A bounded pool of store connections for a front end with many threads (a service replica): at
// most `max_size` are open at once; Acquire() hands out an idle one, opens a new one while under the
// bound, else waits until a lease ends. A lease returns its connection when it goes out of scope,
// unless Discard() says the connection is broken (its server restarted), and then it is closed.
// Thread-safe; every lease must end before the pool does.
class StorePool {
 public:
  StorePool(std::string location, Mode mode, size_t max_size, int busy_timeout_ms = kDefaultBusyTimeoutMs);
  StorePool(const StorePool&) = delete;
  StorePool& operator=(const StorePool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), store_(std::move(other.store_)) { other.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    Store& operator*() const { return *store_; }
    Store* operator->() const { return store_.get(); }
    void Discard() { store_.reset(); }

   private:
    friend class StorePool;
    Lease(StorePool* pool, std::unique_ptr<Store> store) : pool_(pool), store_(std::move(store)) {}
    StorePool* pool_;
    std::unique_ptr<Store> store_;
  };

  // Errors: OpenStore's, when a new connection cannot be opened (nothing is then counted as open).
  Result<Lease> Acquire();
  size_t open() const;  // connections open now (leased or idle)
  const std::string& location() const { return location_; }

 private:
  void Return(std::unique_ptr<Store> store);  // nullptr: the lease discarded its connection

  const std::string location_;
  const Mode mode_;
  const size_t max_size_;
  const int busy_timeout_ms_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Store>> idle_;
  size_t open_ = 0;
};

// Whether `location` names a PostgreSQL database rather than a SQLite file.
bool IsPostgresLocation(std::string_view location);
// The location with a URL's password (if any) as "***": what messages and Describe() show.
std::string RedactPassword(const std::string& location);

// The hash the chain uses: "sha256:" + hex.
std::string ContentHash(std::string_view bytes);

}  // namespace nflux::store
