// Internal: what the safety tests share: the shipped pipeline (real knowledge/ and rules/), the
// safety edges read from the knowledge files, the random-case vocabulary, and readings of an
// evaluation (the verdicts a strategy got, a strategy's kind).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/inference.h"
#include "pipeline/pipeline.h"
#include "safety/knowledge_cases.h"
#include "safety/random_case.h"

namespace nflux::testing {

// The shipped knowledge and rules, opened once per test binary (a load problem fails the test).
const pipeline::Pipeline& ShippedPipeline();
// Every safety edge of the shipped knowledge folder.
const std::vector<SafetyEdge>& ShippedSafetyEdges();
// The random-case vocabulary of the shipped knowledge, with the labs' contraindication thresholds.
const CaseVocabulary& ShippedVocabulary();

// Evaluation options for speed: no trace, no predicted effects (the gate does not depend on them).
pipeline::EvaluationOptions FastOptions();

// Every verdict the evaluation gave strategy `id`: in `strategies`, `blocked` and `requested`.
std::vector<inference::Verdict> VerdictsOf(const inference::Evaluation& evaluation, const std::string& id);
// The requested-supplement entries for `id` (one expected).
std::vector<const inference::StrategyResult*> VerdictEntries(const inference::Evaluation& evaluation, const std::string& id);
// The strategy node's kind; kOther for an unknown id.
StrategyKind KindOf(const knowledge::KnowledgeBase& kb, const std::string& strategy);
// "precursor_5htp" from "requested:precursor_5htp", "suggested:..." or "current:..."; "" otherwise.
std::string StrategyNamedBy(const std::string& because);

}  // namespace nflux::testing
