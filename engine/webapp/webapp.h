// The practitioner's web app (issue 15), served by `nflux serve` under /app on the same pipeline,
// safety gate, store and reports as every other front end. Without sockets, like cds::Service:
//
//   store::StorePool stores(db_path, store::Mode::kReadWrite, threads);
//   webapp::App app(pipeline, stores, {.secure_cookies = false});  // borrows both
//   cds::HttpResponse response = app.Handle(http);                 // http.path starts with /app
//
// Pages are HTML made here (every value escaped), with one stylesheet and one script of our own
// (engine/webapp/assets, compiled in): nothing is fetched from the network. Sign-in through
// engine/accounts: the session cookie is HttpOnly, SameSite=Strict, Path=/app, and Secure when
// secure_cookies is set (behind TLS); every state-changing request (a POST) must carry the
// session's CSRF token, as the form field `csrf` or the header X-CSRF-Token, or it is refused (403).
// Roles: practitioners see and add their own patients' cases; reviewers read every case and run;
// authors and admins have no patient access. Another practitioner's case is 403, never its data.
//
// Routes: GET /app/login, POST /app/login, POST /app/logout, GET /app/ (the case list: ?q= a case
// id, ?alert= an alert of the latest run), GET /app/cases/new (the case form; ?from=ID: a new visit
// of one's own patient, filled from the latest), POST /app/api/validate
// (a case: the parser's messages), POST /app/api/cases (a case: stored, evaluated, the run stored;
// its place as JSON), GET /app/cases/ID (a patient: visits, trend charts, runs, what-if panel),
// POST /app/api/whatif ({"case_id", "set", "apply"}: pipeline::WhatIfToJson of the latest visit),
// GET /app/runs/N (a run: versions and trace), GET /app/runs/N/report (its HTML report),
// POST /app/runs/N/replay (reviewers), GET /app/runs/diff?a=N&b=M, GET /app/audit (reviewers and
// admins: `audit verify` and the latest runs), GET /app/impact and POST /app/api/impact (authors: a
// changed rule folder against the stored cases), GET /app/admin/accounts and POST
// /app/admin/accounts[/NAME/unlock], /app/admin/owners (admins), GET /app/assets/app.css, app.js.
//
// Thread-safety: Handle() may run on many threads at once: each request leases a connection of the
// pool for its whole length (so size the pool to the server's threads) and reads and writes on it
// alone; SQLite (WAL) and PostgreSQL keep the reads of one connection apart from another's writes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "cds/cds.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nflux::webapp {

struct AppOptions {
  bool secure_cookies = false;  // set when served over HTTPS (the cookie's Secure attribute)
  // When set, session cookies carry an HMAC of their token under this key (accounts::SignToken), so
  // that every replica sharing the key accepts them and a cookie not signed with it is ignored.
  std::string session_key = {};
  // The clock, in Unix seconds (tests move it to expire sessions and locks).
  std::function<int64_t()> now = {};
};

inline constexpr const char* kCookieName = "nflux_session";

struct CaseRow;  // a case of the list with its latest alerts (pages.h)

class App {
 public:
  // On one pipeline, or on the current one of a handle another release may replace (as cds::Service).
  App(const pipeline::Pipeline& pipeline, store::StorePool& stores, AppOptions options);
  App(std::shared_ptr<const pipeline::PipelineHandle> pipelines, store::StorePool& stores, AppOptions options);

  cds::HttpResponse Handle(const cds::HttpRequest& http) const;

  // Whether a path belongs to the app ("/app" and below).
  static bool Serves(const std::string& path);

 private:
  struct Request;  // a request with its visitor (app.cc)
  cds::HttpResponse Route(Request& request) const;
  cds::HttpResponse WhatIf(const store::Store& store, const accounts::Visitor& visitor, const std::string& body) const;
  cds::HttpResponse RuleImpact(const store::Store& store, const std::string& body) const;
  cds::HttpResponse Admin(Request& request) const;
  cds::HttpResponse RunRefusal(const accounts::Visitor& visitor, const Status& status) const;
  // Practitioners see their own patients, reviewers every one, authors and admins none.
  static Result<bool> MaySee(const store::Store& store, const accounts::Visitor& visitor, const std::string& case_id);
  static Result<std::vector<CaseRow>> VisibleCases(const store::Store& store, const accounts::Visitor& visitor);
  // A run the visitor may see; Unauthenticated for another's patient, NotFound for no such run.
  static Result<store::RunRecord> VisibleRun(const store::Store& store, const accounts::Visitor& visitor, int64_t run_id);

  std::shared_ptr<const pipeline::PipelineHandle> pipelines_;
  store::StorePool& stores_;
  AppOptions options_;
};

// The one request handler of `nflux serve`: /app and below to the app (when the service has one:
// `app` may be null, as with --no-store), "/" to /app/, the favicon a 204 (browsers ask for it;
// there is none), everything else to the CDS Hooks service.
cds::HttpResponse Dispatch(const App* app, const cds::Service& service, const cds::HttpRequest& request);

}  // namespace nflux::webapp
