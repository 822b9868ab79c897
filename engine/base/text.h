// Small text utilities shared by every module: id checks, "did you mean" suggestions, hashing.
// Pure functions; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

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

// " (did you mean 'a', 'b'?)" or "" when there is nothing close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// Hashes std::string and std::string_view alike: an unordered_map<std::string, T, StringHash,
// std::equal_to<>> can be searched with a string_view without building a string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// Reads a whole file; Status::IOError naming the path when it cannot.
Result<std::string> ReadFileToString(const std::string& path);

// Formats a double the way reports show numbers: up to `significant` significant digits, no
// trailing zeros, no exponent for ordinary magnitudes ("0.738", "176.2", "10000").
std::string FormatNumber(double value, int significant = 6);

}  // namespace nflux
