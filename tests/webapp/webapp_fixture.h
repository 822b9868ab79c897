// The web app's test fixture: a temporary store with one account of each role, the app on the
// shipped pipeline with a clock the test moves, and helpers to sign in and post as a browser does.
#pragma once

#include <gtest/gtest.h>

#include "base/text.h"
#include "safety/safety_test_support.h"
#include "store/store_backend.h"
#include "store/store_test_support.h"
#include "webapp/pages.h"
#include "webapp/webapp.h"

namespace nflux::webapp::testing {

using cds::HttpRequest;
using cds::HttpResponse;
using store::testing::TempDatabase;

inline constexpr int64_t kStart = 1'800'000'000;
inline constexpr const char* kPassword = "a long secret phrase";

inline std::string Between(const std::string& text, const std::string& before, const std::string& after) {
  size_t start = text.find(before);
  if (start == std::string::npos) return "";
  start += before.size();
  return text.substr(start, text.find(after, start) - start);
}

// A cookie's value from a Set-Cookie header ("name=value; Path=...").
inline std::string CookieValue(const HttpResponse& response) { return Between(response.headers.at("Set-Cookie"), "=", ";"); }

// The app on the database at a location, with one account of each role: WebApp on a temporary
// SQLite file, WebAppOnEveryBackend on a fresh database of each backend (store/store_backend.h).
template <class Base>
class WebAppFixture : public Base {
 protected:
  static constexpr size_t kPoolSize = 4;

  void OpenApp(const std::string& location) {
    auto opened = store::OpenStore(location, store::Mode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(*opened);
    accounts::Accounts accounts(*store_);
    for (auto [name, role] : {std::pair{"dr_lee", accounts::Role::kPractitioner},
                              std::pair{"dr_kim", accounts::Role::kPractitioner},
                              std::pair{"rev_ann", accounts::Role::kReviewer}, std::pair{"adm_bo", accounts::Role::kAdmin},
                              std::pair{"au_cy", accounts::Role::kAuthor}})
      ASSERT_TRUE(accounts.Add(name, role, kPassword, "test").ok());
    stores_ = std::make_unique<store::StorePool>(location, store::Mode::kReadWrite, kPoolSize);
    app_ = std::make_unique<App>(nflux::testing::ShippedPipeline(), *stores_,
                                 AppOptions{.secure_cookies = false, .now = [this] { return now_; }});
  }

  struct Visitor {
    std::string cookie;  // "nflux_session=..."
    std::string csrf;
  };

  HttpResponse Send(const std::string& method, const std::string& path, const std::string& cookie = "",
                    const std::string& body = "", std::map<std::string, std::string> headers = {},
                    std::map<std::string, std::string> query = {}) {
    if (!cookie.empty()) headers["cookie"] = cookie;
    HttpRequest request{method, path, headers, body, query};
    return app_->Handle(request);
  }

  // A form POST as a page sends it: url-encoded fields and the session's CSRF token.
  HttpResponse PostForm(const Visitor& v, const std::string& path, const std::map<std::string, std::string>& fields) {
    std::string body = "csrf=" + v.csrf;
    for (const auto& [name, value] : fields) body += "&" + name + "=" + UrlEncode(value);
    return Send("POST", path, v.cookie, body, {{"content-type", "application/x-www-form-urlencoded"}});
  }

  // A JSON POST to the API with the session's CSRF token.
  HttpResponse PostJson(const Visitor& v, const std::string& path, const std::string& body) {
    return Send("POST", path, v.cookie, body, {{"content-type", "application/json"}, {"x-csrf-token", v.csrf}});
  }

  HttpResponse PostLogin(const std::string& name, const std::string& password, bool with_token = true) {
    HttpResponse form = Send("GET", "/app/login");
    const std::string token = CookieValue(form);
    const std::string field = Between(form.body, "name='csrf' value='", "'");
    EXPECT_EQ(token, field);
    return Send("POST", "/app/login", with_token ? "nflux_login=" + token : "",
                "csrf=" + field + "&name=" + name + "&password=" + password,
                {{"content-type", "application/x-www-form-urlencoded"}});
  }

  Visitor SignIn(const std::string& name) {
    HttpResponse signed_in = PostLogin(name, "a+long+secret+phrase");
    EXPECT_EQ(303, signed_in.status) << signed_in.body;
    Visitor v{"nflux_session=" + CookieValue(signed_in), ""};
    HttpResponse list = Send("GET", "/app/", v.cookie);
    v.csrf = Between(list.body, "name='csrf-token' content='", "'");
    EXPECT_FALSE(v.csrf.empty());
    return v;
  }

  HttpResponse PostCase(const Visitor& v, const std::string& text, bool with_csrf = true) {
    std::map<std::string, std::string> headers = {{"content-type", "application/json"}};
    if (with_csrf) headers["x-csrf-token"] = v.csrf;
    return Send("POST", "/app/api/cases", v.cookie, text, headers);
  }

  std::string Example(const char* name) {
    auto text = ReadFileToString(std::string(NFLUX_SOURCE_DIR "/examples/") + name);
    EXPECT_TRUE(text.ok());
    return text.ok() ? *text : "";
  }

  std::unique_ptr<store::Store> store_;      // the test's own connection, to set up and check
  std::unique_ptr<store::StorePool> stores_;  // the app's
  std::unique_ptr<App> app_;
  int64_t now_ = kStart;
};

class WebApp : public WebAppFixture<::testing::Test> {
 protected:
  void SetUp() override { OpenApp(temp_.path()); }
  TempDatabase temp_;
};

class WebAppOnEveryBackend : public WebAppFixture<store::testing::BackendTest> {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (!HasFatalFailure()) OpenApp(location());
  }
};

}  // namespace nflux::webapp::testing
