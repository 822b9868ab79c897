// The trace: what an evaluation looked at, for "why?" and "why not?".
#include "inference/trace.h"

namespace nflux::inference {

std::string_view TruthName(Truth truth) {
  switch (truth) {
    case Truth::kTrue: return "true";
    case Truth::kFalse: return "false";
    default: return "unknown";
  }
}

RuleTrace StartRuleTrace(const rules::Rule& rule) {
  RuleTrace trace;
  trace.rule = rule.id;
  trace.title = rule.title;
  // Relative to the rules folder, so that the trace (and its id) does not depend on the path given.
  trace.file = rule.source.str().empty() ? rule.at.file : rule.source;
  trace.line = rule.at.line;
  trace.stratum = rule.stratum;
  trace.citations = rule.citations;
  return trace;
}

double RuleTrace::Closeness() const {
  if (tests.empty()) return 0;
  int held = 0;
  for (const auto& test : tests) held += test.truth == Truth::kTrue;
  return static_cast<double>(held) / static_cast<double>(tests.size());
}

nlohmann::json RuleTrace::ToJson() const {
  nlohmann::json out = {{"rule", rule}, {"title", title}, {"file", file}, {"line", line}, {"stratum", stratum},
                        {"citations", citations}, {"truth", std::string(TruthName(truth))}, {"fired", fired},
                        {"strength", strength}, {"tests", nlohmann::json::array()},
                        {"contributions", nlohmann::json::array()}};
  if (fired) {
    out["order"] = order;
    out["clinical"] = clinical;
  }
  for (const auto& test : tests)
    out["tests"].push_back({{"test", test.source}, {"truth", std::string(TruthName(test.truth))},
                            {"actual", test.actual}, {"input", test.input}, {"strength", test.strength}});
  for (const auto& c : contributions)
    out["contributions"].push_back({{"kind", std::string(Name(c.kind))}, {"id", c.id}, {"certainty", c.certainty}});
  return out;
}

nlohmann::json Trace::ToJson() const {
  nlohmann::json out = {{"considered", considered}, {"firings", firings}, {"rules", nlohmann::json::array()}};
  if (!stopped.empty()) out["stopped"] = stopped;
  for (const auto& rule : rules) out["rules"].push_back(rule.ToJson());
  return out;
}

}  // namespace nflux::inference
