// TraceOf and TraceToText: a stored trace, whole or one rule.
#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_support.h"
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

}  // namespace
}  // namespace nflux::audit
