// TraceOf and TraceToText: a stored trace, whole or one rule.
#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_support.h"
#include "golden/golden.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::audit {
namespace {

using nlohmann::ordered_json;

ordered_json StoredTrace() {
  return testing::EvaluateForStore(testing::ShippedPipeline(), testing::GoldenCaseText("flux_model_iron_b6_serotonin"),
                                   {}, "run-1")
      .trace;
}

TEST(AuditTrace, WholeOrOneRule) {
  ordered_json trace = StoredTrace();
  auto whole = TraceOf(trace, "");
  ASSERT_OK(whole);
  EXPECT_EQ(*whole, trace);
  auto one = TraceOf(trace, "iron_deficiency_from_ferritin");
  ASSERT_OK(one);
  ASSERT_EQ((*one)["rules"].size(), 1u);
  EXPECT_EQ((*one)["rules"][0]["rule"], "iron_deficiency_from_ferritin");
  EXPECT_EQ((*one)["considered"], trace["considered"]);
  auto missing = TraceOf(trace, "no_such_rule");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_rule"), std::string::npos);
}

TEST(AuditTrace, Text) {
  auto one = TraceOf(StoredTrace(), "iron_deficiency_from_ferritin");
  ASSERT_OK(one);
  std::string text = TraceToText(*one);
  std::string order = (*one)["rules"][0]["order"].dump();
  EXPECT_NE(text.find("\nrule iron_deficiency_from_ferritin (drivers.rules:10) fired #" + order + ", true, strength 1.0\n"
                      "  Ferritin below its iron-deficiency limit: iron deficiency\n"
                      "  [true] lab ferritin is below_limit: "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  -> driver iron_deficiency 0.85\n"), std::string::npos) << text;
}

// The trace is written as text (what the store keeps): it must be exactly the DOM's dump, keys
// sorted, numbers as nlohmann writes them, "order" and "clinical" only on fired rules.
TEST(AuditTrace, EveryGoldenCaseTraceIsWrittenAsItsDomWouldDumpIt) {
  auto names = golden::FindCases(NFLUX_SOURCE_DIR "/rules/tests");
  ASSERT_OK(names);
  ASSERT_GT(names->size(), 100u);
  size_t fired = 0, unfired = 0;
  for (const auto& golden : *names) {
    SCOPED_TRACE(golden);
    auto evaluated = testing::ShippedPipeline().Evaluate(testing::GoldenCaseText(golden), {});
    ASSERT_OK(evaluated);
    const inference::Trace& trace = evaluated->evaluation.trace;
    const std::string text = trace.ToJsonText();
    const nlohmann::json dom = nlohmann::json::parse(text);
    ASSERT_EQ(dom.dump(), text);
    ASSERT_EQ(dom["rules"].size(), trace.rules.size());
    EXPECT_EQ(dom["considered"], trace.considered);
    for (size_t i = 0; i < trace.rules.size(); ++i) {
      const nlohmann::json& rule = dom["rules"][i];
      EXPECT_EQ(rule["rule"], trace.rules[i].rule);
      EXPECT_EQ(rule["tests"].size(), trace.rules[i].tests.size());
      EXPECT_EQ(rule["contributions"].size(), trace.rules[i].contributions.size());
      EXPECT_EQ(rule.contains("order"), trace.rules[i].fired);
      EXPECT_EQ(rule.contains("clinical"), trace.rules[i].fired);
      ++(trace.rules[i].fired ? fired : unfired);
    }
  }
  EXPECT_GT(fired, 100u);
  EXPECT_GT(unfired, 100u);
}

TEST(AuditTrace, AStoppedRunSaysSoInItsTrace) {
  inference::Trace trace;
  trace.stopped = "run limit 3 reached \"quoted\"";
  EXPECT_EQ(trace.ToJsonText(), R"({"considered":0,"firings":0,"rules":[],"stopped":"run limit 3 reached \"quoted\""})");
}

}  // namespace
}  // namespace nflux::audit
