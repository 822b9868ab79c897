// `nflux serve`'s store: the hook service and the web app lease connections from one bounded
// store::StorePool, on both backends. Many requests at once each work on a connection of their own
// and never more than the pool holds; /health answers 503 with the reason while the store does not
// answer, and the web app says the database cannot be reached.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "../../bench/load_support.h"
#include "cds/cds.h"
#include "testutil.h"
#include "webapp/webapp_fixture.h"

namespace nflux::webapp {
namespace {

using namespace nflux::webapp::testing;  // NOLINT(google-build-using-namespace)
using nlohmann::json;
using store::testing::RawDatabase;

// The ctest `serve_postgres` runs the /postgres instances (tests/CMakeLists.txt: suites "Serve*").
class ServeStores : public WebAppOnEveryBackend {};
NFLUX_ON_EVERY_BACKEND(ServeStores);

json HealthOf(const cds::Service& service, int expected_status) {
  const HttpResponse health = service.Handle({"GET", "/health", {}, ""});
  EXPECT_EQ(health.status, expected_status) << health.body;
  return json::parse(health.body, nullptr, false);
}

TEST_P(ServeStores, HealthIsOkWhileTheStoreAnswersAnd503WithTheReasonWhileItDoesNot) {
  const cds::Service service(nflux::testing::ShippedPipeline(), stores_.get(), {});
  const json ok = HealthOf(service, 200);
  EXPECT_EQ(ok["status"], "ok");
  EXPECT_FALSE(ok.contains("problem"));
  EXPECT_EQ(ok["store"], store::RedactPassword(location()));

  // The store stops answering reads (its runs table gone, as a database restored half-way).
  RawDatabase raw(backend(), location());
  raw.Exec("ALTER TABLE runs RENAME TO runs_away");
  const json down = HealthOf(service, 503);
  EXPECT_EQ(down["status"], "unavailable");
  EXPECT_NE(down["problem"].get<std::string>().find("runs"), std::string::npos) << down.dump();
  EXPECT_EQ(down["versions"], ok["versions"]);  // still says what it would serve

  // Back again: the same connections answer, no restart.
  raw.Exec("ALTER TABLE runs_away RENAME TO runs");
  EXPECT_EQ(HealthOf(service, 200)["status"], "ok");
}

TEST_P(ServeStores, ManyRequestsAtOnceEachOnAConnectionOfTheirOwnWithinThePoolsBound) {
  const cds::Service service(nflux::testing::ShippedPipeline(), stores_.get(), {});
  const bench::HookCallText hook_call = bench::SsriHookCall();
  const Visitor lee = SignIn("dr_lee"), kim = SignIn("dr_kim");
  constexpr int kThreads = 8, kRounds = 3;
  std::atomic<int> wrong{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const Visitor& visitor = t % 2 == 0 ? lee : kim;
      auto expect = [&](const HttpResponse& response, int status, const std::string& what) {
        if (response.status == status) return;
        ++wrong;
        failures[t] += what + ": " + std::to_string(response.status) + " " + response.body.substr(0, 300) + "\n";
      };
      for (int round = 0; round < kRounds; ++round) {
        json visit = json::parse(Example("ssri_5htp_request.json"));
        const std::string case_id = "pool-" + std::to_string(t) + "-" + std::to_string(round);
        visit["case_id"] = case_id;
        expect(PostCase(visitor, visit.dump()), 201, "case " + case_id);
        expect(Send("GET", "/app/", visitor.cookie), 200, "case list");
        expect(Send("GET", "/app/cases/" + case_id, visitor.cookie), 200, "patient " + case_id);
        expect(service.Handle({"POST", "/cds-services/neuroflux-patient-view", {}, hook_call.With(case_id)}), 200, "hook " + case_id);
        expect(service.Handle({"GET", "/health", {}, ""}), 200, "health");
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, 0) << [&] {
    std::string all;
    for (const auto& f : failures) all += f;
    return all;
  }();
  EXPECT_LE(stores_->open(), kPoolSize);
  // Every case, its run and each hook call's run are stored once, in one gap-free chain.
  auto runs = store_->ListRuns(std::nullopt);
  ASSERT_OK(runs);
  EXPECT_EQ(runs->size(), static_cast<size_t>(2 * kThreads * kRounds));
  auto report = store_->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->runs, 2 * kThreads * kRounds);
}

// Two practitioners enter one new case id at once: one gets the patient, the other is refused, and
// no visit of the refused one is stored under the other's patient.
TEST_P(ServeStores, OfTwoPractitionersEnteringOneNewCaseAtOnceOneGetsItAndTheOtherIsRefused) {
  const Visitor lee = SignIn("dr_lee"), kim = SignIn("dr_kim");
  for (int round = 0; round < 4; ++round) {
    const std::string case_id = "contested-" + std::to_string(round);
    json visit = json::parse(Example("ssri_5htp_request.json"));
    visit["case_id"] = case_id;
    const std::string text = visit.dump();
    std::atomic<int> ready{0};
    int status[2] = {0, 0};
    std::vector<std::thread> both;
    for (int who = 0; who < 2; ++who)
      both.emplace_back([&, who] {
        ++ready;
        while (ready < 2) std::this_thread::yield();
        status[who] = PostCase(who == 0 ? lee : kim, text).status;
      });
    for (auto& thread : both) thread.join();
    ASSERT_EQ(std::min(status[0], status[1]), 201) << case_id;
    ASSERT_EQ(std::max(status[0], status[1]), 403) << case_id;
    const std::string winner = status[0] == 201 ? "dr_lee" : "dr_kim";
    EXPECT_EQ(*store_->CaseOwner(case_id), std::optional<std::string>(winner));
    auto versions = store_->ListCaseVersions(case_id);
    ASSERT_OK(versions);
    ASSERT_EQ(versions->size(), 1u) << case_id;
    EXPECT_EQ(versions->front().actor, winner);
  }
}

// A database that cannot be opened: every page and call that needs it says so (503), naming it.
TEST(ServeStoresUnreachable, HealthPagesAndCallsAnswer503NamingTheDatabase) {
  const std::string nowhere = "/proc/nflux-no-such-folder/nflux.db";  // /proc takes no new folder
  store::StorePool stores(nowhere, store::Mode::kReadWrite, 2);
  const cds::Service service(nflux::testing::ShippedPipeline(), &stores, {});
  const json health = HealthOf(service, 503);
  EXPECT_EQ(health["status"], "unavailable");
  EXPECT_NE(health["problem"].get<std::string>().find(nowhere), std::string::npos) << health.dump();

  const App app(nflux::testing::ShippedPipeline(), stores, AppOptions{});
  const HttpResponse page = app.Handle({"GET", "/app/login", {}, ""});
  EXPECT_EQ(page.status, 503);
  EXPECT_NE(page.body.find("The database cannot be reached"), std::string::npos) << page.body;
  EXPECT_NE(page.headers.at("Content-Security-Policy").find("default-src"), std::string::npos);  // hardened as every page
  const HttpResponse api = app.Handle({"POST", "/app/api/cases", {}, "{}"});
  EXPECT_EQ(api.status, 503);
  EXPECT_NE(json::parse(api.body)["error"]["message"].get<std::string>().find(nowhere), std::string::npos) << api.body;
  // The stylesheet and script need no database, with a session cookie or without.
  EXPECT_EQ(app.Handle({"GET", "/app/assets/app.css", {}, ""}).status, 200);
  EXPECT_EQ(app.Handle({"GET", "/app/assets/app.js", {{"cookie", std::string(kCookieName) + "=abc"}}, ""}).status, 200);
  EXPECT_EQ(app.Handle({"GET", "/app/assets/other.js", {{"cookie", std::string(kCookieName) + "=abc"}}, ""}).status, 404);
  EXPECT_EQ(stores.open(), 0u);
}

}  // namespace
}  // namespace nflux::webapp
