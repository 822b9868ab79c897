// Compression dictionaries in the store (schema 6; store.h says what they are for). A dictionary's
// content is kept compressed and hashed uncompressed; its audit entry (kind "dictionary") records
// DictionaryHash over its id, time, actor and content hash, and every run compressed with it hashes
// its content hash, so a changed dictionary shows in Verify() both as itself and in its runs.
#include "store/chain.h"
#include "store/sql_store.h"

namespace nflux::store {
namespace {

std::string DictionaryHash(int64_t id, std::string_view created_at, std::string_view actor,
                           std::string_view content_hash) {
  std::string id_text = std::to_string(id);
  return ContentHash(Canonical({"compression_dictionary", id_text, created_at, actor, content_hash}));
}

}  // namespace

Result<std::shared_ptr<const CompressionDictionary>> SqlStore::SaveDictionary(std::string content,
                                                                              const std::string& actor) {
  const std::string what = "storing a compression dictionary";
  if (content.empty()) return Status::InvalidArgument(what + ": it has no content");
  std::string content_hash = ContentHash(content);
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto stored = Sql("SELECT id FROM compression_dictionaries WHERE content_hash = ?");
  if (!stored.ok()) return stored.status();
  (*stored)->Bind(1, content_hash);
  StepResult rc = (*stored)->Step();
  if (rc == StepResult::kRow) {
    int64_t id = (*stored)->Int(0);
    (*stored)->Reset();
    if (Status status = transaction.Commit(what); !status.ok()) return status;
    return Dictionary(id, what);
  }
  if (rc != StepResult::kDone) return Error(what);
  auto id = NextId("compression_dictionaries");
  if (!id.ok()) return id.status();
  auto compressed = Compress(content);
  if (!compressed.ok()) return compressed.status();
  auto dictionary = CompressionDictionary::Make(*id, std::move(content));
  if (!dictionary.ok()) return dictionary.status();
  std::string created_at = NowUtc(), name = DictionaryName(*id);
  auto entry = AppendAudit(actor, "dictionary", name, DictionaryHash(*id, created_at, actor, content_hash));
  if (!entry.ok()) return entry.status();
  auto insert = Sql("INSERT INTO compression_dictionaries (id, content, content_hash, created_at, actor, "
                    "audit_sequence) VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->Bind(1, *id).BindBlob(2, *compressed).Bind(3, content_hash).Bind(4, created_at).Bind(5, actor);
  (*insert)->Bind(6, entry->sequence);
  if ((*insert)->Step() != StepResult::kDone) return Error("storing " + name);
  if (Status status = transaction.Commit(what); !status.ok()) return status;
  dictionaries_[*id] = *dictionary;
  return dictionary;
}

Result<std::shared_ptr<const CompressionDictionary>> SqlStore::Dictionary(int64_t id, const std::string& what) const {
  if (auto known = dictionaries_.find(id); known != dictionaries_.end()) return known->second;
  std::string name = DictionaryName(id);
  auto query = Sql("SELECT content, content_hash FROM compression_dictionaries WHERE id = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, id);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kDone) return Status::NotFound(what + ": its compression dictionary " + name + " is not stored");
  if (rc != StepResult::kRow) return Error("reading " + name);
  std::string stored_hash = (*query)->Text(1);
  auto content = Decompress((*query)->Blob(0), location_ + ": " + name);
  (*query)->Reset();
  if (!content.ok()) return content.status();
  // Checked once, here: runs decompressed with a changed dictionary would read as other text.
  if (ContentHash(*content) != stored_hash)
    return Status::Corruption(location_ + ": " + name + ": its content does not match its hash");
  auto dictionary = CompressionDictionary::Make(id, std::move(content).value());
  if (!dictionary.ok()) return dictionary.status();
  dictionaries_[id] = *dictionary;
  return dictionary;
}

Status SqlStore::VerifyDictionaries(VerifyReport& report) const {
  auto query = Sql(
      "SELECT d.id, d.content, d.content_hash, d.created_at, d.actor, d.audit_sequence, a.subject, a.content_hash "
      "FROM compression_dictionaries d LEFT JOIN audit_log a ON a.sequence = d.audit_sequence ORDER BY d.id");
  if (!query.ok()) return query.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    ++report.dictionaries;
    int64_t id = row.Int(0);
    std::string name = DictionaryName(id), content_hash = row.Text(2);
    auto content = Decompress(row.Blob(1), name);
    if (!content.ok())
      report.problems.push_back(name + ": its stored content is not a complete zstd frame");
    else if (ContentHash(*content) != content_hash)
      report.problems.push_back(name + ": its content does not match its hash " + content_hash +
                                " (the dictionary was changed)");
    CheckAuditEntry(row, 5, 6, name, name, DictionaryHash(id, row.Text(3), row.Text(4), content_hash), "dictionary",
                    report);
  }
  if (rc != StepResult::kDone) return Error("reading compression dictionaries");
  return Status::Ok();
}

}  // namespace nflux::store
