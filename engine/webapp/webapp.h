// The practitioner's web app (issue 15), served by `nflux serve` under /app on the same pipeline,
// safety gate, store and reports as every other front end. Without sockets, like cds::Service:
//
//   webapp::App app(pipeline, store, {.secure_cookies = false});   // borrows both
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
// Routes: GET /app/login, POST /app/login, POST /app/logout, GET /app/ (the case list),
// GET /app/cases/new (the case form), POST /app/api/validate (a case: the parser's messages),
// POST /app/api/cases (a case: stored, evaluated, the run stored; its place as JSON),
// GET /app/cases/ID (a patient: visits and runs), GET /app/runs/N/report (a run's HTML report),
// GET /app/assets/app.css, /app/assets/app.js.
//
// Thread-safety: Handle() may run on many threads; the store (one connection) is used under the
// app's own mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "accounts/accounts.h"
#include "cds/cds.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nflux::webapp {

struct AppOptions {
  bool secure_cookies = false;  // set when served over HTTPS (the cookie's Secure attribute)
  // The clock, in Unix seconds (tests move it to expire sessions and locks).
  std::function<int64_t()> now = {};
};

inline constexpr const char* kCookieName = "nflux_session";

class App {
 public:
  App(const pipeline::Pipeline& pipeline, store::Store& store, AppOptions options);

  cds::HttpResponse Handle(const cds::HttpRequest& http) const;

  // Whether a path belongs to the app ("/app" and below).
  static bool Serves(const std::string& path);

 private:
  struct Request;  // a request with its visitor (app.cc)
  cds::HttpResponse Route(Request& request) const;

  const pipeline::Pipeline& pipeline_;
  store::Store& store_;
  AppOptions options_;
  mutable std::mutex store_mutex_;
};

}  // namespace nflux::webapp
