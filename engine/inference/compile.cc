#include "inference/compile.h"

#include <algorithm>

namespace nflux::inference {
namespace {

using rules::Condition;
using rules::Test;
using rules::TestKind;

LabCheck LabCheckOf(const std::string& status) {
  static const std::pair<const char*, LabCheck> kChecks[] = {
      {"low", LabCheck::kLow}, {"normal", LabCheck::kNormal}, {"high", LabCheck::kHigh},
      {"abnormal", LabCheck::kAbnormal}, {"critical", LabCheck::kCritical}, {"below_optimal", LabCheck::kBelowOptimal},
      {"optimal", LabCheck::kOptimal}, {"above_optimal", LabCheck::kAboveOptimal},
      {"below_limit", LabCheck::kBelowLimit}, {"above_limit", LabCheck::kAboveLimit}};
  for (const auto& [name, check] : kChecks)
    if (status == name) return check;
  return LabCheck::kNone;
}

// What decides a leaf test's truth on a given symbol's value: tests with equal keys on the same
// symbol always agree, so a wake list evaluates each key once.
auto FilterKey(const CompiledNode& leaf) {
  return std::make_tuple(leaf.kind, leaf.compare, leaf.lab_check, leaf.has_compare, leaf.number,
                         std::cref(leaf.test->text), leaf.test->item);
}

// Compiles one rule's condition and interns the conclusions its actions make.
CompiledRule CompileRule(const rules::Rule& rule, CompiledRules& compiled) {
  CompiledRule compiled_rule{&rule, static_cast<int>(compiled.nodes.size()), false};
  compiled.nodes.emplace_back();
  compiled.CompileCondition(rule.when, compiled_rule.root);
  for (const auto& action : rule.actions) {
    switch (action.kind) {
      case rules::ActionKind::kDeriveFact: compiled.Intern(kFact, action.id); break;
      case rules::ActionKind::kConcludeDriver:
        compiled.Intern(kDriver, action.id);
        compiled_rule.needs_evidence = true;  // the labs that confirm the driver, for the ranking
        break;
      case rules::ActionKind::kSuggestDeficit:
      case rules::ActionKind::kOpposeDeficit: compiled.Intern(kDeficit, action.id); break;
      case rules::ActionKind::kRaiseAlert:
        compiled.Intern(kAlert, action.id);
        compiled_rule.needs_evidence = true;
        break;
      default: break;
    }
  }
  return compiled_rule;
}

// One waker per symbol of a required part; a symbol read by several leaves of the part keeps no
// filter (-1), since no single leaf decides it.
void AddPartWakers(const CompiledRules& compiled, int rule, uint32_t bit, uint32_t required,
                   const std::vector<CompiledRules::Trigger>& part, std::vector<std::pair<int, Waker>>& wakers) {
  std::vector<CompiledRules::Trigger> leaf_of;
  for (const auto& trigger : part) {
    auto same = std::find_if(leaf_of.begin(), leaf_of.end(),
                             [&](const CompiledRules::Trigger& seen) { return seen.symbol == trigger.symbol; });
    if (same == leaf_of.end()) leaf_of.push_back(trigger);
    else if (same->leaf != trigger.leaf) same->leaf = -1;
  }
  for (auto [symbol, leaf] : leaf_of) {
    Waker waker;
    waker.rule = rule;
    waker.part = bit;
    waker.required = required;
    waker.filtered = leaf >= 0;
    if (leaf >= 0) waker.leaf = compiled.nodes[leaf];
    wakers.emplace_back(symbol, waker);
  }
}

// Every rule's wakers, with their symbol, before grouping by symbol; rules with no required part
// go to always_rules.
std::vector<std::pair<int, Waker>> CollectWakers(CompiledRules& compiled) {
  std::vector<std::pair<int, Waker>> wakers;
  for (size_t i = 0; i < compiled.rules.size(); ++i) {
    auto parts = compiled.RequiredParts(compiled.rules[i].root);
    if (parts.empty()) {
      compiled.always_rules.push_back(static_cast<int>(i));
      continue;
    }
    const uint32_t required = (1u << parts.size()) - 1;
    for (size_t p = 0; p < parts.size(); ++p)
      AddPartWakers(compiled, static_cast<int>(i), 1u << p, required, parts[p], wakers);
  }
  return wakers;
}

// Lays the wakers out symbol by symbol (waker_begin), each symbol's list sorted: unfiltered
// wakers first, then filtered ones grouped by filter; rule and part break ties, so the order is
// fully determined (and std::sort needs no buffer, unlike a stable sort).
void GroupWakersBySymbol(const std::vector<std::pair<int, Waker>>& wakers, CompiledRules& compiled) {
  auto before = [](const Waker& a, const Waker& b) {
    if (a.filtered != b.filtered) return !a.filtered;
    if (a.filtered && FilterKey(a.leaf) != FilterKey(b.leaf)) return FilterKey(a.leaf) < FilterKey(b.leaf);
    return std::tie(a.rule, a.part) < std::tie(b.rule, b.part);
  };
  const size_t symbol_count = compiled.symbol_count();
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

}  // namespace

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

int CompiledRules::Intern(Family family, const std::string& id) {
  if (int found = Find(family, id); found >= 0) return found;  // no key copy for known ids
  int symbol = static_cast<int>(symbol_names.size());
  symbols[family].emplace(id, symbol);
  symbol_names.emplace_back(family, id);
  return symbol;
}

int CompiledRules::Find(Family family, std::string_view id) const {
  auto it = symbols[family].find(id);
  return it == symbols[family].end() ? -1 : it->second;
}

void CompiledRules::CompileCondition(const Condition& condition, int index) {
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

std::vector<std::vector<CompiledRules::Trigger>> CompiledRules::RequiredParts(int root) const {
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

std::optional<std::vector<CompiledRules::Trigger>> CompiledRules::Requirement(int index) const {
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

std::unique_ptr<CompiledRules> CompileRules(const rules::RuleBase& rule_base) {
  auto compiled = std::make_unique<CompiledRules>();
  compiled->rules.reserve(rule_base.rules.size());
  for (const auto& rule : rule_base.rules) compiled->rules.push_back(CompileRule(rule, *compiled));
  GroupWakersBySymbol(CollectWakers(*compiled), *compiled);
  return compiled;
}

}  // namespace nflux::inference
