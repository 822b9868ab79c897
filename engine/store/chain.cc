#include "store/chain.h"

// ZSTD_c_forceAttachDict (zstd's experimental parameters): libzstd.a of the same version is linked.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "base/text.h"

namespace nflux::store {

std::string ContentHash(std::string_view bytes) { return "sha256:" + Sha256Hex(bytes); }

std::string Canonical(const std::vector<std::string_view>& fields) {
  size_t size = 0;
  for (auto field : fields) size += field.size() + 12;
  std::string out;
  out.reserve(size);
  for (auto field : fields) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
  }
  return out;
}

std::string_view KindName(BundleKind kind) { return kind == BundleKind::kKnowledge ? "knowledge" : "rules"; }

std::string BundleHash(BundleKind kind, std::string_view version, std::string_view manifest) {
  return ContentHash(Canonical({"bundle", KindName(kind), version, manifest}));
}

std::string Manifest(const std::vector<NamedText>& files, const std::vector<std::string>& hashes) {
  std::vector<size_t> order(files.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return files[a].name < files[b].name; });
  nlohmann::json manifest = nlohmann::json::array();
  for (size_t i : order) manifest.push_back({{"name", files[i].name}, {"hash", hashes[i]}});
  // A file name that is not UTF-8 is kept recognisable rather than failing the whole store.
  return manifest.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string CaseVersionHash(const CaseVersion& v) {
  std::string version = std::to_string(v.version);
  return ContentHash(Canonical({"case_version", v.case_id, version, v.created_at, v.actor, v.submitted, v.normalised}));
}

std::string RunHash(const RunSummary& s, const RunContent& c) {
  std::string id = std::to_string(s.id), case_version = std::to_string(s.case_version);
  std::vector<std::string_view> fields{"run", id, s.created_at, s.actor, s.origin, s.case_id, case_version,
                                       s.knowledge_version, s.rules_version, s.engine_version, c.options,
                                       c.evaluation, c.trace, c.case_hash, c.knowledge_hash, c.rules_hash};
  // Only a run from a release hashes its release, and only a run compressed with a dictionary the
  // dictionary: runs stored before schemas 5 and 6 keep their hashes.
  std::string release = "release " + std::to_string(s.release_id);
  if (s.release_id != 0) fields.push_back(release);
  std::string dictionary = "dictionary " + std::string(c.dictionary_hash);
  if (!c.dictionary_hash.empty()) fields.push_back(dictionary);
  return ContentHash(Canonical(fields));
}

std::string ReleaseHash(const Release& r, std::string_view knowledge_hash, std::string_view rules_hash) {
  std::string id = std::to_string(r.id);
  return ContentHash(Canonical({"release", id, r.knowledge_version, r.rules_version, r.published_at, r.actor,
                                r.note, knowledge_hash, rules_hash}));
}

std::string ActivationHash(int64_t activation_id, int64_t release_id, std::string_view at, std::string_view actor,
                           std::string_view release_hash) {
  std::string id = std::to_string(activation_id), release = std::to_string(release_id);
  return ContentHash(Canonical({"release_activation", id, release, at, actor, release_hash}));
}

std::string FeedbackHash(const Feedback& f) {
  std::string id = std::to_string(f.id), run = std::to_string(f.run_id);
  return ContentHash(Canonical({"feedback", id, run, f.card, f.outcome, f.outcome_timestamp, f.received_at, f.actor,
                                f.detail}));
}

std::string EntryHash(const AuditEntry& e) {
  std::string sequence = std::to_string(e.sequence);
  return ContentHash(Canonical({"audit_entry", e.prev_hash, sequence, e.kind, e.subject, e.content_hash}));
}

std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + length, sizeof buffer - length, ".%03dZ", static_cast<int>(millis));
  return buffer;
}

namespace {

// Level 1: a real run (36 KB evaluation, 97 KB trace) compresses to about a sixth in a fraction of
// a millisecond; higher levels save little more and cost storing a run its 2 ms budget.
constexpr int kLevel = 1;
// The first bytes of a zstd dictionary with entropy tables: content that began with them would not
// be taken as raw content.
constexpr std::string_view kDictionaryMagic("\x37\xA4\x30\xEC", 4);

// One context per thread, kept: ZSTD_compress and ZSTD_decompress make and free one per call.
ZSTD_CCtx* ThreadCompressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
  return context.get();
}
ZSTD_DCtx* ThreadDecompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  return context.get();
}

}  // namespace

CompressionDictionary::CompressionDictionary(int64_t id, std::string content)
    : id_(id), content_(std::move(content)), content_hash_(ContentHash(content_)) {}

CompressionDictionary::~CompressionDictionary() {
  ZSTD_freeCDict(compress_);
  ZSTD_freeDDict(decompress_);
}

Result<std::shared_ptr<const CompressionDictionary>> CompressionDictionary::Make(int64_t id, std::string content) {
  if (content.empty() || std::string_view(content).starts_with(kDictionaryMagic))
    return Status::InvalidArgument("a compression dictionary must be raw content that is not empty");
  std::shared_ptr<CompressionDictionary> dictionary(new CompressionDictionary(id, std::move(content)));
  const std::string& text = dictionary->content_;
  dictionary->compress_ = ZSTD_createCDict(text.data(), text.size(), kLevel);
  dictionary->decompress_ = ZSTD_createDDict(text.data(), text.size());
  if (!dictionary->compress_ || !dictionary->decompress_)
    return Status::Internal("zstd: cannot prepare compression dictionary " + std::to_string(id));
  return std::shared_ptr<const CompressionDictionary>(std::move(dictionary));
}

Result<std::string> Compress(std::string_view bytes, const CompressionDictionary* dictionary) {
  ZSTD_CCtx* context = ThreadCompressionContext();
  if (!context) return Status::Internal("zstd: cannot make a compression context");
  // Into a per-thread buffer of the worst case's size, zeroed only when it grows (a string of that
  // size would be zeroed on every call), then only the compressed bytes copied out.
  thread_local std::vector<char> buffer;
  buffer.resize(std::max(buffer.size(), ZSTD_compressBound(bytes.size())));
  size_t size;
  if (dictionary) {
    // The dictionary's tables are used where they are (attached), never copied into the context:
    // for a trace the copy zstd would otherwise choose costs a tenth of the compression.
    ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(context, ZSTD_c_forceAttachDict, ZSTD_dictForceAttach);
    ZSTD_CCtx_refCDict(context, dictionary->compress_);
    size = ZSTD_compress2(context, buffer.data(), buffer.size(), bytes.data(), bytes.size());
    ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters);  // the dictionary is not kept
  } else {
    size = ZSTD_compressCCtx(context, buffer.data(), buffer.size(), bytes.data(), bytes.size(), kLevel);
  }
  if (ZSTD_isError(size)) return Status::Internal(std::string("zstd compress failed: ") + ZSTD_getErrorName(size));
  return std::string(buffer.data(), size);
}

Result<std::string> Decompress(std::string_view bytes, const std::string& what,
                               const CompressionDictionary* dictionary) {
  unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  // A damaged frame may claim any size: no stored run comes near 256 MB.
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (256u << 20))
    return Status::Corruption(what + ": stored bytes are not a complete zstd frame");
  ZSTD_DCtx* context = ThreadDecompressionContext();
  if (!context) return Status::Internal("zstd: cannot make a decompression context");
  std::string out(size, '\0');
  size_t written = dictionary ? ZSTD_decompress_usingDDict(context, out.data(), out.size(), bytes.data(), bytes.size(),
                                                           dictionary->decompress_)
                              : ZSTD_decompressDCtx(context, out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(written) || written != size)
    return Status::Corruption(what + ": stored bytes are not a complete zstd frame" +
                              (dictionary ? " for " + DictionaryName(dictionary->id()) : ""));
  return out;
}

}  // namespace nflux::store
