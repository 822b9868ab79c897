// The service: authentication, routing, CORS, and the handlers of each route.
#include <exception>

#include "audit/audit.h"
#include "base/fast_json.h"
#include "base/json.h"
#include "base/text.h"
#include "cds/group_commit.h"
#include "cds/internal.h"
#include "report/report.h"

namespace nflux::cds {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kServicesPrefix = "/cds-services/";
constexpr std::string_view kFeedbackSuffix = "/feedback";

// The body as JSON, or a 400 naming the line and column of the syntax error.
std::variant<json, RequestError> ParseBody(const std::string& body) {
  if (body.empty()) return RequestError{400, "the request has no body (a JSON object is expected)", ""};
  auto parsed = ParseJsonDocument(body, "request body");
  if (!parsed.ok()) return RequestError{400, parsed.status().message(), ""};
  return std::move(parsed).value();
}

std::string HeaderOr(const HttpRequest& request, const std::string& name, const std::string& fallback) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? fallback : it->second;
}

// CORS as the CDS Hooks specification asks: any origin (echoed, as credentials may be sent), the
// methods and headers a CDS client uses.
void AddCors(HttpResponse& response, const HttpRequest& request) {
  response.headers["Access-Control-Allow-Origin"] = HeaderOr(request, "origin", "*");
  response.headers["Access-Control-Allow-Credentials"] = "true";
  response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS";
  response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Accept, Origin";
  response.headers["Access-Control-Expose-Headers"] = "Origin, Accept, Content-Location, Location, X-Requested-With";
  if (request.headers.count("origin")) response.headers["Vary"] = "Origin";
}

HttpResponse MethodNotAllowed(const std::string& allowed, const HttpRequest& request) {
  HttpResponse response = ErrorResponse({405, request.method + " is not allowed here; use " + allowed, ""});
  response.headers["Allow"] = allowed + ", OPTIONS";
  return response;
}

// An instant as CDS Hooks and FHIR write it: YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm).
bool IsInstant(std::string_view text) {
  auto two = [&](size_t at, int max) {
    return at + 2 <= text.size() && IsAsciiDigit(text[at]) && IsAsciiDigit(text[at + 1]) &&
           (text[at] - '0') * 10 + (text[at + 1] - '0') <= max;
  };
  if (text.size() < 20 || !IsCalendarDate(text.substr(0, 10)) || text[10] != 'T') return false;
  if (!two(11, 23) || text[13] != ':' || !two(14, 59) || text[16] != ':' || !two(17, 60)) return false;
  size_t at = 19;
  if (text[at] == '.') {
    const size_t digits_start = ++at;
    while (at < text.size() && IsAsciiDigit(text[at])) ++at;
    if (at == digits_start) return false;
  }
  if (at < text.size() && text[at] == 'Z') return at + 1 == text.size();
  return at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && two(at + 1, 14) && text[at + 3] == ':' &&
         two(at + 4, 59);
}

// A feedback item's members (CDS Hooks 2.0 "Feedback"); `path` is "/feedback/N".
std::optional<RequestError> CheckFeedbackItem(const json& item, const std::string& path) {
  if (!item.is_object()) return RequestError{400, "expected an object, got " + JsonTypeWithArticle(item), path};
  for (const char* key : {"card", "outcome", "outcomeTimestamp"})
    if (!item.contains(key) || !item[key].is_string() || item[key].get_ref<const std::string&>().empty())
      return RequestError{400, "missing or not a non-empty string", path + "/" + key};
  std::string outcome = item["outcome"].get<std::string>();
  if (outcome != "accepted" && outcome != "overridden")
    return RequestError{400, "expected 'accepted' or 'overridden', got '" + outcome + "'", path + "/outcome"};
  if (outcome == "accepted" && (!item.contains("acceptedSuggestions") || !item["acceptedSuggestions"].is_array()))
    return RequestError{400, "an accepted outcome needs an array of acceptedSuggestions", path + "/acceptedSuggestions"};
  if (item.contains("overrideReason") && !item["overrideReason"].is_object())
    return RequestError{400, "expected an object, got " + JsonTypeWithArticle(item["overrideReason"]),
                        path + "/overrideReason"};
  if (!IsInstant(item["outcomeTimestamp"].get_ref<const std::string&>()))
    return RequestError{400, "expected an instant such as 2026-11-30T10:00:00Z, got '" +
                                 Utf8Safe(Utf8Prefix(item["outcomeTimestamp"].get_ref<const std::string&>(), 64)) + "'",
                        path + "/outcomeTimestamp"};
  return std::nullopt;
}

std::variant<std::vector<json>, RequestError> ReadFeedback(const json& body) {
  if (!body.is_object()) return RequestError{400, "expected a JSON object with a feedback array", ""};
  if (!body.contains("feedback") || !body["feedback"].is_array())
    return RequestError{400, "missing or not an array", "/feedback"};
  std::vector<json> items;
  for (size_t i = 0; i < body["feedback"].size(); ++i) {
    if (auto e = CheckFeedbackItem(body["feedback"][i], "/feedback/" + std::to_string(i))) return *e;
    items.push_back(body["feedback"][i]);
  }
  return items;
}

int StatusFor(const Status& status) {
  return status.code() == Status::Code::kInvalidArgument ? 400 : status.code() == Status::Code::kNotFound ? 404 : 500;
}

}  // namespace

HttpResponse JsonResponse(int status, const ordered_json& body) {
  HttpResponse response;
  response.status = status;
  response.headers["Content-Type"] = "application/json; charset=utf-8";
  // Invalid UTF-8 from a request (echoed in a message) is replaced, never thrown on.
  response.body = body.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  return response;
}

HttpResponse ErrorResponse(const RequestError& error) {
  return JsonResponse(error.status, {{"error", {{"status", error.status}, {"message", error.message}, {"path", error.path}}}});
}

Service::Service(const pipeline::Pipeline& pipeline, store::StorePool* stores, ServiceOptions options)
    : Service(pipeline::PipelineHandle::Fixed(pipeline), stores, std::move(options)) {}

Service::Service(std::shared_ptr<const pipeline::PipelineHandle> pipelines, store::StorePool* stores,
                 ServiceOptions options)
    : pipelines_(std::move(pipelines)),
      stores_(stores),
      options_(std::move(options)),
      discovery_(MakeDiscovery(pipelines_->Get()->knowledge())),
      group_commit_(stores ? std::make_unique<GroupCommit>(*stores) : nullptr) {}

Service::~Service() = default;

HttpResponse Service::Handle(const HttpRequest& request) const {
  HttpResponse response;
  if (request.method == "OPTIONS") {
    response.status = 204;  // a CORS preflight: never authenticated (browsers send no credentials)
  } else if (Status allowed = options_.authorize && request.path != "/health"
                                  ? options_.authorize(HeaderOr(request, "authorization", ""), request.path)
                                  : Status::Ok();
             !allowed.ok()) {
    response = ErrorResponse({401, allowed.message(), ""});
    response.headers["WWW-Authenticate"] = "Bearer";
  } else {
    try {
      response = Route(request);
    } catch (const std::exception& e) {  // a bug must cost one request, never the service
      response = ErrorResponse({500, std::string("internal error: ") + e.what(), ""});
    }
  }
  AddCors(response, request);
  return response;
}

HttpResponse Service::Route(const HttpRequest& request) const {
  const std::string& path = request.path;
  bool get = request.method == "GET", post = request.method == "POST";
  if (path == "/cds-services" || path == "/cds-services/")
    return get ? JsonResponse(200, discovery_) : MethodNotAllowed("GET", request);
  if (path == "/health") return get ? HandleHealth() : MethodNotAllowed("GET", request);
  if (path == "/evaluate") return post ? HandleEvaluate(request) : MethodNotAllowed("POST", request);
  if (!path.starts_with(kServicesPrefix)) return ErrorResponse({404, "no such resource: " + path, ""});
  std::string id = path.substr(kServicesPrefix.size());
  bool feedback = id.ends_with(kFeedbackSuffix);
  if (feedback) id.resize(id.size() - kFeedbackSuffix.size());
  if (!HookOf(id))
    return ErrorResponse({404, "no such CDS service '" + id + "' (the services: " + kPatientViewService + ", " +
                                   kOrderSignService + ")", ""});
  if (!post) return MethodNotAllowed("POST", request);
  return feedback ? HandleFeedback(id, request) : HandleHook(id, request);
}

HttpResponse Service::HandleHook(const std::string& service_id, const HttpRequest& request) const {
  auto body = ParseBody(request.body);
  if (auto* e = std::get_if<RequestError>(&body)) return ErrorResponse(*e);
  auto read = ReadHookCall(service_id, std::get<json>(body), discovery_, options_.fhir_client, options_.max_fetch_pages);
  if (auto* e = std::get_if<RequestError>(&read)) return ErrorResponse(*e);
  auto& call = std::get<HookCall>(read);
  // One pipeline for the whole call, even when another release becomes active meanwhile.
  const std::shared_ptr<const pipeline::Pipeline> current = pipelines_->Get();
  pipeline::EvaluationOptions evaluation;
  evaluation.source_name = "hook " + service_id;
  // Parsed once, by ParseBody: imported from the JSON; the text is what the stored case keeps.
  auto parsed = current->ParseFhirResource(call.bundle, evaluation.source_name, evaluation.strict, evaluation.as_of);
  auto result = parsed.ok() ? current->Evaluate(std::move(parsed).value(), evaluation)
                            : Result<pipeline::CaseEvaluation>(parsed.status());
  if (!result.ok())
    return ErrorResponse({StatusFor(result.status()), WithOrigins(result.status().message(), call.origins), ""});
  // Written as text once: the store keeps the text, the cards read its DOM. No card shows the
  // trace_id: a stored run's is its run id, set by the store. What is stored is prepared here, on
  // this request's thread, rather than under the store's one writer.
  std::optional<audit::PreparedRun> prepared;
  if (stores_ != nullptr) {
    auto made = audit::PrepareRun(*current, *result);
    if (!made.ok()) return ErrorResponse({500, "storing the run: " + made.status().message(), ""});
    prepared = std::move(made).value();
  }
  const std::string unstored_report =
      prepared ? std::string() : current->ReportText(*result, report::TraceIdField::kLeftEmpty);
  ordered_json report = ParseWrittenJson(prepared ? prepared->report : unstored_report);
  ordered_json cards = MakeCards(report, {&current->knowledge(), report["versions"], call.patient_id, call.draft_orders});
  if (stores_ != nullptr) {
    audit::RecordOptions record;
    record.case_id = "fhir-patient-" + call.patient_id;
    record.actor = options_.actor;
    record.origin = "hook " + service_id + " " + call.hook_instance;
    record.evaluation = evaluation;
    record.hook_instance = call.hook_instance;
    record.hook_cards = CardUuids(cards);
    std::string text = call.bundle.dump();
    int64_t run_id = 0;
    Status stored = group_commit_->Write([&](store::Store& store) {
      // Called once: what was prepared moves into the store.
      auto run = audit::StoreEvaluation(*current, store, text, std::move(*prepared), record);
      if (!run.ok()) return run.status();
      run_id = run->run_id;
      return Status::Ok();
    });
    if (!stored.ok()) return ErrorResponse({500, "storing the run: " + stored.message(), ""});
    SetRun(cards, store::RunName(run_id));
  }
  return JsonResponse(200, {{"cards", std::move(cards)}});
}

HttpResponse Service::HandleFeedback(const std::string& service_id, const HttpRequest& request) const {
  (void)service_id;  // a card's uuid names its run, whichever service answered
  auto body = ParseBody(request.body);
  if (auto* e = std::get_if<RequestError>(&body)) return ErrorResponse(*e);
  auto items = ReadFeedback(std::get<json>(body));
  if (auto* e = std::get_if<RequestError>(&items)) return ErrorResponse(*e);
  ordered_json stored = ordered_json::array();
  if (stores_ == nullptr) return JsonResponse(200, {{"stored", stored}});
  auto lease = stores_->Acquire();
  if (!lease.ok()) return ErrorResponse({503, lease.status().message(), ""});
  store::Store& store = **lease;
  // All items or none: one batch, rolled back when a card is unknown.
  if (Status begun = store.BeginBatch(); !begun.ok()) return ErrorResponse({500, begun.message(), ""});
  const auto& list = std::get<std::vector<json>>(items);
  for (size_t i = 0; i < list.size(); ++i) {
    store::Feedback feedback;
    feedback.card = list[i]["card"].get<std::string>();
    feedback.outcome = list[i]["outcome"].get<std::string>();
    feedback.outcome_timestamp = list[i]["outcomeTimestamp"].get<std::string>();
    feedback.detail = list[i].dump();
    feedback.actor = options_.actor;
    auto saved = store.SaveFeedback(std::move(feedback));
    if (!saved.ok()) {
      store.RollbackBatch();
      return ErrorResponse({StatusFor(saved.status()), saved.status().message(), "/feedback/" + std::to_string(i) + "/card"});
    }
    stored.push_back({{"card", saved->card}, {"run", store::RunName(saved->run_id)}, {"feedback", saved->id}});
  }
  if (Status committed = store.CommitBatch(); !committed.ok()) return ErrorResponse({500, committed.message(), ""});
  return JsonResponse(200, {{"stored", stored}});
}

HttpResponse Service::HandleEvaluate(const HttpRequest& request) const {
  if (request.body.empty()) return ErrorResponse({400, "the request has no body (a case or a FHIR resource)", ""});
  const std::shared_ptr<const pipeline::Pipeline> current = pipelines_->Get();
  pipeline::EvaluationOptions evaluation;
  evaluation.source_name = "request";
  auto result = current->Evaluate(request.body, evaluation);
  if (!result.ok()) return ErrorResponse({StatusFor(result.status()), result.status().message(), ""});
  return JsonResponse(200, current->ReportJson(*result));
}

// 200 when the service can answer a hook call in full, which means storing its run: the store must
// answer a read. Else 503 with the reason, so that a load balancer sends nothing here meanwhile.
HttpResponse Service::HandleHealth() const {
  const std::shared_ptr<const pipeline::Pipeline> current = pipelines_->Get();
  report::Versions versions = report::VersionsOf(current->engine());
  Status store_status = Status::Ok();
  if (stores_ != nullptr) {
    auto lease = stores_->Acquire();
    store_status = lease.ok() ? (*lease)->Ping() : lease.status();
  }
  ordered_json health = {{"status", store_status.ok() ? "ok" : "unavailable"},
                         {"versions", {{"engine", versions.engine}, {"knowledge", versions.knowledge},
                                       {"rules", versions.rules}}},
                         // The published release this replica serves (0: folders or a build).
                         {"release", current->sources().release_id},
                         {"store", stores_ ? ordered_json(store::RedactPassword(stores_->location())) : ordered_json(nullptr)}};
  if (!store_status.ok()) health["problem"] = store_status.message();
  return JsonResponse(store_status.ok() ? 200 : 503, health);
}

}  // namespace nflux::cds
