// Tests for the one ranking of strategies (engine/safety/ranking.cc, docs/ranking.md) over the
// shipped knowledge base's strategies and `corrects` edges: the cause before general advice, a
// lab-confirmed driver counting most, caution below acceptable, referral tiers, the reason line,
// and an order that does not depend on the order of the inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "real_knowledge.h"
#include "safety/safety.h"

namespace nflux::safety {
namespace {

const knowledge::KnowledgeBase& Kb() { return *testing::RealKnowledge(); }

StrategyResult Suggested(const std::string& id, double support, std::vector<std::string> for_deficits,
                         Verdict verdict = Verdict::kAcceptable) {
  StrategyResult strategy;
  strategy.id = id;
  strategy.suggested = true;
  strategy.support = support;
  strategy.for_deficits = std::move(for_deficits);
  strategy.verdict = verdict;
  const knowledge::Node* node = Kb().Find(id);
  EXPECT_TRUE(node && node->strategy) << id;
  if (node && node->strategy) strategy.kind = node->strategy->kind;
  return strategy;
}

std::vector<std::string> Ids(const std::vector<StrategyResult>& strategies) {
  std::vector<std::string> ids;
  for (const auto& strategy : strategies) ids.push_back(strategy.id);
  return ids;
}

// An iron-deficient case: ferritin 12 confirms the driver; caffeine reduction is suggested at full
// strength for the same deficit and given the larger predicted effect.
TEST(Ranking, TheTreatmentOfALabConfirmedDriverRanksAboveLifestyleAdvice) {
  std::vector<StrategyResult> strategies = {
      Suggested("lifestyle_caffeine_reduction", 1.0, {"serotonin_synthesis"}),
      Suggested("cofactor_iron", 0.85, {"serotonin_synthesis", "dopamine_synthesis"})};
  RankingInputs inputs;
  inputs.drivers["iron_deficiency"] = {0.85, "ferritin 12 ng/mL"};
  inputs.deficits = {{"serotonin_synthesis", 0.6}, {"dopamine_synthesis", 0.4}};
  inputs.effects["lifestyle_caffeine_reduction"] = {0.3, "melatonin.synthesis", 0.3};
  inputs.effects["cofactor_iron"] = {0.02, "serotonin.synthesis", 0.015};
  RankStrategies(strategies, {}, Kb(), inputs);
  EXPECT_EQ((std::vector<std::string>{"cofactor_iron", "lifestyle_caffeine_reduction"}), Ids(strategies));
  EXPECT_EQ("corrects iron_deficiency (likely 0.85, from ferritin 12 ng/mL); for serotonin_synthesis (likely 0.6); "
            "predicted serotonin.synthesis +0.015",
            strategies[0].rank_reason);
  // 0.5 x 0.85 + 0.25 x 0.6 + 0.15 x 0.1 + 0.1 x 0.85
  EXPECT_DOUBLE_EQ(0.675, strategies[0].score);
  EXPECT_EQ("for serotonin_synthesis (likely 0.6); predicted melatonin.synthesis +0.3", strategies[1].rank_reason);
}

// A B12-deficient vegan with raised homocysteine: riboflavin (MTHFR) is suggested at full strength,
// B12 at the driver's certainty; B12 corrects the cause.
TEST(Ranking, B12RanksAboveRiboflavinInAB12DeficientVegan) {
  std::vector<StrategyResult> strategies = {Suggested("cofactor_riboflavin", 1.0, {"methylation_capacity"}),
                                            Suggested("cofactor_b12", 0.85, {"methylation_capacity"})};
  RankingInputs inputs;
  inputs.drivers["b12_deficiency"] = {0.85, "vitamin_b12 150 pg/mL"};
  inputs.deficits = {{"methylation_capacity", 0.7}};
  RankStrategies(strategies, {}, Kb(), inputs);
  EXPECT_EQ((std::vector<std::string>{"cofactor_b12", "cofactor_riboflavin"}), Ids(strategies));
}

// Equally certain deficits: the reason names the first id in text order, whatever the order the
// strategy lists them in.
TEST(Ranking, ATieBetweenDeficitsGoesToTheFirstId) {
  for (const auto& listed : {std::vector<std::string>{"serotonin_synthesis", "dopamine_synthesis"},
                             std::vector<std::string>{"dopamine_synthesis", "serotonin_synthesis"}}) {
    std::vector<StrategyResult> strategies = {Suggested("lifestyle_caffeine_reduction", 0.6, listed)};
    RankingInputs inputs;
    inputs.deficits = {{"serotonin_synthesis", 0.6}, {"dopamine_synthesis", 0.6}};
    RankStrategies(strategies, {}, Kb(), inputs);
    EXPECT_EQ("for dopamine_synthesis (likely 0.6)", strategies.front().rank_reason);
  }
}

TEST(Ranking, ALabConfirmedDriverCountsMoreThanAnUnconfirmedOne) {
  auto rank = [](const std::string& confirmed_by) {
    std::vector<StrategyResult> strategies = {Suggested("cofactor_iron", 0.85, {"serotonin_synthesis"})};
    RankingInputs inputs;
    inputs.drivers["iron_deficiency"] = {0.85, confirmed_by};
    RankStrategies(strategies, {}, Kb(), inputs);
    return strategies.front();
  };
  const StrategyResult confirmed = rank("ferritin 12 ng/mL"), risk_only = rank("");
  EXPECT_DOUBLE_EQ(0.5 * 0.85 + 0.1 * 0.85, confirmed.score);
  EXPECT_DOUBLE_EQ(0.5 * 0.85 * kUnconfirmedDriverFactor + 0.1 * 0.85, risk_only.score);
  EXPECT_EQ("corrects iron_deficiency (likely 0.85, not confirmed by a lab)", risk_only.rank_reason);
}

// Sleep deprivation from a short sleep history (no lab) still puts sleep care before a general
// strategy for the same deficit.
TEST(Ranking, ACorrectedDriverWithoutALabStillCounts) {
  std::vector<StrategyResult> strategies = {Suggested("lifestyle_exercise", 1.0, {"melatonin_synthesis"}),
                                            Suggested("lifestyle_sleep_hygiene_cbti", 1.0, {"melatonin_synthesis"})};
  RankingInputs inputs;
  inputs.drivers["sleep_deprivation"] = {0.6, ""};
  inputs.deficits = {{"melatonin_synthesis", 0.5}};
  RankStrategies(strategies, {}, Kb(), inputs);
  EXPECT_EQ((std::vector<std::string>{"lifestyle_sleep_hygiene_cbti", "lifestyle_exercise"}), Ids(strategies));
}

// A referral for an abnormal result (suggested for no deficit) is for its own finding; it is not
// buried below general advice for a possible deficit.
TEST(Ranking, AStrategyForNoDeficitCountsItsRulesCertaintyAsItsFinding) {
  std::vector<StrategyResult> strategies = {Suggested("lifestyle_stress_reduction", 1.0, {"gaba_tone"}),
                                            Suggested("medical_referral_sleep", 1.0, {})};
  RankingInputs inputs;
  inputs.deficits = {{"gaba_tone", 0.3}};
  RankStrategies(strategies, {}, Kb(), inputs);
  EXPECT_EQ((std::vector<std::string>{"medical_referral_sleep", "lifestyle_stress_reduction"}), Ids(strategies));
  EXPECT_DOUBLE_EQ(0.35, strategies[0].score);
  EXPECT_EQ("for its own finding (rule certainty 1)", strategies[0].rank_reason);
}

TEST(Ranking, CautionRanksBelowAnOtherwiseEqualAcceptable) {
  // Equal inputs; by id alone magnesium would come first.
  std::vector<StrategyResult> strategies = {
      Suggested("cofactor_magnesium", 0.5, {"gaba_tone"}, Verdict::kCaution),
      Suggested("cofactor_zinc", 0.5, {"gaba_tone"}, Verdict::kAcceptable)};
  RankingInputs inputs;
  inputs.deficits = {{"gaba_tone", 0.4}};
  RankStrategies(strategies, {}, Kb(), inputs);
  EXPECT_EQ((std::vector<std::string>{"cofactor_zinc", "cofactor_magnesium"}), Ids(strategies));
  EXPECT_DOUBLE_EQ(std::round(strategies[0].score * kCautionFactor * 1e4) / 1e4, strategies[1].score);
  EXPECT_EQ("for gaba_tone (possible 0.4); with cautions", strategies[1].rank_reason);
  // Without the caution the two tie and the id decides.
  strategies[1].verdict = Verdict::kAcceptable;
  RankStrategies(strategies, {}, Kb(), inputs);
  EXPECT_EQ((std::vector<std::string>{"cofactor_magnesium", "cofactor_zinc"}), Ids(strategies));
}

TEST(Ranking, ReferralsThatARedFlagRequiresStayFirstWhateverTheirScore) {
  std::vector<StrategyResult> strategies = {Suggested("cofactor_iron", 0.85, {"serotonin_synthesis"}),
                                            Suggested("urgent_crisis_referral", 0.1, {}),
                                            Suggested("medical_referral_psychiatry", 0.1, {})};
  strategies[2].rules = {"mania_rule"};
  AlertResult alert;
  alert.id = "mania_risk";
  alert.severity = AlertSeverity::kHigh;
  alert.rules = {"mania_rule"};
  RankingInputs inputs;
  inputs.drivers["iron_deficiency"] = {0.85, "ferritin 12 ng/mL"};
  RankStrategies(strategies, {alert}, Kb(), inputs);
  // The referral the alert's own rule suggested (tier 1), then any referral (tier 2), then the score.
  EXPECT_EQ((std::vector<std::string>{"medical_referral_psychiatry", "urgent_crisis_referral", "cofactor_iron"}),
            Ids(strategies));
  EXPECT_EQ(1, ReferralTier(strategies[0], {alert}));
  EXPECT_EQ(2, ReferralTier(strategies[1], {alert}));
  EXPECT_EQ(3, ReferralTier(strategies[2], {alert}));
  EXPECT_EQ("referral first: an urgent or high alert stands; for its own finding (rule certainty 0.1)",
            strategies[1].rank_reason);
  // Without the alert, referrals rank by score like the rest.
  RankStrategies(strategies, {}, Kb(), inputs);
  EXPECT_EQ("cofactor_iron", strategies.front().id);
}

// Every permutation of the strategies (and of their deficit lists) gives one order, scores and
// reasons; certainties combined in another order (another firing order) differ only in the last bits.
TEST(Ranking, TheOrderDoesNotDependOnTheInputOrder) {
  std::vector<StrategyResult> strategies = {
      Suggested("cofactor_iron", 0.85, {"serotonin_synthesis", "dopamine_synthesis"}),
      Suggested("lifestyle_caffeine_reduction", 1.0, {"stress_depletion"}),
      Suggested("lifestyle_exercise", 0.3 + 0.6 - 0.3 * 0.6, {"dopamine_synthesis"}),
      Suggested("cofactor_magnesium", 0.5, {"gaba_tone"}, Verdict::kCaution),
      Suggested("cofactor_zinc", 0.5, {"gaba_tone"}),
      Suggested("medical_referral_general", 0.5, {})};
  RankingInputs inputs;
  inputs.drivers = {{"iron_deficiency", {0.85, "ferritin 12 ng/mL"}}, {"insulin_resistance", {0.4, ""}}};
  inputs.deficits = {{"serotonin_synthesis", 0.6}, {"dopamine_synthesis", 0.6}, {"stress_depletion", 0.5},
                     {"gaba_tone", 0.4}};
  inputs.effects["cofactor_iron"] = {0.05, "serotonin.synthesis", 0.03};
  std::vector<StrategyResult> expected = strategies;
  RankStrategies(expected, {}, Kb(), inputs);
  std::sort(strategies.begin(), strategies.end(),
            [](const StrategyResult& a, const StrategyResult& b) { return a.id < b.id; });
  int permutations = 0;
  do {
    std::vector<StrategyResult> ranked = strategies;
    for (auto& strategy : ranked) std::reverse(strategy.for_deficits.begin(), strategy.for_deficits.end());
    ranked[0].support = ranked[0].support + 1e-15;  // another firing order
    RankStrategies(ranked, {}, Kb(), inputs);
    ASSERT_EQ(Ids(expected), Ids(ranked)) << "permutation " << permutations;
    for (size_t i = 0; i < ranked.size(); ++i) {
      EXPECT_EQ(expected[i].score, ranked[i].score);
      EXPECT_EQ(expected[i].rank_reason, ranked[i].rank_reason);
    }
    ++permutations;
  } while (std::next_permutation(strategies.begin(), strategies.end(),
                                 [](const StrategyResult& a, const StrategyResult& b) { return a.id < b.id; }));
  EXPECT_EQ(720, permutations);
}

// Every `corrects` edge of the shipped knowledge base starts at a strategy and ends at a driver of
// the vocabulary; the deficiency cofactors each correct their deficiency.
TEST(Ranking, TheShippedCorrectsEdgesNameTheirDrivers) {
  std::map<std::string, std::string> corrects;
  for (const auto& edge : Kb().edges())
    if (edge.type == knowledge::EdgeType::kCorrects) {
      const knowledge::Node* to = Kb().Find(edge.to);
      ASSERT_NE(to, nullptr) << edge.to;
      EXPECT_TRUE(to->kind == knowledge::NodeKind::kDriver || to->kind == knowledge::NodeKind::kStressor) << edge.to;
      EXPECT_FALSE(edge.citations.empty()) << edge.from << " -> " << edge.to;
      corrects[edge.from + ">" + edge.to] = edge.to;
    }
  for (const char* pair : {"cofactor_iron>iron_deficiency", "cofactor_b12>b12_deficiency",
                           "cofactor_vitamin_d>vitamin_d_deficiency", "lifestyle_sleep_hygiene_cbti>sleep_deprivation",
                           "medical_referral_thyroid>thyroid_hypofunction"})
    EXPECT_TRUE(corrects.count(pair)) << pair;
}

TEST(Ranking, TheWorkUpListsFirstLineLabsOnly) {
  for (const char* lab : {"ferritin", "tsh", "vitamin_b12", "vitamin_d_25oh", "hemoglobin"})
    EXPECT_TRUE(Kb().IsFirstLineLab(lab)) << lab;
  for (const char* lab : {"kynurenine_plasma", "methylmalonic_acid", "vitamin_b6_plp", "insulin_fasting"})
    EXPECT_FALSE(Kb().IsFirstLineLab(lab)) << lab;
}

}  // namespace
}  // namespace nflux::safety
