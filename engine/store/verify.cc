// Verify(): recomputes every hash the store keeps and the audit chain, streaming row by row (runs
// are never all in memory). The passes run in the order that makes the first problem the thing
// that was changed: bundles, blobs, the chain (and what each entry names), case versions,
// compression dictionaries, runs, hook feedback.
#include <nlohmann/json.hpp>

#include "store/chain.h"
#include "store/sql_store.h"

namespace nflux::store {
namespace {

std::string Short(const std::string& hash) { return hash.size() > 19 ? hash.substr(0, 19) + "..." : hash; }

}  // namespace

void CheckAuditEntry(const Statement& row, int sequence_column, int subject_column, const std::string& name,
                     const std::string& subject, const std::string& content_hash, const std::string& what,
                     VerifyReport& report) {
  std::string entry = "audit entry " + std::to_string(row.Int(sequence_column));
  if (row.IsNull(subject_column)) {
    report.problems.push_back(name + ": its " + entry + " is missing");
  } else if (row.Text(subject_column) != subject || row.Text(subject_column + 1) != content_hash) {
    report.problems.push_back(name + ": " + entry + " records " + row.Text(subject_column) + " with content hash " +
                              Short(row.Text(subject_column + 1)) + ", not this " + what);
  }
}

Result<VerifyReport> SqlStore::Verify() const {
  VerifyReport report;
  std::map<std::string, std::string> blob_names;  // blob hash -> "rules file sleep.rules"
  // One read transaction: the passes see one snapshot even while other processes write.
  if (Status status = connection_->BeginSnapshot("starting to verify"); !status.ok())
    return status.WithContext(location_);
  Status status = VerifyBundles(report, blob_names);
  if (status.ok()) status = VerifyBlobs(report, blob_names);
  if (status.ok()) status = VerifyChain(report);
  if (status.ok()) status = VerifyCaseVersions(report);
  if (status.ok()) status = VerifyDictionaries(report);
  if (status.ok()) status = VerifyRuns(report);
  if (status.ok()) status = VerifyFeedback(report);
  if (status.ok()) status = VerifyAccountEvents(report);
  if (status.ok()) status = VerifyReleases(report);
  auto end = Sql("COMMIT");  // read-only: nothing to write, only the snapshot to release
  if (end.ok()) (void)(*end)->Step();
  if (!status.ok()) return status;
  return report;
}

Status SqlStore::VerifyBundles(VerifyReport& report, std::map<std::string, std::string>& blob_names) const {
  auto query = Sql("SELECT kind, version, manifest, bundle_hash FROM bundles ORDER BY kind, version");
  if (!query.ok()) return query.status();
  auto blob = Sql("SELECT 1 FROM blobs WHERE hash = ?");
  if (!blob.ok()) return blob.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    ++report.bundles;
    std::string kind = (*query)->Text(0), version = (*query)->Text(1), manifest_text = (*query)->Text(2);
    std::string name = kind + " version " + version;
    BundleKind bundle_kind = kind == "rules" ? BundleKind::kRules : BundleKind::kKnowledge;
    if (BundleHash(bundle_kind, version, manifest_text) != (*query)->Text(3))
      report.problems.push_back(name + ": its manifest does not match its bundle hash " + Short((*query)->Text(3)) +
                                " (a file list changed)");
    auto manifest = nlohmann::json::parse(manifest_text, nullptr, false);
    if (!manifest.is_array()) {
      report.problems.push_back(name + ": its manifest is not a JSON list");
      continue;
    }
    for (const auto& file : manifest) {
      std::string file_name = file.value("name", std::string()), hash = file.value("hash", std::string());
      blob_names.emplace(hash, kind + " file " + file_name);
      (*blob)->Bind(1, hash);
      StepResult found = (*blob)->Step();
      (*blob)->Reset();
      if (found == StepResult::kDone) report.problems.push_back(name + ": file " + file_name + " (blob " + Short(hash) + ") is missing");
      else if (found != StepResult::kRow) return Error("reading blobs");
    }
  }
  if (rc != StepResult::kDone) return Error("reading bundles");
  return Status::Ok();
}

Status SqlStore::VerifyBlobs(VerifyReport& report, const std::map<std::string, std::string>& blob_names) const {
  auto query = Sql("SELECT hash, text FROM blobs ORDER BY hash");
  if (!query.ok()) return query.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    ++report.blobs;
    std::string hash = (*query)->Text(0);
    if (ContentHash((*query)->Text(1)) == hash) continue;
    auto named = blob_names.find(hash);
    std::string name = named != blob_names.end() ? named->second : "unreferenced file";
    report.problems.push_back(name + " (blob " + hash + "): its text does not match its hash (the file was changed)");
  }
  if (rc != StepResult::kDone) return Error("reading blobs");
  return Status::Ok();
}

// Each entry's hash, its link to the one before, the sequence without gaps, and that what it names
// is still there (a deleted run or case version shows here).
Status SqlStore::VerifyChain(VerifyReport& report) const {
  // COUNT rather than EXISTS: an integer on both backends (PostgreSQL's EXISTS is a boolean).
  auto query = Sql(
      "SELECT a.sequence, a.at, a.actor, a.kind, a.subject, a.content_hash, a.prev_hash, a.entry_hash, "
      "CASE a.kind WHEN 'run' THEN (SELECT COUNT(*) FROM runs r WHERE r.audit_sequence = a.sequence) "
      "WHEN 'case_version' THEN (SELECT COUNT(*) FROM case_versions v WHERE v.audit_sequence = a.sequence) "
      "WHEN 'feedback' THEN (SELECT COUNT(*) FROM hook_feedback f WHERE f.audit_sequence = a.sequence) "
      "WHEN 'account' THEN (SELECT COUNT(*) FROM account_events e WHERE e.audit_sequence = a.sequence) "
      "WHEN 'release' THEN (SELECT COUNT(*) FROM releases l WHERE l.audit_sequence = a.sequence) + "
      "(SELECT COUNT(*) FROM release_activations t WHERE t.audit_sequence = a.sequence) "
      "WHEN 'dictionary' THEN (SELECT COUNT(*) FROM compression_dictionaries d WHERE d.audit_sequence = a.sequence) "
      "ELSE 0 END FROM audit_log a ORDER BY a.sequence");
  if (!query.ok()) return query.status();
  int64_t previous_sequence = 0;
  std::string previous_hash;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    ++report.entries;
    AuditEntry e = ReadAuditEntry(row);
    std::string name = "audit entry " + std::to_string(e.sequence);
    if (e.sequence != previous_sequence + 1)
      report.problems.push_back("audit entry " + std::to_string(previous_sequence + 1) + ": missing (the sequence jumps from " +
                                std::to_string(previous_sequence) + " to " + std::to_string(e.sequence) + ")");
    if (EntryHash(e) != e.entry_hash)
      report.problems.push_back(name + ": its entry hash does not match its content (the entry was changed)");
    if (e.prev_hash != previous_hash)
      report.problems.push_back(name + ": its previous hash " + Short(e.prev_hash) + " is not the entry before's " +
                                Short(previous_hash));
    if (row.Int(8) == 0)
      report.problems.push_back(e.subject + ": deleted (" + name + " records it with content hash " + e.content_hash + ")");
    previous_sequence = e.sequence;
    previous_hash = e.entry_hash;
  }
  if (rc != StepResult::kDone) return Error("reading the audit chain");
  report.head_hash = previous_hash;
  return Status::Ok();
}

Status SqlStore::VerifyCaseVersions(VerifyReport& report) const {
  auto query = Sql(
      "SELECT v.case_id, v.version, v.created_at, v.actor, v.submitted, v.normalised, v.content_hash, "
      "v.audit_sequence, a.subject, a.content_hash FROM case_versions v "
      "LEFT JOIN audit_log a ON a.sequence = v.audit_sequence ORDER BY v.case_id, v.version");
  if (!query.ok()) return query.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    ++report.case_versions;
    CaseVersion v{row.Text(0), static_cast<int>(row.Int(1)), row.Text(2), row.Text(3),
                  row.Text(4), row.Text(5), row.Text(6)};
    std::string name = CaseSubject(v.case_id, v.version);
    if (CaseVersionHash(v) != v.content_hash)
      report.problems.push_back(name + ": content hash " + Short(v.content_hash) +
                                " does not match the stored case version (submitted or normalised text or metadata "
                                "changed)");
    CheckAuditEntry(row, 7, 8, name, name, v.content_hash, "case version", report);
  }
  if (rc != StepResult::kDone) return Error("reading case versions");
  return Status::Ok();
}

Status SqlStore::VerifyRuns(VerifyReport& report) const {
  auto query = Sql(
      "SELECT r.id, r.created_at, r.actor, r.origin, r.case_id, r.case_version, r.knowledge_version, "
      "r.rules_version, r.engine_version, r.options, r.evaluation, r.trace, r.content_hash, r.audit_sequence, "
      "v.content_hash, k.bundle_hash, u.bundle_hash, a.subject, a.content_hash, r.release_id, r.dictionary_id, "
      "d.content_hash FROM runs r "
      "LEFT JOIN case_versions v ON v.case_id = r.case_id AND v.version = r.case_version "
      "LEFT JOIN compression_dictionaries d ON d.id = r.dictionary_id "
      "LEFT JOIN bundles k ON k.kind = 'knowledge' AND k.version = r.knowledge_version "
      "LEFT JOIN bundles u ON u.kind = 'rules' AND u.version = r.rules_version "
      "LEFT JOIN audit_log a ON a.sequence = r.audit_sequence ORDER BY r.id");
  if (!query.ok()) return query.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    ++report.runs;
    RunSummary s{row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4), static_cast<int>(row.Int(5)),
                 row.Text(6), row.Text(7), row.Text(8), row.Int(19)};
    std::string name = RunName(s.id), content_hash = row.Text(12);
    std::string options = row.Text(9), evaluation = row.Blob(10), trace = row.Blob(11);
    std::string case_hash = row.Text(14), knowledge_hash = row.Text(15), rules_hash = row.Text(16);
    if (row.IsNull(14)) report.problems.push_back(name + ": its " + "case " + s.case_id + " version " +
                                                  std::to_string(s.case_version) + " is not stored");
    if (row.IsNull(15)) report.problems.push_back(name + ": its knowledge version " + s.knowledge_version + " is not stored");
    if (row.IsNull(16)) report.problems.push_back(name + ": its rules version " + s.rules_version + " is not stored");
    std::string dictionary_hash = row.IsNull(21) ? "" : row.Text(21);
    if (row.Int(20) != 0 && row.IsNull(21))
      report.problems.push_back(name + ": its compression dictionary " + DictionaryName(row.Int(20)) + " is not stored");
    if (RunHash(s, {options, evaluation, trace, case_hash, knowledge_hash, rules_hash, dictionary_hash}) != content_hash)
      report.problems.push_back(name + ": content hash " + Short(content_hash) +
                                " does not match the stored run (evaluation, trace or metadata changed)");
    CheckAuditEntry(row, 13, 17, name, name, content_hash, "run", report);
  }
  if (rc != StepResult::kDone) return Error("reading runs");
  return Status::Ok();
}

}  // namespace nflux::store
