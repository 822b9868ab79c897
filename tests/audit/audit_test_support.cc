#include "audit/audit_test_support.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace nflux::testing {

std::string GoldenCaseText(const std::string& name) {
  std::ifstream in(std::string(NFLUX_SOURCE_DIR "/rules/tests/") + name + ".case.json");
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

StoredEvaluation EvaluateForStore(const pipeline::Pipeline& pipeline, const std::string& text,
                                  const pipeline::EvaluationOptions& options, const std::string& trace_id) {
  auto evaluated = pipeline.Evaluate(text, options);
  EXPECT_TRUE(evaluated.ok()) << evaluated.status().message();
  if (!evaluated.ok()) return {};
  StoredEvaluation out{pipeline.ReportJson(*evaluated), evaluated->evaluation.trace.ToJson()};
  out.evaluation["trace_id"] = trace_id;
  return out;
}

}  // namespace nflux::testing
