// A hook request read and checked, and its FHIR resources gathered into one collection Bundle: the
// prefetched resources, those fetched from fhirServer when the prefetch is missing, and (order-sign)
// the draft orders of the context.
#include <charconv>
#include <regex>
#include <set>

#include "base/json.h"
#include "cds/internal.h"

namespace nflux::cds {
namespace {

using nlohmann::json;
using Error = std::optional<RequestError>;

Error Bad(std::string message, std::string path) { return RequestError{400, std::move(message), std::move(path)}; }

// A required (or, with `optional`, possibly absent) non-empty string member.
Error CheckString(const json& object, const char* key, const std::string& path, bool optional = false) {
  auto it = object.find(key);
  if (it == object.end()) return optional ? Error() : Bad("missing (a string is required)", path);
  if (!it->is_string()) return Bad("expected a string, got " + JsonTypeWithArticle(*it), path);
  if (it->get_ref<const std::string&>().empty()) return Bad("must not be empty", path);
  return std::nullopt;
}

Error CheckObject(const json& object, const char* key, const std::string& path, bool optional = false) {
  auto it = object.find(key);
  if (it == object.end()) return optional ? Error() : Bad("missing (an object is required)", path);
  if (!it->is_object()) return Bad("expected an object, got " + JsonTypeWithArticle(*it), path);
  return std::nullopt;
}

// A FHIR id ([A-Za-z0-9-.]{1,64}): what may be put into a fetch URL.
bool IsFhirId(const std::string& id) {
  static const std::regex kId("[A-Za-z0-9.\\-]{1,64}");
  return std::regex_match(id, kId);
}

// The request members every hook has, and order-sign's draft orders.
Error CheckRequest(const json& body, const std::string& service_id, const std::string& hook) {
  if (!body.is_object()) return Bad("expected a JSON object (a CDS Hooks request), got " + JsonTypeWithArticle(body), "");
  if (auto e = CheckString(body, "hook", "/hook")) return e;
  if (body["hook"] != hook)
    return Bad("service " + service_id + " answers the hook '" + hook + "', not '" + body["hook"].get<std::string>() + "'",
               "/hook");
  if (auto e = CheckString(body, "hookInstance", "/hookInstance")) return e;
  // A UUID is 36 characters; the store keeps the instance with each run, so it is bounded.
  constexpr size_t kMaxHookInstance = 128;
  if (body["hookInstance"].get_ref<const std::string&>().size() > kMaxHookInstance)
    return Bad("longer than " + std::to_string(kMaxHookInstance) + " characters (CDS Hooks: a UUID)", "/hookInstance");
  if (auto e = CheckObject(body, "context", "/context")) return e;
  if (auto e = CheckString(body["context"], "patientId", "/context/patientId")) return e;
  if (auto e = CheckObject(body, "prefetch", "/prefetch", true)) return e;
  if (auto e = CheckString(body, "fhirServer", "/fhirServer", true)) return e;
  if (body.contains("fhirServer") && !body["fhirServer"].get<std::string>().starts_with("http://") &&
      !body["fhirServer"].get<std::string>().starts_with("https://"))
    return Bad("expected an http:// or https:// URL", "/fhirServer");
  if (auto e = CheckObject(body, "fhirAuthorization", "/fhirAuthorization", true)) return e;
  if (body.contains("fhirAuthorization"))
    if (auto e = CheckString(body["fhirAuthorization"], "access_token", "/fhirAuthorization/access_token")) return e;
  if (hook != "order-sign") return std::nullopt;
  if (auto e = CheckObject(body["context"], "draftOrders", "/context/draftOrders")) return e;
  const json& drafts = body["context"]["draftOrders"];
  if (drafts.value("resourceType", json()) != "Bundle")
    return Bad("expected a FHIR Bundle of draft orders (resourceType Bundle)", "/context/draftOrders/resourceType");
  if (drafts.contains("entry") && !drafts["entry"].is_array())
    return Bad("expected an array, got " + JsonTypeWithArticle(drafts["entry"]), "/context/draftOrders/entry");
  return std::nullopt;
}

// Collects resources into the call's Bundle, each once (by type and id).
class Gatherer {
 public:
  explicit Gatherer(HookCall& call) : call_(call) {
    call_.bundle = {{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", json::array()}};
  }

  // A resource, or every entry of a Bundle, found at `origin`.
  Error Add(const json& value, const std::string& origin) {
    if (!value.is_object() || !value.contains("resourceType") || !value["resourceType"].is_string())
      return Bad("expected a FHIR resource (an object with a resourceType)", origin);
    if (value["resourceType"] != "Bundle") return AddOne(value, origin);
    const json& entries = value.contains("entry") ? value["entry"] : ArrayOf(value, "entry");
    if (!entries.is_array()) return Bad("expected an array, got " + JsonTypeWithArticle(entries), origin + "/entry");
    for (size_t i = 0; i < entries.size(); ++i) {
      std::string path = origin + "/entry/" + std::to_string(i) + "/resource";
      if (!entries[i].is_object() || !entries[i].contains("resource")) return Bad("missing (a Bundle entry's resource)", path);
      if (auto e = Add(entries[i]["resource"], path)) return e;
    }
    return std::nullopt;
  }

 private:
  Error AddOne(const json& resource, const std::string& origin) {
    if (resource.contains("id") && resource["id"].is_string()) {
      std::string key = resource["resourceType"].get<std::string>() + "/" + resource["id"].get<std::string>();
      if (!seen_.insert(key).second) return std::nullopt;  // the same resource from two templates
    }
    call_.bundle["entry"].push_back({{"resource", resource}});
    call_.origins.push_back(origin);
    return std::nullopt;
  }

  HookCall& call_;
  std::set<std::string> seen_;
};

std::string Substitute(std::string text, const std::string& patient_id) {
  const std::string token = "{{context.patientId}}";
  for (size_t at; (at = text.find(token)) != std::string::npos;) text.replace(at, token.size(), patient_id);
  // FHIR search values "system|code": '|' is not allowed unescaped in a URL.
  for (size_t at; (at = text.find('|')) != std::string::npos;) text.replace(at, 1, "%7C");
  return text;
}

// GETs `url` and every next page of a searchset (at most `max_pages` in all) into the gatherer.
Error Fetch(const std::string& url, const std::string& bearer, const FhirClient& client, size_t max_pages,
            Gatherer& gatherer) {
  std::string next = url;
  for (size_t page = 0; page < max_pages && !next.empty(); ++page) {
    auto fetched = client.Get(next, bearer);
    if (!fetched.ok()) return RequestError{502, "fetching from fhirServer: " + fetched.status().message(), "/fhirServer"};
    if (auto e = gatherer.Add(*fetched, next)) return RequestError{502, "fhirServer answered " + e->message, e->path};
    next.clear();
    for (const auto& link : ArrayOf(*fetched, "link"))
      if (JsonStringAt(link, "relation") == "next") next = JsonStringAt(link, "url");
  }
  return std::nullopt;
}

// Each prefetch template of the service: the prefetched value, else fetched from fhirServer.
Error GatherPrefetch(const json& body, const nlohmann::ordered_json& templates, const HookCall& call,
                     const FhirClient* client, size_t max_pages, Gatherer& gatherer) {
  static const json kNoPrefetch = json::object();
  const json& prefetch = body.contains("prefetch") ? body["prefetch"] : kNoPrefetch;
  bool can_fetch = body.contains("fhirServer");
  if (!body.contains("prefetch") && !can_fetch)
    return Bad("missing, and no fhirServer to fetch the patient's data from", "/prefetch");
  if (can_fetch && client == nullptr) return RequestError{400, "this service cannot fetch from a FHIR server", "/fhirServer"};
  if (can_fetch && !IsFhirId(call.patient_id)) return Bad("not a FHIR id ([A-Za-z0-9-.]{1,64})", "/context/patientId");
  std::string base = body.value("fhirServer", "");
  while (base.ends_with('/')) base.pop_back();
  std::string bearer = body.contains("fhirAuthorization") ? body["fhirAuthorization"]["access_token"].get<std::string>() : "";
  for (const auto& [key, query] : templates.items()) {
    auto it = prefetch.find(key);
    if (it != prefetch.end() && !it->is_null()) {
      if (auto e = gatherer.Add(*it, "/prefetch/" + key)) return e;
    } else if (can_fetch) {
      if (auto e = Fetch(base + "/" + Substitute(query.get<std::string>(), call.patient_id), bearer, *client, max_pages,
                         gatherer))
        return e;
    }
  }
  return std::nullopt;
}

const nlohmann::ordered_json& TemplatesOf(const nlohmann::ordered_json& discovery, const std::string& service_id) {
  for (const auto& service : discovery["services"])
    if (service["id"] == service_id) return service["prefetch"];
  static const nlohmann::ordered_json kNone = nlohmann::ordered_json::object();
  return kNone;
}

}  // namespace

std::variant<HookCall, RequestError> ReadHookCall(const std::string& service_id, const json& body,
                                                  const nlohmann::ordered_json& discovery, const FhirClient* client,
                                                  size_t max_pages) {
  std::string hook = HookOf(service_id).value_or("");
  if (auto e = CheckRequest(body, service_id, hook)) return *e;
  HookCall call;
  call.service_id = service_id;
  call.hook_instance = body["hookInstance"].get<std::string>();
  call.patient_id = body["context"]["patientId"].get<std::string>();
  Gatherer gatherer(call);
  if (auto e = GatherPrefetch(body, TemplatesOf(discovery, service_id), call, client, max_pages, gatherer)) return *e;
  if (hook == "order-sign") {
    const json& drafts = body["context"]["draftOrders"];
    if (auto e = gatherer.Add(drafts, "/context/draftOrders")) return *e;
    for (const auto& entry : ArrayOf(drafts, "entry"))
      if (entry.is_object() && JsonStringAt(entry.value("resource", json()), "resourceType") == "MedicationRequest")
        call.draft_orders.push_back(entry["resource"]);
  }
  return call;
}

std::string WithOrigins(const std::string& message, const std::vector<std::string>& origins) {
  static const std::regex kEntry(R"(Bundle\.entry\[(\d+)\])");
  std::string out = message;
  std::set<size_t> named;
  for (auto it = std::sregex_iterator(message.begin(), message.end(), kEntry); it != std::sregex_iterator(); ++it) {
    size_t index = 0;
    const std::string digits = (*it)[1].str();
    if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec != std::errc()) continue;
    if (index < origins.size() && named.insert(index).second)
      out += " (Bundle.entry[" + std::to_string(index) + "] is " + origins[index] + ")";
  }
  return out;
}

}  // namespace nflux::cds
