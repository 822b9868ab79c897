// nflux rules check|lint|test
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "base/text.h"
#include "cli/context.h"
#include "cli/evaluation.h"
#include "explain/explain.h"

namespace nflux::cli {
namespace {

using nlohmann::json;
using rules::Condition;
using rules::Rule;
using rules::Test;
using rules::TestKind;

struct RulesArgs {
  bool json = false;
  bool strict = false;
  bool coverage = false;
  std::string dir;
};

// A rule count for a rule base that did not load: the lines that open with `rule ID`.
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

// ---------------------------------------------------------------------------------------------
// check

int RunCheck(Context& context, const RulesArgs& args) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  auto sources = rules::ReadRulesDir(ResolveRulesDir(context.options));
  if (!sources.ok()) return BadInput(sources.status().message());
  auto loaded = rules::LoadRules(*sources, *kb);
  size_t count = loaded.rules ? loaded.rules->rules.size() : CountRuleOpenings(*sources);
  if (args.json) {
    json out = {{"rules", count}, {"files", json::array()}, {"errors", json::array()}};
    for (const auto& source : *sources) out["files"].push_back(source.path);
    for (const auto& error : loaded.errors)
      out["errors"].push_back({{"file", error.at.file},
                               {"line", error.at.line},
                               {"column", error.at.column},
                               {"message", error.message},
                               {"text", error.ToString()}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& error : loaded.errors) std::cerr << error.ToString() << "\n";
    std::cout << "rules " << (loaded.rules ? loaded.rules->version : std::string("(not loaded)")) << ": " << count
              << " rules in " << sources->size() << " files; "
              << (loaded.errors.empty() ? "no errors" : std::to_string(loaded.errors.size()) + " error(s)") << "\n";
  }
  return loaded.errors.empty() && loaded.rules ? kExitOk : kExitCheckFailed;
}

// ---------------------------------------------------------------------------------------------
// lint

struct Warning {
  rules::SourceLocation at;
  std::string message;
  std::string rule;
  std::string Text() const {
    std::string text = at.file;
    text += ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": warning: ";
    text += message;
    return text;
  }
};

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

std::vector<Warning> Lint(const rules::RuleBase& rule_base, const knowledge::KnowledgeBase& kb) {
  std::vector<Warning> warnings;
  std::vector<RuleShape> shapes;
  for (const auto& rule : rule_base.rules) {
    RuleShape shape{&rule, true, {}, {}, {}};
    std::vector<const Condition*> conjuncts;
    Conjuncts(rule.when, conjuncts);
    std::vector<const Test*> tests;
    for (const Condition* conjunct : conjuncts) {
      shape.conjuncts.insert(ConditionKey(*conjunct));
      if (conjunct->op == Condition::Op::kTest)
        tests.push_back(&conjunct->test);
      else if (!(conjunct->op == Condition::Op::kNot && conjunct->children.size() == 1 &&
                 conjunct->children[0].op == Condition::Op::kTest))
        shape.pure = false;
    }
    // Contradictions: two tests that cannot both hold, or X and not X.
    bool reported = false;
    for (size_t i = 0; i < tests.size() && !reported; ++i)
      for (size_t j = i + 1; j < tests.size() && !reported; ++j)
        if (Contradict(*tests[i], *tests[j])) {
          warnings.push_back({tests[j]->at,
                              "rule '" + rule.id + "' can never fire: '" + tests[i]->source + "' and '" +
                                  tests[j]->source + "' cannot both hold",
                              rule.id});
          reported = true;
        }
    for (const Condition* conjunct : conjuncts) {
      if (reported || conjunct->op != Condition::Op::kNot || conjunct->children.size() != 1) continue;
      std::string negated = ConditionKey(conjunct->children[0]);
      if (shape.conjuncts.count(negated)) {
        const Condition& inner = conjunct->children[0];
        std::string text = inner.op == Condition::Op::kTest ? inner.test.source : "a condition";
        warnings.push_back({inner.op == Condition::Op::kTest ? inner.test.at : rule.at,
                            "rule '" + rule.id + "' can never fire: it requires both '" + text + "' and its negation",
                            rule.id});
        reported = true;
      }
    }
    for (const auto& action : rule.actions) {
      shape.actions.insert(ActionKey(action));
      shape.concludes.insert(std::string(rules::ActionKindName(action.kind)) + "|" + action.id);
    }
    // One rule both suggesting and opposing a deficit.
    for (const auto& action : rule.actions)
      if (action.kind == rules::ActionKind::kSuggestDeficit &&
          shape.concludes.count(std::string(rules::ActionKindName(rules::ActionKind::kOpposeDeficit)) + "|" + action.id))
        warnings.push_back({action.at, "rule '" + rule.id + "' both suggests and opposes deficit '" + action.id + "'",
                            rule.id});
    shapes.push_back(std::move(shape));
  }

  std::string suggest = std::string(rules::ActionKindName(rules::ActionKind::kSuggestDeficit));
  std::string oppose = std::string(rules::ActionKindName(rules::ActionKind::kOpposeDeficit));
  for (size_t i = 0; i < shapes.size(); ++i) {
    for (size_t j = 0; j < shapes.size(); ++j) {
      if (i == j) continue;
      const RuleShape& a = shapes[i];
      const RuleShape& b = shapes[j];
      bool same_conditions = a.conjuncts == b.conjuncts;
      if (same_conditions && a.actions == b.actions) {
        if (i < j)
          warnings.push_back({b.rule->at,
                              "rule '" + b.rule->id + "' duplicates rule '" + a.rule->id + "' (" + Where(*a.rule) +
                                  "): same conditions and actions",
                              b.rule->id});
        continue;
      }
      if (same_conditions && i < j) {
        for (const auto& concluded : a.concludes) {
          auto bar = concluded.find('|');
          std::string kind = concluded.substr(0, bar), id = concluded.substr(bar + 1);
          std::string opposite = (kind == suggest ? oppose : kind == oppose ? suggest : "") + "|" + id;
          if ((kind == suggest || kind == oppose) && b.concludes.count(opposite))
            warnings.push_back({b.rule->at,
                                "rules '" + a.rule->id + "' (" + Where(*a.rule) + ") and '" + b.rule->id +
                                    "' have the same conditions but conflicting conclusions: one suggests and the "
                                    "other opposes deficit '" + id + "'",
                                b.rule->id});
        }
      }
      // Subsumed: a's conjuncts are a strict subset of b's and both conclude the same thing.
      if (!a.pure || !b.pure || a.conjuncts.size() >= b.conjuncts.size()) continue;
      if (!std::includes(b.conjuncts.begin(), b.conjuncts.end(), a.conjuncts.begin(), a.conjuncts.end())) continue;
      for (const auto& concluded : a.concludes) {
        if (!b.concludes.count(concluded)) continue;
        auto bar = concluded.find('|');
        warnings.push_back({b.rule->at,
                            "rule '" + b.rule->id + "' is subsumed by rule '" + a.rule->id + "' (" + Where(*a.rule) +
                                "): its conditions include all of that rule's and both " + concluded.substr(0, bar) +
                                " '" + concluded.substr(bar + 1) + "', so the same evidence counts twice",
                            b.rule->id});
        break;
      }
    }
  }

  // Knowledge deficits and strategies that no rule can conclude.
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
    warnings.push_back({at,
                        std::string("no rule concludes ") + (deficit ? "deficit" : "strategy") + " '" + node.id +
                            "' (defined at " + node.source.json_path + ")",
                        ""});
  }
  std::stable_sort(warnings.begin(), warnings.end(), [](const Warning& x, const Warning& y) {
    return std::tie(x.at.file, x.at.line, x.at.column) < std::tie(y.at.file, y.at.line, y.at.column);
  });
  return warnings;
}

int RunLint(Context& context, const RulesArgs& args) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  auto sources = rules::ReadRulesDir(ResolveRulesDir(context.options));
  if (!sources.ok()) return BadInput(sources.status().message());
  auto loaded = rules::LoadRules(*sources, *kb);
  if (!loaded.errors.empty() || !loaded.rules) {
    for (const auto& error : loaded.errors) std::cerr << error.ToString() << "\n";
    std::cerr << loaded.errors.size() << " error(s): the rules do not load; fix them first ('nflux rules check')\n";
    return kExitCheckFailed;
  }
  std::vector<Warning> warnings = Lint(*loaded.rules, *kb);
  if (args.json) {
    json out = {{"rules", loaded.rules->rules.size()}, {"warnings", json::array()}};
    for (const auto& warning : warnings)
      out["warnings"].push_back({{"file", warning.at.file},
                                 {"line", warning.at.line},
                                 {"column", warning.at.column},
                                 {"rule", warning.rule},
                                 {"message", warning.message},
                                 {"text", warning.Text()}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& warning : warnings) std::cout << warning.Text() << "\n";
    std::cout << warnings.size() << " warning(s) in " << loaded.rules->rules.size() << " rules\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// test: golden cases

struct Expectation {
  json flux = json::object();
  std::vector<std::pair<std::string, double>> deficits;  // id, min certainty
  std::vector<std::string> drivers, alerts, strategies, blocked;
  std::vector<std::string> not_deficits, not_strategies, not_alerts, not_drivers;
  std::optional<double> max_deficit_certainty;
};

constexpr double kPresent = 0.2;  // a deficit at or above this counts as present

// Reads an id list at `path`, appending problems.
std::vector<std::string> IdList(const json& value, const std::string& where, std::vector<std::string>& problems) {
  std::vector<std::string> out;
  if (!value.is_array()) {
    problems.push_back(where + ": expected an array of ids");
    return out;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i].is_string())
      out.push_back(value[i].get<std::string>());
    else
      problems.push_back(where + "/" + std::to_string(i) + ": expected an id (string)");
  }
  return out;
}

void CheckKeys(const json& object, const std::vector<std::string>& allowed, const std::string& file,
               const std::string& where, std::vector<std::string>& problems) {
  for (const auto& [key, value] : object.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      problems.push_back(file + ": " + where + "/" + key + ": unknown key" + DidYouMean(key, allowed));
}

Result<Expectation> ParseExpectation(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument(path + ": /: expected an object");
  std::vector<std::string> problems;
  Expectation out;
  CheckKeys(doc, {"description", "flux", "must_include", "must_not_include", "max_deficit_certainty"}, path, "", problems);
  if (doc.contains("description") && !doc["description"].is_string())
    problems.push_back(path + ": /description: expected a string");
  if (doc.contains("flux")) out.flux = doc["flux"];
  if (doc.contains("max_deficit_certainty")) {
    if (doc["max_deficit_certainty"].is_number())
      out.max_deficit_certainty = doc["max_deficit_certainty"].get<double>();
    else
      problems.push_back(path + ": /max_deficit_certainty: expected a number");
  }
  if (doc.contains("must_include")) {
    const json& include = doc["must_include"];
    if (!include.is_object()) {
      problems.push_back(path + ": /must_include: expected an object");
    } else {
      CheckKeys(include, {"deficits", "drivers", "alerts", "strategies", "blocked_strategies"}, path, "/must_include",
                problems);
      if (include.contains("deficits")) {
        const json& deficits = include["deficits"];
        if (!deficits.is_array()) problems.push_back(path + ": /must_include/deficits: expected an array");
        for (size_t i = 0; deficits.is_array() && i < deficits.size(); ++i) {
          std::string where = "/must_include/deficits/" + std::to_string(i);
          const json& item = deficits[i];
          if (item.is_string()) {
            out.deficits.emplace_back(item.get<std::string>(), kPresent);
            continue;
          }
          if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
            problems.push_back(path + ": " + where + ": expected {\"id\": ..., \"min_certainty\": ...}");
            continue;
          }
          CheckKeys(item, {"id", "min_certainty"}, path, where, problems);
          double minimum = kPresent;
          if (item.contains("min_certainty")) {
            if (item["min_certainty"].is_number())
              minimum = item["min_certainty"].get<double>();
            else
              problems.push_back(path + ": " + where + "/min_certainty: expected a number");
          }
          out.deficits.emplace_back(item["id"].get<std::string>(), minimum);
        }
      }
      if (include.contains("drivers")) out.drivers = IdList(include["drivers"], path + ": /must_include/drivers", problems);
      if (include.contains("alerts")) out.alerts = IdList(include["alerts"], path + ": /must_include/alerts", problems);
      if (include.contains("strategies"))
        out.strategies = IdList(include["strategies"], path + ": /must_include/strategies", problems);
      if (include.contains("blocked_strategies"))
        out.blocked = IdList(include["blocked_strategies"], path + ": /must_include/blocked_strategies", problems);
    }
  }
  if (doc.contains("must_not_include")) {
    const json& exclude = doc["must_not_include"];
    if (!exclude.is_object()) {
      problems.push_back(path + ": /must_not_include: expected an object");
    } else {
      CheckKeys(exclude, {"deficits", "strategies", "alerts", "drivers"}, path, "/must_not_include", problems);
      if (exclude.contains("deficits"))
        out.not_deficits = IdList(exclude["deficits"], path + ": /must_not_include/deficits", problems);
      if (exclude.contains("strategies"))
        out.not_strategies = IdList(exclude["strategies"], path + ": /must_not_include/strategies", problems);
      if (exclude.contains("alerts")) out.not_alerts = IdList(exclude["alerts"], path + ": /must_not_include/alerts", problems);
      if (exclude.contains("drivers"))
        out.not_drivers = IdList(exclude["drivers"], path + ": /must_not_include/drivers", problems);
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& problem : problems) message += (message.empty() ? "" : "\n") + problem;
    return Status::InvalidArgument(message);
  }
  return out;
}

std::string Certainty(double value) { return FormatNumber(value, 3); }

template <typename List>
bool HasStrategy(const List& list, const std::string& id) {
  for (const auto& item : list)
    if (item.id == id) return true;
  return false;
}

// The failed expectations of one golden case, each with the actual value.
std::vector<std::string> CheckExpectation(const Expectation& expect, const inference::Evaluation& evaluation) {
  std::vector<std::string> failures;
  auto certainty_of = [](const std::map<std::string, inference::Conclusion>& map, const std::string& id) {
    auto it = map.find(id);
    return it == map.end() ? 0.0 : it->second.certainty;
  };
  auto has_alert = [&](const std::string& id) {
    for (const auto& alert : evaluation.alerts)
      if (alert.id == id) return true;
    return false;
  };
  for (const auto& [id, minimum] : expect.deficits) {
    double certainty = certainty_of(evaluation.deficits, id);
    if (certainty < minimum)
      failures.push_back("deficit " + id + ": certainty " + Certainty(certainty) + " < " + Certainty(minimum));
  }
  for (const auto& id : expect.drivers)
    if (certainty_of(evaluation.drivers, id) <= 0) failures.push_back("driver " + id + ": not concluded");
  for (const auto& id : expect.alerts)
    if (!has_alert(id)) failures.push_back("alert " + id + ": not raised");
  for (const auto& id : expect.strategies) {
    if (HasStrategy(evaluation.strategies, id)) continue;
    failures.push_back("strategy " + id + (HasStrategy(evaluation.blocked, id) ? ": blocked by safety" : ": not suggested"));
  }
  for (const auto& id : expect.blocked)
    if (!HasStrategy(evaluation.blocked, id)) failures.push_back("blocked strategy " + id + ": not blocked");
  for (const auto& id : expect.not_deficits) {
    double certainty = certainty_of(evaluation.deficits, id);
    if (certainty >= kPresent)
      failures.push_back("deficit " + id + ": must not be included, certainty " + Certainty(certainty));
  }
  for (const auto& id : expect.not_strategies)
    if (HasStrategy(evaluation.strategies, id)) failures.push_back("strategy " + id + ": must not be suggested, but is");
  for (const auto& id : expect.not_alerts)
    if (has_alert(id)) failures.push_back("alert " + id + ": must not be raised, but is");
  for (const auto& id : expect.not_drivers) {
    double certainty = certainty_of(evaluation.drivers, id);
    if (certainty > 0) failures.push_back("driver " + id + ": must not be concluded, weight " + Certainty(certainty));
  }
  if (expect.max_deficit_certainty) {
    for (const auto& [id, conclusion] : evaluation.deficits)
      if (conclusion.certainty > *expect.max_deficit_certainty)
        failures.push_back("deficit " + id + ": certainty " + Certainty(conclusion.certainty) +
                           " > max_deficit_certainty " + Certainty(*expect.max_deficit_certainty));
  }
  return failures;
}

int RunTest(Context& context, const RulesArgs& args) {
  Loaded loaded;
  if (!LoadEngine(context, loaded)) return context.exit_code;
  std::string dir = args.dir.empty() ? ResolveRulesDir(context.options) + "/tests" : args.dir;
  std::vector<std::string> names;
  std::error_code error;
  if (std::filesystem::is_directory(dir, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      std::string file = entry.path().filename().string();
      const std::string suffix = ".case.json";
      if (entry.is_regular_file() && file.size() > suffix.size() &&
          file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
        names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  } else if (!args.dir.empty()) {
    return BadInput(dir + ": not a folder");
  }
  std::sort(names.begin(), names.end());

  int passed = 0, failed = 0;
  std::set<std::string> fired;
  json cases = json::array();
  for (const auto& name : names) {
    std::string case_path = dir + "/" + name + ".case.json";
    std::string expect_path = dir + "/" + name + ".expect.json";
    std::vector<std::string> failures;
    auto expect = ParseExpectation(expect_path);
    casefile::Case c;
    if (!expect.ok()) {
      failures.push_back(expect.status().message());
    } else {
      auto text = ReadFileToString(case_path);
      casefile::ParseOptions options;
      options.source_name = case_path;
      auto parsed = text.ok() ? casefile::ParseCase(*text, *loaded.kb, options) : Result<casefile::Case>(text.status());
      auto flux = FluxFromJson(expect->flux, expect_path + " (flux)");
      if (!parsed.ok()) {
        failures.push_back(parsed.status().message());
      } else if (!flux.ok()) {
        failures.push_back(flux.status().message());
      } else {
        auto model = loaded.flux->Compute(*parsed, {{}, false});
        if (!model.ok()) failures.push_back(model.status().message());
        inference::FluxValues values = model.ok() ? MergeFlux(*model, *flux) : *flux;
        inference::Evaluation evaluation = loaded.engine->Evaluate(*parsed, values);
        for (const auto& trace : evaluation.trace.rules)
          if (trace.fired) fired.insert(trace.rule);
        if (!evaluation.trace.stopped.empty()) failures.push_back("stopped: " + evaluation.trace.stopped);
        for (auto& failure : CheckExpectation(*expect, evaluation)) failures.push_back(std::move(failure));
      }
    }
    bool ok = failures.empty();
    (ok ? passed : failed)++;
    if (args.json) {
      cases.push_back({{"name", name}, {"passed", ok}, {"failures", failures}});
    } else {
      std::cout << (ok ? "PASS " : "FAIL ") << name << "\n";
      for (const auto& failure : failures) std::cout << "  " << failure << "\n";
    }
  }
  std::vector<const Rule*> uncovered;
  if (args.coverage)
    for (const auto& rule : loaded.rules->rules)
      if (!fired.count(rule.id)) uncovered.push_back(&rule);
  if (args.json) {
    json out = {{"cases", cases}, {"passed", passed}, {"failed", failed}};
    if (args.coverage) {
      out["uncovered"] = json::array();
      for (const Rule* rule : uncovered)
        out["uncovered"].push_back({{"rule", rule->id}, {"file", rule->at.file}, {"line", rule->at.line}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    if (args.coverage) {
      std::cout << "coverage: " << (loaded.rules->rules.size() - uncovered.size()) << " of "
                << loaded.rules->rules.size() << " rules fired in a golden case; fired in none:\n";
      for (const Rule* rule : uncovered) std::cout << "  " << Where(*rule) << ": " << rule->id << "\n";
    }
    std::cout << passed << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? kExitOk : kExitCheckFailed;
}

}  // namespace

void SetupRulesCommand(CLI::App* rules_command, Context& context) {
  auto args = std::make_shared<RulesArgs>();
  rules_command->require_subcommand(1);

  auto* check = rules_command->add_subcommand("check", "Load every rule file; print every error (exit 3 if any)");
  check->add_flag("--json", args->json, "Print {\"rules\", \"files\", \"errors\"} as JSON");
  check->callback([&context, args] { context.exit_code = RunCheck(context, *args); });

  auto* lint = rules_command->add_subcommand(
      "lint", "Warn about rules that can never fire, duplicates, subsumed or conflicting rules, unconcluded ids");
  lint->add_flag("--json", args->json, "Print the warnings as JSON");
  lint->add_flag("--strict", args->strict, "Accepted for symmetry; warnings never fail the command (exit 3 only "
                                           "when the rules do not load)");
  lint->callback([&context, args] { context.exit_code = RunLint(context, *args); });

  auto* test = rules_command->add_subcommand(
      "test", "Run the golden cases (<rules>/tests/NAME.case.json + NAME.expect.json); exit 3 if any fails");
  test->add_flag("--coverage", args->coverage, "List the rules that fired in no golden case");
  test->add_flag("--json", args->json, "Print the results as JSON");
  test->add_option("--dir", args->dir, "Folder of golden cases (default: <rules dir>/tests)");
  test->callback([&context, args] { context.exit_code = RunTest(context, *args); });
}

}  // namespace nflux::cli
