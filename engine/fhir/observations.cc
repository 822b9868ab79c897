// Patient and Observation: the patient's sex and age, labs by LOINC, pregnancy and breastfeeding
// status, BMI, gestational age, questionnaire totals and safety items, and the NeuroFlux-coded
// symptoms, stressors and lifestyle. For a code seen more than once the latest observation is used.
#include <algorithm>
#include <cmath>

#include "base/json.h"
#include "fhir/importer.h"

namespace nflux::fhir::internal {

using casefile::Severity;
using Kind = ObservationTarget::Kind;

namespace {

// LOINC codes read besides the knowledge base's labs and questionnaires (docs/fhir.md cites them).
constexpr const char* kPregnancyStatus = "82810-3";   // Pregnancy status
constexpr const char* kBreastfeeding = "63895-7";     // Breastfeeding status
constexpr const char* kBmi = "39156-5";               // Body mass index (BMI) [Ratio]
constexpr const char* kGestationalAge = "49051-6";    // Gestational age in weeks

// Answers: SNOMED CT as fhir.md fixes them, and the LOINC answers IPS maps to them.
std::optional<bool> PregnancyAnswer(const Coding& c) {
  if (c.code == "77386006" || c.code == "LA15173-0") return true;
  if (c.code == "60001007" || c.code == "LA26683-5") return false;
  return std::nullopt;
}
std::optional<bool> BreastfeedingAnswer(const Coding& c) {
  if (c.code == "LA29252-6") return true;   // Currently breastfeeding
  if (c.code == "LA29253-4") return false;  // Not currently breastfeeding
  return std::nullopt;
}

bool UsableStatus(const std::string& status) {
  return status == "final" || status == "amended" || status == "corrected";
}

std::string Described(const Coding& c) {
  return "LOINC " + c.code + (c.display.empty() ? "" : " (" + c.display + ")");
}

// The questionnaire whose total (or safety item) a LOINC code names.
std::optional<ObservationTarget> QuestionnaireCode(const knowledge::KnowledgeBase& kb, const Coding& c) {
  for (const knowledge::Node& node : kb.nodes()) {
    if (!node.questionnaire) continue;
    const knowledge::Questionnaire& q = *node.questionnaire;
    if (!q.loinc.empty() && q.loinc == c.code)
      return ObservationTarget{Kind::kQuestionnaireTotal, node.id, "LOINC " + c.code + " (" + node.id + " total)"};
    if (q.safety_item && static_cast<size_t>(*q.safety_item) <= q.item_loinc.size() &&
        q.item_loinc[*q.safety_item - 1] == c.code)
      return ObservationTarget{Kind::kSafetyItem, node.id,
                               "LOINC " + c.code + " (" + node.id + " item " + std::to_string(*q.safety_item) + ")"};
  }
  return std::nullopt;
}

std::optional<ObservationTarget> LoincTarget(const knowledge::KnowledgeBase& kb, const Coding& c) {
  if (c.code == kPregnancyStatus) return ObservationTarget{Kind::kPregnancy, "", Described(c)};
  if (c.code == kBreastfeeding) return ObservationTarget{Kind::kLactation, "", Described(c)};
  if (c.code == kBmi) return ObservationTarget{Kind::kBmi, "", Described(c)};
  if (c.code == kGestationalAge) return ObservationTarget{Kind::kGestationalAge, "", Described(c)};
  if (auto target = QuestionnaireCode(kb, c)) return target;
  const knowledge::Node* lab = kb.FindLabByLoinc(c.code);
  if (lab != nullptr && lab->lab) return ObservationTarget{Kind::kLab, lab->id, "LOINC " + c.code + " (" + lab->id + ")"};
  return std::nullopt;
}

}  // namespace

std::optional<ObservationTarget> Importer::TargetOf(const std::vector<Coding>& codings) const {
  for (const Coding& c : codings) {
    if (c.system == kLoinc) {
      if (auto target = LoincTarget(kb_, c)) return target;
    } else if (c.system == kLabSystem) {
      const knowledge::Node* lab = kb_.Find(c.code);
      if (lab != nullptr && lab->lab) return ObservationTarget{Kind::kLab, lab->id, "lab " + lab->id};
    } else if (c.system == kSymptomSystem) {
      return ObservationTarget{Kind::kSymptom, c.code, "symptom " + c.code};
    } else if (c.system == kStressorSystem) {
      return ObservationTarget{Kind::kStressor, c.code, "stressor " + c.code};
    } else if (c.system == kLifestyleSystem) {
      return ObservationTarget{Kind::kLifestyle, c.code, "lifestyle " + c.code};
    } else if (c.system == kPatientSystem && c.code == "menopausal_status") {
      return ObservationTarget{Kind::kMenopausalStatus, "", "menopausal status"};
    }
  }
  return std::nullopt;
}

// ---- Patient ----------------------------------------------------------------------------------------

void Importer::MapPatient() {
  for (size_t i = 0; i < resources_.size(); ++i) {
    if (resources_[i].type != "Patient") continue;
    if (patient_ >= 0) {
      Error(resources_[i].path, "a second Patient (the first is " + resources_[static_cast<size_t>(patient_)].path +
                                    "): a case is about one patient");
      continue;
    }
    patient_ = static_cast<int>(i);
  }
  if (patient_ < 0) {
    Error(root_, "no Patient resource: the patient's sex and age are required");
    return;
  }
  Resource& r = resources_[static_cast<size_t>(patient_)];
  r.used = true;
  const json* gender = StringField(*r.value, "gender", r.path);
  const std::string sex = gender ? gender->get<std::string>() : "";
  if (sex == "female" || sex == "male") case_["patient"]["sex"] = sex;
  else if (gender == nullptr) Error(r.path + ".gender", "missing: the patient's sex (female or male) is required");
  else Error(r.path + ".gender", "'" + sex + "': NeuroFlux needs female or male (its reference ranges are sex-specific)");
  const json* birth = StringField(*r.value, "birthDate", r.path);
  const std::string date = birth ? birth->get<std::string>() : "";
  if (birth == nullptr) Error(r.path + ".birthDate", "missing: the patient's age is required");
  else if (DatePart(date) != date) Error(r.path + ".birthDate", "expected a full date YYYY-MM-DD, got " + Quote(date));
  else case_["patient"]["age_years"] = YearsBetween(date, as_of_);
  NoteUnusedElements(static_cast<size_t>(patient_), {"gender", "birthDate", "name", "telecom", "address", "active",
                                                     "communication", "generalPractitioner", "managingOrganization",
                                                     "contact", "maritalStatus", "photo"});
}

// ---- Observations: classify, then keep the latest of each code -------------------------------------------

void Importer::ClassifyObservations() {
  for (size_t i = 0; i < resources_.size(); ++i) {
    Resource& r = resources_[i];
    if (r.type != "Observation") continue;
    r.used = true;
    const json* code = ObjectField(*r.value, "code", r.path);
    std::vector<Coding> codings = code ? Codings(*code, r.path + ".code") : std::vector<Coding>{};
    std::optional<ObservationTarget> target = TargetOf(codings);
    if (!target) {
      const std::string said = codings.empty() ? "no coding" : codings.front().system + " " + codings.front().code;
      Note(r.path, Severity::kInfo, "unknown_code", "an Observation NeuroFlux does not use (" + said + ")");
      continue;
    }
    const std::string status = Status(i);
    if (!UsableStatus(status)) {
      Note(r.path + ".status", status == "entered-in-error" ? Severity::kInfo : Severity::kWarning, "not_final",
           target->what + ": status " + Quote(status) + "; only final, amended or corrected results are used");
      continue;
    }
    std::string when;
    for (const char* key : {"effectiveDateTime", "effectiveInstant"})
      if (const json* value = StringField(*r.value, key, r.path)) when = value->get<std::string>();
    if (const json* period = ObjectField(*r.value, "effectivePeriod", r.path))
      if (const json* start = StringField(*period, "start", r.path + ".effectivePeriod")) when = start->get<std::string>();
    if (!when.empty() && DatePart(when).empty()) {
      Note(r.path + ".effective[x]", Severity::kWarning, "invalid_date",
           target->what + ": " + Quote(when) + " is not a FHIR date; the result is used as undated");
      when.clear();
    }
    const std::string key = std::to_string(static_cast<int>(target->kind)) + ":" + target->id;
    if (!observations_.count(key)) observation_order_.push_back(key);
    observations_[key].push_back({i, when, target->what});
    targets_[key] = *target;
  }
}

void Importer::MapObservations() {
  for (const std::string& key : observation_order_) {
    const std::vector<Candidate>& candidates = observations_[key];
    // The latest: a dated one beats an undated one; ties go to the later in the input.
    size_t best = 0;
    for (size_t k = 1; k < candidates.size(); ++k)
      if (candidates[k].when >= candidates[best].when) best = k;
    for (size_t k = 0; k < candidates.size(); ++k) {
      if (k == best) continue;
      const Candidate& c = candidates[k];
      Note(resources_[c.resource].path, Severity::kInfo, "superseded",
           c.what + (c.when.empty() ? " (undated)" : " of " + c.when) + ": a later one is used (" +
               resources_[candidates[best].resource].path + ")");
    }
    current_when_ = candidates[best].when;
    MapObservation(targets_[key], candidates[best].resource);
  }
}

void Importer::MapObservation(const ObservationTarget& target, size_t index) {
  switch (target.kind) {
    case Kind::kLab: MapLab(target, index); break;
    case Kind::kPregnancy: case Kind::kLactation: case Kind::kBmi: case Kind::kGestationalAge:
    case Kind::kMenopausalStatus:
      MapPatientStatus(target, index);
      break;
    case Kind::kQuestionnaireTotal: case Kind::kSafetyItem: case Kind::kSymptom: case Kind::kStressor:
      MapScore(target, index);
      break;
    case Kind::kLifestyle: MapLifestyle(target, index); break;
  }
  NoteUnusedElements(index, {"status", "code", "effectiveDateTime", "effectiveInstant", "effectivePeriod", "issued",
                             "performer", "valueQuantity", "valueInteger", "valueBoolean", "valueString",
                             "valueCodeableConcept", "specimen", "method", "device"});
}

// ---- Values ---------------------------------------------------------------------------------------------

std::optional<double> Importer::QuantityValue(size_t index, const std::string& what, std::string* unit) {
  const Resource& r = resources_[index];
  const json* quantity = ObjectField(*r.value, "valueQuantity", r.path);
  if (quantity == nullptr) {
    Note(r.path, Severity::kWarning, "no_value", what + ": no valueQuantity; not used");
    return std::nullopt;
  }
  const std::string at = r.path + ".valueQuantity";
  if (const json* comparator = StringField(*quantity, "comparator", at)) {
    Note(at + ".comparator", Severity::kWarning, "no_value",
         what + ": a bound (" + comparator->get<std::string>() + "), not a measured value; not used");
    return std::nullopt;
  }
  const json* value = JsonReader::Field(*quantity, "value");
  if (value == nullptr || !value->is_number()) {
    Error(at + ".value", value ? "expected a number, got " + JsonTypeWithArticle(*value) : "missing");
    return std::nullopt;
  }
  const json* code = StringField(*quantity, "code", at);
  const json* text = StringField(*quantity, "unit", at);
  const json* system = StringField(*quantity, "system", at);
  const bool ucum = code && (system == nullptr || system->get<std::string>() == kUcum);
  if (ucum) *unit = code->get<std::string>();
  else if (text) *unit = text->get<std::string>();
  return value->get<double>();
}

std::optional<int> Importer::IntegerValue(size_t index, const std::string& what) {
  const Resource& r = resources_[index];
  const json* value = JsonReader::Field(*r.value, "valueInteger");
  std::string path = r.path + ".valueInteger";
  if (value == nullptr) {
    if (const json* quantity = JsonReader::Field(*r.value, "valueQuantity"); quantity && quantity->is_object()) {
      value = JsonReader::Field(*quantity, "value");
      path = r.path + ".valueQuantity.value";
    }
  }
  if (value == nullptr) {
    Note(r.path, Severity::kWarning, "no_value", what + ": no valueInteger; not used");
    return std::nullopt;
  }
  std::optional<long long> integer = JsonInteger(*value);
  if (!integer) {
    Error(path, "expected a whole number, got " + (value->is_number() ? value->dump() : JsonTypeWithArticle(*value)));
    return std::nullopt;
  }
  return static_cast<int>(*integer);
}

void Importer::MapLab(const ObservationTarget& target, size_t index) {
  std::string unit;
  std::optional<double> value = QuantityValue(index, target.what, &unit);
  if (!value) return;
  ordered_json lab = ordered_json::object();
  lab["test"] = target.id;
  lab["value"] = *value;
  if (!unit.empty()) lab["unit"] = unit;
  if (!DatePart(current_when_).empty()) lab["date"] = DatePart(current_when_);
  if (!TimePart(current_when_).empty()) lab["collection_time"] = TimePart(current_when_);
  ordered_json& labs = case_["labs"];
  if (labs.is_null()) labs = ordered_json::array();
  import_.origins["/labs/" + std::to_string(labs.size())] = resources_[index].path;
  labs.push_back(std::move(lab));
}

void Importer::MapPatientStatus(const ObservationTarget& target, size_t index) {
  const Resource& r = resources_[index];
  const std::string& path = r.path;
  if (target.kind == Kind::kBmi || target.kind == Kind::kGestationalAge) {
    std::string unit;
    std::optional<double> value = QuantityValue(index, target.what, &unit);
    if (!value) return;
    if (target.kind == Kind::kGestationalAge && unit == "d") *value = std::round(*value / 7 * 10) / 10;
    const char* field = target.kind == Kind::kBmi ? "bmi" : "gestational_age_weeks";
    case_["patient"][field] = *value;
    import_.origins[std::string("/patient/") + field] = path;
    return;
  }
  if (target.kind == Kind::kMenopausalStatus) {
    const json* text = StringField(*r.value, "valueString", path);
    if (text) case_["patient"]["menopausal_status"] = text->get<std::string>();
    else Note(path, Severity::kWarning, "no_value", target.what + ": no valueString; not used");
    if (text) import_.origins["/patient/menopausal_status"] = path;
    return;
  }
  const bool pregnancy = target.kind == Kind::kPregnancy;
  std::optional<bool> answer;
  if (const json* boolean = JsonReader::Field(*r.value, "valueBoolean"); boolean && boolean->is_boolean()) answer = boolean->get<bool>();
  if (const json* codeable = ObjectField(*r.value, "valueCodeableConcept", path))
    for (const Coding& c : Codings(*codeable, path + ".valueCodeableConcept"))
      if (!answer) answer = pregnancy ? PregnancyAnswer(c) : BreastfeedingAnswer(c);
  if (!answer) {
    Note(path, Severity::kInfo, "no_value", target.what + ": no answer NeuroFlux reads; " +
                                                 (pregnancy ? "pregnancy" : "breastfeeding") + " not known");
    return;
  }
  const char* field = pregnancy ? "pregnant" : "lactating";
  case_["patient"][field] = *answer;
  import_.origins[std::string("/patient/") + field] = path;
}

void Importer::MapScore(const ObservationTarget& target, size_t index) {
  std::optional<int> value = IntegerValue(index, target.what);
  if (target.kind == Kind::kSafetyItem && !value) {
    // A LOINC answer code instead of a number ("LA6569-3" several days).
    const json* codeable = ObjectField(*resources_[index].value, "valueCodeableConcept", resources_[index].path);
    const knowledge::Node* node = kb_.Find(target.id);
    if (codeable && node)
      for (const Coding& c : Codings(*codeable, resources_[index].path + ".valueCodeableConcept"))
        if (auto it = node->questionnaire->answers.find(c.code); it != node->questionnaire->answers.end()) value = it->second;
  }
  if (!value) return;
  std::string pointer;
  if (target.kind == Kind::kQuestionnaireTotal || target.kind == Kind::kSafetyItem) {
    const knowledge::Node* node = kb_.Find(target.id);
    const std::string field = target.kind == Kind::kQuestionnaireTotal
                                  ? "total" : "item" + std::to_string(node->questionnaire->safety_item.value_or(0));
    case_["questionnaires"][target.id][field] = *value;
    pointer = "/questionnaires/" + target.id + "/" + field;
  } else {
    const char* section = target.kind == Kind::kSymptom ? "symptoms" : "stressors";
    case_[section][target.id] = *value;
    pointer = std::string("/") + section + "/" + target.id;
  }
  import_.origins[pointer] = resources_[index].path;
}

void Importer::MapLifestyle(const ObservationTarget& target, size_t index) {
  const Resource& r = resources_[index];
  ordered_json value;
  if (ObjectField(*r.value, "valueQuantity", r.path) != nullptr) {
    std::string unit;
    if (std::optional<double> number = QuantityValue(index, target.what, &unit)) value = *number;
    else return;
  } else if (const json* integer = JsonReader::Field(*r.value, "valueInteger")) {
    value = *integer;
  } else if (const json* boolean = JsonReader::Field(*r.value, "valueBoolean")) {
    value = *boolean;
  } else if (const json* text = StringField(*r.value, "valueString", r.path)) {
    value = *text;
  } else if (const json* codeable = ObjectField(*r.value, "valueCodeableConcept", r.path)) {
    std::vector<Coding> codings = Codings(*codeable, r.path + ".valueCodeableConcept");
    if (!codings.empty()) value = codings.front().code;
  }
  if (value.is_null()) {
    Note(r.path, Severity::kWarning, "no_value", target.what + ": no value NeuroFlux reads; not used");
    return;
  }
  case_["lifestyle"][target.id] = value;
  import_.origins["/lifestyle/" + target.id] = r.path;
}

}  // namespace nflux::fhir::internal
