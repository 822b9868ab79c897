// The trace: what an evaluation looked at, for "why?" and "why not?".
#include "inference/trace.h"

#include "base/json_writer.h"

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
  trace.file = rule.source.str().empty() ? rule.at.file.str() : rule.source.str();
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

namespace {

// Keys in nlohmann::json's order (sorted), so that the text is the DOM's dump byte for byte.
void WriteRule(JsonWriter& out, const RuleTrace& rule) {
  out.BeginObject().Key("citations").Strings(rule.citations);
  if (rule.fired) out.Key("clinical").Bool(rule.clinical);
  out.Key("contributions").BeginArray();
  for (const auto& c : rule.contributions)
    out.BeginObject().Key("certainty").Double(c.certainty).Key("id").String(c.id).Key("kind").String(Name(c.kind)).EndObject();
  out.EndArray().Key("file").String(rule.file).Key("fired").Bool(rule.fired).Key("line").Int(rule.line);
  if (rule.fired) out.Key("order").Int(rule.order);
  out.Key("rule").String(rule.rule).Key("stratum").Int(rule.stratum).Key("strength").Double(rule.strength);
  out.Key("tests").BeginArray();
  for (const auto& test : rule.tests)
    out.BeginObject()
        .Key("actual").String(test.actual)
        .Key("input").String(test.input)
        .Key("strength").Double(test.strength)
        .Key("test").String(test.source)
        .Key("truth").String(TruthName(test.truth))
        .EndObject();
  out.EndArray().Key("title").String(rule.title).Key("truth").String(TruthName(rule.truth)).EndObject();
}

}  // namespace

std::string Trace::ToJsonText() const {
  std::string text;
  text.reserve(1024 * rules.size() + 64);  // about 1 KB a rule considered
  JsonWriter out(text);
  out.BeginObject().Key("considered").Int(considered).Key("firings").Int(firings).Key("rules").BeginArray();
  for (const auto& rule : rules) WriteRule(out, rule);
  out.EndArray();
  if (!stopped.empty()) out.Key("stopped").String(stopped);
  out.EndObject();
  return text;
}

nlohmann::json Trace::ToJson() const { return nlohmann::json::parse(ToJsonText()); }

}  // namespace nflux::inference
