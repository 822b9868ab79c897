#include <algorithm>
#include <bit>
#include <functional>
#include <queue>
#include <set>
#include <string_view>
#include <unordered_map>

#include "base/text.h"
#include "inference/certainty.h"
#include "inference/inference.h"

namespace nflux::inference {
namespace {

using rules::Condition;
using rules::Test;
using rules::TestKind;

// Heterogeneous lookup (StringHash) so a string_view from the case finds a symbol without allocating.
using SymbolMap = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

// The families of symbols; each has its own id space so "ferritin" the lab and a fact of the
// same name never collide.
enum Family {
  kSymptom, kQuestionnaire, kLab, kDerived, kFlux, kMedication, kMedicationClass, kCondition,
  kSupplementCurrent, kSupplementRequested, kLifestyle, kStressor, kFact, kDriver, kDeficit, kAlert,
  kFamilyCount,
};

Family FamilyOf(TestKind kind) {
  switch (kind) {
    case TestKind::kSymptomCompare: case TestKind::kSymptomPresent: case TestKind::kSymptomAbsent: return kSymptom;
    case TestKind::kQuestionnaireTotal: case TestKind::kQuestionnaireItem: case TestKind::kQuestionnaireBand:
    case TestKind::kQuestionnairePositive: case TestKind::kQuestionnaireNegative: return kQuestionnaire;
    case TestKind::kLabStatus: case TestKind::kLabValue: case TestKind::kLabMeasured: case TestKind::kLabMissing: return kLab;
    case TestKind::kDerivedCompare: case TestKind::kDerivedStatus: return kDerived;
    case TestKind::kFluxCompare: case TestKind::kFluxAssumed: return kFlux;
    case TestKind::kMedication: return kMedication;
    case TestKind::kMedicationClass: return kMedicationClass;
    case TestKind::kCondition: return kCondition;
    case TestKind::kSupplementCurrent: return kSupplementCurrent;
    case TestKind::kSupplementRequested: return kSupplementRequested;
    case TestKind::kLifestyleCompare: case TestKind::kLifestyleIs: return kLifestyle;
    case TestKind::kStressorCompare: return kStressor;
    case TestKind::kFact: return kFact;
    case TestKind::kDriver: return kDriver;
    case TestKind::kDeficit: return kDeficit;
    case TestKind::kAlert: return kAlert;
    default: return kFamilyCount;  // patient fields and data quality: no symbol
  }
}

const char* FamilyPrefix(Family family) {
  static const char* kPrefixes[] = {"symptom", "questionnaire", "lab", "derived", "flux", "medication",
                                    "medication_class", "condition", "supplement", "requested", "lifestyle",
                                    "stressor", "fact", "driver", "deficit", "alert"};
  return kPrefixes[family];
}

// What the working memory holds for one symbol during one evaluation.
struct Slot {
  uint32_t generation = 0;  // present iff equal to the evaluation's generation
  double value = 0;         // numbers; conclusions: unused
  const void* data = nullptr;
  double support = 0, against = 0;  // conclusions
};

// Lab statuses a rule may test, decoded once at compile time rather than compared as text.
enum class LabCheck { kNone, kLow, kNormal, kHigh, kAbnormal, kCritical, kBelowOptimal, kOptimal, kAboveOptimal };

LabCheck LabCheckOf(const std::string& status) {
  static const std::pair<const char*, LabCheck> kChecks[] = {
      {"low", LabCheck::kLow}, {"normal", LabCheck::kNormal}, {"high", LabCheck::kHigh},
      {"abnormal", LabCheck::kAbnormal}, {"critical", LabCheck::kCritical}, {"below_optimal", LabCheck::kBelowOptimal},
      {"optimal", LabCheck::kOptimal}, {"above_optimal", LabCheck::kAboveOptimal}};
  for (const auto& [name, check] : kChecks)
    if (status == name) return check;
  return LabCheck::kNone;
}

// One node of a compiled condition. Tests carry copies of the fields evaluation reads, so the hot
// path touches one small record instead of the parser's large Test.
struct CompiledNode {
  Condition::Op op = Condition::Op::kTest;
  TestKind kind = TestKind::kFact;
  rules::Compare compare = rules::Compare::kGreaterEqual;
  LabCheck lab_check = LabCheck::kNone;
  bool has_compare = false;
  int symbol = -1;  // the datum or conclusion the test reads; -1: patient fields, data quality
  double number = 0;
  const Test* test = nullptr;  // the whole test: text fields and the source for traces
  // Connectives: the children are nodes [first_child, first_child + child_count).
  int first_child = 0;
  int child_count = 0;
  int at_least = 0;
};

struct CompiledRule {
  const rules::Rule* rule;
  int root = 0;                 // index into Compiled::nodes
  bool needs_evidence = false;  // raises an alert: compute `because` even without a trace
};

// The agenda bit of RuleState::parts: the rule is on the agenda.
constexpr uint32_t kQueued = 1u << 31;
constexpr int kMaxParts = 31;

// An entry of a symbol's wake list: the rule, the part of it this symbol can activate, and the
// leaf test on the symbol that must not be false for that (a copy, so the filter reads no other
// memory). A symbol's wakers are sorted so that equal filters are neighbours and evaluated once.
struct Waker {
  int rule = 0;
  uint32_t part = 0;      // the bit in `required` this waker sets
  uint32_t required = 0;  // one bit per required part of the rule (Engine::Compiled::RequiredParts)
  bool filtered = false;
  bool same_filter_as_previous = false;
  CompiledNode leaf;
};

// What decides a leaf test's truth on a given symbol's value: tests with equal keys on the same
// symbol always agree, so a wake list evaluates each key once.
auto FilterKey(const CompiledNode& leaf) {
  return std::make_tuple(leaf.kind, leaf.compare, leaf.lab_check, leaf.has_compare, leaf.number,
                         std::cref(leaf.test->text), leaf.test->item);
}

// Per rule and evaluation: which required parts have been activated, and the agenda bit.
struct RuleState {
  uint32_t generation = 0;
  uint32_t parts = 0;
};

// Per-thread scratch space reused across evaluations: no clearing, generations mark validity.
struct Scratch {
  std::vector<Slot> slots;
  std::vector<RuleState> rules;
  uint32_t generation = 0;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

void AppendUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

int SeverityRank(const std::string& severity) {
  if (severity == "urgent") return 0;
  if (severity == "high") return 1;
  if (severity == "caution") return 2;
  return 3;
}

}  // namespace

std::string_view TruthName(Truth truth) {
  switch (truth) {
    case Truth::kTrue: return "true";
    case Truth::kFalse: return "false";
    default: return "unknown";
  }
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAcceptable: return "acceptable";
    case Verdict::kCaution: return "acceptable_with_caution";
    default: return "blocked";
  }
}

FluxValues FluxValues::From(const flux::FluxResult& result) {
  FluxValues out;
  for (const auto& pathway : result.pathways)
    for (size_t i = 0; i < pathway.index.size(); ++i) {
      std::string key = pathway.pathway + "." + flux::IndexNames()[i];
      out.values[key] = pathway.index[i];
      if (pathway.rests_on_assumption) out.assumed[key] = true;
    }
  return out;
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
  if (fired) out["order"] = order;
  for (const auto& test : tests)
    out["tests"].push_back({{"test", test.source}, {"truth", std::string(TruthName(test.truth))},
                            {"actual", test.actual}, {"input", test.input}, {"strength", test.strength}});
  for (const auto& c : contributions)
    out["contributions"].push_back({{"kind", c.kind}, {"id", c.id}, {"certainty", c.certainty}});
  return out;
}

nlohmann::json Trace::ToJson() const {
  nlohmann::json out = {{"considered", considered}, {"firings", firings}, {"rules", nlohmann::json::array()}};
  if (!stopped.empty()) out["stopped"] = stopped;
  for (const auto& rule : rules) out["rules"].push_back(rule.ToJson());
  return out;
}

StrategyResult CheckStrategy(const std::string& strategy_id, const casefile::Case& c,
                             const knowledge::KnowledgeBase& kb) {
  StrategyResult result;
  result.id = strategy_id;
  const knowledge::Node* node = kb.Find(strategy_id);
  if (node && node->strategy) result.kind = std::string(Name(node->strategy->kind));
  for (const knowledge::Edge* edge : kb.OutEdges(strategy_id)) {
    if (edge->type != knowledge::EdgeType::kContraindicatedWith) continue;
    const knowledge::Node* target = kb.Find(edge->to);
    if (!target) continue;
    bool applies = false;
    switch (target->kind) {
      case knowledge::NodeKind::kMedication:
        applies = c.TakesMedication(edge->to) || c.TakesMedicationClass(edge->to);
        break;
      case knowledge::NodeKind::kMedicationClass:
        applies = c.TakesMedicationClass(edge->to);
        break;
      case knowledge::NodeKind::kCondition:
        applies = c.HasCondition(edge->to) || (edge->to == "pregnancy" && c.patient.pregnant.value_or(false)) ||
                  (edge->to == "lactation" && c.patient.lactating.value_or(false));
        break;
      case knowledge::NodeKind::kLifestyleFactor:
        applies = c.LifestyleBool(edge->to).value_or(false) || c.LifestyleNumber(edge->to).value_or(0) > 0;
        break;
      default:
        break;
    }
    for (const auto& lifting : edge->unless)
      if (c.TakesMedication(lifting) || c.TakesMedicationClass(lifting) || c.HasCondition(lifting)) applies = false;
    if (!applies) continue;
    result.reasons.push_back(BlockReason{edge->alert, edge->to, std::string(Name(edge->severity)), edge->citations, edge->note});
    if (Blocks(edge->severity)) result.verdict = Verdict::kBlocked;
    else if (result.verdict == Verdict::kAcceptable) result.verdict = Verdict::kCaution;
  }
  return result;
}

struct Engine::Compiled {
  std::vector<SymbolMap> symbols{kFamilyCount};
  std::vector<std::pair<Family, std::string>> symbol_names;
  std::vector<CompiledRule> rules;
  std::vector<CompiledNode> nodes;  // every rule's condition, each node's children side by side
  // Every symbol's wake list, one after another: symbol s owns wakers [waker_begin[s], waker_begin[s + 1]).
  std::vector<Waker> wakers;
  std::vector<uint32_t> waker_begin;
  std::vector<int> always_rules;

  int Intern(Family family, const std::string& id) {
    if (int found = Find(family, id); found >= 0) return found;  // no key copy for known ids
    int symbol = static_cast<int>(symbol_names.size());
    symbols[family].emplace(id, symbol);
    symbol_names.emplace_back(family, id);
    return symbol;
  }
  int Find(Family family, std::string_view id) const {
    auto it = symbols[family].find(id);
    return it == symbols[family].end() ? -1 : it->second;
  }

  // Compiles `condition` into nodes[index]; its children go to fresh consecutive nodes.
  void CompileCondition(const Condition& condition, int index) {
    nodes[index].op = condition.op;
    nodes[index].at_least = condition.at_least;
    if (condition.op == Condition::Op::kTest) {
      const Test& test = condition.test;
      CompiledNode& node = nodes[index];
      node.kind = test.kind;
      node.compare = test.op;
      node.has_compare = test.has_compare;
      node.number = test.number;
      node.test = &test;
      if (test.kind == TestKind::kLabStatus) node.lab_check = LabCheckOf(test.text);
      Family family = FamilyOf(test.kind);
      if (family != kFamilyCount) node.symbol = Intern(family, test.id);
      return;
    }
    const int first = static_cast<int>(nodes.size());
    const int count = static_cast<int>(condition.children.size());
    nodes[index].first_child = first;
    nodes[index].child_count = count;
    nodes.resize(nodes.size() + static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) CompileCondition(condition.children[static_cast<size_t>(i)], first + i);
  }

  // A datum that can wake a rule: its symbol, and the leaf test that reads it (-1 when several
  // do), so that a rule is put on the agenda only when that test is not already false.
  struct Trigger {
    int symbol;
    int leaf;
  };

  // The parts of a rule's condition that must each be activated (one of their triggers present
  // with its leaf test not false) before the rule can be true: the required children of a root
  // `and`, else the root itself. Empty: the rule can be true with nothing present.
  std::vector<std::vector<Trigger>> RequiredParts(int root) const {
    std::vector<std::vector<Trigger>> parts;
    const CompiledNode& node = nodes[root];
    if (node.op != Condition::Op::kAnd) {
      if (auto requirement = Requirement(root)) parts.push_back(std::move(*requirement));
      return parts;
    }
    for (int child = node.first_child; child < node.first_child + node.child_count; ++child)
      if (auto requirement = Requirement(child); requirement && parts.size() < kMaxParts)
        parts.push_back(std::move(*requirement));
    return parts;
  }

  // The triggers at least one of which must be present for the node to be true; nullopt: it can
  // be true with none present (negation, patient fields, "is missing").
  std::optional<std::vector<Trigger>> Requirement(int index) const {
    const CompiledNode& node = nodes[index];
    switch (node.op) {
      case Condition::Op::kTest:
        if (node.symbol < 0 || node.kind == TestKind::kLabMissing) return std::nullopt;
        return std::vector<Trigger>{{node.symbol, index}};
      case Condition::Op::kNot:
        return std::nullopt;
      case Condition::Op::kAnd: {
        // Any one part suffices: take the one with the fewest triggers. Its leaf must hold for the
        // whole to hold, so the leaf filter stays valid.
        std::optional<std::vector<Trigger>> best;
        for (int child = node.first_child; child < node.first_child + node.child_count; ++child) {
          auto requirement = Requirement(child);
          if (requirement && (!best || requirement->size() < best->size())) best = std::move(requirement);
        }
        return best;
      }
      case Condition::Op::kOr:
      case Condition::Op::kAtLeast: {
        if (node.op == Condition::Op::kAtLeast && node.at_least <= 0) return std::nullopt;
        std::vector<Trigger> all;
        for (int child = node.first_child; child < node.first_child + node.child_count; ++child) {
          auto requirement = Requirement(child);
          if (!requirement) return std::nullopt;
          all.insert(all.end(), requirement->begin(), requirement->end());
        }
        return all;
      }
    }
    return std::nullopt;
  }
};

Engine::Engine(std::shared_ptr<const rules::RuleBase> rule_base, std::shared_ptr<const knowledge::KnowledgeBase> kb)
    : rules_(std::move(rule_base)), kb_(std::move(kb)), compiled_(std::make_unique<Compiled>()) {
  Compiled& compiled = *compiled_;
  compiled.rules.reserve(rules_->rules.size());
  for (const auto& rule : rules_->rules) {
    CompiledRule compiled_rule{&rule, static_cast<int>(compiled.nodes.size()), false};
    compiled.nodes.emplace_back();
    compiled.CompileCondition(rule.when, compiled_rule.root);
    for (const auto& action : rule.actions) {
      switch (action.kind) {
        case rules::ActionKind::kDeriveFact: compiled.Intern(kFact, action.id); break;
        case rules::ActionKind::kConcludeDriver: compiled.Intern(kDriver, action.id); break;
        case rules::ActionKind::kSuggestDeficit:
        case rules::ActionKind::kOpposeDeficit: compiled.Intern(kDeficit, action.id); break;
        case rules::ActionKind::kRaiseAlert:
          compiled.Intern(kAlert, action.id);
          compiled_rule.needs_evidence = true;
          break;
        default: break;
      }
    }
    compiled.rules.push_back(compiled_rule);
  }
  std::vector<std::pair<int, Waker>> wakers;  // with their symbol, before grouping by symbol
  for (size_t i = 0; i < compiled.rules.size(); ++i) {
    auto parts = compiled.RequiredParts(compiled.rules[i].root);
    if (parts.empty()) {
      compiled.always_rules.push_back(static_cast<int>(i));
      continue;
    }
    const uint32_t required = (1u << parts.size()) - 1;
    for (size_t p = 0; p < parts.size(); ++p) {
      const uint32_t bit = 1u << p;
      // One entry per symbol and part; a symbol read by several leaves of a part keeps no filter.
      std::vector<Compiled::Trigger> leaf_of;
      for (const auto& trigger : parts[p]) {
        auto same = std::find_if(leaf_of.begin(), leaf_of.end(),
                                 [&](const Compiled::Trigger& seen) { return seen.symbol == trigger.symbol; });
        if (same == leaf_of.end()) leaf_of.push_back(trigger);
        else if (same->leaf != trigger.leaf) same->leaf = -1;
      }
      for (auto [symbol, leaf] : leaf_of) {
        Waker waker;
        waker.rule = static_cast<int>(i);
        waker.part = bit;
        waker.required = required;
        waker.filtered = leaf >= 0;
        if (leaf >= 0) waker.leaf = compiled.nodes[leaf];
        wakers.emplace_back(symbol, waker);
      }
    }
  }
  // Unfiltered wakers first, then filtered ones grouped by filter; rule and part break ties, so
  // the order is fully determined (and std::sort needs no buffer, unlike a stable sort).
  auto before = [](const Waker& a, const Waker& b) {
    if (a.filtered != b.filtered) return !a.filtered;
    if (a.filtered && FilterKey(a.leaf) != FilterKey(b.leaf)) return FilterKey(a.leaf) < FilterKey(b.leaf);
    return std::tie(a.rule, a.part) < std::tie(b.rule, b.part);
  };
  const size_t symbol_count = compiled.symbol_names.size();
  compiled.waker_begin.assign(symbol_count + 1, 0);
  for (const auto& [symbol, waker] : wakers) ++compiled.waker_begin[static_cast<size_t>(symbol) + 1];
  for (size_t s = 0; s < symbol_count; ++s) compiled.waker_begin[s + 1] += compiled.waker_begin[s];
  compiled.wakers.resize(wakers.size());
  std::vector<uint32_t> next(compiled.waker_begin.begin(), compiled.waker_begin.end() - 1);
  for (const auto& [symbol, waker] : wakers) compiled.wakers[next[static_cast<size_t>(symbol)]++] = waker;
  for (size_t s = 0; s < symbol_count; ++s) {
    auto begin = compiled.wakers.begin() + compiled.waker_begin[s];
    auto end = compiled.wakers.begin() + compiled.waker_begin[s + 1];
    std::sort(begin, end, before);
    for (auto it = begin; it != end; ++it)
      it->same_filter_as_previous =
          it != begin && it->filtered && (it - 1)->filtered && FilterKey(it->leaf) == FilterKey((it - 1)->leaf);
  }
}

Engine::~Engine() = default;

std::vector<const rules::Rule*> Engine::RulesConcluding(const std::string& id) const {
  // A scan, not an index: only explanations ask, and a scan costs less than building the index
  // for every engine.
  std::vector<const rules::Rule*> out;
  for (const auto& rule : rules_->rules)
    for (const auto& action : rule.actions)
      if (action.id == id) {
        out.push_back(&rule);
        break;
      }
  return out;
}

namespace {

// Records what a test read, only when tracing: building these strings is most of the cost of a
// test, so an untraced evaluation must not pay for them.
#define NFLUX_NOTE(input_text, actual_text) \
  do {                                       \
    if (trace) {                             \
      trace->input = (input_text);           \
      trace->actual = (actual_text);         \
    }                                        \
  } while (false)

// Evaluates compiled conditions against one case. Reads the slots of the working memory.
class Evaluator {
 public:
  Evaluator(const casefile::Case& c, const FluxValues& flux, const std::vector<Slot>& slots, uint32_t generation,
            const std::vector<CompiledNode>& nodes)
      : case_(c), flux_(flux), slots_(slots), generation_(generation), nodes_(nodes) {}

  // The truth of one leaf test alone, untraced: the agenda's filter.
  Truth EvaluateLeaf(const CompiledNode& leaf) const {
    double strength = 1;
    return EvaluateTest(leaf, &strength, nullptr);
  }

  // Returns the truth of node `index`; *strength gets the certainty of the conclusions it read.
  // With `trace`, every leaf's evaluation is recorded (in the order met).
  Truth Evaluate(int index, double* strength, std::vector<TestTrace>* trace) const {
    const CompiledNode& node = nodes_[index];
    switch (node.op) {
      case Condition::Op::kTest: {
        if (!trace) return EvaluateTest(node, strength, nullptr);
        TestTrace leaf;
        leaf.truth = EvaluateTest(node, strength, &leaf);
        leaf.source = node.test->source;
        leaf.strength = *strength;
        trace->push_back(std::move(leaf));
        return leaf.truth;
      }
      case Condition::Op::kNot: {
        double ignored = 1;
        Truth truth = Evaluate(node.first_child, &ignored, trace);
        *strength = 1;
        return truth == Truth::kTrue ? Truth::kFalse : truth == Truth::kFalse ? Truth::kTrue : Truth::kUnknown;
      }
      case Condition::Op::kAnd: {
        Truth result = Truth::kTrue;
        double weakest = 1;
        for (int child = node.first_child; child < node.first_child + node.child_count; ++child) {
          double child_strength = 1;
          Truth truth = Evaluate(child, &child_strength, trace);
          if (truth == Truth::kFalse) {
            result = Truth::kFalse;
            if (!trace) break;  // no need to look further unless the trace wants every leaf
          } else if (truth == Truth::kUnknown && result != Truth::kFalse) {
            result = Truth::kUnknown;
          }
          if (truth == Truth::kTrue) weakest = std::min(weakest, child_strength);
        }
        *strength = weakest;
        return result;
      }
      case Condition::Op::kOr:
      case Condition::Op::kAtLeast: {
        const int needed = node.op == Condition::Op::kOr ? 1 : node.at_least;
        int held = 0, unknown = 0;
        // The strength of the N strongest parts that hold is the N-th largest; for `or` (N = 1)
        // the largest, kept without a vector on this hot path.
        double strongest = 0;
        std::vector<double> strengths;
        for (int child = node.first_child; child < node.first_child + node.child_count; ++child) {
          double child_strength = 1;
          Truth truth = Evaluate(child, &child_strength, trace);
          if (truth == Truth::kTrue) {
            ++held;
            strongest = std::max(strongest, child_strength);
            if (needed > 1) strengths.push_back(child_strength);
          } else if (truth == Truth::kUnknown) {
            ++unknown;
          }
        }
        if (held >= needed && needed > 1) {
          std::nth_element(strengths.begin(), strengths.begin() + (needed - 1), strengths.end(), std::greater<>());
          strongest = strengths[needed - 1];
        }
        *strength = held >= needed && needed > 0 ? strongest : 1;
        if (held >= needed) return Truth::kTrue;
        if (held + unknown < needed) return Truth::kFalse;
        return Truth::kUnknown;
      }
    }
    return Truth::kUnknown;
  }

 private:
  const Slot* SlotFor(const CompiledNode& node) const {
    if (node.symbol < 0) return nullptr;
    const Slot& slot = slots_[node.symbol];
    return slot.generation == generation_ ? &slot : nullptr;
  }

  static Truth FromBool(bool value) { return value ? Truth::kTrue : Truth::kFalse; }

  Truth EvaluateTest(const CompiledNode& node, double* strength, TestTrace* trace) const {
    const Test& test = *node.test;  // read only for text fields and traces
    const Slot* slot = SlotFor(node);
    *strength = 1;
    const std::string& id = test.id;
    switch (node.kind) {
      case TestKind::kSymptomCompare:
      case TestKind::kSymptomPresent:
      case TestKind::kSymptomAbsent: {
        if (!slot) { NFLUX_NOTE("symptom:" + id, id + " not entered"); return Truth::kUnknown; }
        double v = slot->value;
        NFLUX_NOTE("symptom:" + id, id + " " + FormatNumber(v) + "/3");
        if (node.kind == TestKind::kSymptomPresent) return FromBool(v >= 1);
        if (node.kind == TestKind::kSymptomAbsent) return FromBool(v == 0);
        return FromBool(rules::Holds(v, node.compare, node.number));
      }
      case TestKind::kQuestionnaireTotal:
      case TestKind::kQuestionnaireItem:
      case TestKind::kQuestionnaireBand:
      case TestKind::kQuestionnairePositive:
      case TestKind::kQuestionnaireNegative: {
        const auto* q = slot ? static_cast<const casefile::QuestionnaireResult*>(slot->data) : nullptr;
        auto input = [&] { return "questionnaire:" + id; };
        if (!q) { NFLUX_NOTE(input(), id + " not given"); return Truth::kUnknown; }
        if (node.kind == TestKind::kQuestionnaireItem) {
          auto answer = q->Item(test.item);
          auto item_input = [&] { return input() + ".item" + std::to_string(test.item); };
          if (!answer) { NFLUX_NOTE(item_input(), id + " item " + std::to_string(test.item) + " not given"); return Truth::kUnknown; }
          NFLUX_NOTE(item_input(), id + " item " + std::to_string(test.item) + " = " + std::to_string(*answer));
          return FromBool(rules::Holds(*answer, node.compare, node.number));
        }
        if (node.kind == TestKind::kQuestionnairePositive || node.kind == TestKind::kQuestionnaireNegative) {
          std::optional<bool> positive = q->positive;
          if (!positive && !q->result.empty()) positive = q->result == "positive";
          if (!positive) { NFLUX_NOTE(input(), id + " has no result"); return Truth::kUnknown; }
          NFLUX_NOTE(input(), id + (*positive ? " positive" : " negative"));
          return FromBool(*positive == (node.kind == TestKind::kQuestionnairePositive));
        }
        if (!q->total) { NFLUX_NOTE(input(), id + " total not given"); return Truth::kUnknown; }
        NFLUX_NOTE(input(), id + " total " + std::to_string(*q->total) + (q->band.empty() ? "" : " (" + q->band + ")"));
        if (node.kind == TestKind::kQuestionnaireBand) return FromBool(q->band == test.text);
        return FromBool(rules::Holds(*q->total, node.compare, node.number));
      }
      case TestKind::kLabStatus:
      case TestKind::kLabValue:
      case TestKind::kLabMeasured:
      case TestKind::kLabMissing: {
        const auto* lab = slot ? static_cast<const casefile::LabResult*>(slot->data) : nullptr;
        auto input = [&] { return "lab:" + id; };
        if (node.kind == TestKind::kLabMeasured || node.kind == TestKind::kLabMissing) {
          NFLUX_NOTE(input(), lab ? id + " measured" : id + " not measured");
          return FromBool((lab != nullptr) == (node.kind == TestKind::kLabMeasured));
        }
        if (!lab) { NFLUX_NOTE(input(), id + " not measured"); return Truth::kUnknown; }
        if (trace) {
          std::string text = id + " " + FormatNumber(*lab->value, 4) + " " + lab->unit + " (" +
                             std::string(casefile::LabStatusName(lab->status));
          if (lab->reference_low || lab->reference_high)
            text += "; reference " + (lab->reference_low ? FormatNumber(*lab->reference_low) : std::string()) + "-" +
                    (lab->reference_high ? FormatNumber(*lab->reference_high) : std::string());
          if (lab->critical) text += "; critical";
          trace->input = input();
          trace->actual = text + ")";
        }
        if (node.kind == TestKind::kLabValue) return FromBool(rules::Holds(*lab->value, node.compare, node.number));
        using casefile::LabStatus;
        using casefile::OptimalStatus;
        switch (node.lab_check) {
          case LabCheck::kCritical:
            return FromBool(lab->critical);
          case LabCheck::kBelowOptimal:
          case LabCheck::kOptimal:
          case LabCheck::kAboveOptimal: {
            if (!lab->has_optimal) return Truth::kUnknown;
            OptimalStatus wanted = node.lab_check == LabCheck::kBelowOptimal ? OptimalStatus::kLow
                                   : node.lab_check == LabCheck::kOptimal    ? OptimalStatus::kOptimal
                                                                             : OptimalStatus::kHigh;
            return FromBool(lab->optimal_status == wanted);
          }
          default:
            break;
        }
        if (lab->status == LabStatus::kUnknown) return Truth::kUnknown;
        switch (node.lab_check) {
          case LabCheck::kAbnormal: return FromBool(lab->status != LabStatus::kNormal);
          case LabCheck::kLow: return FromBool(lab->status == LabStatus::kLow);
          case LabCheck::kNormal: return FromBool(lab->status == LabStatus::kNormal);
          case LabCheck::kHigh: return FromBool(lab->status == LabStatus::kHigh);
          default: return Truth::kUnknown;
        }
      }
      case TestKind::kDerivedCompare:
      case TestKind::kDerivedStatus: {
        const auto* derived = slot ? static_cast<const casefile::DerivedIndex*>(slot->data) : nullptr;
        if (!derived) { NFLUX_NOTE("derived:" + id, id + " not computable (inputs missing)"); return Truth::kUnknown; }
        NFLUX_NOTE("derived:" + id, id + " " + FormatNumber(derived->value, 3) + " (" + derived->status + ")");
        if (node.kind == TestKind::kDerivedStatus) return FromBool(derived->status == test.text);
        return FromBool(rules::Holds(derived->value, node.compare, node.number));
      }
      case TestKind::kFluxCompare:
      case TestKind::kFluxAssumed: {
        if (!slot) { NFLUX_NOTE("flux:" + id, id + " has no flux value"); return Truth::kUnknown; }
        auto assumed = flux_.assumed.find(id);
        bool is_assumed = assumed != flux_.assumed.end() && assumed->second;
        NFLUX_NOTE("flux:" + id, id + " " + FormatNumber(slot->value, 3) + (is_assumed ? " (rests on assumptions)" : ""));
        if (node.kind == TestKind::kFluxAssumed) return FromBool(is_assumed);
        return FromBool(rules::Holds(slot->value, node.compare, node.number));
      }
      case TestKind::kMedication:
      case TestKind::kMedicationClass: {
        auto input = [&] { return std::string(node.kind == TestKind::kMedication ? "medication:" : "medication_class:") + id; };
        if (slot) { NFLUX_NOTE(input(), "takes " + id); return Truth::kTrue; }
        if (!case_.medications_given) { NFLUX_NOTE(input(), "no medication list"); return Truth::kUnknown; }
        { NFLUX_NOTE(input(), id + " not in the medication list"); return Truth::kFalse; }
      }
      case TestKind::kCondition: {
        if (slot) { NFLUX_NOTE("condition:" + id, "has " + id); return Truth::kTrue; }
        if (id == "pregnancy" && case_.patient.pregnant.value_or(false)) { NFLUX_NOTE("condition:" + id, "pregnant"); return Truth::kTrue; }
        if (!case_.conditions_given) { NFLUX_NOTE("condition:" + id, "no condition list"); return Truth::kUnknown; }
        { NFLUX_NOTE("condition:" + id, id + " not in the condition list"); return Truth::kFalse; }
      }
      case TestKind::kSupplementCurrent:
      case TestKind::kSupplementRequested: {
        bool current = node.kind == TestKind::kSupplementCurrent;
        auto input = [&] { return std::string(current ? "current:" : "requested:") + id; };
        if (slot) { NFLUX_NOTE(input(), std::string(current ? "takes " : "requests ") + id); return Truth::kTrue; }
        if (!case_.supplements_given) { NFLUX_NOTE(input(), "no supplements section"); return Truth::kUnknown; }
        { NFLUX_NOTE(input(), id + (current ? " not taken" : " not requested")); return Truth::kFalse; }
      }
      case TestKind::kLifestyleCompare:
      case TestKind::kLifestyleIs: {
        const auto* value = slot ? static_cast<const casefile::LifestyleValue*>(slot->data) : nullptr;
        if (!value || !value->used) { NFLUX_NOTE("lifestyle:" + id, id + " not given"); return Truth::kUnknown; }
        if (node.kind == TestKind::kLifestyleCompare) {
          if (!value->number) { NFLUX_NOTE("lifestyle:" + id, id + " not a number"); return Truth::kUnknown; }
          NFLUX_NOTE("lifestyle:" + id, id + " " + FormatNumber(*value->number));
          return FromBool(rules::Holds(*value->number, node.compare, node.number));
        }
        if (value->boolean) {
          NFLUX_NOTE("lifestyle:" + id, id + (*value->boolean ? " true" : " false"));
          return FromBool((*value->boolean ? "true" : "false") == test.text);
        }
        NFLUX_NOTE("lifestyle:" + id, id + " " + value->text);
        return FromBool(value->text == test.text);
      }
      case TestKind::kStressorCompare: {
        if (!slot) { NFLUX_NOTE("stressor:" + id, id + " not given"); return Truth::kUnknown; }
        NFLUX_NOTE("stressor:" + id, id + " " + FormatNumber(slot->value) + "/3");
        return FromBool(rules::Holds(slot->value, node.compare, node.number));
      }
      case TestKind::kFact:
      case TestKind::kDriver:
      case TestKind::kDeficit:
      case TestKind::kAlert: {
        const char* prefix = FamilyPrefix(FamilyOf(node.kind));
        double certainty = slot ? CombineForAgainst(slot->support, slot->against) : 0;
        auto input = [&] { return std::string(prefix) + ":" + id; };
        if (certainty <= 0) { NFLUX_NOTE(input(), id + " not concluded"); return Truth::kFalse; }
        NFLUX_NOTE(input(), id + " concluded (" + FormatNumber(certainty, 3) + ")");
        *strength = certainty;
        if (node.has_compare) return FromBool(rules::Holds(certainty, node.compare, node.number));
        return Truth::kTrue;
      }
      case TestKind::kSex:
        NFLUX_NOTE("patient:sex", std::string(Name(case_.patient.sex)));
        return FromBool(Parse<Sex>(test.text) == case_.patient.sex);
      case TestKind::kAge:
        NFLUX_NOTE("patient:age", "age " + FormatNumber(case_.patient.age_years));
        return FromBool(rules::Holds(case_.patient.age_years, node.compare, node.number));
      case TestKind::kPregnant:
      case TestKind::kLactating: {
        bool pregnant = node.kind == TestKind::kPregnant;
        const auto& value = pregnant ? case_.patient.pregnant : case_.patient.lactating;
        auto input = [&] { return std::string(pregnant ? "patient:pregnant" : "patient:lactating"); };
        if (case_.patient.sex == Sex::kMale) { NFLUX_NOTE(input(), "male"); return Truth::kFalse; }
        if (!value) { NFLUX_NOTE(input(), std::string(pregnant ? "pregnancy" : "lactation") + " not stated"); return Truth::kUnknown; }
        NFLUX_NOTE(input(), *value ? (pregnant ? "pregnant" : "lactating") : (pregnant ? "not pregnant" : "not lactating"));
        return FromBool(*value);
      }
      case TestKind::kMenopausalStatus: {
        const auto& status = case_.patient.menopausal_status;
        if (!status) { NFLUX_NOTE("patient:menopausal_status", "menopausal status not stated"); return Truth::kUnknown; }
        NFLUX_NOTE("patient:menopausal_status", *status);
        return FromBool(*status == test.text);
      }
      case TestKind::kDataQuality: {
        bool error = test.text == "error";
        bool has = case_.HasDataQuality(error ? casefile::Severity::kError : casefile::Severity::kWarning);
        NFLUX_NOTE("data_quality", has ? "data-quality " + test.text + " present" : "no data-quality " + test.text);
        return FromBool(has);
      }
    }
    return Truth::kUnknown;
  }

  const casefile::Case& case_;
  const FluxValues& flux_;
  const std::vector<Slot>& slots_;
  uint32_t generation_;
  const std::vector<CompiledNode>& nodes_;
};

// Fills the working memory from the case; returns the present data symbols.
std::vector<int> LoadWorkingMemory(const casefile::Case& c, const FluxValues& flux,
                                   const std::vector<SymbolMap>& symbols, std::vector<Slot>& slots,
                                   uint32_t generation) {
  std::vector<int> present;
  auto set = [&](Family family, std::string_view id, double value, const void* data) {
    auto it = symbols[family].find(id);
    if (it == symbols[family].end()) return;
    Slot& slot = slots[it->second];
    if (slot.generation != generation) present.push_back(it->second);
    slot.generation = generation;
    slot.value = value;
    slot.data = data;
    slot.support = slot.against = 0;
  };
  for (const auto& [id, score] : c.symptoms) set(kSymptom, id, score, nullptr);
  for (const auto& [id, q] : c.questionnaires) set(kQuestionnaire, id, 0, &q);
  for (const auto& lab : c.labs) {
    if (const casefile::LabResult* used = c.Lab(lab.test); used == &lab) set(kLab, lab.test, *lab.value, &lab);
  }
  for (const auto& derived : c.derived) set(kDerived, derived.id, derived.value, &derived);
  for (const auto& [id, value] : flux.values) set(kFlux, id, value, nullptr);
  for (const auto& medication : c.medications) {
    set(kMedication, medication.id, 1, &medication);
    // A medication is also a member of itself used as a class ("levodopa": products containing it).
    set(kMedicationClass, medication.id, 1, &medication);
    for (const auto& cls : medication.classes) set(kMedicationClass, cls, 1, &medication);
  }
  for (const auto& condition : c.conditions) set(kCondition, condition.id, 1, &condition);
  for (const auto& id : c.supplements_current) set(kSupplementCurrent, id, 1, nullptr);
  for (const auto& id : c.supplements_requested) set(kSupplementRequested, id, 1, nullptr);
  for (const auto& [id, value] : c.lifestyle) set(kLifestyle, id, value.number.value_or(0), &value);
  for (const auto& [id, score] : c.stressors) set(kStressor, id, score, nullptr);
  return present;
}

// What in the case a contraindication met: the medication itself (also when the knowledge names
// its class), or the condition.
std::string ConflictingInput(const casefile::Case& c, const knowledge::KnowledgeBase& kb, const std::string& with) {
  const knowledge::Node* node = kb.Find(with);
  if (node && node->kind == knowledge::NodeKind::kCondition) return "condition:" + with;
  if (node && node->kind == knowledge::NodeKind::kLifestyleFactor) return "lifestyle:" + with;
  for (const auto& medication : c.medications)
    if (medication.id == with ||
        std::find(medication.classes.begin(), medication.classes.end(), with) != medication.classes.end())
      return "medication:" + medication.id;
  return "medication:" + with;
}

std::string KnowledgeText(const knowledge::KnowledgeBase& kb, const std::string& id, const char* field) {
  const knowledge::Node* node = kb.Find(id);
  return node ? node->Text(field) : std::string();
}

}  // namespace

RuleTrace Engine::ExplainRule(const rules::Rule& rule, const casefile::Case& c, const FluxValues& flux,
                              const Evaluation& evaluation) const {
  const Compiled& compiled = *compiled_;
  // A private working memory: case data plus the conclusions of the finished evaluation.
  std::vector<Slot> slots(compiled.symbol_names.size());
  LoadWorkingMemory(c, flux, compiled.symbols, slots, 1);
  auto load = [&](Family family, const std::map<std::string, Conclusion>& conclusions) {
    for (const auto& [id, conclusion] : conclusions) {
      int symbol = compiled.Find(family, id);
      if (symbol < 0) continue;
      slots[symbol].generation = 1;
      slots[symbol].support = conclusion.support;
      slots[symbol].against = conclusion.against;
    }
  };
  load(kFact, evaluation.facts);
  load(kDriver, evaluation.drivers);
  load(kDeficit, evaluation.deficits);
  for (const auto& alert : evaluation.alerts) {
    int symbol = compiled.Find(kAlert, alert.id);
    if (symbol >= 0) {
      slots[symbol].generation = 1;
      slots[symbol].support = 1;
    }
  }
  RuleTrace trace;
  for (const auto& compiled_rule : compiled.rules) {
    if (compiled_rule.rule != &rule) continue;
    Evaluator evaluator(c, flux, slots, 1, compiled.nodes);
    double strength = 1;
    trace.truth = evaluator.Evaluate(compiled_rule.root, &strength, &trace.tests);
    trace.strength = trace.truth == Truth::kTrue ? strength : 0;
  }
  trace.rule = rule.id;
  trace.title = rule.title;
  trace.file = rule.at.file;
  trace.line = rule.at.line;
  trace.stratum = rule.stratum;
  trace.citations = rule.citations;
  for (const auto& considered : evaluation.trace.rules)
    if (considered.rule == rule.id && considered.fired) {
      trace.fired = true;
      trace.order = considered.order;
      trace.contributions = considered.contributions;
    }
  return trace;
}

Evaluation Engine::Evaluate(const casefile::Case& c, const FluxValues& flux, const EvaluateOptions& options) const {
  const Compiled& compiled = *compiled_;
  Scratch& scratch = ThreadScratch();
  if (scratch.slots.size() < compiled.symbol_names.size()) scratch.slots.resize(compiled.symbol_names.size());
  if (scratch.rules.size() < compiled.rules.size()) scratch.rules.resize(compiled.rules.size());
  const uint32_t generation = ++scratch.generation;
  std::vector<Slot>& slots = scratch.slots;

  Evaluation evaluation;
  std::vector<int> present = LoadWorkingMemory(c, flux, compiled.symbols, slots, generation);

  // The agenda: candidate rules by agenda position (the rule base is already in agenda order).
  std::priority_queue<int, std::vector<int>, std::greater<>> agenda;
  Evaluator evaluator(c, flux, slots, generation, compiled.nodes);
  auto state_of = [&](int rule) -> RuleState& {
    RuleState& state = scratch.rules[rule];
    if (state.generation != generation) state = RuleState{generation, 0};
    return state;
  };
  auto enqueue = [&](int rule) {
    RuleState& state = state_of(rule);
    if (state.parts & kQueued) return;
    state.parts |= kQueued;
    agenda.push(rule);
  };
  // A present or changed symbol activates the parts of rules it can make true (not those whose
  // test on it is false); a rule goes on the agenda once all its required parts are active. With a
  // trace, also once all but one are: such a rule cannot be true and does not fire, but the trace
  // shows reviewers the near miss and the datum it lacked ("ferritin not measured").
  const bool near_misses = options.trace;
  auto wake = [&](int symbol) {
    bool filter_false = false;
    const Waker* end = compiled.wakers.data() + compiled.waker_begin[static_cast<size_t>(symbol) + 1];
    for (const Waker* it = compiled.wakers.data() + compiled.waker_begin[static_cast<size_t>(symbol)]; it != end; ++it) {
      const Waker& waker = *it;
      if (waker.filtered && !waker.same_filter_as_previous)
        filter_false = evaluator.EvaluateLeaf(waker.leaf) == Truth::kFalse;
      if (waker.filtered && filter_false) continue;
      RuleState& state = state_of(waker.rule);
      if (state.parts & kQueued) continue;
      state.parts |= waker.part;
      if (state.parts == waker.required ||
          (near_misses && std::popcount(state.parts) + 1 >= std::popcount(waker.required)))
        enqueue(waker.rule);
    }
  };
  for (int rule : compiled.always_rules) enqueue(rule);
  if (!options.use_index)
    for (int rule = 0; rule < static_cast<int>(compiled.rules.size()); ++rule) enqueue(rule);
  for (int symbol : present) wake(symbol);

  std::vector<int> concluded;  // conclusion symbols touched, in order
  std::map<int, std::map<std::string, double>> deficit_drivers;
  std::map<int, std::vector<std::string>> supporting, opposing;
  std::map<std::string, StrategyResult> suggested;
  std::map<std::string, AlertResult> alerts;
  // Every alert, from a rule, the data-quality findings or the safety gate, is merged here.
  auto raise = [&](const std::string& id, std::string severity, const std::vector<std::string>& because,
                   const std::vector<std::string>& citations, const std::string& source, const std::string& message) {
    auto& alert = alerts[id];
    alert.id = id;
    if (severity.empty()) severity = KnowledgeText(*kb_, id, "default_severity");
    if (severity.empty()) severity = "caution";
    if (alert.severity.empty() || SeverityRank(severity) < SeverityRank(alert.severity)) alert.severity = severity;
    if (alert.message.empty()) alert.message = message.empty() ? KnowledgeText(*kb_, id, "description") : message;
    for (const auto& item : because) AppendUnique(alert.because, item);
    for (const auto& citation : citations) AppendUnique(alert.citations, citation);
    AppendUnique(alert.rules, source);
  };
  auto knowledge_citations = [&](const std::string& id) {
    const knowledge::Node* node = kb_->Find(id);
    return node ? node->citations : std::vector<std::string>{};
  };

  auto add_evidence = [&](int symbol, double contribution, bool for_it, const std::string& rule_id) {
    Slot& slot = slots[symbol];
    if (slot.generation != generation) {
      slot.generation = generation;
      slot.support = slot.against = 0;
      slot.data = nullptr;
      concluded.push_back(symbol);
    }
    if (for_it) {
      slot.support = CombineSameSign(slot.support, contribution);
      supporting[symbol].push_back(rule_id);
    } else {
      slot.against = CombineSameSign(slot.against, contribution);
      opposing[symbol].push_back(rule_id);
    }
    wake(symbol);
  };

  // Reused across the agenda: an untraced evaluation builds no per-rule objects.
  RuleTrace trace;
  std::vector<TestTrace> tests;
  while (!agenda.empty()) {
    int index = agenda.top();
    agenda.pop();
    const CompiledRule& compiled_rule = compiled.rules[index];
    const rules::Rule& rule = *compiled_rule.rule;
    ++evaluation.trace.considered;
    double strength = 1;
    tests.clear();
    bool want_tests = options.trace || compiled_rule.needs_evidence;
    Truth truth = evaluator.Evaluate(compiled_rule.root, &strength, want_tests ? &tests : nullptr);
    if (options.trace) {
      trace = RuleTrace();
      trace.rule = rule.id;
      trace.title = rule.title;
      trace.file = rule.at.file;
      trace.line = rule.at.line;
      trace.stratum = rule.stratum;
      trace.citations = rule.citations;
      trace.truth = truth;
    }
    if (truth == Truth::kTrue) {
      if (evaluation.trace.firings >= options.run_limit) {
        evaluation.trace.stopped = "run limit of " + std::to_string(options.run_limit) + " firings reached at rule " + rule.id;
        break;
      }
      ++evaluation.trace.firings;
      if (options.trace) {
        trace.fired = true;
        trace.order = evaluation.trace.firings;
        trace.strength = strength;
      }
      for (const auto& action : rule.actions) {
        double contribution = action.certainty * strength;
        const char* kind = "";
        switch (action.kind) {
          case rules::ActionKind::kDeriveFact:
            add_evidence(compiled.Find(kFact, action.id), contribution, true, rule.id);
            kind = "fact";
            break;
          case rules::ActionKind::kConcludeDriver:
            add_evidence(compiled.Find(kDriver, action.id), contribution, true, rule.id);
            kind = "driver";
            break;
          case rules::ActionKind::kSuggestDeficit: {
            int symbol = compiled.Find(kDeficit, action.id);
            add_evidence(symbol, contribution, true, rule.id);
            auto& drivers = deficit_drivers[symbol];
            // A driver's weight is the evidence the rules naming it gave the deficit; the rule's
            // strength already holds the driver's own certainty when the rule tested it.
            for (const auto& driver : action.ids) drivers[driver] = CombineSameSign(drivers[driver], contribution);
            kind = "deficit";
            break;
          }
          case rules::ActionKind::kOpposeDeficit:
            add_evidence(compiled.Find(kDeficit, action.id), contribution, false, rule.id);
            kind = "against";
            break;
          case rules::ActionKind::kSuggestStrategy: {
            auto& strategy = suggested[action.id];
            strategy.id = action.id;
            strategy.suggested = true;
            strategy.score = CombineSameSign(strategy.score, contribution);
            strategy.rules.push_back(rule.id);
            for (const auto& deficit : action.ids) AppendUnique(strategy.for_deficits, deficit);
            kind = "strategy";
            break;
          }
          case rules::ActionKind::kRaiseAlert: {
            add_evidence(compiled.Find(kAlert, action.id), 1, true, rule.id);
            std::vector<std::string> because;
            for (const auto& test : tests)
              if (test.truth == Truth::kTrue && !test.input.empty()) because.push_back(test.input);
            raise(action.id, action.severity, because, rule.citations, rule.id, action.message);
            kind = "alert";
            contribution = 1;
            break;
          }
          case rules::ActionKind::kNoteDataQuality:
            evaluation.notes.push_back(Note{rule.id, action.severity.empty() ? "warning" : action.severity, action.message});
            kind = "note";
            break;
        }
        if (options.trace) trace.contributions.push_back(Contribution{kind, action.id, contribution});
      }
    }
    if (options.trace) {
      trace.tests = std::move(tests);  // cleared before the next rule
      evaluation.trace.rules.push_back(std::move(trace));
    }
  }

  // Conclusions, from the working memory.
  for (int symbol : concluded) {
    const auto& [family, id] = compiled.symbol_names[symbol];
    Conclusion conclusion;
    conclusion.id = id;
    conclusion.support = slots[symbol].support;
    conclusion.against = slots[symbol].against;
    conclusion.certainty = CombineForAgainst(conclusion.support, conclusion.against);
    conclusion.rules = supporting[symbol];
    conclusion.opposing_rules = opposing[symbol];
    if (auto it = deficit_drivers.find(symbol); it != deficit_drivers.end()) conclusion.drivers = it->second;
    if (family == kFact) evaluation.facts[id] = std::move(conclusion);
    else if (family == kDriver) evaluation.drivers[id] = std::move(conclusion);
    else if (family == kDeficit) evaluation.deficits[id] = std::move(conclusion);
  }

  // Data quality, as case.md requires, whatever the rules say.
  if (c.flags.data_quality_warning) {
    std::vector<std::string> because;
    for (const auto& issue : c.data_quality) because.push_back("data_quality:" + issue.path);
    std::string severity = KnowledgeText(*kb_, "data_quality_warning", "default_severity");
    raise("data_quality_warning", severity.empty() ? "info" : severity, because,
          knowledge_citations("data_quality_warning"), "data_quality", "");
  }
  if (c.flags.critical_lab_value) {
    std::vector<std::string> because;
    for (const auto& lab : c.flags.critical_labs) because.push_back("lab:" + lab);
    raise("critical_lab_value", "high", because, knowledge_citations("critical_lab_value"), "data_quality", "");
  }
  if (c.flags.repeat_or_verify_labs) {
    auto& strategy = suggested["repeat_or_verify_labs"];
    strategy.id = "repeat_or_verify_labs";
    strategy.suggested = true;
    strategy.score = CombineSameSign(strategy.score, 1);
    strategy.rules.push_back("data_quality");
  }

  // The safety gate: every suggested and requested strategy passes here.
  std::set<std::string> requested(c.supplements_requested.begin(), c.supplements_requested.end());
  for (const auto& id : requested) {
    auto& strategy = suggested[id];
    strategy.id = id;
  }
  for (auto& [id, strategy] : suggested) {
    StrategyResult checked = CheckStrategy(id, c, *kb_);
    strategy.kind = checked.kind;
    strategy.verdict = checked.verdict;
    strategy.reasons = checked.reasons;
    strategy.requested = requested.count(id) > 0;
    for (const auto& reason : strategy.reasons) {
      if (reason.alert.empty()) continue;
      std::vector<std::string> citations = knowledge_citations(reason.alert);
      citations.insert(citations.end(), reason.citations.begin(), reason.citations.end());
      raise(reason.alert, "", {ConflictingInput(c, *kb_, reason.with), (strategy.requested ? "requested:" : "suggested:") + id},
            citations, "safety", "");
    }
    if (strategy.requested) evaluation.requested.push_back(strategy);
    if (strategy.verdict == Verdict::kBlocked) evaluation.blocked.push_back(strategy);
    else if (strategy.suggested) evaluation.strategies.push_back(strategy);
  }

  // Alerts, most severe first; then by id for a stable order.
  for (auto& [id, alert] : alerts) evaluation.alerts.push_back(std::move(alert));
  std::stable_sort(evaluation.alerts.begin(), evaluation.alerts.end(), [](const AlertResult& a, const AlertResult& b) {
    return SeverityRank(a.severity) < SeverityRank(b.severity);
  });
  // Strategies: referrals an urgent or high alert calls for first, then by score, then by id.
  bool red_flag = !evaluation.alerts.empty() && SeverityRank(evaluation.alerts.front().severity) <= 1;
  std::stable_sort(evaluation.strategies.begin(), evaluation.strategies.end(),
                   [&](const StrategyResult& a, const StrategyResult& b) {
                     bool a_first = red_flag && a.kind == "referral";
                     bool b_first = red_flag && b.kind == "referral";
                     if (a_first != b_first) return a_first;
                     if (a.score != b.score) return a.score > b.score;
                     return a.id < b.id;
                   });
  return evaluation;
}

}  // namespace nflux::inference
