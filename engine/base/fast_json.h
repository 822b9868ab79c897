// A fast reader for the plain JSON that inputs almost always are, tried before the strict reader
// (base/json.h, built on nlohmann's lexer, which reads one character at a time: most of a case's
// parse, and a tenth of a hook call's CPU for its request and its report). The text is read by
// simdjson, then its document is copied into nlohmann's.
//
// FastParseJson returns exactly the document nlohmann would build (same value types: a number
// without fraction or exponent is unsigned, or signed when negative; others are doubles; strings
// unescaped alike), or nullopt for anything it leaves to the strict reader: any error simdjson
// finds (syntax, invalid UTF-8, an integer beyond 64 bits, nesting deeper than kMaxFastJsonDepth),
// (a byte order mark too), a key given twice, a string or key over limits::kMaxJsonString, a text
// over kMaxFastJsonText, and a zero written "-0" (signed in nlohmann, which simdjson cannot tell
// from "0"). The strict reader then gives the same document, or the exact error.
// Thread-safe: each thread reuses its own simdjson parser.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "base/limits.h"

namespace nflux {

inline constexpr int kMaxFastJsonDepth = limits::kMaxJsonDepth;
// Longer texts are the strict reader's: a thread's parser keeps its buffers (several times the
// text) for the next text, so no rare large request pins that much memory in every thread.
inline constexpr size_t kMaxFastJsonText = size_t{256} << 10;

std::optional<nlohmann::json> FastParseJson(std::string_view text);
// The same with the members of each object in their written order (nlohmann::ordered_json).
std::optional<nlohmann::ordered_json> FastParseOrderedJson(std::string_view text);
// A document this program wrote (an evaluation's JSON text), read back in its written order: by the
// fast reader, else by nlohmann's, which throws on a syntax error (a bug here, never bad input).
nlohmann::ordered_json ParseWrittenJson(std::string_view text);

// For ParseCase's fast path (engine/case), which reads a case straight from simdjson's document.
// The root of `text` as this thread's parser reads it, valid until the thread's next call (of this,
// FastParseJson, FastParseOrderedJson or ParseJsonStrict: they share the parser); nullopt
// on any simdjson error, a byte order mark, or a text longer than limits::kMaxJsonString.
std::optional<simdjson::dom::element> ParseFastDocument(std::string_view text);
// True when some object in `element` has a key twice (the strict reader reports those).
bool HasDuplicateKeys(simdjson::dom::element element);
// True when the text may hold an integer written "-0" (signed zero in nlohmann, "0" in simdjson).
bool MayHaveMinusZero(std::string_view text);
// nlohmann's copy of one value, or nullopt as FastParseJson gives it.
std::optional<nlohmann::json> FastToJson(simdjson::dom::element element, std::string_view text);

}  // namespace nflux
