// Internal: the two ways ParseCase reads a case, apart, so that tests can hold them side by side.
//
// ParseCaseFast reads a plain, valid case straight from simdjson's document; it gives nullopt for
// anything else (a problem to report, a key twice, "-0", anything unusual), never a message.
// ParseCaseStrict reads through nlohmann's document and reports every problem. ParseCase is the
// first, else the second; both give the same Case for a case the first accepts.
// Thread-safe as ParseCase.
#pragma once

#include <optional>
#include <string_view>

#include "case/case.h"

namespace nflux::casefile {

std::optional<Case> ParseCaseFast(std::string_view json_text, const knowledge::KnowledgeBase& kb,
                                  const ParseOptions& options);
Result<Case> ParseCaseStrict(std::string_view json_text, const knowledge::KnowledgeBase& kb,
                             const ParseOptions& options);

}  // namespace nflux::casefile
