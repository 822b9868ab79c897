// ParseCase: reads a case's JSON, checks every field against shared/contracts/case.md and the
// knowledge base, and builds the normalised Case. Structural problems are collected (all of them)
// and returned together; value problems become data-quality issues.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <simdjson.h>

#include "base/fast_json.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/text.h"
#include "case/case.h"
#include "case/parse_paths.h"
#include "units/units.h"

namespace nflux::casefile {
namespace {

using knowledge::NodeKind;
using nlohmann::json;

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  out += text;
  out += '\'';
  return out;
}

bool IsDigits(const std::string& text, size_t from, size_t count) {
  if (from + count > text.size()) return false;
  for (size_t i = from; i < from + count; ++i)
    if (text[i] < '0' || text[i] > '9') return false;
  return true;
}

// "YYYY-MM-DD", a day of the calendar.
bool IsDate(const std::string& text) { return IsCalendarDate(text); }

// "HH:MM" or "HH:MM:SS", 24-hour clock.
bool IsTime(const std::string& text) {
  if (text.size() != 5 && text.size() != 8) return false;
  if (text[2] != ':' || !IsDigits(text, 0, 2) || !IsDigits(text, 3, 2)) return false;
  if (std::stoi(text.substr(0, 2)) > 23 || std::stoi(text.substr(3, 2)) > 59) return false;
  if (text.size() == 8 && (text[5] != ':' || !IsDigits(text, 6, 2) || std::stoi(text.substr(6, 2)) > 59)) return false;
  return true;
}

// "0-10000", ">= 20", "<= 1000".
std::string Limits(const std::optional<double>& low, const std::optional<double>& high) {
  if (low && high) return FormatNumber(*low) + "-" + FormatNumber(*high);
  if (low) return ">= " + FormatNumber(*low);
  if (high) return "<= " + FormatNumber(*high);
  return "any";
}

// Free text as an id would spell it, for "did you mean": "Sertraline HCl" -> "sertraline_hcl".
std::string AsId(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

// A medication's or condition's text fields by name; std::less<>: found by a literal name
// without building a string.
using TextFields = std::map<std::string, std::string, std::less<>>;

// A text field read by ReadTextFields, or "" when it was not given.
const std::string& Get(const TextFields& fields, std::string_view name) {
  static const std::string kNone;
  auto it = fields.find(name);
  return it == fields.end() ? kNone : it->second;
}

// The lists of a case with their limits (base/limits.h); supplements' two lists are checked where read.
constexpr std::array<std::pair<std::string_view, size_t>, 6> kListLimits = {{
    {"labs", limits::kMaxLabs},
    {"symptoms", limits::kMaxListItems},
    {"questionnaires", limits::kMaxListItems},
    {"medications", limits::kMaxListItems},
    {"conditions", limits::kMaxListItems},
    {"stressors", limits::kMaxListItems},
}};

const std::vector<std::string> kTopFields = {"case_id", "patient",     "symptoms",  "questionnaires",
                                             "labs",    "medications", "supplements", "conditions",
                                             "lifestyle", "stressors", "extra"};
const std::vector<std::string> kPatientFields = {"sex",       "age_years",         "pregnant", "gestational_age_weeks",
                                                 "lactating", "menopausal_status", "bmi"};
const std::vector<std::string> kLabFields = {"test", "loinc", "value", "unit", "date", "collection_time"};
const std::vector<std::string> kMedicationFields = {"id", "atc", "name", "dose"};
const std::vector<std::string> kConditionFields = {"id", "icd10"};
const std::vector<std::string> kSupplementFields = {"current", "requested"};
const std::vector<std::string> kMenopausalStatuses = {"premenopausal", "perimenopausal", "postmenopausal"};

// Possible ranges for patient fields; beyond them a value is impossible (case.md: age over 130).
constexpr double kMaxAgeYears = 130;
constexpr double kMaxGestationalAgeWeeks = 45;
constexpr double kMinBmi = 8;
constexpr double kMaxBmi = 150;
// Two results of one lab disagree when they differ by more than this fraction of the larger one.
constexpr double kLabAgreement = 0.05;
// Postmenopausal this young is unusual enough to check (reference sheet, section d).
constexpr double kEarlyMenopauseAge = 30;

// A JSON path built only when a message needs it: `parent`, or `parent` + "/" + `key`. Views:
// REQUIRES both outlive it.
class LazyPath {
 public:
  LazyPath(const std::string& path) : parent_(path) {}  // NOLINT: any full path is one
  LazyPath(std::string_view parent, std::string_view key) : parent_(parent), key_(key), kind_(Kind::kKey) {}
  LazyPath(std::string_view parent, size_t index) : parent_(parent), index_(index), kind_(Kind::kIndex) {}
  std::string Str() const {
    if (kind_ == Kind::kKey) return JsonChild(parent_, key_);
    if (kind_ == Kind::kIndex) return JsonChild(parent_, index_);
    return std::string(parent_);
  }

 private:
  enum class Kind { kWhole, kKey, kIndex };
  std::string_view parent_;
  std::string_view key_;
  size_t index_ = 0;
  Kind kind_ = Kind::kWhole;
};

class Parser {
 public:
  Parser(const knowledge::KnowledgeBase& kb, const ParseOptions& options) : kb_(kb), options_(options) {}

  Result<Case> Run(std::string_view text) {
    StrictJson parsed = ParseJsonStrict(text);
    if (parsed.syntax_error) return SyntaxError(*parsed.syntax_error);
    // A key given twice (two "ferritin" entries in one object) would silently lose one value.
    for (const auto& path : parsed.duplicate_keys) Error(path, "key given twice; the earlier value would be lost");
    json document = std::move(parsed.value);
    if (!document.is_object()) {
      Error("", "expected the case to be a JSON object, got " + JsonTypeWithArticle(document));
      return Finish();
    }
    CheckFields(document, "", kTopFields);
    if (!WithinListLimits(document)) return Finish();
    if (const json* id = JsonReader::Field(document, "case_id")) {
      if (id->is_string()) case_.case_id = id->get<std::string>();
      else reader_.WrongType("/case_id", "a string", *id);
    }
    ParsePatient(document);
    if (const json* symptoms = JsonReader::Field(document, "symptoms")) ParseScores(*symptoms, "/symptoms", Kinds::kSymptom);
    if (const json* questionnaires = JsonReader::Field(document, "questionnaires")) ParseQuestionnaires(*questionnaires);
    if (const json* labs = JsonReader::Field(document, "labs")) ParseLabs(*labs);
    if (const json* medications = JsonReader::Field(document, "medications")) ParseMedications(*medications);
    if (const json* supplements = JsonReader::Field(document, "supplements")) ParseSupplements(*supplements);
    if (const json* conditions = JsonReader::Field(document, "conditions")) ParseConditions(*conditions);
    if (const json* lifestyle = JsonReader::Field(document, "lifestyle")) ParseLifestyle(*lifestyle);
    if (const json* stressors = JsonReader::Field(document, "stressors")) ParseScores(*stressors, "/stressors", Kinds::kStressor);
    if (document.contains("extra")) case_.extra = document["extra"];
    CheckWholeCase();
    return Finish();
  }

  // Each list within its limit (README "Limits"); a case over one is refused before any of it is
  // read, so no list can make the checks between entries (two results of one lab...) run long.
  bool WithinListLimits(const json& document) {
    bool within = true;
    for (const auto& [field, limit] : kListLimits) {
      const json* list = JsonReader::Field(document, field);
      if (list == nullptr || !(list->is_array() || list->is_object()) || list->size() <= limit) continue;
      Error(JsonChild("", field), std::to_string(list->size()) + " entries, more than the limit of " +
                                      std::to_string(limit));
      within = false;
    }
    return within;
  }

  // The case `root` holds when it is plain and valid (the usual case): read straight from
  // simdjson's document, with the strict path's checks and findings. nullopt as soon as anything
  // would be reported or is unusual; the caller then runs the strict path on a new Parser.
  std::optional<Case> RunFast(simdjson::dom::element root, std::string_view text) {
    if (!ReadFast(root, text) || !errors_.empty()) return std::nullopt;
    return std::move(case_);
  }

 private:
  // The checks that need the whole case, once every field is read.
  void CheckWholeCase() {
    CheckPatientContradictions();
    CheckLabAgreement();
    RateAgainstCaseLimits();
    case_.derived = ComputeDerived(case_, kb_);
    SetFlags();
  }

  enum class Kinds { kSymptom, kStressor };

  // ---- Reporting -----------------------------------------------------------------------------

  void Error(const std::string& path, const std::string& message) {
    std::string line;
    if (!options_.source_name.empty()) {
      line += options_.source_name;
      line += ": ";
    }
    if (!path.empty()) {
      line += path;
      line += ": ";
    }
    line += message;
    errors_.push_back(std::move(line));
  }

  // A value problem. Under strict, one of severity error is a structural problem instead.
  void Issue(const std::string& path, Severity severity, const char* code, const std::string& message) {
    if (options_.strict && severity == Severity::kError) {
      Error(path, message + " (rejected in strict mode)");
      return;
    }
    case_.data_quality.push_back({path, severity, code, message});
  }

  Result<Case> SyntaxError(const JsonSyntaxError& error) {
    const int line = error.line, column = error.column;
    std::string message = options_.source_name.empty() ? std::string("case") : options_.source_name;
    message += ':';
    message += std::to_string(line);
    message += ':';
    message += std::to_string(column);
    message += ": invalid JSON: ";
    message += error.message;
    return Status::InvalidArgument(message);
  }

  Result<Case> Finish() {
    if (!errors_.empty()) return Status::InvalidArgument(Join(errors_, "\n"));
    return std::move(case_);
  }

  // ---- Generic checks ------------------------------------------------------------------------

  // Every key of `object` must be one of `allowed`.
  void CheckFields(const json& object, const std::string& path, const std::vector<std::string>& allowed) {
    if (!object.is_object()) return;
    for (const auto& [key, value] : object.items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) UnknownField(path, key, allowed);
  }

  void UnknownField(const std::string& path, const std::string& key, const std::vector<std::string>& allowed) {
    std::string message = "unknown field " + Quote(key) + DidYouMean(key, allowed);
    if (path.empty()) message += "; other data belongs under \"extra\"";
    Error(JsonChild(path, key), message);
  }

  // The node `id` names when it is of one of `kinds`; else reports an unknown id with the nearest
  // ids of those kinds, or an id of another kind.
  const knowledge::Node* Resolve(const std::string& id, std::initializer_list<NodeKind> kinds, const char* what,
                                 const LazyPath& at) {
    const knowledge::Node* node = kb_.Find(id);
    if (node != nullptr && std::find(kinds.begin(), kinds.end(), node->kind) != kinds.end()) return node;
    const std::string path = at.Str();
    if (node != nullptr) {
      Error(path, Quote(id) + " is a " + std::string(knowledge::KindName(node->kind)) + ", not a " + what);
      return nullptr;
    }
    std::vector<std::string> candidates;
    for (NodeKind kind : kinds) {
      std::vector<std::string> ids = kb_.IdsOfKind(kind);
      candidates.insert(candidates.end(), ids.begin(), ids.end());
    }
    Error(path, "unknown " + std::string(what) + " " + Quote(id) + DidYouMean(id, candidates));
    return nullptr;
  }

  // A string field of an object, or a report at its path (built only then).
  const std::string* TextField(const json& value, const std::string& object_path, std::string_view key) {
    if (value.is_string()) return &value.get_ref<const std::string&>();
    reader_.WrongType(JsonChild(object_path, key), "a string", value);
    return nullptr;
  }

  // ---- Patient -------------------------------------------------------------------------------

  void ParsePatient(const json& document) {
    const json* patient = JsonReader::Field(document, "patient");
    if (patient == nullptr) {
      Error("", "missing required field 'patient' (with sex and age_years)");
      return;
    }
    if (!reader_.Object(*patient, "/patient")) return;
    CheckFields(*patient, "/patient", kPatientFields);
    PatientInfo& p = case_.patient;

    if (const json* sex = JsonReader::Field(*patient, "sex")) {
      if (std::optional<Sex> value = reader_.Enum<Sex>(*sex, "/patient/sex")) p.sex = *value;
    } else {
      Error("/patient", "missing required field 'sex' ('female' or 'male')");
    }

    if (const json* age = JsonReader::Field(*patient, "age_years")) {
      if (std::optional<double> years = reader_.Number(*age, "/patient/age_years")) SetAge(*years);
    } else {
      Error("/patient", "missing required field 'age_years'");
    }

    if (const json* pregnant = JsonReader::Field(*patient, "pregnant")) p.pregnant = reader_.Bool(*pregnant, "/patient/pregnant");
    if (const json* lactating = JsonReader::Field(*patient, "lactating")) p.lactating = reader_.Bool(*lactating, "/patient/lactating");
    if (const json* weeks = JsonReader::Field(*patient, "gestational_age_weeks")) {
      if (std::optional<double> value = reader_.Number(*weeks, "/patient/gestational_age_weeks"))
        SetGestationalAge(*value);
    }
    if (const json* status = JsonReader::Field(*patient, "menopausal_status")) {
      if (auto text = reader_.OneOf(*status, "/patient/menopausal_status", kMenopausalStatuses))
        p.menopausal_status = *text;
    }
    if (const json* bmi = JsonReader::Field(*patient, "bmi")) {
      if (std::optional<double> value = reader_.Number(*bmi, "/patient/bmi")) SetBmi(*value);
    }
  }

  // The numeric patient fields, with their impossible-value findings (both paths).
  void SetAge(double years) {
    case_.patient.age_years = years;
    if (years < 0 || years > kMaxAgeYears) {
      case_.patient.age_excluded = true;
      Issue("/patient/age_years", Severity::kError, "impossible_value",
            "age " + FormatNumber(years) + " years is impossible (0-" + FormatNumber(kMaxAgeYears) +
                "); excluded: no age-specific range or rule is applied, and age-restricted safety checks "
                "count as applying");
    } else if (years < 1) {
      // A newborn is possible, but far more often months or a missing value were typed as 0.
      Issue("/patient/age_years", Severity::kWarning, "implausible_value",
            "age " + FormatNumber(years) + " years is an infant: check that the age is in years; "
            "the adult ranges and advice here do not apply");
    }
  }

  void SetGestationalAge(double weeks) {
    if (weeks < 0 || weeks > kMaxGestationalAgeWeeks) {
      Issue("/patient/gestational_age_weeks", Severity::kError, "impossible_value",
            "gestational age " + FormatNumber(weeks) + " weeks is impossible (0-" +
                FormatNumber(kMaxGestationalAgeWeeks) + "); excluded");
    } else {
      case_.patient.gestational_age_weeks = weeks;
    }
  }

  void SetBmi(double bmi) {
    if (bmi < kMinBmi || bmi > kMaxBmi) {
      Issue("/patient/bmi", Severity::kError, "impossible_value",
            "BMI " + FormatNumber(bmi) + " is impossible (" + FormatNumber(kMinBmi) + "-" + FormatNumber(kMaxBmi) +
                "); excluded");
    } else {
      case_.patient.bmi = bmi;
    }
  }

  void CheckPatientContradictions() {
    const PatientInfo& p = case_.patient;
    if (p.sex == Sex::kMale && p.pregnant.value_or(false)) {
      Issue("/patient/pregnant", Severity::kWarning, "contradiction",
            "/patient/pregnant is true but /patient/sex is male; check both");
    }
    if (p.gestational_age_weeks && p.pregnant == false) {
      Issue("/patient/gestational_age_weeks", Severity::kWarning, "contradiction",
            "/patient/gestational_age_weeks is given but /patient/pregnant is false; check both");
    }
    if (p.menopausal_status == "postmenopausal" && p.Age() && *p.Age() < kEarlyMenopauseAge) {
      Issue("/patient/menopausal_status", Severity::kWarning, "contradiction",
            "postmenopausal at /patient/age_years " + FormatNumber(p.age_years) +
                " is unusual (premature ovarian insufficiency or surgery?); check both");
    }
  }

  // ---- Symptoms and stressors ----------------------------------------------------------------

  void ParseScores(const json& value, const std::string& path, Kinds kinds) {
    if (!reader_.Object(value, path)) return;
    const bool symptoms = kinds == Kinds::kSymptom;
    for (const auto& [id, score] : value.items()) {
      const LazyPath at(path, id);
      const knowledge::Node* node =
          symptoms ? Resolve(id, {NodeKind::kSymptom}, "symptom", at)
                   : Resolve(id, {NodeKind::kStressor, NodeKind::kCondition}, "stressor", at);
      if (score.is_null()) continue;  // not known
      std::optional<int> checked = IntegerInRange(score, at, 0, 3, "score");
      if (node && checked) (symptoms ? case_.symptoms : case_.stressors)[id] = {*checked, kb_.PositionOf(*node)};
    }
  }

  // JsonReader::IntegerInRange, with the path built only for a message (an integer written as
  // 3.0 goes the reader's way too).
  std::optional<int> IntegerInRange(const json& value, const LazyPath& at, int low, int high, std::string_view what) {
    if (value.is_number_unsigned()) {
      const json::number_unsigned_t n = value.get<json::number_unsigned_t>();
      if (high >= 0 && n <= static_cast<json::number_unsigned_t>(high) && static_cast<long long>(n) >= low)
        return static_cast<int>(n);
    } else if (value.is_number_integer()) {
      const json::number_integer_t n = value.get<json::number_integer_t>();
      if (n >= low && n <= high) return static_cast<int>(n);
    }
    return reader_.IntegerInRange(value, at.Str(), low, high, what);
  }

  // ---- Questionnaires ------------------------------------------------------------------------

  void ParseQuestionnaires(const json& value) {
    if (!reader_.Object(value, "/questionnaires")) return;
    for (const auto& [id, entry] : value.items()) {
      const std::string path = JsonChild("/questionnaires", id);
      const knowledge::Node* node = Resolve(id, {NodeKind::kQuestionnaire}, "questionnaire", path);
      if (entry.is_null()) continue;
      if (!reader_.Object(entry, path) || node == nullptr || !node->questionnaire) continue;
      ParseQuestionnaire(id, *node, entry, path);
    }
  }

  void ParseQuestionnaire(const std::string& id, const knowledge::Node& node, const json& entry,
                          const std::string& path) {
    const knowledge::Questionnaire& q = *node.questionnaire;
    QuestionnaireResult result;
    result.id = id;
    result.node = kb_.PositionOf(node);
    result.path = path;
    result.safety_item = q.safety_item;
    const size_t errors_before = errors_.size();

    if (q.result_only) {
      ParseResultOnly(entry, path, result);
      if (errors_.size() == errors_before) case_.questionnaires[id] = std::move(result);
      return;
    }

    std::vector<std::string> allowed = {"items", "total"};
    const std::string safety_field = q.safety_item ? "item" + std::to_string(*q.safety_item) : "";
    if (q.safety_item) allowed.push_back(safety_field);
    CheckFields(entry, path, allowed);

    const json* items = JsonReader::Field(entry, "items");
    const json* total = JsonReader::Field(entry, "total");
    const json* safety = q.safety_item ? JsonReader::Field(entry, safety_field.c_str()) : nullptr;
    if (items == nullptr && total == nullptr && safety == nullptr) {
      Error(path, "give 'items' (preferred) or 'total'");
      return;
    }

    std::optional<int> scored;
    if (items != nullptr) scored = ScoreGivenItems(q, *items, JsonChild(path, "items"), result);
    std::optional<long long> given_total;
    if (total != nullptr) given_total = reader_.Integer(*total, JsonChild(path, "total"));
    std::optional<int> given_safety;
    if (safety != nullptr)
      given_safety = reader_.IntegerInRange(*safety, JsonChild(path, safety_field), q.item_min, q.item_max, "answer");
    if (errors_.size() != errors_before) return;
    FinishQuestionnaire(q, scored, given_total, given_safety, result);
  }

  // Totals, the safety item, band and cut-off from the answers read (both paths).
  void FinishQuestionnaire(const knowledge::Questionnaire& q, std::optional<int> scored,
                           std::optional<long long> given_total, std::optional<int> given_safety,
                           QuestionnaireResult& result) {
    const std::string& path = result.path;
    const std::string safety_field = q.safety_item ? "item" + std::to_string(*q.safety_item) : "";
    result.total = ChooseTotal(q, path, scored, given_total);
    if (q.safety_item) {
      std::optional<int> from_items = result.Item(*q.safety_item);
      if (from_items && given_safety && *from_items != *given_safety) {
        Issue(JsonChild(path, safety_field), Severity::kWarning, "item_mismatch",
              safety_field + " " + std::to_string(*given_safety) + " differs from " +
                  JsonChild(JsonChild(path, "items"), static_cast<size_t>(*q.safety_item - 1)) + " (" +
                  std::to_string(*from_items) + "); the items are used");
      }
      result.safety_item_value = from_items ? from_items : given_safety;
    }
    if (result.total) {
      result.band = BandFor(q, *result.total);
      // AUDIT-C's cut-off is lower for women: the knowledge base gives one per sex.
      if (std::optional<int> cut = q.PositiveAt(case_.patient.sex)) result.positive = *result.total >= *cut;
    }
    std::string id = result.id;
    case_.questionnaires[std::move(id)] = std::move(result);
  }

  // The total inference uses: the item sum when items were given, else the typed total. A typed
  // total outside the possible range is a data-quality finding, never a rejection (case.md): with
  // items the item sum is used (warning), without them the total is excluded (error).
  std::optional<int> ChooseTotal(const knowledge::Questionnaire& q, const std::string& path, std::optional<int> scored,
                                 std::optional<long long> given) {
    const LazyPath total_path(path, "total");
    const LazyPath items_path(path, "items");
    const int min_total = q.items * q.item_min, max_total = q.items * q.item_max;
    if (given && (*given < min_total || *given > max_total)) {
      const std::string said = "total " + std::to_string(*given) + " is outside the possible range " +
                               std::to_string(min_total) + "-" + std::to_string(max_total);
      if (scored)
        Issue(total_path.Str(), Severity::kWarning, "total_out_of_range",
              said + "; the sum of " + items_path.Str() + " (" + std::to_string(*scored) + ") is used");
      else
        Issue(total_path.Str(), Severity::kError, "total_out_of_range", said + "; excluded");
      return scored;
    }
    if (scored && given && *scored != *given)
      Issue(total_path.Str(), Severity::kWarning, "total_mismatch",
            "total " + std::to_string(*given) + " differs from the sum of " + items_path.Str() + " (" +
                std::to_string(*scored) + "); the item sum is used");
    if (scored) return scored;
    if (given) return static_cast<int>(*given);
    return std::nullopt;
  }

  // A questionnaire given only as a result (MDQ): 'positive' or 'negative'.
  void ParseResultOnly(const json& entry, const std::string& path, QuestionnaireResult& result) {
    CheckFields(entry, path, {"result"});
    const json* given = JsonReader::Field(entry, "result");
    if (given == nullptr) {
      Error(path, "missing required field 'result' ('positive' or 'negative')");
      return;
    }
    if (std::optional<std::string> text = reader_.OneOf(*given, JsonChild(path, "result"), {"positive", "negative"})) {
      result.result = *text;
      result.positive = *text == "positive";
    }
  }

  // The item answers, scored (reverse items applied); nullopt when any answer is unusable.
  std::optional<int> ScoreGivenItems(const knowledge::Questionnaire& q, const json& items, const std::string& items_path,
                                     QuestionnaireResult& result) {
    if (!items.is_array()) {
      reader_.WrongType(items_path, "an array", items);
      return std::nullopt;
    }
    if (items.size() != static_cast<size_t>(q.items)) {
      Error(items_path, "expected " + std::to_string(q.items) + " answers, got " + std::to_string(items.size()));
      return std::nullopt;
    }
    bool all = true;
    result.items.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      std::optional<int> answer = IntegerInRange(items[i], LazyPath(items_path, i), q.item_min, q.item_max, "answer");
      if (answer) result.items.push_back(*answer);
      else all = false;
    }
    if (all) return ScoreItems(q, result.items);
    result.items.clear();
    return std::nullopt;
  }

  // ---- Labs ----------------------------------------------------------------------------------

  void ParseLabs(const json& value) {
    if (!value.is_array()) {
      reader_.WrongType("/labs", "an array", value);
      return;
    }
    case_.labs.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) ParseLab(value[i], JsonChild("/labs", i));
  }

  // The fields of one lab entry, read in one pass over it (absent or null: nullptr).
  struct LabFields {
    const json* test = nullptr;
    const json* loinc = nullptr;
    const json* value = nullptr;
    const json* unit = nullptr;
    const json* date = nullptr;
    const json* time = nullptr;
  };

  // Reports unknown fields as CheckFields does (same order: the object's key order).
  LabFields ReadLabFields(const json& entry, const std::string& path) {
    LabFields f;
    for (const auto& [key, value] : entry.items()) {
      const json** slot = key == "test" ? &f.test : key == "loinc" ? &f.loinc : key == "value" ? &f.value
                        : key == "unit" ? &f.unit : key == "date" ? &f.date : key == "collection_time" ? &f.time
                        : nullptr;
      if (slot == nullptr) UnknownField(path, key, kLabFields);
      else if (!value.is_null()) *slot = &value;
    }
    return f;
  }

  void ParseLab(const json& entry, const std::string& path) {
    if (!reader_.Object(entry, path)) return;
    const LabFields f = ReadLabFields(entry, path);
    const size_t errors_before = errors_.size();
    const knowledge::Node* node = LabNode(f, path);

    std::optional<double> value;
    if (f.value != nullptr) {
      if (f.value->is_number()) value = f.value->get<double>();
      else reader_.WrongType(JsonChild(path, "value"), "a number", *f.value);
    } else {
      Error(path, "missing required field 'value'");
    }
    const std::string* unit = nullptr;
    if (f.unit != nullptr) unit = TextField(*f.unit, path, "unit");
    LabResult lab;
    ReadLabTimes(f, path, lab);
    if (node == nullptr || !node->lab) return;
    const knowledge::Lab& info = *node->lab;
    // Converted here, once: a unit that converts is accepted (Lab::Accepts), so no check is needed.
    std::optional<double> converted;
    if (unit != nullptr && !unit->empty()) {
      if (value) converted = ConvertedOrNothing(info, *unit, *value);
      if (!converted) CheckUnit(*unit, *node, path);
    }
    if (errors_.size() != errors_before || !value) return;
    AddLab(*node, *value, unit != nullptr ? std::string_view(*unit) : std::string_view(), converted, path, lab);
  }

  // A lab entry read without problems, rated and added (both paths). `times` holds its date and time.
  void AddLab(const knowledge::Node& node, double value, std::string_view unit, std::optional<double> converted,
              const std::string& path, LabResult& times) {
    const knowledge::Lab& info = *node.lab;
    // Built in place: a LabResult is large, and moving one in moved all its strings.
    LabResult& lab = case_.labs.emplace_back();
    lab.date = std::move(times.date);
    lab.collection_time = std::move(times.collection_time);
    lab.test = node.id;
    lab.node = kb_.PositionOf(node);
    lab.loinc = info.loinc;
    lab.input_value = value;
    lab.input_unit = unit;
    lab.unit = info.analyte.canonical_unit;
    lab.path = path;
    lab.value = converted;
    EvaluateLab(lab, node);
    lab_nodes_.push_back(&node);
  }

  static std::optional<double> ConvertedOrNothing(const knowledge::Lab& info, const std::string& unit, double value) {
    Result<double> converted = info.to_canonical->FromUnit(unit, value);
    return converted.ok() ? std::optional<double>(*converted) : std::nullopt;
  }

  // The lab a lab entry names by test id and/or LOINC code (they must agree); nullptr after reporting.
  const knowledge::Node* LabNode(const LabFields& f, const std::string& path) {
    const knowledge::Node* by_test = nullptr;
    const knowledge::Node* by_loinc = nullptr;
    if (f.test != nullptr) {
      if (const std::string* id = TextField(*f.test, path, "test"))
        by_test = Resolve(*id, {NodeKind::kLab}, "lab", LazyPath(path, "test"));
    }
    if (f.loinc != nullptr) {
      if (const std::string* code = TextField(*f.loinc, path, "loinc")) {
        by_loinc = kb_.FindLabByLoinc(*code);
        if (by_loinc == nullptr) Error(JsonChild(path, "loinc"), "unknown LOINC code " + Quote(*code) + DidYouMean(*code, LoincCodes()));
      }
    }
    if (f.test == nullptr && f.loinc == nullptr) Error(path, "a lab needs 'test' or 'loinc'");
    if (by_test && by_loinc && by_test != by_loinc) {
      Error(JsonChild(path, "loinc"), "LOINC " + by_loinc->lab->loinc + " is " + by_loinc->id + ", but " +
                                      JsonChild(path, "test") + " is " + by_test->id);
    }
    return by_test ? by_test : by_loinc;
  }

  void ReadLabTimes(const LabFields& f, const std::string& path, LabResult& lab) {
    if (f.date != nullptr) {
      if (const std::string* text = TextField(*f.date, path, "date")) {
        if (IsDate(*text)) lab.date = *text;
        else Error(JsonChild(path, "date"), "expected a date YYYY-MM-DD, got " + Quote(*text));
      }
    }
    if (f.time != nullptr) {
      if (const std::string* text = TextField(*f.time, path, "collection_time")) {
        if (IsTime(*text)) lab.collection_time = *text;
        else Error(JsonChild(path, "collection_time"), "expected a time HH:MM, got " + Quote(*text));
      }
    }
  }

  std::vector<std::string> LoincCodes() const {
    std::vector<std::string> codes;
    for (const std::string& id : kb_.IdsOfKind(NodeKind::kLab)) {
      const knowledge::Node* node = kb_.Find(id);
      if (node->lab && !node->lab->loinc.empty()) codes.push_back(node->lab->loinc);
    }
    return codes;
  }

  // A unit must parse and convert to the lab's canonical unit.
  void CheckUnit(const std::string& unit, const knowledge::Node& node, const std::string& lab_path) {
    const knowledge::Lab& info = *node.lab;
    if (info.Accepts(unit)) return;
    const std::string path = JsonChild(lab_path, "unit");
    Result<units::Unit> parsed = units::ParseUnit(unit);
    if (!parsed.ok()) {
      Error(path, parsed.status().message());
      return;
    }
    std::string message = "unit " + Quote(unit) + " (" + units::DescribeDimension(*parsed) + ") does not fit " +
                          node.id + ", measured in " + info.analyte.canonical_unit;
    Result<units::Unit> canonical = units::ParseUnit(info.analyte.canonical_unit);
    if (canonical.ok()) message += " (" + units::DescribeDimension(*canonical) + ")";
    message += "; accepted units: " + Join(info.units, ", ");
    Error(path, message);
  }

  // "ferritin 45000 pmol/L (= 20025 ng/mL)" or "ferritin 20000 ng/mL".
  static std::string Describe(const LabResult& lab) {
    std::string text = lab.test + " " + FormatNumber(lab.input_value);
    if (!lab.input_unit.empty()) text += " " + lab.input_unit;
    if (lab.value && lab.input_unit != lab.unit && !lab.unit_assumed) {
      text += " (= ";
      text += FormatNumber(*lab.value, 4);
      text += " ";
      text += lab.unit;
      text += ")";
    }
    return text;
  }

  // Converts to the canonical unit, applies the plausible and critical limits and rates the value
  // against the patient's reference and optimal ranges.
  void EvaluateLab(LabResult& lab, const knowledge::Node& node) {
    const knowledge::Lab& info = *node.lab;
    const LazyPath value_path(lab.path, "value");
    std::string unit = lab.input_unit;
    if (unit.empty()) {
      if (info.units.size() == 1 || info.UnitsInterchangeable()) {
        unit = info.analyte.canonical_unit;
        lab.unit_assumed = true;
        Issue(JsonChild(lab.path, "unit"), Severity::kWarning, "assumed_unit",
              lab.test + " " + FormatNumber(lab.input_value) + " has no unit; assumed " + unit +
                  (info.units.size() == 1 ? ", its only accepted unit" : " (its accepted units give the same number)"));
      }
    }
    if (lab.unit_assumed) lab.value = ConvertedOrNothing(info, unit, lab.input_value);

    const knowledge::Patient patient = case_.patient.ForRanges();
    if (const knowledge::LabRange* range = info.ReferenceFor(patient)) {
      lab.reference_low = range->low;
      lab.reference_high = range->high;
    }

    if (lab.input_value < 0) {
      lab.used = false;
      Issue(value_path.Str(), Severity::kError, "impossible_value",
            Describe(lab) + " is negative, which is impossible; excluded");
      return;
    }
    if (!lab.value && lab.input_unit.empty()) {
      lab.used = false;
      Issue(JsonChild(lab.path, "unit"), Severity::kError, "missing_unit",
            lab.test + " " + FormatNumber(lab.input_value) + " has no unit and could be in " + Join(info.units, ", ") +
                "; excluded");
      return;
    }
    // An accepted unit that did not convert: the result was past a double (1.7e308 in a unit whose
    // conversion multiplies).
    if (!lab.value) {
      lab.used = false;
      Issue(value_path.Str(), Severity::kError, "impossible_value",
            lab.test + " " + FormatNumber(lab.input_value) + " " + lab.input_unit + " is out of range once converted to " +
                lab.unit + "; excluded");
      return;
    }
    const double v = *lab.value;
    if ((info.plausible_min && v < *info.plausible_min) || (info.plausible_max && v > *info.plausible_max)) {
      lab.used = false;
      std::string limits = Limits(info.plausible_min, info.plausible_max);
      limits += " ";
      limits += lab.unit;
      Issue(value_path.Str(), Severity::kError, "impossible_value",
            Describe(lab) + " is outside the plausible range " + limits + " (an entry or unit error?); excluded");
      return;
    }
    if (info.critical_low && v < *info.critical_low) {
      lab.critical = true;
      Issue(value_path.Str(), Severity::kWarning, "critical_value",
            Describe(lab) + " is below the critical limit " + FormatNumber(*info.critical_low) + " " + lab.unit +
                "; needs prompt medical review, not supplement or lifestyle advice");
    } else if (info.critical_high && v > *info.critical_high) {
      lab.critical = true;
      Issue(value_path.Str(), Severity::kWarning, "critical_value",
            Describe(lab) + " is above the critical limit " + FormatNumber(*info.critical_high) + " " + lab.unit +
                "; needs prompt medical review, not supplement or lifestyle advice");
    }
    if (lab.reference_low || lab.reference_high) {
      if (lab.reference_low && v < *lab.reference_low) lab.status = LabStatus::kLow;
      else if (lab.reference_high && v > *lab.reference_high) lab.status = LabStatus::kHigh;
      else lab.status = LabStatus::kNormal;
    }
  }

  // The optimal range and the decision limit of every lab: both may depend on the rest of the case
  // (ferritin's limit on hs-CRP, its restless-legs optimum on the symptom), so they are rated once
  // everything is read.
  void RateAgainstCaseLimits() {
    const knowledge::Patient patient = case_.patient.ForRanges();
    const knowledge::Lab::CriterionTest holds = [this](const knowledge::Criterion& c) { return Meets(case_, c); };
    for (size_t i = 0; i < case_.labs.size(); ++i) {
      LabResult& lab = case_.labs[i];
      const knowledge::Node* node = lab_nodes_[i];
      if (!node->lab) continue;
      if (const knowledge::LabRange* range = node->lab->OptimalFor(patient, holds)) {
        lab.has_optimal = true;
        lab.optimal_low = range->low;
        lab.optimal_high = range->high;
      }
      if (!lab.used || !lab.value) continue;
      RateOptimal(lab);
      if (const knowledge::DecisionLimit* limit = node->lab->LimitFor(patient, holds)) {
        const bool below = limit->side == knowledge::LimitSide::kBelow;
        lab.decision = LabDecision{limit->side, limit->value, below ? *lab.value < limit->value : *lab.value > limit->value,
                                   limit->label, limit->means, limit->citations};
      }
    }
  }

  static void RateOptimal(LabResult& lab) {
    if (!lab.has_optimal) return;
    const double v = *lab.value;
    if (lab.optimal_low && v < *lab.optimal_low) lab.optimal_status = OptimalStatus::kLow;
    else if (lab.optimal_high && v > *lab.optimal_high) lab.optimal_status = OptimalStatus::kHigh;
    else lab.optimal_status = OptimalStatus::kOptimal;
  }

  // One lab twice with the same date (or both undated), disagreeing by more than 5 % after
  // conversion. Results on different dates are a time series, not a contradiction.
  void CheckLabAgreement() {
    const std::vector<LabResult>& labs = case_.labs;
    for (size_t j = 0; j < labs.size(); ++j) {
      if (!labs[j].used || !labs[j].value) continue;
      for (size_t i = 0; i < j; ++i) {
        const LabResult& a = labs[i];
        const LabResult& b = labs[j];
        if (a.test != b.test || !a.used || !a.value) continue;
        if (a.date != b.date) continue;
        const double larger = std::max(std::abs(*a.value), std::abs(*b.value));
        if (std::abs(*a.value - *b.value) <= kLabAgreement * larger) continue;
        Issue(JsonChild(b.path, "value"), Severity::kWarning, "conflicting_values",
              b.test + " at " + a.path + " (" + FormatNumber(*a.value, 4) + " " + a.unit + ") and " + b.path + " (" +
                  FormatNumber(*b.value, 4) + " " + b.unit + ") differ by more than 5 %; the " +
                  (Lab(b.test) == &b ? "later" : "earlier") + " is used");
        break;
      }
    }
  }

  const LabResult* Lab(const std::string& id) const { return case_.Lab(id); }

  // ---- Medications, conditions, supplements --------------------------------------------------

  void ParseMedications(const json& value) {
    if (!value.is_array()) {
      reader_.WrongType("/medications", "an array", value);
      return;
    }
    case_.medications_given = true;
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string path = JsonChild("/medications", i);
      if (reader_.Object(value[i], path)) ParseMedication(value[i], path);
    }
  }

  // The string fields of one medication or condition entry, as written (absent when not given or
  // of the wrong type, which is reported).
  TextFields ReadTextFields(const json& entry, const std::string& path, const std::vector<std::string>& names) {
    TextFields fields;
    for (const std::string& name : names) {
      const json* field = JsonReader::Field(entry, name);
      if (field == nullptr) continue;
      std::optional<std::string> text = reader_.String(*field, JsonChild(path, name));
      if (!text) continue;
      // An empty id, code or name names nothing; it must not become an unknown medication "".
      if (name != "dose" && CodeKey(*text).empty()) Error(JsonChild(path, name), "expected a non-empty string");
      else fields[name] = *text;
    }
    return fields;
  }

  // The node `id` names when it is of `kind`; nullptr when the knowledge base does not know the id
  // (the caller decides), and an error when it is a node of another kind.
  const knowledge::Node* FindOfKind(const std::string& id, NodeKind kind, const char* what, const std::string& path) {
    const knowledge::Node* node = kb_.Find(id);
    if (node == nullptr || node->kind == kind) return node;
    Error(path, Quote(id) + " is a " + std::string(knowledge::KindName(node->kind)) + ", not a " + what);
    return nullptr;
  }

  // An id or code given with another one that the knowledge base knows: the known one is used, and
  // the unknown one is named so that it can be corrected.
  void UnknownId(const std::string& path, const std::string& id, const std::string& used) {
    Issue(path, Severity::kWarning, "unknown_id", "unknown id " + Quote(id) + "; " + used + " is used");
  }

  // One entry of "medications": resolved by id, by ATC code, or by the class whose ATC group holds
  // the code; otherwise kept as an unknown medication (case.md). An id and a code that name
  // different medications are a contradiction, hence an error.
  void ParseMedication(const json& entry, const std::string& path) {
    CheckFields(entry, path, kMedicationFields);
    const size_t errors_before = errors_.size();
    TextFields f = ReadTextFields(entry, path, kMedicationFields);
    ResolveMedication(f, path, errors_before);
  }

  // A medication entry's text fields resolved against the knowledge base (both paths).
  void ResolveMedication(const TextFields& f, const std::string& path, size_t errors_before) {
    if (!f.count("id") && !f.count("atc") && !f.count("name") && errors_.size() == errors_before)
      Error(path, "a medication needs 'id', 'atc' or 'name'");
    const knowledge::Node* by_id = f.count("id") ? FindOfKind(Get(f, "id"), NodeKind::kMedication, "medication", JsonChild(path, "id")) : nullptr;
    const knowledge::Node* by_atc = f.count("atc") ? FindMedicationByAtc(kb_, Get(f, "atc")) : nullptr;
    if (by_id != nullptr && f.count("atc")) CheckIdAgreesWithAtc(*by_id, by_atc, Get(f, "atc"), path);
    if (errors_.size() != errors_before) return;

    MedicationEntry medication;
    medication.name = Get(f, "name");
    medication.dose = Get(f, "dose");
    medication.path = path;
    const knowledge::Node* node = by_id != nullptr ? by_id : by_atc;
    if (node != nullptr) {
      medication.id = node->id;
      medication.atc = node->medication->atc;
      medication.node = kb_.PositionOf(*node);
      medication.classes = kb_.ClassesOf(*node);
    } else if (f.count("atc") && !(medication.classes = AtcGroupClasses(kb_, Get(f, "atc"))).empty()) {
      medication.id = CodeKey(Get(f, "atc"));
      medication.atc = medication.id;
    } else {
      UnknownMedication(f, path);
      return;
    }
    if (by_id == nullptr && f.count("id")) {
      UnknownId(JsonChild(path, "id"), Get(f, "id"),
                "ATC " + Get(f, "atc") + " (" + (node != nullptr ? node->id : "classes " + Join(medication.classes, ", ")) + ")");
    }
    case_.medications.push_back(std::move(medication));
  }

  // A medication given by id AND code: the code must be the medication's own, or lie under it when
  // the medication is recorded with a class-level code (combined_oral_contraceptive, G03AA).
  void CheckIdAgreesWithAtc(const knowledge::Node& by_id, const knowledge::Node* by_atc, const std::string& code,
                            const std::string& path) {
    const std::string own = by_id.medication->atc;
    if (by_atc == &by_id) return;
    if (by_atc != nullptr) {
      Error(JsonChild(path, "atc"), "ATC " + by_atc->medication->atc + " is " + by_atc->id + ", but " +
                                        JsonChild(path, "id") + " is " + by_id.id);
      return;
    }
    const std::string upper = CodeKey(code);
    if (!own.empty() && upper.compare(0, own.size(), CodeKey(own)) == 0) return;
    Error(JsonChild(path, "atc"), "ATC " + upper + " is not the code of " + by_id.id + " (" + own + "), named by " +
                                      JsonChild(path, "id"));
  }

  // Kept as written (case.md): never a reason to reject the case; the safety layer raises
  // unchecked_medication from Case::unknown_medications.
  void UnknownMedication(const TextFields& f, const std::string& path) {
    UnknownEntry unknown;
    std::string hint;
    if (f.count("id")) {
      unknown = {Get(f, "id"), JsonChild(path, "id"), NearestIds(Get(f, "id"), kb_.IdsOfKind(NodeKind::kMedication))};
    } else if (f.count("atc")) {
      unknown = {Get(f, "atc"), JsonChild(path, "atc"), {}};
      hint = AtcHint(Get(f, "atc"), &unknown.nearest);
    } else {
      unknown = {Get(f, "name"), JsonChild(path, "name"), NearestIds(AsId(Get(f, "name")), kb_.IdsOfKind(NodeKind::kMedication))};
    }
    if (hint.empty() && !unknown.nearest.empty()) hint = " (did you mean '" + Join(unknown.nearest, "', '") + "'?)";
    Issue(unknown.path, Severity::kWarning, "unknown_medication",
          "unknown medication " + Quote(unknown.text) + hint + "; kept as written, but its interactions cannot be checked");
    case_.unknown_medications.push_back(std::move(unknown));
  }

  // " (medications under it: ...)" for a code that is a prefix of known ones, else " (nearest known
  // codes: N06AB10 escitalopram, ...)" by edit distance; `nearest` gets the medication ids.
  std::string AtcHint(const std::string& code, std::vector<std::string>* nearest) const {
    constexpr size_t kMaxListed = 8;
    const std::string upper = CodeKey(code);
    std::map<std::string, std::string> id_of;  // code -> medication id
    std::vector<std::string> under;
    for (const std::string& id : kb_.IdsOfKind(NodeKind::kMedication)) {
      const knowledge::Node* node = kb_.Find(id);
      const std::string atc = node->medication ? CodeKey(node->medication->atc) : "";
      if (atc.empty()) continue;
      id_of[atc] = id;
      if (!upper.empty() && atc.size() > upper.size() && atc.compare(0, upper.size(), upper) == 0) under.push_back(id);
    }
    std::sort(under.begin(), under.end());
    if (!under.empty()) {
      const bool more = under.size() > kMaxListed;
      under.resize(std::min(under.size(), kMaxListed));
      *nearest = under;
      return " (medications under it: " + Join(under, ", ") + (more ? ", ..." : "") + ")";
    }
    std::vector<std::string> codes;
    codes.reserve(id_of.size());
    for (const auto& [atc, id] : id_of) codes.push_back(atc);
    std::vector<std::string> listed;
    for (const std::string& atc : NearestIds(upper, codes)) {
      nearest->push_back(id_of[atc]);
      listed.push_back(atc + " " + id_of[atc]);
    }
    return listed.empty() ? "" : " (nearest known codes: " + Join(listed, ", ") + ")";
  }

  void ParseConditions(const json& value) {
    if (!value.is_array()) {
      reader_.WrongType("/conditions", "an array", value);
      return;
    }
    case_.conditions_given = true;
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string path = JsonChild("/conditions", i);
      if (reader_.Object(value[i], path)) ParseCondition(value[i], path);
    }
  }

  // One entry of "conditions": by id or ICD-10 code (they must agree); unknown by both, it is kept
  // as an unknown condition (case.md).
  void ParseCondition(const json& entry, const std::string& path) {
    CheckFields(entry, path, kConditionFields);
    const size_t errors_before = errors_.size();
    TextFields f = ReadTextFields(entry, path, kConditionFields);
    ResolveCondition(f, path, errors_before);
  }

  // A condition entry's text fields resolved against the knowledge base (both paths).
  void ResolveCondition(const TextFields& f, const std::string& path, size_t errors_before) {
    if (!f.count("id") && !f.count("icd10") && errors_.size() == errors_before)
      Error(path, "a condition needs 'id' or 'icd10'");
    const knowledge::Node* by_id = f.count("id") ? FindOfKind(Get(f, "id"), NodeKind::kCondition, "condition", JsonChild(path, "id")) : nullptr;
    const knowledge::Node* by_code = f.count("icd10") ? FindConditionByIcd10(kb_, Get(f, "icd10")) : nullptr;
    if (by_id != nullptr && f.count("icd10") && by_code != by_id) {
      Error(JsonChild(path, "icd10"), by_code != nullptr
                                          ? "ICD-10 " + Get(f, "icd10") + " is " + by_code->id + ", but " + JsonChild(path, "id") + " is " + by_id->id
                                          : "ICD-10 " + Get(f, "icd10") + " is not a code of " + by_id->id + " (" +
                                                by_id->condition->icd10 + "), named by " + JsonChild(path, "id"));
    }
    if (errors_.size() != errors_before) return;
    const knowledge::Node* node = by_id != nullptr ? by_id : by_code;
    if (node == nullptr) {
      UnknownCondition(f, path);
      return;
    }
    if (by_id == nullptr && f.count("id"))
      UnknownId(JsonChild(path, "id"), Get(f, "id"), "ICD-10 " + Get(f, "icd10") + " (" + node->id + ")");
    case_.conditions.push_back({node->id, Get(f, "icd10"), path, kb_.PositionOf(*node)});
  }

  void UnknownCondition(const TextFields& f, const std::string& path) {
    UnknownEntry unknown;
    std::string hint;
    if (f.count("id")) {
      unknown = {Get(f, "id"), JsonChild(path, "id"), NearestIds(Get(f, "id"), kb_.IdsOfKind(NodeKind::kCondition))};
      if (!unknown.nearest.empty()) hint = " (did you mean '" + Join(unknown.nearest, "', '") + "'?)";
    } else {
      unknown = {Get(f, "icd10"), JsonChild(path, "icd10"), {}};
      hint = IcdHint(Get(f, "icd10"), &unknown.nearest);
    }
    Issue(unknown.path, Severity::kWarning, "unknown_condition",
          "unknown condition " + Quote(unknown.text) + hint + "; kept as written, but it cannot be taken into account");
    case_.unknown_conditions.push_back(std::move(unknown));
  }

  // The known codes in the same block (same letter and first digit): " (known codes nearby: F31
  // bipolar_disorder, F32-F33 major_depressive_disorder)"; `nearest` gets their ids. Edit distance
  // would be noise on three-character codes.
  std::string IcdHint(const std::string& code, std::vector<std::string>* nearest) const {
    const std::string block = CodeKey(code.substr(0, 2));
    if (block.size() < 2) return "";
    std::vector<std::pair<std::string, std::string>> nearby;  // code, id
    for (const std::string& id : kb_.IdsOfKind(NodeKind::kCondition)) {
      const knowledge::Node* node = kb_.Find(id);
      const std::string icd = node->condition ? node->condition->icd10 : "";
      if (icd.compare(0, 2, block) == 0) nearby.emplace_back(icd, id);
    }
    std::sort(nearby.begin(), nearby.end());
    std::vector<std::string> listed;
    for (const auto& [icd, id] : nearby) {
      listed.push_back(icd + " " + id);
      nearest->push_back(id);
    }
    return listed.empty() ? "" : " (known codes nearby: " + Join(listed, ", ") + ")";
  }

  void ParseSupplements(const json& value) {
    if (!reader_.Object(value, "/supplements")) return;
    CheckFields(value, "/supplements", kSupplementFields);
    case_.supplements_given = true;
    for (const char* list : {"current", "requested"}) {
      const json* ids = JsonReader::Field(value, list);
      if (ids == nullptr) continue;
      const std::string path = JsonChild("/supplements", list);
      if (!ids->is_array()) {
        reader_.WrongType(path, "an array", *ids);
        continue;
      }
      if (ids->size() > limits::kMaxListItems) {
        Error(path, std::to_string(ids->size()) + " entries, more than the limit of " +
                        std::to_string(limits::kMaxListItems));
        continue;
      }
      std::vector<std::string>& out =
          std::string(list) == "current" ? case_.supplements_current : case_.supplements_requested;
      for (size_t i = 0; i < ids->size(); ++i) {
        std::optional<std::string> id = reader_.String((*ids)[i], JsonChild(path, i));
        if (!id || !Resolve(*id, {NodeKind::kStrategy}, "strategy", JsonChild(path, i))) continue;
        if (std::find(out.begin(), out.end(), *id) == out.end()) out.push_back(*id);
      }
    }
  }

  // ---- Lifestyle -----------------------------------------------------------------------------

  void ParseLifestyle(const json& value) {
    if (!reader_.Object(value, "/lifestyle")) return;
    for (const auto& [id, given] : value.items()) {
      const std::string path = JsonChild("/lifestyle", id);
      const knowledge::Node* node = Resolve(id, {NodeKind::kLifestyleFactor}, "lifestyle field", path);
      if (node == nullptr || given.is_null() || !node->lifestyle) continue;
      LifestyleValue out;
      out.path = path;
      out.node = kb_.PositionOf(*node);
      if (ReadLifestyleValue(id, *node->lifestyle, given, out)) case_.lifestyle[id] = std::move(out);
    }
  }

  // Reads `given` as the factor's value type; false when it cannot be used at all.
  bool ReadLifestyleValue(const std::string& id, const knowledge::LifestyleFactor& factor, const json& given,
                          LifestyleValue& out) {
    const std::string& path = out.path;
    out.value_type = factor.value_type;
    switch (factor.value_type) {
      case LifestyleValueType::kBoolean:
        out.boolean = reader_.Bool(given, path);
        return out.boolean.has_value();
      case LifestyleValueType::kEnum: {
        std::optional<std::string> text = reader_.OneOf(given, path, factor.values);
        if (text) out.text = *text;
        return text.has_value();
      }
      case LifestyleValueType::kScale: {
        std::optional<int> score = reader_.IntegerInRange(given, path, static_cast<int>(factor.min.value_or(0)),
                                                          static_cast<int>(factor.max.value_or(3)), "score");
        if (score) out.number = *score;
        return score.has_value();
      }
      case LifestyleValueType::kNumber:
        break;
    }
    out.number = reader_.Number(given, path);
    if (!out.number) return false;
    CheckLifestyleRange(id, factor, out);
    return true;
  }

  // A lifestyle number outside the factor's possible range is excluded (both paths).
  void CheckLifestyleRange(const std::string& id, const knowledge::LifestyleFactor& factor, LifestyleValue& out) {
    const std::string& path = out.path;
    if ((factor.min && *out.number < *factor.min) || (factor.max && *out.number > *factor.max)) {
      out.used = false;
      Issue(path, Severity::kError, "impossible_value",
            id + " " + FormatNumber(*out.number) + (factor.unit.empty() ? "" : " " + factor.unit) +
                " is outside the possible range " + Limits(factor.min, factor.max) + "; excluded");
    }
  }

  // ---- The fast path -------------------------------------------------------------------------
  // Reads the case from simdjson's document with the strict path's semantics (a null field is not
  // given; objects are read in key order where findings depend on it, as nlohmann's sorted objects
  // are), sharing every step that makes findings. Each Fast* returns false on anything the strict
  // path would report or that is unusual; nothing it reads is kept then.

  using Element = simdjson::dom::element;
  using ElementType = simdjson::dom::element_type;

  // By value: a range-for over value_unsafe() of a temporary result would dangle.
  static simdjson::dom::object ObjectOf(Element value) { return value.get_object().value_unsafe(); }
  static simdjson::dom::array ArrayOf(Element value) { return value.get_array().value_unsafe(); }

  // Duplicate keys: the fast path finds them in the objects as it reads them and gives the case to
  // the strict path, which reports them. An object it skips unread is checked whole (HasDuplicateKeys).

  // The fields of an object by name, in the order of `names`; false on an unknown key or one given twice.
  template <size_t N>
  static bool FastFields(Element object, const std::array<std::string_view, N>& names,
                         std::array<std::optional<Element>, N>& fields) {
    static_assert(N <= 32, "the keys seen are bits of one word");
    uint32_t seen = 0;
    for (simdjson::dom::key_value_pair member : ObjectOf(object)) {
      // The first character before the whole key: most names differ there, and memcmp is a call.
      const auto found = std::find_if(names.begin(), names.end(), [&](std::string_view name) {
        return name.size() == member.key.size() && !name.empty() && name[0] == member.key[0] && name == member.key;
      });
      if (found == names.end()) return false;
      const uint32_t bit = uint32_t{1} << static_cast<size_t>(found - names.begin());
      if ((seen & bit) != 0) return false;
      seen |= bit;
      if (!member.value.is_null()) fields[static_cast<size_t>(found - names.begin())] = member.value;
    }
    return true;
  }

  // An object's members sorted by key, as nlohmann iterates them; nullopt when a key is given twice.
  static std::optional<std::vector<std::pair<std::string_view, Element>>> SortedMembers(Element object) {
    std::vector<std::pair<std::string_view, Element>> members;
    for (simdjson::dom::key_value_pair member : ObjectOf(object))
      members.emplace_back(member.key, member.value);
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    auto same_key = [](const auto& a, const auto& b) { return a.first == b.first; };
    if (std::adjacent_find(members.begin(), members.end(), same_key) != members.end()) return std::nullopt;
    return members;
  }

  static std::optional<std::string_view> FastString(Element value) {
    if (!value.is_string()) return std::nullopt;
    return value.get_string().value_unsafe();
  }

  static std::optional<double> FastNumber(Element value) {
    if (!value.is_number()) return std::nullopt;
    return value.get_double().value_unsafe();
  }

  // JsonInteger: an integer, or a double without a fraction below 1e15.
  static std::optional<long long> FastInteger(Element value) {
    switch (value.type()) {
      case ElementType::INT64: return value.get_int64().value_unsafe();
      case ElementType::UINT64: return std::nullopt;  // beyond long long: only simdjson's UINT64 holds those
      case ElementType::DOUBLE: {
        const double number = value.get_double().value_unsafe();
        if (std::isfinite(number) && number == std::floor(number) && std::abs(number) < 1e15)
          return static_cast<long long>(number);
        return std::nullopt;
      }
      default: return std::nullopt;
    }
  }

  static std::optional<int> FastIntegerInRange(Element value, int low, int high) {
    std::optional<long long> number = FastInteger(value);
    if (!number || *number < low || *number > high) return std::nullopt;
    return static_cast<int>(*number);
  }

  // The node `id` names when it is of one of `kinds` (Resolve without the reports).
  const knowledge::Node* FastResolve(std::string_view id, std::initializer_list<NodeKind> kinds) const {
    const knowledge::Node* node = kb_.Find(id);
    if (node == nullptr || std::find(kinds.begin(), kinds.end(), node->kind) == kinds.end()) return nullptr;
    return node;
  }

  bool ReadFast(Element root, std::string_view text) {
    if (!root.is_object() || MayHaveMinusZero(text)) return false;
    static constexpr std::array<std::string_view, 11> kNames = {
        "case_id", "patient", "symptoms", "questionnaires", "labs", "medications", "supplements", "conditions",
        "lifestyle", "stressors", "extra"};
    std::array<std::optional<Element>, 11> f;
    if (!FastFields(root, kNames, f)) return false;
    for (const auto& [field, limit] : kListLimits) {  // the strict path reports a list over its limit
      const std::optional<Element>& list = f[static_cast<size_t>(std::find(kNames.begin(), kNames.end(), field) - kNames.begin())];
      if (list && ((list->is_array() && ArrayOf(*list).size() > limit) || (list->is_object() && ObjectOf(*list).size() > limit)))
        return false;
    }
    const auto& [case_id, patient, symptoms, questionnaires, labs, medications, supplements, conditions, lifestyle,
                 stressors, extra] = f;
    if (case_id) {
      std::optional<std::string_view> id = FastString(*case_id);
      if (!id) return false;
      case_.case_id = *id;
    }
    if (!patient || !FastPatient(*patient)) return false;
    if (symptoms && !FastScores(*symptoms, Kinds::kSymptom)) return false;
    if (questionnaires && !FastQuestionnaires(*questionnaires)) return false;
    if (labs && !FastLabs(*labs)) return false;
    if (medications && !FastMedications(*medications)) return false;
    if (supplements && !FastSupplements(*supplements)) return false;
    if (conditions && !FastConditions(*conditions)) return false;
    if (lifestyle && !FastLifestyle(*lifestyle)) return false;
    if (stressors && !FastScores(*stressors, Kinds::kStressor)) return false;
    if (extra) {
      std::optional<json> copy = FastToJson(*extra, text);  // gives up on a key given twice
      if (!copy) return false;
      case_.extra = std::move(*copy);
    }
    CheckWholeCase();
    return true;
  }

  bool FastPatient(Element patient) {
    if (!patient.is_object()) return false;
    static constexpr std::array<std::string_view, 7> kNames = {
        "sex", "age_years", "pregnant", "gestational_age_weeks", "lactating", "menopausal_status", "bmi"};
    std::array<std::optional<Element>, 7> f;
    if (!FastFields(patient, kNames, f)) return false;
    const auto& [sex, age, pregnant, weeks, lactating, status, bmi] = f;
    PatientInfo& p = case_.patient;
    if (!sex || !age) return false;
    std::optional<std::string_view> sex_name = FastString(*sex);
    if (!sex_name) return false;
    if (*sex_name == "female") p.sex = Sex::kFemale;
    else if (*sex_name == "male") p.sex = Sex::kMale;
    else return false;
    std::optional<double> years = FastNumber(*age);
    if (!years) return false;
    SetAge(*years);
    if (pregnant && !FastBool(*pregnant, p.pregnant)) return false;
    if (lactating && !FastBool(*lactating, p.lactating)) return false;
    if (weeks) {
      std::optional<double> value = FastNumber(*weeks);
      if (!value) return false;
      SetGestationalAge(*value);
    }
    if (status) {
      std::optional<std::string_view> text = FastString(*status);
      if (!text || std::find(kMenopausalStatuses.begin(), kMenopausalStatuses.end(), *text) == kMenopausalStatuses.end())
        return false;
      p.menopausal_status = std::string(*text);
    }
    if (bmi) {
      std::optional<double> value = FastNumber(*bmi);
      if (!value) return false;
      SetBmi(*value);
    }
    return true;
  }

  static bool FastBool(Element value, std::optional<bool>& out) {
    if (!value.is_bool()) return false;
    out = value.get_bool().value_unsafe();
    return true;
  }

  bool FastScores(Element scores, Kinds kinds) {
    if (!scores.is_object()) return false;
    const bool symptoms = kinds == Kinds::kSymptom;
    std::map<std::string, Score>& out = symptoms ? case_.symptoms : case_.stressors;
    std::vector<const knowledge::Node*> seen;  // a key given twice names a node seen before
    for (simdjson::dom::key_value_pair member : ObjectOf(scores)) {
      const knowledge::Node* node = symptoms ? FastResolve(member.key, {NodeKind::kSymptom})
                                             : FastResolve(member.key, {NodeKind::kStressor, NodeKind::kCondition});
      if (node == nullptr || std::find(seen.begin(), seen.end(), node) != seen.end()) return false;
      seen.push_back(node);
      if (member.value.is_null()) continue;
      std::optional<int> score = FastIntegerInRange(member.value, 0, 3);
      if (!score) return false;
      out[std::string(member.key)] = {*score, kb_.PositionOf(*node)};
    }
    return true;
  }

  bool FastQuestionnaires(Element questionnaires) {
    if (!questionnaires.is_object()) return false;
    const auto members = SortedMembers(questionnaires);
    if (!members) return false;
    for (const auto& [id, entry] : *members) {
      const knowledge::Node* node = FastResolve(id, {NodeKind::kQuestionnaire});
      if (node == nullptr) return false;
      if (entry.is_null()) continue;
      if (!entry.is_object()) return false;
      if (!node->questionnaire) {
        if (HasDuplicateKeys(entry)) return false;
        continue;
      }
      if (!FastQuestionnaire(id, *node, entry)) return false;
    }
    return true;
  }

  bool FastQuestionnaire(std::string_view id, const knowledge::Node& node, Element entry) {
    const knowledge::Questionnaire& q = *node.questionnaire;
    QuestionnaireResult result;
    result.id = id;
    result.node = kb_.PositionOf(node);
    result.path = JsonChild("/questionnaires", id);
    result.safety_item = q.safety_item;
    if (q.result_only) {
      static constexpr std::array<std::string_view, 1> kNames = {"result"};
      std::array<std::optional<Element>, 1> f;
      if (!FastFields(entry, kNames, f) || !f[0]) return false;
      std::optional<std::string_view> text = FastString(*f[0]);
      if (!text || (*text != "positive" && *text != "negative")) return false;
      result.result = *text;
      result.positive = *text == "positive";
      case_.questionnaires[result.id] = std::move(result);
      return true;
    }
    const std::string safety_field = q.safety_item ? "item" + std::to_string(*q.safety_item) : "";
    const std::array<std::string_view, 3> names = {"items", "total",
                                                   q.safety_item ? std::string_view(safety_field) : "items"};
    std::array<std::optional<Element>, 3> f;
    if (!FastFields(entry, names, f)) return false;
    const auto& [items, total, safety] = f;
    if (!items && !total && !safety) return false;
    std::optional<int> scored;
    if (items && !(scored = FastItems(q, *items, result))) return false;
    std::optional<long long> given_total;
    if (total && !(given_total = FastInteger(*total))) return false;
    std::optional<int> given_safety;
    if (safety && !(given_safety = FastIntegerInRange(*safety, q.item_min, q.item_max))) return false;
    FinishQuestionnaire(q, scored, given_total, given_safety, result);
    return true;
  }

  static std::optional<int> FastItems(const knowledge::Questionnaire& q, Element items, QuestionnaireResult& result) {
    if (!items.is_array()) return std::nullopt;
    const simdjson::dom::array answers = ArrayOf(items);
    if (answers.size() != static_cast<size_t>(q.items)) return std::nullopt;
    result.items.reserve(answers.size());
    for (Element answer : answers) {
      std::optional<int> value = FastIntegerInRange(answer, q.item_min, q.item_max);
      if (!value) return std::nullopt;
      result.items.push_back(*value);
    }
    return ScoreItems(q, result.items);
  }

  bool FastLabs(Element labs) {
    if (!labs.is_array()) return false;
    const simdjson::dom::array entries = ArrayOf(labs);
    case_.labs.reserve(entries.size());
    size_t i = 0;
    for (Element entry : entries)
      if (!FastLab(entry, i++)) return false;
    return true;
  }

  bool FastLab(Element entry, size_t index) {
    if (!entry.is_object()) return false;
    static constexpr std::array<std::string_view, 6> kNames = {"test", "loinc", "value", "unit", "date",
                                                               "collection_time"};
    std::array<std::optional<Element>, 6> f;
    if (!FastFields(entry, kNames, f)) return false;
    const auto& [test, loinc, value, unit, date, time] = f;
    const knowledge::Node* node = FastLabNode(test, loinc);
    if (node == nullptr || !node->lab || !value) return false;
    std::optional<double> number = FastNumber(*value);
    if (!number) return false;
    std::optional<std::string_view> unit_text;
    if (unit && !(unit_text = FastString(*unit))) return false;
    LabResult lab;
    if (date && !FastText(*date, IsDate, lab.date)) return false;
    if (time && !FastText(*time, IsTime, lab.collection_time)) return false;
    std::optional<double> converted;
    if (unit_text && !unit_text->empty() && !(converted = FastConverted(*node->lab, *unit_text, *number))) return false;
    AddLab(*node, *number, unit_text.value_or(std::string_view()), converted, JsonChild("/labs", index), lab);
    return true;
  }

  // The lab named by test id and/or LOINC code, when they agree.
  const knowledge::Node* FastLabNode(const std::optional<Element>& test, const std::optional<Element>& loinc) const {
    const knowledge::Node* by_test = nullptr;
    if (test) {
      std::optional<std::string_view> id = FastString(*test);
      if (!id || !(by_test = FastResolve(*id, {NodeKind::kLab}))) return nullptr;
    }
    if (!loinc) return by_test;
    std::optional<std::string_view> code = FastString(*loinc);
    const knowledge::Node* by_loinc = code ? kb_.FindLabByLoinc(*code) : nullptr;
    if (by_loinc == nullptr || (by_test != nullptr && by_test != by_loinc)) return nullptr;
    return by_loinc;
  }

  static bool FastText(Element value, bool (*valid)(const std::string&), std::string& out) {
    std::optional<std::string_view> text = FastString(value);
    if (!text) return false;
    out = *text;
    return valid(out);
  }

  static std::optional<double> FastConverted(const knowledge::Lab& info, std::string_view unit, double value) {
    Result<double> converted = info.to_canonical->FromUnit(unit, value);
    return converted.ok() ? std::optional<double>(*converted) : std::nullopt;
  }

  // ReadTextFields without reports: every given field a string, non-empty but for the dose.
  template <size_t N>
  static bool FastTextFields(Element entry, const std::array<std::string_view, N>& names, TextFields& out) {
    if (!entry.is_object()) return false;
    std::array<std::optional<Element>, N> f;
    if (!FastFields(entry, names, f)) return false;
    for (size_t i = 0; i < N; ++i) {
      if (!f[i]) continue;
      std::optional<std::string_view> text = FastString(*f[i]);
      if (!text || (names[i] != "dose" && CodeKey(*text).empty())) return false;
      out.emplace(names[i], *text);
    }
    return true;
  }

  bool FastMedications(Element medications) {
    if (!medications.is_array()) return false;
    case_.medications_given = true;
    static constexpr std::array<std::string_view, 4> kNames = {"id", "atc", "name", "dose"};
    size_t i = 0;
    for (Element entry : ArrayOf(medications)) {
      TextFields f;
      if (!FastTextFields(entry, kNames, f)) return false;
      ResolveMedication(f, JsonChild("/medications", i++), errors_.size());
    }
    return true;
  }

  bool FastConditions(Element conditions) {
    if (!conditions.is_array()) return false;
    case_.conditions_given = true;
    static constexpr std::array<std::string_view, 2> kNames = {"id", "icd10"};
    size_t i = 0;
    for (Element entry : ArrayOf(conditions)) {
      TextFields f;
      if (!FastTextFields(entry, kNames, f)) return false;
      ResolveCondition(f, JsonChild("/conditions", i++), errors_.size());
    }
    return true;
  }

  bool FastSupplements(Element supplements) {
    if (!supplements.is_object()) return false;
    static constexpr std::array<std::string_view, 2> kNames = {"current", "requested"};
    std::array<std::optional<Element>, 2> f;
    if (!FastFields(supplements, kNames, f)) return false;
    case_.supplements_given = true;
    for (size_t list = 0; list < f.size(); ++list) {
      if (!f[list]) continue;
      if (!f[list]->is_array() || ArrayOf(*f[list]).size() > limits::kMaxListItems) return false;
      std::vector<std::string>& out = list == 0 ? case_.supplements_current : case_.supplements_requested;
      for (Element given : ArrayOf(*f[list])) {
        std::optional<std::string_view> id = FastString(given);
        if (!id || !FastResolve(*id, {NodeKind::kStrategy})) return false;
        if (std::find(out.begin(), out.end(), *id) == out.end()) out.emplace_back(*id);
      }
    }
    return true;
  }

  bool FastLifestyle(Element lifestyle) {
    if (!lifestyle.is_object()) return false;
    const auto members = SortedMembers(lifestyle);
    if (!members) return false;
    for (const auto& [key, given] : *members) {
      const knowledge::Node* node = FastResolve(key, {NodeKind::kLifestyleFactor});
      if (node == nullptr) return false;
      if (given.is_null()) continue;
      if (!node->lifestyle) {
        if (HasDuplicateKeys(given)) return false;
        continue;
      }
      const std::string id(key);
      LifestyleValue out;
      out.path = JsonChild("/lifestyle", id);
      out.node = kb_.PositionOf(*node);
      if (!FastLifestyleValue(id, *node->lifestyle, given, out)) return false;
      case_.lifestyle[id] = std::move(out);
    }
    return true;
  }

  bool FastLifestyleValue(const std::string& id, const knowledge::LifestyleFactor& factor, Element given,
                          LifestyleValue& out) {
    out.value_type = factor.value_type;
    switch (factor.value_type) {
      case LifestyleValueType::kBoolean: return FastBool(given, out.boolean);
      case LifestyleValueType::kEnum: {
        std::optional<std::string_view> text = FastString(given);
        if (!text || std::find(factor.values.begin(), factor.values.end(), *text) == factor.values.end()) return false;
        out.text = *text;
        return true;
      }
      case LifestyleValueType::kScale: {
        std::optional<int> score = FastIntegerInRange(given, static_cast<int>(factor.min.value_or(0)),
                                                      static_cast<int>(factor.max.value_or(3)));
        if (score) out.number = *score;
        return score.has_value();
      }
      case LifestyleValueType::kNumber: break;
    }
    out.number = FastNumber(given);
    if (!out.number) return false;
    CheckLifestyleRange(id, factor, out);
    return true;
  }

  // ---- Flags ---------------------------------------------------------------------------------

  void SetFlags() {
    DataQualityFlags& flags = case_.flags;
    for (const DataQualityIssue& issue : case_.data_quality) {
      const bool about_labs = issue.path.rfind("/labs/", 0) == 0;
      // A critical value has its own alert; an unknown medication or condition is the safety layer's
      // unchecked_medication (case.md), not a doubt about the data.
      if (issue.code == "critical_value" || issue.code == "unknown_medication" || issue.code == "unknown_condition" ||
          issue.severity == Severity::kInfo)
        continue;
      flags.data_quality_warning = true;
      if (about_labs && (issue.severity == Severity::kError || issue.code == "conflicting_values"))
        flags.repeat_or_verify_labs = true;
    }
    for (const LabResult& lab : case_.labs) {
      if (!lab.critical) continue;
      flags.critical_lab_value = true;
      if (std::find(flags.critical_labs.begin(), flags.critical_labs.end(), lab.test) == flags.critical_labs.end())
        flags.critical_labs.push_back(lab.test);
    }
  }

  const knowledge::KnowledgeBase& kb_;
  const ParseOptions& options_;
  Case case_;
  std::vector<const knowledge::Node*> lab_nodes_;  // each of case_.labs' node, found once (AddLab)
  std::vector<std::string> errors_;
  // Structural problems found while reading typed fields go to errors_ like every other.
  JsonReader reader_{[this](const std::string& path, const std::string& message) { Error(path, message); }};
};

}  // namespace

std::optional<Case> ParseCaseFast(std::string_view json_text, const knowledge::KnowledgeBase& kb,
                                  const ParseOptions& options) {
  std::optional<simdjson::dom::element> root = ParseFastDocument(json_text);
  if (!root) return std::nullopt;
  return Parser(kb, options).RunFast(*root, json_text);
}

Result<Case> ParseCaseStrict(std::string_view json_text, const knowledge::KnowledgeBase& kb,
                             const ParseOptions& options) {
  return Parser(kb, options).Run(json_text);
}

Result<Case> ParseCase(std::string_view json_text, const knowledge::KnowledgeBase& kb, const ParseOptions& options) {
  // Almost every case is plain and valid: read it straight; anything else takes the strict path,
  // which gives every message.
  if (std::optional<Case> fast = ParseCaseFast(json_text, kb, options)) return std::move(*fast);
  return ParseCaseStrict(json_text, kb, options);
}

}  // namespace nflux::casefile
