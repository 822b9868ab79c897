// Internal: building rule traces (the public types RuleTrace and Trace are in inference.h).
#pragma once

#include "inference/inference.h"
#include "rules/rules.h"

namespace nflux::inference {

// A trace of `rule` with its identity filled in (id, title, file, line, stratum, citations) and
// nothing evaluated yet.
RuleTrace StartRuleTrace(const rules::Rule& rule);

}  // namespace nflux::inference
