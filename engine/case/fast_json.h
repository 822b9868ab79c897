// Internal: a fast reader for the plain JSON that cases almost always are, used by ParseCase
// before the strict reader (base/json.h, built on nlohmann's lexer, which reads one character at a
// time and costs most of a case's parse). The text is read by simdjson, then its document is
// copied into nlohmann's.
//
// FastParseJson returns exactly the document nlohmann would build (same value types: a number
// without fraction or exponent is unsigned, or signed when negative; others are doubles; strings
// unescaped alike), or nullopt for anything it leaves to the strict reader: any error simdjson
// finds (syntax, invalid UTF-8, an integer beyond 64 bits, nesting deeper than kMaxFastJsonDepth),
// (a byte order mark too), a key given twice, and a zero written "-0" (signed in nlohmann, which
// simdjson cannot tell from "0"). The strict reader then gives the same document, or the exact error.
// Thread-safe: each thread reuses its own simdjson parser.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nflux::casefile {

inline constexpr int kMaxFastJsonDepth = 64;

std::optional<nlohmann::json> FastParseJson(std::string_view text);

}  // namespace nflux::casefile
