// The rule linter: findings about a rule base that loads but says something odd (a rule that can
// never fire, duplicates, subsumed or conflicting rules, knowledge deficits and strategies that no
// rule concludes). Findings are data; `nflux rules lint` prints them.
//
// Pure functions over an immutable rule base and knowledge base; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "knowledge/knowledge.h"
#include "rules/rules.h"

namespace nflux::lint {

enum class FindingKind {
  kNeverFires,     // two tests that cannot both hold, or a test and its negation
  kSelfConflict,   // one rule both suggests and opposes a deficit
  kDuplicate,      // same conditions and actions as an earlier rule
  kConflicting,    // same conditions as an earlier rule, one suggests and the other opposes a deficit
  kSubsumed,       // an earlier rule's conditions are a strict subset and both conclude the same
  kUnconcluded,    // a knowledge deficit or strategy that no rule concludes
};
std::string_view Name(FindingKind kind);  // "never_fires", "self_conflict", ...

struct Finding {
  FindingKind kind;
  rules::SourceLocation at;
  std::string message;
  std::string rule;  // the rule it is about; "" for kUnconcluded
  // "file:line:col: warning: message"
  std::string Text() const;
};

// Every finding, sorted by file, line and column (stable).
std::vector<Finding> Lint(const rules::RuleBase& rule_base, const knowledge::KnowledgeBase& kb);

// A rule count for sources that did not load (so `rules check` can still say how many rules it
// saw): the lines that open with `rule ID`, ID starting with a lowercase letter.
size_t CountRuleOpenings(const std::vector<rules::RuleSource>& sources);

}  // namespace nflux::lint
