// ParseCase's two paths give the same result: the fast path (straight from simdjson's document)
// and the strict path (through nlohmann's document) must build the same Case, field by field, with
// the same data-quality findings, for every golden case, every example and variants of them; and
// ParseCase must give exactly the strict path's result (messages included) for every input.
#include "case/parse_paths.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/text.h"
#include "real_knowledge.h"

namespace nflux::casefile {
namespace {

using ordered = nlohmann::ordered_json;

using nflux::testing::RealKb;

// Doubles compare by their bits: -0.0 is not 0.0 here.
bool SameNumber(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

void ExpectSame(const std::optional<double>& a, const std::optional<double>& b, const std::string& what) {
  ASSERT_EQ(a.has_value(), b.has_value()) << what;
  if (a) {
    EXPECT_TRUE(SameNumber(*a, *b)) << what << ": " << *a << " vs " << *b;
  }
}

void ExpectSame(double a, double b, const std::string& what) {
  EXPECT_TRUE(SameNumber(a, b)) << what << ": " << a << " vs " << b;
}

void ExpectSamePatient(const PatientInfo& a, const PatientInfo& b) {
  EXPECT_EQ(a.sex, b.sex);
  ExpectSame(a.age_years, b.age_years, "age_years");
  EXPECT_EQ(a.pregnant, b.pregnant);
  ExpectSame(a.gestational_age_weeks, b.gestational_age_weeks, "gestational_age_weeks");
  EXPECT_EQ(a.lactating, b.lactating);
  EXPECT_EQ(a.menopausal_status, b.menopausal_status);
  ExpectSame(a.bmi, b.bmi, "bmi");
}

void ExpectSameQuestionnaire(const QuestionnaireResult& a, const QuestionnaireResult& b) {
  SCOPED_TRACE(a.path);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.band, b.band);
  EXPECT_EQ(a.positive, b.positive);
  EXPECT_EQ(a.safety_item, b.safety_item);
  EXPECT_EQ(a.safety_item_value, b.safety_item_value);
  EXPECT_EQ(a.result, b.result);
  EXPECT_EQ(a.path, b.path);
}

void ExpectSameDecision(const std::optional<LabDecision>& a, const std::optional<LabDecision>& b) {
  ASSERT_EQ(a.has_value(), b.has_value());
  if (!a) return;
  EXPECT_EQ(a->side, b->side);
  ExpectSame(a->limit, b->limit, "decision limit");
  EXPECT_EQ(a->beyond, b->beyond);
  EXPECT_EQ(a->label, b->label);
  EXPECT_EQ(a->means, b->means);
  EXPECT_EQ(a->citations, b->citations);
}

void ExpectSameLab(const LabResult& a, const LabResult& b) {
  SCOPED_TRACE(a.path);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.loinc, b.loinc);
  ExpectSame(a.input_value, b.input_value, "input_value");
  EXPECT_EQ(a.input_unit, b.input_unit);
  ExpectSame(a.value, b.value, "value");
  EXPECT_EQ(a.unit, b.unit);
  EXPECT_EQ(a.unit_assumed, b.unit_assumed);
  EXPECT_EQ(a.status, b.status);
  ExpectSame(a.reference_low, b.reference_low, "reference_low");
  ExpectSame(a.reference_high, b.reference_high, "reference_high");
  EXPECT_EQ(a.has_optimal, b.has_optimal);
  EXPECT_EQ(a.optimal_status, b.optimal_status);
  ExpectSame(a.optimal_low, b.optimal_low, "optimal_low");
  ExpectSame(a.optimal_high, b.optimal_high, "optimal_high");
  ExpectSameDecision(a.decision, b.decision);
  EXPECT_EQ(a.used, b.used);
  EXPECT_EQ(a.critical, b.critical);
  EXPECT_EQ(a.date, b.date);
  EXPECT_EQ(a.collection_time, b.collection_time);
  EXPECT_EQ(a.path, b.path);
}

void ExpectSameDerived(const DerivedIndex& a, const DerivedIndex& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.node, b.node);
  ExpectSame(a.value, b.value, a.id);
  EXPECT_EQ(a.unit, b.unit);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.status, b.status);
}

void ExpectSameMedication(const MedicationEntry& a, const MedicationEntry& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.atc, b.atc);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.dose, b.dose);
  EXPECT_EQ(a.classes, b.classes);
  EXPECT_EQ(a.path, b.path);
}

void ExpectSameUnknown(const UnknownEntry& a, const UnknownEntry& b) {
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.nearest, b.nearest);
}

void ExpectSameCondition(const ConditionEntry& a, const ConditionEntry& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.icd10, b.icd10);
  EXPECT_EQ(a.path, b.path);
}

void ExpectSameLifestyle(const LifestyleValue& a, const LifestyleValue& b) {
  SCOPED_TRACE(a.path);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.value_type, b.value_type);
  ExpectSame(a.number, b.number, "number");
  EXPECT_EQ(a.boolean, b.boolean);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.used, b.used);
  EXPECT_EQ(a.path, b.path);
}

void ExpectSameIssue(const DataQualityIssue& a, const DataQualityIssue& b) {
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.severity, b.severity);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.message, b.message);
}

// Two lists of equal length whose elements `same` compares.
template <typename T, typename Same>
void ExpectSameList(const std::vector<T>& a, const std::vector<T>& b, const char* what, Same same) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) same(a[i], b[i]);
}

// Two maps with the same keys whose values `same` compares.
template <typename Map, typename Same>
void ExpectSameMap(const Map& a, const Map& b, const char* what, Same same) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    ASSERT_EQ(ia->first, ib->first) << what;
    same(ia->second, ib->second);
  }
}

// Every field of the Case.
void ExpectSameCase(const Case& a, const Case& b) {
  EXPECT_EQ(a.case_id, b.case_id);
  ExpectSamePatient(a.patient, b.patient);
  EXPECT_EQ(a.symptoms, b.symptoms);
  ExpectSameMap(a.questionnaires, b.questionnaires, "questionnaires", ExpectSameQuestionnaire);
  ExpectSameList(a.labs, b.labs, "labs", ExpectSameLab);
  ExpectSameList(a.derived, b.derived, "derived", ExpectSameDerived);
  EXPECT_EQ(a.medications_given, b.medications_given);
  ExpectSameList(a.medications, b.medications, "medications", ExpectSameMedication);
  ExpectSameList(a.unknown_medications, b.unknown_medications, "unknown_medications", ExpectSameUnknown);
  EXPECT_EQ(a.conditions_given, b.conditions_given);
  ExpectSameList(a.conditions, b.conditions, "conditions", ExpectSameCondition);
  ExpectSameList(a.unknown_conditions, b.unknown_conditions, "unknown_conditions", ExpectSameUnknown);
  EXPECT_EQ(a.supplements_given, b.supplements_given);
  EXPECT_EQ(a.supplements_current, b.supplements_current);
  EXPECT_EQ(a.supplements_requested, b.supplements_requested);
  ExpectSameMap(a.lifestyle, b.lifestyle, "lifestyle", ExpectSameLifestyle);
  EXPECT_EQ(a.stressors, b.stressors);
  EXPECT_EQ(a.extra, b.extra);
  EXPECT_EQ(a.extra.dump(), b.extra.dump());  // same number types too
  ExpectSameList(a.data_quality, b.data_quality, "data_quality", ExpectSameIssue);
  EXPECT_EQ(a.flags.data_quality_warning, b.flags.data_quality_warning);
  EXPECT_EQ(a.flags.repeat_or_verify_labs, b.flags.repeat_or_verify_labs);
  EXPECT_EQ(a.flags.critical_lab_value, b.flags.critical_lab_value);
  EXPECT_EQ(a.flags.critical_labs, b.flags.critical_labs);
  EXPECT_EQ(CaseToJson(a).dump(), CaseToJson(b).dump());
}

struct Outcome {
  int fast = 0;     // read by the fast path
  int checked = 0;  // texts compared
};

// Both paths, and ParseCase against the strict path (messages included). True when the fast path
// read the text.
bool ExpectBothPathsAgree(const std::string& text, bool strict, const std::string& name) {
  SCOPED_TRACE(name);
  const ParseOptions options{strict, name};
  const Result<Case> slow = ParseCaseStrict(text, RealKb(), options);
  const std::optional<Case> fast = ParseCaseFast(text, RealKb(), options);
  if (fast) {
    EXPECT_TRUE(slow.ok()) << "the fast path read a case the strict path rejects: " << slow.status().message();
    if (slow.ok()) ExpectSameCase(*fast, *slow);
  }
  const Result<Case> chosen = ParseCase(text, RealKb(), options);
  EXPECT_EQ(chosen.ok(), slow.ok());
  if (chosen.ok() && slow.ok()) ExpectSameCase(*chosen, *slow);
  if (!chosen.ok() && !slow.ok()) {
    EXPECT_EQ(chosen.status().message(), slow.status().message());
  }
  return fast.has_value();
}

std::vector<std::filesystem::path> CaseFiles() {
  std::vector<std::filesystem::path> files = nflux::testing::GoldenCaseFiles();
  for (const auto& entry : std::filesystem::directory_iterator(NFLUX_SOURCE_DIR "/examples"))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string Read(const std::filesystem::path& path) {
  Result<std::string> text = ReadFileToString(path.string());
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? *text : std::string();
}

TEST(CaseParsePaths, GoldenCasesAndExamplesGiveTheSameCase) {
  int files = 0, fast = 0;
  for (const auto& path : CaseFiles()) {
    const std::string text = Read(path);
    ++files;
    if (ExpectBothPathsAgree(text, false, path.filename().string())) ++fast;
    ExpectBothPathsAgree(text, true, path.filename().string() + " (strict)");
  }
  EXPECT_GE(files, 100);
  // Nearly every shipped case is plain: the fast path must read them, or it is not the fast path.
  EXPECT_GE(fast * 10, files * 9) << fast << " of " << files;
}

// ---- Variants ----------------------------------------------------------------------------------

// Applies `change` to every value of the document, depth first (objects keep their key order).
void Walk(ordered& value, const std::function<void(ordered&)>& change) {
  if (value.is_object() || value.is_array())
    for (auto& child : value) Walk(child, change);
  change(value);
}

// The same case with every object's keys in reverse order.
ordered Reversed(const ordered& value) {
  if (value.is_array()) {
    ordered out = ordered::array();
    for (const auto& child : value) out.push_back(Reversed(child));
    return out;
  }
  if (!value.is_object()) return value;
  ordered out = ordered::object();
  std::vector<std::string> keys;
  for (auto it = value.begin(); it != value.end(); ++it) keys.push_back(it.key());
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) out[*it] = Reversed(value[*it]);
  return out;
}

// Variants of one case as the batch generator makes them, and bad or unusual ones.
std::vector<std::pair<std::string, std::string>> Variants(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  const ordered base = ordered::parse(text);
  out.emplace_back("compact", base.dump());
  out.emplace_back("reordered", Reversed(base).dump(1));
  for (double factor : {0.02, 0.37, 1.9, 8.0, 75.0, -1.0}) {
    ordered scaled = base;
    if (scaled.contains("labs") && scaled["labs"].is_array())
      for (auto& lab : scaled["labs"])
        if (lab.is_object() && lab.contains("value") && lab["value"].is_number())
          lab["value"] = lab["value"].get<double>() * factor;
    if (scaled.contains("lifestyle") && scaled["lifestyle"].is_object())
      for (auto& value : scaled["lifestyle"])
        if (value.is_number_float()) value = value.get<double>() * factor;
    if (scaled["patient"].is_object() && scaled["patient"].contains("bmi")) scaled["patient"]["bmi"] = 30.0 * factor;
    out.emplace_back("scaled " + FormatNumber(factor), scaled.dump());
  }
  ordered unknown = base;
  unknown["notes"] = "free text";
  out.emplace_back("unknown top-level key", unknown.dump());
  ordered extra = base;
  extra["extra"] = {{"clinic", "north"}, {"visit", 3}, {"weights", {61.5, -2, 0}}, {"nested", {{"b", 1}, {"a", nullptr}}}};
  out.emplace_back("extra", extra.dump());
  if (base.contains("labs") && base["labs"].is_array() && !base["labs"].empty() && base["labs"][0].is_object()) {
    ordered lab_key = base;
    lab_key["labs"][0]["comment"] = "haemolysed";
    out.emplace_back("unknown lab key", lab_key.dump());
    ordered no_unit = base;
    no_unit["labs"][0].erase("unit");
    out.emplace_back("lab without unit", no_unit.dump());
    ordered nulls = base;
    nulls["labs"][0]["date"] = nullptr;
    nulls["labs"][0]["collection_time"] = "08:15";
    nulls["symptoms"] = nullptr;
    out.emplace_back("nulls and a time", nulls.dump());
    ordered twice = base;
    ordered again = base["labs"][0];
    if (again.contains("value") && again["value"].is_number()) again["value"] = again["value"].get<double>() * 1.5;
    twice["labs"].push_back(again);
    out.emplace_back("a lab twice", twice.dump());
    ordered bad_unit = base;
    bad_unit["labs"][0]["unit"] = "mg/dq";
    out.emplace_back("bad unit", bad_unit.dump());
    ordered minus_zero = base;
    out.emplace_back("minus zero", minus_zero.dump().insert(1, "\"extra\":-0,"));
  }
  // Scores written as 2.0, and a score out of range.
  if (base.contains("symptoms") && base["symptoms"].is_object() && !base["symptoms"].empty()) {
    ordered as_double = base;
    Walk(as_double["symptoms"], [](ordered& v) { if (v.is_number_integer()) v = v.get<double>(); });
    out.emplace_back("scores as doubles", as_double.dump());
    ordered out_of_range = base;
    out_of_range["symptoms"].begin().value() = 4;
    out.emplace_back("score out of range", out_of_range.dump());
  }
  std::string twice_key = base.dump();
  twice_key.insert(1, "\"case_id\":\"first\",");
  out.emplace_back("a key twice", twice_key);
  out.emplace_back("syntax error", text.substr(0, text.size() / 2));
  return out;
}

// The case once for every object in it (the root, the patient, each lab, questionnaire, extra...),
// that object's first key given a second time (after its last): the fast path finds the key given
// twice in objects it reads and in objects it skips, and leaves every such case to the strict path.
std::vector<std::pair<std::string, std::string>> KeyGivenTwiceInEachObject(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  const ordered base = ordered::parse(text);
  std::vector<ordered::json_pointer> objects;
  std::function<void(const ordered&, const ordered::json_pointer&)> find = [&](const ordered& value,
                                                                              const ordered::json_pointer& at) {
    if (value.is_object() && !value.empty()) objects.push_back(at);
    if (value.is_object())
      for (auto it = value.begin(); it != value.end(); ++it) find(it.value(), at / it.key());
    if (value.is_array())
      for (size_t i = 0; i < value.size(); ++i) find(value[i], at / i);
  };
  find(base, ordered::json_pointer());
  constexpr const char* kMarker = "\"nflux-test-marker\":0";
  for (const auto& at : objects) {
    ordered changed = base;
    ordered& object = changed[at];
    const std::string first_key = object.begin().key();
    const std::string first_value = object.begin().value().dump();
    object["nflux-test-marker"] = 0;
    std::string twice = changed.dump();
    twice.replace(twice.find(kMarker), std::string(kMarker).size(), ordered(first_key).dump() + ":" + first_value);
    out.emplace_back("key '" + first_key + "' twice in " + (at.empty() ? "/" : at.to_string()), twice);
  }
  return out;
}

TEST(CaseParsePaths, AKeyGivenTwiceInAnyObjectGetsTheStrictPathsMessage) {
  int texts = 0;
  for (const auto& path : CaseFiles()) {
    std::string text = Read(path);
    ordered with_extra = ordered::parse(text);
    with_extra["extra"] = {{"clinic", "north"}, {"nested", {{"b", 1}, {"a", {{"deep", true}}}}}};
    for (const std::string& variant : {text, with_extra.dump()})
      for (const auto& [name, twice] : KeyGivenTwiceInEachObject(variant)) {
        ++texts;
        EXPECT_FALSE(ParseCaseFast(twice, RealKb(), {}).has_value()) << path.filename().string() << " " << name;
        ExpectBothPathsAgree(twice, false, path.filename().string() + " " + name);
      }
  }
  EXPECT_GE(texts, 1000);
}

TEST(CaseParsePaths, VariantsGiveTheSameCaseOrTheSameMessage) {
  int texts = 0, fast = 0;
  for (const auto& path : CaseFiles()) {
    for (const auto& [name, text] : Variants(Read(path))) {
      ++texts;
      if (ExpectBothPathsAgree(text, false, path.filename().string() + " " + name)) ++fast;
      if (name.starts_with("scaled")) ExpectBothPathsAgree(text, true, path.filename().string() + " " + name + " strict");
    }
  }
  EXPECT_GE(texts, 1000);
  EXPECT_GE(fast, texts / 3) << fast << " of " << texts;
}

// The fast path gives up on what it leaves to the strict path.
TEST(CaseParsePaths, FastPathLeavesProblemsToTheStrictPath) {
  const std::string patient = R"("patient":{"sex":"female","age_years":40})";
  const std::string left[] = {
      "{" + patient + R"(,"labs":[{"test":"ferritin","value":30,"unit":"ng/mL","x":1}]})",
      "{" + patient + R"(,"labs":[{"test":"ferritn","value":30,"unit":"ng/mL"}]})",
      "{" + patient + R"(,"symptoms":{"fatigue":1,"fatigue":2}})",
      "{" + patient + R"(,"symptoms":{"fatigue":-0}})",
      "{" + patient + R"(,"symptoms":{"fatigue":4}})",
      R"({"patient":{"sex":"female"}})",
      "{" + patient + ",}",
      "\xef\xbb\xbf{" + patient + "}",
  };
  for (const std::string& text : left) {
    EXPECT_FALSE(ParseCaseFast(text, RealKb(), {}).has_value()) << text;
    ExpectBothPathsAgree(text, false, text);
  }
  EXPECT_TRUE(ParseCaseFast("{" + patient + "}", RealKb(), {}).has_value());
}

}  // namespace
}  // namespace nflux::casefile
