// The FHIR mapping rule by rule (shared/contracts/fhir.md), on small bundles against the shipped
// knowledge base: what each resource becomes in the case, the notes it leaves, and every error
// naming its FHIR path.
#include <gtest/gtest.h>

#include "base/text.h"
#include "fhir/fhir.h"
#include "pipeline/pipeline.h"
#include "real_knowledge.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::fhir {
namespace {

using nlohmann::json;

const json kPatient = {{"resourceType", "Patient"}, {"id", "p1"}, {"gender", "female"}, {"birthDate", "1980-06-15"}};

json Bundle(std::vector<json> resources) {
  json bundle = {{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", json::array()}};
  for (auto& resource : resources) bundle["entry"].push_back({{"resource", resource}});
  return bundle;
}

json Loinc(const std::string& code) { return {{"coding", {{{"system", kLoinc}, {"code", code}}}}}; }
json Code(const std::string& system, const std::string& code) { return {{"coding", {{{"system", system}, {"code", code}}}}}; }

json Lab(const std::string& loinc, double value, const std::string& unit, const std::string& when,
         const std::string& status = "final") {
  return {{"resourceType", "Observation"}, {"status", status}, {"code", Loinc(loinc)}, {"effectiveDateTime", when},
          {"valueQuantity", {{"value", value}, {"unit", unit}, {"system", kUcum}, {"code", unit}}}};
}

Import Imported(const json& input, std::optional<std::string> as_of = "2026-11-02") {
  auto imported = ImportFhir(input, *nflux::testing::RealKnowledge(), {as_of, ""});
  EXPECT_OK(imported);
  return imported.ok() ? *imported : Import{};
}

std::string Error(const json& input) {
  auto imported = ImportFhir(input, *nflux::testing::RealKnowledge(), {"2026-11-02", "b.json"});
  EXPECT_FALSE(imported.ok());
  return imported.ok() ? "" : imported.status().message();
}

// "path | severity | code | message" of every note.
std::vector<std::string> Notes(const Import& imported) {
  std::vector<std::string> out;
  for (const auto& n : imported.notes)
    out.push_back(n.path + " | " + std::string(casefile::SeverityName(n.severity)) + " | " + n.code + " | " + n.message);
  return out;
}

bool HasNote(const Import& imported, const std::string& path, const std::string& code) {
  for (const auto& n : imported.notes)
    if (n.path == path && n.code == code) return true;
  ADD_FAILURE() << "no note " << code << " at " << path << "; notes:\n" << Join(Notes(imported), "\n");
  return false;
}

// ---- Patient --------------------------------------------------------------------------------------

TEST(FhirImport, PatientSexAndAgeAtTheEvaluationDate) {
  Import imported = Imported(Bundle({kPatient}), "2026-06-14");
  EXPECT_EQ(imported.case_json["patient"]["sex"], "female");
  EXPECT_EQ(imported.case_json["patient"]["age_years"], 45);  // the birthday is the day after
  EXPECT_EQ(Imported(Bundle({kPatient}), "2026-06-15").case_json["patient"]["age_years"], 46);
  EXPECT_EQ(imported.case_json["case_id"], "p1");
  EXPECT_EQ(imported.case_json["extra"]["fhir"]["as_of"], "2026-06-14");
}

TEST(FhirImport, TheEvaluationDateDefaultsToTheLatestObservation) {
  Import imported = Imported(Bundle({kPatient, Lab("2276-4", 40, "ng/mL", "2026-07-01T08:00:00Z"),
                                     Lab("2132-9", 300, "pg/mL", "2026-06-20")}),
                             std::nullopt);
  EXPECT_EQ(imported.case_json["extra"]["fhir"]["as_of"], "2026-07-01");
  EXPECT_EQ(imported.case_json["patient"]["age_years"], 46);
}

TEST(FhirImport, PatientErrorsNameTheElement) {
  json other = kPatient;
  other["gender"] = "other";
  EXPECT_EQ(Error(Bundle({other})), "b.json: Bundle.entry[0].resource.gender: 'other': NeuroFlux needs female or male "
                                    "(its reference ranges are sex-specific)");
  json no_birth = kPatient;
  no_birth.erase("birthDate");
  EXPECT_EQ(Error(Bundle({no_birth})), "b.json: Bundle.entry[0].resource.birthDate: missing: the patient's age is required");
  json wrong_type = kPatient;
  wrong_type["gender"] = 1;
  EXPECT_EQ(Error(wrong_type), "b.json: Patient.gender: expected a string, got a number\n"
                               "b.json: Patient.gender: missing: the patient's sex (female or male) is required");
  EXPECT_EQ(Error(Bundle({})), "b.json: Bundle: no Patient resource: the patient's sex and age are required");
  EXPECT_EQ(Error(Bundle({kPatient, kPatient})),
            "b.json: Bundle.entry[1].resource: a second Patient (the first is Bundle.entry[0].resource): a case is about "
            "one patient");
}

// Dates that do not exist are never used: a birth date is an error, a result's date a warning.
TEST(FhirImport, DatesOutsideTheCalendarAreNamed) {
  for (const char* birth : {"1980-13-45", "1980-02-30"}) {
    json patient = kPatient;
    patient["birthDate"] = birth;
    EXPECT_EQ(Error(Bundle({patient})), std::string("b.json: Bundle.entry[0].resource.birthDate: expected a full date "
                                                    "YYYY-MM-DD, got '") + birth + "'");
  }
  auto as_of = ImportFhir(Bundle({kPatient}), *nflux::testing::RealKnowledge(), {"2026-02-30", "b.json"});
  ASSERT_FALSE(as_of.ok());
  EXPECT_EQ("b.json: --as-of: expected a date YYYY-MM-DD, got '2026-02-30'", as_of.status().message());
  Import imported = Imported(Bundle({kPatient, Lab("2276-4", 40, "ng/mL", "the day before yesterday")}));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[1].resource.effective[x]", "invalid_date"));
  EXPECT_EQ(1u, imported.case_json["labs"].size());
}

// A reference of the wrong type is bad input, never an internal error.
TEST(FhirImport, AMedicationReferenceThatIsNotTextIsReported) {
  const json statement = {{"resourceType", "MedicationStatement"}, {"status", "active"},
                          {"medicationReference", {{"reference", 5}}}};
  auto imported = ImportFhir(Bundle({kPatient, statement}), *nflux::testing::RealKnowledge(), {"2026-11-02", "b.json"});
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(std::string::npos, imported.status().message().find("medicationReference.reference: expected a string"))
      << imported.status().message();
}

TEST(FhirImport, MalformedInputIsAnErrorNamingThePath) {
  EXPECT_EQ(Error(json{{"entry", 1}}), "b.json: not a FHIR resource: expected a JSON object with a string 'resourceType'");
  json bundle = Bundle({kPatient});
  bundle["entry"].push_back({{"resource", {{"resourceType", 7}}}});
  EXPECT_EQ(Error(bundle), "b.json: Bundle.entry[1].resource.resourceType: expected a string, got a number");
  bundle = Bundle({kPatient, Lab("2276-4", 40, "ng/mL", "2026-07-01")});
  bundle["entry"][1]["resource"]["valueQuantity"]["value"] = "40";
  EXPECT_EQ(Error(bundle), "b.json: Bundle.entry[1].resource.valueQuantity.value: expected a number, got a string");
}

// ---- Observations ---------------------------------------------------------------------------------

TEST(FhirImport, LabsByLoincWithUcumOrUnitText) {
  json text_only = Lab("2132-9", 250, "pg/mL", "2026-10-01T08:30:00+01:00");
  text_only["valueQuantity"].erase("code");
  text_only["valueQuantity"].erase("system");
  Import imported = Imported(Bundle({kPatient, Lab("2276-4", 40, "ng/mL", "2026-10-01"), text_only}));
  EXPECT_EQ(imported.case_json["labs"].dump(),
            R"([{"test":"ferritin","value":40.0,"unit":"ng/mL","date":"2026-10-01"},)"
            R"({"test":"vitamin_b12","value":250.0,"unit":"pg/mL","date":"2026-10-01","collection_time":"08:30"}])");
  EXPECT_EQ(imported.origins["/labs/1"], "Bundle.entry[2].resource");
}

TEST(FhirImport, OnlyFinalResultsAndTheLatestOfEachCode) {
  Import imported = Imported(Bundle({kPatient, Lab("2276-4", 20, "ng/mL", "2026-09-01"),
                                     Lab("2276-4", 40, "ng/mL", "2026-10-01"),
                                     Lab("2276-4", 90, "ng/mL", "2026-10-20", "preliminary"),
                                     Lab("2276-4", 30, "ng/mL", "2026-08-01", "corrected")}));
  ASSERT_EQ(imported.case_json["labs"].size(), 1u);
  EXPECT_EQ(imported.case_json["labs"][0]["value"], 40.0);
  EXPECT_EQ(Join(Notes(imported), "\n"),
            "Bundle.entry[3].resource.status | warning | not_final | LOINC 2276-4 (ferritin): status 'preliminary'; only "
            "final, amended or corrected results are used\n"
            "Bundle.entry[1].resource | info | superseded | LOINC 2276-4 (ferritin) of 2026-09-01: a later one is used "
            "(Bundle.entry[2].resource)\n"
            "Bundle.entry[4].resource | info | superseded | LOINC 2276-4 (ferritin) of 2026-08-01: a later one is used "
            "(Bundle.entry[2].resource)\n"
            "Bundle | info | empty_list | no MedicationStatement or MedicationRequest: read as no current medications or "
            "supplements");
}

TEST(FhirImport, UnknownCodesBoundsAndMissingValuesAreNotes) {
  json bound = Lab("2276-4", 5, "ng/mL", "2026-10-01");
  bound["valueQuantity"]["comparator"] = "<";
  json no_value = Lab("2132-9", 1, "pg/mL", "2026-10-01");
  no_value.erase("valueQuantity");
  no_value["valueString"] = "see report";
  Import imported = Imported(Bundle({kPatient, Lab("99999-9", 1, "mg/L", "2026-10-01"), bound, no_value}));
  EXPECT_FALSE(imported.case_json.contains("labs"));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[1].resource", "unknown_code"));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[2].resource.valueQuantity.comparator", "no_value"));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[3].resource", "no_value"));
}

TEST(FhirImport, PregnancyAndBreastfeedingStatus) {
  json pregnant = {{"resourceType", "Observation"}, {"status", "final"}, {"code", Loinc("82810-3")},
                   {"valueCodeableConcept", Code(kSnomed, "77386006")}};
  json feeding = {{"resourceType", "Observation"}, {"status", "final"}, {"code", Loinc("63895-7")},
                  {"valueCodeableConcept", Code(kLoinc, "LA29253-4")}};
  Import imported = Imported(Bundle({kPatient, pregnant, feeding}));
  EXPECT_EQ(imported.case_json["patient"]["pregnant"], true);
  EXPECT_EQ(imported.case_json["patient"]["lactating"], false);
  pregnant["valueCodeableConcept"] = Code(kSnomed, "60001007");
  EXPECT_EQ(Imported(Bundle({kPatient, pregnant})).case_json["patient"]["pregnant"], false);
  pregnant["valueCodeableConcept"] = Code(kSnomed, "261665006");  // unknown
  Import unknown = Imported(Bundle({kPatient, pregnant}));
  EXPECT_FALSE(unknown.case_json["patient"].contains("pregnant"));
  EXPECT_TRUE(HasNote(unknown, "Bundle.entry[1].resource", "no_value"));
}

TEST(FhirImport, QuestionnaireTotalsAndNeuroFluxCodedScores) {
  json total = {{"resourceType", "Observation"}, {"status", "final"}, {"code", Loinc("44261-6")}, {"valueInteger", 12}};
  json item9 = {{"resourceType", "Observation"}, {"status", "final"}, {"code", Loinc("44260-8")},
                {"valueCodeableConcept", Code(kLoinc, "LA6569-3")}};
  json symptom = {{"resourceType", "Observation"}, {"status", "final"}, {"code", Code(kSymptomSystem, "low_mood")},
                  {"valueInteger", 2}};
  json sleep = {{"resourceType", "Observation"}, {"status", "final"}, {"code", Code(kLifestyleSystem, "sleep_hours")},
                {"valueQuantity", {{"value", 6.5}}}};
  Import imported = Imported(Bundle({kPatient, total, item9, symptom, sleep}));
  EXPECT_EQ(imported.case_json["questionnaires"].dump(), R"({"phq9":{"total":12,"item9":1}})");
  EXPECT_EQ(imported.case_json["symptoms"].dump(), R"({"low_mood":2})");
  EXPECT_EQ(imported.case_json["lifestyle"].dump(), R"({"sleep_hours":6.5})");
}

// ---- QuestionnaireResponse -----------------------------------------------------------------------

json Phq9Response(int skip = 0) {
  const char* items[] = {"44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"};
  const char* answers[] = {"LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"};
  json response = {{"resourceType", "QuestionnaireResponse"}, {"status", "completed"},
                   {"questionnaire", "http://loinc.org/q/44249-1"}, {"item", json::array()}};
  for (int n = 0; n < 9; ++n) {
    if (n + 1 == skip) continue;
    std::string link = "/";
    link += items[n];
    response["item"].push_back({{"linkId", link},
                                {"answer", {{{"valueCoding", {{"system", kLoinc}, {"code", answers[n % 4]}}}}}}});
  }
  return response;
}

TEST(FhirImport, Phq9ItemsByLinkIdAndLoincAnswers) {
  Import imported = Imported(Bundle({kPatient, Phq9Response()}));
  EXPECT_EQ(imported.case_json["questionnaires"].dump(), R"({"phq9":{"items":[0,1,2,3,0,1,2,3,0]}})");
}

TEST(FhirImport, GroupedItemsByCodeWithoutCanonical) {
  json response = {{"resourceType", "QuestionnaireResponse"}, {"status", "completed"}, {"item", json::array()}};
  json group = {{"linkId", "g1"}, {"item", json::array()}};
  const char* items[] = {"69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"};
  for (int n = 0; n < 7; ++n) {
    std::string link = "q";
    link += std::to_string(n);
    group["item"].push_back({{"linkId", link}, {"code", {{{"system", kLoinc}, {"code", items[n]}}}},
                             {"answer", {{{"valueInteger", n % 4}}}}});
  }
  response["item"].push_back(group);
  Import imported = Imported(Bundle({kPatient, response}));
  EXPECT_EQ(imported.case_json["questionnaires"].dump(), R"({"gad7":{"items":[0,1,2,3,0,1,2]}})");
}

TEST(FhirImport, AnIncompleteResponseKeepsItsTotalAndSafetyItem) {
  json response = Phq9Response(3);
  response["item"].push_back({{"linkId", "/44261-6"}, {"answer", {{{"valueInteger", 14}}}}});
  Import imported = Imported(Bundle({kPatient, response}));
  EXPECT_EQ(imported.case_json["questionnaires"].dump(), R"({"phq9":{"item9":0,"total":14}})");
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[1].resource", "incomplete_questionnaire"));
}

TEST(FhirImport, NeuroFluxQuestionnaireItemsByNumber) {
  json response = {{"resourceType", "QuestionnaireResponse"}, {"status", "completed"},
                   {"questionnaire", std::string(kQuestionnairePrefix) + "audit_c"}, {"item", json::array()}};
  for (int n = 1; n <= 3; ++n) response["item"].push_back({{"linkId", std::to_string(n)}, {"answer", {{{"valueInteger", n}}}}});
  EXPECT_EQ(Imported(Bundle({kPatient, response})).case_json["questionnaires"].dump(), R"({"audit_c":{"items":[1,2,3]}})");
  response["status"] = "in-progress";
  Import unfinished = Imported(Bundle({kPatient, response}));
  EXPECT_FALSE(unfinished.case_json.contains("questionnaires"));
  EXPECT_TRUE(HasNote(unfinished, "Bundle.entry[1].resource.status", "not_final"));
}

// ---- Medications and conditions --------------------------------------------------------------------

json Statement(json code, const std::string& status = "active") {
  return {{"resourceType", "MedicationStatement"}, {"status", status}, {"medicationCodeableConcept", code}};
}

TEST(FhirImport, MedicationsByAtcContainedOrReferenced) {
  json contained = {{"resourceType", "MedicationStatement"}, {"status", "active"},
                    {"contained", {{{"resourceType", "Medication"}, {"id", "m"}, {"code", Code(kAtc, "N04BA02")}}}},
                    {"medicationReference", {{"reference", "#m"}}}, {"dosage", {{{"text", "1 tablet tid"}}}}};
  json referenced = {{"resourceType", "MedicationRequest"}, {"status", "active"}, {"intent", "order"},
                     {"medicationReference", {{"reference", "Medication/esc"}}}};
  json medication = {{"resourceType", "Medication"}, {"id", "esc"}, {"code", Code(kAtc, "N06AB10")}};
  Import imported = Imported(Bundle({kPatient, contained, referenced, medication, Statement(Code(kAtc, "N06AB06"), "stopped")}));
  EXPECT_EQ(imported.case_json["medications"].dump(),
            R"([{"atc":"N04BA02","dose":"1 tablet tid"},{"atc":"N06AB10"}])");
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[4].resource.status", "inactive"));
}

TEST(FhirImport, AnUnresolvedOrUnknownDrugStillReachesTheCase) {
  json dangling = {{"resourceType", "MedicationStatement"}, {"status", "active"},
                   {"medicationReference", {{"reference", "Medication/missing"}, {"display", "Mystery tablets"}}}};
  Import imported = Imported(Bundle({kPatient, dangling, Statement(Code(kAtc, "Z99ZZ99"))}));
  EXPECT_EQ(imported.case_json["medications"].dump(), R"([{"name":"Mystery tablets"},{"atc":"Z99ZZ99"}])");
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[1].resource.medicationReference", "unresolved_reference"));
}

TEST(FhirImport, SupplementsCurrentAndRequested) {
  json requested = {{"resourceType", "MedicationRequest"}, {"status", "draft"}, {"intent", "proposal"},
                    {"medicationCodeableConcept", Code(kStrategySystem, "precursor_5htp")}};
  json drug_draft = {{"resourceType", "MedicationRequest"}, {"status", "draft"}, {"intent", "order"},
                     {"medicationCodeableConcept", Code(kAtc, "N06AB10")}};
  Import imported = Imported(Bundle({kPatient, Statement(Code(kStrategySystem, "cofactor_magnesium")), requested,
                                     drug_draft, Statement(Code(kStrategySystem, "no_such_strategy"))}));
  EXPECT_EQ(imported.case_json["supplements"].dump(), R"({"current":["cofactor_magnesium"],"requested":["precursor_5htp"]})");
  EXPECT_EQ(imported.case_json["medications"].dump(), "[]");
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[3].resource", "unused_resource"));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[4].resource.medicationCodeableConcept.coding[0]", "unknown_code"));
}

json Condition(json code, const std::string& clinical = "active") {
  return {{"resourceType", "Condition"},
          {"clinicalStatus", Code("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical)},
          {"code", code}};
}

TEST(FhirImport, ConditionsByIcd10AndOnlyActiveOnes) {
  Import imported = Imported(Bundle({kPatient, Condition(Code(kIcd10Cm, "F32.1")), Condition(Code(kIcd10, "K21"), "resolved"),
                                     Condition(Code(kIcd10, "E03"), "relapse"), Condition(Code(kSnomed, "1234567"))}));
  EXPECT_EQ(imported.case_json["conditions"].dump(), R"([{"icd10":"F32.1"},{"icd10":"E03"}])");
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[2].resource.clinicalStatus", "inactive"));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[4].resource.code", "unknown_code"));
}

TEST(FhirImport, UnusedResourcesAndElementsAreListed) {
  json patient = kPatient;
  patient["deceasedBoolean"] = false;
  Import imported = Imported(Bundle({patient, {{"resourceType", "Encounter"}, {"status", "finished"}}}));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[0].resource.deceasedBoolean", "unused_element"));
  EXPECT_TRUE(HasNote(imported, "Bundle.entry[1].resource", "unused_resource"));
}

TEST(FhirImport, ABundleOfSearchResultsIsReadThrough) {
  json searchset = {{"resourceType", "Bundle"}, {"type", "searchset"},
                    {"entry", {{{"resource", Lab("2276-4", 40, "ng/mL", "2026-10-01")}}}}};
  Import imported = Imported(Bundle({kPatient, searchset}));
  ASSERT_EQ(imported.case_json["labs"].size(), 1u);
  EXPECT_EQ(imported.origins["/labs/0"], "Bundle.entry[1].resource.entry[0].resource");
}

TEST(FhirImport, WarningsComeBeforeInfoNotes) {
  Import imported = Imported(Bundle({kPatient, {{"resourceType", "Encounter"}}, Lab("2276-4", 9, "ng/mL", "2026-10-01", "preliminary")}));
  ASSERT_GE(imported.notes.size(), 2u);
  EXPECT_EQ(imported.notes.front().code, "not_final");
  EXPECT_EQ(imported.notes.back().severity, casefile::Severity::kInfo);
}

// ---- Through the pipeline ---------------------------------------------------------------------------

TEST(FhirPipeline, ACaseErrorNamesItsFhirOrigin) {
  json lab = Lab("2276-4", 40, "mg/dq", "2026-10-01");
  auto parsed = nflux::testing::ShippedPipeline().ParseCase(Bundle({kPatient, lab}).dump(), "b.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().rfind("b.json: Bundle.entry[1].resource (case /labs/0/unit): unknown unit 'mg/dq'", 0), 0u)
      << parsed.status().message();
}

TEST(FhirPipeline, NotesJoinTheDataQualityAndRaiseNothing) {
  json bundle = Bundle({kPatient, {{"resourceType", "Encounter"}}, Lab("2276-4", 40, "ng/mL", "2026-10-01")});
  auto result = nflux::testing::ShippedPipeline().Evaluate(bundle.dump(), {});
  ASSERT_OK(result);
  ASSERT_FALSE(result->parsed.data_quality.empty());
  EXPECT_EQ(result->parsed.data_quality.back().severity, casefile::Severity::kInfo);
  EXPECT_FALSE(result->parsed.flags.data_quality_warning);
  for (const auto& alert : result->evaluation.alerts) EXPECT_NE(alert.id, "data_quality_warning");
}

TEST(FhirPipeline, AsOfReachesTheImport) {
  pipeline::EvaluationOptions options;
  options.as_of = "2000-06-15";
  auto result = nflux::testing::ShippedPipeline().Evaluate(Bundle({kPatient}).dump(), options);
  ASSERT_OK(result);
  EXPECT_EQ(result->parsed.patient.age_years, 20);
}

}  // namespace
}  // namespace nflux::fhir
