// Tests of engine/webapp in-process (no sockets): sign-in with its double-submit token, sessions
// and their expiry, CSRF on every POST, who may see which patient, the case API storing through the
// pipeline with the account as actor, escaping of everything typed, and the security headers.
#include "webapp/webapp_fixture.h"

namespace nflux::webapp {
namespace {

using namespace nflux::webapp::testing;  // NOLINT(google-build-using-namespace)

TEST_F(WebApp, SignInSetsAHardenedSessionCookie) {
  HttpResponse signed_in = PostLogin("dr_lee", "a+long+secret+phrase");
  ASSERT_EQ(303, signed_in.status);
  EXPECT_EQ("/app/", signed_in.headers.at("Location"));
  const std::string& cookie = signed_in.headers.at("Set-Cookie");
  EXPECT_TRUE(cookie.starts_with("nflux_session=")) << cookie;
  for (const char* part : {"; Path=/app", "; HttpOnly", "; SameSite=Strict", "; Max-Age=28800"})
    EXPECT_NE(std::string::npos, cookie.find(part)) << part;
  EXPECT_EQ(std::string::npos, cookie.find("Secure"));  // plain HTTP here; --secure-cookies adds it

  App secure(nflux::testing::ShippedPipeline(), *stores_, AppOptions{.secure_cookies = true, .now = [] { return kStart; }});
  HttpResponse form = secure.Handle({"GET", "/app/login", {}, ""});
  EXPECT_NE(std::string::npos, form.headers.at("Set-Cookie").find("; Secure"));
}

TEST_F(WebApp, WrongPasswordsAndForgedSignInFormsAreRefused) {
  HttpResponse wrong = PostLogin("dr_lee", "nope");
  EXPECT_EQ(401, wrong.status);
  EXPECT_NE(std::string::npos, wrong.body.find("wrong name or password"));
  EXPECT_EQ(0u, wrong.headers.count("Set-Cookie"));
  // The form without its cookie (posted from another site): refused before the password is tried.
  HttpResponse forged = PostLogin("dr_lee", "a+long+secret+phrase", /*with_token=*/false);
  EXPECT_EQ(403, forged.status);
  for (int i = 0; i < accounts::kMaxFailures - 1; ++i) EXPECT_EQ(401, PostLogin("dr_lee", "nope").status);
  HttpResponse locked = PostLogin("dr_lee", "a+long+secret+phrase");
  EXPECT_EQ(401, locked.status);
  EXPECT_NE(std::string::npos, locked.body.find("locked until")) << locked.body;
}

TEST_F(WebApp, WithoutASessionPagesGoToSignInAndTheApiAnswers401) {
  HttpResponse page = Send("GET", "/app/");
  EXPECT_EQ(303, page.status);
  EXPECT_EQ("/app/login", page.headers.at("Location"));
  EXPECT_EQ(401, Send("POST", "/app/api/cases", "", Example("perimenopause.json")).status);
  EXPECT_EQ(303, Send("GET", "/app/cases/x", "nflux_session=made-up").status);

  Visitor lee = SignIn("dr_lee");
  EXPECT_EQ(200, Send("GET", "/app/", lee.cookie).status);
  now_ += accounts::kSessionSeconds;  // the session has expired
  EXPECT_EQ(303, Send("GET", "/app/", lee.cookie).status);
}

TEST_F(WebApp, EveryPostNeedsTheSessionsCsrfTokenAndARefusalStoresNothing) {
  Visitor lee = SignIn("dr_lee");
  HttpResponse refused = PostCase(lee, Example("perimenopause.json"), /*with_csrf=*/false);
  EXPECT_EQ(403, refused.status);
  Visitor kim = SignIn("dr_kim");
  HttpResponse other_token = Send("POST", "/app/api/cases", lee.cookie, Example("perimenopause.json"),
                                  {{"x-csrf-token", kim.csrf}});
  EXPECT_EQ(403, other_token.status);
  EXPECT_TRUE(store_->ListCases()->empty());
  HttpResponse logout = Send("POST", "/app/logout", lee.cookie, "csrf=wrong",
                             {{"content-type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(403, logout.status);
  EXPECT_EQ(200, Send("GET", "/app/", lee.cookie).status);  // still signed in
}

TEST_F(WebApp, APractitionerStoresAndSeesOnlyTheirOwnPatients) {
  Visitor lee = SignIn("dr_lee");
  HttpResponse stored = PostCase(lee, Example("perimenopause.json"));
  ASSERT_EQ(201, stored.status) << stored.body;
  auto answer = nlohmann::json::parse(stored.body);
  EXPECT_EQ("clinic-2026-0142", answer["case_id"]);
  EXPECT_EQ("run-1", answer["run"]);
  EXPECT_EQ("/app/cases/clinic-2026-0142", answer["url"]);
  EXPECT_EQ(std::optional<std::string>("dr_lee"), *store_->CaseOwner("clinic-2026-0142"));
  EXPECT_EQ("dr_lee", store_->GetCaseVersion("clinic-2026-0142", 1)->actor);
  EXPECT_EQ("dr_lee", store_->GetRun(1)->summary.actor);
  EXPECT_EQ("web app", store_->GetRun(1)->summary.origin);

  EXPECT_EQ(200, Send("GET", "/app/cases/clinic-2026-0142", lee.cookie).status);
  HttpResponse report = Send("GET", "/app/runs/1/report", lee.cookie);
  EXPECT_EQ(200, report.status);
  EXPECT_NE(std::string::npos, report.body.find("NeuroFlux report"));

  Visitor kim = SignIn("dr_kim");
  EXPECT_EQ(std::string::npos, Send("GET", "/app/", kim.cookie).body.find("clinic-2026-0142"));
  EXPECT_EQ(403, Send("GET", "/app/cases/clinic-2026-0142", kim.cookie).status);
  EXPECT_EQ(403, Send("GET", "/app/runs/1/report", kim.cookie).status);
  HttpResponse takeover = PostCase(kim, Example("perimenopause.json"));
  EXPECT_EQ(403, takeover.status);
  EXPECT_EQ(1, store_->ListCaseVersions("clinic-2026-0142")->size());

  Visitor ann = SignIn("rev_ann");  // a reviewer reads every case, enters none
  EXPECT_NE(std::string::npos, Send("GET", "/app/", ann.cookie).body.find("clinic-2026-0142"));
  EXPECT_EQ(200, Send("GET", "/app/runs/1/report", ann.cookie).status);
  EXPECT_EQ(403, PostCase(ann, Example("perimenopause.json")).status);
  EXPECT_EQ(403, Send("GET", "/app/cases/new", ann.cookie).status);
  Visitor bo = SignIn("adm_bo");  // an administrator manages accounts, not patients
  EXPECT_EQ(403, Send("GET", "/app/cases/clinic-2026-0142", bo.cookie).status);

  // A second visit of the same patient is version 2 of the case.
  nlohmann::json visit2 = nlohmann::json::parse(Example("perimenopause.json"));
  visit2["symptoms"]["low_mood"] = 1;
  HttpResponse again = PostCase(lee, visit2.dump());
  ASSERT_EQ(201, again.status) << again.body;
  EXPECT_EQ(2, nlohmann::json::parse(again.body)["version"]);
}

TEST_F(WebApp, ValidateAnswersWithTheParsersPathsAndBadCasesAreNotStored) {
  Visitor lee = SignIn("dr_lee");
  std::string bad = R"({"patient": {"sex": "female", "age_years": 44},
                        "labs": [{"test": "ferritin", "value": 18, "unit": "furlongs"}]})";
  HttpResponse checked = Send("POST", "/app/api/validate", lee.cookie, bad, {{"x-csrf-token", lee.csrf}});
  ASSERT_EQ(200, checked.status);
  auto answer = nlohmann::json::parse(checked.body);
  EXPECT_FALSE(answer["ok"].get<bool>());
  ASSERT_EQ(1u, answer["errors"].size());
  EXPECT_EQ("/labs/0/unit", answer["errors"][0]["path"]);
  EXPECT_NE(std::string::npos, answer["errors"][0]["message"].get<std::string>().find("unknown unit 'furlongs'"));
  EXPECT_EQ(400, PostCase(lee, bad).status);
  EXPECT_TRUE(store_->ListCases()->empty());

  // An unknown medication is a data-quality warning, never a refusal.
  HttpResponse unknown = Send("POST", "/app/api/validate", lee.cookie,
                              R"({"patient": {"sex": "male", "age_years": 50}, "medications": [{"id": "zoloftt"}]})",
                              {{"x-csrf-token", lee.csrf}});
  auto warned = nlohmann::json::parse(unknown.body);
  EXPECT_TRUE(warned["ok"].get<bool>());
  ASSERT_EQ(1u, warned["data_quality"].size());
  EXPECT_EQ("unknown_medication", warned["data_quality"][0]["code"]);
}

TEST_F(WebApp, TypedTextIsRenderedInert) {
  Visitor lee = SignIn("dr_lee");
  const std::string hostile = "<script>alert(1)</script>\"'";
  nlohmann::json c = nlohmann::json::parse(Example("perimenopause.json"));
  c["case_id"] = hostile;
  ASSERT_EQ(201, PostCase(lee, c.dump()).status);
  for (const std::string& path : {std::string("/app/"), "/app/cases/" + UrlEncode(hostile)}) {
    HttpResponse page = Send("GET", path, lee.cookie);
    ASSERT_EQ(200, page.status) << path;
    EXPECT_EQ(std::string::npos, page.body.find("<script>alert")) << path;
    EXPECT_NE(std::string::npos, page.body.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;")) << path;
  }
  // The search box echoes its query escaped too.
  HttpRequest search{"GET", "/app/", {{"cookie", lee.cookie}}, "", {{"q", "\"><img src=x onerror=alert(1)>"}}};
  HttpResponse found = app_->Handle(search);
  EXPECT_EQ(std::string::npos, found.body.find("<img src=x"));
}

TEST_F(WebApp, EveryAnswerCarriesTheSecurityHeaders) {
  Visitor lee = SignIn("dr_lee");
  for (const auto& [path, cookie] : std::vector<std::pair<std::string, std::string>>{
           {"/app/login", ""}, {"/app/", lee.cookie}, {"/app/cases/new", lee.cookie}, {"/app/nowhere", lee.cookie},
           {"/app/assets/app.js", ""}}) {
    HttpResponse response = Send("GET", path, cookie);
    EXPECT_EQ("nosniff", response.headers["X-Content-Type-Options"]) << path;
    EXPECT_EQ("no-referrer", response.headers["Referrer-Policy"]) << path;
    EXPECT_NE(std::string::npos, response.headers["Content-Security-Policy"].find("frame-ancestors 'none'")) << path;
  }
  EXPECT_EQ(404, Send("GET", "/app/nowhere", lee.cookie).status);
  // The form carries the knowledge base it is built from; no list is written into the page itself.
  HttpResponse form = Send("GET", "/app/cases/new", lee.cookie);
  EXPECT_NE(std::string::npos, form.body.find("\"id\":\"ferritin\""));
  EXPECT_NE(std::string::npos, form.body.find("\"id\":\"phq9\""));
}

TEST_F(WebApp, TheServiceSendsTheAppItsPathsAndTheRestToCdsHooks) {
  const cds::Service service(nflux::testing::ShippedPipeline(), nullptr, {});
  const HttpResponse root = Dispatch(app_.get(), service, {"GET", "/", {}, ""});
  EXPECT_EQ(303, root.status);
  EXPECT_EQ("/app/", root.headers.at("Location"));
  EXPECT_EQ(204, Dispatch(app_.get(), service, {"GET", "/favicon.ico", {}, ""}).status);
  EXPECT_NE(std::string::npos, Dispatch(app_.get(), service, {"GET", "/app/login", {}, ""}).body.find("Sign in"));
  const HttpResponse discovery = Dispatch(app_.get(), service, {"GET", "/cds-services", {}, ""});
  EXPECT_EQ(200, discovery.status);
  EXPECT_EQ(service.Handle({"GET", "/cds-services", {}, ""}).body, discovery.body);
  // Without the app (serve --no-store) every path is the service's, /app too.
  EXPECT_EQ(service.Handle({"GET", "/app/login", {}, ""}).status, Dispatch(nullptr, service, {"GET", "/app/login", {}, ""}).status);
  EXPECT_EQ(service.Handle({"GET", "/", {}, ""}).status, Dispatch(nullptr, service, {"GET", "/", {}, ""}).status);
}

}  // namespace
}  // namespace nflux::webapp

namespace nflux::webapp {
namespace {

using namespace nflux::webapp::testing;  // NOLINT(google-build-using-namespace)

// Replicas share a store and a session key: a cookie one signs is good on another; a cookie not
// signed with the key (a bare token, another key, a changed signature) is no session at all.
TEST_F(WebApp, ASignedSessionCookieIsGoodOnEveryReplicaWithTheKeyAndNowhereElse) {
  const std::string key(32, 'k');
  AppOptions with_key{.secure_cookies = false, .session_key = key, .now = [this] { return now_; }};
  app_ = std::make_unique<App>(nflux::testing::ShippedPipeline(), *stores_, with_key);
  Visitor signed_in = SignIn("dr_lee");
  const std::string cookie_value = signed_in.cookie.substr(std::string("nflux_session=").size());
  const size_t dot = cookie_value.rfind('.');
  ASSERT_NE(dot, std::string::npos) << cookie_value;
  EXPECT_EQ(accounts::VerifySignedToken(cookie_value, key), cookie_value.substr(0, dot));

  // Another replica: its own App and store connections, the same database and key.
  store::StorePool other_stores(temp_.path(), store::Mode::kReadWrite, 2);
  App replica(nflux::testing::ShippedPipeline(), other_stores, with_key);
  auto send = [](const App& app, const std::string& cookie) {
    return app.Handle(HttpRequest{"GET", "/app/", {{"cookie", cookie}}, "", {}});
  };
  EXPECT_EQ(send(replica, signed_in.cookie).status, 200);

  const std::string token = cookie_value.substr(0, dot);
  EXPECT_EQ(send(replica, "nflux_session=" + token).status, 303);  // unsigned: to the sign-in page
  EXPECT_EQ(send(replica, "nflux_session=" + accounts::SignToken(token, std::string(32, 'x'))).status, 303);
  std::string changed = cookie_value;
  changed.back() = changed.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(send(replica, "nflux_session=" + changed).status, 303);

  // Without a key (one machine), the cookie is the bare token and a signed one is not accepted.
  App unsigned_app(nflux::testing::ShippedPipeline(), other_stores, AppOptions{.now = [this] { return now_; }});
  EXPECT_EQ(send(unsigned_app, "nflux_session=" + token).status, 200);
  EXPECT_EQ(send(unsigned_app, signed_in.cookie).status, 303);
}

}  // namespace
}  // namespace nflux::webapp
