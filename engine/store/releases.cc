// Releases in the store (schema 5): a knowledge + rule version published for every service replica,
// and its activations; the latest activation names the active release. Both are chained (kind
// "release"). Validation is the pipeline's: the store keeps what it is given.
#include <charconv>

#include "store/chain.h"
#include "store/sql_store.h"

namespace nflux::store {
namespace {

std::string PublishedSubject(int64_t id) { return ReleaseName(id) + " published"; }
std::string ActivatedSubject(int64_t id) { return ReleaseName(id) + " activated"; }

// releases r joined with the latest activation of each (when it is the active one, `active`).
constexpr const char* kReleaseSelect =
    "SELECT r.id, r.knowledge_version, r.rules_version, r.published_at, r.actor, r.note, r.content_hash, "
    "(SELECT MAX(t.id) FROM release_activations t WHERE t.release_id = r.id), "
    "(SELECT t.at FROM release_activations t WHERE t.release_id = r.id ORDER BY t.id DESC LIMIT 1), "
    "(SELECT MAX(t.id) FROM release_activations t) FROM releases r";

Release ReadRelease(const Statement& row) {
  Release r{row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4), row.Text(5), row.Text(6)};
  r.active = !row.IsNull(7) && row.Int(7) == row.Int(9);
  r.activated_at = row.IsNull(8) ? "" : row.Text(8);
  return r;
}

}  // namespace

std::string ReleaseName(int64_t release_id) { return "release-" + std::to_string(release_id); }

std::optional<int64_t> ParseReleaseId(std::string_view text) {
  if (text.starts_with("release-")) text.remove_prefix(8);
  if (text.empty() || text.front() < '1' || text.front() > '9') return std::nullopt;
  int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

Status SqlStore::InsertActivation(const Release& release, const std::string& actor) {
  auto id = NextId("release_activations");
  if (!id.ok()) return id.status();
  std::string at = NowUtc();
  std::string hash = ActivationHash(*id, release.id, at, actor, release.content_hash);
  auto entry = AppendAudit(actor, "release", ActivatedSubject(release.id), hash);
  if (!entry.ok()) return entry.status();
  auto insert = Sql("INSERT INTO release_activations (id, release_id, at, actor, content_hash, audit_sequence) "
                    "VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->Bind(1, *id).Bind(2, release.id).Bind(3, at).Bind(4, actor).Bind(5, hash).Bind(6, entry->sequence);
  if ((*insert)->Step() != StepResult::kDone) return Error("activating " + ReleaseName(release.id));
  return Status::Ok();
}

Result<Release> SqlStore::PublishRelease(Release release, const Bundle& knowledge, const Bundle& rules) {
  std::string what = "publishing knowledge " + knowledge.version + " with rules " + rules.version;
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto knowledge_hash = StoreBundle(knowledge);
  if (!knowledge_hash.ok()) return knowledge_hash.status();
  auto rules_hash = StoreBundle(rules);
  if (!rules_hash.ok()) return rules_hash.status();
  auto id = NextId("releases");
  if (!id.ok()) return id.status();
  release.id = *id;
  release.knowledge_version = knowledge.version;
  release.rules_version = rules.version;
  release.published_at = NowUtc();
  release.content_hash = ReleaseHash(release, *knowledge_hash, *rules_hash);
  auto entry = AppendAudit(release.actor, "release", PublishedSubject(release.id), release.content_hash);
  if (!entry.ok()) return entry.status();
  auto insert = Sql("INSERT INTO releases (id, knowledge_version, rules_version, published_at, actor, note, "
                    "content_hash, audit_sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->Bind(1, release.id).Bind(2, release.knowledge_version).Bind(3, release.rules_version);
  (*insert)->Bind(4, release.published_at).Bind(5, release.actor).Bind(6, release.note);
  (*insert)->Bind(7, release.content_hash).Bind(8, entry->sequence);
  if ((*insert)->Step() != StepResult::kDone) return Error(what);
  if (Status status = InsertActivation(release, release.actor); !status.ok()) return status;
  if (Status status = transaction.Commit(what); !status.ok()) return status;
  release.active = true;
  release.activated_at = release.published_at;
  return release;
}

Result<Release> SqlStore::ActivateRelease(int64_t release_id, const std::string& actor) {
  std::string what = "activating " + ReleaseName(release_id);
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  Release release;
  {
    auto query = Sql(std::string(kReleaseSelect) + " WHERE r.id = ?");
    if (!query.ok()) return query.status();
    (*query)->Bind(1, release_id);
    StepResult rc = (*query)->Step();
    if (rc == StepResult::kDone) return Status::NotFound(ReleaseName(release_id) + ": no such release");
    if (rc != StepResult::kRow) return Error(what);
    release = ReadRelease(**query);
  }
  if (Status status = InsertActivation(release, actor); !status.ok()) return status;
  if (Status status = transaction.Commit(what); !status.ok()) return status;
  release.active = true;
  return release;
}

Result<std::optional<Release>> SqlStore::ActiveRelease() const {
  auto query = Sql(std::string(kReleaseSelect) +
                   " WHERE r.id = (SELECT t.release_id FROM release_activations t ORDER BY t.id DESC LIMIT 1)");
  if (!query.ok()) return query.status();
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kDone) return std::optional<Release>();
  if (rc != StepResult::kRow) return Error("reading the active release");
  return std::optional<Release>(ReadRelease(**query));
}

Result<std::vector<Release>> SqlStore::ListReleases() const {
  auto query = Sql(std::string(kReleaseSelect) + " ORDER BY r.id");
  if (!query.ok()) return query.status();
  std::vector<Release> releases;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) releases.push_back(ReadRelease(**query));
  if (rc != StepResult::kDone) return Error("reading releases");
  return releases;
}

// Each release's hash (over its bundles' stored hashes), each activation's, and their audit entries.
Status SqlStore::VerifyReleases(VerifyReport& report) const {
  std::map<int64_t, std::string> release_hashes;
  {
    auto query = Sql(
        "SELECT r.id, r.knowledge_version, r.rules_version, r.published_at, r.actor, r.note, r.content_hash, "
        "k.bundle_hash, u.bundle_hash, r.audit_sequence, a.subject, a.content_hash FROM releases r "
        "LEFT JOIN bundles k ON k.kind = 'knowledge' AND k.version = r.knowledge_version "
        "LEFT JOIN bundles u ON u.kind = 'rules' AND u.version = r.rules_version "
        "LEFT JOIN audit_log a ON a.sequence = r.audit_sequence ORDER BY r.id");
    if (!query.ok()) return query.status();
    StepResult rc;
    while ((rc = (*query)->Step()) == StepResult::kRow) {
      const Statement& row = **query;
      ++report.releases;
      Release r{row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4), row.Text(5), row.Text(6)};
      release_hashes[r.id] = r.content_hash;
      std::string name = ReleaseName(r.id);
      if (row.IsNull(7) || row.IsNull(8))
        report.problems.push_back(name + ": its " + (row.IsNull(7) ? "knowledge version " + r.knowledge_version
                                                                    : "rules version " + r.rules_version) +
                                  " is not stored");
      else if (ReleaseHash(r, row.Text(7), row.Text(8)) != r.content_hash)
        report.problems.push_back(name + ": content hash " + r.content_hash.substr(0, 19) +
                                  "... does not match the stored release (versions, publisher, note or time changed)");
      CheckAuditEntry(row, 9, 10, name, PublishedSubject(r.id), r.content_hash, "release", report);
    }
    if (rc != StepResult::kDone) return Error("reading releases");
  }
  auto query = Sql("SELECT t.id, t.release_id, t.at, t.actor, t.content_hash, t.audit_sequence, a.subject, "
                   "a.content_hash FROM release_activations t LEFT JOIN audit_log a ON a.sequence = t.audit_sequence "
                   "ORDER BY t.id");
  if (!query.ok()) return query.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    ++report.releases;
    int64_t id = row.Int(0), release_id = row.Int(1);
    std::string name = ActivatedSubject(release_id) + " (activation " + std::to_string(id) + ")";
    std::string hash = row.Text(4);
    if (ActivationHash(id, release_id, row.Text(2), row.Text(3), release_hashes[release_id]) != hash)
      report.problems.push_back(name + ": content hash " + hash.substr(0, 19) +
                                "... does not match the stored activation (release, time or actor changed)");
    CheckAuditEntry(row, 5, 6, name, ActivatedSubject(release_id), hash, "activation", report);
  }
  if (rc != StepResult::kDone) return Error("reading release activations");
  return Status::Ok();
}

}  // namespace nflux::store
