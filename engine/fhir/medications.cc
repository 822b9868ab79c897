// MedicationStatement, MedicationRequest (and the Medication they use) and Condition. A drug by
// ATC or RxNorm (RxNorm through the knowledge base's medication codes); a supplement by the
// NeuroFlux strategy code system; a condition by ICD-10 / ICD-10-CM, or SNOMED CT where the
// knowledge base maps it. A drug NeuroFlux does not know still goes into the case, where the
// unknown-medication rule of case.md applies.
#include <algorithm>

#include "base/json.h"
#include "case/case.h"
#include "fhir/importer.h"

namespace nflux::fhir::internal {

using casefile::Severity;

namespace {

const knowledge::Node* MedicationByRxNorm(const knowledge::KnowledgeBase& kb, const std::string& code) {
  for (const knowledge::Node& node : kb.nodes())
    if (node.medication && !node.medication->rxnorm.empty() && node.medication->rxnorm == code) return &node;
  return nullptr;
}

const knowledge::Node* ConditionBySnomed(const knowledge::KnowledgeBase& kb, const std::string& code) {
  for (const knowledge::Node& node : kb.nodes())
    if (node.condition && std::find(node.condition->snomed.begin(), node.condition->snomed.end(), code) !=
                              node.condition->snomed.end())
      return &node;
  return nullptr;
}

std::string DoseText(const json& resource) {
  for (const char* key : {"dosage", "dosageInstruction"}) {
    const json* dosage = JsonReader::Field(resource, key);
    if (dosage && dosage->is_array() && !dosage->empty() && (*dosage)[0].is_object())
      return (*dosage)[0].value("text", std::string());
  }
  return "";
}

void Append(ordered_json& list, ordered_json value) {
  if (list.is_null()) list = ordered_json::array();
  list.push_back(std::move(value));
}

}  // namespace

void Importer::MapMedications() {
  bool any = false;
  for (size_t i = 0; i < resources_.size(); ++i) {
    const std::string& type = resources_[i].type;
    if (type != "MedicationStatement" && type != "MedicationRequest") continue;
    resources_[i].used = true;
    any = true;
    MapMedicationUse(i);
  }
  // A record is the whole list: no entry means none recorded, said once.
  if (!case_.contains("medications")) case_["medications"] = ordered_json::array();
  if (!case_.contains("supplements")) case_["supplements"] = {{"current", ordered_json::array()}, {"requested", ordered_json::array()}};
  if (!any)
    Note(root_, Severity::kInfo, "empty_list", "no MedicationStatement or MedicationRequest: read as no current medications or supplements");
}

void Importer::MapMedicationUse(size_t index) {
  const Resource& r = resources_[index];
  const bool request = r.type == "MedicationRequest";
  const std::string status = Status(index);
  const json* intent_field = request ? StringField(*r.value, "intent", r.path) : nullptr;
  const std::string intent = intent_field ? intent_field->get<std::string>() : "";
  const bool proposed = request && (status == "draft" || intent == "proposal");
  const bool current = status == "active" || status == "on-hold";
  if (!proposed && !current) {
    Note(r.path + ".status", Severity::kInfo, "inactive",
         r.type + " with status " + Quote(status) + ": not a current medication");
    return;
  }
  std::string concept_path;
  const json* codeable = MedicationConcept(index, &concept_path);
  if (codeable != nullptr) AddMedication(index, *codeable, concept_path, proposed);
  NoteUnusedElements(index, {"status", "intent", "medicationCodeableConcept", "medicationReference", "dosage",
                             "dosageInstruction", "effectiveDateTime", "effectivePeriod", "dateAsserted", "authoredOn",
                             "requester", "informationSource", "recorder", "statusReason", "reasonCode"});
}

// The CodeableConcept naming the drug: the resource's own, or that of the Medication it refers to.
const json* Importer::MedicationConcept(size_t index, std::string* path) {
  const Resource& r = resources_[index];
  if (const json* codeable = ObjectField(*r.value, "medicationCodeableConcept", r.path)) {
    *path = r.path + ".medicationCodeableConcept";
    return codeable;
  }
  const json* reference = ObjectField(*r.value, "medicationReference", r.path);
  if (reference == nullptr) {
    Error(r.path, "no medicationCodeableConcept or medicationReference");
    return nullptr;
  }
  const int target = Resolve(*reference, r.path + ".medicationReference", index);
  if (target < 0 || resources_[static_cast<size_t>(target)].type != "Medication") {
    Note(r.path + ".medicationReference", Severity::kWarning, "unresolved_reference",
         "the Medication " + Quote(JsonStringAt(*reference, "reference")) +
             " is not in the input; its display is used as the name");
    *path = r.path + ".medicationReference";
    return reference;  // {"display": ...}: the name only
  }
  Resource& medication = resources_[static_cast<size_t>(target)];
  medication.used = true;
  NoteUnusedElements(static_cast<size_t>(target), {"code", "form", "ingredient", "status", "manufacturer", "amount"});
  *path = medication.path + ".code";
  return ObjectField(*medication.value, "code", medication.path);
}

void Importer::AddMedication(size_t index, const json& codeable, const std::string& concept_path, bool requested) {
  std::vector<Coding> codings = Codings(codeable, concept_path);
  std::string name = codeable.value("text", codeable.value("display", std::string()));
  ordered_json entry = ordered_json::object();
  for (const Coding& c : codings) {
    if (c.system == kStrategySystem) {
      const knowledge::Node* strategy = kb_.Find(c.code);
      if (strategy == nullptr || !strategy->strategy) {
        Note(c.path, Severity::kWarning, "unknown_code", "strategy " + Quote(c.code) + " is not one NeuroFlux knows");
        continue;
      }
      const char* list = requested ? "requested" : "current";
      const std::string pointer = "/supplements/" + std::string(list) + "/" + std::to_string(case_["supplements"][list].size());
      Append(case_["supplements"][list], c.code);
      import_.origins[pointer] = resources_[index].path;
      return;
    }
    if (name.empty()) name = c.display;
    if (c.system == kAtc && !entry.contains("atc")) entry["atc"] = c.code;
    if (c.system == kRxNorm && !entry.contains("id"))
      if (const knowledge::Node* node = MedicationByRxNorm(kb_, c.code)) entry["id"] = node->id;
  }
  if (requested) {
    Note(resources_[index].path, Severity::kInfo, "unused_resource",
         "a draft or proposed order of a drug, not a supplement NeuroFlux reviews: not a current medication");
    return;
  }
  // An ATC code the knowledge base does not know stays (the unknown-medication rule); without any
  // code NeuroFlux reads, the name does.
  if (entry.contains("id") && entry.contains("atc") && casefile::FindMedicationByAtc(kb_, entry["atc"].get<std::string>()) == nullptr)
    entry.erase("atc");
  if (!name.empty()) entry["name"] = name;
  if (!entry.contains("id") && !entry.contains("atc") && name.empty()) {
    Note(concept_path, Severity::kWarning, "unknown_code", "a medication without a code or name NeuroFlux reads; not used");
    return;
  }
  if (const std::string dose = DoseText(*resources_[index].value); !dose.empty()) entry["dose"] = dose;
  import_.origins["/medications/" + std::to_string(case_["medications"].size())] = resources_[index].path;
  Append(case_["medications"], std::move(entry));
}

// ---- Conditions -------------------------------------------------------------------------------------------

void Importer::MapConditions() {
  for (size_t i = 0; i < resources_.size(); ++i) {
    if (resources_[i].type != "Condition") continue;
    resources_[i].used = true;
    if (ConditionActive(i)) MapCondition(i);
  }
  if (!case_.contains("conditions")) case_["conditions"] = ordered_json::array();
}

bool Importer::ConditionActive(size_t index) {
  const Resource& r = resources_[index];
  std::string clinical, verification;
  if (const json* status = ObjectField(*r.value, "clinicalStatus", r.path))
    for (const Coding& c : Codings(*status, r.path + ".clinicalStatus")) clinical = c.code;
  if (const json* status = ObjectField(*r.value, "verificationStatus", r.path))
    for (const Coding& c : Codings(*status, r.path + ".verificationStatus")) verification = c.code;
  if (verification == "refuted" || verification == "entered-in-error") {
    Note(r.path + ".verificationStatus", Severity::kInfo, "inactive", "verification status " + Quote(verification) + ": not used");
    return false;
  }
  if (clinical == "active" || clinical == "recurrence" || clinical == "relapse") return true;
  Note(r.path + ".clinicalStatus", clinical.empty() ? Severity::kWarning : Severity::kInfo, "inactive",
       clinical.empty() ? "no clinical status: not used (only active, recurrence or relapse are)"
                        : "clinical status " + Quote(clinical) + ": not a current condition");
  return false;
}

void Importer::MapCondition(size_t index) {
  const Resource& r = resources_[index];
  const json* code = ObjectField(*r.value, "code", r.path);
  std::vector<Coding> codings = code ? Codings(*code, r.path + ".code") : std::vector<Coding>{};
  ordered_json entry = ordered_json::object();
  for (const Coding& c : codings)
    if ((c.system == kIcd10 || c.system == kIcd10Cm) && !c.code.empty()) {
      entry["icd10"] = c.code;
      break;
    }
  if (entry.empty())
    for (const Coding& c : codings)
      if (c.system == kSnomed)
        if (const knowledge::Node* node = ConditionBySnomed(kb_, c.code)) {
          entry["id"] = node->id;
          break;
        }
  if (entry.empty()) {
    const std::string said = codings.empty() ? "no coding" : codings.front().system + " " + codings.front().code;
    Note(r.path + ".code", Severity::kWarning, "unknown_code",
         "a condition NeuroFlux cannot map (" + said + "): give an ICD-10 coding; not used");
    return;
  }
  import_.origins["/conditions/" + std::to_string(case_["conditions"].size())] = r.path;
  Append(case_["conditions"], std::move(entry));
  NoteUnusedElements(index, {"clinicalStatus", "verificationStatus", "code", "onsetDateTime", "onsetPeriod",
                             "onsetAge", "onsetString", "recordedDate", "recorder", "asserter"});
}

}  // namespace nflux::fhir::internal
