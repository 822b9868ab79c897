// The CDS Hooks service driven in-process through Service::Handle: discovery, health, CORS, routing
// errors, request validation with the path of the problem, /evaluate, authentication, feedback;
// and the cards made from evaluations of the shipped examples.
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "cds/cds.h"
#include "cds/internal.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::cds {
namespace {

using nlohmann::json;
using nflux::testing::ShippedPipeline;

std::string ReadFile(const std::string& path) {
  std::ifstream in(std::string(NFLUX_SOURCE_DIR) + "/" + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

HttpRequest Post(const std::string& path, const std::string& body) { return {"POST", path, {}, body}; }
HttpRequest Get(const std::string& path) { return {"GET", path, {}, ""}; }

json BodyOf(const HttpResponse& response) {
  json body = json::parse(response.body, nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << response.body;
  return body;
}

const std::string kPatientView = "/cds-services/neuroflux-patient-view";
const std::string kOrderSign = "/cds-services/neuroflux-order-sign";

TEST(CdsService, DiscoveryListsBothServicesWithPrefetchTemplates) {
  Service service(ShippedPipeline(), nullptr, {});
  HttpResponse response = service.Handle(Get("/cds-services"));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.headers["Content-Type"], "application/json; charset=utf-8");
  json body = BodyOf(response);
  ASSERT_EQ(body["services"].size(), 2u);
  EXPECT_EQ(body["services"][0]["id"], kPatientViewService);
  EXPECT_EQ(body["services"][0]["hook"], "patient-view");
  EXPECT_EQ(body["services"][1]["id"], kOrderSignService);
  EXPECT_EQ(body["services"][1]["hook"], "order-sign");
  const json& prefetch = body["services"][0]["prefetch"];
  EXPECT_EQ(prefetch["patient"], "Patient/{{context.patientId}}");
  for (const char* key : {"observations", "medicationStatements", "medicationRequests", "conditions",
                          "questionnaireResponses"})
    EXPECT_TRUE(prefetch.contains(key)) << key;
  // Every lab LOINC of the knowledge base, pregnancy status and the PHQ-9 total.
  std::string observations = prefetch["observations"];
  const knowledge::Node* ferritin = ShippedPipeline().knowledge().Find("ferritin");
  ASSERT_NE(ferritin, nullptr);
  EXPECT_NE(observations.find("http://loinc.org|" + ferritin->lab->loinc), std::string::npos) << observations;
  EXPECT_NE(observations.find("http://loinc.org|82810-3"), std::string::npos);
  EXPECT_NE(observations.find("http://loinc.org|44261-6"), std::string::npos);
}

TEST(CdsService, HealthGivesTheVersions) {
  Service service(ShippedPipeline(), nullptr, {});
  json body = BodyOf(service.Handle(Get("/health")));
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["versions"]["knowledge"], ShippedPipeline().knowledge().version());
  EXPECT_EQ(body["versions"]["rules"], ShippedPipeline().rule_base().version);
  EXPECT_TRUE(body["store"].is_null());
}

TEST(CdsService, CorsOnEveryAnswerAndPreflight) {
  Service service(ShippedPipeline(), nullptr, {});
  HttpRequest preflight{"OPTIONS", kPatientView, {{"origin", "https://ehr.example"}}, ""};
  HttpResponse response = service.Handle(preflight);
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.headers["Access-Control-Allow-Origin"], "https://ehr.example");
  EXPECT_NE(response.headers["Access-Control-Allow-Methods"].find("POST"), std::string::npos);
  EXPECT_NE(response.headers["Access-Control-Allow-Headers"].find("Authorization"), std::string::npos);
  EXPECT_EQ(service.Handle(Get("/nowhere")).headers["Access-Control-Allow-Origin"], "*");
}

// Each bad request: its status, the path named and a word of the message.
TEST(CdsService, BadRequestsNameWhatAndWhere) {
  Service service(ShippedPipeline(), nullptr, {});
  const std::string context = R"("context": {"patientId": "p1"})";
  struct Case {
    HttpRequest request;
    int status;
    std::string path;
    std::string message_part;
  } cases[] = {
      {Post(kPatientView, "{\"hook\": "), 400, "", "not valid JSON"},
      {Post(kPatientView, ""), 400, "", "no body"},
      {Post(kPatientView, "[1]"), 400, "", "expected a JSON object"},
      {Post(kPatientView, R"({"hookInstance": "h1", )" + context + "}"), 400, "/hook", "missing"},
      {Post(kPatientView, R"({"hook": "order-select", "hookInstance": "h1", )" + context + "}"), 400, "/hook",
       "answers the hook 'patient-view', not 'order-select'"},
      {Post(kPatientView, R"({"hook": "patient-view", )" + context + "}"), 400, "/hookInstance", "missing"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": "h1"})"), 400, "/context", "missing"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": "h1", "context": {}})"), 400,
       "/context/patientId", "missing"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": "h1", "context": {"patientId": 7}})"), 400,
       "/context/patientId", "expected a string, got a number"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": "h1", )" + context + "}"), 400, "/prefetch",
       "no fhirServer"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": "h1", "prefetch": [], )" + context + "}"), 400,
       "/prefetch", "expected an object"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": "h1", "prefetch": {"patient": 3}, )" + context +
                              "}"),
       400, "/prefetch/patient", "FHIR resource"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": "h1", "fhirServer": "ftp://x", )" + context + "}"),
       400, "/fhirServer", "http"},
      {Post(kOrderSign, R"({"hook": "order-sign", "hookInstance": "h1", "prefetch": {}, )" + context + "}"), 400,
       "/context/draftOrders", "missing"},
      {Post(kOrderSign, R"({"hook": "order-sign", "hookInstance": "h1", "prefetch": {},
            "context": {"patientId": "p1", "draftOrders": {"resourceType": "Patient"}}})"),
       400, "/context/draftOrders/resourceType", "Bundle"},
      {Post("/cds-services/neuroflux-nothing", "{}"), 404, "", "no such CDS service 'neuroflux-nothing'"},
      {Post("/cds-services/neuroflux-nothing/feedback", "{}"), 404, "", "no such CDS service"},
      {Get("/elsewhere"), 404, "", "no such resource"},
      {Get(kPatientView), 405, "", "use POST"},
      {Post("/cds-services", "{}"), 405, "", "use GET"},
      {Post("/evaluate", ""), 400, "", "no body"},
      {Post("/evaluate", "{\"patient\": "), 400, "", "invalid JSON"},
      {Post(kPatientView + "/feedback", R"({"feedback": {}})"), 400, "/feedback", "not an array"},
      {Post(kPatientView + "/feedback", R"({"feedback": [{"card": "c", "outcomeTimestamp": "t"}]})"), 400,
       "/feedback/0/outcome", "missing"},
      {Post(kPatientView + "/feedback", R"({"feedback": [{"card": "c", "outcome": "maybe", "outcomeTimestamp": "t"}]})"),
       400, "/feedback/0/outcome", "'accepted' or 'overridden'"},
      {Post(kPatientView + "/feedback", R"({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "t"}]})"),
       400, "/feedback/0/acceptedSuggestions", "array"},
      {Post(kPatientView + "/feedback", R"({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "soon"}]})"),
       400, "/feedback/0/outcomeTimestamp", "expected an instant"},
      {Post(kPatientView + "/feedback",
            R"({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-02-30T10:00:00Z"}]})"),
       400, "/feedback/0/outcomeTimestamp", "expected an instant"},
      {Post(kPatientView + "/feedback",
            R"({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-30T24:00:00+01:00"}]})"),
       400, "/feedback/0/outcomeTimestamp", "expected an instant"},
      {Post(kPatientView, R"({"hook": "patient-view", "hookInstance": ")" + std::string(129, 'x') + "\", " + context + "}"),
       400, "/hookInstance", "longer than 128 characters"},
  };
  for (const auto& c : cases) {
    HttpResponse response = service.Handle(c.request);
    SCOPED_TRACE(c.request.method + " " + c.request.path + " " + c.request.body);
    EXPECT_EQ(response.status, c.status);
    json body = BodyOf(response);
    EXPECT_EQ(body["error"]["status"], c.status);
    EXPECT_EQ(body["error"]["path"], c.path);
    EXPECT_NE(body["error"]["message"].get<std::string>().find(c.message_part), std::string::npos)
        << body["error"]["message"];
  }
}

TEST(CdsService, EvaluateTakesACaseAndAnswersTheEvaluation) {
  Service service(ShippedPipeline(), nullptr, {});
  std::string text = ReadFile("examples/ssri_5htp_request.json");
  HttpResponse response = service.Handle(Post("/evaluate", text));
  ASSERT_EQ(response.status, 200) << response.body;
  json body = BodyOf(response);
  pipeline::EvaluationOptions options;
  options.source_name = "request";
  auto direct = ShippedPipeline().Evaluate(text, options);
  ASSERT_OK(direct);
  json expected = json::parse(ShippedPipeline().ReportJson(*direct).dump());
  EXPECT_EQ(body["alerts"], expected["alerts"]);
  EXPECT_EQ(body["deficits"], expected["deficits"]);
  EXPECT_EQ(body["blocked_strategies"], expected["blocked_strategies"]);
  HttpResponse bad = service.Handle(Post("/evaluate", R"({"patient": {"sex": "x"}})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(BodyOf(bad)["error"]["message"].get<std::string>().find("request"), std::string::npos);
}

TEST(CdsService, AuthenticationGuardsEverythingButHealthAndPreflight) {
  ServiceOptions options;
  std::string seen_path;
  options.authorize = [&seen_path](std::string_view authorization, std::string_view path) {
    seen_path = path;
    return authorization == "Bearer good" ? Status::Ok() : Status::InvalidArgument("token expired at 2026-01-01");
  };
  Service service(ShippedPipeline(), nullptr, options);
  HttpResponse rejected = service.Handle(Get("/cds-services"));
  EXPECT_EQ(rejected.status, 401);
  EXPECT_EQ(rejected.headers["WWW-Authenticate"], "Bearer");
  EXPECT_EQ(BodyOf(rejected)["error"]["message"], "token expired at 2026-01-01");
  EXPECT_EQ(seen_path, "/cds-services");
  HttpRequest good = Get("/cds-services");
  good.headers["authorization"] = "Bearer good";
  EXPECT_EQ(service.Handle(good).status, 200);
  EXPECT_EQ(service.Handle(Get("/health")).status, 200);
  EXPECT_EQ(service.Handle({"OPTIONS", kPatientView, {}, ""}).status, 204);
}

TEST(CdsService, FeedbackWithoutAStoreIsAcceptedAndStoresNothing) {
  Service service(ShippedPipeline(), nullptr, {});
  HttpResponse response = service.Handle(Post(kPatientView + "/feedback",
      R"({"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:00:00Z"}]})"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(BodyOf(response)["stored"], json::array());
}

TEST(CdsService, FeedbackTimestampsInEveryInstantFormAreAccepted) {
  Service service(ShippedPipeline(), nullptr, {});
  for (const char* instant : {"2026-11-29T10:00:00Z", "2026-11-29T10:00:00.123456Z", "2026-11-29T10:00:00+05:30",
                              "2026-11-29T10:00:00.5-08:00", "2024-02-29T23:59:60Z"}) {
    SCOPED_TRACE(instant);
    HttpResponse response = service.Handle(Post(kPatientView + "/feedback",
        std::string(R"({"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": ")") + instant + "\"}]}"));
    EXPECT_EQ(response.status, 200) << response.body;
  }
}

// ---- Cards from evaluations (no FHIR needed: the example cases through the pipeline)

json ReportOf(const std::string& example) {
  auto result = ShippedPipeline().Evaluate(ReadFile("examples/" + example), {});
  EXPECT_OK(result);
  return result.ok() ? json::parse(ShippedPipeline().ReportJson(*result).dump()) : json();
}

CardContext ContextFor(const json& report, std::vector<json> drafts = {}) {
  return {&ShippedPipeline().knowledge(), nlohmann::ordered_json::parse(report["versions"].dump()), "p1",
          std::move(drafts)};
}

nlohmann::ordered_json Ordered(const json& value) { return nlohmann::ordered_json::parse(value.dump()); }

void ExpectValidCard(const json& card) {
  ASSERT_TRUE(card.contains("uuid"));
  EXPECT_EQ(card["uuid"].get<std::string>().size(), 36u);
  std::string summary = card["summary"];
  size_t chars = 0;
  for (unsigned char c : summary) chars += (c & 0xC0) != 0x80;
  EXPECT_LT(chars, 140u) << summary;
  EXPECT_TRUE(card["indicator"] == "info" || card["indicator"] == "warning" || card["indicator"] == "critical");
  EXPECT_EQ(card["source"]["label"].get<std::string>().rfind("NeuroFlux ", 0), 0u);
  EXPECT_NE(card["detail"].get<std::string>().find("does not diagnose"), std::string::npos);
  EXPECT_TRUE(!card.contains("suggestions") || card.contains("selectionBehavior"));
}

TEST(CdsCards, AlertCardsCarryIndicatorEvidenceAndLinks) {
  json report = ReportOf("ssri_5htp_request.json");
  json cards = MakeCards(Ordered(report), ContextFor(report));
  ASSERT_GE(cards.size(), report["alerts"].size());
  const json& first = cards[0];
  ExpectValidCard(first);
  EXPECT_EQ(first["indicator"], "warning");  // serotonin_syndrome_risk is high
  EXPECT_EQ(first["source"]["topic"]["code"], "alert:serotonin_syndrome_risk");
  EXPECT_NE(first["detail"].get<std::string>().find("PMID 15784664"), std::string::npos);
  EXPECT_NE(first["detail"].get<std::string>().find("Escitalopram (medication)"), std::string::npos);
  EXPECT_EQ(first["links"][0]["url"], "https://pubmed.ncbi.nlm.nih.gov/15784664/");
  EXPECT_EQ(first["links"][0]["type"], "absolute");
  for (const auto& card : cards) ExpectValidCard(card);
}

TEST(CdsCards, UrgentAlertIsCritical) {
  json report = ReportOf("red_flag_phq9_item9.json");
  ASSERT_EQ(report["alerts"][0]["severity"], "urgent");
  json cards = MakeCards(Ordered(report), ContextFor(report));
  EXPECT_EQ(cards[0]["indicator"], "critical");
}

TEST(CdsCards, SummaryCardSuggestsTheNextBestLabAsAServiceRequest) {
  json report = ReportOf("vegan_b12_low_mood.json");
  json cards = MakeCards(Ordered(report), ContextFor(report));
  const json& summary = cards.back();
  ExpectValidCard(summary);
  EXPECT_EQ(summary["source"]["topic"]["code"], "summary");
  EXPECT_EQ(summary["summary"].get<std::string>().rfind("Likely ", 0), 0u) << summary["summary"];
  ASSERT_TRUE(summary.contains("suggestions"));
  EXPECT_EQ(summary["selectionBehavior"], "any");
  const json& action = summary["suggestions"][0]["actions"][0];
  EXPECT_EQ(action["type"], "create");
  const json& request = action["resource"];
  EXPECT_EQ(request["resourceType"], "ServiceRequest");
  EXPECT_EQ(request["status"], "draft");
  EXPECT_EQ(request["intent"], "proposal");
  EXPECT_EQ(request["subject"]["reference"], "Patient/p1");
  std::string lab = report["next_best_data"][0]["input"].get<std::string>().substr(4);
  EXPECT_EQ(request["code"]["coding"][0]["system"], "http://loinc.org");
  EXPECT_EQ(request["code"]["coding"][0]["code"], ShippedPipeline().knowledge().Find(lab)->lab->loinc);
}

TEST(CdsCards, BlockedDraftOrderGetsADeleteSuggestion) {
  json report = ReportOf("ssri_5htp_request.json");
  json draft = {{"resourceType", "MedicationRequest"}, {"id", "draft-5htp"}, {"status", "draft"},
                {"intent", "proposal"},
                {"medicationCodeableConcept", {{"coding", {{{"system", kStrategySystem}, {"code", "precursor_5htp"}}}}}},
                {"subject", {{"reference", "Patient/p1"}}}};
  json other = {{"resourceType", "MedicationRequest"}, {"id", "draft-b12"},
                {"medicationCodeableConcept", {{"coding", {{{"system", kStrategySystem}, {"code", "cofactor_b12"}}}}}}};
  json cards = MakeCards(Ordered(report), ContextFor(report, {draft, other}));
  std::vector<json> blocked;
  for (const auto& card : cards) {
    if (card["source"]["topic"]["code"].get<std::string>().starts_with("blocked-order:")) blocked.push_back(card);
  }
  ASSERT_EQ(blocked.size(), 1u);  // cofactor_b12 is not blocked: no card for it
  ExpectValidCard(blocked[0]);
  EXPECT_EQ(blocked[0]["indicator"], "warning");
  EXPECT_NE(blocked[0]["summary"].get<std::string>().find("Blocked order: "), std::string::npos);
  const json& action = blocked[0]["suggestions"][0]["actions"][0];
  EXPECT_EQ(action["type"], "delete");
  EXPECT_EQ(action["resourceId"], "MedicationRequest/draft-5htp");
  EXPECT_EQ(blocked[0]["selectionBehavior"], "at-most-one");
}

TEST(CdsCards, ShortenCutsAtCharacterBoundaries) {
  EXPECT_EQ(Shorten("short", 140), "short");
  std::string long_text(200, 'a');
  std::string cut = Shorten(long_text, 140);
  EXPECT_EQ(cut, std::string(138, 'a') + "\xE2\x80\xA6");  // 139 characters
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";  // é, two bytes each
  std::string cut_accents = Shorten(accents, 50);
  size_t chars = 0;
  for (unsigned char c : cut_accents) chars += (c & 0xC0) != 0x80;
  EXPECT_EQ(chars, 49u);
  EXPECT_EQ(cut_accents.substr(0, 4), "\xC3\xA9\xC3\xA9");
}

// PmidOf finds what the pattern PMID:? ?(\d{4,9}) finds first (std::regex, the oracle here), on
// chosen citations and on random texts made of the pattern's pieces.
TEST(CdsCards, PmidOfFindsWhatThePatternFinds) {
  const std::regex pattern("PMID:? ?(\\d{4,9})");
  auto oracle = [&](const std::string& text) {
    std::smatch match;
    return std::regex_search(text, match, pattern) ? match[1].str() : std::string();
  };
  EXPECT_EQ("15784664", PmidOf("Boyer & Shannon 2005, N Engl J Med, PMID 15784664"));
  EXPECT_EQ("1234", PmidOf("PMID:1234"));
  EXPECT_EQ("123456789", PmidOf("PMID: 1234567890"));  // a longer run cut at nine digits
  EXPECT_EQ("", PmidOf("PMID 123, PMID  4567, PMID :4567, pmid 4567"));
  EXPECT_EQ("4567", PmidOf("PMID 123, PMIDPMID 4567"));
  std::mt19937 random(7);
  const std::vector<std::string> pieces = {"PMID", "PMI", "D", ":", " ", "1", "23", "4567", "89", "x", "PMID: ", "é"};
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    for (int n = std::uniform_int_distribution<int>(0, 8)(random); n > 0; --n)
      text += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(random)];
    EXPECT_EQ(oracle(text), PmidOf(text)) << text;
  }
}

TEST(CdsCards, UuidsAreVersion4AndDistinct) {
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b') << a;
}

TEST(CdsCards, StrategyCodeFoundInContainedMedication) {
  json request = {{"resourceType", "MedicationRequest"},
                  {"contained", {{{"resourceType", "Medication"}, {"id", "m"},
                                  {"code", {{"coding", {{{"system", kStrategySystem}, {"code", "precursor_5htp"}}}}}}}}},
                  {"medicationReference", {{"reference", "#m"}}}};
  EXPECT_EQ(StrategyCodeOf(request), "precursor_5htp");
  EXPECT_EQ(StrategyCodeOf(json{{"resourceType", "MedicationRequest"}}), "");
}

// A fake FHIR server: answers by URL, records what was asked and with which token.
class FakeFhirClient : public FhirClient {
 public:
  Result<json> Get(const std::string& url, const std::string& bearer) const override {
    std::lock_guard lock(mutex_);
    calls.push_back(url + " " + bearer);
    if (url.find("/Patient/") != std::string::npos) return json{{"resourceType", "Patient"}, {"id", "p1"}};
    if (fail) return Status::IOError("GET " + url + ": HTTP 401");
    return json{{"resourceType", "Bundle"}, {"type", "searchset"}, {"entry", json::array()}};
  }
  mutable std::vector<std::string> calls;
  bool fail = false;
  mutable std::mutex mutex_;
};

TEST(CdsHookCall, MissingPrefetchIsFetchedWithTheBearerToken) {
  FakeFhirClient client;
  json body = {{"hook", "patient-view"}, {"hookInstance", "h1"}, {"context", {{"patientId", "p1"}}},
               {"fhirServer", "http://127.0.0.1:9/fhir/"}, {"fhirAuthorization", {{"access_token", "tok"}}},
               {"prefetch", {{"conditions", {{"resourceType", "Bundle"}, {"entry", json::array()}}}}}};
  Service service(ShippedPipeline(), nullptr, {});
  auto read = ReadHookCall(kPatientViewService, body, service.Discovery(), &client, 10);
  ASSERT_TRUE(std::holds_alternative<HookCall>(read)) << std::get<RequestError>(read).message;
  // Every template but the prefetched one, each with the token; the patient id substituted.
  ASSERT_EQ(client.calls.size(), 5u);
  EXPECT_EQ(client.calls[0], "http://127.0.0.1:9/fhir/Patient/p1 tok");
  EXPECT_EQ(client.calls[1].rfind("http://127.0.0.1:9/fhir/Observation?patient=p1&code=http://loinc.org%7C", 0), 0u)
      << client.calls[1];
  for (const auto& call : client.calls) EXPECT_EQ(call.find("conditions"), std::string::npos);
  const HookCall& call = std::get<HookCall>(read);
  ASSERT_EQ(call.bundle["entry"].size(), 1u);  // the Patient; the searches were empty
  EXPECT_EQ(call.origins[0], "http://127.0.0.1:9/fhir/Patient/p1");

  client.fail = true;
  auto failed = ReadHookCall(kPatientViewService, body, service.Discovery(), &client, 10);
  ASSERT_TRUE(std::holds_alternative<RequestError>(failed));
  EXPECT_EQ(std::get<RequestError>(failed).status, 502);
  EXPECT_NE(std::get<RequestError>(failed).message.find("HTTP 401"), std::string::npos);

  body["context"]["patientId"] = "../admin";
  auto unsafe = ReadHookCall(kPatientViewService, body, service.Discovery(), &client, 10);
  ASSERT_TRUE(std::holds_alternative<RequestError>(unsafe));
  EXPECT_EQ(std::get<RequestError>(unsafe).path, "/context/patientId");
}

TEST(CdsHookCall, PrefetchBundlesAreFlattenedOnceEachWithTheirOrigins) {
  json patient = {{"resourceType", "Patient"}, {"id", "p1"}};
  json body = {{"hook", "patient-view"}, {"hookInstance", "h1"}, {"context", {{"patientId", "p1"}}},
               {"prefetch", {{"patient", patient},
                             {"observations", {{"resourceType", "Bundle"},
                                               {"entry", {{{"resource", {{"resourceType", "Observation"}, {"id", "o1"}}}},
                                                          {{"resource", {{"resourceType", "Observation"}, {"id", "o1"}}}},
                                                          {{"resource", {{"resourceType", "Observation"}, {"id", "o2"}}}}}}}},
                             {"conditions", nullptr}}}};
  Service service(ShippedPipeline(), nullptr, {});
  auto read = ReadHookCall(kPatientViewService, body, service.Discovery(), nullptr, 10);
  ASSERT_TRUE(std::holds_alternative<HookCall>(read)) << std::get<RequestError>(read).message;
  const HookCall& call = std::get<HookCall>(read);
  EXPECT_EQ(call.bundle["type"], "collection");
  ASSERT_EQ(call.bundle["entry"].size(), 3u);
  EXPECT_EQ(call.origins, (std::vector<std::string>{"/prefetch/patient", "/prefetch/observations/entry/0/resource",
                                                    "/prefetch/observations/entry/2/resource"}));
  EXPECT_EQ(WithOrigins("Bundle.entry[2].resource.valueQuantity: no unit", call.origins),
            "Bundle.entry[2].resource.valueQuantity: no unit (Bundle.entry[2] is /prefetch/observations/entry/2/resource)");
}

}  // namespace
}  // namespace nflux::cds
