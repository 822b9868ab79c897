// Internal: the state of one ImportFhir() call and its steps, one file per resource family
// (importer.cc: the bundle, references, dates, unused elements; observations.cc: Patient and
// Observation; questionnaires.cc: QuestionnaireResponse; medications.cc: MedicationStatement,
// MedicationRequest, Medication and Condition).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fhir/fhir.h"

namespace nflux::fhir::internal {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// One resource of the input: a bundle entry's resource, a contained resource or the input itself.
struct Resource {
  const json* value = nullptr;
  std::string path;      // "Bundle.entry[3].resource", "Bundle.entry[3].resource.contained[0]", "Patient"
  std::string type;      // resourceType
  std::string id;
  std::string full_url;  // entry.fullUrl, or ""
  int container = -1;    // index of the resource holding a contained one
  bool used = false;     // read by a mapping step (or referenced)
};

struct Coding {
  std::string system, code, display;
  std::string path;  // "...code.coding[1]"
};

// An Observation or QuestionnaireResponse that maps to one case field; the latest wins.
struct Candidate {
  size_t resource = 0;
  std::string when;  // effective date-time as written, "" when none
  std::string what;  // for messages: "LOINC 2276-4 (ferritin)"
};

// The case field an Observation's code maps to.
struct ObservationTarget {
  enum class Kind { kLab, kPregnancy, kLactation, kBmi, kGestationalAge, kQuestionnaireTotal,
                    kSafetyItem, kSymptom, kStressor, kLifestyle, kMenopausalStatus };
  Kind kind = Kind::kLab;
  std::string id;    // lab, questionnaire, symptom, stressor or lifestyle id
  std::string what;  // "LOINC 2276-4 (ferritin)"
};

class Importer {
 public:
  Importer(const knowledge::KnowledgeBase& kb, const ImportOptions& options) : kb_(kb), options_(options) {}
  Result<Import> Run(const json& root);

  // ---- Shared by the steps (importer.cc) ---------------------------------------------------------
  void Error(const std::string& path, const std::string& message);
  void Note(const std::string& path, casefile::Severity severity, const char* code, std::string message);
  // An element of `object` if present; Error() and nullptr when it is not of the type.
  const json* StringField(const json& object, const char* key, const std::string& path);
  const json* ObjectField(const json& object, const char* key, const std::string& path);
  const json* ArrayField(const json& object, const char* key, const std::string& path);
  // The codings of a CodeableConcept at `path` (wrong types reported).
  std::vector<Coding> Codings(const json& codeable, const std::string& path);
  // The resource a Reference points at (contained "#id", fullUrl, "Type/id"); -1 when not found.
  int Resolve(const json& reference, const std::string& path, size_t from);
  // Lists the top-level elements of resource `index` outside `used` as unused.
  void NoteUnusedElements(size_t index, const std::set<std::string>& used);
  std::string Status(size_t index);  // "status" as written, "" when absent

 private:
  // ---- importer.cc ----
  void CollectResources(const json& root);
  void CollectEntries(const json& bundle, const std::string& path);
  void AddResource(const json& value, const std::string& path, const std::string& full_url, int container);
  void MapAll();
  void NoteUnusedResources();
  std::string DefaultAsOf() const;
  ordered_json FhirSource(const json& root) const;
  Result<Import> Finish(const json& root);

  // ---- observations.cc ----
  void MapPatient();
  void ClassifyObservations();
  std::optional<ObservationTarget> TargetOf(const std::vector<Coding>& codings) const;
  void MapObservations();
  void MapObservation(const ObservationTarget& target, size_t index);
  void MapLab(const ObservationTarget& target, size_t index);
  void MapPatientStatus(const ObservationTarget& target, size_t index);
  void MapScore(const ObservationTarget& target, size_t index);
  void MapLifestyle(const ObservationTarget& target, size_t index);
  std::optional<double> QuantityValue(size_t index, const std::string& what, std::string* unit);
  std::optional<int> IntegerValue(size_t index, const std::string& what);

  // ---- questionnaires.cc ----
  void MapQuestionnaireResponses();
  const knowledge::Node* QuestionnaireOf(size_t index);
  void MapQuestionnaireResponse(const knowledge::Node& node, size_t index);

  // ---- medications.cc ----
  void MapMedications();
  void MapMedicationUse(size_t index);
  const json* MedicationConcept(size_t index, std::string* path);
  void AddMedication(size_t index, const json& codeable, const std::string& concept_path, bool requested);
  void MapConditions();
  void MapCondition(size_t index);
  bool ConditionActive(size_t index);

 public:
  const knowledge::KnowledgeBase& kb_;
  const ImportOptions& options_;
  std::vector<Resource> resources_;
  std::vector<std::string> errors_;
  Import import_;
  ordered_json case_ = ordered_json::object();
  std::string root_;   // the input's resourceType: the path of notes about the whole input
  std::string as_of_;  // the evaluation date used
  int patient_ = -1;
  // Observations by the case field they map to (key "lab:ferritin"), in input order.
  std::map<std::string, std::vector<Candidate>> observations_;
  std::map<std::string, ObservationTarget> targets_;
  std::vector<std::string> observation_order_;  // keys in first-seen order
  std::string current_when_;                    // the effective date-time of the observation being mapped
};

// "2026-11-02" from "2026-11-02T08:30:00Z"; "" when `when` does not start with a full date.
std::string DatePart(const std::string& when);
// "08:30" from "2026-11-02T08:30:00Z"; "" when there is no time.
std::string TimePart(const std::string& when);
// Whole years from `birth` to `on` (both "YYYY-MM-DD").
int YearsBetween(const std::string& birth, const std::string& on);
std::string Today();
// "'text'" for messages.
std::string Quote(const std::string& text);

}  // namespace nflux::fhir::internal
