// Tests of the web app's pages beyond entering a case: the what-if panel, the trend charts over
// visits, the reviewers' run, replay, diff and audit pages, the authors' rule impact, the admins'
// accounts, and every route refused to every role that may not use it.
#include <algorithm>

#include "audit/audit.h"
#include "report/view.h"
#include "store/store_test_support.h"
#include "webapp/webapp_fixture.h"

namespace nflux::webapp {
namespace {

using namespace nflux::webapp::testing;  // NOLINT(google-build-using-namespace)
using json = nlohmann::json;

constexpr const char* kSsriCase = "example-ssri-5htp-request";

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

class WebAppPages : public WebApp {
 protected:
  // dr_lee's patient on escitalopram asking for 5-HTP, stored and evaluated once (run-1).
  void StoreSsriCase() {
    lee_ = SignIn("dr_lee");
    HttpResponse stored = PostCase(lee_, Example("ssri_5htp_request.json"));
    ASSERT_EQ(201, stored.status) << stored.body;
  }
  // Her second visit, with a low ferritin (run-2).
  void StoreSecondVisit() {
    json visit = json::parse(Example("ssri_5htp_request.json"));
    visit["labs"][0]["value"] = 12;
    visit["questionnaires"]["phq9"]["items"] = json::array({2, 2, 2, 2, 1, 1, 1, 0, 0});
    HttpResponse stored = PostCase(lee_, visit.dump());
    ASSERT_EQ(201, stored.status) << stored.body;
  }
  Visitor lee_;
};

TEST_F(WebAppPages, WhatIfGivesThePipelinesAnswerAndTheGatesVerdict) {
  StoreSsriCase();
  const json request = {{"case_id", kSsriCase}, {"set", {"lab.ferritin=12ng/mL"}}, {"apply", {"precursor_5htp"}}};
  HttpResponse answer = PostJson(lee_, "/app/api/whatif", request.dump());
  ASSERT_EQ(200, answer.status) << answer.body;
  const json got = json::parse(answer.body);

  // The same what-if through the pipeline, as `nflux whatif --json` makes it.
  const pipeline::Pipeline& pipeline = nflux::testing::ShippedPipeline();
  const std::string text = Example("ssri_5htp_request.json");
  auto changed = pipeline::ApplyLabChanges(text, {"lab.ferritin=12ng/mL"}, pipeline.knowledge());
  ASSERT_TRUE(changed.ok());
  auto expected = pipeline.WhatIf(text, *changed, {"case", {"precursor_5htp"}, false});
  ASSERT_TRUE(expected.ok());
  const json want = json::parse(pipeline::WhatIfToJson(*expected, pipeline.knowledge()).dump());
  for (const char* key : {"indices", "conclusions"}) EXPECT_EQ(want[key], got[key]) << key;
  // The gate's verdicts as the pipeline gives them, each reason with the command line's line of text.
  json with_text = want["apply_safety"];
  for (auto& applied : with_text)
    for (auto& reason : applied["reasons"])
      reason["text"] = pipeline::SafetyReasonText(nlohmann::ordered_json(reason));
  EXPECT_EQ(with_text, got["apply_safety"]);
  EXPECT_EQ(1, got["version"]);

  // 5-HTP on an SSRI: blocked, with the serotonin syndrome alert as the reason.
  ASSERT_EQ(1u, got["apply_safety"].size());
  EXPECT_EQ("blocked", got["apply_safety"][0]["verdict"]);
  EXPECT_EQ("serotonin_syndrome_risk", got["apply_safety"][0]["reasons"][0]["alert"]);
  // A ferritin of 12 brings iron in: the conclusion appears.
  const json iron = {{"conclusion", "strategy:cofactor_iron"}, {"before", 0.0}, {"after", 1.0}};
  EXPECT_NE(got["conclusions"].end(), std::find(got["conclusions"].begin(), got["conclusions"].end(), iron)) << got["conclusions"];
  // Nothing is stored by a what-if.
  EXPECT_EQ(1u, store_->ListRuns(std::nullopt)->size());
  EXPECT_EQ(1u, store_->ListCaseVersions(kSsriCase)->size());
}

TEST_F(WebAppPages, WhatIfRefusesWhatItCannotDoAndSaysWhy) {
  StoreSsriCase();
  auto refused = [&](const Visitor& v, const std::string& body, int status, const std::string& says) {
    HttpResponse answer = PostJson(v, "/app/api/whatif", body);
    EXPECT_EQ(status, answer.status) << body << "\n" << answer.body;
    EXPECT_NE(std::string::npos, answer.body.find(says)) << body << "\n" << answer.body;
  };
  refused(lee_, "not json", 400, "the body must be a JSON object");
  refused(lee_, R"({"set": []})", 400, "/case_id: expected a string");
  refused(lee_, R"({"case_id": "example-ssri-5htp-request", "set": [3]})", 400, "/set/0: expected a string");
  refused(lee_, R"({"case_id": "example-ssri-5htp-request", "set": ["lab.ferritin=12furlongs"]})", 400, "furlongs");
  refused(lee_, R"({"case_id": "example-ssri-5htp-request", "set": ["lab.unobtainium=1mg/L"]})", 400, "unobtainium");
  refused(lee_, R"({"case_id": "example-ssri-5htp-request", "apply": ["magic_beans"]})", 400, "magic_beans");
  refused(lee_, R"({"case_id": "nobody"})", 403, "not yours");
  refused(SignIn("dr_kim"), R"({"case_id": "example-ssri-5htp-request"})", 403, "not yours");
  HttpResponse no_token = Send("POST", "/app/api/whatif", lee_.cookie, R"({"case_id": "example-ssri-5htp-request"})");
  EXPECT_EQ(403, no_token.status);
}

TEST_F(WebAppPages, ThePatientPageDrawsTrendsFromTheSecondVisitOn) {
  StoreSsriCase();
  HttpResponse one = Send("GET", std::string("/app/cases/") + kSsriCase, lee_.cookie);
  ASSERT_EQ(200, one.status);
  EXPECT_EQ(0u, Count(one.body, "<svg"));
  EXPECT_NE(std::string::npos, one.body.find("Trends are drawn from the second visit on"));

  StoreSecondVisit();
  HttpResponse two = Send("GET", std::string("/app/cases/") + kSsriCase, lee_.cookie);
  ASSERT_EQ(200, two.status);
  // One chart for every lab, questionnaire and deficit of the course (flux indices only where they
  // move or stand away from the reference), each with its values in words.
  auto course = audit::CaseHistory(nflux::testing::ShippedPipeline(), *store_->ListCaseVersions(kSsriCase));
  ASSERT_TRUE(course.ok());
  size_t always = 0;
  for (const auto& row : course->rows) {
    if (row.kind == "flux") continue;
    ++always;
    EXPECT_NE(std::string::npos, two.body.find("<figcaption>" + row.id)) << row.kind << " " << row.id;
  }
  EXPECT_GE(Count(two.body, "<svg"), always);
  EXPECT_LE(Count(two.body, "<svg"), course->rows.size());
  EXPECT_NE(std::string::npos, two.body.find("visit 1: 42 ng/mL; visit 2: 12 ng/mL")) << two.body;
  EXPECT_NE(std::string::npos, two.body.find("<figcaption>phq9"));
  EXPECT_NE(std::string::npos, two.body.find("id='whatif'"));
}

TEST_F(WebAppPages, ANewVisitStartsFromTheLatestOneOfOnesOwnPatient) {
  StoreSsriCase();
  json latest = json::parse(Example("ssri_5htp_request.json"));
  latest["extra"]["narrative"] = "</script><script>alert(1)</script>";
  ASSERT_EQ(201, PostCase(lee_, latest.dump()).status);
  HttpResponse form = Send("GET", "/app/cases/new", lee_.cookie, "", {}, {{"from", kSsriCase}});
  ASSERT_EQ(200, form.status);
  EXPECT_NE(std::string::npos, form.body.find("<h1>New visit of example-ssri-5htp-request</h1>"));
  EXPECT_NE(std::string::npos, form.body.find("Filled from visit 2"));
  // The latest version as the form's data, with nothing that could close its script element.
  const std::string data = Between(form.body, "<script type='application/json' id='prefill'>", "</script>");
  json carried = json::parse(data);
  EXPECT_EQ(latest["labs"], carried["labs"]);
  EXPECT_EQ(latest["extra"], carried["extra"]);
  EXPECT_EQ(std::string::npos, form.body.find("<script>alert(1)"));
  EXPECT_NE(std::string::npos, Send("GET", std::string("/app/cases/") + kSsriCase, lee_.cookie).body.find("/app/cases/new?from="));
  EXPECT_EQ(403, Send("GET", "/app/cases/new", SignIn("dr_kim").cookie, "", {}, {{"from", kSsriCase}}).status);
  EXPECT_EQ(403, Send("GET", "/app/cases/new", SignIn("rev_ann").cookie, "", {}, {{"from", kSsriCase}}).status);
  EXPECT_EQ(403, Send("GET", "/app/cases/new", lee_.cookie, "", {}, {{"from", "nobody"}}).status);
}

TEST_F(WebAppPages, AReviewerReadsARunReplaysItAndComparesTwoRuns) {
  StoreSsriCase();
  StoreSecondVisit();
  Visitor ann = SignIn("rev_ann");
  HttpResponse run = Send("GET", "/app/runs/1", ann.cookie);
  ASSERT_EQ(200, run.status);
  const std::string trace = audit::TraceToText(store_->GetRun(1)->trace);
  EXPECT_NE(std::string::npos, run.body.find(report::view::HtmlEscape(trace.substr(0, 200))));
  EXPECT_NE(std::string::npos, run.body.find("action='/app/runs/1/replay'"));
  EXPECT_NE(std::string::npos, run.body.find("<option value='2'>run-2"));
  EXPECT_EQ(std::string::npos, Send("GET", "/app/runs/1", lee_.cookie).body.find("/replay'"));  // not for practitioners
  // The run page is one of the app's pages (no framing, no inline script); only the report itself
  // carries its own inline style and print script and may be framed, by the app.
  EXPECT_NE(std::string::npos, run.headers.at("Content-Security-Policy").find("frame-ancestors 'none'"));
  EXPECT_NE(std::string::npos,
            Send("GET", "/app/runs/1/report", ann.cookie).headers.at("Content-Security-Policy").find("frame-ancestors 'self'"));

  HttpResponse replay = PostForm(ann, "/app/runs/1/replay", {});
  ASSERT_EQ(200, replay.status) << replay.body;
  EXPECT_NE(std::string::npos, replay.body.find("<strong>Identical</strong>"));
  EXPECT_EQ(403, PostForm(lee_, "/app/runs/1/replay", {}).status);
  EXPECT_EQ(404, PostForm(ann, "/app/runs/99/replay", {}).status);

  HttpResponse diff = Send("GET", "/app/runs/diff", ann.cookie, "", {}, {{"a", "1"}, {"b", "2"}});
  ASSERT_EQ(200, diff.status);
  auto a = store_->GetRun(1), b = store_->GetRun(2);
  const audit::EvaluationDiff expected = audit::DiffEvaluations(a->evaluation, a->trace, b->evaluation, b->trace, "run-1", "run-2");
  ASSERT_FALSE(expected.identical());
  EXPECT_NE(std::string::npos, diff.body.find("run-1 and run-2 differ"));
  for (const auto& id : expected.deficits.added) EXPECT_NE(std::string::npos, diff.body.find("<td>" + id + "</td>")) << id;
  for (const auto& change : expected.deficits.changed)
    EXPECT_NE(std::string::npos, diff.body.find("<td>" + change.id + "</td>")) << change.id;
  EXPECT_EQ(400, Send("GET", "/app/runs/diff", ann.cookie, "", {}, {{"a", "1"}}).status);
}

TEST_F(WebAppPages, TheAuditPageSaysWhetherTheChainVerifies) {
  StoreSsriCase();
  Visitor ann = SignIn("rev_ann");
  HttpResponse good = Send("GET", "/app/audit", ann.cookie);
  ASSERT_EQ(200, good.status);
  EXPECT_NE(std::string::npos, good.body.find("<strong>Verified</strong>"));
  EXPECT_NE(std::string::npos, good.body.find("<dt>Entries</dt><dd>" + std::to_string(store_->Verify()->entries) + "</dd>"));
  EXPECT_NE(std::string::npos, good.body.find(store_->Verify()->head_hash));
  {
    store::testing::RawConnection raw(temp_.path());
    raw.Exec("UPDATE runs SET engine_version = '0.0.9' WHERE id = 1");
  }
  HttpResponse bad = Send("GET", "/app/audit", ann.cookie);
  ASSERT_EQ(200, bad.status);
  EXPECT_NE(std::string::npos, bad.body.find("<strong>Not verified</strong>"));
  EXPECT_NE(std::string::npos, bad.body.find("run-1"));
}

TEST_F(WebAppPages, AnAdminUnlocksAddsAccountsAndGivesACaseAnOwner) {
  for (int i = 0; i < accounts::kMaxFailures; ++i) EXPECT_EQ(401, PostLogin("dr_kim", "nope").status);
  EXPECT_EQ(401, PostLogin("dr_kim", "a+long+secret+phrase").status);  // locked
  Visitor bo = SignIn("adm_bo");
  HttpResponse page = Send("GET", "/app/admin/accounts", bo.cookie);
  ASSERT_EQ(200, page.status);
  EXPECT_EQ(1u, Count(page.body, "<strong class='error'>locked</strong>"));
  HttpResponse unlocked = PostForm(bo, "/app/admin/accounts/dr_kim/unlock", {});
  ASSERT_EQ(200, unlocked.status);
  EXPECT_NE(std::string::npos, unlocked.body.find("Unlocked dr_kim."));
  EXPECT_EQ(0u, Count(unlocked.body, "<strong class='error'>locked</strong>"));
  EXPECT_EQ(303, PostLogin("dr_kim", "a+long+secret+phrase").status);
  auto events = store_->ListAccountEvents("dr_kim");
  ASSERT_TRUE(events.ok());
  const bool recorded = std::any_of(events->begin(), events->end(),
                                    [](const store::AccountEvent& e) { return e.event == "unlocked" && e.actor == "adm_bo"; });
  EXPECT_TRUE(recorded);
  EXPECT_EQ(404, PostForm(bo, "/app/admin/accounts/nobody/unlock", {}).status);

  HttpResponse added = PostForm(bo, "/app/admin/accounts", {{"name", "dr_new"}, {"role", "practitioner"}, {"password", kPassword}});
  ASSERT_EQ(200, added.status) << added.body;
  EXPECT_NE(std::string::npos, added.body.find("Added dr_new (practitioner)."));
  EXPECT_EQ(303, PostLogin("dr_new", "a+long+secret+phrase").status);
  HttpResponse short_password = PostForm(bo, "/app/admin/accounts", {{"name", "dr_x"}, {"role", "reviewer"}, {"password", "short"}});
  EXPECT_EQ(400, short_password.status);
  EXPECT_FALSE(store_->FindAccount("dr_x")->has_value());

  // A case stored from the command line has no owner until an admin gives it one; it stays.
  audit::CaseStoreOptions from_cli;
  from_cli.mode = audit::StoreMode::kAdd;
  from_cli.actor = "cli";
  ASSERT_TRUE(audit::StoreCase(nflux::testing::ShippedPipeline(), *store_, Example("perimenopause.json"), from_cli).ok());
  Visitor lee = SignIn("dr_lee");
  EXPECT_EQ(403, Send("GET", "/app/cases/clinic-2026-0142", lee.cookie).status);
  EXPECT_EQ(400, PostForm(bo, "/app/admin/owners", {{"case_id", "clinic-2026-0142"}, {"owner", "rev_ann"}}).status);
  EXPECT_EQ(404, PostForm(bo, "/app/admin/owners", {{"case_id", "no-such-case"}, {"owner", "dr_lee"}}).status);
  EXPECT_EQ(200, PostForm(bo, "/app/admin/owners", {{"case_id", "clinic-2026-0142"}, {"owner", "dr_lee"}}).status);
  EXPECT_EQ(200, Send("GET", "/app/cases/clinic-2026-0142", lee.cookie).status);
  EXPECT_EQ(400, PostForm(bo, "/app/admin/owners", {{"case_id", "clinic-2026-0142"}, {"owner", "dr_kim"}}).status);
  EXPECT_EQ(std::optional<std::string>("dr_lee"), *store_->CaseOwner("clinic-2026-0142"));
}

// The shipped rule files as an upload, optionally without one.
json RuleUpload(const std::string& left_out) {
  const pipeline::Pipeline& pipeline = nflux::testing::ShippedPipeline();
  json files = json::array();
  for (const auto& source : pipeline.sources().rules)
    if (source.name != left_out) files.push_back({{"name", "rules/" + source.name}, {"text", source.text}});
  return {{"files", files}};
}

TEST_F(WebAppPages, AnAuthorSeesTheImpactOfAnUploadedRuleFolder) {
  StoreSsriCase();
  Visitor cy = SignIn("au_cy");
  // The same rules: nothing changes.
  HttpResponse same = PostJson(cy, "/app/api/impact", RuleUpload("").dump());
  ASSERT_EQ(200, same.status) << same.body;
  EXPECT_EQ(1, json::parse(same.body)["cases"]);
  EXPECT_TRUE(json::parse(same.body)["changed"].empty());

  // Without one rule file: the answer is audit::Impact's for that rule set.
  const pipeline::Pipeline& current = nflux::testing::ShippedPipeline();
  const std::string left_out = current.sources().rules.front().name;
  HttpResponse without = PostJson(cy, "/app/api/impact", RuleUpload(left_out).dump());
  ASSERT_EQ(200, without.status) << without.body;
  pipeline::Sources sources = current.sources();
  sources.rules.erase(sources.rules.begin());
  auto changed = pipeline::Pipeline::OpenFromSources(sources);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  const audit::ImpactReport expected = audit::Impact(*audit::LatestCaseVersions(*store_), current, **changed, {.threads = 1});
  json got = json::parse(without.body);
  EXPECT_EQ(json::parse(audit::ImpactToJson(expected).dump())["changed"], got["changed"]);
  EXPECT_EQ(static_cast<int>(current.sources().rules.size()) - 1, got["rule_files"]);

  // A broken rule file: its errors name the file and line; golden cases in tests/ are not rules.
  json broken = RuleUpload("");
  broken["files"].push_back({{"name", "rules/zz_broken.rules"}, {"text", "rule oops {\n  when nonsense\n"}});
  broken["files"].push_back({{"name", "rules/tests/some_case.json"}, {"text", "{}"}});
  HttpResponse bad = PostJson(cy, "/app/api/impact", broken.dump());
  ASSERT_EQ(400, bad.status) << bad.body;
  EXPECT_NE(std::string::npos, bad.body.find("upload/zz_broken.rules:")) << bad.body;
  EXPECT_EQ(400, PostJson(cy, "/app/api/impact", R"({"files": []})").status);
  EXPECT_EQ(200, Send("GET", "/app/impact", cy.cookie).status);
}

// Every route against every role: what each may do, and a refusal everywhere else that shows no
// patient data.
TEST_F(WebAppPages, EveryRouteRefusesTheRolesThatMayNotUseIt) {
  StoreSsriCase();
  StoreSecondVisit();
  std::map<std::string, Visitor> who = {{"owner", lee_},          {"other", SignIn("dr_kim")}, {"reviewer", SignIn("rev_ann")},
                                        {"admin", SignIn("adm_bo")}, {"author", SignIn("au_cy")}};
  struct Route {
    std::string method, path;
    std::map<std::string, std::string> query;
    std::string body;                  // JSON for /app/api/, else form fields are none
    std::map<std::string, int> allowed;  // role -> status; every other role: 403
  };
  const std::string whatif = json{{"case_id", kSsriCase}, {"apply", {"cofactor_iron"}}}.dump();
  const std::vector<Route> routes = {
      {"GET", std::string("/app/cases/") + kSsriCase, {}, "", {{"owner", 200}, {"reviewer", 200}}},
      {"GET", "/app/runs/1", {}, "", {{"owner", 200}, {"reviewer", 200}}},
      {"GET", "/app/runs/1/report", {}, "", {{"owner", 200}, {"reviewer", 200}}},
      {"GET", "/app/runs/diff", {{"a", "1"}, {"b", "2"}}, "", {{"owner", 200}, {"reviewer", 200}}},
      {"POST", "/app/runs/1/replay", {}, "", {{"reviewer", 200}}},
      {"POST", "/app/api/whatif", {}, whatif, {{"owner", 200}, {"reviewer", 200}}},
      {"GET", "/app/cases/new", {}, "", {{"owner", 200}, {"other", 200}}},
      {"POST", "/app/api/cases", {}, "{}", {{"owner", 400}, {"other", 400}}},
      {"GET", "/app/audit", {}, "", {{"reviewer", 200}, {"admin", 200}}},
      {"GET", "/app/impact", {}, "", {{"author", 200}}},
      {"POST", "/app/api/impact", {}, "{}", {{"author", 400}}},
      {"GET", "/app/admin/accounts", {}, "", {{"admin", 200}}},
      {"POST", "/app/admin/accounts", {}, "", {{"admin", 400}}},
      {"POST", "/app/admin/accounts/dr_kim/unlock", {}, "", {{"admin", 200}}},
      {"POST", "/app/admin/owners", {}, "", {{"admin", 400}}},
  };
  for (const auto& route : routes)
    for (const auto& [role, v] : who) {
      HttpResponse answer;
      if (route.method == "GET")
        answer = Send("GET", route.path, v.cookie, "", {}, route.query);
      else if (route.path.starts_with("/app/api/"))
        answer = PostJson(v, route.path, route.body);
      else
        answer = PostForm(v, route.path, {});
      const auto it = route.allowed.find(role);
      const int expected = it == route.allowed.end() ? 403 : it->second;
      EXPECT_EQ(expected, answer.status) << route.method << " " << route.path << " as " << role << ": " << answer.body.substr(0, 300);
      if (expected == 403) {
        EXPECT_EQ(std::string::npos, answer.body.find("serotonin")) << route.path << " as " << role;
        EXPECT_EQ(std::string::npos, answer.body.find("ferritin")) << route.path << " as " << role;
      }
    }
  // The lists: practitioners and reviewers have one; authors and admins are told where to go.
  EXPECT_NE(std::string::npos, Send("GET", "/app/", who["reviewer"].cookie).body.find(kSsriCase));
  EXPECT_EQ(std::string::npos, Send("GET", "/app/", who["other"].cookie).body.find(kSsriCase));
  for (const char* role : {"admin", "author"}) {
    HttpResponse list = Send("GET", "/app/", who[role].cookie);
    EXPECT_EQ(200, list.status);
    EXPECT_EQ(std::string::npos, list.body.find(kSsriCase)) << role;
  }
}

TEST_F(WebAppPages, TheCaseListFiltersByTheAlertsOfTheLatestRun) {
  StoreSsriCase();
  ASSERT_EQ(201, PostCase(lee_, Example("perimenopause.json")).status);
  const json latest = store_->GetRun(1)->evaluation;
  ASSERT_FALSE(latest["alerts"].empty());
  const std::string alert = latest["alerts"][0]["id"];
  HttpResponse filtered = Send("GET", "/app/", lee_.cookie, "", {}, {{"alert", alert}});
  ASSERT_EQ(200, filtered.status);
  EXPECT_NE(std::string::npos, filtered.body.find(">" + std::string(kSsriCase) + "</a>"));
  const bool perimenopause_has_it = store_->GetRun(2)->evaluation["alerts"].dump().find("\"" + alert + "\"") != std::string::npos;
  EXPECT_EQ(perimenopause_has_it, filtered.body.find(">clinic-2026-0142</a>") != std::string::npos);
  EXPECT_NE(std::string::npos, filtered.body.find("<option value='" + alert + "' selected>"));
  HttpResponse none = Send("GET", "/app/", lee_.cookie, "", {}, {{"alert", "no_such_alert"}});
  EXPECT_NE(std::string::npos, none.body.find("No cases match."));
}

TEST_F(WebAppPages, TextFromRequestsIsRenderedInertOnEveryNewPage) {
  StoreSsriCase();
  const std::string hostile = "<script>alert(1)</script>";
  auto inert = [&](const HttpResponse& page, const std::string& where) {
    EXPECT_EQ(std::string::npos, page.body.find(hostile)) << where;
  };
  inert(Send("GET", "/app/", lee_.cookie, "", {}, {{"alert", hostile}}), "alert filter");
  Visitor bo = SignIn("adm_bo");
  inert(PostForm(bo, "/app/admin/accounts", {{"name", hostile}, {"role", "admin"}, {"password", kPassword}}), "account name");
  inert(PostForm(bo, "/app/admin/accounts", {{"name", "x"}, {"role", hostile}, {"password", kPassword}}), "role");
  inert(PostForm(bo, "/app/admin/owners", {{"case_id", hostile}, {"owner", "dr_lee"}}), "owner case id");
  inert(PostForm(bo, "/app/admin/owners", {{"case_id", kSsriCase}, {"owner", hostile}}), "owner name");
  inert(Send("GET", "/app/runs/diff", lee_.cookie, "", {}, {{"a", hostile}, {"b", "1"}}), "diff run");
  // A medication nobody knows, typed by the practitioner, in the report and on the pages.
  json c = json::parse(Example("ssri_5htp_request.json"));
  c["medications"].push_back({{"id", hostile}});
  ASSERT_EQ(201, PostCase(lee_, c.dump()).status);
  for (const char* path : {"/app/runs/2", "/app/runs/2/report"}) inert(Send("GET", path, lee_.cookie), path);
  Visitor ann = SignIn("rev_ann");
  inert(Send("GET", "/app/runs/diff", ann.cookie, "", {}, {{"a", "1"}, {"b", "2"}}), "diff");
}

}  // namespace
}  // namespace nflux::webapp
