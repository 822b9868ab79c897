// Routing, sign-in, sessions, CSRF and access rules of the web app; the pages are in pages.cc.
#include <algorithm>
#include <chrono>

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

int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "/app/cases/c-1" -> "c-1" (percent-decoded); nullopt for another prefix.
std::optional<std::string> Tail(const std::string& path, std::string_view prefix) {
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return std::nullopt;
  std::string_view tail = std::string_view(path).substr(prefix.size());
  if (tail.find('/') != std::string_view::npos) return std::nullopt;  // before decoding: an id may hold '/'
  return FormDecode(tail, /*plus_is_space=*/false);
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

}  // namespace

struct App::Request {
  const cds::HttpRequest& http;
  std::map<std::string, std::string> cookies;
  std::optional<accounts::Visitor> visitor;
  std::map<std::string, std::string> form;  // a POSTed form
};

App::App(const pipeline::Pipeline& pipeline, store::Store& store, AppOptions options)
    : pipeline_(pipeline), store_(store), options_(std::move(options)) {
  if (!options_.now) options_.now = SystemNow;
}

bool App::Serves(const std::string& path) { return path == "/app" || path.starts_with("/app/"); }

HttpResponse App::Handle(const cds::HttpRequest& http) const {
  Request request{http, ParsePairs(Header(http, "cookie"), ';', false), std::nullopt, {}};
  if (auto it = request.cookies.find(kCookieName); it != request.cookies.end()) {
    std::lock_guard lock(store_mutex_);
    accounts::Accounts accounts(store_);
    auto visitor = accounts.SessionFor(it->second, options_.now());
    if (!visitor.ok()) return JsonError(500, visitor.status().message());
    request.visitor = *visitor;
  }
  if (http.method == "POST" && Header(http, "content-type").starts_with("application/x-www-form-urlencoded"))
    request.form = ParsePairs(http.body, '&', true);
  HttpResponse response = Route(request);
  Harden(response, http.path.starts_with("/app/runs/"));
  return response;
}

HttpResponse App::Route(Request& request) const {
  const cds::HttpRequest& http = request.http;
  const std::string& path = http.path;
  const bool get = http.method == "GET" || http.method == "HEAD";
  const bool post = http.method == "POST";

  if (path == "/app/assets/app.css" && get) return HttpResponse{200, {{"Content-Type", "text/css; charset=utf-8"}}, AppCss()};
  if (path == "/app/assets/app.js" && get)
    return HttpResponse{200, {{"Content-Type", "text/javascript; charset=utf-8"}}, AppJs()};

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
      std::lock_guard lock(store_mutex_);
      accounts::Accounts accounts(store_);
      return accounts.SignIn(name, password, options_.now());
    }();
    if (!signed_in.ok()) {
      const int status = signed_in.status().code() == Status::Code::kUnauthenticated ? 401 : 500;
      return Html(status, LoginPage(cookie->second, signed_in.status().message()));
    }
    HttpResponse response = Redirect("/app/");
    response.headers["Set-Cookie"] =
        CookieHeader(kCookieName, signed_in->token, accounts::kSessionSeconds, options_.secure_cookies);
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
      std::lock_guard lock(store_mutex_);
      accounts::Accounts accounts(store_);
      (void)accounts.SignOut(request.cookies.at(kCookieName), options_.now());
    }
    HttpResponse response = Redirect("/app/login");
    response.headers["Set-Cookie"] = CookieHeader(kCookieName, "", 0, options_.secure_cookies);
    return response;
  }

  const bool practitioner = visitor.role == accounts::Role::kPractitioner;
  const bool reviewer = visitor.role == accounts::Role::kReviewer;
  // May this visitor see case `id`? Practitioners: their own; reviewers: all.
  auto may_see = [&](const std::string& case_id) -> Result<bool> {
    if (reviewer) return true;
    if (!practitioner) return false;
    auto owner = store_.CaseOwner(case_id);
    if (!owner.ok()) return owner.status();
    return *owner == visitor.session.account;
  };

  if ((path == "/app/" || path == "/app") && get) {
    std::lock_guard lock(store_mutex_);
    auto cases = store_.ListCases();
    if (!cases.ok()) return Html(500, MessagePage(visitor, "Error", cases.status().message()));
    std::vector<store::CaseSummary> visible;
    const std::string query = http.query.count("q") ? http.query.at("q") : "";
    for (const auto& c : *cases) {
      auto allowed = may_see(c.case_id);
      if (!allowed.ok()) return Html(500, MessagePage(visitor, "Error", allowed.status().message()));
      if (*allowed && (query.empty() || c.case_id.find(query) != std::string::npos)) visible.push_back(c);
    }
    return Html(200, CaseListPage(visitor, visible, query));
  }

  if (path == "/app/cases/new" && get) {
    if (!practitioner) return Html(403, MessagePage(visitor, "Not allowed", "Only practitioners enter cases."));
    return Html(200, CaseFormPage(visitor, pipeline_.knowledge()));
  }

  if (path == "/app/api/validate" && post) {
    auto parsed = pipeline_.ParseCase(http.body, kSource);
    if (!parsed.ok()) return JsonAnswer(200, {{"ok", false}, {"errors", ErrorList(parsed.status().message(), kSource)}});
    return JsonAnswer(200, {{"ok", true}, {"errors", json::array()},
                            {"data_quality", json::parse(casefile::DataQualityToJson(*parsed).dump())}});
  }

  if (path == "/app/api/cases" && post) {
    if (!practitioner) return JsonError(403, "only practitioners enter cases");
    auto parsed = pipeline_.ParseCase(http.body, kSource);
    if (!parsed.ok())
      return JsonAnswer(400, {{"error", {{"status", 400}, {"message", "the case has errors"}}},
                              {"errors", ErrorList(parsed.status().message(), kSource)}});
    const std::string case_id = audit::CaseIdFor(*parsed, http.body, "");
    std::lock_guard lock(store_mutex_);
    auto owner = store_.CaseOwner(case_id);
    if (!owner.ok()) return JsonError(500, owner.status().message());
    if (*owner && **owner != visitor.session.account) return JsonError(403, "case " + case_id + " is another practitioner's");
    if (!*owner) {
      // A case stored before (by the command line) without an owner is not taken over here.
      auto existing = store_.ListCaseVersions(case_id);
      if (existing.ok() && !existing->empty()) return JsonError(403, "case " + case_id + " exists and has no owner in the web app");
    }
    audit::RecordOptions record;
    record.case_id = case_id;
    record.actor = visitor.session.account;
    record.origin = "web app";
    record.evaluation.source_name = kSource;
    auto recorded = audit::EvaluateAndStore(pipeline_, store_, http.body, record);
    if (!recorded.ok()) return JsonError(400, recorded.status().message());
    if (Status status = store_.SetCaseOwner(case_id, visitor.session.account); !status.ok())
      return JsonError(500, status.message());
    return JsonAnswer(201, {{"case_id", case_id}, {"version", recorded->case_version.version},
                            {"run", store::RunName(recorded->run_id)},
                            {"url", "/app/cases/" + UrlEncode(case_id)}});
  }

  if (auto case_id = Tail(path, "/app/cases/"); case_id && get) {
    std::lock_guard lock(store_mutex_);
    auto allowed = may_see(*case_id);
    if (!allowed.ok()) return Html(500, MessagePage(visitor, "Error", allowed.status().message()));
    if (!*allowed) return Html(403, MessagePage(visitor, "Not allowed", "This patient is not yours to see."));
    auto versions = store_.ListCaseVersions(*case_id);
    if (!versions.ok() || versions->empty()) return Html(404, MessagePage(visitor, "Not found", "No such case."));
    auto runs = store_.ListRuns(*case_id);
    if (!runs.ok()) return Html(500, MessagePage(visitor, "Error", runs.status().message()));
    return Html(200, PatientPage(visitor, *case_id, *versions, *runs));
  }

  if (path.starts_with("/app/runs/") && path.ends_with("/report") && get) {
    std::string middle = path.substr(10, path.size() - 10 - 7);
    std::optional<int64_t> run_id = store::ParseRunId(middle);
    if (!run_id) return Html(404, MessagePage(visitor, "Not found", "No such run."));
    std::lock_guard lock(store_mutex_);
    auto run = store_.GetRun(*run_id);
    if (!run.ok()) return Html(404, MessagePage(visitor, "Not found", "No such run."));
    auto allowed = may_see(run->summary.case_id);
    if (!allowed.ok()) return Html(500, MessagePage(visitor, "Error", allowed.status().message()));
    if (!*allowed) return Html(403, MessagePage(visitor, "Not allowed", "This patient is not yours to see."));
    return HttpResponse{200, {{"Content-Type", "text/html; charset=utf-8"}},
                        report::EvaluationToHtml(run->evaluation, pipeline_.knowledge())};
  }

  if (!get && !post) return Html(405, MessagePage(visitor, "Not allowed", "Method not allowed."));
  return Html(404, MessagePage(visitor, "Not found", "No such page."));
}

}  // namespace nflux::webapp
