#include "lint/lint.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "base/text.h"

namespace nflux::lint {
namespace {

using rules::Condition;
using rules::Rule;
using rules::Test;
using rules::TestKind;

std::string TestKey(const Test& test) {
  std::string key = std::to_string(static_cast<int>(test.kind));
  key += "|" + test.id + "|" + test.text + "|" + std::string(rules::CompareText(test.op)) + "|";
  key += FormatNumber(test.number, 9) + "|" + std::to_string(test.item) + "|" + (test.has_compare ? "c" : "");
  return key;
}

std::string ConditionKey(const Condition& condition) {
  switch (condition.op) {
    case Condition::Op::kTest: return "T(" + TestKey(condition.test) + ")";
    case Condition::Op::kNot: return "N(" + (condition.children.empty() ? "" : ConditionKey(condition.children[0])) + ")";
    default: break;
  }
  std::vector<std::string> keys;
  for (const auto& child : condition.children) keys.push_back(ConditionKey(child));
  std::sort(keys.begin(), keys.end());
  std::string key = condition.op == Condition::Op::kAnd ? "A(" : condition.op == Condition::Op::kOr ? "O(" : "L" + std::to_string(condition.at_least) + "(";
  for (const auto& part : keys) key += part + ",";
  return key + ")";
}

// The conjuncts of a condition: its AND tree flattened.
void Conjuncts(const Condition& condition, std::vector<const Condition*>& out) {
  if (condition.op == Condition::Op::kAnd) {
    for (const auto& child : condition.children) Conjuncts(child, out);
    return;
  }
  out.push_back(&condition);
}

// A numeric constraint on one subject: lo < / <= value < / <= hi.
struct Interval {
  double lo = -1e300, hi = 1e300;
  bool lo_open = false, hi_open = false;
};

// The subject a numeric test constrains ("symptom:fatigue") and its interval; nullopt when the
// test is not numeric or says nothing useful (!=).
std::optional<std::pair<std::string, Interval>> NumericConstraint(const Test& test) {
  std::string subject;
  Interval interval;
  rules::Compare op = test.op;
  double number = test.number;
  switch (test.kind) {
    case TestKind::kSymptomPresent: subject = "symptom:" + test.id; op = rules::Compare::kGreaterEqual; number = 1; break;
    case TestKind::kSymptomAbsent: subject = "symptom:" + test.id; op = rules::Compare::kEqual; number = 0; break;
    case TestKind::kSymptomCompare: subject = "symptom:" + test.id; break;
    case TestKind::kQuestionnaireTotal: subject = "questionnaire:" + test.id; break;
    case TestKind::kQuestionnaireItem: subject = "questionnaire:" + test.id + ":" + std::to_string(test.item); break;
    case TestKind::kLabValue: subject = "lab:" + test.id; break;
    case TestKind::kDerivedCompare: subject = "derived:" + test.id; break;
    case TestKind::kFluxCompare: subject = "flux:" + test.id; break;
    case TestKind::kAge: subject = "age"; break;
    case TestKind::kLifestyleCompare: subject = "lifestyle:" + test.id; break;
    case TestKind::kStressorCompare: subject = "stressor:" + test.id; break;
    case TestKind::kFact:
      if (!test.has_compare) return std::nullopt;
      subject = "fact:" + test.id;
      break;
    default: return std::nullopt;
  }
  switch (op) {
    case rules::Compare::kLess: interval.hi = number; interval.hi_open = true; break;
    case rules::Compare::kLessEqual: interval.hi = number; break;
    case rules::Compare::kGreater: interval.lo = number; interval.lo_open = true; break;
    case rules::Compare::kGreaterEqual: interval.lo = number; break;
    case rules::Compare::kEqual: interval.lo = interval.hi = number; break;
    case rules::Compare::kNotEqual: return std::nullopt;
  }
  return std::make_pair(subject, interval);
}

bool Disjoint(const Interval& a, const Interval& b) {
  double lo = std::max(a.lo, b.lo), hi = std::min(a.hi, b.hi);
  if (lo > hi) return true;
  if (lo < hi) return false;
  bool lo_open = (a.lo == lo && a.lo_open) || (b.lo == lo && b.lo_open);
  bool hi_open = (a.hi == hi && a.hi_open) || (b.hi == hi && b.hi_open);
  return lo_open || hi_open;
}

// The reference-range regions a lab status allows (L, N, H), or the optimal ones (l, o, h).
std::string StatusRegions(const std::string& status) {
  if (status == "low") return "L";
  if (status == "normal") return "N";
  if (status == "high") return "H";
  if (status == "abnormal" || status == "critical") return "LH";
  if (status == "below_optimal") return "l";
  if (status == "optimal") return "o";
  if (status == "above_optimal") return "h";
  return "";
}

// Whether two leaf tests of one AND can never both be true.
bool Contradict(const Test& a, const Test& b) {
  auto numeric_a = NumericConstraint(a), numeric_b = NumericConstraint(b);
  if (numeric_a && numeric_b && numeric_a->first == numeric_b->first && Disjoint(numeric_a->second, numeric_b->second))
    return true;
  auto same = [&](TestKind x, TestKind y) { return (a.kind == x && b.kind == y) || (a.kind == y && b.kind == x); };
  if (a.kind == b.kind && a.kind == TestKind::kSex) return a.text != b.text;
  if (a.kind == b.kind && a.kind == TestKind::kMenopausalStatus) return a.text != b.text;
  if (a.id != b.id) return false;
  if (a.kind == b.kind && a.kind == TestKind::kLabStatus) {
    std::string x = StatusRegions(a.text), y = StatusRegions(b.text);
    bool optimal_x = !x.empty() && std::islower(static_cast<unsigned char>(x[0]));
    bool optimal_y = !y.empty() && std::islower(static_cast<unsigned char>(y[0]));
    if (x.empty() || y.empty() || optimal_x != optimal_y) return false;
    return x.find_first_of(y) == std::string::npos;
  }
  if (same(TestKind::kLabMissing, TestKind::kLabStatus) || same(TestKind::kLabMissing, TestKind::kLabValue) ||
      same(TestKind::kLabMissing, TestKind::kLabMeasured))
    return true;
  if (same(TestKind::kQuestionnairePositive, TestKind::kQuestionnaireNegative)) return true;
  if (a.kind == b.kind && a.kind == TestKind::kQuestionnaireBand) return a.text != b.text;
  if (a.kind == b.kind && a.kind == TestKind::kLifestyleIs) return a.text != b.text;
  return false;
}

std::string ActionKey(const rules::Action& action) {
  std::string key(rules::ActionKindName(action.kind));
  key += "|" + action.id + "|" + FormatNumber(action.certainty, 9) + "|";
  std::vector<std::string> ids = action.ids;
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) key += id + ",";
  key += "|" + action.severity + "|" + action.message;
  return key;
}

std::string Where(const Rule& rule) { return rule.at.file.str() + ":" + std::to_string(rule.at.line); }

struct RuleShape {
  const Rule* rule;
  bool pure = true;                  // every conjunct is a test or a negated test
  std::set<std::string> conjuncts;   // condition keys
  std::set<std::string> actions;     // action keys
  std::set<std::string> concludes;   // kind|id of what it concludes
};


RuleShape ShapeOf(const Rule& rule, std::vector<const Test*>& tests, std::vector<const Condition*>& conjuncts) {
  RuleShape shape{&rule, true, {}, {}, {}};
  Conjuncts(rule.when, conjuncts);
  for (const Condition* conjunct : conjuncts) {
    shape.conjuncts.insert(ConditionKey(*conjunct));
    if (conjunct->op == Condition::Op::kTest)
      tests.push_back(&conjunct->test);
    else if (!(conjunct->op == Condition::Op::kNot && conjunct->children.size() == 1 &&
               conjunct->children[0].op == Condition::Op::kTest))
      shape.pure = false;
  }
  for (const auto& action : rule.actions) {
    shape.actions.insert(ActionKey(action));
    shape.concludes.insert(std::string(rules::ActionKindName(action.kind)) + "|" + action.id);
  }
  return shape;
}

// Contradictions: two tests that cannot both hold, or X and not X. At most one per rule.
void CheckNeverFires(const RuleShape& shape, const std::vector<const Test*>& tests,
                     const std::vector<const Condition*>& conjuncts, std::vector<Finding>& out) {
  const Rule& rule = *shape.rule;
  for (size_t i = 0; i < tests.size(); ++i)
    for (size_t j = i + 1; j < tests.size(); ++j)
      if (Contradict(*tests[i], *tests[j])) {
        out.push_back({FindingKind::kNeverFires, tests[j]->at,
                       "rule '" + rule.id + "' can never fire: '" + tests[i]->source + "' and '" + tests[j]->source +
                           "' cannot both hold",
                       rule.id});
        return;
      }
  for (const Condition* conjunct : conjuncts) {
    if (conjunct->op != Condition::Op::kNot || conjunct->children.size() != 1) continue;
    if (!shape.conjuncts.count(ConditionKey(conjunct->children[0]))) continue;
    const Condition& inner = conjunct->children[0];
    std::string text = inner.op == Condition::Op::kTest ? inner.test.source : "a condition";
    out.push_back({FindingKind::kNeverFires, inner.op == Condition::Op::kTest ? inner.test.at : rule.at,
                   "rule '" + rule.id + "' can never fire: it requires both '" + text + "' and its negation", rule.id});
    return;
  }
}

// One rule both suggesting and opposing a deficit.
void CheckSelfConflict(const RuleShape& shape, std::vector<Finding>& out) {
  const std::string oppose(rules::ActionKindName(rules::ActionKind::kOpposeDeficit));
  for (const auto& action : shape.rule->actions)
    if (action.kind == rules::ActionKind::kSuggestDeficit && shape.concludes.count(oppose + "|" + action.id))
      out.push_back({FindingKind::kSelfConflict, action.at,
                     "rule '" + shape.rule->id + "' both suggests and opposes deficit '" + action.id + "'",
                     shape.rule->id});
}

// a and b (a earlier) have the same conditions: one suggests and the other opposes a deficit.
void CheckConflicting(const RuleShape& a, const RuleShape& b, std::vector<Finding>& out) {
  const std::string suggest(rules::ActionKindName(rules::ActionKind::kSuggestDeficit));
  const std::string oppose(rules::ActionKindName(rules::ActionKind::kOpposeDeficit));
  for (const auto& concluded : a.concludes) {
    auto bar = concluded.find('|');
    std::string kind = concluded.substr(0, bar), id = concluded.substr(bar + 1);
    if (kind != suggest && kind != oppose) continue;
    if (!b.concludes.count((kind == suggest ? oppose : suggest) + "|" + id)) continue;
    out.push_back({FindingKind::kConflicting, b.rule->at,
                   "rules '" + a.rule->id + "' (" + Where(*a.rule) + ") and '" + b.rule->id +
                       "' have the same conditions but conflicting conclusions: one suggests and the other opposes "
                       "deficit '" + id + "'",
                   b.rule->id});
  }
}

// a's conjuncts are a strict subset of b's and both conclude the same thing.
void CheckSubsumed(const RuleShape& a, const RuleShape& b, std::vector<Finding>& out) {
  if (!a.pure || !b.pure || a.conjuncts.size() >= b.conjuncts.size()) return;
  if (!std::includes(b.conjuncts.begin(), b.conjuncts.end(), a.conjuncts.begin(), a.conjuncts.end())) return;
  for (const auto& concluded : a.concludes) {
    if (!b.concludes.count(concluded)) continue;
    auto bar = concluded.find('|');
    out.push_back({FindingKind::kSubsumed, b.rule->at,
                   "rule '" + b.rule->id + "' is subsumed by rule '" + a.rule->id + "' (" + Where(*a.rule) +
                       "): its conditions include all of that rule's and both " + concluded.substr(0, bar) + " '" +
                       concluded.substr(bar + 1) + "', so the same evidence counts twice",
                   b.rule->id});
    return;
  }
}

void CheckPairs(const std::vector<RuleShape>& shapes, std::vector<Finding>& out) {
  for (size_t i = 0; i < shapes.size(); ++i)
    for (size_t j = 0; j < shapes.size(); ++j) {
      if (i == j) continue;
      const RuleShape& a = shapes[i];
      const RuleShape& b = shapes[j];
      bool same_conditions = a.conjuncts == b.conjuncts;
      if (same_conditions && a.actions == b.actions) {
        if (i < j)
          out.push_back({FindingKind::kDuplicate, b.rule->at,
                         "rule '" + b.rule->id + "' duplicates rule '" + a.rule->id + "' (" + Where(*a.rule) +
                             "): same conditions and actions",
                         b.rule->id});
        continue;
      }
      if (same_conditions && i < j) CheckConflicting(a, b, out);
      CheckSubsumed(a, b, out);
    }
}

// Knowledge deficits and strategies that no rule can conclude.
void CheckUnconcluded(const rules::RuleBase& rule_base, const knowledge::KnowledgeBase& kb, std::vector<Finding>& out) {
  std::set<std::string> suggested_deficits, suggested_strategies;
  for (const auto& rule : rule_base.rules)
    for (const auto& action : rule.actions) {
      if (action.kind == rules::ActionKind::kSuggestDeficit) suggested_deficits.insert(action.id);
      if (action.kind == rules::ActionKind::kSuggestStrategy) suggested_strategies.insert(action.id);
    }
  for (const auto& node : kb.nodes()) {
    bool deficit = node.kind == knowledge::NodeKind::kDeficit && !suggested_deficits.count(node.id);
    bool strategy = node.kind == knowledge::NodeKind::kStrategy && !suggested_strategies.count(node.id);
    if (!deficit && !strategy) continue;
    rules::SourceLocation at{node.source.file, 1, 1};
    out.push_back({FindingKind::kUnconcluded, at,
                   std::string("no rule concludes ") + (deficit ? "deficit" : "strategy") + " '" + node.id +
                       "' (defined at " + node.source.json_path + ")",
                   ""});
  }
}

}  // namespace

std::string_view Name(FindingKind kind) {
  switch (kind) {
    case FindingKind::kNeverFires: return "never_fires";
    case FindingKind::kSelfConflict: return "self_conflict";
    case FindingKind::kDuplicate: return "duplicate";
    case FindingKind::kConflicting: return "conflicting";
    case FindingKind::kSubsumed: return "subsumed";
    case FindingKind::kUnconcluded: return "unconcluded";
  }
  return "unknown";
}

std::string Finding::Text() const {
  std::string text = at.file;
  text += ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": warning: ";
  return text + message;
}

std::vector<Finding> Lint(const rules::RuleBase& rule_base, const knowledge::KnowledgeBase& kb) {
  std::vector<Finding> findings;
  std::vector<RuleShape> shapes;
  for (const auto& rule : rule_base.rules) {
    std::vector<const Test*> tests;
    std::vector<const Condition*> conjuncts;
    RuleShape shape = ShapeOf(rule, tests, conjuncts);
    CheckNeverFires(shape, tests, conjuncts, findings);
    CheckSelfConflict(shape, findings);
    shapes.push_back(std::move(shape));
  }
  CheckPairs(shapes, findings);
  CheckUnconcluded(rule_base, kb, findings);
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& x, const Finding& y) {
    return std::tie(x.at.file, x.at.line, x.at.column) < std::tie(y.at.file, y.at.line, y.at.column);
  });
  return findings;
}

// A line count, not a parse: the sources may not parse at all.
size_t CountRuleOpenings(const std::vector<rules::RuleSource>& sources) {
  size_t count = 0;
  for (const auto& source : sources) {
    std::istringstream lines(source.text);
    std::string keyword, id;
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      if (words >> keyword >> id && keyword == "rule" && id[0] >= 'a' && id[0] <= 'z') ++count;
    }
  }
  return count;
}

}  // namespace nflux::lint
