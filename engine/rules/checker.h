// Internal to engine/rules: what LoadRules does after parsing.
//
// CheckRules resolves every id of the parsed rules against the knowledge graph (with the kind the
// language expects there), converts lab thresholds to the lab's canonical unit and checks the
// numbers (certainties, items, bands, lifestyle values). Stratify orders the rules for the agenda:
// a rule that tests a fact, driver, deficit or alert runs in a later stratum than every rule
// concluding it; a cycle is an error. Both append every error they find to *errors (without the
// source line, which LoadRules adds). Pure functions of their arguments; thread-safe.
#pragma once

#include <vector>

#include "knowledge/knowledge.h"
#include "rules/rules.h"

namespace nflux::rules {

// REQUIRES: `rules` holds the rules of every file, so duplicate ids across files are found.
void CheckRules(std::vector<Rule>* rules, const knowledge::KnowledgeBase& kb, std::vector<RuleError>* errors);

// Sets Rule::stratum and sorts the rules into agenda order: stratum, salience (high first), file,
// line. Reports cycles and, when `check_facts`, `fact` tests that no rule derives (LoadRules turns
// that off after a syntax error: the rule deriving the fact may be the one that failed to parse).
void Stratify(std::vector<Rule>* rules, bool check_facts, std::vector<RuleError>* errors);

}  // namespace nflux::rules
