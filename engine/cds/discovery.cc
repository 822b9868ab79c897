// The discovery document (GET /cds-services): the two services with their prefetch templates.
#include <set>

#include "cds/internal.h"

namespace nflux::cds {
namespace {

// Pregnancy status (fhir.md); the knowledge base's labs and questionnaires bring the rest.
constexpr const char* kPregnancyStatusLoinc = "82810-3";

// Every LOINC code the FHIR import reads from an Observation: labs, questionnaire totals, pregnancy.
std::set<std::string> ObservationCodes(const knowledge::KnowledgeBase& kb) {
  std::set<std::string> codes{kPregnancyStatusLoinc};
  for (const auto& node : kb.nodes()) {
    if (node.lab && !node.lab->loinc.empty()) codes.insert(node.lab->loinc);
    if (node.questionnaire && !node.questionnaire->loinc.empty()) codes.insert(node.questionnaire->loinc);
  }
  return codes;
}

// "Observation?patient={{context.patientId}}&code=http://loinc.org|718-7,..." (a FHIR search: the
// comma is OR).
std::string ObservationQuery(const knowledge::KnowledgeBase& kb) {
  std::string query = "Observation?patient={{context.patientId}}&code=";
  bool first = true;
  for (const auto& code : ObservationCodes(kb)) {
    query += (first ? "" : ",") + std::string("http://loinc.org|") + code;
    first = false;
  }
  return query;
}

nlohmann::ordered_json Prefetch(const knowledge::KnowledgeBase& kb) {
  return {
      {"patient", "Patient/{{context.patientId}}"},
      {"observations", ObservationQuery(kb)},
      {"medicationStatements", "MedicationStatement?patient={{context.patientId}}&status=active,on-hold"},
      {"medicationRequests", "MedicationRequest?patient={{context.patientId}}&status=active,on-hold,draft"},
      {"conditions", "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse"},
      {"questionnaireResponses", "QuestionnaireResponse?patient={{context.patientId}}&status=completed,amended"},
  };
}

}  // namespace

std::optional<std::string> HookOf(const std::string& service_id) {
  if (service_id == kPatientViewService) return "patient-view";
  if (service_id == kOrderSignService) return "order-sign";
  return std::nullopt;
}

nlohmann::ordered_json MakeDiscovery(const knowledge::KnowledgeBase& kb) {
  nlohmann::ordered_json prefetch = Prefetch(kb);
  nlohmann::ordered_json services = nlohmann::ordered_json::array();
  services.push_back({{"hook", "patient-view"},
                      {"title", "NeuroFlux neurotransmitter pathway review"},
                      {"description",
                       "Alerts, the likely neurotransmitter pathway deficits and the strategies that are safe for "
                       "this patient, with the evidence; suggests the most informative next lab."},
                      {"id", kPatientViewService},
                      {"prefetch", prefetch},
                      {"usageRequirements", "Decision support for a qualified practitioner; it does not diagnose."}});
  services.push_back({{"hook", "order-sign"},
                      {"title", "NeuroFlux supplement order review"},
                      {"description",
                       "Reviews draft supplement orders (MedicationRequest coded with " + std::string(kStrategySystem) +
                           ") against the whole patient; a blocked order comes with a suggestion to remove it."},
                      {"id", kOrderSignService},
                      {"prefetch", prefetch},
                      {"usageRequirements", "Decision support for a qualified practitioner; it does not diagnose."}});
  return {{"services", services}};
}

}  // namespace nflux::cds
