#include "inference/compile.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "base/id_hash.h"

namespace nflux::inference {
namespace {

using rules::Compare;
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
  CompiledRule compiled_rule{&rule, static_cast<int>(compiled.nodes.size()), false, 0, {}};
  compiled.nodes.emplace_back();
  compiled.CompileCondition(rule.when, compiled_rule.root);
  for (auto i = static_cast<size_t>(compiled_rule.root); i < compiled.nodes.size(); ++i)
    compiled_rule.leaves += compiled.nodes[i].op == rules::Condition::Op::kTest;
  for (const auto& action : rule.actions) {
    int symbol = -1;
    switch (action.kind) {
      case rules::ActionKind::kDeriveFact: symbol = compiled.Intern(kFact, action.id); break;
      case rules::ActionKind::kConcludeDriver:
        symbol = compiled.Intern(kDriver, action.id);
        compiled_rule.needs_evidence = true;  // the labs that confirm the driver, for the ranking
        break;
      case rules::ActionKind::kSuggestDeficit:
      case rules::ActionKind::kOpposeDeficit: symbol = compiled.Intern(kDeficit, action.id); break;
      case rules::ActionKind::kRaiseAlert:
        symbol = compiled.Intern(kAlert, action.id);
        compiled_rule.needs_evidence = true;
        break;
      default: break;
    }
    compiled_rule.action_symbols.push_back(symbol);
  }
  return compiled_rule;
}

// A waker before grouping: its symbol and filter leaf (-1: none).
struct PendingWaker {
  int symbol = 0;
  Waker waker;
  int leaf = -1;
};

// The node of a filter leaf; nullptr for none.
const CompiledNode* FilterNode(const CompiledRules& compiled, int leaf) {
  return leaf < 0 ? nullptr : &compiled.nodes[static_cast<size_t>(leaf)];
}

// Tests that hold whenever their symbol is present: a medication, medication class, condition or
// supplement the case lists. A symbol of these families wakes rules only when present (they are
// never concluded), so such a filter would be evaluated and always pass.
bool TrueWhenPresent(TestKind kind) {
  return kind == TestKind::kMedication || kind == TestKind::kMedicationClass || kind == TestKind::kCondition ||
         kind == TestKind::kSupplementCurrent || kind == TestKind::kSupplementRequested;
}

// One waker per symbol of a required part; a symbol read by several leaves of the part keeps no
// filter (-1), since no single leaf decides it, and neither does a test that holds when present.
void AddPartWakers(const CompiledRules& compiled, int rule, uint32_t bit, uint32_t required,
                   const std::vector<CompiledRules::Trigger>& part, std::vector<PendingWaker>& wakers) {
  std::vector<CompiledRules::Trigger> leaf_of;
  for (CompiledRules::Trigger trigger : part) {
    if (trigger.leaf >= 0 && TrueWhenPresent(compiled.nodes[static_cast<size_t>(trigger.leaf)].kind)) trigger.leaf = -1;
    auto same = std::find_if(leaf_of.begin(), leaf_of.end(),
                             [&](const CompiledRules::Trigger& seen) { return seen.symbol == trigger.symbol; });
    if (same == leaf_of.end()) leaf_of.push_back(trigger);
    else if (same->leaf != trigger.leaf) same->leaf = -1;
  }
  for (auto [symbol, leaf] : leaf_of) wakers.push_back(PendingWaker{symbol, Waker{rule, bit, required}, leaf});
}

// Every rule's wakers, with their symbol, before grouping by symbol; rules with no required part
// go to always_rules.
std::vector<PendingWaker> CollectWakers(CompiledRules& compiled) {
  std::vector<PendingWaker> wakers;
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

// Orders wakers symbol by symbol: unfiltered wakers first, then filtered ones grouped by filter;
// rule and part break ties, so the order is fully determined (and std::sort needs no buffer,
// unlike a stable sort).
bool WakesBefore(const CompiledRules& compiled, const PendingWaker& a, const PendingWaker& b) {
  if (a.symbol != b.symbol) return a.symbol < b.symbol;
  const CompiledNode* a_filter = FilterNode(compiled, a.leaf);
  const CompiledNode* b_filter = FilterNode(compiled, b.leaf);
  if ((a_filter == nullptr) != (b_filter == nullptr)) return a_filter == nullptr;
  if (a_filter && FilterKey(*a_filter) != FilterKey(*b_filter)) return FilterKey(*a_filter) < FilterKey(*b_filter);
  return std::tie(a.waker.rule, a.waker.part) < std::tie(b.waker.rule, b.waker.part);
}

bool SameGroup(const CompiledRules& compiled, const PendingWaker& a, const PendingWaker& b) {
  if (a.symbol != b.symbol) return false;
  const CompiledNode* a_filter = FilterNode(compiled, a.leaf);
  const CompiledNode* b_filter = FilterNode(compiled, b.leaf);
  if ((a_filter == nullptr) != (b_filter == nullptr)) return false;
  return a_filter == nullptr || FilterKey(*a_filter) == FilterKey(*b_filter);
}

bool SameThresholdRun(const CompiledNode& a, const CompiledNode& b) {
  return IsThresholdFilter(a) && IsThresholdFilter(b) && a.kind == b.kind && a.compare == b.compare;
}

// Marks each symbol's runs of threshold filters with one operator (WakeGroup::run_length). The
// groups are sorted by FilterKey, kind and operator before threshold, so a run's thresholds ascend.
void MarkThresholdRuns(CompiledRules& compiled) {
  auto filter = [&](size_t group) { return FilterNode(compiled, compiled.wake_groups[group].leaf); };
  for (size_t s = 0; s + 1 < compiled.group_begin.size(); ++s) {
    const size_t end = compiled.group_begin[s + 1];
    for (size_t first = compiled.group_begin[s]; first < end;) {
      size_t last = first + 1;
      if (filter(first) && IsThresholdFilter(*filter(first))) {
        while (last < end && last - first < WakeGroup::kMaxRunLength && filter(last) &&
               SameThresholdRun(*filter(first), *filter(last)))
          ++last;
        compiled.wake_groups[first].run_length = static_cast<uint16_t>(last - first);
        compiled.wake_groups[first].run_compare = static_cast<uint8_t>(filter(first)->compare);
      }
      first = last;
    }
  }
}

// Lays the wakers out symbol by symbol, in runs of one filter (group_begin, wake_groups).
void GroupWakersBySymbol(std::vector<PendingWaker> pending, CompiledRules& compiled) {
  std::sort(pending.begin(), pending.end(),
            [&](const PendingWaker& a, const PendingWaker& b) { return WakesBefore(compiled, a, b); });
  const size_t symbol_count = compiled.symbol_count();
  compiled.group_begin.assign(symbol_count + 1, 0);
  compiled.wakers.reserve(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    if (i == 0 || !SameGroup(compiled, pending[i - 1], pending[i])) {
      WakeGroup group;
      group.leaf = pending[i].leaf;
      if (const CompiledNode* filter = FilterNode(compiled, group.leaf)) {
        group.threshold = filter->number;
        if (filter->kind == TestKind::kLabStatus && filter->symbol == pending[i].symbol) group.lab_check = filter->lab_check;
      }
      group.begin = group.end = static_cast<uint32_t>(compiled.wakers.size());
      compiled.wake_groups.push_back(group);
      ++compiled.group_begin[static_cast<size_t>(pending[i].symbol) + 1];
    }
    compiled.wakers.push_back(pending[i].waker);
    compiled.wake_groups.back().end = static_cast<uint32_t>(compiled.wakers.size());
  }
  for (size_t s = 0; s < symbol_count; ++s) compiled.group_begin[s + 1] += compiled.group_begin[s];
  MarkThresholdRuns(compiled);
}

}  // namespace

bool IsThresholdFilter(const CompiledNode& leaf) {
  // The evaluator's tests of these kinds are rules::Holds(slot value, compare, number) on a
  // present symbol (evaluator.cc: SymptomTest, LabTest, DerivedTest, FluxTest, StressorTest).
  switch (leaf.kind) {
    case TestKind::kSymptomCompare: case TestKind::kLabValue: case TestKind::kDerivedCompare:
    case TestKind::kFluxCompare: case TestKind::kStressorCompare: break;
    default: return false;
  }
  return leaf.compare == Compare::kLess || leaf.compare == Compare::kLessEqual || leaf.compare == Compare::kGreater ||
         leaf.compare == Compare::kGreaterEqual;
}

namespace {

// std::partition_point, scanning short runs (a symptom's 1, 2, 3) rather than halving them.
template <typename Predicate>
const WakeGroup* PartitionPoint(const WakeGroup* begin, const WakeGroup* end, Predicate first_part) {
  if (end - begin > 8) return std::partition_point(begin, end, first_part);
  while (begin != end && first_part(*begin)) ++begin;
  return begin;
}

// The groups of an ascending run whose `holds(value, threshold)` is true: a suffix of the run for
// < and <=, a prefix for > and >=. The comparison is a type, so each probe is one instruction.
template <typename Holds>
std::pair<const WakeGroup*, const WakeGroup*> Holding(const WakeGroup* begin, const WakeGroup* end, double value,
                                                      Holds holds, bool suffix) {
  const WakeGroup* point =
      PartitionPoint(begin, end, [=](const WakeGroup& group) { return holds(value, group.threshold) != suffix; });
  return suffix ? std::pair{point, end} : std::pair{begin, point};
}

}  // namespace

std::pair<const WakeGroup*, const WakeGroup*> HoldingThresholds(const WakeGroup* begin, const WakeGroup* end,
                                                                Compare op, double value) {
  // (A NaN value holds nowhere, and the partition points then give an empty range.)
  switch (op) {
    case Compare::kLess: return Holding(begin, end, value, std::less<>(), true);
    case Compare::kLessEqual: return Holding(begin, end, value, std::less_equal<>(), true);
    case Compare::kGreater: return Holding(begin, end, value, std::greater<>(), false);
    case Compare::kGreaterEqual: return Holding(begin, end, value, std::greater_equal<>(), false);
    default: return {begin, begin};  // IsThresholdFilter admits no other operator
  }
}

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
                                    "medication_class", "condition", "current", "requested", "lifestyle",
                                    "stressor", "fact", "driver", "deficit", "alert"};
  return kPrefixes[family];
}

std::string InputOf(const Test& test) {
  switch (test.kind) {
    case TestKind::kQuestionnaireItem: return "questionnaire:" + test.id + ".item" + std::to_string(test.item);
    case TestKind::kSex: return "patient:sex";
    case TestKind::kAge: return "patient:age";
    case TestKind::kPregnant: return "patient:pregnant";
    case TestKind::kLactating: return "patient:lactating";
    case TestKind::kMenopausalStatus: return "patient:menopausal_status";
    case TestKind::kDataQuality: return "data_quality";
    default: return std::string(FamilyPrefix(FamilyOf(test.kind))) + ":" + test.id;
  }
}

// The id's hash (base/id_hash.h), its family the seed: "ferritin" the lab and the fact hash apart.
// Longer ids are hashed by their first and last 8 bytes and their size, without a loop over the
// middle (medication classes, flux keys): ids alike in all three are rare, and an entry compares
// the whole id anyway.
inline uint64_t SymbolIndex::Hash(Family family, std::string_view id) {
  if (id.size() <= 16) return HashId(id, static_cast<uint64_t>(family));
  char ends[16];
  std::memcpy(ends, id.data(), 8);
  std::memcpy(ends + 8, id.data() + id.size() - 8, 8);
  return HashId({ends, sizeof ends}, static_cast<uint64_t>(family) | id.size() << 8);
}

void SymbolIndex::Grow() {
  std::vector<Entry> old = std::move(table_);
  table_.assign(old.empty() ? 64 : old.size() * 2, Entry{});
  const size_t mask = table_.size() - 1;
  for (const Entry& entry : old) {
    if (entry.symbol < 0) continue;
    size_t at = entry.hash & mask;
    while (table_[at].symbol >= 0) at = (at + 1) & mask;
    table_[at] = entry;
  }
}

void SymbolIndex::Insert(Family family, std::string_view id, int symbol) {
  if ((size_ + 1) * 2 > table_.size()) Grow();  // at most half full: short probe runs
  Entry entry{};
  entry.hash = Hash(family, id);
  entry.symbol = symbol;
  entry.family = static_cast<uint8_t>(family);
  entry.size = static_cast<uint8_t>(std::min<size_t>(id.size(), 255));
  std::memcpy(entry.head, id.data(), std::min(id.size(), kInline));
  const size_t mask = table_.size() - 1;
  size_t at = entry.hash & mask;
  while (table_[at].symbol >= 0) at = (at + 1) & mask;
  table_[at] = entry;
  ++size_;
  families_ |= 1u << family;
}

int SymbolIndex::Find(Family family, std::string_view id,
                      const std::vector<std::pair<Family, std::string>>& names) const {
  if (!(families_ & 1u << family)) return -1;  // no rule reads the family: nothing to hash
  const uint64_t hash = Hash(family, id);
  const size_t mask = table_.size() - 1;
  const size_t head = std::min(id.size(), kInline);
  for (size_t at = hash & mask;; at = (at + 1) & mask) {
    const Entry& entry = table_[at];
    if (entry.symbol < 0) return -1;
    if (entry.hash != hash || entry.family != family || entry.size != std::min<size_t>(id.size(), 255) ||
        !SameBytes(entry.head, id.data(), head))
      continue;
    if (id.size() <= kInline || SameId(names[static_cast<size_t>(entry.symbol)].second, id)) return entry.symbol;
  }
}

int CompiledRules::Intern(Family family, const std::string& id) {
  if (int found = Find(family, id); found >= 0) return found;
  int symbol = static_cast<int>(symbol_names.size());
  symbol_names.emplace_back(family, id);
  symbols.Insert(family, id, symbol);
  return symbol;
}

int CompiledRules::Find(Family family, std::string_view id) const { return symbols.Find(family, id, symbol_names); }

void CompiledRules::IndexKnowledgeNodes(const knowledge::KnowledgeBase& kb) {
  const std::vector<knowledge::Node>& nodes = kb.nodes();
  by_node.ids.assign(nodes.size(), {});
  for (size_t i = 0; i < nodes.size(); ++i) by_node.ids[i] = nodes[i].id;
  for (auto& symbols : by_node.symbols) symbols.clear();
  by_node.classes.assign(nodes.size(), {});
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const std::string& id : kb.ClassesOf(nodes[i]))
      if (const knowledge::Node* cls = kb.Find(id)) by_node.classes[i].push_back(kb.PositionOf(*cls));
      else by_node.classes[i].push_back(knowledge::kNoPosition);
  for (size_t symbol = 0; symbol < symbol_names.size(); ++symbol) {
    const auto& [family, id] = symbol_names[symbol];
    const knowledge::Node* node = kb.Find(id);
    if (node == nullptr) continue;
    std::vector<int>& symbols = by_node.symbols[family];
    if (symbols.empty()) symbols.assign(nodes.size(), -1);
    symbols[static_cast<size_t>(kb.PositionOf(*node))] = static_cast<int>(symbol);
  }
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
    node.input = inputs.emplace_back(InputOf(test));
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
