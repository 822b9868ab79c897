// Internal: a fast reader for the plain JSON that cases almost always are, used by ParseCase
// before the strict reader (base/json.h, built on nlohmann's lexer, which reads one character at a
// time and costs most of a case's parse).
//
// FastParseJson returns exactly the document nlohmann would build (same value types: a number
// without fraction or exponent is unsigned, or signed when negative; others are doubles), or
// nullopt for anything it leaves to the strict reader: a syntax error, a key given twice, a string
// with an escape or a byte outside printable ASCII, an integer of more than 18 digits, nesting
// deeper than kMaxDepth. The strict reader then gives the same document, or the exact error.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nflux::casefile {

inline constexpr int kMaxFastJsonDepth = 64;

std::optional<nlohmann::json> FastParseJson(std::string_view text);

}  // namespace nflux::casefile
