// Internal to engine/rules: the recursive-descent parser from tokens to the unchecked AST (the
// Rule structs of rules.h). It checks only the shape of the text; ids are resolved by the checker.
//
// On an error the parser records it and skips to the next `rule` keyword, so one call reports
// every syntax error in a file. Errors carry file, line, column and message; LoadRules adds the
// source line. Stateless between calls; thread-safe.
#pragma once

#include <vector>

#include "rules/rules.h"

namespace nflux::rules {

// The rules `file` defines, in text order. Rules with a syntax error are left out; their errors
// are appended to *errors.
std::vector<Rule> ParseRules(const RuleSource& file, std::vector<RuleError>* errors);

}  // namespace nflux::rules
