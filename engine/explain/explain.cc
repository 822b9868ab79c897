#include "explain/explain.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "base/text.h"
#include "inference/certainty.h"

namespace nflux::explain {
namespace {

using inference::Evaluation;
using inference::RuleTrace;
using inference::TestTrace;
using inference::Truth;
using nlohmann::ordered_json;
using rules::ActionKind;
using rules::TestKind;
using nflux::ConclusionKind;

std::string Num(double value) { return FormatNumber(value, 3); }

void CollectLeaves(const rules::Condition& condition, std::vector<const rules::Test*>& out) {
  if (condition.op == rules::Condition::Op::kTest) {
    out.push_back(&condition.test);
    return;
  }
  for (const auto& child : condition.children) CollectLeaves(child, out);
}

// The action kinds that conclude something of `kind` (opposing excluded).
bool Concludes(const rules::Action& action, const std::string& id) {
  if (action.id != id) return false;
  return action.kind == ActionKind::kDeriveFact || action.kind == ActionKind::kConcludeDriver ||
         action.kind == ActionKind::kSuggestDeficit || action.kind == ActionKind::kSuggestStrategy ||
         action.kind == ActionKind::kRaiseAlert;
}

double ActionCertainty(const rules::Rule& rule, const std::string& id) {
  double best = 0;
  for (const auto& action : rule.actions)
    if (Concludes(action, id)) best = std::max(best, action.kind == ActionKind::kSuggestStrategy ||
                                                             action.kind == ActionKind::kRaiseAlert
                                                         ? 1.0
                                                         : action.certainty);
  return best;
}

bool OnlyOpposes(const rules::Rule& rule, const std::string& id) {
  bool opposes = false;
  for (const auto& action : rule.actions) {
    if (Concludes(action, id)) return false;
    if (action.kind == ActionKind::kOpposeDeficit && action.id == id) opposes = true;
  }
  return opposes;
}

const inference::StrategyResult* FindStrategy(const std::vector<inference::StrategyResult>& list,
                                              const std::string& id) {
  for (const auto& strategy : list)
    if (strategy.id == id) return &strategy;
  return nullptr;
}

const inference::AlertResult* FindAlert(const Evaluation& evaluation, const std::string& id) {
  for (const auto& alert : evaluation.alerts)
    if (alert.id == id) return &alert;
  return nullptr;
}

const inference::Conclusion* FindConclusion(const std::map<std::string, inference::Conclusion>& map,
                                            const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : &it->second;
}

// The facts, drivers or deficits of an evaluation; nullptr for the other kinds.
const std::map<std::string, inference::Conclusion>* ConclusionsOf(const Evaluation& evaluation, ConclusionKind kind) {
  switch (kind) {
    case ConclusionKind::kFact: return &evaluation.facts;
    case ConclusionKind::kDriver: return &evaluation.drivers;
    case ConclusionKind::kDeficit: return &evaluation.deficits;
    default: return nullptr;
  }
}

// A strategy a rule suggested, allowed or blocked.
const inference::StrategyResult* FindSuggested(const Evaluation& evaluation, const std::string& id) {
  const auto* strategy = FindStrategy(evaluation.strategies, id);
  return strategy ? strategy : FindStrategy(evaluation.blocked, id);
}

// The conclusion a leaf test reads, if it tests one.
std::optional<ConclusionKind> TestedConclusion(TestKind kind) {
  switch (kind) {
    case TestKind::kFact: return ConclusionKind::kFact;
    case TestKind::kDriver: return ConclusionKind::kDriver;
    case TestKind::kDeficit: return ConclusionKind::kDeficit;
    case TestKind::kAlert: return ConclusionKind::kAlert;
    default: return std::nullopt;
  }
}

// The kind of conclusion `id` is in the evaluation, if it is one there.
std::optional<ConclusionKind> EvaluatedKind(const Evaluation& evaluation, const std::string& id) {
  if (evaluation.deficits.count(id)) return ConclusionKind::kDeficit;
  if (evaluation.drivers.count(id)) return ConclusionKind::kDriver;
  if (evaluation.facts.count(id)) return ConclusionKind::kFact;
  if (FindSuggested(evaluation, id) || FindStrategy(evaluation.requested, id)) return ConclusionKind::kStrategy;
  if (FindAlert(evaluation, id)) return ConclusionKind::kAlert;
  return std::nullopt;
}

// The kind of conclusion a knowledge node can be, if any.
std::optional<ConclusionKind> KnowledgeKind(const knowledge::Node& node) {
  switch (node.kind) {
    case knowledge::NodeKind::kDeficit: return ConclusionKind::kDeficit;
    case knowledge::NodeKind::kDriver:
    case knowledge::NodeKind::kStressor: return ConclusionKind::kDriver;
    case knowledge::NodeKind::kStrategy: return ConclusionKind::kStrategy;
    case knowledge::NodeKind::kAlert: return ConclusionKind::kAlert;
    default: return std::nullopt;
  }
}

// The kind of conclusion the rules make of `id` (evidence against a deficit is about a deficit).
std::optional<ConclusionKind> RuleKind(const inference::Engine& engine, const std::string& id) {
  for (const rules::Rule* rule : engine.RulesConcluding(id))
    for (const auto& action : rule->actions) {
      if (action.id != id) continue;
      ConclusionKind kind = inference::ConclusionKindOf(action.kind);
      if (kind == ConclusionKind::kNote) continue;
      return kind == ConclusionKind::kAgainst ? ConclusionKind::kDeficit : kind;
    }
  return std::nullopt;
}

// What `id` names: a kind of conclusion, else only the knowledge kind's name ("lab"); an empty
// name when nothing names it.
struct Subject {
  std::optional<ConclusionKind> kind;
  std::string name;
};

// From the evaluation, then the knowledge base, then the rules.
Subject SubjectOf(const inference::Engine& engine, const Evaluation& evaluation, const std::string& id) {
  const knowledge::Node* node = engine.knowledge().Find(id);
  std::optional<ConclusionKind> kind = EvaluatedKind(evaluation, id);
  if (!kind && node) kind = KnowledgeKind(*node);
  if (!kind) kind = RuleKind(engine, id);
  if (kind) return {kind, std::string(Name(*kind))};
  if (node) return {std::nullopt, std::string(knowledge::KindName(node->kind))};
  return {};
}

Status UnknownId(const inference::Engine& engine, const std::string& id) {
  std::vector<std::string> candidates = engine.knowledge().Ids();
  for (const auto& rule : engine.rule_base().rules)
    for (const auto& action : rule.actions)
      if (action.kind == ActionKind::kDeriveFact) candidates.push_back(action.id);
  return Status::NotFound("unknown id '" + id + "'" + DidYouMean(id, candidates));
}

// The trace of a rule: the evaluation's when it fired there, else evaluated now.
RuleTrace TraceOf(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                  const inference::FluxValues& flux, const rules::Rule& rule) {
  if (const RuleTrace* trace = FindTrace(evaluation, rule.id); trace && (trace->fired || !trace->tests.empty()))
    return *trace;
  return engine.ExplainRule(rule, c, flux, evaluation);
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string text;
  for (const auto& key : keys) text += (text.empty() ? "" : ", ") + key;
  return text;
}

std::vector<std::string> FormatCitations(const knowledge::KnowledgeBase& kb, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const auto& key : keys) out.push_back(FormatCitation(kb, key));
  return out;
}

ordered_json TestJson(const TestTrace& test) {
  ordered_json out = {{"test", test.source}, {"truth", std::string(inference::TruthName(test.truth))},
                      {"actual", test.Actual()}};
  if (!test.input.empty()) out["input"] = test.input;
  if (test.strength != 1) out["strength"] = test.strength;
  return out;
}

ordered_json TestsJson(const std::vector<TestTrace>& tests) {
  ordered_json out = ordered_json::array();
  for (const auto& test : tests) out.push_back(TestJson(test));
  return out;
}

ordered_json ReasonJson(const inference::BlockReason& reason) {
  return {{"alert", reason.alert}, {"with", reason.with}, {"severity", std::string(Name(reason.severity))},
          {"citations", reason.citations}, {"note", reason.note}};
}

std::string ReasonText(const inference::BlockReason& reason) {
  std::string text = std::string(Name(reason.severity)) + " contraindication with " + reason.with;
  if (!reason.alert.empty()) text += " (alert " + reason.alert + ")";
  if (!reason.note.empty()) text += ": " + reason.note;
  if (!reason.citations.empty()) {
    text += " [";
    for (size_t i = 0; i < reason.citations.size(); ++i) text += (i ? ", " : "") + reason.citations[i];
    text += "]";
  }
  return text;
}

// Builds the chain behind one conclusion.
class WhyBuilder {
 public:
  WhyBuilder(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
             const inference::FluxValues& flux)
      : engine_(engine), case_(c), evaluation_(evaluation), flux_(flux) {}

  WhyNode Build(ConclusionKind kind, const std::string& id, int depth) {
    WhyNode node;
    node.kind = kind;
    node.id = id;
    std::vector<std::string> supporting, opposing;
    if (const auto* map = ConclusionsOf(evaluation_, kind)) {
      if (const auto* conclusion = FindConclusion(*map, id)) {
        node.certainty = conclusion->certainty;
        node.support = conclusion->support;
        node.against = conclusion->against;
        supporting = conclusion->rules;
        opposing = conclusion->opposing_rules;
      }
    } else if (kind == ConclusionKind::kStrategy) {
      if (const auto* strategy = FindSuggested(evaluation_, id)) {
        node.certainty = node.support = strategy->score;
        supporting = strategy->rules;
      }
    } else if (kind == ConclusionKind::kAlert) {
      if (const auto* alert = FindAlert(evaluation_, id)) {
        node.certainty = node.support = 1;
        supporting = alert->rules;
      }
    }
    if (!explained_.insert(std::string(Name(kind)) + ":" + id).second || depth > 12) {
      node.repeated = true;
      return node;
    }
    for (const auto& rule_id : supporting) node.rules.push_back(BuildRule(rule_id, id, false, depth));
    for (const auto& rule_id : opposing) node.rules.push_back(BuildRule(rule_id, id, true, depth));
    return node;
  }

 private:
  WhyRule BuildRule(const std::string& rule_id, const std::string& concluded, bool opposing, int depth) {
    WhyRule out;
    out.rule = rule_id;
    out.opposing = opposing;
    const rules::Rule* rule = engine_.FindRule(rule_id);
    if (!rule) {  // a built-in check of the engine ("safety", "data_quality")
      out.title = rule_id == "safety" ? "built-in safety gate" : "built-in " + rule_id + " check";
      return out;
    }
    out.title = rule->title;
    out.file = rule->at.file;
    out.line = rule->at.line;
    out.citations = FormatCitations(engine_.knowledge(), rule->citations);
    out.citation_keys = rule->citations;
    out.grade = GradeOf(engine_.knowledge(), rule->citations);
    RuleTrace trace = TraceOf(engine_, case_, evaluation_, flux_, *rule);
    for (const auto& contribution : trace.contributions)
      if (contribution.id == concluded && (opposing == (contribution.kind == ConclusionKind::kAgainst)))
        out.contribution = std::max(out.contribution, contribution.certainty);
    std::vector<const rules::Test*> leaves = LeafTests(rule->when);
    for (size_t i = 0; i < trace.tests.size(); ++i) {
      const TestTrace& test = trace.tests[i];
      if (test.truth != Truth::kTrue) continue;
      out.matched.push_back(test);
      if (i >= leaves.size()) continue;
      const rules::Test& leaf = *leaves[i];
      if (auto kind = TestedConclusion(leaf.kind)) out.because.push_back(Build(*kind, leaf.id, depth + 1));
    }
    return out;
  }

  const inference::Engine& engine_;
  const casefile::Case& case_;
  const Evaluation& evaluation_;
  const inference::FluxValues& flux_;
  std::set<std::string> explained_;
};

void CollectDrivers(const WhyNode& node, std::set<std::string>& out) {
  if (node.kind == ConclusionKind::kDriver && node.certainty > 0) out.insert(node.id);
  for (const auto& rule : node.rules)
    for (const auto& child : rule.because) CollectDrivers(child, out);
}

// What a deficit involves that a path should reach: its pathways and transmitters, else every
// `involves` target.
std::vector<std::string> InvolvedTargets(const knowledge::KnowledgeBase& kb, const std::string& deficit) {
  std::vector<std::string> preferred, all;
  for (const knowledge::Edge* edge : kb.OutEdges(deficit)) {
    if (edge->type != knowledge::EdgeType::kInvolves) continue;
    all.push_back(edge->to);
    const auto* node = kb.Find(edge->to);
    if (node && (node->kind == knowledge::NodeKind::kPathway || node->kind == knowledge::NodeKind::kNeurotransmitter))
      preferred.push_back(edge->to);
  }
  return preferred.empty() ? all : preferred;
}

std::string EdgeStep(const knowledge::Edge& edge) {
  std::string text = edge.from;
  text += " --";
  text += knowledge::EdgeTypeName(edge.type);
  text += edge.sign > 0 ? "(+)--> " : "(-)--> ";
  text += edge.to;
  return text;
}

// A few shortest influence paths from each source to the deficits' targets.
std::vector<WhyPath> FindWhyPaths(const knowledge::KnowledgeBase& kb, const std::set<std::string>& sources,
                                  const std::vector<std::string>& deficits) {
  constexpr size_t kPerSource = 3;
  std::vector<WhyPath> out;
  for (const auto& from : sources) {
    if (!kb.Find(from)) continue;
    std::vector<WhyPath> found;
    for (const auto& deficit : deficits) {
      for (const auto& to : InvolvedTargets(kb, deficit)) {
        knowledge::PathOptions options;
        options.max_depth = 6;
        options.max_paths = kPerSource;
        auto paths = kb.FindPaths(from, to, options);
        if (!paths.ok()) continue;
        for (const auto& path : *paths) {
          WhyPath why;
          why.from = from;
          why.to = to;
          why.net_sign = path.net_sign;
          why.nodes.push_back(from);
          for (const knowledge::Edge* edge : path.edges) {
            why.steps.push_back(EdgeStep(*edge));
            why.evidence.push_back(EvidenceOfEdge(kb, *edge));
            why.nodes.push_back(edge->to);
          }
          found.push_back(std::move(why));
        }
      }
    }
    std::stable_sort(found.begin(), found.end(), [](const WhyPath& a, const WhyPath& b) {
      if (a.steps.size() != b.steps.size()) return a.steps.size() < b.steps.size();
      return a.steps < b.steps;
    });
    if (found.size() > kPerSource) found.resize(kPerSource);
    for (auto& path : found) out.push_back(std::move(path));
  }
  return out;
}

ordered_json NodeJson(const WhyNode& node);

ordered_json RuleJson(const WhyRule& rule) {
  ordered_json because = ordered_json::array();
  for (const auto& child : rule.because) because.push_back(NodeJson(child));
  return {{"rule", rule.rule},         {"title", rule.title},        {"file", rule.file},
          {"line", rule.line},         {"opposing", rule.opposing},  {"contribution", rule.contribution},
          {"matched", TestsJson(rule.matched)}, {"citations", rule.citations},
          {"citation_keys", rule.citation_keys}, {"grade", rule.grade}, {"because", because}};
}

ordered_json NodeJson(const WhyNode& node) {
  ordered_json rules = ordered_json::array();
  for (const auto& rule : node.rules) rules.push_back(RuleJson(rule));
  ordered_json out = {{"kind", std::string(Name(node.kind))}, {"id", node.id}, {"certainty", node.certainty},
                      {"support", node.support}, {"against", node.against}};
  if (node.repeated) out["repeated"] = true;
  out["rules"] = rules;
  return out;
}

std::string Arithmetic(const WhyNode& node) {
  if (node.kind == ConclusionKind::kStrategy) return "score " + Num(node.certainty) + " (the suggesting rules combined)";
  if (node.kind == ConclusionKind::kAlert) return "raised";
  std::string text = "support P = " + Num(node.support) + ", against N = " + Num(node.against);
  text += ", certainty (P - N) / (1 - min(P, N)) = " + Num(node.certainty);
  return text;
}

std::string Location(const std::string& file, int line) {
  if (file.empty()) return "";
  return " (" + file + ":" + std::to_string(line) + ")";
}

void NodeText(const WhyNode& node, int indent, std::ostringstream& out);

void RuleText(const WhyRule& rule, int indent, std::ostringstream& out) {
  std::string pad(indent, ' ');
  out << pad << "<- rule " << rule.rule;
  if (!rule.title.empty()) out << " \"" << rule.title << "\"";
  out << Location(rule.file, rule.line);
  if (rule.opposing)
    out << ", against " << Num(rule.contribution);
  else if (rule.contribution > 0)
    out << ", adds " << Num(rule.contribution);
  out << "\n";
  for (const auto& test : rule.matched)
    out << pad << "     matched: " << test.source << "  ->  " << test.Actual() << "\n";
  for (const auto& citation : rule.citations) out << pad << "     cites: " << citation << "\n";
  if (!rule.grade.empty())
    out << pad << "     evidence: grade " << rule.grade << " (" << JoinKeys(rule.citation_keys) << ")\n";
  for (const auto& child : rule.because) NodeText(child, indent + 5, out);
}

void NodeText(const WhyNode& node, int indent, std::ostringstream& out) {
  std::string pad(indent, ' ');
  out << pad << "<- " << Name(node.kind) << " " << node.id << ": " << Arithmetic(node);
  if (node.repeated) out << " (explained above)";
  out << "\n";
  for (const auto& rule : node.rules) RuleText(rule, indent + 3, out);
}

ordered_json NotRuleJson(const WhyNotRule& rule) {
  return {{"rule", rule.rule},
          {"title", rule.title},
          {"file", rule.file},
          {"line", rule.line},
          {"certainty", rule.certainty},
          {"truth", std::string(inference::TruthName(rule.truth))},
          {"closeness", rule.closeness},
          {"held", TestsJson(rule.held)},
          {"failed", TestsJson(rule.failed)},
          {"unknown", TestsJson(rule.unknown)},
          {"citations", rule.citations},
          {"citation_keys", rule.citation_keys},
          {"grade", rule.grade}};
}

// The evidence for and against `id` so far.
struct Standing {
  double support = 0;
  double against = 0;
};

// Whether and how far `id` was concluded, into `out`; returns the evidence behind it.
Standing WhereItStands(const Evaluation& evaluation, std::optional<ConclusionKind> kind, const std::string& id,
                       WhyNotExplanation& out) {
  Standing evidence;
  if (!kind) return evidence;
  if (const auto* map = ConclusionsOf(evaluation, *kind)) {
    if (const auto* conclusion = FindConclusion(*map, id)) {
      out.concluded = conclusion->certainty > 0;
      out.certainty = conclusion->certainty;
      evidence.support = conclusion->support;
      evidence.against = conclusion->against;
    }
  } else if (kind == ConclusionKind::kStrategy) {
    if (const auto* strategy = FindStrategy(evaluation.strategies, id)) {
      out.concluded = true;
      out.certainty = evidence.support = strategy->score;
    }
    if (const auto* blocked = FindStrategy(evaluation.blocked, id)) {
      out.blocked = true;
      out.block_reasons = blocked->reasons;
      out.certainty = evidence.support = blocked->score;
    }
  } else if (kind == ConclusionKind::kAlert) {
    if (FindAlert(evaluation, id)) {
      out.concluded = true;
      out.certainty = evidence.support = 1;
    }
  }
  return evidence;
}

// Whether `id`, of `kind`, was concluded: a conclusion with certainty, a strategy a rule or the
// case brought up, a raised alert.
bool WasConcluded(const Evaluation& evaluation, ConclusionKind kind, const std::string& id) {
  if (const auto* map = ConclusionsOf(evaluation, kind)) {
    const auto* conclusion = FindConclusion(*map, id);
    return conclusion && conclusion->certainty > 0;
  }
  if (kind == ConclusionKind::kStrategy) {
    const auto* strategy = FindSuggested(evaluation, id);
    return strategy != nullptr && (strategy->suggested || !strategy->rules.empty() || strategy->requested);
  }
  return kind == ConclusionKind::kAlert && FindAlert(evaluation, id) != nullptr;
}

// A rule that concludes `id` and did not fire, from its trace: how close it came and what it lacked.
WhyNotRule CandidateFrom(const rules::Rule& rule, const std::string& id, const RuleTrace& trace) {
  WhyNotRule candidate;
  candidate.rule = rule.id;
  candidate.certainty = ActionCertainty(rule, id);
  candidate.truth = trace.truth;
  candidate.closeness = trace.Closeness();
  for (const auto& test : trace.tests) {
    if (test.truth == Truth::kTrue) candidate.held.push_back(test);
    if (test.truth == Truth::kFalse) candidate.failed.push_back(test);
    if (test.truth == Truth::kUnknown) candidate.unknown.push_back(test);
  }
  return candidate;
}

// What DecidingInputs reads of a rule whose condition is still unknown (only data can decide
// such a rule): what it would give `id`, how close it came, the inputs of its unknown tests.
struct Undecided {
  std::string_view rule;
  double certainty = 0;
  double closeness = 0;
  std::vector<std::string_view> inputs;  // sorted, each once
};

Undecided UndecidedFrom(std::string_view rule, double certainty, double closeness,
                        const std::vector<TestTrace>& tests) {
  Undecided out{rule, certainty, closeness, {}};
  for (const auto& test : tests)
    if (test.truth == Truth::kUnknown && !test.input.empty()) out.inputs.push_back(test.input);
  std::sort(out.inputs.begin(), out.inputs.end());
  out.inputs.erase(std::unique(out.inputs.begin(), out.inputs.end()), out.inputs.end());
  return out;
}

// Closest first, then by rule id (DecidingInputs combines them in this order).
template <typename Candidate>
void SortCandidates(std::vector<Candidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.closeness != b.closeness) return a.closeness > b.closeness;
    return a.rule < b.rule;
  });
}

// A rule that concludes `id` but did not fire: how close it came, what it lacked, what it cites.
WhyNotRule Candidate(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                     const inference::FluxValues& flux, const rules::Rule& rule, const std::string& id) {
  WhyNotRule candidate = CandidateFrom(rule, id, engine.ExplainRule(rule, c, flux, evaluation));
  candidate.title = rule.title;
  candidate.file = rule.at.file;
  candidate.line = rule.at.line;
  candidate.citations = FormatCitations(engine.knowledge(), rule.citations);
  candidate.citation_keys = rule.citations;
  candidate.grade = GradeOf(engine.knowledge(), rule.citations);
  return candidate;
}

// The rules that conclude `id`: those that fired into `fired`, the others as candidates, closest
// first, then by rule id (DecidingInputs combines them in this order).
void Candidates(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                const inference::FluxValues& flux, const std::string& id, std::vector<std::string>& fired,
                std::vector<WhyNotRule>& candidates) {
  for (const rules::Rule* rule : engine.RulesConcluding(id)) {
    if (OnlyOpposes(*rule, id)) continue;
    const RuleTrace* trace = FindTrace(evaluation, rule->id);
    if (trace && trace->fired) fired.push_back(rule->id);
    else candidates.push_back(Candidate(engine, c, evaluation, flux, *rule, id));
  }
  SortCandidates(candidates);
}

// The unmeasured inputs that would decide the undecided rules (closest first), deciding the most
// rules first. `combined`: the conclusion's certainty nets evidence against; otherwise it is the
// support alone.
std::vector<DecidingInput> DecidingInputs(const std::vector<Undecided>& undecided, const Standing& evidence,
                                          bool combined) {
  // (input, rule) pairs grouped by input; within an input the rules stay in `undecided` order
  // (their addresses' order).
  std::vector<std::pair<std::string_view, const Undecided*>> by_input;
  for (const auto& rule : undecided)
    for (std::string_view input : rule.inputs) by_input.emplace_back(input, &rule);
  std::sort(by_input.begin(), by_input.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return std::less<>()(a.second, b.second);
  });
  const double before = combined ? inference::CombineForAgainst(evidence.support, evidence.against) : evidence.support;
  std::vector<DecidingInput> out;
  for (size_t first = 0, end = 0; first < by_input.size(); first = end) {
    while (end < by_input.size() && by_input[end].first == by_input[first].first) ++end;
    DecidingInput deciding;
    deciding.input = by_input[first].first;
    deciding.rules.reserve(end - first);
    double added = evidence.support;
    for (size_t i = first; i < end; ++i) {
      deciding.rules.emplace_back(by_input[i].second->rule);
      added = inference::CombineSameSign(added, by_input[i].second->certainty);
    }
    std::sort(deciding.rules.begin(), deciding.rules.end());
    double after = combined ? inference::CombineForAgainst(added, evidence.against) : added;
    deciding.impact = std::max(0.0, after - before);
    out.push_back(std::move(deciding));
  }
  std::sort(out.begin(), out.end(), [](const DecidingInput& a, const DecidingInput& b) {
    if (a.rules.size() != b.rules.size()) return a.rules.size() > b.rules.size();
    if (a.impact != b.impact) return a.impact > b.impact;
    return a.input < b.input;
  });
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::pair<std::string, std::string> TestSubject(const rules::Test& test) {
  switch (test.kind) {
    case TestKind::kSymptomCompare:
    case TestKind::kSymptomPresent:
    case TestKind::kSymptomAbsent: return {"symptom", test.id};
    case TestKind::kQuestionnaireTotal:
    case TestKind::kQuestionnaireItem:
    case TestKind::kQuestionnaireBand:
    case TestKind::kQuestionnairePositive:
    case TestKind::kQuestionnaireNegative: return {"questionnaire", test.id};
    case TestKind::kLabStatus:
    case TestKind::kLabValue:
    case TestKind::kLabMeasured:
    case TestKind::kLabMissing: return {"lab", test.id};
    case TestKind::kDerivedCompare:
    case TestKind::kDerivedStatus: return {"derived", test.id};
    case TestKind::kFluxCompare:
    case TestKind::kFluxAssumed: return {"flux", test.id};
    case TestKind::kMedication:
    case TestKind::kMedicationClass: return {"medication", test.id};
    case TestKind::kCondition: return {"condition", test.id};
    case TestKind::kSupplementCurrent:
    case TestKind::kSupplementRequested: return {"supplement", test.id};
    case TestKind::kSex: return {"patient", "sex"};
    case TestKind::kAge: return {"patient", "age"};
    case TestKind::kPregnant: return {"patient", "pregnant"};
    case TestKind::kLactating: return {"patient", "lactating"};
    case TestKind::kMenopausalStatus: return {"patient", "menopausal_status"};
    case TestKind::kLifestyleCompare:
    case TestKind::kLifestyleIs: return {"lifestyle", test.id};
    case TestKind::kStressorCompare: return {"stressor", test.id};
    case TestKind::kFact: return {std::string(Name(ConclusionKind::kFact)), test.id};
    case TestKind::kDriver: return {std::string(Name(ConclusionKind::kDriver)), test.id};
    case TestKind::kDeficit: return {std::string(Name(ConclusionKind::kDeficit)), test.id};
    case TestKind::kAlert: return {std::string(Name(ConclusionKind::kAlert)), test.id};
    case TestKind::kDataQuality: return {"data_quality", test.text};
  }
  return {std::string(Name(ConclusionKind::kFact)), test.id};
}

std::vector<const rules::Test*> LeafTests(const rules::Condition& condition) {
  std::vector<const rules::Test*> out;
  CollectLeaves(condition, out);
  return out;
}

const RuleTrace* FindTrace(const Evaluation& evaluation, std::string_view rule_id) {
  for (const auto& trace : evaluation.trace.rules)
    if (trace.rule == rule_id) return &trace;
  return nullptr;
}

std::string GradeOf(const knowledge::KnowledgeBase& kb, std::span<const std::string> keys) {
  auto grade = kb.BestGrade(keys);
  return grade ? std::string(Name(*grade)) : std::string();
}

std::string GradeText(const knowledge::KnowledgeBase& kb, const std::vector<std::string>& keys) {
  std::string grade = GradeOf(kb, keys);
  return grade.empty() ? "" : "grade " + grade + " (" + JoinKeys(keys) + ")";
}

EdgeEvidence EvidenceOfEdge(const knowledge::KnowledgeBase& kb, const knowledge::Edge& edge) {
  return EdgeEvidence{EdgeStep(edge), edge.evidence, edge.certainty, GradeOf(kb, edge.citations), edge.citations};
}

std::string EdgeEvidence::ToText() const {
  std::string text;
  auto add = [&](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
  if (!evidence.empty()) add("evidence " + evidence);
  if (!certainty.empty()) add("certainty " + certainty);
  if (!grade.empty()) add("grade " + grade + " (" + JoinKeys(citations) + ")");
  return text.empty() ? "no evidence stated" : text;
}

std::string FormatCitation(const knowledge::KnowledgeBase& kb, const std::string& key) {
  const knowledge::Citation* citation = kb.FindCitation(key);
  if (!citation) return key;
  std::string text = citation->Format();
  return text.empty() ? key : text;
}

namespace {

// EvidenceOf's items, each written into the Evidence `next()` returns (so a caller keeping them
// in a structure of its own builds them in place).
template <typename Next>
void AddEvidenceOf(const inference::Engine& engine, const Evaluation& evaluation, std::string_view rule_id,
                   Next&& next) {
  const RuleTrace* trace = FindTrace(evaluation, rule_id);
  if (!trace || !trace->fired) return;
  const rules::Rule* rule = engine.FindRule(rule_id);
  std::vector<const rules::Test*> leaves;
  if (rule) leaves = LeafTests(rule->when);
  std::string citation;
  const std::span<const std::string> keys = rule ? std::span<const std::string>(rule->citations) : trace->citations;
  if (!keys.empty()) citation = FormatCitation(engine.knowledge(), keys.front());
  std::string grade = GradeOf(engine.knowledge(), keys);
  for (size_t i = 0; i < trace->tests.size(); ++i) {
    const TestTrace& test = trace->tests[i];
    if (test.truth != Truth::kTrue) continue;
    Evidence& evidence = next();
    if (i < leaves.size() && leaves.size() == trace->tests.size()) {
      auto [kind, id] = TestSubject(*leaves[i]);
      evidence.kind = std::move(kind);
      evidence.id = std::move(id);
    } else if (auto colon = test.input.find(':'); colon != std::string_view::npos) {
      evidence.kind = test.input.substr(0, colon);
      evidence.id = test.input.substr(colon + 1);
    } else {
      evidence.kind = "fact";
      evidence.id = test.input.empty() ? test.source : test.input;
    }
    test.AppendActual(evidence.text);
    if (evidence.text.empty()) evidence.text = test.source;
    evidence.rule = rule_id;
    evidence.citation = citation;
    evidence.grade = grade;
  }
}

}  // namespace

std::vector<Evidence> EvidenceOf(const inference::Engine& engine, const Evaluation& evaluation,
                                 std::string_view rule_id) {
  std::vector<Evidence> out;
  AddEvidenceOf(engine, evaluation, rule_id, [&]() -> Evidence& { return out.emplace_back(); });
  return out;
}

std::vector<Evidence> EvidenceBehind(const inference::Engine& engine, const Evaluation& evaluation,
                                     const std::vector<std::string>& rule_ids) {
  EvidenceCache cache(engine, evaluation);
  std::vector<Evidence> out;
  for (const Evidence* evidence : cache.Behind(rule_ids)) out.push_back(*evidence);
  return out;
}

EvidenceCache::EvidenceCache(const inference::Engine& engine, const Evaluation& evaluation)
    : engine_(engine), evaluation_(evaluation) {}

EvidenceCache::~EvidenceCache() = default;

// A rule's evidence with what lies behind each item, built on first use; items of one kind and id
// kept once (EvidenceBehind's duplicates are the same kind, id and rule).
const std::vector<EvidenceCache::Item>& EvidenceCache::Of(std::string_view rule_id) {
  auto [it, added] = of_.try_emplace(rule_id);
  if (!added) return it->second;
  std::vector<Item>& items = it->second;
  AddEvidenceOf(engine_, evaluation_, rule_id, [&]() -> Evidence& { return items.emplace_back().evidence; });
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    std::optional<ConclusionKind> kind = Parse<ConclusionKind>(item.evidence.kind);
    if (kind == ConclusionKind::kDriver || kind == ConclusionKind::kFact)
      item.behind = FindConclusion(*ConclusionsOf(evaluation_, *kind), item.evidence.id);
    // A rule has a few items: a look back finds an earlier one of the same kind and id.
    item.repeated = std::any_of(items.begin(), items.begin() + static_cast<ptrdiff_t>(i), [&](const Item& earlier) {
      return earlier.evidence.kind == item.evidence.kind && earlier.evidence.id == item.evidence.id;
    });
  }
  return items;
}

// Depth first, in the order given, so a deficit's own tests come before what lies behind them.
void EvidenceCache::Visit(std::string_view rule_id, std::vector<std::string_view>& seen_rules,
                          std::vector<const Evidence*>& out) {
  if (std::find(seen_rules.begin(), seen_rules.end(), rule_id) != seen_rules.end()) return;
  seen_rules.push_back(rule_id);
  for (const Item& item : Of(rule_id)) {
    if (item.repeated) continue;
    out.push_back(&item.evidence);
    if (item.behind)
      for (const auto& next : item.behind->rules) Visit(next, seen_rules, out);
  }
}

std::vector<const Evidence*> EvidenceCache::Behind(const std::vector<std::string>& rule_ids) {
  std::vector<const Evidence*> out;
  std::vector<std::string_view> seen_rules;
  for (const auto& rule_id : rule_ids) Visit(rule_id, seen_rules, out);
  return out;
}

// ---------------------------------------------------------------------------------------------

Result<WhyExplanation> Why(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                           const std::string& id, const inference::FluxValues& flux) {
  Subject subject = SubjectOf(engine, evaluation, id);
  if (subject.name.empty()) return UnknownId(engine, id);
  if (!subject.kind || !WasConcluded(evaluation, *subject.kind, id))
    return Status::NotFound("'" + id + "' was not concluded for this case; try --why-not " + id);
  const ConclusionKind kind = *subject.kind;
  const inference::StrategyResult* strategy = kind == ConclusionKind::kStrategy ? FindSuggested(evaluation, id) : nullptr;
  WhyExplanation out;
  out.id = id;
  out.kind = kind;
  WhyBuilder builder(engine, c, evaluation, flux);
  out.root = builder.Build(kind, id, 0);
  if (strategy) {
    out.verdict = std::string(inference::VerdictName(strategy->verdict));
    out.safety = strategy->reasons;
  }
  std::set<std::string> sources;
  std::vector<std::string> deficits;
  if (kind == ConclusionKind::kDeficit) {
    if (const auto* conclusion = FindConclusion(evaluation.deficits, id))
      for (const auto& [driver, weight] : conclusion->drivers) sources.insert(driver);
    CollectDrivers(out.root, sources);
    deficits.push_back(id);
  } else if (strategy) {
    sources.insert(id);
    deficits = strategy->for_deficits;
  }
  out.paths = FindWhyPaths(engine.knowledge(), sources, deficits);
  return out;
}

ordered_json WhyExplanation::ToJson() const {
  ordered_json paths_json = ordered_json::array();
  for (const auto& path : paths) {
    ordered_json evidence = ordered_json::array();
    for (const auto& step : path.evidence)
      evidence.push_back({{"step", step.step}, {"evidence", step.evidence}, {"certainty", step.certainty},
                          {"grade", step.grade}, {"citations", step.citations}});
    paths_json.push_back({{"from", path.from}, {"to", path.to}, {"net_sign", path.net_sign > 0 ? "+" : "-"},
                          {"nodes", path.nodes}, {"steps", path.steps}, {"evidence", evidence}});
  }
  ordered_json out = {{"id", id}, {"kind", std::string(Name(kind))}, {"concluded", true}, {"certainty", root.certainty},
                      {"support", root.support}, {"against", root.against}};
  if (!verdict.empty()) {
    out["verdict"] = verdict;
    ordered_json reasons = ordered_json::array();
    for (const auto& reason : safety) reasons.push_back(ReasonJson(reason));
    out["safety"] = reasons;
  }
  out["chain"] = NodeJson(root);
  out["paths"] = paths_json;
  return out;
}

std::string WhyExplanation::ToText() const {
  std::ostringstream out;
  out << "Why " << Name(kind) << " " << id << "? " << Arithmetic(root) << "\n";
  if (!verdict.empty()) {
    out << "Safety verdict: " << verdict << "\n";
    for (const auto& reason : safety) out << "  - " << ReasonText(reason) << "\n";
  }
  out << "\n";
  for (const auto& rule : root.rules) RuleText(rule, 0, out);
  if (root.rules.empty()) out << "(no rule trace recorded)\n";
  if (!paths.empty()) {
    out << "\nKnowledge-graph paths (" << (kind == ConclusionKind::kStrategy ? "strategy" : "driver")
        << " -> what the deficit involves):\n";
    for (const auto& path : paths) {
      out << "  ";
      for (size_t i = 0; i < path.nodes.size(); ++i) out << (i ? " -> " : "") << path.nodes[i];
      out << "  (net " << (path.net_sign > 0 ? "+" : "-") << ")\n";
      for (size_t i = 0; i < path.steps.size(); ++i) {
        out << "      " << path.steps[i];
        if (i < path.evidence.size()) out << "  [" << path.evidence[i].ToText() << "]";
        out << "\n";
      }
    }
  }
  out << "\nThis explains the engine's reasoning for a practitioner; it is not a diagnosis.\n";
  return out.str();
}

// ---------------------------------------------------------------------------------------------

Result<WhyNotExplanation> WhyNot(const inference::Engine& engine, const casefile::Case& c,
                                 const Evaluation& evaluation, const std::string& id,
                                 const inference::FluxValues& flux) {
  Subject subject = SubjectOf(engine, evaluation, id);
  if (subject.name.empty()) return UnknownId(engine, id);
  WhyNotExplanation out;
  out.id = id;
  out.kind = subject.name;
  Standing evidence = WhereItStands(evaluation, subject.kind, id, out);
  Candidates(engine, c, evaluation, flux, id, out.fired, out.rules);
  std::vector<Undecided> undecided;
  for (const WhyNotRule& rule : out.rules)
    if (rule.truth == Truth::kUnknown)
      undecided.push_back(UndecidedFrom(rule.rule, rule.certainty, rule.closeness, rule.unknown));
  out.inputs = DecidingInputs(undecided, evidence, subject.kind && HasCertainty(*subject.kind));
  return out;
}

Result<Deciding> WhatWouldDecide(const inference::Engine& engine, const casefile::Case& c,
                                 const Evaluation& evaluation, const std::string& id,
                                 const inference::FluxValues& flux) {
  // cppcheck-suppress returnStdMoveLocal ; front() is a reference into a temporary: no elision applies
  return std::move(WhatWouldDecideEach(engine, c, evaluation, {id}, flux).front());
}

std::vector<Result<Deciding>> WhatWouldDecideEach(const inference::Engine& engine, const casefile::Case& c,
                                                  const Evaluation& evaluation, const std::vector<std::string>& ids,
                                                  const inference::FluxValues& flux) {
  std::vector<std::string_view> fired;  // the rules that fired (a few): a rule is considered once a run
  for (const auto& trace : evaluation.trace.rules)
    if (trace.fired) fired.push_back(trace.rule);
  // Every rule that could decide one of the ids, explained once on one load of the case: the
  // (id's index, rule) pairs in id order, the rules explained in rule base order, each once.
  std::vector<std::pair<size_t, const rules::Rule*>> candidates;
  for (size_t i = 0; i < ids.size(); ++i) {
    for (const rules::Rule* rule : engine.RulesConcluding(ids[i])) {
      if (OnlyOpposes(*rule, ids[i])) continue;
      if (std::find(fired.begin(), fired.end(), rule->id) != fired.end()) continue;
      candidates.emplace_back(i, rule);
    }
  }
  std::vector<const rules::Rule*> to_explain;
  to_explain.reserve(candidates.size());
  for (const auto& candidate : candidates) to_explain.push_back(candidate.second);
  std::sort(to_explain.begin(), to_explain.end(), std::less<>());
  to_explain.erase(std::unique(to_explain.begin(), to_explain.end()), to_explain.end());
  std::vector<RuleTrace> traces =
      engine.ExplainRules(to_explain, c, flux, evaluation, inference::Engine::ExplainDetail::kUnknownInputs);
  auto trace_of = [&](const rules::Rule* rule) -> const RuleTrace& {
    return traces[static_cast<size_t>(std::lower_bound(to_explain.begin(), to_explain.end(), rule, std::less<>()) -
                                      to_explain.begin())];
  };
  std::vector<Result<Deciding>> out;
  out.reserve(ids.size());
  size_t next = 0;  // the first of ids[i]'s candidates
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    const size_t first = next;
    while (next < candidates.size() && candidates[next].first == i) ++next;
    Subject subject = SubjectOf(engine, evaluation, id);
    if (subject.name.empty()) {
      out.emplace_back(UnknownId(engine, id));
      continue;
    }
    WhyNotExplanation standing;
    Standing evidence = WhereItStands(evaluation, subject.kind, id, standing);
    std::vector<Undecided> undecided;
    for (size_t k = first; k < next; ++k) {
      const rules::Rule* rule = candidates[k].second;
      const RuleTrace& trace = trace_of(rule);
      if (trace.truth == Truth::kUnknown)
        undecided.push_back(UndecidedFrom(rule->id, ActionCertainty(*rule, id), trace.Closeness(), trace.tests));
    }
    SortCandidates(undecided);
    out.emplace_back(Deciding{standing.certainty,
                              DecidingInputs(undecided, evidence, subject.kind && HasCertainty(*subject.kind))});
  }
  return out;
}

ordered_json WhyNotExplanation::ToJson() const {
  ordered_json out = {{"id", id}, {"kind", kind}, {"concluded", concluded}, {"certainty", certainty},
                      {"fired", fired}, {"blocked", blocked}};
  ordered_json reasons = ordered_json::array();
  for (const auto& reason : block_reasons) reasons.push_back(ReasonJson(reason));
  out["block_reasons"] = reasons;
  ordered_json rules_json = ordered_json::array();
  for (const auto& rule : rules) rules_json.push_back(NotRuleJson(rule));
  out["rules"] = rules_json;
  ordered_json inputs_json = ordered_json::array();
  for (const auto& input : inputs)
    inputs_json.push_back({{"input", input.input}, {"rules", input.rules}, {"impact", input.impact}});
  out["deciding_inputs"] = inputs_json;
  return out;
}

std::string WhyNotExplanation::ToText() const {
  std::ostringstream out;
  out << "Why not " << kind << " " << id << "?\n";
  if (blocked) {
    out << "It was suggested but BLOCKED by the safety gate:\n";
    for (const auto& reason : block_reasons) out << "  - " << ReasonText(reason) << "\n";
  } else if (concluded) {
    out << "It WAS concluded, certainty " << Num(certainty) << " (see --why " << id << ").\n";
  } else {
    out << "It was not concluded for this case.\n";
  }
  if (!fired.empty()) {
    out << "Rules that fired for it:";
    for (const auto& rule : fired) out << " " << rule;
    out << "\n";
  }
  if (rules.empty()) {
    out << (fired.empty() ? "No rule in the rule base concludes it.\n" : "Every rule that concludes it fired.\n");
  } else {
    out << "\nRules that did not fire, closest first:\n";
    for (const auto& rule : rules) {
      out << "\n  rule " << rule.rule;
      if (!rule.title.empty()) out << " \"" << rule.title << "\"";
      out << Location(rule.file, rule.line) << "\n";
      out << "    " << rule.held.size() << " of " << (rule.held.size() + rule.failed.size() + rule.unknown.size())
          << " tests held (closeness " << Num(rule.closeness) << "), condition "
          << inference::TruthName(rule.truth) << ", would give " << Num(rule.certainty) << "\n";
      for (const auto& test : rule.failed) out << "    failed:  " << test.source << "  (actual: " << test.Actual() << ")\n";
      for (const auto& test : rule.unknown) {
        const std::string actual = test.Actual();
        out << "    unknown: " << test.source << "  (" << (actual.empty() ? "no data" : actual) << ")\n";
      }
      for (const auto& citation : rule.citations) out << "    cites: " << citation << "\n";
      if (!rule.grade.empty()) out << "    evidence: grade " << rule.grade << " (" << JoinKeys(rule.citation_keys) << ")\n";
    }
  }
  if (!inputs.empty()) {
    out << "\nUnmeasured inputs that would decide it:\n";
    for (const auto& input : inputs) {
      out << "  " << input.input << "  decides " << input.rules.size() << " rule(s): ";
      for (size_t i = 0; i < input.rules.size(); ++i) out << (i ? ", " : "") << input.rules[i];
      out << "; could add up to " << Num(input.impact) << "\n";
    }
  }
  return out.str();
}

}  // namespace nflux::explain
