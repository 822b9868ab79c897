// The test helpers checked against each other and the case parser: a case built to meet a
// criterion parses, and the reference reading says it meets it; the bare case does not.
#include <iostream>

#include <gtest/gtest.h>

#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::testing {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Builds a case meeting `criterion`, parses it, and checks the reading; "" when all agree.
std::string BuildAndRead(const json& criterion) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  ordered_json c = BaseCase("criterion");
  if (std::string why = ApplyCriterion(kb, criterion, {}, c); !why.empty()) return "cannot build: " + why;
  auto parsed = ShippedPipeline().ParseCase(c.dump(), "criterion");
  if (!parsed.ok()) return "rejected: " + parsed.status().message() + "\ncase: " + c.dump();
  if (!CaseMeets(kb, criterion, *parsed)) return "built but not met: " + c.dump();
  auto bare = ShippedPipeline().ParseCase(BaseCase("bare").dump(), "bare");
  if (!bare.ok() || CaseMeets(kb, criterion, *bare)) return "the bare case meets it too";
  return "";
}

TEST(KnowledgeCases, EveryCriterionFormIsBuiltAndReadBack) {
  const std::vector<json> criteria = {
      {{"lab", "ferritin"}, {"above", 300}, {"sex", "male"}},
      {{"lab", "vitamin_b12"}, {"below", 200}},
      {{"lab", "egfr"}, {"below", 30}},
      {{"lab", "alt"}, {"above", 120}},
      {{"questionnaire", "phq9"}, {"item", 9}, {"at_least", 1}},
      {{"questionnaire", "epds"}, {"item", 10}, {"at_least", 2}},
      {{"questionnaire", "mdq"}, {"positive", true}},
      {{"questionnaire", "audit_c"}, {"positive", true}},
      {{"questionnaire", "phq9"}, {"at_least", 20}},
      {{"symptom", "headaches"}, {"at_least", 3}},
      {{"symptom", "palpitations"}},
      {{"lifestyle", "alcohol_drinks_per_week"}, {"above", 14}},
      {{"lifestyle", "shift_work"}},
      {{"medication", "lithium"}},
      {{"medication", "ssri"}},
      {{"patient", "pregnant"}},
      {{"patient", "lactating"}},
      {{"age_below", 12}},
      {{"age_at_least", 65}},
  };
  for (const json& criterion : criteria) EXPECT_EQ("", BuildAndRead(criterion)) << criterion.dump();
}

// Every `implied_by` criterion the knowledge base holds can be entered in a case.
TEST(KnowledgeCases, EveryImpliedByCriterionOfTheKnowledgeBaseIsBuiltAndReadBack) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  int criteria = 0;
  for (const std::string& id : kb.IdsOfKind(knowledge::NodeKind::kCondition)) {
    const knowledge::Node* node = kb.Find(id);
    if (!node->data.json().contains("implied_by")) continue;
    for (const json& criterion : node->data.json()["implied_by"]) {
      ++criteria;
      EXPECT_EQ("", BuildAndRead(criterion)) << id << " implied_by " << criterion.dump();
    }
  }
  std::cout << "[ safety  ] implied_by criteria: " << criteria << "\n";
}

TEST(KnowledgeCases, EdgesAreReadWithTheirFields) {
  const std::vector<SafetyEdge>& edges = ShippedSafetyEdges();
  ASSERT_FALSE(edges.empty());
  for (const SafetyEdge& edge : edges) {
    EXPECT_FALSE(edge.from.empty()) << edge.Describe();
    EXPECT_FALSE(edge.to.empty()) << edge.Describe();
    EXPECT_FALSE(edge.citations.empty()) << edge.Describe();
    if (edge.type == "contraindicated_with") {
      EXPECT_TRUE(Parse<ContraindicationSeverity>(edge.severity)) << edge.Describe();
    } else {
      EXPECT_TRUE(Parse<AlertSeverity>(edge.alert_severity)) << edge.Describe();
    }
  }
}

}  // namespace
}  // namespace nflux::testing
