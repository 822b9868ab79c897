// The whole evaluate path through the pipeline facade on the shipped knowledge and rules: parse,
// flux, inference, safety, report. An evaluation's JSON is always valid JSON (UTF-8, no NaN).
#include <nlohmann/json.hpp>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nflux;
  const pipeline::Pipeline& pipeline = fuzz::Shipped();
  auto result = pipeline.Evaluate(fuzz::Text(data, size), {});
  if (!result.ok()) return 0;
  const std::string report = pipeline.ReportText(*result);
  fuzz::Require(nlohmann::json::accept(report), "the evaluation JSON does not parse");
  return 0;
}
