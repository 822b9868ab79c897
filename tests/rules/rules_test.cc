// Tests for engine/rules: the rule language (docs/rule-language.md) from text to a checked,
// stratified RuleBase. Table-driven: good rule texts with the AST they must give, bad rule texts
// with their exact errors (ToString: message, source line and caret); stratification order; the
// directory reader; and a robustness test that no input crashes LoadRules.
//
// Rules are checked against a small knowledge base built in memory (FixtureKb).

#include "rules/rules.h"

#include <set>

#include "rules/parser.h"
#include "rules/test_forms.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <unistd.h>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nflux::rules {
namespace {

using nlohmann::json;

json Node(const char* id, const char* kind, json extra = json::object()) {
  json node = {{"id", id}, {"kind", kind}, {"label", std::string("Label of ") + id},
               {"description", std::string("What ") + id + " is."}};
  for (const auto& [key, value] : extra.items()) node[key] = value;
  return node;
}

json Cited(json extra = json::object()) {
  extra["citations"] = {"who_2020"};
  return extra;
}

// Ferritin's molar mass is set to 500,000 g/mol so that 1 pmol/L is exactly 0.5 ng/mL.
json FixtureDocument() {
  json nodes = json::array({
      Node("ferritin", "lab",
           Cited({{"loinc", "2276-4"}, {"loinc_certainty", "checked"}, {"specimen", "serum"},
                  {"canonical_unit", "ng/mL"}, {"molar_mass", 500000}, {"units", {"ng/mL", "ug/L", "pmol/L"}},
                  {"reference", json::array({{{"sex", "any"}, {"low", 30}, {"high", 300}}})},
                  {"plausible", {{"min", 0}, {"max", 100000}}}, {"critical", {{"high", 1000}}}})),
      Node("vitamin_b12", "lab",
           Cited({{"loinc", "2132-9"}, {"loinc_certainty", "checked"}, {"specimen", "serum"},
                  {"canonical_unit", "pg/mL"}, {"units", {"pg/mL", "ng/L"}},
                  {"reference", json::array({{{"sex", "any"}, {"low", 200}, {"high", 900}}})},
                  {"optimal", json::array({{{"low", 400}, {"high", 900}, {"certainty", "low"}, {"citations", {"who_2020"}}}})}})),
      Node("iron_cofactor", "cofactor"),
      Node("low_mood", "symptom"),
      Node("fatigue", "symptom"),
      Node("anhedonia", "symptom"),
      Node("phq9", "questionnaire",
           Cited({{"items", 9}, {"item_min", 0}, {"item_max", 3}, {"safety_item", 9}, {"positive_at", 10},
                  {"bands", json::array({{{"min", 0}, {"max", 4}, {"label", "minimal"}},
                                         {{"min", 5}, {"max", 9}, {"label", "mild"}},
                                         {{"min", 10}, {"max", 14}, {"label", "moderate"}},
                                         {{"min", 15}, {"max", 19}, {"label", "moderately_severe"}},
                                         {{"min", 20}, {"max", 27}, {"label", "severe"}}})}})),
      Node("sertraline", "medication", Cited({{"atc", "N06AB06"}, {"classes", {"ssri"}}})),
      Node("levodopa", "medication", Cited({{"atc", "N04BA01"}})),
      Node("ssri", "medication_class"),
      Node("hypothyroidism", "condition", Cited({{"icd10", "E03"}})),
      Node("chronic_pain", "condition", Cited({{"icd10", "G89.2"}, {"case_stressor", true}})),
      Node("chronic_stress", "stressor", Cited()),
      Node("iron_supplement", "strategy", Cited({{"strategy_kind", "cofactor"}})),
      Node("dopamine_synthesis", "deficit", Cited()),
      Node("serotonin_synthesis", "deficit", Cited()),
      Node("iron_deficiency", "driver", Cited()),
      Node("suicide_risk_urgent", "alert", Cited({{"default_severity", "urgent"}})),
      Node("sleep_hours", "lifestyle_factor", {{"value_type", "number"}, {"unit", "h"}, {"min", 0}, {"max", 24}}),
      Node("diet", "lifestyle_factor", {{"value_type", "enum"}, {"values", {"omnivore", "vegetarian", "vegan"}}}),
      Node("shift_work", "lifestyle_factor", {{"value_type", "boolean"}}),
      Node("homa_ir", "derived_index", Cited({{"inputs", {"ferritin"}}, {"unit", "1"}, {"high_above", 2.5}})),
      Node("kyn_trp_ratio", "derived_index", Cited({{"inputs", {"ferritin"}}, {"unit", "umol/mmol"}, {"high_above", 40}})),
  });
  json edges = json::array({{{"from", "iron_supplement"}, {"type", "targets"}, {"to", "iron_cofactor"},
                             {"citations", {"who_2020"}}}});
  json citation = {{"kind", "guideline"}, {"title", "Ferritin guideline"}, {"source", "WHO 2020"}, {"verified", "checked"}, {"grade", "A"}};
  json citations = {{"who_2020", citation}, {"felger_2012", citation}};
  return {{"nodes", nodes}, {"edges", edges}, {"citations", citations}};
}

const knowledge::KnowledgeBase& FixtureKb() {
  static const std::shared_ptr<const knowledge::KnowledgeBase> kb = [] {
    auto outcome = knowledge::LoadKnowledge({{"kb/fixture.json", FixtureDocument().dump(1)}});
    for (const auto& problem : outcome.problems) ADD_FAILURE() << "fixture: " << problem.ToString();
    return outcome.kb;
  }();
  return *kb;
}

LoadResult Load(const std::vector<RuleSource>& files) { return LoadRules(files, FixtureKb()); }
LoadResult LoadText(const std::string& text) { return Load({{"rules/t.rules", text}}); }

std::string ErrorText(const LoadResult& result) {
  std::string text;
  for (const auto& error : result.errors) {
    if (!text.empty()) text += "\n";
    text += error.ToString();
  }
  return text;
}

// A one-rule file: `when` and `then` as given.
std::string OneRule(const std::string& when, const std::string& then = "derive fact done") {
  return "rule r \"Test rule\"\n  cites who_2020\n  when " + when + "\n  then " + then + "\nend\n";
}

const Test& LeafOf(const Condition& condition) {
  EXPECT_EQ(condition.op, Condition::Op::kTest);
  return condition.test;
}

// ---------------------------------------------------------------------------------------------
// Good rule texts: they load, and the AST says what the text says.

struct GoodCase {
  const char* name;
  std::string text;
  std::function<void(const Rule&)> check;
};

// The condition of a one-rule file with `when` must be one leaf test of this kind and source.
GoodCase Leaf(const char* name, const std::string& when, TestKind kind, std::function<void(const Test&)> more = {}) {
  return {name, OneRule(when), [when, kind, more](const Rule& rule) {
            const Test& test = LeafOf(rule.when);
            EXPECT_EQ(test.kind, kind);
            EXPECT_EQ(test.source, when);
            if (more) more(test);
          }};
}

const std::vector<GoodCase>& GoodCases() {
  static const std::vector<GoodCase> cases = {
      Leaf("lab_value_canonical", "lab ferritin < 30 ng/mL", TestKind::kLabValue,
           [](const Test& t) {
             EXPECT_EQ(t.id, "ferritin");
             EXPECT_EQ(t.op, Compare::kLess);
             EXPECT_DOUBLE_EQ(t.number, 30);
             EXPECT_DOUBLE_EQ(t.written_number, 30);
             EXPECT_EQ(t.unit, "ng/mL");
             EXPECT_EQ(t.at.line, 3);
             EXPECT_EQ(t.at.column, 8);
           }),
      Leaf("lab_value_same_dimension", "lab ferritin <= 45 ug/L", TestKind::kLabValue,
           [](const Test& t) {
             EXPECT_EQ(t.op, Compare::kLessEqual);
             EXPECT_DOUBLE_EQ(t.number, 45);
           }),
      Leaf("lab_value_molar", "lab ferritin < 60 pmol/L", TestKind::kLabValue,
           [](const Test& t) {
             EXPECT_NEAR(t.number, 30, 1e-9);  // 60 pmol/L x 500,000 g/mol = 30 ng/mL
             EXPECT_DOUBLE_EQ(t.written_number, 60);
             EXPECT_EQ(t.unit, "pmol/L");
           }),
      Leaf("lab_value_decimal", "lab vitamin_b12 >= 0.25 ng/mL", TestKind::kLabValue,
           [](const Test& t) { EXPECT_NEAR(t.number, 250, 1e-9); }),
      Leaf("lab_status", "lab ferritin is low", TestKind::kLabStatus, [](const Test& t) { EXPECT_EQ(t.text, "low"); }),
      Leaf("lab_optimal", "lab vitamin_b12 is below_optimal", TestKind::kLabStatus,
           [](const Test& t) { EXPECT_EQ(t.text, "below_optimal"); }),
      Leaf("lab_critical", "lab ferritin is critical", TestKind::kLabStatus),
      Leaf("lab_measured", "lab ferritin is measured", TestKind::kLabMeasured),
      Leaf("lab_missing", "lab vitamin_b12 is missing", TestKind::kLabMissing),
      Leaf("symptom_compare", "symptom low_mood >= 2", TestKind::kSymptomCompare,
           [](const Test& t) {
             EXPECT_EQ(t.id, "low_mood");
             EXPECT_EQ(t.op, Compare::kGreaterEqual);
             EXPECT_DOUBLE_EQ(t.number, 2);
             EXPECT_TRUE(t.has_compare);
           }),
      Leaf("symptom_present", "symptom fatigue present", TestKind::kSymptomPresent),
      Leaf("symptom_absent", "symptom anhedonia absent", TestKind::kSymptomAbsent),
      Leaf("questionnaire_total", "questionnaire phq9 total >= 10", TestKind::kQuestionnaireTotal),
      Leaf("questionnaire_item", "questionnaire phq9 item 9 >= 1", TestKind::kQuestionnaireItem,
           [](const Test& t) {
             EXPECT_EQ(t.item, 9);
             EXPECT_DOUBLE_EQ(t.number, 1);
           }),
      Leaf("questionnaire_band", "questionnaire phq9 band is moderately_severe", TestKind::kQuestionnaireBand,
           [](const Test& t) { EXPECT_EQ(t.text, "moderately_severe"); }),
      Leaf("questionnaire_positive", "questionnaire phq9 is positive", TestKind::kQuestionnairePositive),
      Leaf("questionnaire_negative", "questionnaire phq9 is negative", TestKind::kQuestionnaireNegative),
      Leaf("derived_compare", "derived homa_ir > 2.5", TestKind::kDerivedCompare,
           [](const Test& t) { EXPECT_DOUBLE_EQ(t.number, 2.5); }),
      Leaf("derived_status", "derived kyn_trp_ratio is high", TestKind::kDerivedStatus),
      Leaf("flux_compare", "flux serotonin.synthesis < 0.8", TestKind::kFluxCompare,
           [](const Test& t) { EXPECT_EQ(t.id, "serotonin.synthesis"); }),
      Leaf("flux_assumed", "flux dopamine.level is assumed", TestKind::kFluxAssumed),
      Leaf("medication", "medication sertraline", TestKind::kMedication),
      Leaf("medication_class", "medication class ssri", TestKind::kMedicationClass),
      Leaf("medication_as_class", "medication class levodopa", TestKind::kMedicationClass),
      Leaf("condition", "condition hypothyroidism", TestKind::kCondition),
      Leaf("supplement_current", "supplement current iron_supplement", TestKind::kSupplementCurrent),
      Leaf("supplement_requested", "supplement requested iron_supplement", TestKind::kSupplementRequested),
      Leaf("sex", "sex is female", TestKind::kSex, [](const Test& t) { EXPECT_EQ(t.text, "female"); }),
      Leaf("age", "age >= 40", TestKind::kAge),
      Leaf("pregnant", "pregnant", TestKind::kPregnant),
      Leaf("lactating", "lactating", TestKind::kLactating),
      Leaf("menopausal_status", "menopausal_status is perimenopausal", TestKind::kMenopausalStatus),
      Leaf("lifestyle_compare", "lifestyle sleep_hours < 7", TestKind::kLifestyleCompare),
      Leaf("lifestyle_enum", "lifestyle diet is vegan", TestKind::kLifestyleIs),
      Leaf("lifestyle_boolean", "lifestyle shift_work is true", TestKind::kLifestyleIs),
      Leaf("stressor_node", "stressor chronic_stress >= 2", TestKind::kStressorCompare),
      Leaf("stressor_condition", "stressor chronic_pain != 0", TestKind::kStressorCompare,
           [](const Test& t) { EXPECT_EQ(t.op, Compare::kNotEqual); }),
      Leaf("data_quality", "data_quality error", TestKind::kDataQuality),
      {"precedence_and_over_or",
       OneRule("symptom low_mood >= 2 or symptom fatigue >= 2 and not symptom anhedonia absent"),
       [](const Rule& rule) {
         ASSERT_EQ(rule.when.op, Condition::Op::kOr);
         ASSERT_EQ(rule.when.children.size(), 2u);
         EXPECT_EQ(LeafOf(rule.when.children[0]).source, "symptom low_mood >= 2");
         const Condition& conjunction = rule.when.children[1];
         ASSERT_EQ(conjunction.op, Condition::Op::kAnd);
         ASSERT_EQ(conjunction.children.size(), 2u);
         ASSERT_EQ(conjunction.children[1].op, Condition::Op::kNot);
         EXPECT_EQ(LeafOf(conjunction.children[1].children.at(0)).kind, TestKind::kSymptomAbsent);
       }},
      {"parentheses_and_chains",
       OneRule("(symptom low_mood >= 2 or symptom fatigue >= 2) and pregnant and age < 50"),
       [](const Rule& rule) {
         ASSERT_EQ(rule.when.op, Condition::Op::kAnd);
         ASSERT_EQ(rule.when.children.size(), 3u);
         EXPECT_EQ(rule.when.children[0].op, Condition::Op::kOr);
         EXPECT_EQ(LeafOf(rule.when.children[2]).source, "age < 50");
       }},
      {"at_least",
       OneRule("at least 2 of (symptom fatigue >= 2, symptom low_mood present, lab ferritin < 30 ng/mL)"),
       [](const Rule& rule) {
         ASSERT_EQ(rule.when.op, Condition::Op::kAtLeast);
         EXPECT_EQ(rule.when.at_least, 2);
         ASSERT_EQ(rule.when.children.size(), 3u);
         const Test& lab = LeafOf(rule.when.children[2]);
         EXPECT_EQ(lab.unit, "ng/mL");
         EXPECT_EQ(lab.source, "lab ferritin < 30 ng/mL");
       }},
      {"unit_on_the_next_line", OneRule("lab ferritin < 30 # comment\n    ng/mL"),
       [](const Rule& rule) {
         EXPECT_EQ(LeafOf(rule.when).unit, "ng/mL");
         EXPECT_EQ(LeafOf(rule.when).unit_at.line, 4);
       }},
      {"unit_before_closing_parenthesis", OneRule("(lab ferritin < 30 ng/mL)"),
       [](const Rule& rule) { EXPECT_EQ(LeafOf(rule.when).unit, "ng/mL"); }},
      {"actions",
       "rule all_actions \"Every action\" cites who_2020, felger_2012 salience -5\n"
       "  when symptom low_mood >= 2\n"
       "  then derive fact low_mood_seen certainty 0.9\n"
       "       conclude driver iron_deficiency weight 0.8\n"
       "       suggest deficit dopamine_synthesis certainty 0.35 drivers iron_deficiency, chronic_stress\n"
       "       oppose deficit serotonin_synthesis certainty 0.2\n"
       "       suggest strategy iron_supplement for dopamine_synthesis\n"
       "       raise alert suicide_risk_urgent severity urgent message \"Ask about \\\"safety\\\" today\"\n"
       "       note data_quality \"Ferritin unit was guessed\"\n"
       "end\n",
       [](const Rule& rule) {
         EXPECT_EQ(rule.id, "all_actions");
         EXPECT_EQ(rule.title, "Every action");
         EXPECT_EQ(rule.citations, (std::vector<std::string>{"who_2020", "felger_2012"}));
         EXPECT_EQ(rule.salience, -5);
         ASSERT_EQ(rule.actions.size(), 7u);
         const auto& a = rule.actions;
         EXPECT_EQ(a[0].kind, ActionKind::kDeriveFact);
         EXPECT_DOUBLE_EQ(a[0].certainty, 0.9);
         EXPECT_EQ(a[1].kind, ActionKind::kConcludeDriver);
         EXPECT_DOUBLE_EQ(a[1].certainty, 0.8);
         EXPECT_EQ(a[2].kind, ActionKind::kSuggestDeficit);
         EXPECT_EQ(a[2].ids, (std::vector<std::string>{"iron_deficiency", "chronic_stress"}));
         EXPECT_EQ(a[2].source,
                   "suggest deficit dopamine_synthesis certainty 0.35 drivers iron_deficiency, chronic_stress");
         EXPECT_EQ(a[3].kind, ActionKind::kOpposeDeficit);
         EXPECT_EQ(a[4].kind, ActionKind::kSuggestStrategy);
         EXPECT_EQ(a[4].ids, (std::vector<std::string>{"dopamine_synthesis"}));
         EXPECT_EQ(a[5].kind, ActionKind::kRaiseAlert);
         EXPECT_EQ(a[5].severity, "urgent");
         EXPECT_EQ(a[5].message, "Ask about \"safety\" today");
         EXPECT_EQ(a[5].source, "raise alert suicide_risk_urgent severity urgent message \"Ask about \\\"safety\\\" today\"");
         EXPECT_EQ(a[6].kind, ActionKind::kNoteDataQuality);
         EXPECT_EQ(a[6].message, "Ferritin unit was guessed");
         EXPECT_EQ(a[6].severity, "warning");
         EXPECT_EQ(a[6].at.line, 9);
         EXPECT_EQ(a[6].at.column, 8);
       }},
      {"comments_and_free_layout",
       "# A comment before the rule.\n"
       "rule spaced \"Free layout\"   # a trailing comment\n"
       "cites\n  who_2020 when\n\tlab   ferritin\n<\n30   ng/mL then derive fact ok end",
       [](const Rule& rule) {
         EXPECT_EQ(rule.id, "spaced");
         EXPECT_EQ(rule.at.line, 2);
         EXPECT_EQ(LeafOf(rule.when).source, "lab ferritin < 30 ng/mL");
       }},
  };
  return cases;
}

TEST(RulesGood, EveryCaseLoads) {
  for (const auto& c : GoodCases()) {
    SCOPED_TRACE(c.name);
    LoadResult result = LoadText(c.text);
    EXPECT_EQ(ErrorText(result), "");
    ASSERT_NE(result.rules, nullptr);
    ASSERT_EQ(result.rules->rules.size(), 1u);
    c.check(result.rules->rules[0]);
  }
}

// ---------------------------------------------------------------------------------------------
// Bad rule texts and their exact errors.

struct BadCase {
  const char* name;
  std::vector<RuleSource> files;
  std::string errors;  // every error's ToString(), joined by newlines
};

std::vector<RuleSource> One(const std::string& text) { return {{"rules/bad.rules", text}}; }

const std::vector<BadCase>& BadCases() {
  static const std::vector<BadCase> cases = {
      {"unknown_condition_keyword", One(OneRule("symtom low_mood >= 2")),
       "rules/bad.rules:3:8: unknown condition 'symtom' (did you mean 'symptom'?)\n"
       "    when symtom low_mood >= 2\n"
       "         ^"},
      {"unknown_symptom", One(OneRule("symptom low_mod >= 2")),
       "rules/bad.rules:3:16: unknown symptom 'low_mod' (did you mean 'low_mood'?)\n"
       "    when symptom low_mod >= 2\n"
       "                 ^"},
      {"wrong_kind", One(OneRule("lab low_mood < 30 ng/mL")),
       "rules/bad.rules:3:12: 'low_mood' is a symptom, not a lab\n"
       "    when lab low_mood < 30 ng/mL\n"
       "             ^"},
      {"missing_unit", One(OneRule("lab ferritin < 30 and symptom fatigue >= 2")),
       "rules/bad.rules:3:26: expected a unit after 30, got 'and'\n"
       "    when lab ferritin < 30 and symptom fatigue >= 2\n"
       "                           ^"},
      {"missing_unit_at_end_of_file", One("rule r \"T\" cites who_2020 when lab ferritin < 30"),
       "rules/bad.rules:1:49: expected a unit after 30, got end of file\n"
       "  rule r \"T\" cites who_2020 when lab ferritin < 30\n"
       "                                                  ^"},
      {"missing_unit_before_parenthesis", One(OneRule("(lab ferritin < 30) and pregnant")),
       "rules/bad.rules:3:26: expected a unit after 30, got ')'\n"
       "    when (lab ferritin < 30) and pregnant\n"
       "                           ^"},
      {"incompatible_unit", One(OneRule("lab ferritin < 30 mmol")),
       "rules/bad.rules:3:26: unit 'mmol' does not fit lab 'ferritin': cannot convert mmol (amount) to ng/mL "
       "(mass/volume): incompatible dimensions\n"
       "    when lab ferritin < 30 mmol\n"
       "                           ^"},
      {"unknown_unit", One(OneRule("lab ferritin < 30 ng/dq")),
       "rules/bad.rules:3:26: unit 'ng/dq' does not fit lab 'ferritin': unknown unit 'ng/dq': 'dq' is not a unit\n"
       "    when lab ferritin < 30 ng/dq\n"
       "                           ^"},
      {"missing_end",
       One("rule r \"T\"\n  cites who_2020\n  when symptom low_mood >= 2\n  then derive fact f\n"),
       "rules/bad.rules:4:21: expected 'end' to close rule 'r' (line 1), got end of file\n"
       "    then derive fact f\n"
       "                      ^"},
      {"missing_end_before_next_rule",
       One("rule a \"A\" cites who_2020\n  when pregnant\n  then derive fact f\n" + OneRule("lactating")),
       "rules/bad.rules:4:1: expected 'end' to close rule 'a' (line 1), got 'rule'\n"
       "  rule r \"Test rule\"\n"
       "  ^"},
      {"missing_then", One("rule r \"T\" cites who_2020\n  when pregnant\n  derive fact f\nend\n"),
       "rules/bad.rules:3:3: expected 'then' after the conditions, got 'derive'\n"
       "    derive fact f\n"
       "    ^"},
      {"missing_cites", One("rule r \"T\"\n  when pregnant\n  then derive fact f\nend\n"),
       "rules/bad.rules:1:1: rule 'r' cites no source: add 'cites KEY' after its title\n"
       "  rule r \"T\"\n"
       "  ^"},
      {"unknown_citation", One("rule r \"T\"\n  cites who_2021\n  when pregnant\n  then derive fact f\nend\n"),
       "rules/bad.rules:2:9: unknown citation 'who_2021' (did you mean 'who_2020'?)\n"
       "    cites who_2021\n"
       "          ^"},
      {"certainty_out_of_range", One(OneRule("pregnant", "suggest deficit dopamine_synthesis certainty 1.5")),
       "rules/bad.rules:4:53: certainty 1.5 is outside (0, 1]\n"
       "    then suggest deficit dopamine_synthesis certainty 1.5\n"
       "                                                      ^"},
      {"weight_zero", One(OneRule("pregnant", "conclude driver iron_deficiency weight 0")),
       "rules/bad.rules:4:47: weight 0 is outside (0, 1]\n"
       "    then conclude driver iron_deficiency weight 0\n"
       "                                                ^"},
      {"duplicate_rule_id", {{"rules/a.rules", OneRule("pregnant")}, {"rules/b.rules", OneRule("lactating")}},
       "rules/b.rules:1:6: duplicate rule id 'r' (first defined at rules/a.rules:1)\n"
       "  rule r \"Test rule\"\n"
       "       ^"},
      {"cycle",
       One("rule a \"A\" cites who_2020\n  when fact fb\n  then derive fact fa\nend\n"
           "rule b \"B\" cites who_2020\n  when fact fa\n  then derive fact fb\nend\n"),
       "rules/bad.rules:1:6: rules form a cycle: 'a' concludes fact 'fa' that 'b' tests, 'b' concludes fact 'fb' "
       "that 'a' tests; a rule runs only after every rule concluding what it tests\n"
       "  rule a \"A\" cites who_2020\n"
       "       ^"},
      {"self_cycle", One(OneRule("driver iron_deficiency", "conclude driver iron_deficiency weight 0.5")),
       "rules/bad.rules:1:6: rule 'r' tests driver 'iron_deficiency', which it concludes itself; a rule runs only "
       "after every rule concluding what it tests\n"
       "  rule r \"Test rule\"\n"
       "       ^"},
      {"fact_never_derived", One(OneRule("fact don")),
       "rules/bad.rules:3:13: no rule derives fact 'don' (did you mean 'done'?)\n"
       "    when fact don\n"
       "              ^"},
      {"band_not_in_questionnaire", One(OneRule("questionnaire phq9 band is sever")),
       "rules/bad.rules:3:35: questionnaire 'phq9' has no band 'sever' (did you mean 'severe', "
       "'moderately_severe'?)\n"
       "    when questionnaire phq9 band is sever\n"
       "                                    ^"},
      {"item_out_of_range", One(OneRule("questionnaire phq9 item 10 >= 1")),
       "rules/bad.rules:3:32: questionnaire 'phq9' has items 1 to 9, not 10\n"
       "    when questionnaire phq9 item 10 >= 1\n"
       "                                 ^"},
      {"no_optimal_range", One(OneRule("lab ferritin is optimal")),
       "rules/bad.rules:3:24: lab 'ferritin' has no optimal range in the knowledge base, so 'optimal' is never "
       "decided\n"
       "    when lab ferritin is optimal\n"
       "                         ^"},
      {"unknown_lab_status", One(OneRule("lab ferritin is lo")),
       "rules/bad.rules:3:24: unknown lab status 'lo' (did you mean 'low'?)\n"
       "    when lab ferritin is lo\n"
       "                         ^"},
      {"unterminated_string", One("rule r \"T\n  cites who_2020\n  when pregnant\n  then derive fact f\nend\n"),
       "rules/bad.rules:1:8: unterminated string: add the closing '\"' on the same line\n"
       "  rule r \"T\n"
       "         ^"},
      {"non_ascii_byte", One(OneRule("symptom low_mood \xe2\x89\xa5 2")),
       "rules/bad.rules:3:25: unexpected non-ASCII bytes e2 89 a5: outside strings and comments write ASCII, "
       "e.g. '>=' for a greater-or-equal sign\n"
       "    when symptom low_mood \xe2\x89\xa5 2\n"
       "                          ^"},
      {"unexpected_character", One(OneRule("symptom low_mood >= 2 & symptom fatigue >= 1")),
       "rules/bad.rules:3:30: unexpected character '&'\n"
       "    when symptom low_mood >= 2 & symptom fatigue >= 1\n"
       "                               ^"},
      {"flux_index_unknown", One(OneRule("flux serotonin.synthesys < 0.8")),
       "rules/bad.rules:3:13: unknown flux index 'serotonin.synthesys' (did you mean 'serotonin.synthesis', "
       "'melatonin.synthesis'?)\n"
       "    when flux serotonin.synthesys < 0.8\n"
       "              ^"},
      {"derived_unknown", One(OneRule("derived homa > 2")),
       "rules/bad.rules:3:16: unknown derived index 'homa' (did you mean 'homa_ir'?)\n"
       "    when derived homa > 2\n"
       "                 ^"},
      {"stressor_wrong_condition", One(OneRule("stressor hypothyroidism >= 1")),
       "rules/bad.rules:3:17: 'hypothyroidism' is a condition, not a stressor\n"
       "    when stressor hypothyroidism >= 1\n"
       "                  ^"},
      {"lifestyle_value", One(OneRule("lifestyle diet is vegn")),
       "rules/bad.rules:3:26: lifestyle factor 'diet' has no value 'vegn' (did you mean 'vegan'?)\n"
       "    when lifestyle diet is vegn\n"
       "                           ^"},
      {"lifestyle_compare_enum", One(OneRule("lifestyle diet > 1")),
       "rules/bad.rules:3:18: lifestyle factor 'diet' is an enum, not a number: test it with 'lifestyle diet is "
       "VALUE'\n"
       "    when lifestyle diet > 1\n"
       "                   ^"},
      {"strategy_for_non_deficit", One(OneRule("pregnant", "suggest strategy iron_supplement for iron_deficiency")),
       "rules/bad.rules:4:45: 'iron_deficiency' is a driver, not a deficit\n"
       "    then suggest strategy iron_supplement for iron_deficiency\n"
       "                                              ^"},
      {"unknown_action", One(OneRule("pregnant", "sugest deficit dopamine_synthesis certainty 0.3")),
       "rules/bad.rules:4:8: unknown action 'sugest' (did you mean 'suggest'?)\n"
       "    then sugest deficit dopamine_synthesis certainty 0.3\n"
       "         ^"},
      {"at_least_too_many", One(OneRule("at least 3 of (pregnant, lactating)")),
       "rules/bad.rules:3:8: 'at least 3 of' 2 conditions can never be true\n"
       "    when at least 3 of (pregnant, lactating)\n"
       "         ^"},
      // Titles reach the JSON reports, which must be UTF-8; the line shown is made readable.
      {"title_not_utf8", One("rule r \"Bad \xff title\"\n  cites who_2020\n  when pregnant\n  then derive fact done\nend\n"),
       "rules/bad.rules:1:8: the string is not valid UTF-8: save the file as UTF-8\n"
       "  rule r \"Bad ? title\"\n"
       "         ^"},
      {"number_out_of_range", One(OneRule("lab ferritin < 1" + std::string(400, '0') + " ng/mL")),
       "rules/bad.rules:3:23: number out of range (larger than a double holds)\n"
       "    when lab ferritin < 1" + std::string(400, '0') + " ng/mL\n"
       "                        ^"},
      {"multiple_errors_in_one_file",
       One(OneRule("symtom low_mood >= 2") + "\n" +
           "rule r2 \"Second\" cites who_2020\n  when lab ferritin < 30\n  then derive fact f\nend\n\n" +
           "rule r3 \"Third\" cites who_2020\n  when symptom low_mood >= 2\n  then raise alert suicide_risk\nend\n"),
       "rules/bad.rules:3:8: unknown condition 'symtom' (did you mean 'symptom'?)\n"
       "    when symtom low_mood >= 2\n"
       "         ^\n"
       "rules/bad.rules:9:3: expected a unit after 30, got 'then'\n"
       "    then derive fact f\n"
       "    ^\n"
       "rules/bad.rules:14:20: unknown alert 'suicide_risk' (did you mean 'suicide_risk_urgent'?)\n"
       "    then raise alert suicide_risk\n"
       "                     ^"},
  };
  return cases;
}

TEST(RulesBad, EveryCaseReportsExactErrors) {
  for (const auto& c : BadCases()) {
    SCOPED_TRACE(c.name);
    LoadResult result = Load(c.files);
    EXPECT_EQ(result.rules, nullptr);
    EXPECT_EQ(ErrorText(result), c.errors);
  }
}

// ---------------------------------------------------------------------------------------------
// Stratification and agenda order.

std::vector<std::string> IdsInOrder(const RuleBase& base) {
  std::vector<std::string> ids;
  for (const auto& rule : base.rules) ids.push_back(rule.id);
  return ids;
}

// A million broken lines once took minutes to report (each error's line looked up from the start):
// the first 100 errors are shown, then how many more there are.
TEST(RulesBad, ManyErrorsAreCappedAtTheFirstHundred) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "rule (\n";
  LoadResult result = Load(One(text));
  EXPECT_EQ(nullptr, result.rules);
  ASSERT_EQ(101u, result.errors.size());
  EXPECT_EQ(1, result.errors[0].at.line);
  EXPECT_EQ(result.errors[99].at.line + 1, result.errors[100].at.line);
  EXPECT_TRUE(result.errors[100].message.ends_with("more errors after this line are not shown (the first 100 are)"))
      << result.errors[100].message;
}

TEST(RulesStratify, ConsumerRunsAfterProducer) {
  // The consumer comes first in the file and has the higher salience; it still runs later.
  LoadResult result = LoadText(
      "rule uses_iron \"Uses the driver\" cites who_2020 salience 10\n"
      "  when driver iron_deficiency then suggest deficit dopamine_synthesis certainty 0.3\nend\n"
      "rule uses_deficit \"Uses the deficit\" cites who_2020 salience 20\n"
      "  when deficit dopamine_synthesis then raise alert suicide_risk_urgent\nend\n"
      "rule makes_iron \"Makes the driver\" cites who_2020\n"
      "  when lab ferritin < 30 ng/mL then conclude driver iron_deficiency weight 0.8\nend\n");
  ASSERT_EQ(ErrorText(result), "");
  const RuleBase& base = *result.rules;
  EXPECT_EQ(IdsInOrder(base), (std::vector<std::string>{"makes_iron", "uses_iron", "uses_deficit"}));
  EXPECT_EQ(base.rules[0].stratum, 0);
  EXPECT_EQ(base.rules[1].stratum, 1);
  EXPECT_EQ(base.rules[2].stratum, 2);
}

TEST(RulesStratify, SalienceThenFileThenLineWithinAStratum) {
  auto rule = [](const std::string& id, int salience) {
    return "rule " + id + " \"R\" cites who_2020 salience " + std::to_string(salience) +
           " when pregnant then derive fact " + id + "_fact end\n";
  };
  LoadResult result = Load({{"rules/b.rules", rule("b_low", -1) + rule("b_zero", 0)},
                            {"rules/a.rules", rule("a_zero_first", 0) + rule("a_zero_second", 0) + rule("a_high", 5)}});
  ASSERT_EQ(ErrorText(result), "");
  EXPECT_EQ(IdsInOrder(*result.rules),
            (std::vector<std::string>{"a_high", "a_zero_first", "a_zero_second", "b_zero", "b_low"}));
  EXPECT_EQ(result.rules->files, (std::vector<std::string>{"rules/a.rules", "rules/b.rules"}));
}

// ---------------------------------------------------------------------------------------------
// Small helpers, the version and the directory reader.

TEST(RulesHelpers, CompareHoldsFluxAndNames) {
  EXPECT_EQ(CompareText(Compare::kLessEqual), "<=");
  EXPECT_EQ(CompareText(Compare::kNotEqual), "!=");
  EXPECT_TRUE(Holds(29.9, Compare::kLess, 30));
  EXPECT_FALSE(Holds(30, Compare::kLess, 30));
  EXPECT_TRUE(Holds(30, Compare::kGreaterEqual, 30));
  EXPECT_TRUE(Holds(2, Compare::kEqual, 2));
  EXPECT_TRUE(IsFluxIndex("serotonin.synthesis"));
  EXPECT_TRUE(IsFluxIndex("acetylcholine.turnover"));
  EXPECT_FALSE(IsFluxIndex("histamine.synthesis"));
  EXPECT_FALSE(IsFluxIndex("serotonin"));
  EXPECT_FALSE(IsFluxIndex("serotonin.synthesis.extra"));
  EXPECT_EQ(ActionKindName(ActionKind::kSuggestDeficit), "suggest deficit");
}

TEST(RulesHelpers, ErrorDisplayKeepsTabsUnderTheCaret) {
  RuleError error;
  error.at.file = "rules/x.rules";
  error.at.line = 2;
  error.at.column = 3;
  error.message = "bad thing";
  error.source_line = "\tx y";
  EXPECT_EQ(error.ToString(), "rules/x.rules:2:3: bad thing\n  \tx y\n  \t ^");
}

TEST(RulesVersion, DependsOnPathsAndTexts) {
  std::string text = OneRule("pregnant");
  LoadResult a = Load({{"rules/a.rules", text}});
  LoadResult same = Load({{"rules/a.rules", text}});
  LoadResult renamed = Load({{"rules/b.rules", text}});
  LoadResult edited = Load({{"rules/a.rules", text + "# comment\n"}});
  ASSERT_NE(a.rules, nullptr);
  EXPECT_EQ(a.rules->version.rfind("sha256:", 0), 0u);
  EXPECT_EQ(a.rules->version.size(), 7u + 64u);
  EXPECT_EQ(a.rules->version, same.rules->version);
  EXPECT_NE(a.rules->version, renamed.rules->version);
  EXPECT_NE(a.rules->version, edited.rules->version);
}

TEST(RulesDir, ReadsRulesFilesRecursivelySkippingTests) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("nflux_rules_dir_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"sleep", "tests", "sleep/tests"}) fs::create_directories(dir / sub);
  auto write = [&](const char* path, const char* text) { std::ofstream(dir / path) << text; };
  write("b.rules", "# b\n");
  write("sleep/a.rules", "# a\n");
  write("tests/golden.rules", "# skipped\n");
  write("sleep/tests/case.rules", "# skipped\n");
  write("notes.txt", "not a rule file\n");
  auto files = ReadRulesDir(dir.string() + "/");
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, dir.string() + "/b.rules");
  EXPECT_EQ((*files)[1].path, dir.string() + "/sleep/a.rules");
  EXPECT_EQ((*files)[1].text, "# a\n");
  fs::remove_all(dir);

  auto missing = ReadRulesDir(dir.string());
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Robustness: no text crashes LoadRules; every outcome is a rule base or a list of errors.

const char* kValidFile =
    "# Iron and monoamines.\n"
    "rule iron_from_ferritin \"Low ferritin\" cites who_2020 salience 2\n"
    "  when lab ferritin < 60 pmol/L and not (symptom fatigue absent or pregnant)\n"
    "  then conclude driver iron_deficiency weight 0.8\n"
    "end\n"
    "rule iron_limits \"Iron limits synthesis\" cites felger_2012\n"
    "  when driver iron_deficiency and at least 1 of (symptom fatigue >= 2, questionnaire phq9 band is mild,\n"
    "       flux dopamine.synthesis < 0.8, lifestyle diet is vegan)\n"
    "  then suggest deficit dopamine_synthesis certainty 0.35 drivers iron_deficiency\n"
    "       suggest strategy iron_supplement for dopamine_synthesis\n"
    "       raise alert suicide_risk_urgent message \"Check \\\"now\\\"\"\n"
    "       note data_quality \"Guessed unit\" severity info\n"
    "end\n";

void ExpectWellFormed(const LoadResult& result) {
  EXPECT_EQ(result.rules == nullptr, !result.errors.empty());
  for (const auto& error : result.errors) {
    EXPECT_GE(error.at.line, 1);
    EXPECT_GE(error.at.column, 1);
    EXPECT_FALSE(error.message.empty());
    EXPECT_FALSE(error.ToString().empty());
  }
}

TEST(RulesRobustness, ValidFileLoads) {
  LoadResult result = LoadText(kValidFile);
  EXPECT_EQ(ErrorText(result), "");
}

TEST(RulesRobustness, EveryPrefixLoadsOrReportsErrors) {
  const std::string text = kValidFile;
  for (size_t length = 0; length <= text.size(); ++length) {
    LoadResult result = LoadText(text.substr(0, length));
    ExpectWellFormed(result);
  }
}

TEST(RulesRobustness, RandomMutationsLoadOrReportErrors) {
  const std::string text = kValidFile;
  std::mt19937 random(20240611);
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = text;
    int edits = 1 + static_cast<int>(random() % 6);
    for (int i = 0; i < edits && !mutated.empty(); ++i) {
      size_t at = random() % mutated.size();
      char byte = static_cast<char>(random() % 256);
      switch (random() % 4) {
        case 0: mutated[at] = byte; break;
        case 1: mutated.insert(mutated.begin() + static_cast<std::ptrdiff_t>(at), byte); break;
        case 2: mutated.erase(at, 1 + random() % 8); break;
        default: mutated.insert(at, mutated.substr(random() % mutated.size(), random() % 16)); break;
      }
    }
    LoadResult result = LoadText(mutated);
    ExpectWellFormed(result);
  }
}

TEST(RulesRobustness, DeepNestingIsAnErrorNotACrash) {
  LoadResult result = LoadText(OneRule(std::string(100000, '(') + "pregnant" + std::string(100000, ')')));
  ASSERT_FALSE(result.errors.empty());
  EXPECT_EQ(result.errors[0].message, "conditions nest too deeply (more than 64 levels)");
  LoadResult nots = LoadText(OneRule([] {
    std::string text;
    for (int i = 0; i < 50000; ++i) text += "not ";
    return text + "pregnant";
  }()));
  ASSERT_FALSE(nots.errors.empty());
}

// A rule holds at most limits::kMaxRuleConditions conditions: one more is an error at the
// condition past the limit, the rest of that rule is skipped without an error a line, and the
// rule after it is still read.
TEST(RulesRobustness, ARuleHoldsAtMostTenThousandConditions) {
  auto chain = [](int conditions) {
    std::string text = "pregnant";
    for (int i = 1; i < conditions; ++i) text += "\n  or pregnant";
    return text;
  };
  LoadResult at_limit = LoadText(OneRule(chain(10000)));
  EXPECT_TRUE(at_limit.errors.empty()) << ErrorText(at_limit);
  ASSERT_TRUE(at_limit.rules);
  ASSERT_EQ(at_limit.rules->rules.size(), 1u);
  EXPECT_EQ(at_limit.rules->rules[0].when.children.size(), 10000u);

  const std::string next = "rule r2 \"Next\"\n  cites who_2020\n  when pregnant\n  then derive fact other\nend\n";
  std::vector<RuleError> errors;
  std::vector<Rule> read = ParseRules(RuleSource{"rules/t.rules", OneRule(chain(10002)) + next}, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "more than 10000 conditions in one rule (the limit)");
  EXPECT_EQ(errors[0].at.line, 10003);  // the 10,001st condition: line 3 holds the first
  EXPECT_EQ(errors[0].at.column, 6);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].id, "r2");
}

// ---------------------------------------------------------------------------------------------
// The test-kind table (test_forms.h): every kind parsed from text, and the exact first error of
// each way a test can be written wrong.

TEST(RulesTestForms, EveryKindHasOneRowAndKeywordsAreTheTables) {
  std::set<TestKind> kinds;
  for (const TestForm& form : TestForms()) {
    EXPECT_TRUE(kinds.insert(form.kind).second) << form.keyword << " " << form.words;
    EXPECT_EQ(FormOf(form.kind).kind, form.kind);
    EXPECT_NE(GrammarOf(form.keyword), nullptr) << form.keyword;
  }
  EXPECT_EQ(kinds.size(), static_cast<size_t>(TestKind::kDataQuality) + 1);
  EXPECT_EQ(TestKeywords().size(), 20u);
  EXPECT_EQ(GrammarOf("symtom"), nullptr);
  EXPECT_EQ(GrammarOf("questionnaire")->expected_words, "'total', 'item', 'band' or 'is'");
}

struct GoodTest {
  const char* text;
  TestKind kind;
};

const std::vector<GoodTest>& GoodTests() {
  static const std::vector<GoodTest> tests = {
      {"symptom low_mood >= 2", TestKind::kSymptomCompare},
      {"symptom low_mood present", TestKind::kSymptomPresent},
      {"symptom fatigue absent", TestKind::kSymptomAbsent},
      {"questionnaire phq9 total >= 10", TestKind::kQuestionnaireTotal},
      {"questionnaire phq9 item 9 >= 1", TestKind::kQuestionnaireItem},
      {"questionnaire phq9 band is moderate", TestKind::kQuestionnaireBand},
      {"questionnaire phq9 is positive", TestKind::kQuestionnairePositive},
      {"questionnaire phq9 is negative", TestKind::kQuestionnaireNegative},
      {"lab ferritin is low", TestKind::kLabStatus},
      {"lab ferritin < 30 ng/mL", TestKind::kLabValue},
      {"lab ferritin is measured", TestKind::kLabMeasured},
      {"lab ferritin is missing", TestKind::kLabMissing},
      {"derived homa_ir > 2.5", TestKind::kDerivedCompare},
      {"derived homa_ir is high", TestKind::kDerivedStatus},
      {"flux serotonin.synthesis < 0.8", TestKind::kFluxCompare},
      {"flux serotonin.synthesis is assumed", TestKind::kFluxAssumed},
      {"medication sertraline", TestKind::kMedication},
      {"medication class ssri", TestKind::kMedicationClass},
      {"condition hypothyroidism", TestKind::kCondition},
      {"supplement current iron_supplement", TestKind::kSupplementCurrent},
      {"supplement requested iron_supplement", TestKind::kSupplementRequested},
      {"sex is female", TestKind::kSex},
      {"age >= 18", TestKind::kAge},
      {"pregnant", TestKind::kPregnant},
      {"lactating", TestKind::kLactating},
      {"menopausal_status is postmenopausal", TestKind::kMenopausalStatus},
      {"lifestyle sleep_hours < 6", TestKind::kLifestyleCompare},
      {"lifestyle diet is vegan", TestKind::kLifestyleIs},
      {"stressor chronic_stress >= 2", TestKind::kStressorCompare},
      {"fact f >= 0.5", TestKind::kFact},
      {"driver iron_deficiency >= 0.5", TestKind::kDriver},
      {"deficit dopamine_synthesis", TestKind::kDeficit},
      {"alert suicide_risk_urgent", TestKind::kAlert},
      {"data_quality warning", TestKind::kDataQuality},
  };
  return tests;
}

TEST(RulesTestForms, EveryKindParsesFromText) {
  // A second rule derives fact f, so that `fact f` has a producer.
  const std::string producer = "rule p \"Producer\" cites who_2020 when age >= 0 then derive fact f end\n";
  std::set<TestKind> parsed;
  for (const auto& [text, kind] : GoodTests()) {
    SCOPED_TRACE(text);
    LoadResult result = LoadText(producer + OneRule(text));
    ASSERT_EQ(ErrorText(result), "");
    ASSERT_NE(result.rules, nullptr);
    for (const Rule& rule : result.rules->rules) {
      if (rule.id != "r") continue;
      EXPECT_EQ(LeafOf(rule.when).kind, kind);
      EXPECT_EQ(LeafOf(rule.when).source, text);
      parsed.insert(LeafOf(rule.when).kind);
    }
  }
  for (const TestForm& form : TestForms()) EXPECT_TRUE(parsed.count(form.kind)) << form.keyword << " " << form.words;
}

struct BadTest {
  const char* text;
  std::string error;  // the first error's first line
};

const std::vector<BadTest>& BadTests() {
  static const std::vector<BadTest> tests = {
      {"symptom",
       "rules/t.rules:4:8: expected a comparison, 'present' or 'absent' after 'symptom then', got 'derive'"},
      {"symptom low_mood",
       "rules/t.rules:4:3: expected a comparison, 'present' or 'absent' after 'symptom low_mood', got 'then'"},
      {"symptom low_mood >= x",
       "rules/t.rules:3:28: expected a number after '>=', got 'x'"},
      {"questionnaire phq9",
       "rules/t.rules:4:3: expected 'total', 'item', 'band' or 'is' after 'questionnaire phq9', got 'then'"},
      {"questionnaire phq9 total",
       "rules/t.rules:4:3: expected a comparison (<, <=, >, >=, =, !=) after 'questionnaire phq9' total, got 'then'"},
      {"questionnaire phq9 item 0 >= 1",
       "rules/t.rules:3:32: expected a whole number of at least 1 after 'item', got 0"},
      {"questionnaire phq9 item 2 x",
       "rules/t.rules:3:34: expected a comparison (<, <=, >, >=, =, !=) after 'item 2', got 'x'"},
      {"questionnaire phq9 band moderate",
       "rules/t.rules:3:32: expected 'is' after 'band', got 'moderate'"},
      {"questionnaire phq9 band is 3",
       "rules/t.rules:3:35: expected a band label after 'band is', got '3'"},
      {"questionnaire phq9 is positve",
       "rules/t.rules:3:30: unknown questionnaire result 'positve' (did you mean 'positive'?)"},
      {"questionnaire phq9 is 3",
       "rules/t.rules:3:30: expected positive or negative after 'is', got '3'"},
      {"lab ferritin is lo",
       "rules/t.rules:3:24: unknown lab status 'lo' (did you mean 'low'?)"},
      {"lab ferritin is",
       "rules/t.rules:4:3: unknown lab status 'then' (expected low, normal, high, abnormal, critical, below_optimal, optimal, above_optimal, below_limit, above_limit, measured or missing)"},
      {"lab ferritin",
       "rules/t.rules:4:3: expected 'is' or a comparison after 'lab ferritin', got 'then'"},
      {"lab ferritin < 30",
       "rules/t.rules:4:3: expected a unit after 30, got 'then'"},
      {"derived homa_ir is elevated",
       "rules/t.rules:3:27: unknown derived status 'elevated' (expected low, normal or high)"},
      {"derived homa_ir",
       "rules/t.rules:4:3: expected 'is' or a comparison after 'derived homa_ir', got 'then'"},
      {"flux serotonin synthesis",
       "rules/t.rules:3:23: expected '.' after 'flux serotonin' (flux indices read PATHWAY.INDEX, e.g. serotonin.synthesis), got 'synthesis'"},
      {"flux serotonin.",
       "rules/t.rules:4:8: expected 'is assumed' or a comparison after 'flux serotonin.then', got 'derive'"},
      {"flux serotonin.synthesis is low",
       "rules/t.rules:3:36: unknown flux status 'low' (expected assumed)"},
      {"flux serotonin.synthesis",
       "rules/t.rules:4:3: expected 'is assumed' or a comparison after 'flux serotonin.synthesis', got 'then'"},
      {"medication",
       "rules/t.rules:4:8: expected 'then' after the conditions, got 'derive'"},
      {"medication class",
       "rules/t.rules:4:8: expected 'then' after the conditions, got 'derive'"},
      {"condition 3",
       "rules/t.rules:3:18: expected a condition id after 'condition', got '3'"},
      {"supplement iron_supplement",
       "rules/t.rules:3:19: unknown supplement status 'iron_supplement' (expected current or requested)"},
      {"supplement",
       "rules/t.rules:4:3: unknown supplement status 'then' (expected current or requested)"},
      {"supplement current",
       "rules/t.rules:4:8: expected 'then' after the conditions, got 'derive'"},
      {"sex female",
       "rules/t.rules:3:12: expected 'is' after 'sex', got 'female'"},
      {"sex is other",
       "rules/t.rules:3:15: unknown sex 'other' (expected female or male)"},
      {"sex",
       "rules/t.rules:4:3: expected 'is' after 'sex', got 'then'"},
      {"age 30",
       "rules/t.rules:3:12: expected a comparison (<, <=, >, >=, =, !=) after 'age', got '30'"},
      {"menopausal_status postmenopausal",
       "rules/t.rules:3:26: expected 'is' after 'menopausal_status', got 'postmenopausal'"},
      {"menopausal_status is post",
       "rules/t.rules:3:29: unknown menopausal status 'post' (did you mean 'postmenopausal'?)"},
      {"lifestyle diet is",
       "rules/t.rules:4:8: expected 'then' after the conditions, got 'derive'"},
      {"lifestyle diet",
       "rules/t.rules:4:3: expected 'is' or a comparison after 'lifestyle diet', got 'then'"},
      {"stressor chronic_stress",
       "rules/t.rules:4:3: expected a comparison (<, <=, >, >=, =, !=) after 'stressor chronic_stress', got 'then'"},
      {"fact",
       "rules/t.rules:4:8: expected 'then' after the conditions, got 'derive'"},
      {"fact f >= x",
       "rules/t.rules:3:18: expected a number after '>=', got 'x'"},
      {"driver",
       "rules/t.rules:4:8: expected 'then' after the conditions, got 'derive'"},
      {"deficit d >",
       "rules/t.rules:4:3: expected a number after '>', got 'then'"},
      {"alert",
       "rules/t.rules:4:8: expected 'then' after the conditions, got 'derive'"},
      {"data_quality",
       "rules/t.rules:4:3: unknown data-quality severity 'then' (expected error or warning)"},
      {"data_quality severe",
       "rules/t.rules:3:21: unknown data-quality severity 'severe' (expected error or warning)"},
      {"symptom >= 2",
       "rules/t.rules:3:16: expected a symptom id after 'symptom', got '>='"},
      {"questionnaire 3",
       "rules/t.rules:3:22: expected a questionnaire id after 'questionnaire', got '3'"},
      {"lab 3",
       "rules/t.rules:3:12: expected a lab id after 'lab', got '3'"},
      {"derived 3",
       "rules/t.rules:3:16: expected a derived index after 'derived', got '3'"},
      {"flux 3",
       "rules/t.rules:3:13: expected a flux index such as serotonin.synthesis after 'flux', got '3'"},
      {"flux serotonin.3",
       "rules/t.rules:3:23: expected an index name after 'serotonin.', got '3'"},
      {"medication >= 1",
       "rules/t.rules:3:19: expected a medication id or 'class' after 'medication', got '>='"},
      {"medication class 3",
       "rules/t.rules:3:25: expected a medication class id after 'medication class', got '3'"},
      {"supplement current 3",
       "rules/t.rules:3:27: expected a strategy id after 'supplement current', got '3'"},
      {"lifestyle 3",
       "rules/t.rules:3:18: expected a lifestyle factor after 'lifestyle', got '3'"},
      {"lifestyle diet is 3",
       "rules/t.rules:3:26: expected a value (true, false or an enum value) after 'is', got '3'"},
      {"stressor 3",
       "rules/t.rules:3:17: expected a stressor id after 'stressor', got '3'"},
      {"fact 3",
       "rules/t.rules:3:13: expected a fact id after 'fact', got '3'"},
      {"driver 3",
       "rules/t.rules:3:15: expected a driver id after 'driver', got '3'"},
      {"deficit 3",
       "rules/t.rules:3:16: expected a deficit id after 'deficit', got '3'"},
      {"alert 3",
       "rules/t.rules:3:14: expected an alert id after 'alert', got '3'"},
      {"symtom low_mood present",
       "rules/t.rules:3:8: unknown condition 'symtom' (did you mean 'symptom'?)"},
      {"3",
       "rules/t.rules:3:8: expected a condition, got '3'"},
  };
  return tests;
}

TEST(RulesTestForms, EveryWrongTestReportsItsExactError) {
  for (const auto& [text, error] : BadTests()) {
    SCOPED_TRACE(text);
    LoadResult result = LoadText(OneRule(text));
    EXPECT_EQ(result.rules, nullptr);
    ASSERT_FALSE(result.errors.empty());
    std::string first = result.errors.front().ToString();
    EXPECT_EQ(first.substr(0, first.find('\n')), error);
  }
}

}  // namespace
}  // namespace nflux::rules
