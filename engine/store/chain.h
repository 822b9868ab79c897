// Internal: the hashes of the audit chain and the compression of stored runs (store.h's top
// comment says what each hash covers). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

// zstd's prepared dictionaries (zstd.h), kept out of this header.
struct ZSTD_CDict_s;
struct ZSTD_DDict_s;

namespace nflux::store {

// The canonical serialisation every hash is taken over: each field as its decimal byte length, a
// ':' and its bytes. Unambiguous for any bytes (binary, NULs, invalid UTF-8), unlike a JSON dump.
std::string Canonical(const std::vector<std::string_view>& fields);

std::string_view KindName(BundleKind kind);  // "knowledge" | "rules"

// A blob's key: ContentHash(text). A bundle: its kind, version and manifest text.
std::string BundleHash(BundleKind kind, std::string_view version, std::string_view manifest);
// The manifest of a bundle: a JSON array of {"name", "hash"} in name order, as stored.
// `hashes[i]` is the blob hash of `files[i]`.
std::string Manifest(const std::vector<NamedText>& files, const std::vector<std::string>& hashes);

std::string CaseVersionHash(const CaseVersion& version);

// What a run's content hash covers besides the summary.
struct RunContent {
  std::string_view options;     // the stored options text
  std::string_view evaluation;  // the stored (compressed) bytes
  std::string_view trace;       // the stored (compressed) bytes
  std::string_view case_hash, knowledge_hash, rules_hash;
  std::string_view dictionary_hash = {};  // the compression dictionary's content hash; "" for none
};
std::string RunHash(const RunSummary& summary, const RunContent& content);

// A release's content hash: its fields and the hashes of its two bundles. An activation's: its id,
// the release's id and content hash, when and by whom.
std::string ReleaseHash(const Release& release, std::string_view knowledge_hash, std::string_view rules_hash);
std::string ActivationHash(int64_t activation_id, int64_t release_id, std::string_view at, std::string_view actor,
                           std::string_view release_hash);

// A feedback item's content hash: its run, card, outcome, timestamps, actor and detail text.
std::string FeedbackHash(const Feedback& feedback);

std::string EntryHash(const AuditEntry& entry);

std::string NowUtc();  // "2026-11-29T09:05:35.123Z"

// A zstd dictionary of raw content (store.h, "Compression dictionaries"), prepared once for
// compressing and for decompressing; immutable, so shared by every thread.
class CompressionDictionary {
 public:
  // Errors: Internal when zstd cannot prepare it (out of memory).
  static Result<std::shared_ptr<const CompressionDictionary>> Make(int64_t id, std::string content);
  ~CompressionDictionary();
  CompressionDictionary(const CompressionDictionary&) = delete;
  CompressionDictionary& operator=(const CompressionDictionary&) = delete;

  int64_t id() const { return id_; }
  const std::string& content() const { return content_; }
  const std::string& content_hash() const { return content_hash_; }

 private:
  friend Result<std::string> Compress(std::string_view, const CompressionDictionary*);
  friend Result<std::string> Decompress(std::string_view, const std::string&, const CompressionDictionary*);
  CompressionDictionary(int64_t id, std::string content);

  int64_t id_;
  std::string content_;  // zstd's prepared forms refer to it: never changed after Make
  std::string content_hash_;
  ::ZSTD_CDict_s* compress_ = nullptr;
  ::ZSTD_DDict_s* decompress_ = nullptr;
};

// zstd: the evaluation and trace are stored compressed (a trace is mostly repeated keys), with a
// dictionary when one is given.
Result<std::string> Compress(std::string_view bytes, const CompressionDictionary* dictionary = nullptr);
// Corruption naming `what` when the bytes are not one complete zstd frame (or were compressed with
// another dictionary).
Result<std::string> Decompress(std::string_view bytes, const std::string& what,
                               const CompressionDictionary* dictionary = nullptr);

}  // namespace nflux::store
