// Impact: a rule base with one rule deleted changes exactly the cases that rule fires for.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_support.h"
#include "golden/golden.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::audit {
namespace {

namespace fs = std::filesystem;
using testing::ShippedPipeline;

// The shipped rules copied to a temporary folder with `edit` applied to drivers.rules.
std::string ChangedRules(const std::string& name, const std::function<std::string(std::string)>& edit) {
  fs::path dir = fs::temp_directory_path() / ("nflux_audit_impact_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(NFLUX_SOURCE_DIR "/rules"))
    if (entry.path().extension() == ".rules") fs::copy_file(entry.path(), dir / entry.path().filename());
  std::ifstream in(dir / "drivers.rules");
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::string edited = edit(text.str());
  EXPECT_NE(edited, text.str());
  std::ofstream(dir / "drivers.rules") << edited;
  return dir.string();
}

std::unique_ptr<pipeline::Pipeline> Open(const std::string& rules_dir) {
  pipeline::Options options;
  options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
  options.rules_dir = rules_dir;
  auto opened = pipeline::Pipeline::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().message();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::vector<store::CaseVersion> Handful() {
  std::vector<store::CaseVersion> cases;
  // Two that fire iron_deficiency_from_ferritin (their golden cases cover it), three that do not.
  for (const char* golden : {"healthy_control_male", "iron_deficiency", "alcohol_low_b6", "hc_fit_man_30",
                             "flux_model_iron_b6_serotonin"})
    cases.push_back({golden, 1, "", "", testing::GoldenCaseText(golden), "", ""});
  return cases;
}

std::vector<std::string> Ids(const ImpactReport& report) {
  std::vector<std::string> ids;
  for (const auto& item : report.changed) ids.push_back(item.case_id);
  for (const auto& item : report.failed) ids.push_back(item.case_id + " (failed)");
  return ids;
}

TEST(AuditImpact, UnchangedRulesChangeNothing) {
  ImpactReport report = Impact(Handful(), ShippedPipeline(), ShippedPipeline(), {.threads = 2});
  EXPECT_EQ(report.cases, 5);
  EXPECT_TRUE(report.changed.empty()) << ImpactToText(report);
  EXPECT_EQ(ImpactToText(report), "impact: 5 case(s) evaluated, 0 would change\n");
}

TEST(AuditImpact, ADeletedRuleChangesExactlyTheCasesItFiresFor) {
  std::string dir = ChangedRules("deleted", [](std::string text) {
    return std::regex_replace(text, std::regex(R"(rule iron_deficiency_from_ferritin [\s\S]*?\nend\n)"), "");
  });
  auto changed = Open(dir);
  ASSERT_NE(changed, nullptr);
  ImpactReport one = Impact(Handful(), ShippedPipeline(), *changed, {.threads = 1});
  EXPECT_EQ(Ids(one), (std::vector<std::string>{"flux_model_iron_b6_serotonin", "iron_deficiency"}))
      << ImpactToText(one);
  ImpactReport four = Impact(Handful(), ShippedPipeline(), *changed, {.threads = 4});
  EXPECT_EQ(ImpactToJson(four), ImpactToJson(one));
  EXPECT_EQ(ImpactToText(four), ImpactToText(one));
  // Each with its change: less serotonin synthesis deficit without the iron deficiency behind it.
  for (const auto& item : one.changed) {
    SCOPED_TRACE(item.case_id);
    const Change* serotonin = nullptr;
    for (const auto& change : item.change.deficits.changed)
      if (change.id == "serotonin_synthesis" && change.field == "certainty") serotonin = &change;
    ASSERT_NE(serotonin, nullptr) << ImpactToText(one);
    EXPECT_LT(serotonin->after.get<double>(), serotonin->before.get<double>());
  }
  // Ferritin was its only sign of iron deficiency: iron repletion is no longer suggested.
  EXPECT_EQ(one.changed[0].change.strategies.removed, std::vector<std::string>{"cofactor_iron"});
}

TEST(AuditImpact, ALowerRuleCertaintyShowsTheDeficitChanges) {
  std::string dir = ChangedRules("certainty", [](std::string text) {
    return std::regex_replace(text, std::regex(R"(conclude driver iron_deficiency weight 0\.85)"),
                              "conclude driver iron_deficiency weight 0.3");
  });
  auto changed = Open(dir);
  ASSERT_NE(changed, nullptr);
  ImpactReport report = Impact(Handful(), ShippedPipeline(), *changed, {.threads = 2});
  EXPECT_EQ(Ids(report), (std::vector<std::string>{"flux_model_iron_b6_serotonin", "iron_deficiency"}))
      << ImpactToText(report);
}

TEST(AuditImpact, ACaseThatFailsIsListedWithItsError) {
  std::vector<store::CaseVersion> cases = Handful();
  cases.push_back({"broken", 3, "", "", "{\"patient\": {}}", "", ""});
  ImpactReport report = Impact(cases, ShippedPipeline(), ShippedPipeline(), {.threads = 2});
  EXPECT_TRUE(report.changed.empty());
  ASSERT_EQ(report.failed.size(), 1u);
  EXPECT_EQ(report.failed[0].case_id, "broken");
  EXPECT_TRUE(report.failed[0].error.starts_with("current: case broken version 3: ")) << report.failed[0].error;
  EXPECT_EQ(ImpactToJson(report)["failed"][0]["error"], report.failed[0].error);
  EXPECT_TRUE(ImpactToText(report).starts_with("impact: 6 case(s) evaluated, 0 would change, 1 failed\n"))
      << ImpactToText(report);
}

// The golden expectation a case would be given (golden::Snapshot, covers left out) under `pipeline`.
std::string SnapshotUnder(const pipeline::Pipeline& pipeline, const store::CaseVersion& version) {
  std::ifstream in(std::string(NFLUX_SOURCE_DIR "/rules/tests/") + version.case_id + ".expect.json");
  std::stringstream text;
  text << in.rdbuf();
  auto expectation = golden::ParseExpectation(text.str(), version.case_id);
  EXPECT_TRUE(expectation.ok()) << expectation.status().message();
  auto evaluated = pipeline.Evaluate(version.submitted, {});
  EXPECT_TRUE(evaluated.ok()) << evaluated.status().message();
  if (!expectation.ok() || !evaluated.ok()) return "";
  return golden::Snapshot(*expectation, evaluated->evaluation, {}).dump();
}

TEST(AuditImpact, ListsExactlyTheGoldenCasesWhoseExpectationsWouldChange) {
  auto names = golden::FindCases(NFLUX_SOURCE_DIR "/rules/tests");
  ASSERT_OK(names);
  std::vector<store::CaseVersion> cases;
  for (const auto& name : *names) cases.push_back({name, 1, "", "", testing::GoldenCaseText(name), "", ""});
  std::string dir = ChangedRules("golden", [](std::string text) {
    return std::regex_replace(text, std::regex(R"(conclude driver iron_deficiency weight 0\.85)"),
                              "conclude driver iron_deficiency weight 0.6");
  });
  auto changed = Open(dir);
  ASSERT_NE(changed, nullptr);
  std::vector<std::string> expected;
  for (const auto& version : cases)
    if (SnapshotUnder(ShippedPipeline(), version) != SnapshotUnder(*changed, version)) expected.push_back(version.case_id);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Ids(Impact(cases, ShippedPipeline(), *changed, {.threads = 2})), expected);
}

}  // namespace
}  // namespace nflux::audit
