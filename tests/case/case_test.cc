// Tests for engine/case: parsing and validating case JSON against the real knowledge base.
// Table-driven: good cases with what they must yield, bad cases with their exact errors (path
// first), and value problems with the data-quality entry each must produce.

#include "case/case.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/text.h"
#include "knowledge/knowledge.h"
#include "real_knowledge.h"
#include "testutil.h"

namespace nflux::casefile {
namespace {

using nflux::testing::RealKb;

// A case with the required patient fields (female, 44) and `rest` (more top-level fields).
std::string CaseWith(const std::string& rest) {
  std::string text = R"({"patient": {"sex": "female", "age_years": 44})";
  if (!rest.empty()) {
    text += ", ";
    text += rest;
  }
  text += "}";
  return text;
}

Result<Case> Parse(const std::string& text, bool strict = false) {
  return ParseCase(text, RealKb(), ParseOptions{strict, "case.json"});
}

std::string ExampleText(const char* name) {
  Result<std::string> text = ReadFileToString(std::string(NFLUX_SOURCE_DIR "/examples/") + name);
  EXPECT_TRUE(text.ok()) << text.status().message();
  return text.ok() ? *text : std::string();
}

// ---- The contract's example ------------------------------------------------------------------

TEST(CaseParse, ContractExample) {
  Result<Case> parsed = Parse(ExampleText("perimenopause.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const Case& c = *parsed;
  EXPECT_EQ("clinic-2026-0142", c.case_id);
  EXPECT_EQ(Sex::kFemale, c.patient.sex);
  EXPECT_EQ(44, c.patient.age_years);
  EXPECT_EQ(std::optional<bool>(false), c.patient.pregnant);
  EXPECT_FALSE(c.patient.gestational_age_weeks);  // null: not known
  EXPECT_EQ(std::optional<std::string>("perimenopausal"), c.patient.menopausal_status);
  EXPECT_EQ(std::optional<int>(3), c.Symptom("insomnia_maintenance"));
  EXPECT_FALSE(c.Symptom("anhedonia"));

  // Labs: input order; B12 named by LOINC and converted from pmol/L (x 1.3554).
  ASSERT_EQ(3u, c.labs.size());
  const LabResult& ferritin = c.labs[0];
  EXPECT_EQ("ferritin", ferritin.test);
  EXPECT_EQ(18, *ferritin.value);
  EXPECT_EQ("2026-11-02", ferritin.date);
  // The knowledge base's female reference range is 15-150 ng/mL, so 18 is "normal"; it is below
  // the cited iron-deficiency decision limit of 30. The restless-legs optimum (>= 75) applies only
  // with restless legs, which this case does not report.
  EXPECT_EQ(LabStatus::kNormal, ferritin.status);
  EXPECT_EQ(std::optional<double>(15), ferritin.reference_low);
  ASSERT_TRUE(ferritin.decision);
  EXPECT_TRUE(ferritin.decision->beyond);
  EXPECT_EQ(30, ferritin.decision->limit);
  EXPECT_FALSE(ferritin.has_optimal);
  EXPECT_EQ(OptimalStatus::kUnknown, ferritin.optimal_status);
  const LabResult& b12 = c.labs[1];
  EXPECT_EQ("vitamin_b12", b12.test);
  EXPECT_EQ("2132-9", b12.loinc);
  EXPECT_NEAR(176.2, *b12.value, 0.05);
  EXPECT_EQ("pg/mL", b12.unit);
  EXPECT_EQ(LabStatus::kLow, b12.status);
  EXPECT_EQ(OptimalStatus::kLow, b12.optimal_status);
  EXPECT_TRUE(b12.used);
  EXPECT_EQ("08:30", c.labs[2].collection_time);
  EXPECT_EQ(&c.labs[1], c.Lab("vitamin_b12"));

  // Questionnaires: PHQ-9 from items with its band; PSS-10 with items 4, 5, 7, 8 reversed
  // (raw sum 23, scored 27).
  const QuestionnaireResult* phq9 = c.Questionnaire("phq9");
  ASSERT_NE(nullptr, phq9);
  EXPECT_EQ(std::optional<int>(10), phq9->total);
  EXPECT_EQ("moderate", phq9->band);
  EXPECT_EQ(std::optional<bool>(true), phq9->positive);
  EXPECT_EQ(std::optional<int>(0), phq9->safety_item_value);
  EXPECT_EQ(std::optional<int>(0), c.QuestionnaireItem("phq9", 9));
  EXPECT_EQ(std::optional<int>(27), c.QuestionnaireTotal("pss10"));
  EXPECT_EQ("high", c.Questionnaire("pss10")->band);
  EXPECT_FALSE(c.Questionnaire("pss10")->positive);  // no cut-off in the knowledge base
  EXPECT_EQ(std::optional<int>(9), c.QuestionnaireTotal("gad7"));
  EXPECT_EQ("mild", c.Questionnaire("gad7")->band);
  EXPECT_EQ(std::optional<bool>(false), c.Questionnaire("gad7")->positive);

  // Medications by id and by class-level ATC code; classes from member_of edges.
  ASSERT_EQ(2u, c.medications.size());
  EXPECT_EQ("escitalopram", c.medications[0].id);
  EXPECT_EQ("10 mg daily", c.medications[0].dose);
  EXPECT_EQ("combined_oral_contraceptive", c.medications[1].id);
  EXPECT_TRUE(c.TakesMedication("combined_oral_contraceptive"));
  EXPECT_TRUE(c.TakesMedicationClass("ssri"));
  EXPECT_TRUE(c.TakesMedicationClass("estrogen"));
  EXPECT_FALSE(c.TakesMedicationClass("maoi"));

  EXPECT_TRUE(c.HasCondition("hypothyroidism"));
  EXPECT_TRUE(c.HasCondition("gerd"));
  EXPECT_TRUE(c.TakesSupplement("cofactor_magnesium"));
  EXPECT_TRUE(c.RequestsSupplement("precursor_5htp"));
  EXPECT_EQ(std::optional<double>(6), c.LifestyleNumber("sleep_hours"));
  EXPECT_EQ(std::optional<bool>(false), c.LifestyleBool("shift_work"));
  EXPECT_EQ(std::optional<std::string>("omnivore"), c.LifestyleText("diet"));
  EXPECT_FALSE(c.LifestyleNumber("protein_g_per_day"));
  EXPECT_EQ(std::optional<int>(3), c.Stressor("caregiving_load"));
  EXPECT_TRUE(c.data_quality.empty());
  EXPECT_FALSE(c.flags.data_quality_warning);
}

TEST(CaseParse, LabsJsonHasTheOutputShape) {
  Result<Case> parsed = Parse(ExampleText("perimenopause.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  nlohmann::json labs = LabsToJson(*parsed);
  nlohmann::json expected = nlohmann::json::parse(R"({
    "test": "vitamin_b12", "input": {"value": 130, "unit": "pmol/L"}, "value": 176.2, "unit": "pg/mL",
    "status": "low", "reference": {"low": 200, "high": 900}, "optimal_status": "low",
    "optimal": {"low": 300, "high": null}, "used": true,
    "decision": {"status": "below", "side": "below", "limit": 200, "label": "B12-deficiency limit",
                 "means": "b12_deficiency", "citation": "devalia_2014_b12",
                 "citations": ["devalia_2014_b12", "stabler_2013_b12"]}})");
  EXPECT_EQ(expected, labs[1]) << labs[1].dump();
  EXPECT_EQ("2026-11-02", labs[0]["date"]);
}

// ---- Good cases ------------------------------------------------------------------------------

struct GoodCase {
  const char* name;
  std::string json;
  std::function<void(const Case&)> check;
};

const GoodCase kGoodCases[] = {
    {"medication ATC exact and case-insensitive", CaseWith(R"("medications": [{"atc": "n06ab10"}])"),
     [](const Case& c) { EXPECT_EQ("escitalopram", c.medications.at(0).id); }},
    {"medication id and ATC agreeing", CaseWith(R"("medications": [{"id": "sertraline", "atc": "N06AB06"}])"),
     [](const Case& c) { EXPECT_EQ("sertraline", c.medications.at(0).id); }},
    {"escitalopram's classes: ssri and its parents", CaseWith(R"("medications": [{"id": "escitalopram"}])"),
     [](const Case& c) {
       EXPECT_EQ((std::vector<std::string>{"antidepressant", "serotonergic", "ssri"}), c.medications.at(0).classes);
       EXPECT_TRUE(c.medications_given);
     }},
    // A code no medication has, under a class's ATC group code: the code is the id, the classes
    // those of every group holding it, with their parents.
    {"ATC code under a class group", CaseWith(R"("medications": [{"atc": "n06ab99", "name": "new SSRI"}])"),
     [](const Case& c) {
       ASSERT_EQ(1u, c.medications.size());
       EXPECT_EQ("N06AB99", c.medications[0].id);
       EXPECT_EQ("N06AB99", c.medications[0].atc);
       EXPECT_EQ("new SSRI", c.medications[0].name);
       EXPECT_EQ((std::vector<std::string>{"antidepressant", "serotonergic", "ssri"}), c.medications[0].classes);
       EXPECT_TRUE(c.TakesMedicationClass("serotonergic"));
       EXPECT_TRUE(c.unknown_medications.empty());
       EXPECT_TRUE(c.data_quality.empty());
     }},
    {"class-level ATC code", CaseWith(R"("medications": [{"atc": "N06AB"}])"),
     [](const Case& c) { EXPECT_EQ((std::vector<std::string>{"antidepressant", "serotonergic", "ssri"}), c.medications.at(0).classes); }},
    {"iproniazide by code: a non-selective MAOI without a node", CaseWith(R"("medications": [{"atc": "N06AF05"}])"),
     [](const Case& c) {
       EXPECT_EQ((std::vector<std::string>{"antidepressant", "maoi", "maoi_nonselective", "serotonergic"}),
                 c.medications.at(0).classes);
     }},
    {"a combined contraceptive by code", CaseWith(R"("medications": [{"atc": "G03AA07"}])"),
     [](const Case& c) {
       EXPECT_EQ((std::vector<std::string>{"estrogen", "narrow_index_cyp3a4_pgp", "progestin"}), c.medications.at(0).classes);
     }},
    {"a code under a medication recorded with a class-level code", CaseWith(R"("medications": [{"id": "combined_oral_contraceptive", "atc": "G03AA07"}])"),
     [](const Case& c) { EXPECT_EQ("combined_oral_contraceptive", c.medications.at(0).id); }},
    {"a medication listed as a class counts as a class",
     CaseWith(R"("medications": [{"id": "carbidopa_levodopa"}])"),
     [](const Case& c) {
       EXPECT_TRUE(c.TakesMedicationClass("levodopa"));
       EXPECT_TRUE(c.TakesMedicationClass("decarboxylase_inhibitor"));
       EXPECT_FALSE(c.TakesMedication("levodopa"));
     }},
    {"an empty medication list is known to be empty", CaseWith(R"("medications": [])"),
     [](const Case& c) {
       EXPECT_TRUE(c.medications_given);
       EXPECT_FALSE(c.conditions_given);
     }},
    {"ICD-10 in a range", CaseWith(R"("conditions": [{"icd10": "F32.1"}, {"icd10": "F33"}])"),
     [](const Case& c) {
       EXPECT_EQ("major_depressive_disorder", c.conditions.at(0).id);
       EXPECT_EQ("major_depressive_disorder", c.conditions.at(1).id);
       EXPECT_EQ("F32.1", c.conditions.at(0).icd10);
     }},
    {"ICD-10 subcode of a category", CaseWith(R"("conditions": [{"icd10": "K21.9"}, {"icd10": "e83.11"}])"),
     [](const Case& c) {
       EXPECT_EQ("gerd", c.conditions.at(0).id);
       EXPECT_EQ("hemochromatosis", c.conditions.at(1).id);
     }},
    {"stressor that is a condition node", CaseWith(R"("stressors": {"chronic_pain": 2})"),
     [](const Case& c) { EXPECT_EQ(std::optional<int>(2), c.Stressor("chronic_pain")); }},
    {"total and safety item without items",
     CaseWith(R"("questionnaires": {"phq9": {"total": 12, "item9": 1}, "epds": {"total": 14, "item10": 0}})"),
     [](const Case& c) {
       EXPECT_EQ(std::optional<int>(12), c.QuestionnaireTotal("phq9"));
       EXPECT_EQ(std::optional<int>(1), c.QuestionnaireItem("phq9", 9));
       EXPECT_FALSE(c.QuestionnaireItem("phq9", 1));
       EXPECT_EQ("probable_depression", c.Questionnaire("epds")->band);
       EXPECT_EQ(std::optional<int>(0), c.QuestionnaireItem("epds", 10));
     }},
    {"MDQ result", CaseWith(R"("questionnaires": {"mdq": {"result": "positive"}})"),
     [](const Case& c) {
       EXPECT_EQ("positive", c.Questionnaire("mdq")->result);
       EXPECT_EQ(std::optional<bool>(true), c.Questionnaire("mdq")->positive);
     }},
    {"AUDIT-C positive at 3 for women", CaseWith(R"("questionnaires": {"audit_c": {"items": [1, 1, 1]}})"),
     [](const Case& c) { EXPECT_EQ(std::optional<bool>(true), c.Questionnaire("audit_c")->positive); }},
    {"AUDIT-C 3 is negative for men (the cut-off per sex is knowledge data)",
     R"({"patient": {"sex": "male", "age_years": 44}, "questionnaires": {"audit_c": {"items": [1, 1, 1]}}})",
     [](const Case& c) { EXPECT_EQ(std::optional<bool>(false), c.Questionnaire("audit_c")->positive); }},
    {"AUDIT-C 4 is positive for men",
     R"({"patient": {"sex": "male", "age_years": 44}, "questionnaires": {"audit_c": {"items": [2, 1, 1]}}})",
     [](const Case& c) { EXPECT_EQ(std::optional<bool>(true), c.Questionnaire("audit_c")->positive); }},
    {"HOMA-IR above the knowledge base's 2.5 is high",
     CaseWith(R"("labs": [{"test": "glucose_fasting", "value": 5, "unit": "mmol/L"},
                          {"test": "insulin_fasting", "value": 12, "unit": "u[IU]/mL"}])"),
     [](const Case& c) {
       ASSERT_EQ(1u, c.derived.size());
       EXPECT_EQ("homa_ir", c.derived[0].id);
       EXPECT_NEAR(5.0 * 12 / 22.5, c.derived[0].value, 1e-9);  // 2.67
       EXPECT_EQ("high", c.derived[0].status);
       EXPECT_EQ((std::vector<std::string>{"glucose_fasting", "insulin_fasting"}), c.derived[0].from);
     }},
    {"HOMA-IR at 2.4 is normal",
     CaseWith(R"("labs": [{"test": "glucose_fasting", "value": 5, "unit": "mmol/L"},
                          {"test": "insulin_fasting", "value": 10.8, "unit": "u[IU]/mL"}])"),
     [](const Case& c) {
       ASSERT_EQ(1u, c.derived.size());
       EXPECT_EQ("normal", c.derived[0].status);
     }},
    {"null means not known", CaseWith(R"("symptoms": {"low_mood": null}, "lifestyle": {"diet": null}, "labs": null)"),
     [](const Case& c) {
       EXPECT_FALSE(c.Symptom("low_mood"));
       EXPECT_FALSE(c.LifestyleText("diet"));
       EXPECT_TRUE(c.labs.empty());
     }},
    {"unit spellings normalised", CaseWith(R"("labs": [{"test": "serum_iron", "value": 80, "unit": "mcg/dl"},
                                                        {"test": "tsh", "value": 2.5, "unit": "uIU/mL"}])"),
     [](const Case& c) {
       EXPECT_EQ(80, *c.Lab("serum_iron")->value);
       EXPECT_EQ(2.5, *c.Lab("tsh")->value);
       EXPECT_EQ("m[IU]/L", c.Lab("tsh")->unit);
     }},
    {"pregnancy-specific range", R"({"patient": {"sex": "female", "age_years": 30, "pregnant": true},
                                     "labs": [{"test": "tsh", "value": 4.2, "unit": "mIU/L"}]})",
     [](const Case& c) {
       EXPECT_EQ(LabStatus::kHigh, c.labs.at(0).status);
       EXPECT_EQ(std::optional<double>(4.0), c.labs.at(0).reference_high);
     }},
    {"most recent result by date", CaseWith(R"("labs": [{"test": "ferritin", "value": 40, "unit": "ng/mL", "date": "2026-03-01"},
                                                          {"test": "ferritin", "value": 20, "unit": "ng/mL", "date": "2026-01-01"},
                                                          {"test": "ferritin", "value": 25, "unit": "ng/mL"}])"),
     [](const Case& c) {
       EXPECT_EQ(&c.labs[0], c.Lab("ferritin"));
       EXPECT_TRUE(c.data_quality.empty());  // different dates: a series, not a contradiction
     }},
    {"last result without dates; agreeing after conversion",
     CaseWith(R"("labs": [{"test": "vitamin_b12", "value": 130, "unit": "pmol/L"},
                          {"test": "vitamin_b12", "value": 178, "unit": "pg/mL"}])"),
     [](const Case& c) {
       EXPECT_EQ(&c.labs[1], c.Lab("vitamin_b12"));
       EXPECT_TRUE(c.data_quality.empty());
     }},
    {"HOMA-IR", CaseWith(R"("labs": [{"test": "glucose_fasting", "value": 108, "unit": "mg/dL"},
                                      {"test": "insulin_fasting", "value": 12, "unit": "uIU/mL"}])"),
     [](const Case& c) {
       const DerivedIndex* homa = c.Derived("homa_ir");
       ASSERT_NE(nullptr, homa);
       EXPECT_NEAR(108 / 18.016 * 12 / 22.5, homa->value, 1e-3);  // 3.197
       EXPECT_EQ("high", homa->status);
       EXPECT_EQ((std::vector<std::string>{"glucose_fasting", "insulin_fasting"}), homa->from);
       EXPECT_EQ(nlohmann::json::parse(R"([{"id": "homa_ir", "value": 3.197, "unit": "1",
                   "from": ["glucose_fasting", "insulin_fasting"], "status": "high"}])"),
                 DerivedToJson(c));
     }},
    {"kynurenine/tryptophan ratio", CaseWith(R"("labs": [{"test": "kynurenine_plasma", "value": 2.4, "unit": "umol/L"},
                                                          {"test": "tryptophan_plasma", "value": 60000, "unit": "nmol/L"}])"),
     [](const Case& c) {
       const DerivedIndex* ratio = c.Derived("kyn_trp_ratio");
       ASSERT_NE(nullptr, ratio);
       EXPECT_NEAR(40, ratio->value, 1e-9);
       EXPECT_EQ("umol/mmol", ratio->unit);
       EXPECT_EQ("normal", ratio->status);  // high only above 40
     }},
    {"no derived index without both inputs", CaseWith(R"("labs": [{"test": "glucose_fasting", "value": 90, "unit": "mg/dL"}])"),
     [](const Case& c) { EXPECT_TRUE(c.derived.empty()); }},
    {"extra kept", CaseWith(R"("extra": {"clinic": "north", "notes": [1, 2]})"),
     [](const Case& c) { EXPECT_EQ("north", c.extra["clinic"]); }},
};

TEST(CaseParse, GoodCases) {
  for (const GoodCase& row : kGoodCases) {
    SCOPED_TRACE(row.name);
    Result<Case> parsed = Parse(row.json);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    row.check(*parsed);
  }
}

// ---- Bad cases: structural errors with their exact messages ----------------------------------

struct BadCase {
  std::string json;
  std::string error;
};

const BadCase kBadCases[] = {
    {"{\n  \"patient\": }", "case.json:2:14: invalid JSON: syntax error while parsing value - unexpected '}'; expected '[', '{', or a literal"},
    {"[]", "case.json: expected the case to be a JSON object, got an array"},
    {CaseWith(R"("labz": [])"),
     "case.json: /labz: unknown field 'labz' (did you mean 'labs'?); other data belongs under \"extra\""},
    {R"({"case_id": "x"})", "case.json: missing required field 'patient' (with sex and age_years)"},
    {R"({"patient": {}})",
     "case.json: /patient: missing required field 'sex' ('female' or 'male')\n"
     "case.json: /patient: missing required field 'age_years'"},
    {R"({"patient": {"sex": "f", "age_years": "44"}})",
     "case.json: /patient/sex: expected 'female' or 'male', got 'f'\n"
     "case.json: /patient/age_years: expected a number, got a string"},
    {R"({"patient": {"sex": "female", "age_years": 44, "pregant": true}})",
     "case.json: /patient/pregant: unknown field 'pregant' (did you mean 'pregnant'?)"},
    {R"({"patient": {"sex": "female", "age_years": 44, "menopausal_status": "perimenopause"}})",
     "case.json: /patient/menopausal_status: expected one of premenopausal, perimenopausal, postmenopausal, got "
     "'perimenopause' (did you mean 'perimenopausal', 'premenopausal'?)"},
    {CaseWith(R"("case_id": 7)"), "case.json: /case_id: expected a string, got a number"},
    {CaseWith(R"("symptoms": {"low_mod": 2})"),
     "case.json: /symptoms/low_mod: unknown symptom 'low_mod' (did you mean 'low_mood'?)"},
    {CaseWith(R"("symptoms": {"low_mood": 4})"), "case.json: /symptoms/low_mood: score 4 is out of range 0-3"},
    {CaseWith(R"("symptoms": {"low_mood": 1.5})"), "case.json: /symptoms/low_mood: expected an integer, got a number"},
    {CaseWith(R"("symptoms": {"ferritin": 1})"), "case.json: /symptoms/ferritin: 'ferritin' is a lab, not a symptom"},
    {CaseWith(R"("symptoms": [])"), "case.json: /symptoms: expected an object, got an array"},
    {CaseWith(R"("questionnaires": {"phq8": {"total": 3}})"),
     "case.json: /questionnaires/phq8: unknown questionnaire 'phq8' (did you mean 'phq9'?)"},
    {CaseWith(R"("questionnaires": {"phq9": {"items": [0, 1, 2, 4, 0, 0, 0, 0, 0]}})"),
     "case.json: /questionnaires/phq9/items/3: answer 4 is out of range 0-3"},
    {CaseWith(R"("questionnaires": {"phq9": {"items": [0, 1, 2]}})"),
     "case.json: /questionnaires/phq9/items: expected 9 answers, got 3"},
    {CaseWith(R"("questionnaires": {"phq9": {"items": [0, 1, 2, 3, 0, 0, 0, 0, -1], "total": 31}})"),
     "case.json: /questionnaires/phq9/items/8: answer -1 is out of range 0-3"},
    {CaseWith(R"("questionnaires": {"phq9": {"total": 14, "item9": 4}})"),
     "case.json: /questionnaires/phq9/item9: answer 4 is out of range 0-3"},
    {CaseWith(R"("questionnaires": {"gad7": {"total": 3, "item9": 0}})"),
     "case.json: /questionnaires/gad7/item9: unknown field 'item9' (did you mean 'items'?)"},
    {CaseWith(R"("questionnaires": {"gad7": {}})"), "case.json: /questionnaires/gad7: give 'items' (preferred) or 'total'"},
    {CaseWith(R"("questionnaires": {"mdq": {"result": "maybe"}})"),
     "case.json: /questionnaires/mdq/result: expected 'positive' or 'negative', got 'maybe'"},
    {CaseWith(R"("labs": [{"test": "ferritin", "value": 18, "unit": "ng/mL"},
                          {"test": "ferritin", "value": 18, "unit": "ng/mL"},
                          {"test": "glucose_fasting", "value": 90, "unit": "mg/dq"}])"),
     "case.json: /labs/2/unit: unknown unit 'mg/dq': 'dq' is not a unit"},
    {CaseWith(R"("labs": [{"test": "tsh", "value": 2, "unit": "mmol/L"}])"),
     "case.json: /labs/0/unit: unit 'mmol/L' (amount/volume) does not fit tsh, measured in m[IU]/L (IU/volume); "
     "accepted units: m[IU]/L, u[IU]/mL"},
    {CaseWith(R"("labs": [{"test": "feritin", "value": 18, "unit": "ng/mL"}])"),
     "case.json: /labs/0/test: unknown lab 'feritin' (did you mean 'ferritin'?)"},
    {CaseWith(R"("labs": [{"test": "ferritin", "loinc": "2132-9", "value": 18, "unit": "ng/mL"}])"),
     "case.json: /labs/0/loinc: LOINC 2132-9 is vitamin_b12, but /labs/0/test is ferritin"},
    {CaseWith(R"("labs": [{"loinc": "2276-5", "value": 18, "unit": "ng/mL"}])"),
     "case.json: /labs/0/loinc: unknown LOINC code '2276-5' (did you mean '2276-4'?)"},
    {CaseWith(R"("labs": [{"value": 18, "unit": "ng/mL"}])"), "case.json: /labs/0: a lab needs 'test' or 'loinc'"},
    {CaseWith(R"("labs": [{"test": "ferritin", "unit": "ng/mL"}])"),
     "case.json: /labs/0: missing required field 'value'"},
    {CaseWith(R"("labs": [{"test": "ferritin", "value": "18", "units": "ng/mL"}])"),
     "case.json: /labs/0/units: unknown field 'units' (did you mean 'unit'?)\n"
     "case.json: /labs/0/value: expected a number, got a string"},
    {CaseWith(R"("labs": [{"test": "ferritin", "value": 18, "unit": "ng/mL", "date": "02/11/2026"}])"),
     "case.json: /labs/0/date: expected a date YYYY-MM-DD, got '02/11/2026'"},
    {CaseWith(R"("medications": [{"id": "ssri"}])"),
     "case.json: /medications/0/id: 'ssri' is a medication_class, not a medication"},
    {CaseWith(R"("medications": [{"id": "sertraline", "atc": "N06AB10"}])"),
     "case.json: /medications/0/atc: ATC N06AB10 is escitalopram, but /medications/0/id is sertraline"},
    {CaseWith(R"("medications": [{"id": "sertraline", "atc": "N06AX99"}])"),
     "case.json: /medications/0/atc: ATC N06AX99 is not the code of sertraline (N06AB06), named by /medications/0/id"},
    {CaseWith(R"("medications": [{"id": "sertraline", "name": 5}])"),
     "case.json: /medications/0/name: expected a string, got a number"},
    {CaseWith(R"("medications": [{"atc": " ", "dose": ""}])"), "case.json: /medications/0/atc: expected a non-empty string"},
    {CaseWith(R"("conditions": [{"id": ""}])"), "case.json: /conditions/0/id: expected a non-empty string"},
    {CaseWith(R"("medications": [{"dose": "10 mg"}])"),
     "case.json: /medications/0: a medication needs 'id', 'atc' or 'name'"},
    {CaseWith(R"("conditions": [{"id": "hypothyroidism", "icd10": "Q99"}])"),
     "case.json: /conditions/0/icd10: ICD-10 Q99 is not a code of hypothyroidism (E03), named by /conditions/0/id"},
    {CaseWith(R"("conditions": [{"id": 3}])"), "case.json: /conditions/0/id: expected a string, got a number"},
    {CaseWith(R"("conditions": [{"id": "gerd", "icd10": "K21"}, {"id": "gerd", "icd10": "E03"}])"),
     "case.json: /conditions/1/icd10: ICD-10 E03 is hypothyroidism, but /conditions/1/id is gerd"},
    {CaseWith(R"("supplements": {"requested": ["5htp"]})"),
     "case.json: /supplements/requested/0: unknown strategy '5htp' (did you mean 'precursor_5htp'?)"},
    {CaseWith(R"("lifestyle": {"diet": "carnivore"})"),
     "case.json: /lifestyle/diet: expected one of omnivore, vegetarian, vegan, other, got 'carnivore' (did you mean 'omnivore'?)"},
    {CaseWith(R"("lifestyle": {"shift_work": "no", "evening_screen_use": 5})"),
     "case.json: /lifestyle/evening_screen_use: score 5 is out of range 0-3\n"
     "case.json: /lifestyle/shift_work: expected true or false, got a string"},
    {CaseWith(R"("stressors": {"chronic_stres": 2})"),
     "case.json: /stressors/chronic_stres: unknown stressor 'chronic_stres' (did you mean 'chronic_stress'?)"},
};

TEST(CaseParse, BadCases) {
  for (const BadCase& row : kBadCases) {
    SCOPED_TRACE(row.json);
    Result<Case> parsed = Parse(row.json);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(Status::Code::kInvalidArgument, parsed.status().code());
    EXPECT_EQ(row.error, parsed.status().message());
  }
}

TEST(CaseParse, SourceNameIsOptional) {
  Result<Case> parsed = ParseCase(R"({"patient": {"sex": "female"}})", RealKb(), ParseOptions{});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ("/patient: missing required field 'age_years'", parsed.status().message());
}

// ---- Value problems: data-quality entries ----------------------------------------------------

struct DataQualityCase {
  const char* name;
  std::string json;
  std::string path;
  Severity severity;
  std::string code;
  std::string message;
  bool data_quality_warning;
  bool repeat_or_verify_labs;
  bool critical_lab_value;
};

const DataQualityCase kDataQualityCases[] = {
    {"negative value", CaseWith(R"("labs": [{"test": "ferritin", "value": -5, "unit": "ng/mL"}])"), "/labs/0/value",
     Severity::kError, "impossible_value", "ferritin -5 ng/mL is negative, which is impossible; excluded", true, true,
     false},
    {"beyond the plausible limits", CaseWith(R"("labs": [{"test": "ferritin", "value": 20000, "unit": "ng/mL"}])"),
     "/labs/0/value", Severity::kError, "impossible_value",
     "ferritin 20000 ng/mL is outside the plausible range 0-10000 ng/mL (an entry or unit error?); excluded", true, true,
     false},
    {"beyond the plausible limits after conversion",
     CaseWith(R"("labs": [{"test": "glucose_fasting", "value": 90, "unit": "mmol/L"}])"), "/labs/0/value",
     Severity::kError, "impossible_value",
     "glucose_fasting 90 mmol/L (= 1621 mg/dL) is outside the plausible range 20-1000 mg/dL (an entry or unit "
     "error?); excluded",
     true, true, false},
    {"a value past a double once converted",
     CaseWith(R"("labs": [{"test": "glucose_fasting", "value": 1.7976931348623157e308, "unit": "mmol/L"}])"),
     "/labs/0/value", Severity::kError, "impossible_value",
     "glucose_fasting 1.79769e+308 mmol/L is out of range once converted to mg/dL; excluded", true, true, false},
    {"age of an infant", R"({"patient": {"sex": "female", "age_years": 0}})", "/patient/age_years", Severity::kWarning,
     "implausible_value",
     "age 0 years is an infant: check that the age is in years; the adult ranges and advice here do not apply", true,
     false, false},
    {"critical value", CaseWith(R"("labs": [{"test": "ferritin", "value": 5000, "unit": "ng/mL"}])"), "/labs/0/value",
     Severity::kWarning, "critical_value",
     "ferritin 5000 ng/mL is above the critical limit 1000 ng/mL; needs prompt medical review, not supplement or "
     "lifestyle advice",
     false, false, true},
    {"critical low value", CaseWith(R"("labs": [{"test": "glucose_fasting", "value": 2.5, "unit": "mmol/L"}])"),
     "/labs/0/value", Severity::kWarning, "critical_value",
     "glucose_fasting 2.5 mmol/L (= 45.04 mg/dL) is below the critical limit 54 mg/dL; needs prompt medical review, "
     "not supplement or lifestyle advice",
     false, false, true},
    {"missing ambiguous unit", CaseWith(R"("labs": [{"test": "vitamin_b12", "value": 300}])"), "/labs/0/unit",
     Severity::kError, "missing_unit", "vitamin_b12 300 has no unit and could be in pg/mL, ng/L, pmol/L; excluded", true,
     true, false},
    {"missing unit, one accepted", CaseWith(R"("labs": [{"test": "transferrin_saturation", "value": 30}])"),
     "/labs/0/unit", Severity::kWarning, "assumed_unit",
     "transferrin_saturation 30 has no unit; assumed %, its only accepted unit", true, false, false},
    {"missing unit, all accepted units equal", CaseWith(R"("labs": [{"test": "tsh", "value": 2.1}])"), "/labs/0/unit",
     Severity::kWarning, "assumed_unit",
     "tsh 2.1 has no unit; assumed m[IU]/L (its accepted units give the same number)", true, false, false},
    {"male and pregnant", R"({"patient": {"sex": "male", "age_years": 40, "pregnant": true}})", "/patient/pregnant",
     Severity::kWarning, "contradiction", "/patient/pregnant is true but /patient/sex is male; check both", true, false,
     false},
    {"gestational age but not pregnant",
     R"({"patient": {"sex": "female", "age_years": 30, "pregnant": false, "gestational_age_weeks": 12}})",
     "/patient/gestational_age_weeks", Severity::kWarning, "contradiction",
     "/patient/gestational_age_weeks is given but /patient/pregnant is false; check both", true, false, false},
    {"postmenopausal at 25", R"({"patient": {"sex": "female", "age_years": 25, "menopausal_status": "postmenopausal"}})",
     "/patient/menopausal_status", Severity::kWarning, "contradiction",
     "postmenopausal at /patient/age_years 25 is unusual (premature ovarian insufficiency or surgery?); check both", true,
     false, false},
    {"age over 130", R"({"patient": {"sex": "female", "age_years": 150}})", "/patient/age_years", Severity::kError,
     "impossible_value",
     "age 150 years is impossible (0-130); excluded: no age-specific range or rule is applied, and age-restricted "
     "safety checks count as applying",
     true, false, false},
    {"total differs from items",
     CaseWith(R"("questionnaires": {"phq9": {"items": [1, 1, 1, 1, 1, 1, 1, 1, 0], "total": 12}})"),
     "/questionnaires/phq9/total", Severity::kWarning, "total_mismatch",
     "total 12 differs from the sum of /questionnaires/phq9/items (8); the item sum is used", true, false, false},
    // A typed total outside the possible range is data quality, never a rejection (case.md).
    {"total out of range, items given",
     CaseWith(R"("questionnaires": {"phq9": {"items": [1, 1, 1, 1, 1, 1, 1, 1, 0], "total": 31}})"),
     "/questionnaires/phq9/total", Severity::kWarning, "total_out_of_range",
     "total 31 is outside the possible range 0-27; the sum of /questionnaires/phq9/items (8) is used", true, false,
     false},
    {"total out of range, no items", CaseWith(R"("questionnaires": {"gad7": {"total": 30}})"),
     "/questionnaires/gad7/total", Severity::kError, "total_out_of_range",
     "total 30 is outside the possible range 0-21; excluded", true, false, false},
    {"safety item differs from items",
     CaseWith(R"("questionnaires": {"phq9": {"items": [1, 1, 1, 1, 1, 1, 1, 1, 0], "item9": 2}})"),
     "/questionnaires/phq9/item9", Severity::kWarning, "item_mismatch",
     "item9 2 differs from /questionnaires/phq9/items/8 (0); the items are used", true, false, false},
    {"one lab twice, disagreeing", CaseWith(R"("labs": [{"test": "ferritin", "value": 18, "unit": "ng/mL"},
                                                         {"test": "ferritin", "value": 30, "unit": "ug/L"}])"),
     "/labs/1/value", Severity::kWarning, "conflicting_values",
     "ferritin at /labs/0 (18 ng/mL) and /labs/1 (30 ng/mL) differ by more than 5 %; the later is used", true, true,
     false},
    {"lifestyle beyond its range", CaseWith(R"("lifestyle": {"sleep_hours": 30})"), "/lifestyle/sleep_hours",
     Severity::kError, "impossible_value", "sleep_hours 30 h is outside the possible range 0-24; excluded", true, false,
     false},
    // Unknown medications and conditions are kept, never rejected (case.md); the safety layer raises
    // unchecked_medication for them, so they do not raise data_quality_warning.
    {"unknown medication id", CaseWith(R"("medications": [{"id": "sertralin", "dose": "50 mg"}])"),
     "/medications/0/id", Severity::kWarning, "unknown_medication",
     "unknown medication 'sertralin' (did you mean 'sertraline'?); kept as written, but its interactions cannot be "
     "checked", false, false, false},
    {"unknown ATC code", CaseWith(R"("medications": [{"atc": "Z99ZZ99"}])"), "/medications/0/atc", Severity::kWarning,
     "unknown_medication",
     "unknown medication 'Z99ZZ99'; kept as written, but its interactions cannot be checked", false, false, false},
    {"unknown ATC code above known ones", CaseWith(R"("medications": [{"atc": "N05C"}])"), "/medications/0/atc",
     Severity::kWarning, "unknown_medication",
     "unknown medication 'N05C' (medications under it: clomethiazole, daridorexant, estazolam, eszopiclone, "
     "flunitrazepam, flurazepam, lemborexant, lormetazepam, ...); kept as written, but its interactions cannot be "
     "checked", false, false, false},
    {"unknown id and unknown ATC code", CaseWith(R"("medications": [{"id": "zuranolone", "atc": "Z99AX99"}])"),
     "/medications/0/id", Severity::kWarning, "unknown_medication",
     "unknown medication 'zuranolone'; kept as written, but its interactions cannot be checked", false, false, false},
    {"medication by name only", CaseWith(R"("medications": [{"name": "Sertraline 50 mg"}])"), "/medications/0/name",
     Severity::kWarning, "unknown_medication",
     "unknown medication 'Sertraline 50 mg' (did you mean 'sertraline'?); kept as written, but its interactions "
     "cannot be checked", false, false, false},
    {"unknown id, known ATC code", CaseWith(R"("medications": [{"id": "zoloft", "atc": "N06AB06"}])"),
     "/medications/0/id", Severity::kWarning, "unknown_id", "unknown id 'zoloft'; ATC N06AB06 (sertraline) is used",
     true, false, false},
    {"unknown id, ATC code under a class group", CaseWith(R"("medications": [{"id": "levomilnacipran", "atc": "N06AX28"}])"),
     "/medications/0/id", Severity::kWarning, "unknown_id",
     "unknown id 'levomilnacipran'; ATC N06AX28 (classes antidepressant) is used", true, false, false},
    {"unknown condition id", CaseWith(R"("conditions": [{"id": "hypothyroid"}])"), "/conditions/0/id",
     Severity::kWarning, "unknown_condition",
     "unknown condition 'hypothyroid' (did you mean 'hypothyroidism'?); kept as written, but it cannot be taken into "
     "account", false, false, false},
    {"unknown ICD-10 code", CaseWith(R"("conditions": [{"icd10": "F34.1"}])"), "/conditions/0/icd10",
     Severity::kWarning, "unknown_condition",
     "unknown condition 'F34.1' (known codes nearby: F31 bipolar_disorder, F32-F33 major_depressive_disorder); kept "
     "as written, but it cannot be taken into account", false, false, false},
    {"unknown ICD-10 code, no block", CaseWith(R"("conditions": [{"icd10": "Q99"}])"), "/conditions/0/icd10",
     Severity::kWarning, "unknown_condition",
     "unknown condition 'Q99'; kept as written, but it cannot be taken into account", false, false, false},
    {"unknown condition id, known ICD-10 code", CaseWith(R"("conditions": [{"id": "underactive_thyroid", "icd10": "E03.9"}])"),
     "/conditions/0/id", Severity::kWarning, "unknown_id",
     "unknown id 'underactive_thyroid'; ICD-10 E03.9 (hypothyroidism) is used", true, false, false},
};

// ---- Unknown medications and conditions: kept, with their path and nearest known ids -----------

struct UnknownCase {
  const char* name;
  std::string json;
  size_t known;  // entries resolved into medications / conditions
  std::vector<UnknownEntry> medications;
  std::vector<UnknownEntry> conditions;
};

const UnknownCase kUnknownCases[] = {
    {"unknown id beside a known one", CaseWith(R"("medications": [{"id": "escitalopram"}, {"id": "sertralin"}])"), 1,
     {{"sertralin", "/medications/1/id", {"sertraline"}}}, {}},
    {"unknown ATC code with near codes", CaseWith(R"("medications": [{"atc": "Z06AB10"}])"), 0,
     {{"Z06AB10", "/medications/0/atc", {"escitalopram", "nortriptyline"}}}, {}},
    {"the id wins over the code and the name", CaseWith(R"("medications": [{"id": "foo_bar_baz", "atc": "Z99ZZ99", "name": "x"}])"), 0,
     {{"foo_bar_baz", "/medications/0/id", {}}}, {}},
    {"name only", CaseWith(R"("medications": [{"name": "Sertraline 50 mg", "dose": "50 mg"}])"), 0,
     {{"Sertraline 50 mg", "/medications/0/name", {"sertraline"}}}, {}},
    {"unknown conditions by id and by code", CaseWith(R"("conditions": [{"id": "hypothyroid"}, {"icd10": "E03"}, {"icd10": "F34.1"}])"),
     1, {}, {{"hypothyroid", "/conditions/0/id", {"hypothyroidism"}},
             {"F34.1", "/conditions/2/icd10", {"bipolar_disorder", "major_depressive_disorder"}}}},
};

void ExpectSameUnknowns(const std::vector<UnknownEntry>& expected, const std::vector<UnknownEntry>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].text, actual[i].text);
    EXPECT_EQ(expected[i].path, actual[i].path);
    EXPECT_EQ(expected[i].nearest, actual[i].nearest);
  }
}

TEST(CaseParse, UnknownMedicationsAndConditionsAreKept) {
  for (const UnknownCase& row : kUnknownCases) {
    SCOPED_TRACE(row.name);
    Result<Case> parsed = Parse(row.json);
    ASSERT_OK(parsed);
    const Case& c = *parsed;
    EXPECT_EQ(row.known, c.medications.size() + c.conditions.size());
    ExpectSameUnknowns(row.medications, c.unknown_medications);
    ExpectSameUnknowns(row.conditions, c.unknown_conditions);
    // An unknown medication has no classes, so it is not among the resolved ones.
    for (const UnknownEntry& unknown : c.unknown_medications)
      for (const MedicationEntry& m : c.medications) EXPECT_NE(0u, unknown.path.rfind(m.path + "/", 0));
    const nlohmann::json normalised = CaseToJson(c);
    EXPECT_EQ(!row.medications.empty(), normalised.contains("unknown_medications")) << normalised.dump();
    EXPECT_EQ(!row.conditions.empty(), normalised.contains("unknown_conditions")) << normalised.dump();
  }
}

TEST(CaseParse, UnknownMedicationJson) {
  Result<Case> parsed = Parse(CaseWith(R"("medications": [{"id": "sertralin"}])"));
  ASSERT_OK(parsed);
  EXPECT_EQ(nlohmann::json::parse(R"([{"text": "sertralin", "path": "/medications/0/id", "nearest": ["sertraline"]}])"),
            CaseToJson(*parsed)["unknown_medications"]);
  EXPECT_EQ(nlohmann::json::array(), CaseToJson(*parsed)["medications"]);
  EXPECT_FALSE(parsed->TakesMedication("sertralin"));
}

TEST(CaseParse, MedicationNameIsKept) {
  Result<Case> parsed = Parse(CaseWith(R"("medications": [{"id": "sertraline", "name": "Zoloft 50 mg", "dose": "50 mg"}])"));
  ASSERT_OK(parsed);
  ASSERT_EQ(1u, parsed->medications.size());
  EXPECT_EQ("Zoloft 50 mg", parsed->medications[0].name);
  EXPECT_EQ("50 mg", parsed->medications[0].dose);
  EXPECT_TRUE(parsed->data_quality.empty());
  const nlohmann::json entry = CaseToJson(*parsed)["medications"][0];
  EXPECT_EQ("Zoloft 50 mg", entry["name"]);
  EXPECT_EQ("sertraline", entry["id"]);
  // Without a name, the normalised entry has none.
  Result<Case> plain = Parse(CaseWith(R"("medications": [{"id": "sertraline"}])"));
  ASSERT_OK(plain);
  EXPECT_FALSE(CaseToJson(*plain)["medications"][0].contains("name"));
}

TEST(CaseParse, DataQuality) {
  for (const DataQualityCase& row : kDataQualityCases) {
    SCOPED_TRACE(row.name);
    Result<Case> parsed = Parse(row.json);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    const Case& c = *parsed;
    ASSERT_EQ(1u, c.data_quality.size()) << DataQualityToJson(c).dump(1);
    const DataQualityIssue& issue = c.data_quality[0];
    EXPECT_EQ(row.path, issue.path);
    EXPECT_EQ(row.severity, issue.severity);
    EXPECT_EQ(row.code, issue.code);
    EXPECT_EQ(row.message, issue.message);
    EXPECT_EQ(row.data_quality_warning, c.flags.data_quality_warning);
    EXPECT_EQ(row.repeat_or_verify_labs, c.flags.repeat_or_verify_labs);
    EXPECT_EQ(row.critical_lab_value, c.flags.critical_lab_value);
  }
}

// A typed total out of range: the item sum when items were given, else no total at all.
TEST(CaseParse, QuestionnaireTotalOutOfRange) {
  Result<Case> with_items =
      Parse(CaseWith(R"("questionnaires": {"phq9": {"items": [1, 1, 1, 1, 1, 1, 1, 1, 0], "total": 31}})"));
  ASSERT_OK(with_items);
  EXPECT_EQ(std::optional<int>(8), with_items->QuestionnaireTotal("phq9"));
  Result<Case> without = Parse(CaseWith(R"("questionnaires": {"phq9": {"total": 31, "item9": 1}})"));
  ASSERT_OK(without);
  EXPECT_EQ(std::nullopt, without->QuestionnaireTotal("phq9"));
  EXPECT_EQ(std::optional<int>(1), without->QuestionnaireItem("phq9", 9));  // the safety item is kept
  EXPECT_TRUE(without->HasDataQuality(Severity::kError));
  EXPECT_FALSE(Parse(CaseWith(R"("questionnaires": {"phq9": {"total": 31}})"), /*strict=*/true).ok());
}

TEST(CaseParse, ExcludedAndCriticalLabs) {
  Result<Case> parsed = Parse(CaseWith(R"("labs": [{"test": "ferritin", "value": 20000, "unit": "ng/mL"},
                                                   {"test": "tsh", "value": 80, "unit": "mIU/L"}])"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const Case& c = *parsed;
  EXPECT_FALSE(c.labs[0].used);
  EXPECT_EQ(nullptr, c.Lab("ferritin"));  // excluded from inference
  EXPECT_TRUE(c.labs[1].used);
  EXPECT_TRUE(c.labs[1].critical);
  EXPECT_EQ(LabStatus::kHigh, c.labs[1].status);
  EXPECT_EQ(std::vector<std::string>{"tsh"}, c.flags.critical_labs);
  EXPECT_TRUE(c.HasDataQuality(Severity::kError));
  nlohmann::json labs = LabsToJson(c);
  EXPECT_EQ(false, labs[0]["used"]);
  EXPECT_TRUE(labs[0]["status"].is_null());
  EXPECT_EQ(true, labs[1]["critical"]);
  EXPECT_EQ(nlohmann::json::parse(R"({"path": "/labs/0/value", "severity": "error", "code": "impossible_value",
              "message": "ferritin 20000 ng/mL is outside the plausible range 0-10000 ng/mL (an entry or unit error?); excluded"})"),
            DataQualityToJson(c)[0]);
}

// An impossible age is kept as typed (the record and replay) but never used: no age-bounded range,
// limit or criterion applies (case.md: excluded from inference).
TEST(CaseParse, ImpossibleAgeIsExcluded) {
  for (const char* age : {"-1", "131", "200", "1e308"}) {
    SCOPED_TRACE(age);
    Result<Case> parsed = Parse(std::string(R"({"patient": {"sex": "female", "age_years": )") + age +
                                R"(, "menopausal_status": "postmenopausal"},
                                "labs": [{"test": "dhea_s", "value": 3, "unit": "umol/L"},
                                         {"test": "ferritin", "value": 40, "unit": "ng/mL"}]})");
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    const Case& c = *parsed;
    EXPECT_TRUE(c.patient.age_excluded);
    EXPECT_EQ(std::nullopt, c.patient.Age());
    EXPECT_EQ(std::nullopt, c.patient.ForRanges().age_years);
    EXPECT_EQ(std::stod(age), CaseToJson(c)["patient"]["age_years"].get<double>());
    // DHEA-S has only age-banded ranges: none applies; ferritin's range is for every age.
    EXPECT_EQ(std::nullopt, c.labs[0].reference_low);
    EXPECT_EQ(LabStatus::kUnknown, c.labs[0].status);
    EXPECT_TRUE(c.labs[1].reference_low.has_value());
    // Only the age finding: "postmenopausal at -1" is not checked against an excluded age.
    ASSERT_EQ(1u, c.data_quality.size());
    EXPECT_EQ("/patient/age_years", c.data_quality[0].path);
    EXPECT_TRUE(c.flags.data_quality_warning);
  }
  Result<Case> adult = Parse(CaseWith(""));
  ASSERT_TRUE(adult.ok());
  EXPECT_FALSE(adult->patient.age_excluded);
  EXPECT_EQ(44, adult->patient.Age());
}

TEST(CaseCriteria, AgeBoundsWithAnExcludedAgeAreNotKnown) {
  knowledge::Criterion under18;
  under18.subject = knowledge::Criterion::Subject::kAge;
  under18.age_below = 18;
  knowledge::Criterion women;
  women.subject = knowledge::Criterion::Subject::kAge;
  women.sex = Sex::kFemale;
  women.age_at_least = 40;
  PatientInfo patient;
  patient.sex = Sex::kFemale;
  patient.age_years = 12;
  EXPECT_EQ(Fit::kFits, PatientFits(under18, patient));
  EXPECT_EQ(Fit::kDoesNotFit, PatientFits(women, patient));
  patient.age_excluded = true;
  EXPECT_EQ(Fit::kAgeNotKnown, PatientFits(under18, patient));
  EXPECT_EQ(Fit::kAgeNotKnown, PatientFits(women, patient));
  patient.sex = Sex::kMale;
  EXPECT_EQ(Fit::kDoesNotFit, PatientFits(women, patient));  // the sex alone rules it out

  // Ranges, limits and implied conditions: missing data never meets a criterion.
  Result<Case> parsed = Parse(R"({"patient": {"sex": "female", "age_years": -1}})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(Meets(*parsed, under18));
  Result<Case> child = Parse(R"({"patient": {"sex": "female", "age_years": 12}})");
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE(Meets(*child, under18));
}

TEST(CaseParse, StrictRejectsImpossibleValues) {
  const std::string text = CaseWith(R"("labs": [{"test": "ferritin", "value": 20000, "unit": "ng/mL"},
                                                 {"test": "vitamin_b12", "value": 300},
                                                 {"test": "ferritin", "value": 5000, "unit": "ng/mL"}])");
  ASSERT_TRUE(Parse(text).ok());
  Result<Case> parsed = Parse(text, /*strict=*/true);
  ASSERT_FALSE(parsed.ok());
  // Only errors are rejected; the critical value (a warning) still passes.
  EXPECT_EQ("case.json: /labs/0/value: ferritin 20000 ng/mL is outside the plausible range 0-10000 ng/mL (an entry or "
            "unit error?); excluded (rejected in strict mode)\n"
            "case.json: /labs/1/unit: vitamin_b12 300 has no unit and could be in pg/mL, ng/L, pmol/L; excluded "
            "(rejected in strict mode)",
            parsed.status().message());
}

// A list over its limit is refused before any entry is read: 100,000 results of one lab once ran the
// check between results (pairwise) for minutes.
TEST(CaseParse, ListsOverTheirLimitAreRefusedBeforeTheyAreRead) {
  auto labs = [](int count) {
    std::string text;
    for (int i = 0; i < count; ++i) text += std::string(i ? "," : "") + R"({"test": "ferritin", "value": 50, "unit": "ng/mL"})";
    return CaseWith(R"("labs": [)" + text + "]");
  };
  EXPECT_TRUE(Parse(labs(2000)).ok());
  Result<Case> over = Parse(labs(100000));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ("case.json: /labs: 100000 entries, more than the limit of 2000", over.status().message());
  std::string ids;
  for (int i = 0; i < 501; ++i) ids += std::string(i ? "," : "") + R"("cofactor_iron")";
  Result<Case> supplements = Parse(CaseWith(R"("supplements": {"current": [)" + ids + "]}"));
  ASSERT_FALSE(supplements.ok());
  EXPECT_EQ("case.json: /supplements/current: 501 entries, more than the limit of 500", supplements.status().message());
  std::string symptoms;
  for (int i = 0; i < 501; ++i) symptoms += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\": 1";
  Result<Case> many = Parse(CaseWith(R"("symptoms": {)" + symptoms + "}"));
  ASSERT_FALSE(many.ok());
  EXPECT_EQ("case.json: /symptoms: 501 entries, more than the limit of 500", many.status().message());
}

// ---- Helpers exposed for other modules -------------------------------------------------------

TEST(CaseHelpers, ScoringAndLookups) {
  const knowledge::Questionnaire& pss10 = *RealKb().Find("pss10")->questionnaire;
  EXPECT_EQ(40, ScoreItems(pss10, {4, 4, 4, 0, 0, 4, 0, 0, 4, 4}));
  EXPECT_EQ("moderate", BandFor(pss10, 14));
  EXPECT_EQ("", BandFor(pss10, 41));
  EXPECT_EQ("combined_oral_contraceptive", FindMedicationByAtc(RealKb(), "G03AA")->id);
  EXPECT_EQ(nullptr, FindMedicationByAtc(RealKb(), "G03"));
  EXPECT_EQ("major_depressive_disorder", FindConditionByIcd10(RealKb(), "F32")->id);
  EXPECT_EQ("insomnia_disorder", FindConditionByIcd10(RealKb(), "G47.01")->id);
  EXPECT_EQ("obstructive_sleep_apnea", FindConditionByIcd10(RealKb(), "G47.33")->id);
  EXPECT_EQ(nullptr, FindConditionByIcd10(RealKb(), "F34"));
  EXPECT_EQ(nullptr, FindConditionByIcd10(RealKb(), "E83.1"));
  // The closure follows class -> class edges (ssri is in serotonergic and antidepressant).
  EXPECT_EQ((std::vector<std::string>{"antidepressant", "cyp1a2_inhibitor", "serotonergic", "ssri"}),
            RealKb().ClassesOf("fluvoxamine"));
  EXPECT_EQ((std::vector<std::string>{"antidepressant", "serotonergic", "ssri"}), AtcGroupClasses(RealKb(), "n06ab 99"));
  EXPECT_EQ((std::vector<std::string>{"antiparkinson", "mao_b_inhibitor", "maoi", "serotonergic"}),
            AtcGroupClasses(RealKb(), "N04BD99"));
  EXPECT_TRUE(AtcGroupClasses(RealKb(), "N06").empty());  // above every group code
  EXPECT_TRUE(AtcGroupClasses(RealKb(), "").empty());
}

// ---- Example files ---------------------------------------------------------------------------

// CaseToJsonText writes CaseToJson's document byte for byte (a stored case version's normalised
// text and hash must not depend on which one wrote it): for every case we have (golden, examples,
// the table above, the hostile-input corpus) and for random variants of the golden ones (lab values
// and ages of every size, fields dropped).
TEST(CaseJson, TextIsTheDocumentsDumpForEveryCase) {
  std::vector<std::string> texts;
  auto add_folder = [&](const std::string& folder) {
    for (const auto& entry : std::filesystem::directory_iterator(folder))
      if (entry.path().extension() == ".json") texts.push_back(ReadFileToString(entry.path().string()).value());
  };
  std::vector<std::string> golden;
  for (const auto& path : nflux::testing::GoldenCaseFiles()) golden.push_back(ReadFileToString(path.string()).value());
  texts.insert(texts.end(), golden.begin(), golden.end());
  add_folder(NFLUX_SOURCE_DIR "/examples");
  add_folder(NFLUX_SOURCE_DIR "/tests/bad_inputs/case");
  for (const GoodCase& row : kGoodCases) texts.push_back(row.json);
  texts.push_back(CaseWith(R"("case_id": "every-field", "medications": [{"id": "sertraline", "name": "Zoloft",
      "dose": "50 mg"}, {"atc": "N06AB99"}, {"id": "no_such_drug"}], "conditions": [{"id": "hypothyroidism",
      "icd10": "E03.9"}, {"id": "no_such_condition"}], "supplements": {"current": ["cofactor_iron"],
      "requested": ["precursor_5htp"]}, "extra": {"z": [1, -2, 3.25e-7, "é"], "a": {"n": null, "t": true}},
      "questionnaires": {"phq9": {"items": [1, 2, 3, 0, 1, 2, 3, 1, 2]}, "mdq": {"result": "positive"}},
      "lifestyle": {"sleep_hours": 6.5}, "stressors": {"shift_work": 2})"));
  std::mt19937 random(20261203);
  std::uniform_real_distribution<double> exponent(-8, 8), unit(0, 1);
  for (const std::string& text : golden) {
    for (int variant = 0; variant < 4; ++variant) {
      nlohmann::json doc = nlohmann::json::parse(text);
      if (doc.contains("labs"))
        for (auto& lab : doc["labs"])
          if (lab.contains("value") && lab["value"].is_number()) lab["value"] = lab["value"].get<double>() * std::pow(10.0, exponent(random));
      doc["patient"]["age_years"] = unit(random) * 110;
      for (const char* field : {"medications", "symptoms", "questionnaires", "lifestyle"})
        if (unit(random) < 0.25) doc.erase(field);
      texts.push_back(doc.dump());
    }
  }
  size_t compared = 0;
  for (const std::string& text : texts) {
    Result<Case> parsed = Parse(text);
    if (!parsed.ok()) continue;  // the hostile corpus is mostly cases that must not parse
    ++compared;
    EXPECT_EQ(CaseToJson(*parsed).dump(), CaseToJsonText(*parsed)) << text.substr(0, 200);
  }
  EXPECT_GT(compared, 700u);
}

TEST(CaseExamples, AllExamplesParse) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(NFLUX_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    ++count;
    Result<std::string> text = ReadFileToString(entry.path().string());
    ASSERT_TRUE(text.ok()) << text.status().message();
    Result<Case> parsed = ParseCase(*text, RealKb(), ParseOptions{true, entry.path().filename().string()});
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_FALSE(parsed->case_id.empty());
  }
  EXPECT_GE(count, 3u);
}

TEST(CaseExamples, SsriWithRequestedPrecursor) {
  Result<Case> parsed = Parse(ExampleText("ssri_5htp_request.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->TakesMedicationClass("ssri"));
  EXPECT_TRUE(parsed->RequestsSupplement("precursor_5htp"));
  EXPECT_EQ(std::optional<int>(2), parsed->Symptom("low_mood"));
  EXPECT_TRUE(parsed->HasCondition("major_depressive_disorder"));
}

TEST(CaseExamples, HealthyControlHasNoFindings) {
  Result<Case> parsed = Parse(ExampleText("healthy_control.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->data_quality.empty()) << DataQualityToJson(*parsed).dump(1);
  for (const LabResult& lab : parsed->labs) EXPECT_EQ(LabStatus::kNormal, lab.status) << lab.test;
  ASSERT_NE(nullptr, parsed->Derived("homa_ir"));
  EXPECT_EQ("normal", parsed->Derived("homa_ir")->status);
}

TEST(CaseParse, KeysGivenTwiceAreErrors) {
  Result<Case> parsed = ParseCase(R"({"patient": {"sex": "female", "age_years": 40},
                                      "symptoms": {"low_mood": 1, "low_mood": 3}})",
                                  RealKb(), ParseOptions{false, "case.json"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "case.json: /symptoms/low_mood: key given twice; the earlier value would be lost");
}

// The formulas are code, the indices knowledge: each derived_index node needs a formula.
TEST(Derived, EveryDerivedIndexNodeHasAFormula) {
  for (const auto& id : RealKb().IdsOfKind(knowledge::NodeKind::kDerivedIndex)) EXPECT_TRUE(HasFormula(id)) << id;
  EXPECT_FALSE(HasFormula("bmi"));
}

// ---- The medications a case can name ----------------------------------------------------------

// Every serotonergic drug of the reference sheet (section f, row 1; issue 9 schema section 8) is in
// class serotonergic, directly or through its class, so that the safety gate sees it.
TEST(CaseMedications, EveryReferenceSerotonergicDrugIsSerotonergic) {
  const char* const kSerotonergic[] = {
      "sertraline", "fluoxetine", "citalopram", "escitalopram", "paroxetine", "fluvoxamine", "venlafaxine",
      "duloxetine", "desvenlafaxine", "milnacipran", "clomipramine", "imipramine", "amitriptyline", "phenelzine",
      "tranylcypromine", "isocarboxazid", "selegiline", "rasagiline", "safinamide", "moclobemide", "linezolid",
      "methylene_blue", "tramadol", "tapentadol", "pethidine", "methadone", "fentanyl", "dextromethorphan",
      "sumatriptan", "rizatriptan", "zolmitriptan", "lithium", "buspirone", "trazodone", "mirtazapine",
      "vortioxetine", "vilazodone", "amfetamine", "dexamfetamine", "lisdexamfetamine", "metamfetamine", "cocaine",
      "cyclobenzaprine", "ondansetron", "granisetron"};
  for (const char* id : kSerotonergic) {
    SCOPED_TRACE(id);
    const knowledge::Node* node = RealKb().Find(id);
    ASSERT_NE(nullptr, node);
    EXPECT_EQ(knowledge::NodeKind::kMedication, node->kind);
    const std::vector<std::string> classes = RealKb().ClassesOf(id);
    EXPECT_TRUE(std::find(classes.begin(), classes.end(), "serotonergic") != classes.end());
  }
  // MAOIs: non-selective, MAO-B selective and IV methylene blue are all maoi.
  for (const char* id : {"phenelzine", "isocarboxazid", "selegiline", "safinamide", "methylene_blue", "moclobemide"}) {
    const std::vector<std::string> classes = RealKb().ClassesOf(id);
    EXPECT_TRUE(std::find(classes.begin(), classes.end(), "maoi") != classes.end()) << id;
  }
}

// ATC codes are 7 characters (a class-level code only where the node is itself class-level) and no
// two medications share one, so that a code names one medication.
TEST(CaseMedications, AtcCodesAreWellFormedAndUnique) {
  std::map<std::string, std::string> by_code;
  for (const std::string& id : RealKb().IdsOfKind(knowledge::NodeKind::kMedication)) {
    const std::string& atc = RealKb().Find(id)->medication->atc;
    if (id != "combined_oral_contraceptive") {
      EXPECT_EQ(7u, atc.size()) << id << " " << atc;
    }
    EXPECT_TRUE(by_code.emplace(atc, id).second) << atc << ": " << id << " and " << by_code[atc];
    EXPECT_EQ(RealKb().Find(id), FindMedicationByAtc(RealKb(), atc)) << id;
  }
  EXPECT_GE(by_code.size(), 250u);
}

}  // namespace
}  // namespace nflux::casefile
