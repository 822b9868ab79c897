// Routing, sign-in, sessions, CSRF and access rules of the web app; the pages are in pages.cc.
#include <algorithm>
#include <chrono>
#include <set>

#include "audit/audit.h"
#include "base/json.h"
#include "base/text.h"
#include "report/report.h"
#include "webapp/pages.h"
#include "webapp/webapp.h"

namespace nflux::webapp {
namespace {

using cds::HttpResponse;
using json = nlohmann::ordered_json;

constexpr const char* kLoginCookie = "nflux_login";  // the double-submit token of the sign-in form

// ---- Request parts

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX is a byte (a malformed escape is kept as typed); in application/x-www-form-urlencoded, '+'
// is a space too (not in a path).
std::string FormDecode(std::string_view text, bool plus_is_space = true) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::map<std::string, std::string> ParsePairs(std::string_view text, char separator, bool decode) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view pair = text.substr(start, end - start);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (!pair.empty()) {
      size_t equals = pair.find('=');
      std::string name(pair.substr(0, equals));
      std::string value(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
      out.emplace(decode ? FormDecode(name) : name, decode ? FormDecode(value) : value);
    }
    start = end + 1;
  }
  return out;
}

std::string Header(const cds::HttpRequest& request, const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

std::string CookieHeader(const std::string& name, const std::string& value, int64_t max_age, bool secure) {
  return name + "=" + value + "; Path=/app; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) +
         (secure ? "; Secure" : "");
}

// ---- Responses

HttpResponse Redirect(const std::string& location) {
  HttpResponse response{303, {{"Location", location}, {"Content-Type", "text/plain; charset=utf-8"}}, {}};
  return response;
}

HttpResponse JsonAnswer(int status, const json& body) {
  return HttpResponse{status, {{"Content-Type", "application/json; charset=utf-8"}}, body.dump()};
}

HttpResponse JsonError(int status, const std::string& message) {
  return JsonAnswer(status, {{"error", {{"status", status}, {"message", message}}}});
}

// Every answer: no sniffing, no referrer, never framed except the report inside the app's pages,
// nothing loaded from anywhere but the app itself.
void Harden(HttpResponse& response, bool report) {
  response.headers["X-Content-Type-Options"] = "nosniff";
  response.headers["Referrer-Policy"] = "no-referrer";
  response.headers["Cache-Control"] = "no-store";
  response.headers["Content-Security-Policy"] =
      report ? "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
               "frame-ancestors 'self'"
             : "default-src 'self'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'";
  if (!report) response.headers["X-Frame-Options"] = "DENY";
}

// "/app/cases/c-1" -> "c-1" (percent-decoded); nullopt for another prefix.
std::optional<std::string> Tail(const std::string& path, std::string_view prefix) {
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return std::nullopt;
  std::string_view tail = std::string_view(path).substr(prefix.size());
  if (tail.find('/') != std::string_view::npos) return std::nullopt;  // before decoding: an id may hold '/'
  return FormDecode(tail, /*plus_is_space=*/false);
}

// "/app/runs/17/replay" with prefix "/app/runs/" and suffix "/replay" -> "17" (percent-decoded).
std::optional<std::string> Between(const std::string& path, std::string_view prefix, std::string_view suffix) {
  if (!path.ends_with(suffix) || path.size() <= prefix.size() + suffix.size()) return std::nullopt;
  return Tail(path.substr(0, path.size() - suffix.size()), prefix);
}

// A JSON object body, or why not (the API's answers name what was expected).
Result<json> JsonBody(const std::string& body, const std::string& expected) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return Status::InvalidArgument("the body must be a JSON object " + expected);
  return parsed;
}

// A member that must be an array of strings (absent: empty), at most `limit` of them.
Result<std::vector<std::string>> StringList(const json& object, const std::string& key, size_t limit) {
  std::vector<std::string> out;
  if (!object.contains(key)) return out;
  const json& list = object.at(key);
  if (!list.is_array() || list.size() > limit) return Status::InvalidArgument("/" + key + ": expected an array of at most " + std::to_string(limit) + " strings");
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string()) return Status::InvalidArgument("/" + key + "/" + std::to_string(i) + ": expected a string");
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

// The parser's errors, one per line "source: /path: message", as {path, message} objects.
json ErrorList(const std::string& message, const std::string& source) {
  json out = json::array();
  std::string_view all(message);
  while (!all.empty()) {
    const size_t end = std::min(all.find('\n'), all.size());
    std::string_view rest = all.substr(0, end);
    all.remove_prefix(std::min(end + 1, all.size()));
    if (rest.empty()) continue;
    if (rest.starts_with(source + ": ")) rest.remove_prefix(source.size() + 2);
    std::string path;
    if (rest.starts_with("/") || rest.starts_with(": ")) {
      size_t colon = rest.find(": ");
      if (colon != std::string_view::npos) {
        path = std::string(rest.substr(0, colon));
        rest.remove_prefix(colon + 2);
      }
    }
    out.push_back({{"path", path}, {"message", std::string(rest)}});
  }
  return out;
}

constexpr const char* kSource = "case";  // how the web app's case is named in messages

std::string WelcomeText(accounts::Role role) {
  return role == accounts::Role::kAuthor
             ? "Rule authors see no patient data here: 'Rule impact' shows what a changed rule folder would change."
             : "Admins see no patient data here: 'Accounts' manages who signs in; 'Audit' checks the audit trail.";
}

// The stylesheet and the script: served without a session or the database.
HttpResponse Asset(const cds::HttpRequest& http) {
  const bool get = http.method == "GET" || http.method == "HEAD";
  if (get && http.path == "/app/assets/app.css") return HttpResponse{200, {{"Content-Type", "text/css; charset=utf-8"}}, AppCss()};
  if (get && http.path == "/app/assets/app.js")
    return HttpResponse{200, {{"Content-Type", "text/javascript; charset=utf-8"}}, AppJs()};
  return HttpResponse{404, {{"Content-Type", "text/plain; charset=utf-8"}}, "no such asset\n"};
}

}  // namespace

struct App::Request {
  const cds::HttpRequest& http;
  std::map<std::string, std::string> cookies;
  std::optional<accounts::Visitor> visitor;
  std::map<std::string, std::string> form;  // a POSTed form
  std::optional<std::string> session_token = {};  // the session cookie's token (its signature checked)
  // The connection this request reads and writes on, leased from the pool until the response.
  std::optional<store::StorePool::Lease> lease = {};
};

App::App(const pipeline::Pipeline& pipeline, store::StorePool& stores, AppOptions options)
    : App(pipeline::PipelineHandle::Fixed(pipeline), stores, std::move(options)) {}

App::App(std::shared_ptr<const pipeline::PipelineHandle> pipelines, store::StorePool& stores, AppOptions options)
    : pipelines_(std::move(pipelines)), stores_(stores), options_(std::move(options)) {
  if (!options_.now) options_.now = accounts::UnixNow;
}

bool App::Serves(const std::string& path) { return path == "/app" || path.starts_with("/app/"); }

HttpResponse Dispatch(const App* app, const cds::Service& service, const cds::HttpRequest& request) {
  if (app && App::Serves(request.path)) return app->Handle(request);
  if (app && request.method == "GET" && request.path == "/favicon.ico") return HttpResponse{204, {}, {}};
  if (app && request.method == "GET" && request.path == "/") return Redirect("/app/");
  return service.Handle(request);
}

HttpResponse App::Handle(const cds::HttpRequest& http) const {
  if (http.path.starts_with("/app/assets/")) {
    HttpResponse asset = Asset(http);
    Harden(asset, false);
    return asset;
  }
  Request request{http, ParsePairs(Header(http, "cookie"), ';', false), std::nullopt, {}};
  if (auto it = request.cookies.find(kCookieName); it != request.cookies.end()) {
    request.session_token = options_.session_key.empty() ? std::optional<std::string>(it->second)
                                                          : accounts::VerifySignedToken(it->second, options_.session_key);
  }
  // Everything else reads the store, on one leased connection until the response.
  auto lease = stores_.Acquire();
  if (!lease.ok()) {
    // The database cannot be reached (or the server refuses another connection): nothing works.
    const std::string message = "The database cannot be reached: " + lease.status().message();
    HttpResponse refused = http.path.starts_with("/app/api/") ? JsonError(503, message)
                                                               : Html(503, MessagePage("Unavailable", message));
    Harden(refused, false);
    return refused;
  }
  request.lease.emplace(std::move(lease).value());
  if (request.session_token) {
    accounts::Accounts accounts(**request.lease);
    auto visitor = accounts.SessionFor(*request.session_token, options_.now());
    if (!visitor.ok()) return JsonError(500, visitor.status().message());
    request.visitor = *visitor;
  }
  if (http.method == "POST" && Header(http, "content-type").starts_with("application/x-www-form-urlencoded"))
    request.form = ParsePairs(http.body, '&', true);
  HttpResponse response = Route(request);
  Harden(response, http.path.starts_with("/app/runs/") && http.path.ends_with("/report"));
  return response;
}

HttpResponse App::Route(Request& request) const {
  // One pipeline for the whole request, even when another release becomes active meanwhile.
  const std::shared_ptr<const pipeline::Pipeline> current = pipelines_->Get();
  const cds::HttpRequest& http = request.http;
  const std::string& path = http.path;
  const bool get = http.method == "GET" || http.method == "HEAD";
  const bool post = http.method == "POST";

  store::Store& store = **request.lease;

  // The sign-in form with a fresh double-submit token (the same value in its cookie and its field).
  auto login_form = [this](int status, const std::string& message) {
    const std::string token = accounts::NewToken();
    HttpResponse page = Html(status, LoginPage(token, message));
    page.headers["Set-Cookie"] = CookieHeader(kLoginCookie, token, 3600, options_.secure_cookies);
    return page;
  };
  if (path == "/app/login" && get) {
    if (request.visitor) return Redirect("/app/");
    return login_form(200, "");
  }
  if (path == "/app/login" && post) {
    auto cookie = request.cookies.find(kLoginCookie);
    const std::string sent = request.form.count("csrf") ? request.form.at("csrf") : "";
    if (cookie == request.cookies.end() || !accounts::SameToken(cookie->second, sent))
      return login_form(403, "The sign-in form expired or did not come from this app; try again.");
    const std::string name = request.form.count("name") ? request.form.at("name") : "";
    const std::string password = request.form.count("password") ? request.form.at("password") : "";
    Result<accounts::SignedIn> signed_in = [&] {
      accounts::Accounts accounts(store);
      return accounts.SignIn(name, password, options_.now());
    }();
    if (!signed_in.ok()) {
      const int status = signed_in.status().code() == Status::Code::kUnauthenticated ? 401 : 500;
      return Html(status, LoginPage(cookie->second, signed_in.status().message()));
    }
    HttpResponse response = Redirect("/app/");
    const std::string session_cookie = options_.session_key.empty()
                                           ? signed_in->token
                                           : accounts::SignToken(signed_in->token, options_.session_key);
    response.headers["Set-Cookie"] =
        CookieHeader(kCookieName, session_cookie, accounts::kSessionSeconds, options_.secure_cookies);
    return response;
  }

  // Everything else needs a session; a page sends the browser to sign in, the API answers 401.
  if (!request.visitor) {
    if (path.starts_with("/app/api/")) return JsonError(401, "not signed in (or the session ended): sign in again");
    return Redirect("/app/login");
  }
  const accounts::Visitor& visitor = *request.visitor;

  if (post) {
    const std::string sent = request.form.count("csrf") ? request.form.at("csrf") : Header(http, "x-csrf-token");
    if (!accounts::SameToken(sent, visitor.session.csrf_token)) {
      if (path.starts_with("/app/api/")) return JsonError(403, "missing or wrong CSRF token: reload the page");
      return Html(403, MessagePage(visitor, "Refused", "The form did not carry this session's token: reload the page."));
    }
  }

  if (path == "/app/logout" && post) {
    {
      accounts::Accounts accounts(store);
      (void)accounts.SignOut(*request.session_token, options_.now());
    }
    HttpResponse response = Redirect("/app/login");
    response.headers["Set-Cookie"] = CookieHeader(kCookieName, "", 0, options_.secure_cookies);
    return response;
  }

  const bool practitioner = visitor.role == accounts::Role::kPractitioner;
  const bool reviewer = visitor.role == accounts::Role::kReviewer;
  if ((path == "/app/" || path == "/app") && get) {
    if (!practitioner && !reviewer) return Html(200, MessagePage(visitor, "Welcome", WelcomeText(visitor.role)));
    const std::string query = http.query.count("q") ? http.query.at("q") : "";
    const std::string alert = http.query.count("alert") ? http.query.at("alert") : "";
    auto rows = VisibleCases(store, visitor);
    if (!rows.ok()) return Html(500, MessagePage(visitor, "Error", rows.status().message()));
    std::set<std::string> alert_ids;
    std::vector<CaseRow> shown;
    for (auto& row : *rows) {
      alert_ids.insert(row.alerts.begin(), row.alerts.end());
      const bool has_alert = alert.empty() || std::find(row.alerts.begin(), row.alerts.end(), alert) != row.alerts.end();
      if (has_alert && (query.empty() || row.summary.case_id.find(query) != std::string::npos)) shown.push_back(std::move(row));
    }
    return Html(200, CaseListPage(visitor, shown, query, alert, {alert_ids.begin(), alert_ids.end()}));
  }

  if (path == "/app/cases/new" && get) {
    if (!practitioner) return Html(403, MessagePage(visitor, "Not allowed", "Only practitioners enter cases."));
    // ?from=ID: a new visit of one's own patient, the form filled from the latest version.
    std::optional<store::CaseVersion> from;
    if (auto it = http.query.find("from"); it != http.query.end() && !it->second.empty()) {
      auto allowed = MaySee(store, visitor, it->second);
      if (!allowed.ok()) return Html(500, MessagePage(visitor, "Error", allowed.status().message()));
      if (!*allowed) return Html(403, MessagePage(visitor, "Not allowed", "This patient is not yours to see."));
      auto versions = store.ListCaseVersions(it->second);
      if (!versions.ok() || versions->empty()) return Html(404, MessagePage(visitor, "Not found", "No such case."));
      from = versions->back();
    }
    return Html(200, CaseFormPage(visitor, current->knowledge(), from ? &*from : nullptr));
  }

  if (path == "/app/api/validate" && post) {
    auto parsed = current->ParseCase(http.body, kSource);
    if (!parsed.ok()) return JsonAnswer(200, {{"ok", false}, {"errors", ErrorList(parsed.status().message(), kSource)}});
    return JsonAnswer(200, {{"ok", true}, {"errors", json::array()},
                            {"data_quality", json::parse(casefile::DataQualityToJson(*parsed).dump())}});
  }

  if (path == "/app/api/cases" && post) {
    if (!practitioner) return JsonError(403, "only practitioners enter cases");
    auto parsed = current->ParseCase(http.body, kSource);
    if (!parsed.ok())
      return JsonAnswer(400, {{"error", {{"status", 400}, {"message", "the case has errors"}}},
                              {"errors", ErrorList(parsed.status().message(), kSource)}});
    const std::string case_id = audit::CaseIdFor(*parsed, http.body, "");
    auto owner = store.CaseOwner(case_id);
    if (!owner.ok()) return JsonError(500, owner.status().message());
    if (*owner && **owner != visitor.session.account) return JsonError(403, "case " + case_id + " is another practitioner's");
    if (!*owner) {
      // A case stored before (by the command line) without an owner is not taken over here.
      auto existing = store.ListCaseVersions(case_id);
      if (existing.ok() && !existing->empty()) return JsonError(403, "case " + case_id + " exists and has no owner in the web app");
      // The patient is claimed before the visit is stored: of two practitioners entering one new
      // case id at once (on any replica), the second is refused instead of adding to the first's.
      if (Status claimed = store.SetCaseOwner(case_id, visitor.session.account); !claimed.ok()) {
        if (claimed.code() == Status::Code::kInvalidArgument)
          return JsonError(403, "case " + case_id + " is another practitioner's");
        return JsonError(500, claimed.message());
      }
    }
    audit::RecordOptions record;
    record.case_id = case_id;
    record.actor = visitor.session.account;
    record.origin = "web app";
    record.evaluation.source_name = kSource;
    auto recorded = audit::EvaluateAndStore(*current, store, http.body, record);
    if (!recorded.ok()) return JsonError(400, recorded.status().message());
    return JsonAnswer(201, {{"case_id", case_id}, {"version", recorded->case_version.version},
                            {"run", store::RunName(recorded->run_id)},
                            {"url", "/app/cases/" + UrlEncode(case_id)}});
  }

  if (auto case_id = Tail(path, "/app/cases/"); case_id && get) {
    PatientView patient{*case_id, {}, {}, std::nullopt, ""};
    {
      auto allowed = MaySee(store, visitor, *case_id);
      if (!allowed.ok()) return Html(500, MessagePage(visitor, "Error", allowed.status().message()));
      if (!*allowed) return Html(403, MessagePage(visitor, "Not allowed", "This patient is not yours to see."));
      auto versions = store.ListCaseVersions(*case_id);
      if (!versions.ok() || versions->empty()) return Html(404, MessagePage(visitor, "Not found", "No such case."));
      auto runs = store.ListRuns(*case_id);
      if (!runs.ok()) return Html(500, MessagePage(visitor, "Error", runs.status().message()));
      patient.versions = std::move(*versions);
      patient.runs = std::move(*runs);
    }
    auto course = audit::CaseHistory(*current, patient.versions);
    if (course.ok())
      patient.course = std::move(*course);
    else
      patient.course_error = course.status().message();
    return Html(200, PatientPage(visitor, patient, current->knowledge()));
  }

  if (path == "/app/api/whatif" && post) return WhatIf(store, visitor, http.body);

  if (path == "/app/runs/diff" && get) {
    auto a = store::ParseRunId(http.query.count("a") ? http.query.at("a") : "");
    auto b = store::ParseRunId(http.query.count("b") ? http.query.at("b") : "");
    if (!a || !b) return Html(400, MessagePage(visitor, "Which runs?", "Give two runs: ?a=RUN&b=RUN."));
    auto run_a = VisibleRun(store, visitor, *a);
    if (!run_a.ok()) return RunRefusal(visitor, run_a.status());
    auto run_b = VisibleRun(store, visitor, *b);
    if (!run_b.ok()) return RunRefusal(visitor, run_b.status());
    return Html(200, DiffPage(visitor, audit::DiffEvaluations(run_a->evaluation, run_a->trace, run_b->evaluation, run_b->trace,
                                                              store::RunName(*a), store::RunName(*b))));
  }

  if (auto run = Between(path, "/app/runs/", "/replay"); run && post) {
    if (!reviewer) return Html(403, MessagePage(visitor, "Not allowed", "Only reviewers replay runs."));
    auto run_id = store::ParseRunId(*run);
    if (!run_id) return Html(404, MessagePage(visitor, "Not found", "No such run."));
    auto replay = audit::Replay(store, *run_id);
    if (!replay.ok()) return RunRefusal(visitor, replay.status());
    return Html(200, ReplayPage(visitor, *replay));
  }

  if (auto run = Tail(path, "/app/runs/"); run && get) {
    auto run_id = store::ParseRunId(*run);
    if (!run_id) return Html(404, MessagePage(visitor, "Not found", "No such run."));
    auto record = VisibleRun(store, visitor, *run_id);
    if (!record.ok()) return RunRefusal(visitor, record.status());
    auto case_runs = store.ListRuns(record->summary.case_id);
    if (!case_runs.ok()) return Html(500, MessagePage(visitor, "Error", case_runs.status().message()));
    return Html(200, RunPage(visitor, *record, *case_runs, reviewer));
  }

  if (path == "/app/audit" && get) {
    if (!reviewer && visitor.role != accounts::Role::kAdmin)
      return Html(403, MessagePage(visitor, "Not allowed", "Reviewers and admins see the audit trail."));
    auto report = store.Verify();
    if (!report.ok()) return Html(500, MessagePage(visitor, "Error", report.status().message()));
    auto runs = store.ListRuns(std::nullopt);
    if (!runs.ok()) return Html(500, MessagePage(visitor, "Error", runs.status().message()));
    std::vector<store::RunSummary> latest(runs->rbegin(), runs->rbegin() + static_cast<std::ptrdiff_t>(std::min<size_t>(runs->size(), 50)));
    return Html(200, AuditPage(visitor, *report, latest));
  }

  if (path == "/app/impact" && get) {
    if (visitor.role != accounts::Role::kAuthor) return Html(403, MessagePage(visitor, "Not allowed", "Rule authors run the impact of a rule change."));
    return Html(200, ImpactPage(visitor));
  }
  if (path == "/app/api/impact" && post) {
    if (visitor.role != accounts::Role::kAuthor) return JsonError(403, "only rule authors run the impact of a rule change");
    return RuleImpact(store, http.body);
  }

  if (path.starts_with("/app/admin/")) {
    if (visitor.role != accounts::Role::kAdmin) return Html(403, MessagePage(visitor, "Not allowed", "Only admins manage accounts."));
    return Admin(request);
  }

  if (auto run = Between(path, "/app/runs/", "/report"); run && get) {
    auto run_id = store::ParseRunId(*run);
    if (!run_id) return Html(404, MessagePage(visitor, "Not found", "No such run."));
    auto record = VisibleRun(store, visitor, *run_id);
    if (!record.ok()) return RunRefusal(visitor, record.status());
    return HttpResponse{200, {{"Content-Type", "text/html; charset=utf-8"}},
                        report::EvaluationToHtml(record->evaluation, current->knowledge())};
  }

  if (!get && !post) return Html(405, MessagePage(visitor, "Not allowed", "Method not allowed."));
  return Html(404, MessagePage(visitor, "Not found", "No such page."));
}

Result<bool> App::MaySee(const store::Store& store, const accounts::Visitor& visitor, const std::string& case_id) {
  if (visitor.role == accounts::Role::kReviewer) return true;
  if (visitor.role != accounts::Role::kPractitioner) return false;
  auto owner = store.CaseOwner(case_id);
  if (!owner.ok()) return owner.status();
  return *owner == visitor.session.account;
}

Result<std::vector<CaseRow>> App::VisibleCases(const store::Store& store, const accounts::Visitor& visitor) {
  auto cases = store.ListCases();
  if (!cases.ok()) return cases.status();
  auto runs = store.ListRuns(std::nullopt);
  if (!runs.ok()) return runs.status();
  std::map<std::string, int64_t> latest_run;  // case id -> its latest run
  for (const auto& run : *runs) latest_run[run.case_id] = std::max(latest_run[run.case_id], run.id);
  std::vector<CaseRow> out;
  for (const auto& c : *cases) {
    auto allowed = MaySee(store, visitor, c.case_id);
    if (!allowed.ok()) return allowed.status();
    if (!*allowed) continue;
    CaseRow row{c, {}};
    if (auto it = latest_run.find(c.case_id); it != latest_run.end()) {
      auto record = store.GetRun(it->second);
      if (!record.ok()) return record.status();
      for (const auto& alert : record->evaluation.value("alerts", json::array()))
        if (alert.contains("id") && alert["id"].is_string()) row.alerts.push_back(alert["id"].get<std::string>());
    }
    out.push_back(std::move(row));
  }
  return out;
}

Result<store::RunRecord> App::VisibleRun(const store::Store& store, const accounts::Visitor& visitor, int64_t run_id) {
  auto record = store.GetRun(run_id);
  if (!record.ok()) return record.status();
  auto allowed = MaySee(store, visitor, record->summary.case_id);
  if (!allowed.ok()) return allowed.status();
  if (!*allowed) return Status::Unauthenticated("this patient is not yours to see");
  return record;
}

// A run that cannot be shown: 404 (no such run), 403 (another's patient), else 500 with the reason.
HttpResponse App::RunRefusal(const accounts::Visitor& visitor, const Status& status) const {
  if (status.code() == Status::Code::kNotFound) return Html(404, MessagePage(visitor, "Not found", "No such run."));
  if (status.code() == Status::Code::kUnauthenticated)
    return Html(403, MessagePage(visitor, "Not allowed", "This patient is not yours to see."));
  return Html(500, MessagePage(visitor, "Error", status.message()));
}

// The what-if panel: the latest visit of a case with labs changed ("lab.ID=VALUE UNIT") and
// strategies applied, each with the safety gate's verdict for the patient; nothing is stored.
HttpResponse App::WhatIf(const store::Store& store, const accounts::Visitor& visitor, const std::string& body) const {
  const std::shared_ptr<const pipeline::Pipeline> current = pipelines_->Get();
  auto request = JsonBody(body, R"({"case_id", "set": [...], "apply": [...]})");
  if (!request.ok()) return JsonError(400, request.status().message());
  if (!request->contains("case_id") || !(*request)["case_id"].is_string()) return JsonError(400, "/case_id: expected a string");
  const std::string case_id = (*request)["case_id"].get<std::string>();
  auto sets = StringList(*request, "set", 50);
  if (!sets.ok()) return JsonError(400, sets.status().message());
  auto apply = StringList(*request, "apply", 50);
  if (!apply.ok()) return JsonError(400, apply.status().message());
  store::CaseVersion latest;
  {
    auto allowed = MaySee(store, visitor, case_id);
    if (!allowed.ok()) return JsonError(500, allowed.status().message());
    if (!*allowed) return JsonError(403, "case " + case_id + " is not yours to see");
    auto versions = store.ListCaseVersions(case_id);
    if (!versions.ok() || versions->empty()) return JsonError(404, "no case " + case_id);
    latest = versions->back();
  }
  auto changed = pipeline::ApplyLabChanges(latest.submitted, *sets, current->knowledge());
  if (!changed.ok()) return JsonError(400, changed.status().message());
  auto result = current->WhatIf(latest.submitted, *changed, {kSource, *apply, false});
  if (!result.ok()) return JsonError(400, result.status().message());
  json out = {{"case_id", case_id}, {"version", latest.version}, {"set", *sets}, {"apply", *apply}};
  const json what_if = pipeline::WhatIfToJson(*result, current->knowledge());
  for (const char* key : {"apply_safety", "indices", "conclusions"}) out[key] = what_if.at(key);
  // Each safety reason also as the line the command line prints, so that the page shows the same words.
  for (auto& applied : out["apply_safety"])
    for (auto& reason : applied["reasons"]) reason["text"] = pipeline::SafetyReasonText(reason);
  return JsonAnswer(200, out);
}

// An uploaded rule folder ({"files": [{"name": "sleep.rules", "text": "..."}]}) against the current
// rules over every stored case's latest version: audit::Impact, as `nflux audit impact` lists it.
HttpResponse App::RuleImpact(const store::Store& store, const std::string& body) const {
  const std::shared_ptr<const pipeline::Pipeline> current = pipelines_->Get();
  auto request = JsonBody(body, R"({"files": [{"name", "text"}]})");
  if (!request.ok()) return JsonError(400, request.status().message());
  const json& files = request->contains("files") ? (*request)["files"] : json();
  if (!files.is_array() || files.empty()) return JsonError(400, R"(/files: expected the rule files, [{"name", "text"}])");
  pipeline::Sources sources = current->sources();
  sources.rules.clear();
  sources.rules_dir = "upload";
  for (size_t i = 0; i < files.size(); ++i) {
    const json& file = files[i];
    if (!file.is_object() || !file.contains("name") || !file["name"].is_string() || !file.contains("text") || !file["text"].is_string())
      return JsonError(400, "/files/" + std::to_string(i) + R"(: expected {"name": string, "text": string})");
    std::string name = file["name"].get<std::string>();
    // A folder upload names files "folder/sub/x.rules": the path below the folder is the name;
    // golden cases (tests/) and other files are not rules.
    if (size_t slash = name.find('/'); slash != std::string::npos) name = name.substr(slash + 1);
    if (!name.ends_with(".rules") || name.starts_with("tests/")) continue;
    sources.rules.push_back({"upload/" + name, file["text"].get<std::string>(), name});
  }
  if (sources.rules.empty()) return JsonError(400, "/files: no .rules file in the upload");
  std::sort(sources.rules.begin(), sources.rules.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  auto changed = pipeline::Pipeline::OpenFromSources(std::move(sources));
  if (!changed.ok())
    return JsonAnswer(400, {{"error", {{"status", 400}, {"message", "the uploaded rules do not load"}}},
                            {"errors", ErrorList(changed.status().message(), "")}});
  Result<std::vector<store::CaseVersion>> cases = [&] {
    return audit::LatestCaseVersions(store);
  }();
  if (!cases.ok()) return JsonError(500, cases.status().message());
  const audit::ImpactReport impact = audit::Impact(*cases, *current, **changed, {.threads = 1});
  json out = json::parse(audit::ImpactToJson(impact).dump());
  out["rules_version"] = (*changed)->rule_base().version;
  out["rule_files"] = static_cast<int>((*changed)->sources().rules.size());
  return JsonAnswer(200, out);
}

// Admins: the accounts page, unlocking, adding an account, giving a case an owner.
HttpResponse App::Admin(Request& request) const {
  const accounts::Visitor& visitor = *request.visitor;
  store::Store& store = **request.lease;
  const std::string& path = request.http.path;
  const bool post = request.http.method == "POST";
  auto field = [&](const std::string& name) { return request.form.count(name) ? request.form.at(name) : std::string(); };
  std::string message;
  int status = 200;
  if (path == "/app/admin/accounts" && post) {
    const std::optional<accounts::Role> role = accounts::ParseRole(field("role"));
    accounts::Accounts accounts(store);
    auto added = role ? accounts.Add(field("name"), *role, field("password"), visitor.session.account)
                      : Result<store::Account>(Status::InvalidArgument("unknown role '" + field("role") + "'"));
    message = added.ok() ? "Added " + added->name + " (" + added->role + ")." : "Not added: " + added.status().message();
    if (!added.ok()) status = 400;
  } else if (auto name = Between(path, "/app/admin/accounts/", "/unlock"); name && post) {
    accounts::Accounts accounts(store);
    Status unlocked = accounts.Unlock(*name, visitor.session.account);
    message = unlocked.ok() ? "Unlocked " + *name + "." : "Not unlocked: " + unlocked.message();
    if (!unlocked.ok()) status = unlocked.code() == Status::Code::kNotFound ? 404 : 500;
  } else if (path == "/app/admin/owners" && post) {
    const std::string case_id = field("case_id"), owner = field("owner");
    auto account = store.FindAccount(owner);
    auto versions = store.ListCaseVersions(case_id);
    if (!account.ok() || !*account || (*account)->role != "practitioner") {
      message = "Not given: " + owner + " is not a practitioner's account.";
      status = 400;
    } else if (!versions.ok() || versions->empty()) {
      message = "Not given: there is no case " + case_id + ".";
      status = 404;
    } else if (Status given = store.SetCaseOwner(case_id, owner); !given.ok()) {
      message = "Not given: " + given.message();
      status = 400;
    } else {
      message = "Case " + case_id + " is now " + owner + "'s.";
    }
  } else if (path != "/app/admin/accounts" || post) {
    return Html(404, MessagePage(visitor, "Not found", "No such page."));
  }
  auto list = store.ListAccounts();
  if (!list.ok()) return Html(500, MessagePage(visitor, "Error", list.status().message()));
  return Html(status, AccountsPage(visitor, *list, options_.now(), message));
}

}  // namespace nflux::webapp
