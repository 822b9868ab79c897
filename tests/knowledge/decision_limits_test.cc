// Clinical decision limits apart from the laboratory reference interval (issue 10): the loader's
// checks of `decision_limits` and of an optimal range's `when`, the lab entry of a case (status
// from the reference, decision from the limit), the rule test `lab ID is below_limit`, its trace
// text, and the agreement of rules and flux model for every lab that measures a cofactor or
// precursor (iterated over the knowledge base, so a new lab is covered without a new test).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "case/case.h"
#include "flux/flux.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"
#include "real_knowledge.h"
#include "rules/rules.h"
#include "testutil.h"

namespace nflux {
namespace {

using nlohmann::json;
using knowledge::LimitSide;
using knowledge::NodeKind;

std::shared_ptr<const knowledge::KnowledgeBase> Kb() { return testing::RealKnowledge(); }

// ---- The loader -------------------------------------------------------------------------------

// The shipped knowledge files with knowledge/labs.json's ferritin node (node 0) changed by `mutate`;
// the problems the load reports.
std::vector<std::string> ProblemsWithFerritin(const std::function<void(json&)>& mutate) {
  auto files = knowledge::ReadKnowledgeDir(NFLUX_SOURCE_DIR "/knowledge");
  EXPECT_OK(files);
  std::vector<knowledge::SourceFile> sources = files.ok() ? *files : std::vector<knowledge::SourceFile>{};
  for (auto& file : sources) {
    if (!file.path.ends_with("/knowledge/labs.json")) continue;
    json document = json::parse(file.text);
    EXPECT_EQ("ferritin", document["nodes"][0]["id"]);
    mutate(document["nodes"][0]);
    file.text = document.dump(1);
  }
  std::vector<std::string> out;
  for (const auto& problem : knowledge::LoadKnowledge(sources).problems) {
    std::string text = problem.ToString();
    out.push_back(text.substr(text.find("labs.json")));  // from the file name on: the prefix is the checkout
  }
  return out;
}

json General30() {
  return {{"below", 30}, {"means", "iron_deficiency"}, {"label", "iron-deficiency limit"},
          {"citations", {"who_2020_ferritin"}}};
}

struct BadLimit {
  const char* name;
  std::function<void(json&)> mutate;
  std::vector<std::string> problems;
};

TEST(DecisionLimitLoader, ShippedKnowledgeLoads) { EXPECT_TRUE(ProblemsWithFerritin([](json&) {}).empty()); }

TEST(DecisionLimitLoader, ReportsEachProblemWithFileAndPath) {
  const std::vector<BadLimit> cases = {
      {"both sides",
       [](json& n) { n["decision_limits"][1]["above"] = 400; },
       {"labs.json:/nodes/0/decision_limits/1: a decision limit needs exactly one of 'below' and 'above'"}},
      {"no side",
       [](json& n) { n["decision_limits"][1].erase("below"); },
       {"labs.json:/nodes/0/decision_limits/1: a decision limit needs exactly one of 'below' and 'above'"}},
      {"sides mixed",
       [](json& n) { n["decision_limits"] = {General30(), General30()}; n["decision_limits"][1].erase("below"); n["decision_limits"][1]["above"] = 400; },
       {"labs.json:/nodes/0/decision_limits/1: every decision limit of a lab must be on one side ('below' like the first)"}},
      {"no citation",
       [](json& n) { n["decision_limits"][0].erase("citations"); },
       {"labs.json:/nodes/0/decision_limits/0/citations: a decision limit needs 'citations' (its source)"}},
      {"unknown citation",
       [](json& n) { n["decision_limits"][0]["citations"] = {"who_2020_feritin"}; },
       {"labs.json:/nodes/0/decision_limits/0/citations: unknown citation 'who_2020_feritin' (did you mean "
        "'who_2020_ferritin'?)"}},
      {"unknown lab in when",
       [](json& n) { n["decision_limits"][1]["when"][0]["lab"] = "hs_cpr"; },
       {"labs.json:/nodes/0/decision_limits/1/when/0: unknown lab 'hs_cpr' (did you mean 'hs_crp'?)"}},
      {"lab criterion without comparator",
       [](json& n) { n["decision_limits"][1]["when"][0].erase("above"); },
       {"labs.json:/nodes/0/decision_limits/1/when/0: a lab criterion needs 'above' or 'below' (canonical unit)"}},
      {"only conditional limits",
       [](json& n) { n["decision_limits"].erase(0); },
       {"labs.json:/nodes/0/decision_limits: no decision limit without 'when' applies to a female patient; add a "
        "general one (the conditional ones refine it)",
        "labs.json:/nodes/0/decision_limits: no decision limit without 'when' applies to a male patient; add a "
        "general one (the conditional ones refine it)"}},
      {"when on a reference range",
       [](json& n) { n["reference"][0]["when"] = json::array({{{"symptom", "restless_legs"}}}); },
       // A reference range with `when` never applies, so the coverage check fires as well.
       {"labs.json:/nodes/0/reference: no reference range applies to an 18-year-old female patient",
        "labs.json:/nodes/0/reference/0/when: 'when' is only for optimal ranges and decision limits; a reference "
        "range is the laboratory's"}},
      {"unknown symptom in an optimal range's when",
       [](json& n) { n["optimal"][0]["when"][0]["symptom"] = "restless_leg"; },
       {"labs.json:/nodes/0/optimal/0/when/0: unknown symptom 'restless_leg' (did you mean 'restless_legs', "
        "'restlessness'?)"}},
      {"unknown field",
       [](json& n) { n["decision_limits"][0]["lable"] = "x"; },
       {"labs.json:/nodes/0/decision_limits/0/lable: unknown field 'lable' (did you mean 'label'?)"}},
  };
  for (const auto& c : cases) EXPECT_EQ(c.problems, ProblemsWithFerritin(c.mutate)) << c.name;
}

// ---- The case's lab entry ---------------------------------------------------------------------

casefile::Case Parse(const std::string& body, const char* sex = "female") {
  std::string text = std::string(R"({"patient": {"sex": ")") + sex + R"(", "age_years": 35}})";
  if (!body.empty()) text.insert(text.size() - 1, ", " + body);
  auto parsed = casefile::ParseCase(text, *Kb(), {});
  EXPECT_OK(parsed);
  return parsed.ok() ? *parsed : casefile::Case{};
}

TEST(DecisionLimitCase, Ferritin18InAWomanIsNormalButBelowTheLimit) {
  casefile::Case c = Parse(R"("labs": [{"test": "ferritin", "value": 18, "unit": "ng/mL"}])");
  const casefile::LabResult* lab = c.Lab("ferritin");
  ASSERT_NE(nullptr, lab);
  EXPECT_EQ(casefile::LabStatus::kNormal, lab->status);  // the laboratory range 15-150
  ASSERT_TRUE(lab->decision);
  EXPECT_TRUE(lab->decision->beyond);
  EXPECT_EQ(30, lab->decision->limit);
  json entry = casefile::LabsToJson(c)[0];
  EXPECT_EQ("normal", entry["status"]);
  EXPECT_EQ("below", entry["decision"]["status"]);
  EXPECT_EQ(30, entry["decision"]["limit"]);
  EXPECT_EQ("iron-deficiency limit", entry["decision"]["label"]);
  EXPECT_EQ("camaschella_2015_iron_deficiency", entry["decision"]["citation"]);
}

TEST(DecisionLimitCase, Ferritin40IsWithinTheLimitWithoutInflammation) {
  casefile::Case c = Parse(R"("labs": [{"test": "ferritin", "value": 40, "unit": "ng/mL"},
                                       {"test": "hs_crp", "value": 1.2, "unit": "mg/L"}])");
  ASSERT_TRUE(c.Lab("ferritin")->decision);
  EXPECT_FALSE(c.Lab("ferritin")->decision->beyond);
  EXPECT_EQ(30, c.Lab("ferritin")->decision->limit);
  EXPECT_EQ("within", casefile::LabsToJson(c)[0]["decision"]["status"]);
}

TEST(DecisionLimitCase, Ferritin40WithCrp12IsBelowTheInflammationLimit) {
  casefile::Case c = Parse(R"("labs": [{"test": "ferritin", "value": 40, "unit": "ng/mL"},
                                       {"test": "hs_crp", "value": 12, "unit": "mg/L"}])");
  const casefile::LabResult* lab = c.Lab("ferritin");
  ASSERT_TRUE(lab->decision);
  EXPECT_EQ(70, lab->decision->limit);
  EXPECT_TRUE(lab->decision->beyond);
  const std::vector<std::string> who = {"who_2020_ferritin", "dignass_2015_ibd_anaemia"};
  EXPECT_EQ(who, lab->decision->citations);
}

TEST(DecisionLimitCase, AnaemiaRaisesTheLimitTo45ForEachSex) {
  casefile::Case woman = Parse(R"("labs": [{"test": "ferritin", "value": 40, "unit": "ng/mL"},
                                           {"test": "hemoglobin", "value": 11.2, "unit": "g/dL"}])");
  EXPECT_EQ(45, woman.Lab("ferritin")->decision->limit);
  casefile::Case man = Parse(R"("labs": [{"test": "ferritin", "value": 40, "unit": "ng/mL"},
                                         {"test": "hemoglobin", "value": 12.5, "unit": "g/dL"}])", "male");
  EXPECT_EQ(45, man.Lab("ferritin")->decision->limit);
  EXPECT_EQ(casefile::LabStatus::kNormal, man.Lab("ferritin")->status);  // male range 30-400
  casefile::Case woman_hb_normal = Parse(R"("labs": [{"test": "ferritin", "value": 40, "unit": "ng/mL"},
                                                     {"test": "hemoglobin", "value": 12.5, "unit": "g/dL"}])");
  EXPECT_EQ(30, woman_hb_normal.Lab("ferritin")->decision->limit);
}

TEST(DecisionLimitCase, ZincLimitsAreSexSpecific) {
  EXPECT_EQ(70, Parse(R"("labs": [{"test": "zinc", "value": 72, "unit": "ug/dL"}])").Lab("zinc")->decision->limit);
  casefile::Case man = Parse(R"("labs": [{"test": "zinc", "value": 72, "unit": "ug/dL"}])", "male");
  EXPECT_EQ(74, man.Lab("zinc")->decision->limit);
  EXPECT_TRUE(man.Lab("zinc")->decision->beyond);
}

TEST(DecisionLimitCase, FerritinOptimumOnlyWithRestlessLegs) {
  casefile::Case without = Parse(R"("labs": [{"test": "ferritin", "value": 60, "unit": "ng/mL"}])");
  EXPECT_FALSE(without.Lab("ferritin")->has_optimal);
  EXPECT_FALSE(casefile::LabsToJson(without)[0].contains("optimal"));
  casefile::Case with = Parse(R"("symptoms": {"restless_legs": 2},
                                 "labs": [{"test": "ferritin", "value": 60, "unit": "ng/mL"}])");
  const casefile::LabResult* lab = with.Lab("ferritin");
  ASSERT_TRUE(lab->has_optimal);
  EXPECT_EQ(75, lab->optimal_low);
  EXPECT_EQ(casefile::OptimalStatus::kLow, lab->optimal_status);
}

TEST(DecisionLimitCase, VitaminDHasNoOptimumFromTheSupersededTarget) {
  casefile::Case c = Parse(R"("labs": [{"test": "vitamin_d_25oh", "value": 25, "unit": "ng/mL"}])");
  EXPECT_FALSE(c.Lab("vitamin_d_25oh")->has_optimal);
  EXPECT_EQ(20, c.Lab("vitamin_d_25oh")->decision->limit);
  EXPECT_FALSE(c.Lab("vitamin_d_25oh")->decision->beyond);
}

TEST(DecisionLimitCase, NewAndCorrectedLabsParseByLoinc) {
  casefile::Case c = Parse(R"("labs": [{"loinc": "51844-9", "value": 12, "unit": "nmol/L", "collection_time": "23:30"},
                                       {"loinc": "2641-9", "value": 15, "unit": "nmol/L"},
                                       {"loinc": "2597-3", "value": 2.2, "unit": "mmol/L"}])");
  ASSERT_EQ(3u, c.labs.size());
  EXPECT_EQ("cortisol_saliva_late_night", c.labs[0].test);
  EXPECT_EQ(casefile::LabStatus::kHigh, c.labs[0].status);
  EXPECT_EQ("vitamin_b6_plp", c.labs[1].test);
  EXPECT_TRUE(c.labs[1].decision && c.labs[1].decision->beyond);
  EXPECT_EQ("magnesium_rbc", c.labs[2].test);
  EXPECT_NEAR(5.348, *c.labs[2].value, 0.01);  // mg/dL through the molar mass
  // The whole-blood PLP code is no longer taken for the plasma test.
  auto whole_blood = casefile::ParseCase(
      R"({"patient": {"sex": "female", "age_years": 35}, "labs": [{"loinc": "74442-5", "value": 15, "unit": "nmol/L"}]})",
      *Kb(), {});
  EXPECT_FALSE(whole_blood.ok());
}

TEST(DecisionLimitCase, EveningSerumCortisolByTestId) {
  casefile::Case c = Parse(R"("labs": [{"test": "cortisol_serum_evening", "value": 9.1, "unit": "ug/dL"}])");
  EXPECT_EQ(casefile::LabStatus::kHigh, c.Lab("cortisol_serum_evening")->status);
  EXPECT_EQ("", c.Lab("cortisol_serum_evening")->loinc);
}

// ---- Rules: the test form, its checks and its trace text ---------------------------------------

rules::LoadResult LoadRuleText(const std::string& text) { return rules::LoadRules({{"t.rules", text}}, *Kb()); }

TEST(DecisionLimitRules, CheckerNeedsALimitOnThatSide) {
  auto no_limit = LoadRuleText(
      "rule a \"a\"\n  cites tietz_2018\n  when lab tsh is below_limit\n  then derive fact x\nend\n");
  ASSERT_EQ(1u, no_limit.errors.size());
  EXPECT_NE(std::string::npos, no_limit.errors[0].ToString().find(
                                   "t.rules:3:19: lab 'tsh' has no decision limit in the knowledge base, so "
                                   "'below_limit' is never decided"));
  auto wrong_side = LoadRuleText(
      "rule a \"a\"\n  cites tietz_2018\n  when lab homocysteine is below_limit\n  then derive fact x\nend\n");
  ASSERT_EQ(1u, wrong_side.errors.size());
  EXPECT_NE(std::string::npos, wrong_side.errors[0].ToString().find(
                                   "lab 'homocysteine''s decision limits are 'above' limits; write 'above_limit'"));
}

// The rule `lab LAB is WORD` on a case: its truth and what its trace says the lab was.
struct RuleOutcome {
  inference::Truth truth = inference::Truth::kUnknown;
  std::string actual;
};

RuleOutcome RunTest(const std::string& lab, const std::string& word, const casefile::Case& c) {
  auto loaded = LoadRuleText("rule probe \"probe\"\n  cites tietz_2018\n  when lab " + lab + " is " + word +
                             "\n  then derive fact probe_held\nend\n");
  EXPECT_TRUE(loaded.errors.empty()) << (loaded.errors.empty() ? "" : loaded.errors[0].ToString());
  if (!loaded.errors.empty()) return {};
  inference::Engine engine(loaded.rules, Kb());
  inference::EvaluateOptions options;
  options.use_index = false;  // every rule on the agenda, so a false or unknown test is traced too
  inference::Evaluation evaluation = engine.Evaluate(c, {}, options);
  for (const auto& rule : evaluation.trace.rules)
    if (rule.rule == "probe" && !rule.tests.empty()) return {rule.tests[0].truth, rule.tests[0].Actual()};
  return {};
}

TEST(DecisionLimitRules, TraceSaysRangeAndLimitWithItsSource) {
  casefile::Case c = Parse(R"("labs": [{"test": "ferritin", "value": 18, "unit": "ng/mL"}])");
  RuleOutcome outcome = RunTest("ferritin", "below_limit", c);
  EXPECT_EQ(inference::Truth::kTrue, outcome.truth);
  EXPECT_EQ("ferritin 18 ng/mL: within the laboratory range 15-150, below the iron-deficiency limit 30 "
            "[camaschella_2015_iron_deficiency]",
            outcome.actual);
  EXPECT_EQ(inference::Truth::kFalse, RunTest("ferritin", "low", c).truth);
  EXPECT_EQ(inference::Truth::kUnknown, RunTest("ferritin", "below_limit", Parse("")).truth);
}

// ---- Rules and flux model agree, lab by lab ----------------------------------------------------

const flux::Model& TheModel() {
  static std::shared_ptr<const flux::Model> model = [] {
    auto built = flux::Model::Build(Kb());
    EXPECT_OK(built);
    return built.ok() ? *built : nullptr;
  }();
  return *model;
}

// The sufficiency the model gives `node` from a case: 1 unless a lab input sets it lower.
double Sufficiency(const casefile::Case& c, const std::string& node) {
  auto result = TheModel().Compute(c, {});
  EXPECT_OK(result);
  if (!result.ok()) return 1;
  for (const auto& input : result->inputs)
    if (input.node == node && input.id.rfind("lab:", 0) == 0) return std::exp(input.value);
  return 1;
}

casefile::Case OneLab(const knowledge::Node& lab, double value) {
  json labs = json::array({{{"test", lab.id}, {"value", value}, {"unit", lab.lab->analyte.canonical_unit}}});
  return Parse("\"labs\": " + labs.dump());
}

// Every (lab, cofactor-or-precursor node, sign) that a measured_by edge names.
struct Measure {
  const knowledge::Node* lab;
  std::string node;
  int sign;
};

std::vector<Measure> CofactorMeasures() {
  std::vector<Measure> out;
  for (const auto& edge : Kb()->edges()) {
    if (edge.type != knowledge::EdgeType::kMeasuredBy) continue;
    const knowledge::Node* from = Kb()->Find(edge.from);
    if (from->kind != NodeKind::kCofactor && from->kind != NodeKind::kPrecursor) continue;
    out.push_back({Kb()->Find(edge.to), edge.from, edge.sign});
  }
  return out;
}

TEST(DecisionLimitAgreement, EveryCofactorLabAgreesWithItsRule) {
  const std::vector<Measure> measures = CofactorMeasures();
  ASSERT_GE(measures.size(), 15u);
  int with_limit = 0;
  for (const Measure& m : measures) {
    SCOPED_TRACE(m.lab->id + " -> " + m.node);
    const knowledge::Lab& lab = *m.lab->lab;
    // A 35-year-old woman with no other data: the general limit (or, without one, the reference).
    const knowledge::Patient patient{Sex::kFemale, 35, false};
    const knowledge::DecisionLimit* limit = lab.LimitFor(patient, [](const knowledge::Criterion&) { return false; });
    double bound = 0;
    std::string word;
    if (limit) {
      ++with_limit;
      // The limit's side is the deficient side for this node.
      ASSERT_EQ(m.sign > 0 ? LimitSide::kBelow : LimitSide::kAbove, limit->side);
      bound = limit->value;
      word = m.sign > 0 ? "below_limit" : "above_limit";
    } else {
      const knowledge::LabRange* range = lab.ReferenceFor(patient);
      ASSERT_NE(nullptr, range);
      ASSERT_TRUE(m.sign > 0 ? range->low.has_value() : range->high.has_value());
      bound = m.sign > 0 ? *range->low : *range->high;
      word = m.sign > 0 ? "low" : "high";
    }
    const double beyond = m.sign > 0 ? bound * 0.98 : bound * 1.02;
    const casefile::Case deficient = OneLab(*m.lab, beyond), at_bound = OneLab(*m.lab, bound);
    EXPECT_LT(Sufficiency(deficient, m.node), 1.0);
    EXPECT_EQ(inference::Truth::kTrue, RunTest(m.lab->id, word, deficient).truth);
    EXPECT_EQ(1.0, Sufficiency(at_bound, m.node));
    EXPECT_EQ(inference::Truth::kFalse, RunTest(m.lab->id, word, at_bound).truth);
  }
  EXPECT_GE(with_limit, 11);
}

TEST(DecisionLimitAgreement, FerritinIronSufficiencyFollowsTheLimit) {
  auto ferritin = [](double value) {
    return Parse("\"labs\": [{\"test\": \"ferritin\", \"value\": " + std::to_string(value) + ", \"unit\": \"ng/mL\"}]");
  };
  EXPECT_NEAR(0.769, Sufficiency(ferritin(12), "iron"), 0.001);  // 12/30 through the saturating map
  EXPECT_LT(Sufficiency(ferritin(18), "iron"), 0.9);              // within the female range, below the limit
  EXPECT_LT(Sufficiency(ferritin(29), "iron"), 1.0);
  EXPECT_EQ(1.0, Sufficiency(ferritin(30), "iron"));
  casefile::Case inflamed = Parse(R"("labs": [{"test": "ferritin", "value": 40, "unit": "ng/mL"},
                                              {"test": "hs_crp", "value": 12, "unit": "mg/L"}])");
  EXPECT_LT(Sufficiency(inflamed, "iron"), 1.0);
}

}  // namespace
}  // namespace nflux
