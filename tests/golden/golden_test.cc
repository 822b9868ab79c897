#include "golden/golden.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "base/text.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::golden {
namespace {

namespace fs = std::filesystem;

// One shipped pipeline per test binary (tests/safety/safety_test_support.h).
const pipeline::Pipeline& Shipped() { return nflux::testing::ShippedPipeline(); }

// A folder holding the ssri_5htp_request example as golden case "ssri" with `expect` as its expectation.
class GoldenDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("nflux_golden_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy_file(NFLUX_SOURCE_DIR "/examples/ssri_5htp_request.json", dir_ + "/ssri.case.json");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Expect(const std::string& text) { std::ofstream(dir_ + "/ssri.expect.json") << text; }
  // The complete expectation of the case as it evaluates now.
  nlohmann::ordered_json Actual() {
    Expect("{}");
    CaseRun run = RunCase(Shipped(), dir_, "ssri");
    EXPECT_TRUE(run.evaluation.has_value());
    return Snapshot(*run.expectation, *run.evaluation, run.fired);
  }
  std::string dir_;
};

TEST_F(GoldenDir, SnapshotPassesAndNamesEveryAlert) {
  nlohmann::ordered_json actual = Actual();
  ASSERT_FALSE(actual["alerts"].empty());
  ASSERT_FALSE(actual["covers"].empty());
  Expect(actual.dump(2));
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  EXPECT_TRUE(run.passed()) << ::testing::PrintToString(run.failures);
}

TEST_F(GoldenDir, ExtraAndMissingResultsFail) {
  nlohmann::ordered_json expect = Actual();
  std::string dropped = expect["alerts"][0]["id"].get<std::string>();
  expect["alerts"].erase(0);
  expect["alerts"].push_back("data_quality_warning");
  expect["blocked_strategies"].push_back("cofactor_iron");
  expect["covers"].push_back("low_morning_cortisol_red_flag");
  Expect(expect.dump(2));
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  EXPECT_EQ((std::vector<std::string>{"alert data_quality_warning: expected, missing",
                                      "alert " + dropped + ": not expected, but present",
                                      "blocked strategy cofactor_iron: expected, missing",
                                      "covered rule low_morning_cortisol_red_flag: did not fire"}),
            run.failures);
}

TEST_F(GoldenDir, DeficitOutsideItsPinnedCertaintyFails) {
  nlohmann::ordered_json expect = Actual();
  ASSERT_FALSE(expect["deficits"].empty());
  double certainty = expect["deficits"][0]["certainty"].get<double>();
  expect["deficits"][0]["certainty"] = certainty + 0.05;
  Expect(expect.dump(2));
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  ASSERT_EQ(1u, run.failures.size());
  EXPECT_NE(std::string::npos, run.failures[0].find("outside")) << run.failures[0];
  expect["deficits"][0]["tolerance"] = 0.06;
  Expect(expect.dump(2));
  EXPECT_TRUE(RunCase(Shipped(), dir_, "ssri").passed());
}

TEST_F(GoldenDir, OldFormatStillChecksAndUpdateMigratesIt) {
  Expect(R"({"description": "blocked", "must_include": {"strategies": ["precursor_5htp"]}})");
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  EXPECT_EQ((std::vector<std::string>{"strategy precursor_5htp: blocked by safety"}), run.failures);
  auto changes = Update(dir_, run);
  ASSERT_OK(changes);
  EXPECT_EQ("migrated to the complete format", changes->at(0));
  EXPECT_TRUE(run.passed()) << ::testing::PrintToString(run.failures);
  CaseRun again = RunCase(Shipped(), dir_, "ssri");
  EXPECT_TRUE(again.passed()) << ::testing::PrintToString(again.failures);
  EXPECT_EQ("blocked", again.expectation->description);
  EXPECT_TRUE(again.expectation->complete.has_value());
  EXPECT_FALSE(again.expectation->partial.has_value());
}

TEST_F(GoldenDir, RequestedSupplementVerdictsAreCheckedCompletely) {
  nlohmann::ordered_json expect = Actual();
  ASSERT_EQ((nlohmann::ordered_json::parse(R"([{"id": "precursor_5htp", "verdict": "blocked"}])")),
            expect["requested_supplements"]);
  expect["requested_supplements"][0]["verdict"] = "acceptable";
  expect["requested_supplements"].push_back({{"id", "st_johns_wort"}, {"verdict", "blocked"}});
  Expect(expect.dump(2));
  EXPECT_EQ((std::vector<std::string>{"requested supplement st_johns_wort: expected, missing",
                                      "requested supplement precursor_5htp: verdict blocked, expected acceptable"}),
            RunCase(Shipped(), dir_, "ssri").failures);
  expect.erase("requested_supplements");  // absent: none expected, so the actual one is spurious
  Expect(expect.dump(2));
  EXPECT_EQ((std::vector<std::string>{"requested supplement precursor_5htp: not expected, but present"}),
            RunCase(Shipped(), dir_, "ssri").failures);
}

TEST(GoldenCheck, ASpuriousRequestedVerdictFails) {
  auto expect = ParseExpectation(
      R"({"alerts": [], "strategies": [], "blocked_strategies": [], "deficits": [],
          "requested_supplements": [{"id": "a", "verdict": "acceptable_with_caution"}]})", "e");
  ASSERT_OK(expect);
  inference::Evaluation evaluation;
  evaluation.requested.resize(1);
  evaluation.requested[0].id = "a";
  evaluation.requested[0].verdict = inference::Verdict::kCaution;
  EXPECT_TRUE(Check(*expect, evaluation, {}).empty());
  evaluation.requested.push_back(evaluation.requested[0]);
  evaluation.requested[1].id = "b";
  evaluation.requested[1].verdict = inference::Verdict::kAcceptable;
  EXPECT_EQ((std::vector<std::string>{"requested supplement b: not expected, but present"}), Check(*expect, evaluation, {}));
}

TEST_F(GoldenDir, AlertSeverityIsCheckedWhenWritten) {
  nlohmann::ordered_json expect = Actual();
  ASSERT_FALSE(expect["alerts"].empty());
  ASSERT_TRUE(expect["alerts"][0].is_object());  // the snapshot writes {"id", "severity"}
  std::string id = expect["alerts"][0]["id"].get<std::string>();
  std::string actual = expect["alerts"][0]["severity"].get<std::string>();
  std::string wrong = actual == "caution" ? "high" : "caution";
  expect["alerts"][0]["severity"] = wrong;
  Expect(expect.dump(2));
  EXPECT_EQ((std::vector<std::string>{"alert " + id + ": severity " + actual + ", expected " + wrong}),
            RunCase(Shipped(), dir_, "ssri").failures);
  expect["alerts"][0] = id;  // a plain id (older files) still loads; its severity is not checked
  Expect(expect.dump(2));
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  EXPECT_TRUE(run.passed()) << ::testing::PrintToString(run.failures);
  EXPECT_FALSE(run.expectation->complete->alerts[0].severity.has_value());
}

TEST_F(GoldenDir, UpdateStatesSeveritiesAndRequestedVerdictsAsAdditionsOnly) {
  nlohmann::ordered_json expect = Actual();
  for (auto& alert : expect["alerts"]) alert = alert["id"];
  size_t alerts = expect["alerts"].size();
  expect.erase("requested_supplements");
  Expect(expect.dump(2));
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  auto changes = Update(dir_, run);
  ASSERT_OK(changes);
  EXPECT_EQ((std::vector<std::string>{"+ requested supplement precursor_5htp (blocked)",
                                      "severity stated for " + std::to_string(alerts) + " alert(s)"}),
            *changes);
  EXPECT_TRUE(RunCase(Shipped(), dir_, "ssri").passed());
}

TEST(GoldenParse, SeverityAndVerdictMustBeKnownWords) {
  auto parsed = ParseExpectation(
      R"({"alerts": [{"id": "a", "severity": "severe"}, {"id": "b"}], "strategies": [],
          "blocked_strategies": [], "deficits": [], "requested_supplements": [{"id": "x", "verdict": "ok"}]})",
      "e.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ("e.json: /alerts/0/severity: expected urgent, high, caution or info\n"
            "e.json: /alerts/1: expected an alert id or {\"id\": ..., \"severity\": ...}\n"
            "e.json: /requested_supplements/0/verdict: expected acceptable, acceptable_with_caution or blocked",
            parsed.status().message());
}

// The ranking is part of the result: the same strategies in another order fail.
TEST(GoldenCheck, StrategyOrderIsChecked) {
  auto expect = ParseExpectation(
      R"({"alerts": [], "blocked_strategies": [], "deficits": [],
          "strategies": [{"id": "a", "verdict": "acceptable"}, {"id": "b", "verdict": "acceptable"}]})", "e");
  ASSERT_OK(expect);
  inference::Evaluation evaluation;
  evaluation.strategies.resize(2);
  evaluation.strategies[0].id = "a";
  evaluation.strategies[1].id = "b";
  EXPECT_TRUE(Check(*expect, evaluation, {}).empty());
  std::swap(evaluation.strategies[0], evaluation.strategies[1]);
  EXPECT_EQ((std::vector<std::string>{"strategy order: b, a; expected a, b"}), Check(*expect, evaluation, {}));
}

TEST(GoldenCheck, AnAlertRaisedTwiceWhereOnceIsExpectedFails) {
  auto expect = ParseExpectation(R"({"alerts": ["a"], "strategies": [], "blocked_strategies": [], "deficits": []})", "e");
  ASSERT_OK(expect);
  inference::Evaluation evaluation;
  evaluation.alerts.resize(1);
  evaluation.alerts[0].id = "a";
  EXPECT_TRUE(Check(*expect, evaluation, {}).empty());
  evaluation.alerts.push_back(evaluation.alerts[0]);
  EXPECT_EQ((std::vector<std::string>{"alert a: present 2 times, expected 1"}), Check(*expect, evaluation, {}));
}

// Every id of an expectation must exist: a misspelt must_not_include id would make its check pass
// for ever, so it fails with the file, the JSON path and the nearest ids.
TEST_F(GoldenDir, MisspeltIdsFailWithPathAndNearestIds) {
  nlohmann::ordered_json expect = Actual();
  expect["must_not_include"] = {{"deficits", {"gaba_tonne"}}};
  expect["clinician"] = {{"not_strategies", {"cofactor_irn"}}};
  expect["covers"].push_back("no_such_rule_at_all");
  Expect(expect.dump(2));
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  const std::string file = dir_ + "/ssri.expect.json:";
  EXPECT_EQ((std::vector<std::string>{
                file + "/covers/" + std::to_string(expect["covers"].size() - 1) +
                    ": unknown rule 'no_such_rule_at_all'",
                file + "/clinician/not_strategies/0: unknown strategy 'cofactor_irn' (nearest: cofactor_iron, cofactor_b12, cofactor_b6)",
                file + "/must_not_include/deficits/0: unknown deficit 'gaba_tonne' (nearest: gaba_tone)",
                "covered rule no_such_rule_at_all: did not fire"}),
            run.failures);
  // --update keeps the ids as written, so the file still fails.
  ASSERT_OK(Update(dir_, run));
  EXPECT_EQ(4u, run.failures.size()) << ::testing::PrintToString(run.failures);
}

// An expectation with no result yet (a new case) fails until --update fills it in, and --update
// keeps case_kind and the clinician block.
TEST_F(GoldenDir, UpdateFillsInTheResultAndKeepsClinicianAndCaseKind) {
  Expect(R"({"description": "new", "case_kind": "mixed",
             "clinician": {"alerts": ["serotonin_syndrome_risk"], "not_strategies": ["precursor_5htp"]}})");
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  EXPECT_EQ((std::vector<std::string>{"no expected result: run nflux rules test --update"}), run.failures);
  auto changes = Update(dir_, run);
  ASSERT_OK(changes);
  EXPECT_EQ("complete result filled in", changes->at(0));
  CaseRun again = RunCase(Shipped(), dir_, "ssri");
  EXPECT_TRUE(again.passed()) << ::testing::PrintToString(again.failures);
  ASSERT_TRUE(again.expectation->clinician.has_value());
  EXPECT_EQ(std::vector<std::string>{"precursor_5htp"}, again.expectation->clinician->not_strategies);
  EXPECT_EQ(CaseKind::kMixed, again.expectation->case_kind);
  EXPECT_TRUE(again.expectation->complete.has_value());
}

// An evaluation for the clinician and case_kind checks: deficits a 0.6, b 0.3, c 0.55, d 0.9, f 0.5;
// driver iron; alert x; strategies s1 then s2.
inference::Evaluation ClinicianEvaluation() {
  inference::Evaluation evaluation;
  for (const auto& [id, certainty] : std::map<std::string, double>{{"a", 0.6}, {"b", 0.3}, {"c", 0.55}, {"d", 0.9}, {"f", 0.5}})
    evaluation.deficits[id].certainty = certainty;
  evaluation.drivers["iron"].certainty = 0.8;
  evaluation.alerts.resize(1);
  evaluation.alerts[0].id = "x";
  evaluation.strategies.resize(2);
  evaluation.strategies[0].id = "s1";
  evaluation.strategies[1].id = "s2";
  return evaluation;
}

std::vector<std::string> CheckWith(const std::string& extra) {
  auto expect = ParseExpectation(R"({"alerts": ["x"], "strategies": [{"id": "s1", "verdict": "acceptable"},
      {"id": "s2", "verdict": "acceptable"}], "blocked_strategies": [], "drivers": ["iron"],
      "deficits": [{"id": "a", "min": 0, "max": 1}, {"id": "b", "min": 0, "max": 1}, {"id": "c", "min": 0, "max": 1},
                   {"id": "d", "min": 0, "max": 1}, {"id": "f", "min": 0, "max": 1}])" + extra + "}", "e");
  EXPECT_OK(expect);
  return expect.ok() ? Check(*expect, ClinicianEvaluation(), {}) : std::vector<std::string>{"did not parse"};
}

TEST(GoldenCheck, EachClinicianKeyCanFail) {
  const std::string passing = R"(, "clinician": {"deficits": ["b"], "not_deficits": ["e"], "drivers": ["iron"],
      "not_drivers": ["b12"], "alerts": ["x"], "not_alerts": ["y"], "not_strategies": ["s3"],
      "ranked_before": [["s1", "s2"]]})";
  EXPECT_EQ(std::vector<std::string>{}, CheckWith(passing));
  const std::pair<const char*, const char*> kFailing[] = {
      {R"("deficits": ["e"])", "clinician deficit e: certainty 0 < 0.2"},
      {R"("not_deficits": ["b"])", "clinician not_deficit b: certainty 0.3 >= 0.2"},
      {R"("drivers": ["b12"])", "clinician driver b12: not concluded"},
      {R"("not_drivers": ["iron"])", "clinician not_driver iron: concluded, certainty 0.8"},
      {R"("alerts": ["y"])", "clinician alert y: not raised"},
      {R"("not_alerts": ["x"])", "clinician not_alert x: raised"},
      {R"("not_strategies": ["s2"])", "clinician not_strategy s2: suggested"},
      {R"("ranked_before": [["s2", "s1"]])", "clinician ranked_before s2 > s1: s2 ranks 2, s1 ranks 1"},
      {R"("ranked_before": [["s1", "s3"]])", "clinician ranked_before s1 > s3: s3 not suggested"},
  };
  for (const auto& [block, failure] : kFailing)
    EXPECT_EQ(std::vector<std::string>{failure}, CheckWith(std::string(R"(, "clinician": {)") + block + "}"));
}

TEST(GoldenCheck, CaseKindLimits) {
  EXPECT_EQ(std::vector<std::string>{}, CheckWith(R"(, "case_kind": "mixed")"));
  EXPECT_EQ((std::vector<std::string>{"case_kind single_issue: 4 deficits >= 0.5 (a, c, d, f), at most 3"}),
            CheckWith(R"(, "case_kind": "single_issue")"));
  EXPECT_EQ(5u, CheckWith(R"(, "case_kind": "healthy_control")").size());
  EXPECT_EQ("case_kind healthy_control: deficit b certainty 0.3 >= 0.2",
            CheckWith(R"(, "case_kind": "healthy_control")").at(1));
}

TEST(GoldenParse, ClinicianAndCaseKindProblemsNameThePath) {
  auto bad = ParseExpectation(R"({"case_kind": "healthy", "clinician": {"deficit": ["a"], "ranked_before": [["a"]]}})",
                              "e.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ("e.json: /case_kind: expected healthy_control, single_issue or mixed\n"
            "e.json: /clinician/deficit: unknown key (did you mean 'deficits', 'not_deficits'?)\n"
            "e.json: /clinician/ranked_before/0: expected [first, second]: two strategy ids",
            bad.status().message());
}

TEST_F(GoldenDir, UpdateKeepsBandsThatHoldAndTolerances) {
  nlohmann::ordered_json expect = Actual();
  ASSERT_GE(expect["deficits"].size(), 1u);
  std::string id = expect["deficits"][0]["id"].get<std::string>();
  expect["deficits"][0] = {{"id", id}, {"min", 0.0}, {"max", 1.0}};
  Expect(expect.dump(2));
  CaseRun run = RunCase(Shipped(), dir_, "ssri");
  ASSERT_OK(Update(dir_, run));
  ASSERT_FALSE(run.expectation->complete->deficits.empty());
  EXPECT_EQ(id, run.expectation->complete->deficits[0].id);
  EXPECT_EQ(0.0, run.expectation->complete->deficits[0].min);
  EXPECT_EQ(1.0, run.expectation->complete->deficits[0].max);
  EXPECT_FALSE(run.expectation->complete->deficits[0].tolerance.has_value());
}

TEST(GoldenParse, DuplicateKeyIsRejected) {
  auto parsed = ParseExpectation(R"({"alerts": [], "alerts": ["a"], "strategies": [], "blocked_strategies": [], "deficits": []})",
                                 "e.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ("e.json: /alerts: duplicate key 'alerts': the earlier value would be lost", parsed.status().message());
}

TEST(GoldenParse, ProblemsNameTheJsonPath) {
  auto parsed = ParseExpectation(R"({"alerts": [], "strategies": [{"id": "x"}], "deficitz": []})", "e.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ("e.json: /deficitz: unknown key (did you mean 'deficits'?)\n"
            "e.json: /blocked_strategies: missing: a complete expectation lists every blocked_strategies (or [])\n"
            "e.json: /deficits: missing: a complete expectation lists every deficits (or [])\n"
            "e.json: /strategies/0: expected {\"id\": ..., \"verdict\": ...}",
            parsed.status().message());
  auto band = ParseExpectation(
      R"({"alerts": [], "strategies": [], "blocked_strategies": [], "deficits": [{"id": "d", "min": 0.4, "max": 0.6}]})", "e");
  ASSERT_OK(band);
  EXPECT_EQ(0.4, band->complete->deficits[0].min);
  EXPECT_EQ(0.6, band->complete->deficits[0].max);
}

TEST(GoldenCoverage, SummaryAndFloor) {
  const rules::RuleBase& rule_base = Shipped().rule_base();
  Coverage coverage = CoverageOf(rule_base, {rule_base.rules[0].id, "not_a_rule"});
  EXPECT_EQ(1u, coverage.fired);
  EXPECT_EQ(rule_base.rules.size(), coverage.total);
  EXPECT_EQ(rule_base.rules.size() - 1, coverage.unfired.size());
  Coverage half;
  half.fired = 175;
  half.total = 252;
  EXPECT_EQ("coverage: 175/252 rules (69.4%)", half.Summary());

  std::string path = (fs::temp_directory_path() / ("nflux_floor_" + std::to_string(::getpid()))).string();
  auto missing = ReadCoverageFloor(path);
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
  std::ofstream(path) << "69.4\n";
  auto floor = ReadCoverageFloor(path);
  ASSERT_OK(floor);
  EXPECT_EQ(69.4, **floor);
  std::ofstream(path) << "lots";
  EXPECT_FALSE(ReadCoverageFloor(path).ok());
  fs::remove(path);
}

TEST_F(GoldenDir, FloorFailureComparesCoverageWithTheFloorFile) {
  Coverage coverage;
  coverage.fired = 175;
  coverage.total = 252;
  EXPECT_EQ("", FloorFailure(dir_, coverage));  // no floor file
  std::ofstream(dir_ + "/coverage_floor.txt") << "69.4\n";
  EXPECT_EQ("", FloorFailure(dir_, coverage));  // 69.44% holds
  std::ofstream(dir_ + "/coverage_floor.txt") << "70\n";
  EXPECT_EQ("coverage: 175/252 rules (69.4%) is below the floor 70% (" + dir_ + "/coverage_floor.txt)",
            FloorFailure(dir_, coverage));
  std::ofstream(dir_ + "/coverage_floor.txt") << "lots";
  EXPECT_EQ(dir_ + "/coverage_floor.txt: expected one number, the coverage floor in percent", FloorFailure(dir_, coverage));
}

// examples/: plain cases NAME.json, expectations in expected/NAME.expect.json. A case without an
// expectation asks for --update, which writes the first one (and its folder). Every .json file
// of the folder is a case (a stray x.case.json is the case "x.case"); the expected/ folder is not.
TEST_F(GoldenDir, ExamplesLayoutReadsPlainCasesAndWritesTheirFirstExpectation) {
  fs::copy_file(NFLUX_SOURCE_DIR "/examples/ssri_5htp_request.json", dir_ + "/ssri_example.json");
  const Layout layout = ExamplesLayout(dir_);
  EXPECT_EQ(dir_ + "/ssri_example.json", layout.CasePath("ssri_example"));
  EXPECT_EQ(dir_ + "/expected/ssri_example.expect.json", layout.ExpectPath("ssri_example"));
  EXPECT_EQ(dir_ + "/expected/ssri_example.expect.json", ExamplesLayout(dir_ + "/").ExpectPath("ssri_example"));
  auto names = FindCases(layout);
  ASSERT_OK(names);
  EXPECT_EQ((std::vector<std::string>{"ssri.case", "ssri_example"}), *names);
  auto golden_names = FindCases(dir_);
  ASSERT_OK(golden_names);
  EXPECT_EQ((std::vector<std::string>{"ssri"}), *golden_names);

  CaseRun run = RunCase(Shipped(), layout, "ssri_example");
  EXPECT_EQ((std::vector<std::string>{"no expected result: run nflux rules test --update"}), run.failures);
  ASSERT_OK(Update(layout, run));
  EXPECT_TRUE(fs::exists(dir_ + "/expected/ssri_example.expect.json"));
  EXPECT_FALSE(fs::exists(dir_ + "/ssri_example.expect.json"));
  CaseRun again = RunCase(Shipped(), layout, "ssri_example");
  EXPECT_TRUE(again.passed()) << ::testing::PrintToString(again.failures);
  ASSERT_FALSE(again.expectation->complete->alerts.empty());
  EXPECT_EQ("serotonin_syndrome_risk", again.expectation->complete->alerts[0].id);
}

}  // namespace
}  // namespace nflux::golden
