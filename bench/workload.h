// Synthetic workloads for the benchmarks: rule bases of a clinical shape (tests on symptoms,
// labs, questionnaires and medication classes; conclusions chaining two to three levels through
// derived facts into deficits) and cases that exercise them. Deterministic for a given seed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "case/case.h"
#include "knowledge/knowledge.h"
#include "rules/rules.h"

namespace nflux::bench {

std::shared_ptr<const knowledge::KnowledgeBase> RealKnowledge();

// A statistic for ComputeStatistics("min", Fastest): with --benchmark_repetitions, the fastest
// repetition next to the median. On a shared machine the median carries other tenants' load; the
// minimum is the closest to the code's own cost.
double Fastest(const std::vector<double>& values);

// Which symptoms and labs a workload draws on: all, or one of two disjoint halves (so that rules
// on one half never match cases on the other).
enum class IdHalf { kAll, kFirst, kSecond };

// `rule_count` rules in files of about 200 rules each. Rule ids and fact names start with
// `prefix`, so that several generated rule bases can be loaded together. Rules drawing on the
// second half test no medications (every case has some).
std::vector<rules::RuleSource> GenerateRules(const knowledge::KnowledgeBase& kb, int rule_count, unsigned seed,
                                             IdHalf half = IdHalf::kAll, const std::string& prefix = "g");

// The case JSON texts GenerateCases parses (the same cases, as a front end receives them).
std::vector<std::string> GenerateCaseTexts(const knowledge::KnowledgeBase& kb, int case_count, unsigned seed,
                                           IdHalf half = IdHalf::kAll);

// `case_count` cases with about 8 symptoms, 6 labs, a questionnaire and 1-2 medications each.
std::vector<casefile::Case> GenerateCases(const knowledge::KnowledgeBase& kb, int case_count, unsigned seed,
                                          IdHalf half = IdHalf::kAll);

}  // namespace nflux::bench
