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
#include <simdjson.h>

#include "base/limits.h"

namespace nflux::casefile {

inline constexpr int kMaxFastJsonDepth = limits::kMaxJsonDepth;

std::optional<nlohmann::json> FastParseJson(std::string_view text);

// For ParseCase's fast path, which reads a case straight from simdjson's document.
// The root of `text` as this thread's parser reads it, valid until the thread's next call; nullopt
// on any simdjson error, a byte order mark, or a text longer than limits::kMaxJsonString.
std::optional<simdjson::dom::element> ParseFastDocument(std::string_view text);
// True when some object in `element` has a key twice (the strict reader reports those).
bool HasDuplicateKeys(simdjson::dom::element element);
// True when the text may hold an integer written "-0" (signed zero in nlohmann, "0" in simdjson).
bool MayHaveMinusZero(std::string_view text);
// nlohmann's copy of one value, or nullopt as FastParseJson gives it.
std::optional<nlohmann::json> FastToJson(simdjson::dom::element element, std::string_view text);

}  // namespace nflux::casefile
