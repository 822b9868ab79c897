// FHIR R4 import: a FHIR Bundle (any type) or a single resource, as an electronic record sends it,
// mapped to a case (shared/contracts/case.md) as shared/contracts/fhir.md fixes it. Only the
// elements used are read (no FHIR model beyond them); every resource or element left unused is
// listed as a note with its FHIR path and the reason, so nothing is dropped silently.
//
//   auto imported = fhir::ImportFhir(bundle_json, kb, {.as_of = "2026-11-02"});
//   // imported->case_json: the case, for casefile::ParseCase; imported->notes: for its data_quality
//
// What is read: Patient (gender, birthDate), Observation (labs by LOINC with UCUM quantities,
// pregnancy and breastfeeding status, questionnaire totals, BMI, gestational age, and the
// NeuroFlux-coded symptoms, lifestyle and stressors), QuestionnaireResponse (items by LOINC or item
// number), MedicationStatement / MedicationRequest (ATC, RxNorm, contained or referenced
// Medication; supplements by the NeuroFlux strategy code system), Condition (ICD-10, ICD-10-CM,
// SNOMED CT where the knowledge base maps it). References resolve within the bundle (fullUrl or
// Type/id) and to contained resources ("#id"); a Bundle inside a Bundle (search results, as CDS
// Hooks prefetch gives them) is read through. Notes: warnings first, then info, each in input order. The codes are listed in docs/fhir.md.
//
// Errors: malformed FHIR (wrong resourceType, a used element of the wrong type, no Patient, a
// gender the case cannot express) is InvalidArgument listing every problem, one per line, each as
// "SOURCE: FHIR.path: message" (e.g. "p.json: Bundle.entry[0].resource.gender: ...").
//
// Ownership: an Import is a plain value. Thread-safety: ImportFhir is pure (it reads the immutable
// knowledge base) and may run on many threads at once.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "case/case.h"
#include "knowledge/knowledge.h"

namespace nflux::fhir {

// The code systems fixed by shared/contracts/fhir.md and docs/fhir.md.
inline constexpr const char* kLoinc = "http://loinc.org";
inline constexpr const char* kSnomed = "http://snomed.info/sct";
inline constexpr const char* kUcum = "http://unitsofmeasure.org";
inline constexpr const char* kAtc = "http://www.whocc.no/atc";
inline constexpr const char* kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
inline constexpr const char* kIcd10 = "http://hl7.org/fhir/sid/icd-10";
inline constexpr const char* kIcd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr const char* kStrategySystem = "http://neuroflux.example/strategy";
// A lab without a verified LOINC code (kynurenine_plasma): its knowledge id as the code.
inline constexpr const char* kLabSystem = "http://neuroflux.example/lab";
inline constexpr const char* kSymptomSystem = "http://neuroflux.example/symptom";
inline constexpr const char* kLifestyleSystem = "http://neuroflux.example/lifestyle";
inline constexpr const char* kStressorSystem = "http://neuroflux.example/stressor";
inline constexpr const char* kPatientSystem = "http://neuroflux.example/patient";  // menopausal_status
// A QuestionnaireResponse.questionnaire of "http://neuroflux.example/Questionnaire/ID" names the
// vocabulary questionnaire ID; its items are then matched by linkId "1".."N" (item number).
inline constexpr const char* kQuestionnairePrefix = "http://neuroflux.example/Questionnaire/";

struct ImportOptions {
  // The evaluation date "YYYY-MM-DD" the age is computed at; absent: the latest Observation's
  // date, else today.
  std::optional<std::string> as_of;
  // Names the input in error messages ("bundle.json"); empty: no prefix.
  std::string source_name;
};

struct Import {
  nlohmann::ordered_json case_json;  // case.md JSON; extra.fhir says where it came from
  // What was not used or was doubtful, each with `path` = the FHIR path
  // ("Bundle.entry[3].resource.valueQuantity"), severity info (or warning where it could matter
  // clinically) and a code: unused_resource, unused_element, not_final, superseded, unknown_code,
  // no_value, inactive, unresolved_reference, incomplete_questionnaire.
  std::vector<casefile::DataQualityIssue> notes;
  // Case JSON pointer ("/labs/2") -> the FHIR path it came from ("Bundle.entry[5].resource").
  std::map<std::string, std::string> origins;
};

// True for a JSON object with a string "resourceType": what evaluate and batch take as FHIR.
bool IsFhirResource(const nlohmann::json& document);

// REQUIRES: `kb` loaded without problems. Errors: see the top comment.
Result<Import> ImportFhir(const nlohmann::json& resource, const knowledge::KnowledgeBase& kb,
                          const ImportOptions& options);

// The FHIR origin of a case JSON pointer: the longest origin that is a prefix of `case_path`
// ("/labs/2/unit" -> "Bundle.entry[5].resource"), or "" when none.
std::string OriginOf(const Import& imported, const std::string& case_path);

}  // namespace nflux::fhir
