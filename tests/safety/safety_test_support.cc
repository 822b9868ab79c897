#include "safety/safety_test_support.h"

#include <memory>

#include <gtest/gtest.h>

namespace nflux::testing {

const pipeline::Pipeline& ShippedPipeline() {
  static const std::unique_ptr<pipeline::Pipeline> shipped = [] {
    pipeline::Options options;
    options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
    options.rules_dir = NFLUX_SOURCE_DIR "/rules";
    auto opened = pipeline::Pipeline::Open(options);
    if (!opened.ok()) {
      ADD_FAILURE() << opened.status().message();
      std::abort();  // every safety test needs it
    }
    return std::move(opened).value();
  }();
  return *shipped;
}

const std::vector<SafetyEdge>& ShippedSafetyEdges() {
  static const std::vector<SafetyEdge> edges = ReadSafetyEdges(NFLUX_SOURCE_DIR "/knowledge");
  return edges;
}

const CaseVocabulary& ShippedVocabulary() {
  static const CaseVocabulary vocabulary =
      VocabularyOf(ShippedPipeline().knowledge(), LabThresholds(ShippedSafetyEdges()));
  return vocabulary;
}

pipeline::EvaluationOptions FastOptions() {
  pipeline::EvaluationOptions options;
  options.engine.trace = false;
  options.predicted_effects = false;
  return options;
}

std::vector<inference::Verdict> VerdictsOf(const inference::Evaluation& evaluation, const std::string& id) {
  std::vector<inference::Verdict> out;
  for (const auto* list : {&evaluation.strategies, &evaluation.blocked, &evaluation.requested})
    for (const inference::StrategyResult& strategy : *list)
      if (strategy.id == id) out.push_back(list == &evaluation.blocked ? inference::Verdict::kBlocked : strategy.verdict);
  return out;
}

std::vector<const inference::StrategyResult*> VerdictEntries(const inference::Evaluation& evaluation, const std::string& id) {
  std::vector<const inference::StrategyResult*> out;
  for (const inference::StrategyResult& strategy : evaluation.requested)
    if (strategy.id == id) out.push_back(&strategy);
  return out;
}

StrategyKind KindOf(const knowledge::KnowledgeBase& kb, const std::string& strategy) {
  const knowledge::Node* node = kb.Find(strategy);
  return node && node->strategy ? node->strategy->kind : StrategyKind::kOther;
}

std::string StrategyNamedBy(const std::string& because) {
  for (std::string_view prefix : {"requested:", "suggested:", "current:"})
    if (because.rfind(prefix, 0) == 0) return because.substr(prefix.size());
  return "";
}

}  // namespace nflux::testing
