// The compiled snapshot: the knowledge base and the rule base a pipeline opens, as one binary
// image in a cache folder, so that a process opens them in a fraction of the time the JSON and rule
// sources take to parse and validate. Pipeline::Open uses it when Options::snapshot_dir is set.
//
// An image is keyed by its content: a hash of the format version, the nflux build (the running
// executable's size and modification time) and every source file's path and text. The sources are
// read on every open (they are also what a stored run keeps); only when the key, the size and the
// checksum all match is the image used; anything else (missing, stale, truncated, damaged) reads as
// "no image" and the caller opens the sources, then writes a new image (a temporary file renamed
// over the old one, so a reader never sees half an image). Only what opened without a problem is
// ever written, so what an image holds passed full validation.
//
// Stateless functions; thread-safe. Errors are data (Status), nothing is printed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "knowledge/knowledge.h"
#include "rules/rules.h"

namespace nflux::snapshot {

// Raised whenever the encoding changes (a field added to a knowledge or rule structure).
inline constexpr uint32_t kFormatVersion = 1;

// What an image holds.
struct Image {
  std::shared_ptr<const knowledge::KnowledgeBase> kb;
  std::shared_ptr<const rules::RuleBase> rules;
};

// The key of these sources under this build of nflux.
uint64_t KeyOf(const std::vector<knowledge::SourceFile>& knowledge, const std::vector<rules::RuleSource>& rules);

// The cache folder: $NFLUX_CACHE, else $XDG_CACHE_HOME/nflux, else $HOME/.cache/nflux; "" (no
// snapshot) when NFLUX_SNAPSHOT is "off" or no folder can be named.
std::string DefaultCacheDir();

// The image file in `cache_dir` for the pipeline of these two folders run by this executable (one
// file per pair of folders and executable, rewritten when their content changes).
std::string PathFor(const std::string& cache_dir, const std::string& knowledge_dir, const std::string& rules_dir);

// The image bytes for `key`, and back. Decode: Corruption when the bytes are not a whole, intact
// image of `key` (wrong magic, format version, key, size or checksum; undecodable content).
// REQUIRES (Encode): `kb` and `rule_base` loaded without problems.
std::string Encode(uint64_t key, const knowledge::KnowledgeBase& kb, const rules::RuleBase& rule_base);
Result<Image> Decode(std::string_view bytes, uint64_t key);

// Decode() of the file at `path`: NotFound when there is none.
Result<Image> Load(const std::string& path, uint64_t key);
// Writes Encode() to `path` atomically (the folder made if needed). IOError when it cannot.
Status Save(const std::string& path, uint64_t key, const knowledge::KnowledgeBase& kb,
            const rules::RuleBase& rule_base);

}  // namespace nflux::snapshot
