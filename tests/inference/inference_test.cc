// Tests of the inference engine: certainty algebra, three-valued conditions, chaining through
// strata, the safety gate, the rule index, and the order-independence property. The engine tests
// run on the fixture knowledge base (tests/fixtures/knowledge); the ContentInferenceTest suite at
// the end runs the shipped rule base over the shipped examples and golden cases, on the real one.
#include <algorithm>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <filesystem>

#include "base/text.h"
#include "case/case.h"
#include "flux/flux.h"
#include "inference/certainty.h"
#include "inference/compile.h"
#include "inference/inference.h"
#include "inference/working_memory.h"
#include "knowledge/knowledge.h"
#include "real_knowledge.h"
#include "rules/rules.h"
#include "safety/random_case.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::inference {
namespace {

using nflux::testing::FixtureKnowledge;
using nflux::testing::RealKnowledge;
using KnowledgePtr = std::shared_ptr<const knowledge::KnowledgeBase>;

// Rules and cases are read against the fixture knowledge base unless a (content) test says otherwise.
std::shared_ptr<const rules::RuleBase> Rules(const std::vector<rules::RuleSource>& sources,
                                             const KnowledgePtr& kb = FixtureKnowledge()) {
  auto loaded = rules::LoadRules(sources, *kb);
  std::string errors;
  for (const auto& error : loaded.errors) errors += error.ToString() + "\n";
  EXPECT_TRUE(loaded.errors.empty()) << errors;
  return loaded.rules;
}

casefile::Case ParseCase(const std::string& json, const KnowledgePtr& kb = FixtureKnowledge()) {
  auto parsed = casefile::ParseCase(json, *kb, {});
  EXPECT_OK(parsed);
  return parsed.ok() ? *parsed : casefile::Case{};
}

// A small rule base that chains: lab -> driver -> deficit -> strategy, plus evidence against.
const char* kChainRules = R"(
rule ferritin_low_iron "Low ferritin means iron deficiency"
  cites who_2020_ferritin
  when lab ferritin < 30 ng/mL
  then conclude driver iron_deficiency weight 0.8
end

rule iron_limits_dopamine "Iron deficiency limits tyrosine hydroxylase"
  cites felger_miller_2012
  when driver iron_deficiency and symptom fatigue >= 2
  then suggest deficit dopamine_synthesis certainty 0.5 drivers iron_deficiency
       suggest strategy cofactor_iron for dopamine_synthesis
end

rule anhedonia_dopamine "Anhedonia points to low dopaminergic drive"
  cites cooper_bloom_roth
  when symptom anhedonia >= 2
  then suggest deficit dopamine_synthesis certainty 0.3
end

rule normal_tsh_against "A normal TSH argues against thyroid-driven low drive"
  cites bauer_2002_thyroid_mood
  when lab tsh is normal
  then oppose deficit dopamine_synthesis certainty 0.2
end

rule deficit_dopamine_fact "A likely dopamine deficit is worth a referral note"
  cites cooper_bloom_roth
  when deficit dopamine_synthesis >= 0.5
  then derive fact dopamine_deficit_likely
end
)";

const char* kChainCase = R"({
  "case_id": "chain", "patient": {"sex": "female", "age_years": 40},
  "symptoms": {"fatigue": 2, "anhedonia": 3},
  "labs": [ {"test": "ferritin", "value": 12, "unit": "ug/L"}, {"test": "tsh", "value": 2.0, "unit": "mIU/L"} ],
  "medications": [], "supplements": {"current": [], "requested": []}
})";

TEST(CertaintyTest, CombinesLikeMycin) {
  EXPECT_DOUBLE_EQ(CombineSameSign(0.5, 0.5), 0.75);
  EXPECT_DOUBLE_EQ(CombineSameSign(0, 0.3), 0.3);
  EXPECT_DOUBLE_EQ(CombineForAgainst(0.6, 0), 0.6);
  EXPECT_NEAR(CombineForAgainst(0.75, 0.2), (0.75 - 0.2) / (1 - 0.2), 1e-15);
  EXPECT_DOUBLE_EQ(CombineForAgainst(0.2, 0.6), 0);  // more against than for: nothing
  EXPECT_DOUBLE_EQ(CombineForAgainst(1, 1), 0);
}

TEST(EngineTest, ChainsThroughDriversAndCombinesEvidence) {
  Engine engine(Rules({{"chain.rules", kChainRules}}), FixtureKnowledge());
  auto evaluation = engine.Evaluate(ParseCase(kChainCase), {});
  ASSERT_TRUE(evaluation.drivers.count("iron_deficiency"));
  EXPECT_DOUBLE_EQ(evaluation.drivers["iron_deficiency"].certainty, 0.8);
  ASSERT_TRUE(evaluation.deficits.count("dopamine_synthesis"));
  const auto& deficit = evaluation.deficits["dopamine_synthesis"];
  // For: 0.5 x 0.8 (driver strength) and 0.3; against: 0.2.
  double support = CombineSameSign(0.5 * 0.8, 0.3);
  EXPECT_NEAR(deficit.support, support, 1e-12);
  EXPECT_NEAR(deficit.against, 0.2, 1e-12);
  EXPECT_NEAR(deficit.certainty, CombineForAgainst(support, 0.2), 1e-12);
  EXPECT_EQ(deficit.opposing_rules, std::vector<std::string>{"normal_tsh_against"});
  ASSERT_TRUE(deficit.drivers.count("iron_deficiency"));
  EXPECT_NEAR(deficit.drivers.at("iron_deficiency"), 0.5 * 0.8, 1e-12);  // the rule's contribution
  // The strategy passes the safety gate and is ranked.
  ASSERT_EQ(evaluation.strategies.size(), 1u);
  EXPECT_EQ(evaluation.strategies[0].id, "cofactor_iron");
  EXPECT_EQ(evaluation.strategies[0].for_deficits, std::vector<std::string>{"dopamine_synthesis"});
  // 0.58 < 0.5? The fact rule reads the final certainty of the deficit, after all its producers.
  bool likely = deficit.certainty >= 0.5;
  EXPECT_EQ(evaluation.facts.count("dopamine_deficit_likely") > 0, likely);
}

// Calibration (docs/rule-language.md): a deficit needs clinical evidence.
const char* kCalibrationRules = R"(
rule flux_serotonin "Low modelled serotonin synthesis"
  cites cooper_bloom_roth
  when flux serotonin.synthesis < 0.8
  then suggest deficit serotonin_synthesis certainty 0.6
end

rule ssri_b6 "A medication alone"
  cites cooper_bloom_roth
  when medication escitalopram
  then conclude driver b6_deficiency weight 0.7
end

rule mood_serotonin "Low mood"
  cites cooper_bloom_roth
  when symptom low_mood >= 2 and flux serotonin.synthesis < 0.8
  then suggest deficit serotonin_synthesis certainty 0.3
end

rule ferritin_iron "Low ferritin"
  cites who_2020_ferritin
  when lab ferritin < 30 ng/mL
  then conclude driver iron_deficiency weight 0.8
end

rule iron_dopamine "Iron deficiency limits tyrosine hydroxylase"
  cites felger_miller_2012
  when driver iron_deficiency or driver b6_deficiency
  then suggest deficit dopamine_synthesis certainty 0.7 drivers iron_deficiency
end

rule capped_reader "Reads the deficit as capped"
  cites cooper_bloom_roth
  when deficit serotonin_synthesis >= 0.2
  then derive fact serotonin_read_uncapped
end

rule bare_reader "A bare deficit test needs at least a possible deficit"
  cites cooper_bloom_roth
  when deficit serotonin_synthesis
  then derive fact serotonin_possible
end

rule any_reader "A comparison reads the capped value as it is"
  cites cooper_bloom_roth
  when deficit serotonin_synthesis > 0.1
  then derive fact serotonin_above_tenth
end
)";

Evaluation EvaluateCalibration(const std::string& case_json, bool use_index = true, bool trace = true) {
  Engine engine(Rules({{"calibration.rules", kCalibrationRules}}), FixtureKnowledge());
  FluxValues flux;
  flux.values["serotonin.synthesis"] = 0.5;
  EvaluateOptions options;
  options.use_index = use_index;
  options.trace = trace;
  return engine.Evaluate(ParseCase(case_json), flux, options);
}

TEST(CalibrationTest, FluxOnlyDeficitIsCapped) {
  auto evaluation = EvaluateCalibration(R"({"patient": {"sex": "female", "age_years": 40},
    "symptoms": {"low_mood": 0}, "medications": [{"id": "escitalopram"}]})");
  ASSERT_TRUE(evaluation.deficits.count("serotonin_synthesis"));
  const auto& serotonin = evaluation.deficits["serotonin_synthesis"];
  EXPECT_FALSE(serotonin.clinical);
  EXPECT_NEAR(serotonin.support, 0.6, 1e-12);  // the evidence is kept; only the certainty is capped
  EXPECT_DOUBLE_EQ(serotonin.certainty, kNonClinicalDeficitCap);
  EXPECT_EQ(serotonin.calibration,
            "capped at 0.19 (rules alone: 0.6): supported only by the flux model, medications, lifestyle or patient "
            "data; no symptom, questionnaire or lab");
  // Rules reading the deficit see the capped value.
  EXPECT_FALSE(evaluation.facts.count("serotonin_read_uncapped"));
  // A bare `deficit ID` needs `possible` (0.2): no advice on an unlikely deficit; a comparison reads 0.19.
  EXPECT_FALSE(evaluation.facts.count("serotonin_possible"));
  EXPECT_TRUE(evaluation.facts.count("serotonin_above_tenth"));
  // A driver from a medication alone is not clinical either, nor the deficit it feeds.
  ASSERT_TRUE(evaluation.drivers.count("b6_deficiency"));
  EXPECT_FALSE(evaluation.drivers["b6_deficiency"].clinical);
  EXPECT_DOUBLE_EQ(evaluation.drivers["b6_deficiency"].certainty, 0.7);  // drivers are not capped
  EXPECT_DOUBLE_EQ(evaluation.deficits["dopamine_synthesis"].certainty, kNonClinicalDeficitCap);
  for (const auto& rule : evaluation.trace.rules)
    if (rule.fired) {
      EXPECT_FALSE(rule.clinical) << rule.rule;
    }
}

TEST(CalibrationTest, SymptomMakesItClinical) {
  auto evaluation = EvaluateCalibration(R"({"patient": {"sex": "female", "age_years": 40},
    "symptoms": {"low_mood": 2}})");
  const auto& serotonin = evaluation.deficits["serotonin_synthesis"];
  EXPECT_TRUE(serotonin.clinical);
  EXPECT_TRUE(serotonin.calibration.empty());
  EXPECT_NEAR(serotonin.certainty, CombineSameSign(0.6, 0.3), 1e-12);
  EXPECT_TRUE(evaluation.facts.count("serotonin_read_uncapped"));
  EXPECT_TRUE(evaluation.facts.count("serotonin_possible"));
}

TEST(CalibrationTest, DriverConcludedFromLabIsClinical) {
  auto evaluation = EvaluateCalibration(R"({"patient": {"sex": "female", "age_years": 40},
    "labs": [{"test": "ferritin", "value": 12, "unit": "ug/L"}]})");
  ASSERT_TRUE(evaluation.drivers.count("iron_deficiency"));
  EXPECT_TRUE(evaluation.drivers["iron_deficiency"].clinical);
  const auto& dopamine = evaluation.deficits["dopamine_synthesis"];
  EXPECT_TRUE(dopamine.clinical);
  EXPECT_NEAR(dopamine.certainty, 0.7 * 0.8, 1e-12);
}

// Clinical marks do not depend on rule order or on the index: the same with every rule on the
// agenda, untraced, and with the rule files in reverse.
TEST(CalibrationTest, OrderIndependent) {
  const char* c = R"({"patient": {"sex": "female", "age_years": 40}, "symptoms": {"low_mood": 1},
    "medications": [{"id": "escitalopram"}], "labs": [{"test": "ferritin", "value": 12, "unit": "ug/L"}]})";
  Evaluation indexed = EvaluateCalibration(c), all = EvaluateCalibration(c, false, false);
  std::string text = kCalibrationRules;
  std::vector<std::string> blocks;
  for (size_t at = text.find("rule "); at != std::string::npos;) {
    size_t next = text.find("\nrule ", at + 1);
    blocks.push_back(text.substr(at, next == std::string::npos ? std::string::npos : next + 1 - at));
    at = next == std::string::npos ? next : next + 1;
  }
  std::string reversed;
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) reversed += *it + "\n";
  Engine engine(Rules({{"z.rules", reversed}}), FixtureKnowledge());
  FluxValues flux;
  flux.values["serotonin.synthesis"] = 0.5;
  Evaluation backwards = engine.Evaluate(ParseCase(c), flux);
  for (const Evaluation* other : {&all, &backwards})
    for (const auto& [id, deficit] : indexed.deficits) {
      ASSERT_TRUE(other->deficits.count(id)) << id;
      EXPECT_EQ(deficit.clinical, other->deficits.at(id).clinical) << id;
      EXPECT_NEAR(deficit.certainty, other->deficits.at(id).certainty, 1e-12) << id;
    }
  EXPECT_FALSE(indexed.deficits["serotonin_synthesis"].clinical);  // low_mood 1 does not reach the rule
  EXPECT_TRUE(indexed.deficits["dopamine_synthesis"].clinical);    // ferritin, through the driver
}

TEST(EngineTest, MissingDataIsUnknownNotFalse) {
  Engine engine(Rules({{"chain.rules", kChainRules}}), FixtureKnowledge());
  auto c = ParseCase(R"({"patient": {"sex": "male", "age_years": 50}, "symptoms": {"fatigue": 3}})");
  auto evaluation = engine.Evaluate(c, {});
  EXPECT_FALSE(evaluation.drivers.count("iron_deficiency"));
  const rules::Rule* ferritin_rule = engine.RulesConcluding("iron_deficiency").at(0);
  RuleTrace trace = engine.ExplainRule(*ferritin_rule, c, {}, evaluation);
  EXPECT_EQ(trace.truth, Truth::kUnknown);
  ASSERT_EQ(trace.tests.size(), 1u);
  EXPECT_EQ(trace.tests[0].truth, Truth::kUnknown);
  EXPECT_EQ(trace.tests[0].input, "lab:ferritin");
  EXPECT_EQ(trace.tests[0].Actual(), "ferritin not measured");
}

// ExplainRule reuses the thread's working memory: what an earlier case left there (ferritin
// measured, the driver concluded) must not show through.
TEST(EngineTest, ExplainRuleSeesOnlyItsOwnCase) {
  Engine engine(Rules({{"chain.rules", kChainRules}}), FixtureKnowledge());
  auto measured = ParseCase(R"({"patient": {"sex": "male", "age_years": 50}, "symptoms": {"fatigue": 3},
    "labs": [{"test": "ferritin", "value": 12, "unit": "ug/L"}]})");
  auto bare = ParseCase(R"({"patient": {"sex": "male", "age_years": 50}, "symptoms": {"fatigue": 3}})");
  auto measured_evaluation = engine.Evaluate(measured, {});
  ASSERT_TRUE(measured_evaluation.drivers.count("iron_deficiency"));
  auto bare_evaluation = engine.Evaluate(bare, {});
  const rules::Rule* ferritin_rule = engine.RulesConcluding("iron_deficiency").at(0);
  const rules::Rule* deficit_rule = nullptr;
  for (const auto& rule : engine.rule_base().rules)
    if (rule.id == "iron_limits_dopamine") deficit_rule = &rule;
  ASSERT_NE(nullptr, deficit_rule);
  EXPECT_EQ(Truth::kTrue, engine.ExplainRule(*deficit_rule, measured, {}, measured_evaluation).truth);
  EXPECT_EQ(Truth::kUnknown, engine.ExplainRule(*ferritin_rule, bare, {}, bare_evaluation).truth);
  EXPECT_EQ(Truth::kTrue, engine.ExplainRule(*ferritin_rule, measured, {}, measured_evaluation).truth);
  EXPECT_EQ(Truth::kFalse, engine.ExplainRule(*deficit_rule, bare, {}, bare_evaluation).truth);
}

// The symbol index finds every id of every family, long ids (beyond the part held inline) and ids
// that differ only at their end included, across the table's growth; an id of another family is not found.
TEST(SymbolIndexTest, FindsExactlyWhatWasInterned) {
  CompiledRules compiled;
  std::vector<std::string> ids;
  for (int i = 0; i < 500; ++i) ids.push_back("id_" + std::to_string(i));
  ids.push_back("a_rather_long_identifier_number_one");
  ids.push_back("a_rather_long_identifier_number_two");
  ids.push_back("");
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(static_cast<int>(i), compiled.Intern(kLab, ids[i]));
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(static_cast<int>(i), compiled.Find(kLab, ids[i])) << ids[i];
    EXPECT_EQ(-1, compiled.Find(kSymptom, ids[i])) << ids[i];
  }
  EXPECT_EQ(-1, compiled.Find(kLab, "a_rather_long_identifier_number_six"));
  EXPECT_EQ(-1, compiled.Find(kLab, "a_rather_long_identifier_number_one_"));
  EXPECT_EQ(-1, compiled.Find(kLab, "id_500"));
  EXPECT_EQ(static_cast<int>(ids.size()), compiled.Intern(kSymptom, "id_1"));
  EXPECT_EQ(1, compiled.Intern(kLab, "id_1"));
}

TEST(EngineTest, ThreeValuedLogic) {
  const char* text = R"(
rule r_or "or with one true part"
  cites cooper_bloom_roth
  when lab vitamin_b6_plp is low or symptom low_mood >= 2
  then derive fact or_held
end
rule r_and "and with an unknown part"
  cites cooper_bloom_roth
  when lab vitamin_b6_plp is low and symptom low_mood >= 2
  then derive fact and_held
end
rule r_not "not of unknown stays unknown"
  cites cooper_bloom_roth
  when not lab vitamin_b6_plp is low
  then derive fact not_held
end
rule r_at_least "at least 2 of 3 with one true and one unknown"
  cites cooper_bloom_roth
  when at least 2 of (symptom low_mood >= 2, lab vitamin_b6_plp is low, symptom fatigue >= 2)
  then derive fact at_least_held
end
rule r_missing "is missing is never unknown"
  cites cooper_bloom_roth
  when lab vitamin_b6_plp is missing
  then derive fact missing_held
end
)";
  Engine engine(Rules({{"logic.rules", text}}), FixtureKnowledge());
  auto c = ParseCase(R"({"patient": {"sex": "female", "age_years": 30}, "symptoms": {"low_mood": 2, "fatigue": 0}})");
  auto evaluation = engine.Evaluate(c, {});
  EXPECT_TRUE(evaluation.facts.count("or_held"));
  EXPECT_FALSE(evaluation.facts.count("and_held"));
  EXPECT_FALSE(evaluation.facts.count("not_held"));
  EXPECT_FALSE(evaluation.facts.count("at_least_held"));
  EXPECT_TRUE(evaluation.facts.count("missing_held"));
  // Rules whose data is absent are not even considered (the index); ExplainRule evaluates any rule.
  std::map<std::string, Truth> truths;
  for (const auto& rule : engine.rule_base().rules) truths[rule.id] = engine.ExplainRule(rule, c, {}, evaluation).truth;
  EXPECT_EQ(truths["r_or"], Truth::kTrue);
  EXPECT_EQ(truths["r_and"], Truth::kUnknown);
  EXPECT_EQ(truths["r_not"], Truth::kUnknown);
  EXPECT_EQ(truths["r_at_least"], Truth::kUnknown);
}

// The datum each kind of test reads, as traces, alerts' `because` and next_best_data name it.
TEST(CompileTest, InputOfEveryFamily) {
  using rules::TestKind;
  const std::vector<std::pair<TestKind, std::string>> table = {
      {TestKind::kSymptomPresent, "symptom:x"},        {TestKind::kQuestionnaireTotal, "questionnaire:x"},
      {TestKind::kQuestionnaireItem, "questionnaire:x.item9"}, {TestKind::kLabValue, "lab:x"},
      {TestKind::kDerivedStatus, "derived:x"},         {TestKind::kFluxCompare, "flux:x"},
      {TestKind::kMedication, "medication:x"},         {TestKind::kMedicationClass, "medication_class:x"},
      {TestKind::kCondition, "condition:x"},           {TestKind::kSupplementCurrent, "current:x"},
      {TestKind::kSupplementRequested, "requested:x"}, {TestKind::kLifestyleIs, "lifestyle:x"},
      {TestKind::kStressorCompare, "stressor:x"},      {TestKind::kFact, "fact:x"},
      {TestKind::kDriver, "driver:x"},                 {TestKind::kDeficit, "deficit:x"},
      {TestKind::kAlert, "alert:x"},                   {TestKind::kSex, "patient:sex"},
      {TestKind::kAge, "patient:age"},                 {TestKind::kPregnant, "patient:pregnant"},
      {TestKind::kLactating, "patient:lactating"},     {TestKind::kMenopausalStatus, "patient:menopausal_status"},
      {TestKind::kDataQuality, "data_quality"},
  };
  for (const auto& [kind, input] : table) {
    rules::Test test;
    test.kind = kind;
    test.id = "x";
    test.item = 9;
    EXPECT_EQ(InputOf(test), input) << input;
  }
}

// What a test found is kept as data and written when read: each kind as a reviewer reads it.
TEST(TestTraceTest, WritesWhatItFound) {
  const std::vector<std::pair<Found, std::string>> table = {
      {Found::kSymptomScore, "low_mood 2/3"},
      {Found::kSymptomNotEntered, "low_mood not entered"},
      {Found::kStressorScore, "low_mood 2/3"},
      {Found::kStressorNotGiven, "low_mood not given"},
      {Found::kFluxIndex, "low_mood 2"},
      {Found::kFluxIndexAssumed, "low_mood 2 (rests on assumptions)"},
      {Found::kNoFluxIndex, "low_mood has no flux value"},
      {Found::kConcluded, "low_mood concluded (2)"},
      {Found::kNotConcluded, "low_mood not concluded"},
      {Found::kTakesMedication, "takes low_mood"},
      {Found::kNoMedicationList, "no medication list"},
      {Found::kMedicationNotListed, "low_mood not in the medication list"},
      {Found::kHasCondition, "has low_mood"},
      {Found::kNoConditionList, "no condition list"},
      {Found::kConditionNotListed, "low_mood not in the condition list"},
      {Found::kTakesSupplement, "takes low_mood"},
      {Found::kRequestsSupplement, "requests low_mood"},
      {Found::kNoSupplementsSection, "no supplements section"},
      {Found::kSupplementNotTaken, "low_mood not taken"},
      {Found::kSupplementNotRequested, "low_mood not requested"},
      {Found::kLabMeasured, "low_mood measured"},
      {Found::kLabNotMeasured, "low_mood not measured"},
      {Found::kText, "as written"},
  };
  std::set<Found> kinds;
  for (const auto& [found, text] : table) {
    TestTrace test{.found = found, .subject = "low_mood", .number = 2, .text = "as written"};
    EXPECT_EQ(test.Actual(), text);
    kinds.insert(found);
  }
  EXPECT_EQ(kinds.size(), static_cast<size_t>(Found::kLabNotMeasured) + 1);  // every kind
  TestTrace score{.found = Found::kConcluded, .subject = "iron_deficiency", .number = 0.73456};
  EXPECT_EQ(score.Actual(), "iron_deficiency concluded (0.735)");
  std::string appended = "so far: ";
  score.AppendActual(appended);
  EXPECT_EQ(appended, "so far: iron_deficiency concluded (0.735)");
}

// An impossible age is excluded (case.md): an age test is unknown, neither true nor false, and the
// trace says why; "not" of it stays unknown.
TEST(EngineTest, AnExcludedAgeIsUnknown) {
  const char* text = R"(
rule r_young "under 18"
  cites cooper_bloom_roth
  when age < 18
  then derive fact young
end
rule r_not_young "not under 18"
  cites cooper_bloom_roth
  when not age < 18
  then derive fact not_young
end
)";
  Engine engine(Rules({{"age.rules", text}}), FixtureKnowledge());
  for (const char* age : {"-1", "200"}) {
    SCOPED_TRACE(age);
    auto c = ParseCase(std::string(R"({"patient": {"sex": "female", "age_years": )") + age + "}}");
    ASSERT_TRUE(c.patient.age_excluded);
    auto evaluation = engine.Evaluate(c, {});
    EXPECT_FALSE(evaluation.facts.count("young"));
    EXPECT_FALSE(evaluation.facts.count("not_young"));
    for (const auto& rule : engine.rule_base().rules) {
      RuleTrace trace = engine.ExplainRule(rule, c, {}, evaluation);
      EXPECT_EQ(Truth::kUnknown, trace.truth) << rule.id;
      ASSERT_EQ(1u, trace.tests.size());
      EXPECT_EQ("age not known (an impossible age was excluded)", trace.tests[0].Actual());
    }
  }
  auto child = ParseCase(R"({"patient": {"sex": "female", "age_years": 12}})");
  auto evaluation = engine.Evaluate(child, {});
  EXPECT_TRUE(evaluation.facts.count("young"));
  EXPECT_FALSE(evaluation.facts.count("not_young"));
}

TEST(EngineTest, SafetyGateBlocksContraindicatedStrategies) {
  const char* text = R"(
rule suggest_5htp "Low mood: consider 5-HTP"
  cites reactome_r_hsa_209931
  when symptom low_mood >= 2
  then suggest deficit serotonin_synthesis certainty 0.3
       suggest strategy precursor_5htp for serotonin_synthesis
end
)";
  Engine engine(Rules({{"s.rules", text}}), FixtureKnowledge());
  auto c = ParseCase(R"({"patient": {"sex": "female", "age_years": 35}, "symptoms": {"low_mood": 3},
    "medications": [{"id": "escitalopram"}], "supplements": {"requested": ["precursor_5htp"]}})");
  auto evaluation = engine.Evaluate(c, {});
  for (const auto& strategy : evaluation.strategies) EXPECT_NE(strategy.id, "precursor_5htp");
  ASSERT_EQ(evaluation.blocked.size(), 1u);
  EXPECT_EQ(evaluation.blocked[0].id, "precursor_5htp");
  EXPECT_TRUE(evaluation.blocked[0].requested);
  EXPECT_EQ(evaluation.blocked[0].verdict, Verdict::kBlocked);
  ASSERT_FALSE(evaluation.blocked[0].reasons.empty());
  bool serotonin_alert = false;
  for (const auto& alert : evaluation.alerts)
    if (alert.id == "serotonin_syndrome_risk") {
      serotonin_alert = true;
      EXPECT_NE(std::find(alert.because.begin(), alert.because.end(), "requested:precursor_5htp"), alert.because.end());
    }
  EXPECT_TRUE(serotonin_alert);
  ASSERT_EQ(evaluation.requested.size(), 1u);
  EXPECT_EQ(evaluation.requested[0].verdict, Verdict::kBlocked);
}

TEST(EngineTest, RunsOnlyRulesWhoseDataIsPresent) {
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "rule r" + std::to_string(i) + " \"r\"\n cites cooper_bloom_roth\n when symptom " +
            (i % 2 ? std::string("anhedonia") : std::string("tremor")) + " >= 1\n then derive fact f" +
            std::to_string(i) + "\nend\n";
  Engine engine(Rules({{"many.rules", text}}), FixtureKnowledge());
  auto evaluation = engine.Evaluate(ParseCase(R"({"patient": {"sex": "male", "age_years": 30}, "symptoms": {"anhedonia": 2}})"), {});
  EXPECT_EQ(evaluation.trace.considered, 25);  // only the anhedonia rules
  EXPECT_EQ(evaluation.facts.size(), 25u);
}

// A conclusion lists the rules that gave evidence for it, and those against it, in firing order,
// however the evidence of several conclusions interleaves (the engine logs it in one list and
// sorts that by conclusion once: enough entries here that an unstable sort would reorder them).
TEST(EngineTest, EvidenceListsKeepFiringOrderPerConclusion) {
  std::string text;
  for (int i = 0; i < 60; ++i) {
    const std::string action = i % 4 == 3 ? "oppose deficit serotonin_synthesis certainty 0.1"
                               : i % 4 == 2 ? "suggest deficit serotonin_synthesis certainty 0.1"
                                            : "derive fact f" + std::to_string(i % 4) + " certainty 0.1";
    text += "rule e" + std::to_string(i) + " \"e\"\n cites cooper_bloom_roth\n when symptom tremor >= 1\n then " +
            action + "\nend\n";
  }
  Engine engine(Rules({{"evidence.rules", text}}), FixtureKnowledge());
  const auto c = ParseCase(R"({"patient": {"sex": "male", "age_years": 30}, "symptoms": {"tremor": 2}})");
  auto evaluation = engine.Evaluate(c, {});
  // Firing order, from the traced evaluation's own record.
  std::map<std::string, std::vector<std::string>> expected;
  for (const auto& rule : evaluation.trace.rules) {
    if (!rule.fired) continue;
    const std::string id(rule.rule);
    const int i = std::stoi(id.substr(1));
    expected[i % 4 == 3 ? "against" : i % 4 == 2 ? "for" : "f" + std::to_string(i % 4)].push_back(id);
  }
  ASSERT_EQ(expected["f0"].size(), 15u);
  EXPECT_EQ(expected["f0"].front(), "e0");  // the agenda goes in rule base order
  EXPECT_EQ(evaluation.facts.at("f0").rules, expected["f0"]);
  EXPECT_EQ(evaluation.facts.at("f1").rules, expected["f1"]);
  EXPECT_TRUE(evaluation.facts.at("f0").opposing_rules.empty());
  const auto& deficit = evaluation.deficits.at("serotonin_synthesis");
  EXPECT_EQ(deficit.rules, expected["for"]);
  EXPECT_EQ(deficit.opposing_rules, expected["against"]);
  // Untraced, the same lists.
  EvaluateOptions untraced;
  untraced.trace = false;
  auto plain = engine.Evaluate(c, {}, untraced);
  EXPECT_EQ(plain.facts.at("f1").rules, expected["f1"]);
  EXPECT_EQ(plain.deficits.at("serotonin_synthesis").opposing_rules, expected["against"]);
}

// A threshold run wakes exactly the rules whose filter holds: thresholds around, at and between
// the case's values, with every operator, each rule considered only when its test can hold.
TEST(EngineTest, ThresholdRunsWakeExactlyTheRulesWhoseTestHolds) {
  const char* ops[] = {"<", "<=", ">", ">="};
  auto name = [](const std::string& op) { return op == "<" ? "lt" : op == "<=" ? "le" : op == ">" ? "gt" : "ge"; };
  std::string text;
  int rule = 0;
  for (const char* op : ops)
    for (int threshold = 0; threshold <= 3; ++threshold)
      text += "rule s" + std::to_string(rule++) + " \"s\"\n cites cooper_bloom_roth\n when symptom anhedonia " + op +
              " " + std::to_string(threshold) + "\n then derive fact s_" + name(op) + std::to_string(threshold) + "\nend\n";
  for (const char* op : ops)
    for (int threshold : {10, 20, 20, 30, 45})  // a threshold twice, one equal to the value
      text += "rule l" + std::to_string(rule++) + " \"l\"\n cites cooper_bloom_roth\n when lab ferritin " + op + " " +
              std::to_string(threshold) + " ng/mL\n then derive fact l_" + name(op) + std::to_string(threshold) + "\nend\n";
  Engine engine(Rules({{"thresholds.rules", text}}), FixtureKnowledge());
  EvaluateOptions untraced;
  untraced.trace = false;
  for (int score = 0; score <= 3; ++score)
    for (int ferritin : {5, 20, 25, 45, 60}) {
      auto evaluation = engine.Evaluate(
          ParseCase(R"({"patient": {"sex": "male", "age_years": 30}, "symptoms": {"anhedonia": )" + std::to_string(score) +
                    R"(}, "labs": [{"test": "ferritin", "value": )" + std::to_string(ferritin) + R"(, "unit": "ng/mL"}]})"),
          {}, untraced);
      std::set<std::string> expected;
      for (const char* op : ops) {
        rules::Compare compare = std::string(op) == "<" ? rules::Compare::kLess
                               : std::string(op) == "<=" ? rules::Compare::kLessEqual
                               : std::string(op) == ">" ? rules::Compare::kGreater : rules::Compare::kGreaterEqual;
        for (int threshold = 0; threshold <= 3; ++threshold)
          if (rules::Holds(score, compare, threshold)) expected.insert(std::string("s_") + name(op) + std::to_string(threshold));
        for (int threshold : {10, 20, 30, 45})
          if (rules::Holds(ferritin, compare, threshold)) expected.insert(std::string("l_") + name(op) + std::to_string(threshold));
      }
      std::set<std::string> derived;
      for (const auto& [id, fact] : evaluation.facts) derived.insert(id);
      EXPECT_EQ(derived, expected) << "anhedonia " << score << ", ferritin " << ferritin;
      // Only rules that fire were considered: no filter that is false let its rule through.
      EXPECT_EQ(evaluation.trace.considered, evaluation.trace.firings) << "anhedonia " << score << ", ferritin " << ferritin;
    }
}

// The other kinds a threshold run holds (compile.cc, IsThresholdFilter): stressor scores, flux
// indices and derived indices, each read from the slot the evaluator reads. On the real knowledge
// base (the fixture has no stressors or derived indices).
TEST(EngineTest, ThresholdRunsOfEveryKindWakeExactlyTheRulesWhoseTestHolds) {
  const std::vector<std::pair<std::string, std::string>> ops = {{"<", "lt"}, {"<=", "le"}, {">", "gt"}, {">=", "ge"}};
  const std::vector<std::pair<std::string, std::vector<double>>> subjects = {
      {"stressor chronic_stress", {0, 1, 2, 3}},
      {"flux serotonin.synthesis", {0.5, 0.8, 0.8, 1.2}},  // a threshold twice
      {"derived homa_ir", {1, 2.5, 4}}};
  std::string text;
  int rule = 0;
  for (size_t k = 0; k < subjects.size(); ++k)
    for (const auto& [op, name] : ops)
      for (size_t t = 0; t < subjects[k].second.size(); ++t)
        text += "rule k" + std::to_string(rule++) + " \"k\"\n cites cooper_bloom_roth\n when " + subjects[k].first + " " +
                op + " " + FormatNumber(subjects[k].second[t]) + "\n then derive fact k" + std::to_string(k) + "_" + name +
                "_" + std::to_string(t) + "\nend\n";
  Engine engine(Rules({{"kinds.rules", text}}, RealKnowledge()), RealKnowledge());
  EvaluateOptions untraced;
  untraced.trace = false;
  int derived_values = 0;
  for (int score = 0; score <= 3; ++score)
    for (double insulin : {3.0, 10.0, 25.0}) {
      auto c = ParseCase(R"({"patient": {"sex": "male", "age_years": 40}, "stressors": {"chronic_stress": )" +
                             std::to_string(score) +
                             R"(}, "labs": [{"test": "glucose_fasting", "value": 95, "unit": "mg/dL"},
                                {"test": "insulin_fasting", "value": )" + FormatNumber(insulin) + R"(, "unit": "uIU/mL"}]})",
                         RealKnowledge());
      double homa_ir = -1;
      for (const auto& index : c.derived)
        if (index.id == "homa_ir") homa_ir = index.value;
      ASSERT_GE(homa_ir, 0) << "HOMA-IR computed from glucose and insulin";
      FluxValues flux;
      flux.values["serotonin.synthesis"] = 0.4 * (score + 1);  // 0.4, 0.8 (a threshold), 1.2, 1.6
      const std::vector<double> values = {static_cast<double>(score), 0.4 * (score + 1), homa_ir};
      auto evaluation = engine.Evaluate(c, flux, untraced);
      std::set<std::string> expected;
      for (size_t k = 0; k < subjects.size(); ++k)
        for (const auto& [op, name] : ops) {
          rules::Compare compare = op == "<" ? rules::Compare::kLess : op == "<=" ? rules::Compare::kLessEqual
                                 : op == ">" ? rules::Compare::kGreater : rules::Compare::kGreaterEqual;
          for (size_t t = 0; t < subjects[k].second.size(); ++t)
            if (rules::Holds(values[k], compare, subjects[k].second[t]))
              expected.insert("k" + std::to_string(k) + "_" + name + "_" + std::to_string(t));
        }
      std::set<std::string> derived;
      for (const auto& [id, fact] : evaluation.facts) derived.insert(id);
      EXPECT_EQ(derived, expected) << "chronic_stress " << score << ", homa_ir " << homa_ir;
      EXPECT_EQ(evaluation.trace.considered, evaluation.trace.firings) << "chronic_stress " << score;
      derived_values += homa_ir > 2.5;
    }
  EXPECT_GT(derived_values, 0);  // some cases above the middle threshold, some below
  EXPECT_LT(derived_values, 12);
}

// The search of a run (short runs scanned, longer ones halved) against testing each filter, for
// random thresholds and values (ties included) and NaN.
TEST(CompileTest, HoldingThresholdsAreThoseWhoseFilterHolds) {
  std::mt19937 random(12);
  for (auto op : {rules::Compare::kLess, rules::Compare::kLessEqual, rules::Compare::kGreater, rules::Compare::kGreaterEqual})
    for (int round = 0; round < 200; ++round) {
      std::vector<WakeGroup> run(1 + random() % 20);
      for (auto& group : run) group.threshold = static_cast<double>(random() % 10);
      std::sort(run.begin(), run.end(), [](const WakeGroup& a, const WakeGroup& b) { return a.threshold < b.threshold; });
      for (double value : {-1.0, 0.0, 2.0, 4.5, 9.0, 11.0, std::numeric_limits<double>::quiet_NaN()}) {
        auto [first, last] = HoldingThresholds(run.data(), run.data() + run.size(), op, value);
        for (const auto& group : run) {
          const bool found = &group >= first && &group < last;
          EXPECT_EQ(found, rules::Holds(value, op, group.threshold))
              << rules::CompareText(op) << " " << group.threshold << " at " << value;
        }
      }
    }
}

// A lab's status checks as the working memory holds them (LabTruths), over every combination of
// range status, optimal range, critical flag and decision limit, against the rule language's
// meaning of each check (docs/rule-language.md): a status without a range is unknown, as is an
// optimal status without a cited optimal range; no decision limit means beyond none.
TEST(WorkingMemoryTest, LabTruthsHoldEveryStatusCheck) {
  using casefile::LabStatus;
  using casefile::OptimalStatus;
  const auto truth = [](bool known, bool holds) { return !known ? Truth::kUnknown : holds ? Truth::kTrue : Truth::kFalse; };
  int combinations = 0;
  for (auto status : {LabStatus::kUnknown, LabStatus::kLow, LabStatus::kNormal, LabStatus::kHigh})
    for (auto optimal : {OptimalStatus::kUnknown, OptimalStatus::kLow, OptimalStatus::kOptimal, OptimalStatus::kHigh})
      for (bool has_optimal : {false, true})
        for (bool critical : {false, true})
          for (int decision = 0; decision < 5; ++decision) {  // none; below / above, beyond or not
            casefile::LabResult lab;
            lab.status = status;
            lab.optimal_status = optimal;
            lab.has_optimal = has_optimal;
            lab.critical = critical;
            if (decision > 0) {
              lab.decision.emplace();
              lab.decision->side = decision <= 2 ? knowledge::LimitSide::kBelow : knowledge::LimitSide::kAbove;
              lab.decision->beyond = decision % 2 == 1;
            }
            Slot slot;
            slot.lab_truths = LabTruths(lab);
            const bool ranged = status != LabStatus::kUnknown;
            const bool below = decision == 1, above = decision == 3;
            const std::pair<LabCheck, Truth> expected[] = {
                {LabCheck::kNone, Truth::kUnknown},
                {LabCheck::kLow, truth(ranged, status == LabStatus::kLow)},
                {LabCheck::kNormal, truth(ranged, status == LabStatus::kNormal)},
                {LabCheck::kHigh, truth(ranged, status == LabStatus::kHigh)},
                {LabCheck::kAbnormal, truth(ranged, status == LabStatus::kLow || status == LabStatus::kHigh)},
                {LabCheck::kCritical, truth(true, critical)},
                {LabCheck::kBelowOptimal, truth(has_optimal, optimal == OptimalStatus::kLow)},
                {LabCheck::kOptimal, truth(has_optimal, optimal == OptimalStatus::kOptimal)},
                {LabCheck::kAboveOptimal, truth(has_optimal, optimal == OptimalStatus::kHigh)},
                {LabCheck::kBelowLimit, truth(true, below)},
                {LabCheck::kAboveLimit, truth(true, above)},
            };
            for (const auto& [check, want] : expected)
              EXPECT_EQ(LabTruthOf(slot, check), want)
                  << "check " << static_cast<int>(check) << ", status " << static_cast<int>(status) << ", optimal "
                  << static_cast<int>(optimal) << (has_optimal ? " (cited)" : "") << (critical ? ", critical" : "")
                  << ", decision " << decision;
            ++combinations;
          }
  EXPECT_EQ(combinations, 4 * 4 * 2 * 2 * 5);
}

TEST(EngineTest, FindsEveryRuleById) {
  Engine engine(Rules({{"chain.rules", kChainRules}}), FixtureKnowledge());
  ASSERT_EQ(engine.rule_base().rules.size(), 5u);
  for (const auto& rule : engine.rule_base().rules) EXPECT_EQ(engine.FindRule(rule.id), &rule) << rule.id;
  EXPECT_EQ(engine.FindRule("safety"), nullptr);  // a built-in check, not a rule
  EXPECT_EQ(engine.FindRule("ferritin_low"), nullptr);  // a prefix of an id is not the id
}

TEST(EngineTest, RunLimitStopsAndReports) {
  Engine engine(Rules({{"chain.rules", kChainRules}}), FixtureKnowledge());
  EvaluateOptions options;
  options.run_limit = 1;
  auto evaluation = engine.Evaluate(ParseCase(kChainCase), {}, options);
  EXPECT_EQ(evaluation.trace.firings, 1);
  EXPECT_NE(evaluation.trace.stopped.find("run limit of 1 firings"), std::string::npos);
}

TEST(EngineTest, FluxConditionsReadGivenValues) {
  const char* text = R"(
rule low_synthesis "Low serotonin synthesis flux"
  cites best_2010_serotonin_model
  when flux serotonin.synthesis < 0.85
  then suggest deficit serotonin_synthesis certainty 0.4
end
)";
  Engine engine(Rules({{"f.rules", text}}), FixtureKnowledge());
  auto c = ParseCase(R"({"patient": {"sex": "female", "age_years": 30}})");
  FluxValues flux;
  flux.values["serotonin.synthesis"] = 0.7;
  EXPECT_TRUE(engine.Evaluate(c, flux).deficits.count("serotonin_synthesis"));
  flux.values["serotonin.synthesis"] = 0.9;
  EXPECT_FALSE(engine.Evaluate(c, flux).deficits.count("serotonin_synthesis"));
  EXPECT_FALSE(engine.Evaluate(c, {}).deficits.count("serotonin_synthesis"));
}

// Everything an evaluation concluded, as comparable text.
std::string Summary(const Evaluation& evaluation) {
  std::string text;
  auto add = [&](const char* kind, const std::map<std::string, Conclusion>& conclusions) {
    for (const auto& [id, c] : conclusions) {
      text += std::string(kind) + " " + id + " " + std::to_string(c.certainty);
      for (const auto& [driver, weight] : c.drivers) text += " " + driver + "=" + std::to_string(weight);
      text += "\n";
    }
  };
  add("deficit", evaluation.deficits);
  add("driver", evaluation.drivers);
  add("fact", evaluation.facts);
  for (const auto& s : evaluation.strategies) text += "strategy " + s.id + " " + std::to_string(s.score) + "\n";
  for (const auto& s : evaluation.blocked) text += "blocked " + s.id + "\n";
  for (const auto& a : evaluation.alerts) text += "alert " + a.id + " " + std::string(Name(a.severity)) + "\n";
  return text;
}

// Conclusions plus the rules that fired: what must not change whether the index picks the rules
// or every rule is considered.
std::string SummaryWithFirings(const Evaluation& evaluation) {
  std::vector<std::string> fired;
  for (const auto& trace : evaluation.trace.rules)
    if (trace.fired) fired.emplace_back(trace.rule);
  std::sort(fired.begin(), fired.end());
  std::string text = Summary(evaluation);
  for (const auto& rule : fired) text += "fired " + rule + "\n";
  return text;
}

// The per-thread generation counter wraps after 2^32 evaluations; an evaluation across the wrap
// must give the same full result (alerts, deficits, strategies, firings) as one that does not.
// Run on a fresh thread so its working memory holds only this test's stamps.
TEST(EngineTest, GenerationWrapGivesTheSameResult) {
  std::string rules_text = std::string(kChainRules) + R"(
rule very_low_ferritin_alert "Very low ferritin needs a clinician"
  cites who_2020_ferritin
  when lab ferritin < 15 ng/mL
  then raise alert medical_referral_recommended
end
)";
  Engine engine(Rules({{"chain.rules", rules_text}}), FixtureKnowledge());
  casefile::Case c = ParseCase(kChainCase);
  std::vector<std::string> summaries{SummaryWithFirings(engine.Evaluate(c, {}))};
  std::thread worker([&] {
    // The first evaluation on this thread is the one that wraps; then two more after it.
    SetThreadGenerationForTesting(std::numeric_limits<uint32_t>::max());
    for (int i = 0; i < 3; ++i) summaries.push_back(SummaryWithFirings(engine.Evaluate(c, {})));
  });
  worker.join();
  ASSERT_EQ(summaries.size(), 4u);
  EXPECT_NE(summaries[0].find("alert medical_referral_recommended"), std::string::npos) << summaries[0];
  EXPECT_NE(summaries[0].find("deficit dopamine_synthesis"), std::string::npos) << summaries[0];
  EXPECT_NE(summaries[0].find("strategy cofactor_iron"), std::string::npos) << summaries[0];
  for (size_t i = 1; i < summaries.size(); ++i) EXPECT_EQ(summaries[i], summaries[0]) << "evaluation " << i;
}

// The same over random rule bases of every condition shape the index treats differently (and,
// or, at least, not, nested parts, a symbol read twice in one rule, conclusions tested with and
// without a certainty bound, evidence against, absent data) and random cases.
TEST(EngineTest, IndexGivesTheSameResultsOnRandomRuleBases) {
  std::mt19937 random(7);
  auto pick = [&](std::initializer_list<const char*> list) { return std::string(list.begin()[random() % list.size()]); };
  auto data_test = [&]() -> std::string {
    switch (random() % 8) {
      case 0: return "symptom " + pick({"anhedonia", "fatigue", "insomnia_onset", "low_mood"}) + " >= " + std::to_string(random() % 4);
      case 1:
        return "symptom " + pick({"anhedonia", "fatigue"}) + " " + pick({"<", "<=", ">", "!="}) + " " + std::to_string(random() % 4);
      case 2: return "lab " + pick({"ferritin", "tsh", "vitamin_d_25oh"}) + " is " + pick({"low", "normal", "high"});
      case 3:
        return "lab ferritin " + pick({"<", "<=", ">", ">=", "="}) + " " + std::to_string(10 + random() % 60) + " ng/mL";
      case 4: return "lab " + pick({"ferritin", "tsh"}) + " is missing";
      case 5: return "medication class " + pick({"ssri", "maoi"});
      case 6: return "sex is " + pick({"female", "male"});
      default: return "age >= " + std::to_string(20 + random() % 50);
    }
  };
  std::function<std::string(int, int)> condition = [&](int depth, int level) -> std::string {
    auto leaf = [&]() -> std::string {
      if (level > 0 && random() % 2) {
        std::string fact = "fact f" + std::to_string(std::min(level - 1, 1)) + "_" + std::to_string(random() % 4);
        return random() % 2 ? fact : fact + " >= 0." + std::to_string(2 + random() % 6);
      }
      if (level == 3 && random() % 2) return random() % 2 ? "deficit serotonin_synthesis" : "deficit serotonin_synthesis >= 0.4";
      return data_test();
    };
    if (depth == 0) return leaf();
    switch (random() % 5) {
      case 0: return condition(depth - 1, level) + " and " + condition(depth - 1, level);
      case 1: return "(" + condition(depth - 1, level) + " or " + condition(depth - 1, level) + ")";
      case 2: return "not (" + condition(depth - 1, level) + ")";
      case 3: return "at least 2 of (" + condition(depth - 1, level) + ", " + condition(depth - 1, level) + ", " + leaf() + ")";
      default: return leaf() + " and " + leaf() + " and " + condition(depth - 1, level);
    }
  };
  std::vector<casefile::Case> cases;
  for (int i = 0; i < 30; ++i) {
    nlohmann::json json = {{"patient", {{"sex", random() % 2 ? "female" : "male"}, {"age_years", 20 + random() % 60}}}};
    for (const char* symptom : {"anhedonia", "fatigue", "insomnia_onset", "low_mood"})
      if (random() % 3) json["symptoms"][symptom] = static_cast<int>(random() % 4);
    json["labs"] = nlohmann::json::array();
    if (random() % 3) json["labs"].push_back({{"test", "ferritin"}, {"value", 5 + random() % 150}, {"unit", "ng/mL"}});
    if (random() % 3) json["labs"].push_back({{"test", "tsh"}, {"value", 0.1 + (random() % 80) / 10.0}, {"unit", "mIU/L"}});
    if (random() % 2) json["medications"] = {{{"id", random() % 2 ? "sertraline" : "phenelzine"}}};
    cases.push_back(ParseCase(json.dump()));
  }
  int bases = 0, firings = 0, skipped = 0;
  for (int base = 0; base < 20; ++base) {
    std::string text;
    for (int i = 0; i < 40; ++i) {
      // Levels 0 and 1 derive facts, level 2 concludes a deficit for and against, level 3 reads it.
      int level = i % 4;
      std::string certainty = " certainty 0." + std::to_string(2 + random() % 7);
      std::string action = level == 2 ? (random() % 3 ? "suggest" : "oppose") + std::string(" deficit serotonin_synthesis") + certainty
                                      : "derive fact f" + std::to_string(level) + "_" + std::to_string(i / 4 % 4) + certainty;
      std::string when = condition(static_cast<int>(random() % 3), level);
      text += "rule r" + std::to_string(i) + " \"random\"\n  cites cooper_bloom_roth\n  when " + when + "\n  then " +
              action + "\nend\n";
    }
    auto loaded = rules::LoadRules({{"random.rules", text}}, *FixtureKnowledge());
    if (!loaded.errors.empty()) { ADD_FAILURE() << loaded.errors[0].ToString(); continue; }
    ++bases;
    Engine engine(loaded.rules, FixtureKnowledge());
    EvaluateOptions every_rule;
    every_rule.use_index = false;
    EvaluateOptions untraced;
    untraced.trace = false;
    for (const auto& c : cases) {
      auto indexed = engine.Evaluate(c, {});
      auto strict = engine.Evaluate(c, {}, untraced);
      auto all = engine.Evaluate(c, {}, every_rule);
      ASSERT_EQ(SummaryWithFirings(indexed), SummaryWithFirings(all)) << "rule base " << base << ":\n" << text;
      ASSERT_EQ(Summary(strict), Summary(all)) << "rule base " << base << ":\n" << text;
      ASSERT_EQ(strict.trace.firings, all.trace.firings) << "rule base " << base << ":\n" << text;
      firings += indexed.trace.firings;
      skipped += 40 - strict.trace.considered;
    }
  }
  // The comparison means something: most rule bases loaded, rules fired and the index skipped some.
  EXPECT_GE(bases, 15);
  EXPECT_GT(firings, 1000);
  EXPECT_GT(skipped, 1000);
}

// Content tests: the shipped rule base (rules/) over the shipped examples and golden cases, on the
// real knowledge base. They check properties of the engine that only a large, real rule base
// exercises fully (order independence, the index against every rule), so they stay on content.

// The property the issue asks for: shuffling rule order (files and rules within them) and the
// order of the case's facts gives identical results.
TEST(ContentInferenceTest, ResultsDoNotDependOnRuleOrFactOrder) {
  auto rule_dir = rules::ReadRulesDir(NFLUX_SOURCE_DIR "/rules");
  ASSERT_OK(rule_dir);
  // Split every file into its rules so they can be shuffled individually.
  std::vector<std::string> rule_texts;
  for (const auto& file : *rule_dir) {
    size_t start = file.text.find("\nrule ");
    if (file.text.rfind("rule ", 0) == 0) start = 0;
    while (start != std::string::npos) {
      size_t next = file.text.find("\nrule ", start + 1);
      rule_texts.push_back(file.text.substr(start, next == std::string::npos ? std::string::npos : next - start));
      start = next;
    }
  }
  ASSERT_GT(rule_texts.size(), 10u);
  auto examples = std::vector<std::string>{"perimenopause.json", "ssri_5htp_request.json", "healthy_control.json"};
  std::mt19937 random(20261125);
  for (const auto& example : examples) {
    std::ifstream in(std::string(NFLUX_SOURCE_DIR "/examples/") + example);
    ASSERT_TRUE(in) << example;
    nlohmann::json case_json = nlohmann::json::parse(in);
    std::string baseline;
    for (int round = 0; round < 6; ++round) {
      std::shuffle(rule_texts.begin(), rule_texts.end(), random);
      std::vector<rules::RuleSource> sources;
      for (size_t i = 0; i < rule_texts.size(); i += 7) {
        std::string text;
        for (size_t j = i; j < std::min(i + 7, rule_texts.size()); ++j) text += rule_texts[j] + "\n";
        sources.push_back({"shuffled_" + std::to_string(random() % 1000) + "_" + std::to_string(i) + ".rules", text});
      }
      // Shuffle the order of labs and symptoms in the case.
      nlohmann::json shuffled = case_json;
      if (shuffled.contains("labs")) {
        auto labs = shuffled["labs"];
        std::vector<nlohmann::json> items(labs.begin(), labs.end());
        std::shuffle(items.begin(), items.end(), random);
        shuffled["labs"] = items;
      }
      Engine engine(Rules(sources, RealKnowledge()), RealKnowledge());
      auto evaluation = engine.Evaluate(ParseCase(shuffled.dump(), RealKnowledge()), {});
      std::string summary = Summary(evaluation);
      if (round == 0) {
        baseline = summary;
      } else {
        EXPECT_EQ(summary, baseline) << example << " round " << round;
      }
    }
    if (example != "healthy_control.json") {
      EXPECT_FALSE(baseline.empty()) << example;
    }
  }
}

// The index (wake lists, parts, grouped filters) only skips rules that cannot be true: over the
// shipped rule base and every golden case, it gives the same conclusions and firings as putting
// every rule on the agenda, while considering fewer rules.
TEST(ContentInferenceTest, IndexGivesTheSameResultsAsConsideringEveryRule) {
  auto rule_dir = rules::ReadRulesDir(NFLUX_SOURCE_DIR "/rules");
  ASSERT_OK(rule_dir);
  Engine engine(Rules(*rule_dir, RealKnowledge()), RealKnowledge());
  auto model = flux::Model::Build(RealKnowledge());
  ASSERT_OK(model);
  int cases = 0, considered_indexed = 0, considered_strict = 0, considered_all = 0;
  for (const auto& path : nflux::testing::GoldenCaseFiles()) {
    const std::string name = path.filename().string();
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = casefile::ParseCase(text, *RealKnowledge(), {});
    if (!parsed.ok()) continue;  // golden cases of bad input
    auto computed = (*model)->Compute(*parsed, {{}, false});
    ASSERT_TRUE(computed.ok()) << name;
    FluxValues flux = FluxValues::From(*computed);
    EvaluateOptions every_rule, untraced;
    every_rule.use_index = false;
    untraced.trace = false;
    auto indexed = engine.Evaluate(*parsed, flux);  // traced: rules with one active part too
    auto strict = engine.Evaluate(*parsed, flux, untraced);
    auto all = engine.Evaluate(*parsed, flux, every_rule);
    EXPECT_EQ(SummaryWithFirings(indexed), SummaryWithFirings(all)) << name;
    EXPECT_EQ(Summary(strict), Summary(all)) << name;
    EXPECT_EQ(strict.trace.firings, all.trace.firings) << name;
    ++cases;
    considered_indexed += indexed.trace.considered;
    considered_strict += strict.trace.considered;
    considered_all += all.trace.considered;
  }
  EXPECT_GE(cases, 25);
  EXPECT_LT(considered_indexed, considered_all / 2);
  EXPECT_LT(considered_strict, considered_indexed);
}

// Every knowledge position a parsed case carries names the id beside it (what the engine reads
// instead of looking the id up), on every golden case and example.
void ExpectPositionNames(const knowledge::KnowledgeBase& kb, knowledge::NodePosition node, const std::string& id,
                         const std::string& where) {
  ASSERT_GE(node, 0) << where << " " << id;
  ASSERT_LT(static_cast<size_t>(node), kb.nodes().size()) << where << " " << id;
  EXPECT_EQ(kb.nodes()[static_cast<size_t>(node)].id, id) << where;
}

std::vector<std::filesystem::path> GoldenCasesAndExamples() {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {NFLUX_SOURCE_DIR "/rules/tests", NFLUX_SOURCE_DIR "/examples"})
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Each entry's position moved to the next entry's of the same list (the last to the first): every
// hint names a real node the rules may read, but not its own id.
template <typename List, typename Node>
void RotatePositions(List& list, Node node) {
  std::vector<knowledge::NodePosition> positions;
  for (auto& entry : list) positions.push_back(node(entry));
  for (size_t i = 0; auto& entry : list) node(entry) = positions[++i % positions.size()];
}

void MisleadPositions(casefile::Case& c, const knowledge::KnowledgeBase& kb) {
  auto score = [](auto& entry) -> knowledge::NodePosition& { return entry.second.node; };
  RotatePositions(c.symptoms, score);
  RotatePositions(c.stressors, score);
  RotatePositions(c.questionnaires, score);
  RotatePositions(c.lifestyle, score);
  auto node = [](auto& entry) -> knowledge::NodePosition& { return entry.node; };
  RotatePositions(c.labs, node);
  RotatePositions(c.derived, node);
  RotatePositions(c.conditions, node);
  // Each medication hinted at another medication with classes: the engine then takes that one's
  // classes as the hints for its own.
  for (auto& medication : c.medications)
    for (const knowledge::Node* other : kb.NodesOfKind(knowledge::NodeKind::kMedication))
      if (other->id != medication.id && !kb.ClassesOf(*other).empty()) {
        medication.node = kb.PositionOf(*other);
        break;
      }
  // A lab hinted at the node of a symptom the case has: it must not load as that symptom.
  if (!c.symptoms.empty() && !c.labs.empty()) c.labs.front().node = c.symptoms.begin()->second.node;
}

void ClearPositions(casefile::Case& c) {
  for (auto& [id, score] : c.symptoms) score.node = knowledge::kNoPosition;
  for (auto& [id, score] : c.stressors) score.node = knowledge::kNoPosition;
  for (auto& [id, q] : c.questionnaires) q.node = knowledge::kNoPosition;
  for (auto& [id, value] : c.lifestyle) value.node = knowledge::kNoPosition;
  for (auto& lab : c.labs) lab.node = knowledge::kNoPosition;
  for (auto& derived : c.derived) derived.node = knowledge::kNoPosition;
  for (auto& condition : c.conditions) condition.node = knowledge::kNoPosition;
  for (auto& medication : c.medications) medication.node = knowledge::kNoPosition;
}

// The positions are hints: a case without them (built in code) or with misleading ones (edited
// after parsing) gets exactly the result of the parsed case, traced and untraced.
TEST(ContentInferenceTest, KnowledgePositionsNameTheirIdsAndNeverChangeAResult) {
  auto rule_dir = rules::ReadRulesDir(NFLUX_SOURCE_DIR "/rules");
  ASSERT_OK(rule_dir);
  const auto kb = RealKnowledge();
  Engine engine(Rules(*rule_dir, kb), kb);
  auto model = flux::Model::Build(kb);
  ASSERT_OK(model);
  int cases = 0, misled = 0;
  for (const auto& path : GoldenCasesAndExamples()) {
    const std::string name = path.filename().string();
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = casefile::ParseCase(text, *kb, {});
    if (!parsed.ok()) continue;  // golden cases of bad input
    const casefile::Case& c = *parsed;
    for (const auto& [id, score] : c.symptoms) ExpectPositionNames(*kb, score.node, id, name);
    for (const auto& [id, score] : c.stressors) ExpectPositionNames(*kb, score.node, id, name);
    for (const auto& [id, q] : c.questionnaires) ExpectPositionNames(*kb, q.node, id, name);
    for (const auto& [id, value] : c.lifestyle) ExpectPositionNames(*kb, value.node, id, name);
    for (const auto& lab : c.labs) ExpectPositionNames(*kb, lab.node, lab.test, name);
    for (const auto& derived : c.derived) ExpectPositionNames(*kb, derived.node, derived.id, name);
    for (const auto& condition : c.conditions) ExpectPositionNames(*kb, condition.node, condition.id, name);
    for (const auto& medication : c.medications) {
      if (medication.node == knowledge::kNoPosition) continue;  // a code under a class's ATC group
      ExpectPositionNames(*kb, medication.node, medication.id, name);
      // The engine takes its classes' positions from its node's: they must be the node's classes.
      EXPECT_EQ(medication.classes, kb->ClassesOf(kb->nodes()[static_cast<size_t>(medication.node)])) << name;
    }

    auto computed = (*model)->Compute(c, {{}, false});
    ASSERT_TRUE(computed.ok()) << name;
    const FluxValues flux = FluxValues::From(*computed);
    EvaluateOptions untraced;
    untraced.trace = false;
    const std::string expected = SummaryWithFirings(engine.Evaluate(c, flux));
    const std::string expected_untraced = Summary(engine.Evaluate(c, flux, untraced));
    casefile::Case cleared = c, misleading = c;
    ClearPositions(cleared);
    MisleadPositions(misleading, *kb);
    EXPECT_EQ(expected, SummaryWithFirings(engine.Evaluate(cleared, flux))) << name;
    EXPECT_EQ(expected, SummaryWithFirings(engine.Evaluate(misleading, flux))) << name;
    EXPECT_EQ(expected_untraced, Summary(engine.Evaluate(misleading, flux, untraced))) << name;
    ++cases;
    misled += c.symptoms.size() > 1 && c.labs.size() > 1;
  }
  EXPECT_GE(cases, 100);
  EXPECT_GE(misled, 50);  // most cases have two symptoms and two labs whose hints were swapped
}

// Everything an evaluation holds that a report, the store or an explanation reads: conclusions,
// firings, every alert and strategy field, notes and the whole trace.
std::string WholeResult(const Evaluation& evaluation) {
  std::string text = SummaryWithFirings(evaluation);
  auto list = [&](const std::vector<std::string>& items) {
    for (const auto& item : items) text += " " + item;
    text += ";";
  };
  for (const auto& alert : evaluation.alerts) {
    text += "alert " + alert.id + " " + alert.message;
    list(alert.because);
    list(alert.citations);
    list(alert.rules);
    for (const auto& reason : alert.reasons) {
      text += reason.message + " " + reason.source;
      list(reason.because);
    }
    text += "\n";
  }
  for (const auto* strategies : {&evaluation.strategies, &evaluation.blocked, &evaluation.requested})
    for (const auto& strategy : *strategies) {
      text += "strategy " + strategy.id + " " + std::to_string(strategy.support) + " " + strategy.rank_reason + " " +
              std::string(VerdictName(strategy.verdict));
      list(strategy.for_deficits);
      list(strategy.rules);
      for (const auto& reason : strategy.reasons) text += reason.alert + " " + reason.with + " " + reason.detail + ";";
      text += "\n";
    }
  for (const auto& note : evaluation.notes) text += "note " + note.rule + " " + note.message + "\n";
  return text + evaluation.trace.ToJsonText();
}

// A prepared case replays what loading its case writes: the same whole result as evaluating the
// case, traced and untraced, with and without flux values, on every golden case, example and
// random case. Evaluated by an engine it was not prepared for, it is read as the case it holds.
TEST(ContentInferenceTest, APreparedCaseEvaluatesAsItsCase) {
  const pipeline::Pipeline& shipped = testing::ShippedPipeline();
  const Engine& engine = shipped.engine();
  auto rule_dir = rules::ReadRulesDir(NFLUX_SOURCE_DIR "/rules");
  ASSERT_OK(rule_dir);
  const auto kb = RealKnowledge();
  // Another engine, on the rules of all files but the first: its symbols are numbered otherwise,
  // so that loads replayed from the shipped engine's preparation would be wrong.
  rule_dir->erase(rule_dir->begin());
  Engine other(Rules(*rule_dir, kb), kb);
  std::vector<std::pair<std::string, std::string>> texts;  // name, case JSON
  for (const auto& path : GoldenCasesAndExamples()) {
    std::ifstream in(path);
    texts.emplace_back(path.filename().string(), std::string((std::istreambuf_iterator<char>(in)), {}));
  }
  // Each example again with its first lab given twice (an older value after it, a newer one
  // before it): the case decides which entry is in use, and the prepared loads must agree.
  for (const auto& path : GoldenCasesAndExamples()) {
    if (path.parent_path().filename() != "examples") continue;
    std::ifstream in(path);
    auto json = nlohmann::ordered_json::parse(in);
    if (!json.contains("labs") || json["labs"].empty()) continue;
    auto older = json["labs"][0], newer = json["labs"][0];
    older["value"] = older["value"].get<double>() * 2;
    older["date"] = "2020-01-01";
    newer["value"] = newer["value"].get<double>() / 2;
    newer["date"] = "2026-12-01";
    json["labs"].push_back(older);
    json["labs"].insert(json["labs"].begin(), newer);
    texts.emplace_back(path.filename().string() + ", first lab given twice more", json.dump());
  }
  for (uint64_t seed = 1; seed <= 300; ++seed)
    texts.emplace_back("random case " + std::to_string(seed),
                       testing::RandomCase(testing::ShippedVocabulary(), seed).dump());
  EvaluateOptions untraced;
  untraced.trace = false;
  int cases = 0, with_duplicate_labs = 0;
  for (const auto& [name, text] : texts) {
    auto parsed = shipped.ParseCase(text, name);
    if (!parsed.ok()) continue;  // golden cases of bad input
    const casefile::Case& c = *parsed;
    auto computed = shipped.flux_model().Compute(c, {{}, false});
    ASSERT_TRUE(computed.ok()) << name;
    const FluxValues flux = FluxValues::From(*computed);
    const PreparedCase prepared = engine.Prepare(c);
    for (const FluxValues* values : {&flux, static_cast<const FluxValues*>(nullptr)}) {
      const FluxValues none;
      const FluxValues& given = values ? *values : none;
      EXPECT_EQ(WholeResult(engine.Evaluate(c, given)), WholeResult(engine.Evaluate(prepared, given))) << name;
      EXPECT_EQ(WholeResult(engine.Evaluate(c, given, untraced)), WholeResult(engine.Evaluate(prepared, given, untraced)))
          << name;
    }
    EXPECT_EQ(WholeResult(other.Evaluate(c, flux)), WholeResult(other.Evaluate(prepared, flux))) << name;
    std::set<std::string> tests;
    for (const auto& lab : c.labs) with_duplicate_labs += lab.used && lab.value && !tests.insert(lab.test).second;
    ++cases;
  }
  EXPECT_GE(cases, 400);
  EXPECT_GE(with_duplicate_labs, 10);  // a test given twice: the case decides which value loads
}

}  // namespace
}  // namespace nflux::inference
