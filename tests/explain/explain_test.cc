// Tests of engine/explain: Why (the rule chain, matched data, certainty arithmetic, knowledge
// paths) and WhyNot (rules ordered by closeness, deciding inputs, blocked strategies), on the
// fixture of explain/fixture.h.
#include "explain/explain.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "explain/fixture.h"
#include "inference/certainty.h"

namespace nflux::explain {
namespace {

const WhyRule* FindWhyRule(const WhyNode& node, const std::string& rule) {
  for (const auto& candidate : node.rules) {
    if (candidate.rule == rule) return &candidate;
    for (const auto& child : candidate.because)
      if (const WhyRule* found = FindWhyRule(child, rule)) return found;
  }
  return nullptr;
}

TEST(WhyTest, ListsTheRuleChainDownToTheLab) {
  const auto& fx = fixture::Evaluate();
  auto why = Why(*fx.engine, fx.c, fx.evaluation, "serotonin_synthesis");
  ASSERT_OK(why);
  EXPECT_EQ(why->kind, ConclusionKind::kDeficit);
  // deficit <- iron_limits_serotonin <- driver iron_deficiency <- ferritin_low_iron <- lab ferritin
  ASSERT_FALSE(why->root.rules.empty());
  const WhyRule& top = why->root.rules.front();
  EXPECT_EQ(top.rule, "iron_limits_serotonin");
  EXPECT_FALSE(top.citations.empty());
  ASSERT_EQ(top.because.size(), 1u);
  EXPECT_EQ(top.because[0].kind, ConclusionKind::kDriver);
  EXPECT_EQ(top.because[0].id, "iron_deficiency");
  const WhyRule* lab_rule = FindWhyRule(why->root, "ferritin_low_iron");
  ASSERT_NE(lab_rule, nullptr);
  ASSERT_EQ(lab_rule->matched.size(), 1u);
  EXPECT_NE(lab_rule->matched[0].Actual().find("18"), std::string::npos) << lab_rule->matched[0].Actual();
  // The opposing rule and the arithmetic.
  EXPECT_NE(FindWhyRule(why->root, "normal_tsh_against"), nullptr);
  EXPECT_NEAR(why->root.support, 0.4, 1e-9);
  EXPECT_NEAR(why->root.against, 0.1, 1e-9);
  EXPECT_NEAR(why->root.certainty, 0.3 / 0.9, 1e-9);
  std::string text = why->ToText();
  for (const char* expected : {"iron_limits_serotonin", "ferritin_low_iron", "support P = 0.4", "against N = 0.1"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
}

TEST(WhyTest, ShowsEachRulesEvidenceGradeWithItsCitationKeys) {
  const auto& fx = fixture::Evaluate();
  auto why = Why(*fx.engine, fx.c, fx.evaluation, "serotonin_synthesis");
  ASSERT_OK(why);
  // ferritin_low_iron cites a guideline (grade A); iron_limits_serotonin a narrative review (C).
  const WhyRule* lab_rule = FindWhyRule(why->root, "ferritin_low_iron");
  const WhyRule* top = FindWhyRule(why->root, "iron_limits_serotonin");
  ASSERT_NE(lab_rule, nullptr);
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(lab_rule->grade, "A");
  EXPECT_EQ(lab_rule->citation_keys, std::vector<std::string>{"who_2020_ferritin"});
  EXPECT_EQ(top->grade, "C");
  std::string text = why->ToText();
  EXPECT_NE(text.find("evidence: grade A (who_2020_ferritin)"), std::string::npos) << text;
  EXPECT_NE(text.find("evidence: grade C (felger_miller_2012)"), std::string::npos) << text;
  auto json = why->ToJson();
  EXPECT_EQ(json["chain"]["rules"][0]["grade"], "C");
  // A rule's grade is the best among its citations.
  using Keys = std::vector<std::string>;
  EXPECT_EQ(GradeOf(fx.engine->knowledge(), Keys{"felger_miller_2012", "kroenke_2001_phq9", "who_2020_ferritin"}), "A");
  EXPECT_EQ(GradeOf(fx.engine->knowledge(), Keys{"felger_miller_2012", "kroenke_2001_phq9"}), "B");
  EXPECT_EQ(GradeOf(fx.engine->knowledge(), {}), "");
  EXPECT_EQ(GradeText(fx.engine->knowledge(), {"felger_miller_2012", "kroenke_2001_phq9"}),
            "grade B (felger_miller_2012, kroenke_2001_phq9)");
}

TEST(WhyTest, ShowsEachPathStepsEvidenceAndCertainty) {
  const auto& fx = fixture::Evaluate();
  auto why = Why(*fx.engine, fx.c, fx.evaluation, "serotonin_synthesis");
  ASSERT_OK(why);
  ASSERT_FALSE(why->paths.empty());
  const WhyPath& path = why->paths.front();
  ASSERT_EQ(path.evidence.size(), path.steps.size());
  // iron_deficiency --downregulates--> iron is human evidence of high certainty from a narrative review.
  const EdgeEvidence& first = path.evidence.front();
  EXPECT_EQ(first.step, path.steps.front());
  EXPECT_EQ(first.step, "iron_deficiency --downregulates(-)--> iron");
  EXPECT_EQ(first.evidence, "H");
  EXPECT_EQ(first.certainty, "high");
  EXPECT_EQ(first.grade, "C");
  EXPECT_EQ(first.ToText(), "evidence H, certainty high, grade C (camaschella_2015_iron_deficiency)");
  std::string text = why->ToText();
  EXPECT_NE(text.find("iron_deficiency --downregulates(-)--> iron  [evidence H, certainty high, grade C"),
            std::string::npos)
      << text;
  auto json = why->ToJson();
  EXPECT_EQ(json["paths"][0]["evidence"][0]["certainty"], "high");
}

TEST(WhyTest, FindsKnowledgePathsFromTheDriver) {
  const auto& fx = fixture::Evaluate();
  auto why = Why(*fx.engine, fx.c, fx.evaluation, "serotonin_synthesis");
  ASSERT_OK(why);
  ASSERT_FALSE(why->paths.empty());
  for (const auto& path : why->paths) {
    EXPECT_EQ(path.from, "iron_deficiency");
    ASSERT_FALSE(path.nodes.empty());
    EXPECT_EQ(path.nodes.back(), path.to);
    EXPECT_LE(path.steps.size(), 6u);
  }
  auto json = why->ToJson();
  EXPECT_EQ(json["chain"]["rules"][0]["rule"], "iron_limits_serotonin");
  EXPECT_FALSE(json["paths"].empty());
}

TEST(WhyTest, Errors) {
  const auto& fx = fixture::Evaluate();
  struct Bad {
    const char* id;
    const char* message;
  };
  const Bad kBad[] = {
      {"dopamine_synthesis", "'dopamine_synthesis' was not concluded for this case; try --why-not dopamine_synthesis"},
      {"serotonin_synthesi", "unknown id 'serotonin_synthesi' (did you mean 'serotonin_synthesis'"},
  };
  for (const auto& bad : kBad) {
    auto why = Why(*fx.engine, fx.c, fx.evaluation, bad.id);
    ASSERT_FALSE(why.ok()) << bad.id;
    EXPECT_EQ(why.status().code(), Status::Code::kNotFound);
    EXPECT_EQ(why.status().message().rfind(bad.message, 0), 0u) << why.status().message();
  }
}

TEST(WhyNotTest, OrdersRulesByClosenessAndNamesTheDecidingLab) {
  const auto& fx = fixture::Evaluate();
  auto why_not = WhyNot(*fx.engine, fx.c, fx.evaluation, "serotonin_synthesis");
  ASSERT_OK(why_not);
  EXPECT_TRUE(why_not->concluded);
  EXPECT_EQ(why_not->fired, std::vector<std::string>{"iron_limits_serotonin"});
  // b6_limits_serotonin: 1 of 2 tests held, the lab unknown; b6_with_anhedonia: 1 of 3, one false.
  ASSERT_EQ(why_not->rules.size(), 2u);
  EXPECT_EQ(why_not->rules[0].rule, "b6_limits_serotonin");
  EXPECT_EQ(why_not->rules[1].rule, "b6_with_anhedonia");
  EXPECT_GT(why_not->rules[0].closeness, why_not->rules[1].closeness);
  ASSERT_EQ(why_not->rules[0].unknown.size(), 1u);
  EXPECT_EQ(why_not->rules[0].unknown[0].input, "lab:vitamin_b6_plp");
  ASSERT_EQ(why_not->rules[1].failed.size(), 1u);
  EXPECT_NE(why_not->rules[1].failed[0].source.find("anhedonia"), std::string::npos);
  // Only the undecided rule counts: the other already has a false test.
  ASSERT_EQ(why_not->inputs.size(), 1u);
  EXPECT_EQ(why_not->inputs[0].input, "lab:vitamin_b6_plp");
  EXPECT_EQ(why_not->inputs[0].rules, std::vector<std::string_view>{"b6_limits_serotonin"});
  EXPECT_GT(why_not->inputs[0].impact, 0);
  // The impact is the engine's MYCIN algebra: b6_limits_serotonin (0.4) combined with the support
  // there, netted against the evidence against, minus the certainty now.
  const auto& deficit = fx.evaluation.deficits.at("serotonin_synthesis");
  double after = inference::CombineForAgainst(inference::CombineSameSign(deficit.support, 0.4), deficit.against);
  EXPECT_NEAR(why_not->inputs[0].impact, after - deficit.certainty, 1e-12);
  std::string text = why_not->ToText();
  EXPECT_NE(text.find("It WAS concluded"), std::string::npos) << text;
  EXPECT_NE(text.find("lab:vitamin_b6_plp"), std::string::npos) << text;
}

TEST(WhyNotTest, SaysWhenSafetyBlockedAStrategy) {
  const auto& fx = fixture::Evaluate();
  auto why_not = WhyNot(*fx.engine, fx.c, fx.evaluation, "precursor_5htp");
  ASSERT_OK(why_not);
  EXPECT_EQ(why_not->kind, "strategy");
  EXPECT_TRUE(why_not->blocked);
  ASSERT_FALSE(why_not->block_reasons.empty());
  EXPECT_NE(why_not->ToText().find("BLOCKED"), std::string::npos);
  EXPECT_EQ(why_not->ToJson()["blocked"], true);
}

// WhatWouldDecideEach explains each candidate rule once for all ids: the same certainty and
// deciding inputs as WhyNot, which explains them id by id; an unknown id fails alone.
TEST(WhyNotTest, WhatWouldDecideEachAnswersAsWhyNot) {
  const auto& fx = fixture::Evaluate();
  const std::vector<std::string> ids = {"serotonin_synthesis", "iron_deficiency", "no_such_id", "b6_deficiency",
                                        "serotonin_synthesis"};
  auto answers = WhatWouldDecideEach(*fx.engine, fx.c, fx.evaluation, ids);
  ASSERT_EQ(answers.size(), ids.size());
  bool some_input = false;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto why_not = WhyNot(*fx.engine, fx.c, fx.evaluation, ids[i]);
    ASSERT_EQ(answers[i].ok(), why_not.ok()) << ids[i];
    if (!why_not.ok()) continue;
    EXPECT_EQ(answers[i]->certainty, why_not->certainty) << ids[i];
    ASSERT_EQ(answers[i]->inputs.size(), why_not->inputs.size()) << ids[i];
    for (size_t k = 0; k < why_not->inputs.size(); ++k) {
      EXPECT_EQ(answers[i]->inputs[k].input, why_not->inputs[k].input);
      EXPECT_EQ(answers[i]->inputs[k].rules, why_not->inputs[k].rules);
      EXPECT_EQ(answers[i]->inputs[k].impact, why_not->inputs[k].impact);
      some_input = true;
    }
  }
  EXPECT_FALSE(answers[2].ok());
  EXPECT_TRUE(some_input);
}

TEST(WhyNotTest, UnknownIdSuggestsTheNearest) {
  const auto& fx = fixture::Evaluate();
  auto why_not = WhyNot(*fx.engine, fx.c, fx.evaluation, "iron_deficency");
  ASSERT_FALSE(why_not.ok());
  EXPECT_NE(why_not.status().message().find("did you mean 'iron_deficiency'"), std::string::npos)
      << why_not.status().message();
}

TEST(EvidenceTest, CarriesTheRulesGrade) {
  const auto& fx = fixture::Evaluate();
  auto evidence = EvidenceOf(*fx.engine, fx.evaluation, "ferritin_low_iron");
  ASSERT_FALSE(evidence.empty());
  for (const auto& item : evidence) EXPECT_EQ(item.grade, "A") << item.id;
}

TEST(EvidenceTest, FollowsDriversToTheirData) {
  const auto& fx = fixture::Evaluate();
  auto evidence = EvidenceBehind(*fx.engine, fx.evaluation, {"iron_limits_serotonin"});
  std::vector<std::string> items;
  for (const auto& item : evidence) items.push_back(item.kind + ":" + item.id + "@" + item.rule);
  EXPECT_EQ(items, (std::vector<std::string>{"driver:iron_deficiency@iron_limits_serotonin",
                                             "lab:ferritin@ferritin_low_iron",
                                             "symptom:low_mood@iron_limits_serotonin"}));
}

}  // namespace
}  // namespace nflux::explain
