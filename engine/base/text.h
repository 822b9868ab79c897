// Small text utilities shared by every module: id checks, "did you mean" suggestions, hashing.
// Pure functions; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/id_hash.h"
#include "base/limits.h"
#include "base/status.h"

namespace nflux {

// True for snake_case ids: ^[a-z][a-z0-9_]*$.
bool IsSnakeCaseId(std::string_view id);

// Levenshtein distance between two strings (byte-wise).
size_t EditDistance(std::string_view a, std::string_view b);

// Up to `max_results` candidates closest to `word`, nearest first, ties by name; only those within
// a distance that still looks like a typo (about a third of the word's length, at least 2), or that
// contain `word` or are contained in it.
std::vector<std::string> NearestIds(std::string_view word, const std::vector<std::string>& candidates,
                                    size_t max_results = 3);

// The items with `separator` between each two: Join({"a", "b"}, ", ") is "a, b".
std::string Join(const std::vector<std::string>& items, std::string_view separator);

// Text in upper case (ASCII): "high" -> "HIGH".
std::string UpperCase(std::string text);
// Upper case without white space: how ATC and ICD-10 codes are compared ("n06ab 10" is N06AB10).
std::string CodeKey(std::string_view text);
// 'text' in single quotes, as messages quote an id or a word.
std::string SingleQuoted(std::string_view text);
// A label without its parenthetical groups, where they stand: "PHQ-9 (Patient Health
// Questionnaire-9)" -> "PHQ-9", "Vitamin B6 (PLP) deficiency" -> "Vitamin B6 deficiency". A group
// opens at " (" and closes at its matching ")" ("NAD(P)+" inside one is kept with it). The label
// unchanged when a group does not close or nothing would be left.
std::string WithoutParentheticals(std::string_view label);
inline bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Whether `text` is a date "YYYY-MM-DD" that exists in the calendar (no month 13, no 30 February).
bool IsCalendarDate(std::string_view text);

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points past
// U+10FFFF). Text from files goes into JSON output, which must be valid UTF-8.
bool IsValidUtf8(std::string_view text);
// `text` with every byte that is not part of a well-formed UTF-8 character written as "\xNN", so a
// message quoting bad input can go into JSON.
std::string Utf8Safe(std::string_view text);
// At most `max_bytes` of `text`, cut before a character rather than inside one (for messages that
// quote what was given).
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);

// " (did you mean 'a', 'b'?)" or "" when there is nothing close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// Hashes std::string and std::string_view alike: an unordered_map<std::string, T, StringHash,
// std::equal_to<>> can be searched with a string_view without building a string. For our own ids
// (HashId: a few instructions, where std::hash calls into the library).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return HashId(text); }
};

// Reads a whole file; Status::IOError naming the path when it cannot, NotFound when it does not
// exist, InvalidArgument when it is larger than `max_bytes` (a device or endless pipe is read only
// that far) or a symbolic link that leads to itself.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = limits::kMaxInputBytes);
// A whole file mapped read-only, for reading a large file in place: its pages come from the page
// cache, mapped at once, with no copy and no fresh memory to fault in (a snapshot image is 1.5 MB,
// read by every process). Errors as ReadFileToString's; a file that cannot be mapped (a pipe, a
// device) is read into memory instead. For files replaced by rename, never truncated in place (as
// snapshot images are): reading a mapping past a file's new end raises SIGBUS.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view bytes() const { return mapped_ ? std::string_view(mapped_, size_) : std::string_view(read_); }

 private:
  friend Result<MappedFile> MapFile(const std::string& path, size_t max_bytes);
  const char* mapped_ = nullptr;  // the mapping, or nullptr when read_ holds the bytes
  size_t size_ = 0;
  std::string read_;
};
Result<MappedFile> MapFile(const std::string& path, size_t max_bytes = limits::kMaxInputBytes);
// The same for standard input ("stdin" in messages).
Result<std::string> ReadStdinToString(size_t max_bytes = limits::kMaxInputBytes);
// The files under `dir` and its subfolders whose name ends in `extension` (".rules"), relative to
// `dir` with '/' separators, sorted; folders named `skip_folder` are not entered. InvalidArgument
// for a link that leads to itself or more than limits::kMaxSourceFiles files; IOError naming what
// could not be listed.
Result<std::vector<std::string>> ListSourceFiles(const std::string& dir, std::string_view extension,
                                                 std::string_view skip_folder = {});

// Formats a double the way reports show numbers: up to `significant` significant digits, no
// trailing zeros, no exponent for ordinary magnitudes ("0.738", "176.2", "10000").
std::string FormatNumber(double value, int significant = 6);
// The number FormatNumber(value, significant) prints, read back, without building a string
// (reports round every lab value to 4 significant digits: 130 pmol/L of B12 is 176.2 pg/mL).
double RoundToSignificant(double value, int significant);

}  // namespace nflux
