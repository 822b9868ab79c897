#include "safety/knowledge_cases.h"

#include <algorithm>

namespace nflux::testing {

using nlohmann::json;
using nlohmann::ordered_json;
using knowledge::NodeKind;

namespace {

std::vector<std::string> Strings(const json& value) {
  std::vector<std::string> out;
  if (value.is_string()) out.push_back(value.get<std::string>());
  if (value.is_array())
    for (const json& item : value)
      if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

std::string Text(const json& object, const char* key) {
  return object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "";
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::optional<double> Number(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<double>();
}

// The medication ids a case entry brings in, with their classes, for `avoid` checks.
bool Avoided(const knowledge::KnowledgeBase& kb, const std::string& medication, const std::vector<std::string>& avoid) {
  if (Contains(avoid, medication)) return true;
  for (const std::string& cls : kb.ClassesOf(medication))
    if (Contains(avoid, cls)) return true;
  return false;
}

// ---- Building case data -----------------------------------------------------------------------

void SetPatient(ordered_json& c, const char* field, const ordered_json& value) { c["patient"][field] = value; }

void AddListEntry(ordered_json& c, const char* list, const ordered_json& entry) {
  if (!c.contains(list)) c[list] = ordered_json::array();
  c[list].push_back(entry);
}

void SetLab(ordered_json& c, const std::string& id, double value, const std::string& unit) {
  if (!c.contains("labs")) c["labs"] = ordered_json::array();
  for (auto& lab : c["labs"])
    if (lab["test"] == id) {
      lab["value"] = value;
      return;
    }
  c["labs"].push_back({{"test", id}, {"value", value}, {"unit", unit}});
}

// The patient restrictions any criterion or `when` may carry (sex of a lab, age limits).
void ApplyPatientRestrictions(const json& comparators, ordered_json& c) {
  if (!comparators.is_object()) return;
  if (std::string sex = Text(comparators, "sex"); !sex.empty()) SetPatient(c, "sex", sex);
  if (auto below = Number(comparators, "age_below")) SetPatient(c, "age_years", *below > 1 ? *below - 1 : *below / 2);
  if (auto at_least = Number(comparators, "age_at_least")) SetPatient(c, "age_years", *at_least);
}

std::string ApplyLab(const knowledge::Node& node, const json& when, ordered_json& c) {
  const knowledge::Lab& lab = *node.lab;
  auto above = Number(when, "above");
  auto below = Number(when, "below");
  if (!above && !below) return "a lab target needs 'above' or 'below' in 'when'";
  double value = 0;
  if (above) {
    value = *above > 0 ? *above * 1.2 : *above + 1;
    if (lab.plausible_max && value >= *lab.plausible_max) value = (*above + *lab.plausible_max) / 2;
  } else {
    value = *below * 0.8;
    if (lab.plausible_min && value <= *lab.plausible_min) value = (*below + *lab.plausible_min) / 2;
  }
  SetLab(c, node.id, value, lab.analyte.canonical_unit);
  return "";
}

std::string ApplyQuestionnaire(const knowledge::Node& node, const json& when, ordered_json& c) {
  const knowledge::Questionnaire& q = *node.questionnaire;
  const bool positive = !when.is_object() || when.value("positive", false) ||
                        (!when.contains("at_least") && !when.contains("item"));
  if (q.result_only) {
    if (!positive) return "a result-only questionnaire can only be positive";
    c["questionnaires"][node.id] = {{"result", "positive"}};
    return "";
  }
  if (auto item = Number(when, "item")) {
    std::vector<int> items(static_cast<size_t>(q.items), q.item_min);
    const int k = static_cast<int>(*item);
    if (k < 1 || k > q.items) return "item " + std::to_string(k) + " is not an item of " + node.id;
    items[static_cast<size_t>(k - 1)] = static_cast<int>(Number(when, "at_least").value_or(1));
    c["questionnaires"][node.id] = {{"items", items}};
    return "";
  }
  int total = 0;
  if (auto at_least = Number(when, "at_least")) {
    total = static_cast<int>(*at_least);
  } else {
    const Sex sex = Text(c["patient"], "sex") == "male" ? Sex::kMale : Sex::kFemale;
    std::optional<int> cut = q.PositiveAt(sex);
    if (!cut) return node.id + " has no positive cut-off";
    total = *cut;
  }
  c["questionnaires"][node.id] = {{"total", total}};
  return "";
}

std::string ApplyLifestyle(const knowledge::Node& node, const json& when, ordered_json& c) {
  const knowledge::LifestyleFactor& factor = *node.lifestyle;
  switch (factor.value_type) {
    case LifestyleValueType::kBoolean:
      c["lifestyle"][node.id] = true;
      return "";
    case LifestyleValueType::kEnum:
      return "an enum lifestyle field (" + node.id + ") has no criterion";
    case LifestyleValueType::kNumber:
    case LifestyleValueType::kScale:
      break;
  }
  double value = std::max(1.0, factor.min.value_or(0));
  if (auto above = Number(when, "above")) value = *above + 1;
  if (auto at_least = Number(when, "at_least")) value = *at_least;
  if (factor.max && value > *factor.max) return node.id + " cannot exceed " + std::to_string(*factor.max);
  c["lifestyle"][node.id] = value;
  return "";
}

std::string ApplyMedication(const knowledge::KnowledgeBase& kb, const std::string& id, const std::vector<std::string>& avoid,
                            ordered_json& c) {
  ordered_json entry = MemberMedication(kb, id, avoid);
  if (entry.is_null()) return "no medication node or ATC group code is, or belongs to, " + id;
  AddListEntry(c, "medications", entry);
  return "";
}

// "safety/interactions.json" for "/work/x/knowledge/safety/interactions.json" under "/work/x/knowledge".
std::string RelativeTo(const std::string& dir, const std::string& path) {
  return path.rfind(dir + "/", 0) == 0 ? path.substr(dir.size() + 1) : path;
}

}  // namespace

std::string SafetyEdge::Describe() const {
  return from + " -" + type + "-> " + to + (when.is_null() ? "" : " when " + when.dump()) +
         (alert.empty() ? "" : " (" + alert + ")") + " at " + where;
}

std::vector<SafetyEdge> ReadSafetyEdges(const std::string& knowledge_dir) {
  std::vector<SafetyEdge> out;
  auto files = knowledge::ReadKnowledgeDir(knowledge_dir);
  if (!files.ok()) return out;
  for (const knowledge::SourceFile& file : *files) {
    json document = json::parse(file.text, nullptr, false);
    if (!document.is_object() || !document.contains("edges") || !document["edges"].is_array()) continue;
    const json& edges = document["edges"];
    for (size_t i = 0; i < edges.size(); ++i) {
      const json& e = edges[i];
      const std::string type = Text(e, "type");
      if (type != "contraindicated_with" && type != "interacts_with") continue;
      SafetyEdge edge{Text(e, "from"), type, Text(e, "to"), e.contains("when") ? e["when"] : json(),
                      Text(e, "severity"), Text(e, "alert"), Text(e, "alert_severity"),
                      Strings(e.value("unless", json())), Strings(e.value("citations", json())),
                      RelativeTo(knowledge_dir, file.path) + " /edges/" + std::to_string(i)};
      out.push_back(std::move(edge));
    }
  }
  return out;
}

std::map<std::string, std::vector<double>> LabThresholds(const std::vector<SafetyEdge>& edges) {
  std::map<std::string, std::vector<double>> out;
  for (const SafetyEdge& edge : edges)
    for (const char* key : {"above", "below"})
      if (auto value = Number(edge.when, key)) out[edge.to].push_back(*value);
  return out;
}

ordered_json BaseCase(const std::string& case_id, const std::string& sex, int age) {
  ordered_json c;
  c["case_id"] = case_id;
  c["patient"] = {{"sex", sex}, {"age_years", age}};
  return c;
}

ordered_json MemberMedication(const knowledge::KnowledgeBase& kb, const std::string& id, const std::vector<std::string>& avoid,
                              const std::string& other_than) {
  const knowledge::Node* node = kb.Find(id);
  if (node == nullptr) return nullptr;
  if (node->kind == NodeKind::kMedication && id != other_than && !Avoided(kb, id, avoid)) return {{"id", id}};
  for (const std::string& medication : kb.IdsOfKind(NodeKind::kMedication)) {
    if (medication == other_than || Avoided(kb, medication, avoid)) continue;
    if (Contains(kb.ClassesOf(medication), id)) return {{"id", medication}};
  }
  if (node->kind != NodeKind::kMedicationClass || !node->data.json().contains("atc")) return nullptr;
  for (const std::string& group : Strings(node->data.json()["atc"])) {
    std::string code = group;
    while (code.size() < 5) code += code.size() == 1 ? "99" : "X";  // levels of 1, 3, 4, 5 characters
    if (code.size() == 5) code += "97";
    if (code != other_than) return {{"atc", code}};
  }
  return nullptr;
}

std::string ApplyTarget(const knowledge::KnowledgeBase& kb, const std::string& subject, const json& comparators,
                        const std::vector<std::string>& avoid, ordered_json& c) {
  const knowledge::Node* node = kb.Find(subject);
  if (node == nullptr) return "unknown id " + subject;
  ApplyPatientRestrictions(comparators, c);
  switch (node->kind) {
    case NodeKind::kLab:
      return ApplyLab(*node, comparators, c);
    case NodeKind::kQuestionnaire:
      return ApplyQuestionnaire(*node, comparators, c);
    case NodeKind::kSymptom:
      c["symptoms"][subject] = static_cast<int>(Number(comparators, "at_least").value_or(1));
      return "";
    case NodeKind::kLifestyleFactor:
      return ApplyLifestyle(*node, comparators, c);
    case NodeKind::kMedication:
    case NodeKind::kMedicationClass:
      return ApplyMedication(kb, subject, avoid, c);
    case NodeKind::kCondition:
      AddListEntry(c, "conditions", {{"id", subject}});
      return "";
    case NodeKind::kStrategy:
      if (!c.contains("supplements")) c["supplements"] = ordered_json::object();
      AddListEntry(c["supplements"], "current", subject);
      return "";
    default:
      return "a " + std::string(knowledge::KindName(node->kind)) + " target is not case data";
  }
}

std::string ApplyCriterion(const knowledge::KnowledgeBase& kb, const json& criterion, const std::vector<std::string>& avoid,
                           ordered_json& c) {
  if (!criterion.is_object()) return "a criterion is an object";
  if (std::string who = Text(criterion, "patient"); !who.empty()) {
    if (who == "pregnant" || who == "lactating") {
      SetPatient(c, "sex", "female");
      SetPatient(c, "age_years", 30);
      SetPatient(c, who == "pregnant" ? "pregnant" : "lactating", true);
      return "";
    }
    return "unknown patient criterion " + who;
  }
  if (criterion.contains("age_below") || criterion.contains("age_at_least")) {
    ApplyPatientRestrictions(criterion, c);
    return "";
  }
  for (const char* key : {"lab", "questionnaire", "symptom", "lifestyle", "medication"})
    if (std::string subject = Text(criterion, key); !subject.empty()) return ApplyTarget(kb, subject, criterion, avoid, c);
  return "no subject in criterion " + criterion.dump();
}

// ---- Reading a parsed case --------------------------------------------------------------------

namespace {

bool LabMeets(const json& criterion, const std::string& id, const casefile::Case& c) {
  const casefile::LabResult* lab = c.Lab(id);
  if (lab == nullptr || !lab->used || !lab->value) return false;
  if (auto above = Number(criterion, "above"); above && !(*lab->value > *above)) return false;
  if (auto below = Number(criterion, "below"); below && !(*lab->value < *below)) return false;
  return true;
}

bool QuestionnaireMeets(const json& criterion, const std::string& id, const casefile::Case& c) {
  const casefile::QuestionnaireResult* q = c.Questionnaire(id);
  if (q == nullptr) return false;
  const int at_least = static_cast<int>(Number(criterion, "at_least").value_or(1));
  if (auto item = Number(criterion, "item")) return q->Item(static_cast<int>(*item)).value_or(-1) >= at_least;
  if (criterion.value("positive", false)) return q->positive.value_or(false);
  return q->total.value_or(-1) >= at_least;
}

bool LifestyleMeets(const json& criterion, const std::string& id, const casefile::Case& c) {
  if (auto flag = c.LifestyleBool(id)) return *flag;
  auto number = c.LifestyleNumber(id);
  if (!number) return false;
  auto it = c.lifestyle.find(id);
  if (it != c.lifestyle.end() && !it->second.used) return false;
  if (auto above = Number(criterion, "above")) return *number > *above;
  if (auto at_least = Number(criterion, "at_least")) return *number >= *at_least;
  return *number > 0;
}

// The restrictions any criterion may carry: the patient's sex and age.
bool PatientMeets(const json& criterion, const casefile::Case& c) {
  if (std::string sex = Text(criterion, "sex"); !sex.empty() && sex != Name(c.patient.sex)) return false;
  // Safety fails closed: an age bound cannot be ruled out when the (impossible) age was excluded.
  if (c.patient.age_excluded) return true;
  if (auto below = Number(criterion, "age_below"); below && !(c.patient.age_years < *below)) return false;
  if (auto at_least = Number(criterion, "age_at_least"); at_least && !(c.patient.age_years >= *at_least)) return false;
  return true;
}

}  // namespace

bool CaseMeets(const knowledge::KnowledgeBase& kb, const json& criterion, const casefile::Case& c) {
  if (!criterion.is_object()) return false;
  if (!PatientMeets(criterion, c)) return false;
  if (std::string who = Text(criterion, "patient"); !who.empty())
    return who == "pregnant" ? c.patient.pregnant.value_or(false) : c.patient.lactating.value_or(false);
  if (std::string id = Text(criterion, "lab"); !id.empty()) return LabMeets(criterion, id, c);
  if (std::string id = Text(criterion, "questionnaire"); !id.empty()) return QuestionnaireMeets(criterion, id, c);
  if (std::string id = Text(criterion, "symptom"); !id.empty())
    return c.Symptom(id).value_or(-1) >= static_cast<int>(Number(criterion, "at_least").value_or(1));
  if (std::string id = Text(criterion, "lifestyle"); !id.empty()) return LifestyleMeets(criterion, id, c);
  if (std::string id = Text(criterion, "medication"); !id.empty()) return c.TakesMedication(id) || c.TakesMedicationClass(id);
  (void)kb;
  return criterion.contains("age_below") || criterion.contains("age_at_least");
}

bool ConditionApplies(const knowledge::KnowledgeBase& kb, const std::string& condition, const casefile::Case& c) {
  if (c.HasCondition(condition)) return true;
  const knowledge::Node* node = kb.Find(condition);
  if (node == nullptr || !node->data.json().is_object() || !node->data.json().contains("implied_by")) return false;
  for (const json& criterion : node->data.json()["implied_by"])
    if (CaseMeets(kb, criterion, c)) return true;
  return false;
}

bool UnlessHolds(const knowledge::KnowledgeBase& kb, const std::string& id, const casefile::Case& c) {
  return c.TakesMedication(id) || c.TakesMedicationClass(id) || ConditionApplies(kb, id, c);
}

namespace {

// The edge's target as a criterion: the subject key its kind takes, with the edge's `when`.
json TargetCriterion(NodeKind kind, const SafetyEdge& edge) {
  json criterion = edge.when.is_object() ? edge.when : json::object();
  switch (kind) {
    case NodeKind::kLab: criterion["lab"] = edge.to; break;
    case NodeKind::kQuestionnaire:
      criterion["questionnaire"] = edge.to;
      if (!criterion.contains("at_least") && !criterion.contains("item")) criterion["positive"] = true;
      break;
    case NodeKind::kSymptom: criterion["symptom"] = edge.to; break;
    case NodeKind::kLifestyleFactor: criterion["lifestyle"] = edge.to; break;
    default: break;
  }
  return criterion;
}

bool TargetPresent(const knowledge::KnowledgeBase& kb, const knowledge::Node& target, const SafetyEdge& edge,
                   const casefile::Case& c, const Concluded& concluded) {
  switch (target.kind) {
    case NodeKind::kMedication:
    case NodeKind::kMedicationClass:
      return c.TakesMedication(edge.to) || c.TakesMedicationClass(edge.to);
    case NodeKind::kCondition:
      return ConditionApplies(kb, edge.to, c);
    case NodeKind::kStrategy:
      return c.TakesSupplement(edge.to) || c.RequestsSupplement(edge.to);
    case NodeKind::kAlert:
      return Contains(concluded.alerts, edge.to);
    case NodeKind::kDriver: {
      auto it = concluded.drivers.find(edge.to);
      return it != concluded.drivers.end() && it->second >= 0.5;
    }
    default:
      return CaseMeets(kb, TargetCriterion(target.kind, edge), c);
  }
}

}  // namespace

bool EdgeHolds(const knowledge::KnowledgeBase& kb, const SafetyEdge& edge, const casefile::Case& c,
               const Concluded& concluded) {
  const knowledge::Node* target = kb.Find(edge.to);
  if (target == nullptr || !TargetPresent(kb, *target, edge, c, concluded)) return false;
  if (edge.when.is_object() && !PatientMeets(edge.when, c)) return false;
  for (const std::string& lifting : edge.unless)
    if (UnlessHolds(kb, lifting, c)) return false;
  return true;
}

}  // namespace nflux::testing
