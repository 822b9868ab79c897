// The case model: lookups the rules engine uses, questionnaire scoring, ATC / ICD-10 resolution,
// derived indices and the JSON shapes of shared/contracts/output.md. Parsing is in parser.cc.
#include "case/case.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "base/json_writer.h"
#include "base/text.h"
#include "units/units.h"

namespace nflux::casefile {

using nlohmann::json;

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kError: return "error";
    case Severity::kInfo: return "info";
    case Severity::kWarning: break;
  }
  return "warning";
}

std::string_view LabStatusName(LabStatus status) {
  switch (status) {
    case LabStatus::kLow: return "low";
    case LabStatus::kNormal: return "normal";
    case LabStatus::kHigh: return "high";
    case LabStatus::kUnknown: break;
  }
  return "unknown";
}

std::string_view OptimalStatusName(OptimalStatus status) {
  switch (status) {
    case OptimalStatus::kLow: return "low";
    case OptimalStatus::kOptimal: return "optimal";
    case OptimalStatus::kHigh: return "high";
    case OptimalStatus::kUnknown: break;
  }
  return "unknown";
}

std::optional<double> PatientInfo::Age() const {
  if (age_excluded) return std::nullopt;
  return age_years;
}

knowledge::Patient PatientInfo::ForRanges() const { return knowledge::Patient{sex, Age(), pregnant.value_or(false)}; }

std::optional<int> QuestionnaireResult::Item(int n) const {
  if (n >= 1 && static_cast<size_t>(n) <= items.size()) return items[static_cast<size_t>(n) - 1];
  if (safety_item && *safety_item == n) return safety_item_value;
  return std::nullopt;
}

// ---- Lookups ---------------------------------------------------------------------------------

const LabResult* Case::Lab(std::string_view id) const {
  const LabResult* best = nullptr;
  for (const LabResult& lab : labs) {
    if (lab.test != id || !lab.used || !lab.value) continue;
    // A later entry wins unless the best so far is dated and this one is older or undated.
    if (best == nullptr || best->date.empty() || (!lab.date.empty() && lab.date >= best->date)) best = &lab;
  }
  return best;
}

const DerivedIndex* Case::Derived(std::string_view id) const {
  for (const DerivedIndex& index : derived)
    if (index.id == id) return &index;
  return nullptr;
}

namespace {

template <typename Map>
auto FindIn(const Map& map, std::string_view key) -> decltype(&map.begin()->second) {
  auto it = map.find(std::string(key));
  return it == map.end() ? nullptr : &it->second;
}

bool Contains(const std::vector<std::string>& list, std::string_view id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

}  // namespace

std::optional<int> Case::Symptom(std::string_view id) const {
  const Score* score = FindIn(symptoms, id);
  return score ? std::optional<int>(score->value) : std::nullopt;
}

std::optional<int> Case::Stressor(std::string_view id) const {
  const Score* score = FindIn(stressors, id);
  return score ? std::optional<int>(score->value) : std::nullopt;
}

const QuestionnaireResult* Case::Questionnaire(std::string_view id) const { return FindIn(questionnaires, id); }

std::optional<int> Case::QuestionnaireTotal(std::string_view id) const {
  const QuestionnaireResult* result = Questionnaire(id);
  return result ? result->total : std::nullopt;
}

std::optional<int> Case::QuestionnaireItem(std::string_view id, int item) const {
  const QuestionnaireResult* result = Questionnaire(id);
  return result ? result->Item(item) : std::nullopt;
}

bool Case::TakesMedication(std::string_view id) const {
  return std::any_of(medications.begin(), medications.end(), [&](const MedicationEntry& m) { return m.id == id; });
}

bool Case::TakesMedicationClass(std::string_view class_id) const {
  return std::any_of(medications.begin(), medications.end(),
                     [&](const MedicationEntry& m) { return Contains(m.classes, class_id); });
}

bool Case::HasCondition(std::string_view id) const {
  return std::any_of(conditions.begin(), conditions.end(), [&](const ConditionEntry& c) { return c.id == id; });
}

bool Case::TakesSupplement(std::string_view strategy_id) const { return Contains(supplements_current, strategy_id); }
bool Case::RequestsSupplement(std::string_view strategy_id) const {
  return Contains(supplements_requested, strategy_id);
}

std::optional<double> Case::LifestyleNumber(std::string_view id) const {
  const LifestyleValue* value = FindIn(lifestyle, id);
  return value && value->used ? value->number : std::nullopt;
}

std::optional<bool> Case::LifestyleBool(std::string_view id) const {
  const LifestyleValue* value = FindIn(lifestyle, id);
  return value && value->used ? value->boolean : std::nullopt;
}

std::optional<std::string> Case::LifestyleText(std::string_view id) const {
  const LifestyleValue* value = FindIn(lifestyle, id);
  if (!value || !value->used || value->value_type != LifestyleValueType::kEnum) return std::nullopt;
  return value->text;
}

bool Case::HasDataQuality(Severity severity) const {
  return std::any_of(data_quality.begin(), data_quality.end(),
                     [&](const DataQualityIssue& issue) { return issue.severity == severity; });
}

// ---- Questionnaires --------------------------------------------------------------------------

int ScoreItems(const knowledge::Questionnaire& questionnaire, const std::vector<int>& answers) {
  int total = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    const int item = static_cast<int>(i) + 1;
    const bool reverse = std::find(questionnaire.reverse_items.begin(), questionnaire.reverse_items.end(), item) !=
                         questionnaire.reverse_items.end();
    total += reverse ? questionnaire.item_min + questionnaire.item_max - answers[i] : answers[i];
  }
  return total;
}

std::string BandFor(const knowledge::Questionnaire& questionnaire, int total) {
  for (const auto& band : questionnaire.bands)
    if (total >= band.min && total <= band.max) return band.label;
  return "";
}

// ---- Medications and conditions --------------------------------------------------------------

const knowledge::Node* FindMedicationByAtc(const knowledge::KnowledgeBase& kb, std::string_view atc) {
  const std::string wanted = CodeKey(atc);
  if (wanted.empty()) return nullptr;
  for (const knowledge::Node* node : kb.NodesOfKind(knowledge::NodeKind::kMedication))
    if (node->medication && CodeKey(node->medication->atc) == wanted) return node;
  return nullptr;
}

namespace {

// True when `code` falls in the knowledge base's `range` ("F32-F33", "K50-K51"): each bound is
// compared with the code cut to the bound's length, so "F32.1" is in "F32-F33".
bool InIcdRange(const std::string& code, const std::string& range) {
  const size_t dash = range.find('-');
  if (dash == std::string::npos) return false;
  const std::string low = range.substr(0, dash);
  const std::string high = range.substr(dash + 1);
  if (low.empty() || high.empty()) return false;
  return code.substr(0, low.size()) >= low && code.substr(0, high.size()) <= high;
}

}  // namespace

const knowledge::Node* FindConditionByIcd10(const knowledge::KnowledgeBase& kb, std::string_view icd10) {
  const std::string code = CodeKey(icd10);
  if (code.empty()) return nullptr;
  const knowledge::Node* by_category = nullptr;
  size_t category_length = 0;
  const knowledge::Node* by_range = nullptr;
  for (const knowledge::Node* node : kb.NodesOfKind(knowledge::NodeKind::kCondition)) {
    const std::string known = node->condition ? CodeKey(node->condition->icd10) : std::string();
    if (known.empty()) continue;
    if (known == code) return node;
    if (known.find('-') != std::string::npos) {
      if (!by_range && InIcdRange(code, known)) by_range = node;
    } else if (code.size() > known.size() && code.compare(0, known.size(), known) == 0 &&
               known.size() > category_length) {
      // "K21" covers "K21.9" and "G47.0" covers "G47.01"; "E83.1" does not name "E83.11".
      by_category = node;
      category_length = known.size();
    }
  }
  return by_category ? by_category : by_range;
}

std::vector<std::string> AtcGroupClasses(const knowledge::KnowledgeBase& kb, std::string_view atc) {
  const std::string code = CodeKey(atc);
  std::set<std::string> classes;
  if (code.empty()) return {};
  for (const knowledge::Node* node : kb.NodesOfKind(knowledge::NodeKind::kMedicationClass)) {
    if (!node->medication_class) continue;
    const std::vector<std::string>& groups = node->medication_class->atc;
    const bool holds = std::any_of(groups.begin(), groups.end(), [&](const std::string& group) {
      const std::string prefix = CodeKey(group);
      return !prefix.empty() && code.compare(0, prefix.size(), prefix) == 0;
    });
    if (!holds) continue;
    classes.insert(node->id);
    for (const std::string& parent : kb.ClassesOf(*node)) classes.insert(parent);
  }
  return {classes.begin(), classes.end()};
}

// ---- Derived indices -------------------------------------------------------------------------

namespace {

// The used value of `lab_id` in `unit`, or nothing.
std::optional<double> LabIn(const Case& c, const knowledge::KnowledgeBase& kb, const char* lab_id, const char* unit) {
  const LabResult* lab = c.Lab(lab_id);
  if (lab == nullptr) return std::nullopt;
  const knowledge::Node* node = kb.Find(lab_id);
  if (node == nullptr || !node->lab) return std::nullopt;
  // The used value is in the canonical unit: the lab's kept converter, not two unit texts parsed.
  Result<double> converted = lab->unit == node->lab->analyte.canonical_unit
                                 ? node->lab->to_canonical->ToUnit(unit, *lab->value)
                                 : units::Convert(*lab->value, lab->unit, unit, &node->lab->analyte);
  if (!converted.ok()) return std::nullopt;
  return *converted;
}

// The formulas; the indices themselves, their inputs, units and cut-offs are derived_index nodes
// in the knowledge base (knowledge/derived.json), each citing its source.
using Formula = std::optional<double> (*)(const Case& c, const knowledge::KnowledgeBase& kb);

// HOMA-IR = fasting glucose (mmol/L) x fasting insulin (uIU/mL) / 22.5 (Matthews et al.,
// Diabetologia 1985;28:412, PMID 3899825).
std::optional<double> HomaIr(const Case& c, const knowledge::KnowledgeBase& kb) {
  std::optional<double> glucose = LabIn(c, kb, "glucose_fasting", "mmol/L");
  std::optional<double> insulin = LabIn(c, kb, "insulin_fasting", "u[IU]/mL");
  if (!glucose || !insulin) return std::nullopt;
  return *glucose * *insulin / 22.5;
}

// Kynurenine/tryptophan ratio x 1000, in umol/mmol.
std::optional<double> KynTrpRatio(const Case& c, const knowledge::KnowledgeBase& kb) {
  std::optional<double> kynurenine = LabIn(c, kb, "kynurenine_plasma", "umol/L");
  std::optional<double> tryptophan = LabIn(c, kb, "tryptophan_plasma", "umol/L");
  if (!kynurenine || !tryptophan || *tryptophan <= 0) return std::nullopt;
  return *kynurenine / *tryptophan * 1000;
}

// Every id FormulaFor knows.
constexpr std::string_view kFormulaIds[] = {"homa_ir", "kyn_trp_ratio"};

Formula FormulaFor(std::string_view id) {
  if (id == "homa_ir") return HomaIr;
  if (id == "kyn_trp_ratio") return KynTrpRatio;
  return nullptr;
}

}  // namespace

std::vector<DerivedIndex> ComputeDerived(const Case& c, const knowledge::KnowledgeBase& kb) {
  // Only the indices with a formula can be computed: look those up rather than scan every node.
  std::vector<std::pair<const knowledge::Node*, DerivedIndex>> found;
  for (std::string_view id : kFormulaIds) {
    const knowledge::Node* node = kb.Find(id);
    if (node == nullptr || node->kind != knowledge::NodeKind::kDerivedIndex || !node->derived_index) continue;
    std::optional<double> value = FormulaFor(id)(c, kb);
    if (!value) continue;
    const knowledge::DerivedIndex& index = *node->derived_index;
    found.push_back({node, {node->id, *value, index.unit, index.inputs, *value > index.high_above ? "high" : "normal", kb.PositionOf(*node)}});
  }
  // In the knowledge base's node order, as KnowledgeBase::IdsOfKind lists them.
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<DerivedIndex> derived;
  derived.reserve(found.size());
  for (auto& [node, index] : found) derived.push_back(std::move(index));
  return derived;
}

bool HasFormula(std::string_view derived_index_id) { return FormulaFor(derived_index_id) != nullptr; }

// ---- JSON ------------------------------------------------------------------------------------

double Round4(double value) { return RoundToSignificant(value, 4); }

namespace {

json Number(const std::optional<double>& value) { return value ? json(Round4(*value)) : json(nullptr); }

json Text(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

json ScoresToJson(const std::map<std::string, Score>& scores) {
  json out = json::object();
  for (const auto& [id, score] : scores) out[id] = score.value;
  return out;
}

// {"status": "below", "side": "below", "limit": 30, "label": ..., "means": ..., "citation": ...}
json DecisionToJson(const LabDecision& decision) {
  return {{"status", decision.Status()},
          {"side", knowledge::LimitSideName(decision.side)},
          {"limit", Round4(decision.limit)},
          {"label", decision.label},
          {"means", decision.means},
          {"citation", decision.citations.empty() ? json(nullptr) : json(decision.citations.front())},
          {"citations", decision.citations}};
}

}  // namespace

namespace {

using Subject = knowledge::Criterion::Subject;

bool LabMeets(const Case& c, const knowledge::Criterion& criterion) {
  const LabResult* lab = c.Lab(criterion.id);
  if (lab == nullptr || !lab->value) return false;
  return (criterion.above && *lab->value > *criterion.above) || (criterion.below && *lab->value < *criterion.below);
}

bool QuestionnaireMeets(const Case& c, const knowledge::Criterion& criterion) {
  const QuestionnaireResult* q = c.Questionnaire(criterion.id);
  if (q == nullptr) return false;
  if (criterion.item) {
    std::optional<int> answer = q->Item(*criterion.item);
    return answer && *answer >= criterion.at_least.value_or(1);
  }
  if (criterion.positive) return q->positive.value_or(false) || q->result == "positive";
  return q->total && criterion.at_least && *q->total >= *criterion.at_least;
}

bool LifestyleMeets(const Case& c, const knowledge::Criterion& criterion) {
  if (std::optional<bool> flag = c.LifestyleBool(criterion.id)) return *flag;
  std::optional<double> number = c.LifestyleNumber(criterion.id);
  if (!number) return false;
  return criterion.above ? *number > *criterion.above : criterion.at_least ? *number >= *criterion.at_least : *number > 0;
}

}  // namespace

Fit PatientFits(const knowledge::Criterion& criterion, const PatientInfo& patient) {
  if (criterion.sex && *criterion.sex != patient.sex) return Fit::kDoesNotFit;
  if (!criterion.age_below && !criterion.age_at_least) return Fit::kFits;
  const std::optional<double> age = patient.Age();
  if (!age) return Fit::kAgeNotKnown;
  if (criterion.age_below && !(*age < *criterion.age_below)) return Fit::kDoesNotFit;
  if (criterion.age_at_least && !(*age >= *criterion.age_at_least)) return Fit::kDoesNotFit;
  return Fit::kFits;
}

bool Meets(const Case& c, const knowledge::Criterion& criterion) {
  // An excluded age is missing data, and missing data never meets a criterion.
  if (PatientFits(criterion, c.patient) != Fit::kFits) return false;
  switch (criterion.subject) {
    case Subject::kLab: return LabMeets(c, criterion);
    case Subject::kQuestionnaire: return QuestionnaireMeets(c, criterion);
    case Subject::kLifestyle: return LifestyleMeets(c, criterion);
    case Subject::kSymptom: return c.Symptom(criterion.id).value_or(0) >= criterion.at_least.value_or(1);
    case Subject::kMedication: return c.TakesMedication(criterion.id) || c.TakesMedicationClass(criterion.id);
    case Subject::kPatient:
      return criterion.id == "pregnant" ? c.patient.pregnant.value_or(false) : c.patient.lactating.value_or(false);
    case Subject::kAge: return true;  // the bounds above are the test
    case Subject::kCondition: return c.HasCondition(criterion.id);
    default: return false;
  }
}

nlohmann::json LabsToJson(const Case& c) {
  json out = json::array();
  for (const LabResult& lab : c.labs) {
    json entry;
    entry["test"] = lab.test;
    entry["input"] = {{"value", lab.input_value}, {"unit", Text(lab.input_unit)}};
    entry["value"] = Number(lab.value);
    entry["unit"] = lab.unit;
    entry["status"] = lab.status == LabStatus::kUnknown ? json(nullptr) : json(LabStatusName(lab.status));
    if (lab.reference_low || lab.reference_high)
      entry["reference"] = {{"low", Number(lab.reference_low)}, {"high", Number(lab.reference_high)}};
    else
      entry["reference"] = nullptr;
    if (lab.has_optimal) {
      entry["optimal_status"] =
          lab.optimal_status == OptimalStatus::kUnknown ? json(nullptr) : json(OptimalStatusName(lab.optimal_status));
      entry["optimal"] = {{"low", Number(lab.optimal_low)}, {"high", Number(lab.optimal_high)}};
    }
    if (lab.decision) entry["decision"] = DecisionToJson(*lab.decision);
    entry["used"] = lab.used;
    if (lab.critical) entry["critical"] = true;
    if (!lab.date.empty()) entry["date"] = lab.date;
    if (!lab.collection_time.empty()) entry["collection_time"] = lab.collection_time;
    out.push_back(std::move(entry));
  }
  return out;
}

nlohmann::json DerivedToJson(const Case& c) {
  json out = json::array();
  for (const DerivedIndex& index : c.derived) {
    out.push_back({{"id", index.id},
                   {"value", Round4(index.value)},
                   {"unit", index.unit},
                   {"from", index.from},
                   {"status", index.status}});
  }
  return out;
}

nlohmann::json DataQualityToJson(const Case& c) {
  json out = json::array();
  for (const DataQualityIssue& issue : c.data_quality) {
    out.push_back({{"path", issue.path},
                   {"severity", SeverityName(issue.severity)},
                   {"code", issue.code},
                   {"message", issue.message}});
  }
  return out;
}

namespace {

json UnknownToJson(const std::vector<UnknownEntry>& entries) {
  json out = json::array();
  for (const UnknownEntry& entry : entries)
    out.push_back({{"text", entry.text}, {"path", entry.path}, {"nearest", entry.nearest}});
  return out;
}

}  // namespace

nlohmann::json CaseToJson(const Case& c) {
  json out;
  out["case_id"] = c.case_id;
  const PatientInfo& p = c.patient;
  json patient = {{"sex", std::string(Name(p.sex))}, {"age_years", p.age_years}};
  if (p.pregnant) patient["pregnant"] = *p.pregnant;
  if (p.gestational_age_weeks) patient["gestational_age_weeks"] = *p.gestational_age_weeks;
  if (p.lactating) patient["lactating"] = *p.lactating;
  if (p.menopausal_status) patient["menopausal_status"] = *p.menopausal_status;
  if (p.bmi) patient["bmi"] = *p.bmi;
  out["patient"] = std::move(patient);
  out["symptoms"] = ScoresToJson(c.symptoms);
  json questionnaires = json::object();
  for (const auto& [id, q] : c.questionnaires) {
    json entry = json::object();
    if (!q.items.empty()) entry["items"] = q.items;
    if (q.total) entry["total"] = *q.total;
    if (!q.band.empty()) entry["band"] = q.band;
    if (q.positive) entry["positive"] = *q.positive;
    if (q.safety_item && q.safety_item_value) entry["item" + std::to_string(*q.safety_item)] = *q.safety_item_value;
    if (!q.result.empty()) entry["result"] = q.result;
    questionnaires[id] = std::move(entry);
  }
  out["questionnaires"] = std::move(questionnaires);
  out["labs"] = LabsToJson(c);
  out["derived"] = DerivedToJson(c);
  if (c.medications_given) {
    json medications = json::array();
    for (const MedicationEntry& m : c.medications) {
      json entry = {{"id", m.id}, {"atc", Text(m.atc)}, {"classes", m.classes}};
      if (!m.name.empty()) entry["name"] = m.name;
      if (!m.dose.empty()) entry["dose"] = m.dose;
      medications.push_back(std::move(entry));
    }
    out["medications"] = std::move(medications);
  }
  if (c.conditions_given) {
    json conditions = json::array();
    for (const ConditionEntry& condition : c.conditions) {
      json entry = {{"id", condition.id}};
      if (!condition.icd10.empty()) entry["icd10"] = condition.icd10;
      conditions.push_back(std::move(entry));
    }
    out["conditions"] = std::move(conditions);
  }
  if (!c.unknown_medications.empty()) out["unknown_medications"] = UnknownToJson(c.unknown_medications);
  if (!c.unknown_conditions.empty()) out["unknown_conditions"] = UnknownToJson(c.unknown_conditions);
  if (c.supplements_given)
    out["supplements"] = {{"current", c.supplements_current}, {"requested", c.supplements_requested}};
  json lifestyle = json::object();
  for (const auto& [id, value] : c.lifestyle) {
    if (!value.used) continue;
    if (value.number) lifestyle[id] = *value.number;
    else if (value.boolean) lifestyle[id] = *value.boolean;
    else lifestyle[id] = value.text;
  }
  out["lifestyle"] = std::move(lifestyle);
  out["stressors"] = ScoresToJson(c.stressors);
  if (!c.extra.is_null()) out["extra"] = c.extra;
  out["data_quality"] = DataQualityToJson(c);
  return out;
}

// ---- CaseToJsonText: CaseToJson's document as dump() writes it. Every object's keys are written
// in byte order, as nlohmann's std::map holds them; each writer below names them in that order.

namespace {

void OptionalNumber(JsonWriter& out, const std::optional<double>& value) {
  if (value) out.Double(Round4(*value));
  else out.Null();
}

void OptionalText(JsonWriter& out, const std::string& text) {
  if (text.empty()) out.Null();
  else out.String(text);
}

void WriteScores(JsonWriter& out, const std::map<std::string, Score>& scores) {
  out.BeginObject();
  for (const auto& [id, score] : scores) out.Key(id).Int(score.value);
  out.EndObject();
}

void WriteRange(JsonWriter& out, const std::optional<double>& low, const std::optional<double>& high) {
  out.BeginObject().Key("high");
  OptionalNumber(out, high);
  out.Key("low");
  OptionalNumber(out, low);
  out.EndObject();
}

void WriteDecision(JsonWriter& out, const LabDecision& decision) {
  out.BeginObject().Key("citation");
  if (decision.citations.empty()) out.Null();
  else out.String(decision.citations.front());
  out.Key("citations").Strings(decision.citations);
  out.Key("label").String(decision.label).Key("limit").Double(Round4(decision.limit));
  out.Key("means").String(decision.means).Key("side").String(knowledge::LimitSideName(decision.side));
  out.Key("status").String(decision.Status()).EndObject();
}

void WriteLab(JsonWriter& out, const LabResult& lab) {
  out.BeginObject();
  if (!lab.collection_time.empty()) out.Key("collection_time").String(lab.collection_time);
  if (lab.critical) out.Key("critical").Bool(true);
  if (!lab.date.empty()) out.Key("date").String(lab.date);
  if (lab.decision) WriteDecision(out.Key("decision"), *lab.decision);
  out.Key("input").BeginObject().Key("unit");
  OptionalText(out, lab.input_unit);
  out.Key("value").Double(lab.input_value).EndObject();
  if (lab.has_optimal) {
    WriteRange(out.Key("optimal"), lab.optimal_low, lab.optimal_high);
    out.Key("optimal_status");
    if (lab.optimal_status == OptimalStatus::kUnknown) out.Null();
    else out.String(OptimalStatusName(lab.optimal_status));
  }
  out.Key("reference");
  if (lab.reference_low || lab.reference_high) WriteRange(out, lab.reference_low, lab.reference_high);
  else out.Null();
  out.Key("status");
  if (lab.status == LabStatus::kUnknown) out.Null();
  else out.String(LabStatusName(lab.status));
  out.Key("test").String(lab.test).Key("unit").String(lab.unit).Key("used").Bool(lab.used).Key("value");
  OptionalNumber(out, lab.value);
  out.EndObject();
}

void WriteQuestionnaire(JsonWriter& out, const QuestionnaireResult& q) {
  out.BeginObject();
  if (!q.band.empty()) out.Key("band").String(q.band);
  // "item9", "item10": a digit sorts before the "s" of "items".
  if (q.safety_item && q.safety_item_value) out.Key("item" + std::to_string(*q.safety_item)).Int(*q.safety_item_value);
  if (!q.items.empty()) {
    out.Key("items").BeginArray();
    for (int item : q.items) out.Int(item);
    out.EndArray();
  }
  if (q.positive) out.Key("positive").Bool(*q.positive);
  if (!q.result.empty()) out.Key("result").String(q.result);
  if (q.total) out.Key("total").Int(*q.total);
  out.EndObject();
}

void WriteUnknown(JsonWriter& out, const std::vector<UnknownEntry>& entries) {
  out.BeginArray();
  for (const UnknownEntry& entry : entries)
    out.BeginObject().Key("nearest").Strings(entry.nearest).Key("path").String(entry.path).Key("text").String(entry.text).EndObject();
  out.EndArray();
}

void WritePatient(JsonWriter& out, const PatientInfo& p) {
  out.BeginObject().Key("age_years").Double(p.age_years);
  if (p.bmi) out.Key("bmi").Double(*p.bmi);
  if (p.gestational_age_weeks) out.Key("gestational_age_weeks").Double(*p.gestational_age_weeks);
  if (p.lactating) out.Key("lactating").Bool(*p.lactating);
  if (p.menopausal_status) out.Key("menopausal_status").String(*p.menopausal_status);
  if (p.pregnant) out.Key("pregnant").Bool(*p.pregnant);
  out.Key("sex").String(Name(p.sex)).EndObject();
}

}  // namespace

std::string CaseToJsonText(const Case& c) {
  std::string text;
  JsonWriter out(text);
  out.BeginObject().Key("case_id").String(c.case_id);
  if (c.conditions_given) {
    out.Key("conditions").BeginArray();
    for (const ConditionEntry& condition : c.conditions) {
      out.BeginObject();
      if (!condition.icd10.empty()) out.Key("icd10").String(condition.icd10);
      out.Key("id").String(condition.id).EndObject();
    }
    out.EndArray();
  }
  out.Key("data_quality").BeginArray();
  for (const DataQualityIssue& issue : c.data_quality) {
    out.BeginObject().Key("code").String(issue.code).Key("message").String(issue.message);
    out.Key("path").String(issue.path).Key("severity").String(SeverityName(issue.severity)).EndObject();
  }
  out.EndArray().Key("derived").BeginArray();
  for (const DerivedIndex& index : c.derived) {
    out.BeginObject().Key("from").Strings(index.from).Key("id").String(index.id).Key("status").String(index.status);
    out.Key("unit").String(index.unit).Key("value").Double(Round4(index.value)).EndObject();
  }
  out.EndArray();
  if (!c.extra.is_null()) out.Key("extra").Value(c.extra);
  out.Key("labs").BeginArray();
  for (const LabResult& lab : c.labs) WriteLab(out, lab);
  out.EndArray().Key("lifestyle").BeginObject();
  for (const auto& [id, value] : c.lifestyle) {
    if (!value.used) continue;
    out.Key(id);
    if (value.number) out.Double(*value.number);
    else if (value.boolean) out.Bool(*value.boolean);
    else out.String(value.text);
  }
  out.EndObject();
  if (c.medications_given) {
    out.Key("medications").BeginArray();
    for (const MedicationEntry& m : c.medications) {
      out.BeginObject().Key("atc");
      OptionalText(out, m.atc);
      out.Key("classes").Strings(m.classes);
      if (!m.dose.empty()) out.Key("dose").String(m.dose);
      out.Key("id").String(m.id);
      if (!m.name.empty()) out.Key("name").String(m.name);
      out.EndObject();
    }
    out.EndArray();
  }
  WritePatient(out.Key("patient"), c.patient);
  out.Key("questionnaires").BeginObject();
  for (const auto& [id, q] : c.questionnaires) WriteQuestionnaire(out.Key(id), q);
  out.EndObject();
  WriteScores(out.Key("stressors"), c.stressors);
  if (c.supplements_given)
    out.Key("supplements").BeginObject().Key("current").Strings(c.supplements_current).Key("requested").Strings(
        c.supplements_requested).EndObject();
  WriteScores(out.Key("symptoms"), c.symptoms);
  if (!c.unknown_conditions.empty()) WriteUnknown(out.Key("unknown_conditions"), c.unknown_conditions);
  if (!c.unknown_medications.empty()) WriteUnknown(out.Key("unknown_medications"), c.unknown_medications);
  out.EndObject();
  out.Flush();
  return text;
}

}  // namespace nflux::casefile
