// The CDS Hooks 2.0 service without sockets: routing, request validation, hook requests turned
// into a FHIR Bundle evaluated through the pipeline, cards made from the evaluation, hook runs and
// card feedback stored (shared/contracts/fhir.md, "CDS Hooks 2.0 out").
//
//   cds::Service service(pipeline, &stores, options);   // a store::StorePool; may be null: nothing stored
//   cds::HttpResponse response = service.Handle({"POST", "/cds-services/neuroflux-patient-view", {}, body});
//
// Handle() is the whole service: engine/server only moves bytes between sockets and it, so tests
// (and fuzzers) drive the service in-process. Every answer is JSON; an error is
// {"error": {"status": 400, "message": "...", "path": "/context/patientId"}} naming what and where.
// Routes: GET /cds-services (discovery), POST /cds-services/{id} (a hook call),
// POST /cds-services/{id}/feedback, POST /evaluate (case or FHIR in, output.md out), GET /health,
// OPTIONS anything (CORS preflight).
//
// GET /health answers 503 ("status": "unavailable", "problem": why) when the store does not answer a
// read: a replica that cannot store runs is taken out by its load balancer.
//
// Ownership: a Service borrows the pipeline, the store pool and the FHIR client; they must outlive it.
// Thread-safety: Handle() may run on many threads at once: the pipeline is read-only, each use of
// the store leases a connection from the pool (hook runs that arrive together share one leased
// connection and one transaction: group commit), the FHIR client must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "fhir/fhir.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nflux::cds {

struct HttpRequest {
  std::string method;  // "GET", "POST", "OPTIONS"...
  std::string path;    // without the query string
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::map<std::string, std::string> query = {};  // the query string's parameters, decoded (the first of a name)
};

struct HttpResponse {
  int status = 200;
  std::map<std::string, std::string> headers;  // Content-Type and CORS always set
  std::string body;
};

// Reads FHIR resources over HTTP for a hook call whose prefetch is missing (fhirServer given).
// Get() returns the parsed resource (a single resource or a searchset Bundle); errors name the URL.
class FhirClient {
 public:
  virtual ~FhirClient() = default;
  // `url`: absolute ("http://127.0.0.1:9000/fhir/Patient/p1"); `bearer`: the access token, or "".
  virtual Result<nlohmann::json> Get(const std::string& url, const std::string& bearer) const = 0;
};

// Decides whether a request may be served: Ok, or an error whose message goes into a 401 body.
// Given the Authorization header ("" when absent) and the path called (a token's `aud` may name it).
using Authorizer = std::function<Status(std::string_view authorization, std::string_view path)>;

struct ServiceOptions {
  std::string actor = "nflux serve";  // who stores hook runs and feedback
  const FhirClient* fhir_client = nullptr;  // null: a hook without prefetch cannot fetch (400)
  Authorizer authorize;                     // null: no authentication (--auth not given)
  size_t max_fetch_pages = 10;              // searchset pages followed per prefetch template
};

// The services of the discovery document.
inline constexpr const char* kPatientViewService = "neuroflux-patient-view";
inline constexpr const char* kOrderSignService = "neuroflux-order-sign";
// The code system of NeuroFlux strategies in FHIR (fhir.md) and of the card topics.
using fhir::kStrategySystem;

class GroupCommit;

class Service {
 public:
  // On one pipeline (it must outlive the service), or on the current pipeline of a handle that
  // another release may replace while the service runs (each request keeps the one it started with).
  // `stores`: where hook runs and feedback go (null: nothing is stored); borrowed, it must outlive
  // the service. A hook call's run is written on a connection leased for its group commit.
  Service(const pipeline::Pipeline& pipeline, store::StorePool* stores, ServiceOptions options);
  Service(std::shared_ptr<const pipeline::PipelineHandle> pipelines, store::StorePool* stores, ServiceOptions options);
  ~Service();

  HttpResponse Handle(const HttpRequest& request) const;

  // The discovery document (GET /cds-services), made once.
  const nlohmann::ordered_json& Discovery() const { return discovery_; }

 private:
  HttpResponse Route(const HttpRequest& request) const;
  HttpResponse HandleHook(const std::string& service_id, const HttpRequest& request) const;
  HttpResponse HandleFeedback(const std::string& service_id, const HttpRequest& request) const;
  HttpResponse HandleEvaluate(const HttpRequest& request) const;
  HttpResponse HandleHealth() const;

  std::shared_ptr<const pipeline::PipelineHandle> pipelines_;
  store::StorePool* stores_;
  ServiceOptions options_;
  nlohmann::ordered_json discovery_;
  std::unique_ptr<GroupCommit> group_commit_;  // hook runs: concurrent calls share a transaction
};

}  // namespace nflux::cds
