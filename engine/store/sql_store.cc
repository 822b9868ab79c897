// The SQLite store's reads and writes (schema.cc migrates, verify.cc verifies). Every write is one
// BEGIN IMMEDIATE transaction; the Transaction rolls back on any early return.
#include "store/sql_store.h"

#include <nlohmann/json.hpp>

#include "store/chain.h"

namespace nflux::store {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;  // a run's JSON reads back exactly as written, key order included

std::string Plural(int64_t count, const std::string& word) {
  return std::to_string(count) + " " + word + (count == 1 ? "" : "s");
}


// nlohmann throws on strings that are not UTF-8; exceptions do not leave the module.
template <typename Json>
Result<std::string> DumpJson(const Json& value, const std::string& what) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& error) {
    return Status::InvalidArgument(what + " cannot be stored: " + error.what());
  }
}

template <typename Json = json>
Result<Json> ParseStored(const std::string& text, const std::string& what) {
  Json value = Json::parse(text, nullptr, false);
  if (value.is_discarded()) return Status::Corruption(what + " is not valid JSON");
  return value;
}

RunSummary ReadRunSummary(const Statement& row) {
  RunSummary s;
  s.id = row.Int(0);
  s.created_at = row.Text(1);
  s.actor = row.Text(2);
  s.origin = row.Text(3);
  s.case_id = row.Text(4);
  s.case_version = static_cast<int>(row.Int(5));
  s.knowledge_version = row.Text(6);
  s.rules_version = row.Text(7);
  s.engine_version = row.Text(8);
  s.release_id = row.Int(9);
  return s;
}

constexpr const char* kRunSummaryColumns =
    "id, created_at, actor, origin, case_id, case_version, knowledge_version, rules_version, engine_version, release_id";

CaseVersion ReadCaseVersion(const Statement& row) {
  return CaseVersion{row.Text(0), static_cast<int>(row.Int(1)), row.Text(2), row.Text(3),
                     row.Text(4), row.Text(5), row.Text(6)};
}

constexpr const char* kCaseVersionColumns = "case_id, version, created_at, actor, submitted, normalised, content_hash";

Build ReadBuild(const Statement& row) {
  return Build{row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4),
               static_cast<int>(row.Int(5)), static_cast<int>(row.Int(6))};
}

constexpr const char* kBuildColumns = "id, knowledge_version, rules_version, built_at, source_dir, nodes, edges";

// What a run row holds, ready to insert.
struct RunRow {
  RunSummary summary;
  std::string options, evaluation, trace;  // evaluation and trace deflated
  std::string content_hash;
};

}  // namespace

std::string CaseSubject(const std::string& case_id, int version) {
  return "case " + case_id + " version " + std::to_string(version);
}

AuditEntry ReadAuditEntry(const Statement& row) {
  return {row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4), row.Text(5), row.Text(6), row.Text(7)};
}

// ---- Shared write steps

Result<std::string> SqlStore::StoreBlob(const std::string& text) {
  std::string hash = ContentHash(text);
  auto query = Sql("INSERT INTO blobs (hash, text) VALUES (?, ?) ON CONFLICT DO NOTHING");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, hash).Bind(2, text);
  if ((*query)->Step() != StepResult::kDone) return Error("storing blob " + hash);
  return hash;
}

Result<std::optional<std::string>> SqlStore::StoredBundleHash(BundleKind kind, const std::string& version) const {
  auto query = Sql("SELECT bundle_hash FROM bundles WHERE kind = ? AND version = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, KindName(kind)).Bind(2, version);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kRow) return std::optional<std::string>((*query)->Text(0));
  if (rc != StepResult::kDone) return Error("reading bundle " + version);
  return std::optional<std::string>();
}

// A version already stored is not hashed again: that is what keeps storing a run cheap.
Result<std::string> SqlStore::StoreBundle(const Bundle& bundle) {
  std::string name = std::string(KindName(bundle.kind)) + " version '" + bundle.version + "'";
  auto stored = StoredBundleHash(bundle.kind, bundle.version);
  if (!stored.ok()) return stored.status();
  if (*stored) return **stored;
  if (bundle.version.empty()) return Status::InvalidArgument(location_ + ": a " + name + " needs a version");
  if (bundle.files.empty())
    return Status::InvalidArgument(location_ + ": " + name + " is not stored and no files were given for it");
  std::vector<std::string> hashes;
  for (const auto& file : bundle.files) {
    auto hash = StoreBlob(file.text);
    if (!hash.ok()) return hash.status();
    hashes.push_back(*hash);
  }
  std::string manifest = Manifest(bundle.files, hashes);
  std::string hash = BundleHash(bundle.kind, bundle.version, manifest);
  auto query = Sql("INSERT INTO bundles (kind, version, manifest, bundle_hash) VALUES (?, ?, ?, ?)");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, KindName(bundle.kind)).Bind(2, bundle.version).Bind(3, manifest).Bind(4, hash);
  if ((*query)->Step() != StepResult::kDone) return Error("storing " + name);
  return hash;
}

Result<int64_t> SqlStore::NextId(const std::string& table) const {
  auto next = Sql("SELECT COALESCE(MAX(id), 0) + 1 FROM " + table);
  if (!next.ok()) return next.status();
  if ((*next)->Step() != StepResult::kRow) return Error("choosing an id in " + table);
  return (*next)->Int(0);
}

// Reads the head inside the caller's write transaction, so no other writer can take its place.
Result<AuditEntry> SqlStore::AppendAudit(const std::string& actor, const std::string& kind,
                                            const std::string& subject, const std::string& content_hash) {
  AuditEntry entry{1, NowUtc(), actor, kind, subject, content_hash, "", ""};
  {
    auto head = Sql("SELECT sequence, entry_hash FROM audit_log ORDER BY sequence DESC LIMIT 1");
    if (!head.ok()) return head.status();
    StepResult rc = (*head)->Step();
    if (rc == StepResult::kRow) {
      entry.sequence = (*head)->Int(0) + 1;
      entry.prev_hash = (*head)->Text(1);
    } else if (rc != StepResult::kDone) {
      return Error("reading the audit chain");
    }
  }
  entry.entry_hash = EntryHash(entry);
  auto insert = Sql("INSERT INTO audit_log (sequence, at, actor, kind, subject, content_hash, prev_hash, entry_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->Bind(1, entry.sequence).Bind(2, entry.at).Bind(3, entry.actor).Bind(4, entry.kind);
  (*insert)->Bind(5, entry.subject).Bind(6, entry.content_hash).Bind(7, entry.prev_hash).Bind(8, entry.entry_hash);
  if ((*insert)->Step() != StepResult::kDone) return Error("appending audit entry " + std::to_string(entry.sequence));
  return entry;
}

// ---- Cases

Result<std::string> SqlStore::CaseVersionsText(const std::string& case_id) const {
  auto query = Sql("SELECT MIN(version), MAX(version) FROM case_versions WHERE case_id = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, case_id);
  if ((*query)->Step() != StepResult::kRow) return Error("reading case " + case_id);
  if ((*query)->IsNull(0)) return std::string();
  int64_t first = (*query)->Int(0), last = (*query)->Int(1);
  if (first == last) return "case " + case_id + " has version " + std::to_string(first);
  return "case " + case_id + " has versions " + std::to_string(first) + "-" + std::to_string(last);
}

Result<CaseVersion> SqlStore::InsertCaseVersion(CaseVersion v, const AddOptions& options) {
  int latest = 0;
  {
    auto query = Sql("SELECT COALESCE(MAX(version), 0) FROM case_versions WHERE case_id = ?");
    if (!query.ok()) return query.status();
    (*query)->Bind(1, v.case_id);
    if ((*query)->Step() != StepResult::kRow) return Error("reading case " + v.case_id);
    latest = static_cast<int>((*query)->Int(0));
  }
  if (options.only_if_new_case && latest > 0)
    return Status::InvalidArgument("case " + v.case_id + " exists (" + Plural(latest, "version") +
                                   "); 'nflux case edit' stores a new version");
  if (options.only_if_existing && latest == 0) return Status::NotFound("case " + v.case_id + ": no such case");
  v.version = latest + 1;
  v.created_at = NowUtc();
  v.content_hash = CaseVersionHash(v);
  if (latest == 0) {
    auto query = Sql("INSERT INTO cases (case_id, created_at) VALUES (?, ?)");
    if (!query.ok()) return query.status();
    (*query)->Bind(1, v.case_id).Bind(2, v.created_at);
    if ((*query)->Step() != StepResult::kDone) return Error("storing case " + v.case_id);
  }
  auto entry = AppendAudit(v.actor, "case_version", CaseSubject(v.case_id, v.version), v.content_hash);
  if (!entry.ok()) return entry.status();
  auto query = Sql("INSERT INTO case_versions (case_id, version, created_at, actor, submitted, normalised, "
                   "content_hash, audit_sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, v.case_id).Bind(2, v.version).Bind(3, v.created_at).Bind(4, v.actor).Bind(5, v.submitted);
  (*query)->Bind(6, v.normalised).Bind(7, v.content_hash).Bind(8, entry->sequence);
  if ((*query)->Step() != StepResult::kDone) return Error("storing " + CaseSubject(v.case_id, v.version));
  return v;
}

Result<CaseVersion> SqlStore::AddCaseVersion(const CaseVersion& version, const AddOptions& options) {
  if (version.case_id.empty()) return Status::InvalidArgument("a stored case needs an id");
  Transaction transaction(this);
  if (Status status = transaction.Begin("storing case " + version.case_id); !status.ok()) return status;
  auto stored = InsertCaseVersion(version, options);
  if (!stored.ok()) return stored.status();
  if (Status status = transaction.Commit("storing case " + version.case_id); !status.ok()) return status;
  return stored;
}

Result<CaseVersion> SqlStore::GetCaseVersion(const std::string& case_id, int version) const {
  {
    auto query = version == 0 ? Sql(std::string("SELECT ") + kCaseVersionColumns +
                                    " FROM case_versions WHERE case_id = ? ORDER BY version DESC LIMIT 1")
                              : Sql(std::string("SELECT ") + kCaseVersionColumns +
                                    " FROM case_versions WHERE case_id = ? AND version = ?");
    if (!query.ok()) return query.status();
    (*query)->Bind(1, case_id);
    if (version != 0) (*query)->Bind(2, version);
    StepResult rc = (*query)->Step();
    if (rc == StepResult::kRow) return ReadCaseVersion(**query);
    if (rc != StepResult::kDone) return Error("reading case " + case_id);
  }
  auto versions = CaseVersionsText(case_id);
  if (!versions.ok()) return versions.status();
  if (versions->empty()) return Status::NotFound("case " + case_id + ": no such case");
  return Status::NotFound(*versions + "; there is no version " + std::to_string(version));
}

Result<std::vector<CaseVersion>> SqlStore::ListCaseVersions(const std::string& case_id) const {
  auto query = Sql(std::string("SELECT ") + kCaseVersionColumns + " FROM case_versions WHERE case_id = ? ORDER BY version");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, case_id);
  std::vector<CaseVersion> versions;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) versions.push_back(ReadCaseVersion(**query));
  if (rc != StepResult::kDone) return Error("reading case " + case_id);
  if (versions.empty()) return Status::NotFound("case " + case_id + ": no such case");
  return versions;
}

Result<std::vector<CaseSummary>> SqlStore::ListCases() const {
  auto query = Sql(
      "SELECT c.case_id, (SELECT MAX(version) FROM case_versions v WHERE v.case_id = c.case_id), c.created_at, "
      "(SELECT created_at FROM case_versions v WHERE v.case_id = c.case_id ORDER BY version DESC LIMIT 1), "
      "(SELECT COUNT(*) FROM runs r WHERE r.case_id = c.case_id) FROM cases c ORDER BY c.case_id");
  if (!query.ok()) return query.status();
  std::vector<CaseSummary> cases;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    cases.push_back({row.Text(0), static_cast<int>(row.Int(1)), row.Text(2), row.Text(3), static_cast<int>(row.Int(4))});
  }
  if (rc != StepResult::kDone) return Error("reading cases");
  return cases;
}

// ---- Runs

Result<std::string> SqlStore::CaseHashOf(const std::string& case_id, int version) const {
  auto query = Sql("SELECT content_hash FROM case_versions WHERE case_id = ? AND version = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, case_id).Bind(2, version);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kRow) return (*query)->Text(0);
  if (rc != StepResult::kDone) return Error("reading case " + case_id);
  auto versions = CaseVersionsText(case_id);
  if (!versions.ok()) return versions.status();
  if (versions->empty()) return Status::NotFound("case " + case_id + ": no such case");
  return Status::NotFound(*versions + "; there is no version " + std::to_string(version));
}

Result<int64_t> SqlStore::InsertRun(RunToStore& run) {
  auto case_hash = CaseHashOf(run.case_id, run.case_version);
  if (!case_hash.ok()) return case_hash.status();
  auto knowledge_hash = StoreBundle(run.knowledge);
  if (!knowledge_hash.ok()) return knowledge_hash.status();
  auto rules_hash = StoreBundle(run.rules);
  if (!rules_hash.ok()) return rules_hash.status();
  // The id is chosen inside the write transaction: no other writer can take it.
  auto id = NextId("runs");
  if (!id.ok()) return id.status();
  RunRow row;
  row.summary = {*id, NowUtc(), run.actor, run.origin, run.case_id, run.case_version,
                 run.knowledge.version, run.rules.version, run.engine_version, run.release_id};
  if (run.trace.bytes.empty()) return Status::InvalidArgument("a run needs its trace (CompressText)");
  // Checked first: SetTraceId would report text that does not parse as "not a JSON object".
  if (Status utf8 = CheckUtf8(run.evaluation, "the evaluation"); !utf8.ok()) return utf8;
  if (Status set = SetTraceId(run.evaluation, RunName(row.summary.id)); !set.ok()) return set;
  auto options = DumpJson(run.options, "the run's options");
  if (!options.ok()) return options.status();
  // The evaluation with the trace's dictionary, which the store must hold (made by SaveDictionary).
  const CompressionDictionary* dictionary = run.trace.dictionary.get();
  if (dictionary) {
    auto stored = Dictionary(dictionary->id(), "storing a run");
    if (!stored.ok()) return stored.status();
    if ((*stored)->content_hash() != dictionary->content_hash())
      return Status::InvalidArgument("storing a run: its trace was compressed with a dictionary this store does not "
                                     "hold as " + DictionaryName(dictionary->id()));
  }
  auto evaluation = Compress(run.evaluation, dictionary);
  if (!evaluation.ok()) return evaluation.status().WithContext(location_);
  row.options = std::move(*options);
  row.evaluation = std::move(*evaluation);
  row.trace = std::move(run.trace.bytes);
  std::string_view dictionary_hash = dictionary ? std::string_view(dictionary->content_hash()) : std::string_view();
  row.content_hash = RunHash(row.summary, {row.options, row.evaluation, row.trace, *case_hash, *knowledge_hash,
                                           *rules_hash, dictionary_hash});
  auto entry = AppendAudit(run.actor, "run", RunName(row.summary.id), row.content_hash);
  if (!entry.ok()) return entry.status();
  auto insert = Sql("INSERT INTO runs (id, created_at, actor, origin, case_id, case_version, knowledge_version, "
                    "rules_version, engine_version, options, evaluation, trace, content_hash, audit_sequence, "
                    "hook_instance, release_id, dictionary_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  const RunSummary& s = row.summary;
  (*insert)->Bind(1, s.id).Bind(2, s.created_at).Bind(3, s.actor).Bind(4, s.origin).Bind(5, s.case_id);
  (*insert)->Bind(6, s.case_version).Bind(7, s.knowledge_version).Bind(8, s.rules_version).Bind(9, s.engine_version);
  (*insert)->Bind(10, row.options).BindBlob(11, row.evaluation).BindBlob(12, row.trace);
  (*insert)->Bind(13, row.content_hash).Bind(14, entry->sequence).Bind(15, run.hook_instance);
  (*insert)->Bind(16, s.release_id).Bind(17, dictionary ? dictionary->id() : 0);
  if ((*insert)->Step() != StepResult::kDone) return Error("storing " + RunName(s.id));
  if (Status cards = InsertHookCards(s.id, run.hook_cards); !cards.ok()) return cards;
  return s.id;
}

Result<int64_t> SqlStore::SaveRun(RunToStore run) {
  std::string what = "storing a run of " + CaseSubject(run.case_id, run.case_version);
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto id = InsertRun(run);
  if (!id.ok()) return id.status();
  if (Status status = transaction.Commit(what); !status.ok()) return status;
  return id;
}

Result<RunRecord> SqlStore::GetRun(int64_t run_id) const {
  std::string name = RunName(run_id);
  auto query = Sql(std::string("SELECT ") + kRunSummaryColumns +
                   ", options, evaluation, trace, content_hash, audit_sequence, dictionary_id FROM runs WHERE id = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, run_id);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kDone) return Status::NotFound(name + ": no such run");
  if (rc != StepResult::kRow) return Error("reading " + name);
  const Statement& row = **query;
  RunRecord record{ReadRunSummary(row), {}, {}, {}, row.Text(13), row.Int(14)};
  std::string where = location_ + ": " + name;
  auto options = ParseStored<ordered_json>(row.Text(10), where + ": options");
  const CompressionDictionary* dictionary = nullptr;
  std::shared_ptr<const CompressionDictionary> held;
  if (row.Int(15) != 0) {
    auto stored = Dictionary(row.Int(15), where);
    if (!stored.ok()) return stored.status();
    held = std::move(stored).value();
    dictionary = held.get();
  }
  auto evaluation_text = Decompress(row.Blob(11), where + ": evaluation", dictionary);
  auto trace_text = Decompress(row.Blob(12), where + ": trace", dictionary);
  if (!options.ok()) return options.status();
  if (!evaluation_text.ok()) return evaluation_text.status();
  if (!trace_text.ok()) return trace_text.status();
  auto evaluation = ParseStored<ordered_json>(*evaluation_text, where + ": evaluation");
  auto trace = ParseStored<ordered_json>(*trace_text, where + ": trace");
  if (!evaluation.ok()) return evaluation.status();
  if (!trace.ok()) return trace.status();
  record.options = std::move(*options);
  record.evaluation = std::move(*evaluation);
  record.trace = std::move(*trace);
  return record;
}

Result<std::vector<RunSummary>> SqlStore::ListRuns(const std::optional<std::string>& case_id) const {
  std::string select = std::string("SELECT ") + kRunSummaryColumns + " FROM runs";
  auto query = case_id ? Sql(select + " WHERE case_id = ? ORDER BY id") : Sql(select + " ORDER BY id");
  if (!query.ok()) return query.status();
  if (case_id) (*query)->Bind(1, *case_id);
  std::vector<RunSummary> runs;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) runs.push_back(ReadRunSummary(**query));
  if (rc != StepResult::kDone) return Error("reading runs");
  return runs;
}

// ---- Knowledge and rules

Result<bool> SqlStore::HasBundle(BundleKind kind, const std::string& version) const {
  auto stored = StoredBundleHash(kind, version);
  if (!stored.ok()) return stored.status();
  return stored->has_value();
}

Result<Bundle> SqlStore::GetBundle(BundleKind kind, const std::string& version) const {
  std::string name = std::string(KindName(kind)) + " version '" + version + "'";
  std::string manifest_text;
  {
    auto query = Sql("SELECT manifest FROM bundles WHERE kind = ? AND version = ?");
    if (!query.ok()) return query.status();
    (*query)->Bind(1, KindName(kind)).Bind(2, version);
    StepResult rc = (*query)->Step();
    if (rc == StepResult::kDone) return Status::NotFound(location_ + ": " + name + " is not in this database");
    if (rc != StepResult::kRow) return Error("reading " + name);
    manifest_text = (*query)->Text(0);
  }
  auto manifest = ParseStored(manifest_text, location_ + ": the manifest of " + name);
  if (!manifest.ok()) return manifest.status();
  Bundle bundle{kind, version, {}};
  auto query = Sql("SELECT text FROM blobs WHERE hash = ?");
  if (!query.ok()) return query.status();
  for (const auto& file : *manifest) {
    if (!file.is_object() || !file.value("name", json()).is_string() || !file.value("hash", json()).is_string())
      return Status::Corruption(location_ + ": the manifest of " + name + " is not a list of {name, hash}");
    (*query)->Bind(1, file["hash"].get<std::string>());
    StepResult rc = (*query)->Step();
    if (rc == StepResult::kDone)
      return Status::Corruption(location_ + ": " + name + ": file " + file["name"].get<std::string>() + " is missing");
    if (rc != StepResult::kRow) return Error("reading " + name);
    bundle.files.push_back({file["name"].get<std::string>(), (*query)->Text(0)});
    (*query)->Reset();
  }
  return bundle;
}

Status SqlStore::StoreKnowledgeTables(const knowledge::KnowledgeBase& kb, const std::string& source_dir) {
  const std::string& version = kb.version();
  {
    auto build = Sql("INSERT INTO kb_builds VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING version");
    if (!build.ok()) return build.status();
    (*build)->Bind(1, version).Bind(2, NowUtc()).Bind(3, source_dir).Bind(4, NFLUX_VERSION);
    (*build)->Bind(5, static_cast<int>(kb.nodes().size())).Bind(6, static_cast<int>(kb.edges().size()));
    StepResult rc = (*build)->Step();
    if (rc == StepResult::kError) return Error("storing knowledge " + version);
    if (rc == StepResult::kDone) return Status::Ok();  // its tables are there from an earlier build
  }
  auto node = Sql("INSERT INTO kb_nodes VALUES (?, ?, ?, ?, ?)");
  if (!node.ok()) return node.status();
  for (const auto& n : kb.nodes()) {
    (*node)->Bind(1, version).Bind(2, n.id).Bind(3, knowledge::KindName(n.kind)).Bind(4, n.label);
    (*node)->Bind(5, n.data.json().dump());
    if ((*node)->Step() != StepResult::kDone) return Error("storing node " + n.id);
    (*node)->Reset();
  }
  auto edge = Sql("INSERT INTO kb_edges VALUES (?, ?, ?, ?, ?, ?)");
  if (!edge.ok()) return edge.status();
  for (const auto& e : kb.edges()) {
    (*edge)->Bind(1, version).Bind(2, e.from).Bind(3, knowledge::EdgeTypeName(e.type)).Bind(4, e.to);
    (*edge)->Bind(5, e.sign).Bind(6, e.ToJson().dump());
    if ((*edge)->Step() != StepResult::kDone) return Error("storing edge " + e.from + " -> " + e.to);
    (*edge)->Reset();
  }
  auto citation = Sql("INSERT INTO kb_citations VALUES (?, ?, ?)");
  if (!citation.ok()) return citation.status();
  for (const auto& [key, c] : kb.citations()) {
    (*citation)->Bind(1, version).Bind(2, key).Bind(3, c.data.json().dump());
    if ((*citation)->Step() != StepResult::kDone) return Error("storing citation " + key);
    (*citation)->Reset();
  }
  return Status::Ok();
}

Status SqlStore::InsertBuild(const knowledge::KnowledgeBase& kb, const Bundle& knowledge, const Bundle& rules,
                                const std::string& source_dir) {
  auto query = Sql("INSERT INTO builds (knowledge_version, rules_version, built_at, source_dir, engine_version, "
                   "nodes, edges) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, knowledge.version).Bind(2, rules.version).Bind(3, NowUtc()).Bind(4, source_dir);
  (*query)->Bind(5, NFLUX_VERSION).Bind(6, static_cast<int>(kb.nodes().size()));
  (*query)->Bind(7, static_cast<int>(kb.edges().size()));
  if ((*query)->Step() != StepResult::kDone) return Error("storing the build");
  return Status::Ok();
}

Status SqlStore::SaveBuild(const knowledge::KnowledgeBase& kb, const Bundle& knowledge, const Bundle& rules,
                              const std::string& source_dir) {
  if (knowledge.version != kb.version())
    return Status::InvalidArgument("the knowledge bundle's version " + knowledge.version + " is not the knowledge base's " +
                                   kb.version());
  auto latest = FindBuild(std::nullopt);
  if (latest.ok() && latest->knowledge_version == knowledge.version && latest->rules_version == rules.version)
    return Status::Ok();
  std::string what = "storing build " + knowledge.version;
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto knowledge_hash = StoreBundle(knowledge);
  if (!knowledge_hash.ok()) return knowledge_hash.status();
  if (!rules.version.empty()) {
    auto rules_hash = StoreBundle(rules);
    if (!rules_hash.ok()) return rules_hash.status();
  }
  if (Status status = StoreKnowledgeTables(kb, source_dir); !status.ok()) return status;
  if (Status status = InsertBuild(kb, knowledge, rules, source_dir); !status.ok()) return status;
  return transaction.Commit(what);
}

Result<Build> SqlStore::FindBuild(const std::optional<std::string>& version) const {
  std::string select = std::string("SELECT ") + kBuildColumns + " FROM builds";
  auto query = version ? Sql(select + " WHERE knowledge_version = ?1 OR rules_version = ?1 ORDER BY id DESC LIMIT 1")
                       : Sql(select + " ORDER BY id DESC LIMIT 1");
  if (!query.ok()) return query.status();
  if (version) (*query)->Bind(1, *version);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kRow) return ReadBuild(**query);
  if (rc != StepResult::kDone) return Error("reading builds");
  if (!version)
    return Status::NotFound(location_ + ": no knowledge base has been built into this database (run 'nflux kb build')");
  return Status::NotFound(location_ + ": knowledge version '" + *version +
                          "' is not in this database (nor is a rules version of that name)");
}

Result<std::vector<Build>> SqlStore::ListBuilds() const {
  auto query = Sql(std::string("SELECT ") + kBuildColumns + " FROM builds ORDER BY id");
  if (!query.ok()) return query.status();
  std::vector<Build> builds;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) builds.push_back(ReadBuild(**query));
  if (rc != StepResult::kDone) return Error("reading builds");
  return builds;
}

Result<std::vector<AuditEntry>> SqlStore::AuditEntries() const {
  auto query = Sql("SELECT sequence, at, actor, kind, subject, content_hash, prev_hash, entry_hash FROM audit_log "
                   "ORDER BY sequence");
  if (!query.ok()) return query.status();
  std::vector<AuditEntry> entries;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    entries.push_back(ReadAuditEntry(**query));
  }
  if (rc != StepResult::kDone) return Error("reading the audit chain");
  return entries;
}

}  // namespace nflux::store
