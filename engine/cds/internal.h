// Internal: the pieces of the CDS Hooks service, one file each (cds.h is the public side).
// Every function is pure apart from the FhirClient calls; all are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "cds/cds.h"
#include "knowledge/knowledge.h"

namespace nflux::cds {

// A request problem: the HTTP status, what is wrong and where (a JSON pointer into the request
// body, "" for the whole body).
struct RequestError {
  int status = 400;
  std::string message;
  std::string path;
};

HttpResponse JsonResponse(int status, const nlohmann::ordered_json& body);
HttpResponse ErrorResponse(const RequestError& error);

// ---- discovery.cc

// The hook a service answers ("patient-view", "order-sign"), or nullopt for an unknown service.
std::optional<std::string> HookOf(const std::string& service_id);
nlohmann::ordered_json MakeDiscovery(const knowledge::KnowledgeBase& kb);

// ---- hook.cc

// A validated hook request and the FHIR resources gathered for it.
struct HookCall {
  std::string service_id;
  std::string hook_instance;
  std::string patient_id;
  nlohmann::json bundle;  // a collection Bundle of every resource, prefetched, fetched or drafted
  // For each entry of `bundle`, where it came from in the request ("/prefetch/patient",
  // "/context/draftOrders/entry/0/resource") or the URL it was fetched from.
  std::vector<std::string> origins;
  std::vector<nlohmann::json> draft_orders;  // order-sign: context.draftOrders' MedicationRequests
};

// Validates the request body of a hook call (hook, hookInstance, context, prefetch, fhirServer,
// fhirAuthorization) and gathers its resources, fetching the missing prefetch templates from
// fhirServer with `client` (null: a missing prefetch is an error). Errors name the body path.
std::variant<HookCall, RequestError> ReadHookCall(const std::string& service_id, const nlohmann::json& body,
                                                  const nlohmann::ordered_json& discovery, const FhirClient* client,
                                                  size_t max_pages);

// A message of the FHIR import with "Bundle.entry[N]" replaced by where entry N came from.
std::string WithOrigins(const std::string& message, const std::vector<std::string>& origins);

// ---- cards.cc

struct CardContext {
  const knowledge::KnowledgeBase* kb = nullptr;
  nlohmann::ordered_json versions;  // output.md "versions"
  std::string patient_id;
  std::vector<nlohmann::json> draft_orders;  // order-sign
};

// The cards of an evaluation (output.md JSON): one per alert, one summary card, one per blocked
// draft order. Each with a fresh uuid (NewUuid), no run yet (SetRun adds it).
nlohmann::ordered_json MakeCards(const nlohmann::ordered_json& evaluation, const CardContext& context);
// Puts the run id into every card ("extension": {"com.neuroflux.run": "run-17"}).
void SetRun(nlohmann::ordered_json& cards, const std::string& run_name);
// The card uuids, in order.
std::vector<std::string> CardUuids(const nlohmann::ordered_json& cards);

// Pieces of cards (cards.cc), shared with summary_cards.cc.
std::string Md(const std::string& text);  // Markdown's special characters escaped
std::string Label(const CardContext& context, const std::string& id);  // the knowledge base's label, else the id
std::string Indicator(const std::string& severity);  // output.md alert severity -> card indicator
std::string CertaintyText(double certainty);          // "0.77"
nlohmann::ordered_json Source(const CardContext& context, const std::string& code, const std::string& display);
// The array under `key` (an empty one when it is missing or not an array), read in place, where
// value(key, array()) would copy it.
template <typename Json>
const Json& ArrayOf(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : kEmpty;
}
// The strings of the array under `key`.
template <typename Json>
std::vector<std::string> StringsOf(const Json& object, const char* key) {
  std::vector<std::string> out;
  for (const auto& item : ArrayOf(object, key))
    if (item.is_string()) out.push_back(item.template get<std::string>());
  return out;
}
std::string CitationList(const std::vector<std::string>& citations);  // a numbered Markdown list
// The PubMed id a citation gives first ("PMID 15784664", "PMID:15784664": 4 to 9 digits, a longer
// run cut at 9, as the pattern PMID:? ?(\d{4,9}) finds it), or "".
std::string PmidOf(std::string_view citation);
// A card with uuid, summary (Shorten), indicator, detail (the disclaimer appended), source, and the
// PubMed links of `citations`.
nlohmann::ordered_json Card(const std::string& summary, const std::string& indicator, std::string detail,
                            nlohmann::ordered_json source, const std::vector<std::string>& citations);
// summary_cards.cc: the summary card (null when the evaluation concludes nothing to summarise) and
// the cards of blocked draft orders.
nlohmann::ordered_json SummaryCard(const nlohmann::ordered_json& evaluation, const CardContext& context);
nlohmann::ordered_json BlockedOrderCards(const nlohmann::ordered_json& evaluation, const CardContext& context);

// A random version-4 UUID ("0f8fad5b-d9cb-469f-a165-70867728950e").
std::string NewUuid();
// `text` cut at a character boundary so that it has fewer than `limit` characters (an ellipsis ends
// a cut text). Characters are UTF-8 code points.
std::string Shorten(const std::string& text, size_t limit);

// The strategy id a FHIR resource is coded to (a coding with system kStrategySystem anywhere in
// it, contained Medication included), or "".
std::string StrategyCodeOf(const nlohmann::json& resource);

}  // namespace nflux::cds
