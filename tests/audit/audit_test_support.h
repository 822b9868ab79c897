// Internal: helpers shared by the audit tests (golden cases, evaluations as stored).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "pipeline/pipeline.h"

namespace nflux::testing {

// The text of rules/tests/NAME.case.json.
std::string GoldenCaseText(const std::string& name);

// An evaluation as a run stores it: the evaluation JSON (trace_id as given) and the trace.
struct StoredEvaluation {
  nlohmann::ordered_json evaluation, trace;
};
StoredEvaluation EvaluateForStore(const pipeline::Pipeline& pipeline, const std::string& text,
                                  const pipeline::EvaluationOptions& options, const std::string& trace_id);

}  // namespace nflux::testing
