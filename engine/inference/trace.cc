// The trace: what an evaluation looked at, for "why?" and "why not?".
#include "inference/trace.h"

#include "base/json_writer.h"
#include "base/text.h"

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

void TestTrace::AppendActual(std::string& out) const {
  auto number = [&](int significant) { out += FormatNumber(this->number, significant); };
  switch (found) {
    case Found::kText: out += text; return;
    case Found::kSymptomScore:
    case Found::kStressorScore: out.append(subject) += ' '; number(6); out += "/3"; return;
    case Found::kSymptomNotEntered: out.append(subject) += " not entered"; return;
    case Found::kStressorNotGiven: out.append(subject) += " not given"; return;
    case Found::kFluxIndex:
    case Found::kFluxIndexAssumed:
      out.append(subject) += ' ';
      number(3);
      if (found == Found::kFluxIndexAssumed) out += " (rests on assumptions)";
      return;
    case Found::kNoFluxIndex: out.append(subject) += " has no flux value"; return;
    case Found::kConcluded: out.append(subject) += " concluded ("; number(3); out += ')'; return;
    case Found::kNotConcluded: out.append(subject) += " not concluded"; return;
    case Found::kTakesMedication:
    case Found::kTakesSupplement: (out += "takes ").append(subject); return;
    case Found::kNoMedicationList: out += "no medication list"; return;
    case Found::kMedicationNotListed: out.append(subject) += " not in the medication list"; return;
    case Found::kHasCondition: (out += "has ").append(subject); return;
    case Found::kNoConditionList: out += "no condition list"; return;
    case Found::kConditionNotListed: out.append(subject) += " not in the condition list"; return;
    case Found::kRequestsSupplement: (out += "requests ").append(subject); return;
    case Found::kNoSupplementsSection: out += "no supplements section"; return;
    case Found::kSupplementNotTaken: out.append(subject) += " not taken"; return;
    case Found::kSupplementNotRequested: out.append(subject) += " not requested"; return;
    case Found::kLabMeasured: out.append(subject) += " measured"; return;
    case Found::kLabNotMeasured: out.append(subject) += " not measured"; return;
  }
}

std::string TestTrace::Actual() const {
  std::string out;
  AppendActual(out);
  return out;
}

double RuleTrace::Closeness() const {
  if (tests.empty()) return 0;
  int held = 0;
  for (const auto& test : tests) held += test.truth == Truth::kTrue;
  return static_cast<double>(held) / static_cast<double>(tests.size());
}

namespace {

// Keys in nlohmann::json's order (sorted), so that the text is the DOM's dump byte for byte.
// `actual`: a buffer for each test's TestTrace::AppendActual, reused.
void WriteRule(JsonWriter& out, const RuleTrace& rule, std::string& actual) {
  out.BeginObject().Key("citations").Strings(rule.citations);
  if (rule.fired) out.Key("clinical").Bool(rule.clinical);
  out.Key("contributions").BeginArray();
  for (const auto& c : rule.contributions)
    out.BeginObject().Key("certainty").Double(c.certainty).Key("id").String(c.id).Key("kind").String(Name(c.kind)).EndObject();
  out.EndArray().Key("file").String(rule.file).Key("fired").Bool(rule.fired).Key("line").Int(rule.line);
  if (rule.fired) out.Key("order").Int(rule.order);
  out.Key("rule").String(rule.rule).Key("stratum").Int(rule.stratum).Key("strength").Double(rule.strength);
  out.Key("tests").BeginArray();
  for (const auto& test : rule.tests) {
    actual.clear();
    test.AppendActual(actual);
    out.BeginObject()
        .Key("actual").String(actual)
        .Key("input").String(test.input)
        .Key("strength").Double(test.strength)
        .Key("test").String(test.source)
        .Key("truth").String(TruthName(test.truth))
        .EndObject();
  }
  out.EndArray().Key("title").String(rule.title).Key("truth").String(TruthName(rule.truth)).EndObject();
}

}  // namespace

std::string Trace::ToJsonText() const {
  std::string text;
  text.reserve(1024 * rules.size() + 64);  // about 1 KB a rule considered
  JsonWriter out(text);
  out.BeginObject().Key("considered").Int(considered).Key("firings").Int(firings).Key("rules").BeginArray();
  std::string actual;
  for (const auto& rule : rules) WriteRule(out, rule, actual);
  out.EndArray();
  if (!stopped.empty()) out.Key("stopped").String(stopped);
  out.EndObject();
  out.Flush();
  return text;
}

nlohmann::json Trace::ToJson() const { return nlohmann::json::parse(ToJsonText()); }

}  // namespace nflux::inference
