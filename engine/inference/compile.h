// Internal: rule compilation. Turns a rule base into flat condition nodes over interned symbols,
// and the index that decides which rules an evaluation looks at: per symbol, the rules (and the
// required part of each) that the symbol's presence can activate ("wakers"), plus the few rules
// that can be true on absent data. Built once per Engine; immutable and shared by all threads.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "base/id_hash.h"
#include "knowledge/knowledge.h"
#include "knowledge/vocabulary.h"
#include "rules/rules.h"

namespace nflux::inference {

// The families of symbols; each has its own id space so "ferritin" the lab and a fact of the
// same name never collide.
enum Family {
  kSymptom, kQuestionnaire, kLab, kDerived, kFlux, kMedication, kMedicationClass, kCondition,
  kSupplementCurrent, kSupplementRequested, kLifestyle, kStressor, kFact, kDriver, kDeficit, kAlert,
  kFamilyCount,
};
static_assert(kFamilyCount <= 32, "SymbolIndex keeps a bit per family");

// Symbols by family and id: open addressing over a power-of-two table. Loading a case looks up
// every datum by name, so this is a hot path: one probe into a flat array, whose entry holds the
// family and (most of) the id inline, so that a look-up touches no other memory for most ids.
class SymbolIndex {
 public:
  // REQUIRES: (family, id) not yet inserted.
  void Insert(Family family, std::string_view id, int symbol);
  // -1 when unknown. `names` is CompiledRules::symbol_names: ids longer than the inline part are
  // compared there.
  int Find(Family family, std::string_view id, const std::vector<std::pair<Family, std::string>>& names) const;

 private:
  static constexpr size_t kInline = 18;
  struct Entry {
    uint64_t hash = 0;
    int32_t symbol = -1;
    uint8_t family = 0;
    uint8_t size = 0;    // the id's length, capped at 255
    char head[kInline];  // the id's first kInline bytes (zero-padded)
  };
  static_assert(sizeof(Entry) == 32);
  static uint64_t Hash(Family family, std::string_view id);
  void Grow();

  std::vector<Entry> table_;
  size_t size_ = 0;
  uint32_t families_ = 0;  // bit f: some symbol of family f is inserted
};

// The family a test reads; kFamilyCount for patient fields and data quality (no symbol).
Family FamilyOf(rules::TestKind kind);
// "symptom", "lab", ...: the prefix of a test's input ("lab:ferritin").
const char* FamilyPrefix(Family family);
// The datum a test reads, as traces and next-best-data name it: "lab:ferritin",
// "questionnaire:phq9.item9", "current:vitamin_b6", "patient:age", "data_quality".
std::string InputOf(const rules::Test& test);

// Lab statuses a rule may test, decoded once at compile time rather than compared as text.
enum class LabCheck : uint8_t {
  kNone, kLow, kNormal, kHigh, kAbnormal, kCritical, kBelowOptimal, kOptimal, kAboveOptimal, kBelowLimit, kAboveLimit
};

// One node of a compiled condition. Tests carry copies of the fields evaluation reads, so the hot
// path touches one small record instead of the parser's large Test.
struct CompiledNode {
  rules::Condition::Op op = rules::Condition::Op::kTest;
  rules::TestKind kind = rules::TestKind::kFact;
  rules::Compare compare = rules::Compare::kGreaterEqual;
  LabCheck lab_check = LabCheck::kNone;
  bool has_compare = false;
  int symbol = -1;  // the datum or conclusion the test reads; -1: patient fields, data quality
  double number = 0;
  const rules::Test* test = nullptr;  // the whole test: text fields and the source for traces
  // The datum it reads as a trace names it ("lab:ferritin", "patient:age"), made once at compile
  // time (CompiledRules::inputs) rather than per traced test.
  std::string_view input;
  // Connectives: the children are nodes [first_child, first_child + child_count).
  int first_child = 0;
  int child_count = 0;
  int at_least = 0;
};

struct CompiledRule {
  const rules::Rule* rule;
  int root = 0;                 // index into CompiledRules::nodes
  bool needs_evidence = false;  // raises an alert or concludes a driver: record its tests even without a trace
  int leaves = 0;                // leaf tests of its condition (the size of a trace's tests)
  std::vector<int> action_symbols;  // per action of the rule: the conclusion it makes, -1 for none
};

// The agenda bit of RuleState::parts: the rule is on the agenda.
constexpr uint32_t kQueued = 1u << 31;
constexpr int kMaxParts = 31;

// An entry of a symbol's wake list: the rule and the part of it this symbol can activate. Small,
// since a present datum walks the whole list.
struct Waker {
  int rule = 0;
  uint32_t part = 0;      // the bit in `required` this waker sets
  uint32_t required = 0;  // one bit per required part of the rule (CompiledRules::RequiredParts)
};

// A run of a symbol's wakers that share one filter: the leaf test on the symbol that must not be
// false for them, evaluated once for the run. Unfiltered wakers (several leaves of a part read
// the symbol) form a run of their own. Small, since a present datum walks its groups: at 10,000
// rules they are far more than the caches hold as whole nodes.
struct WakeGroup {
  int32_t leaf = -1;            // the filter, CompiledRules::nodes[leaf]; -1: unfiltered
  uint32_t begin = 0, end = 0;  // CompiledRules::wakers[begin, end)
  // On the first group of a threshold run, its number of groups (else 0): the groups
  // [this, this + run_length) filter on the symbol's value with one operator (<, <=, >, >=),
  // run_compare, against ascending thresholds, so the ones that hold are a prefix or a suffix
  // (HoldingThresholds). A longer run is cut in runs of at most kMaxRunLength.
  uint16_t run_length = 0;
  uint8_t run_compare = 0;  // a rules::Compare
  // A lab status filter (`lab ferritin is low`): its check, decided from the symbol's slot
  // (LabTruthOf) without reading the filter's node; kNone for any other filter.
  LabCheck lab_check = LabCheck::kNone;
  double threshold = 0;  // a threshold filter's number, beside the others of its run
  static constexpr size_t kMaxRunLength = UINT16_MAX;
};
static_assert(sizeof(WakeGroup) == 24);

// Whether a filter compares the symbol's value itself (its slot's `value`) with a threshold by
// <, <=, > or >=: symptom scores, lab values, derived indices, flux indices, stressor scores.
bool IsThresholdFilter(const CompiledNode& leaf);

// The groups of the threshold run [begin, end), filtering by `op`, whose filter holds for `value`
// (the symbol is present), found by binary search: a suffix for < and <=, a prefix for > and >=.
std::pair<const WakeGroup*, const WakeGroup*> HoldingThresholds(const WakeGroup* begin, const WakeGroup* end,
                                                                rules::Compare op, double value);

// The compiled rule base: conditions, symbols and the wake index.
struct CompiledRules {
  SymbolIndex symbols;
  std::vector<std::pair<Family, std::string>> symbol_names;
  std::vector<CompiledRule> rules;
  std::vector<CompiledNode> nodes;  // every rule's condition, each node's children side by side
  std::deque<std::string> inputs;   // the texts CompiledNode::input views (a deque: they never move)
  // Every symbol's wake list, one after another, in runs of one filter: symbol s owns the groups
  // [group_begin[s], group_begin[s + 1]), and they own consecutive ranges of `wakers`.
  std::vector<Waker> wakers;
  std::vector<WakeGroup> wake_groups;
  std::vector<uint32_t> group_begin;
  std::vector<int> always_rules;

  // The knowledge of the built-in data-quality alerts, looked up once per engine, not per case
  // (filled by the engine, which has the knowledge base).
  struct BuiltInAlerts {
    std::optional<AlertSeverity> data_quality_severity;
    std::vector<std::string> data_quality_citations;
    std::vector<std::string> critical_lab_citations;
    std::string data_quality_message, critical_lab_message;  // the alerts' descriptions
  } built_in;

  // The flux symbol of every index key of the model, in key order (working_memory.h,
  // FluxSymbolsInKeyOrder): loading a case's flux values walks this instead of looking each up.
  std::vector<int> flux_symbols;

  // Every symbol of a knowledge node's id, by family and the node's position: a case's ids carry
  // the positions the parser found them at (casefile::NodePosition), so loading a case reads these
  // arrays instead of hashing each id, as CLIPS facts carry interned symbols. Filled by the
  // engine, which has the knowledge base; empty (every id looked up) otherwise.
  struct NodeSymbols {
    std::vector<std::string_view> ids;  // the knowledge base's node ids by position: checks a hint
    std::vector<int> symbols[kFamilyCount];  // [family][position]; empty for a family of no node
    // The positions of each node's medication classes (KnowledgeBase::ClassesOf), in that order:
    // a medication resolved to a node has those classes, each then checked as any hint.
    std::vector<std::vector<knowledge::NodePosition>> classes;
  } by_node;
  void IndexKnowledgeNodes(const knowledge::KnowledgeBase& kb);

  // The class positions of the medication at `node`; none for kNoPosition or a foreign position.
  std::span<const knowledge::NodePosition> ClassPositionsAt(knowledge::NodePosition node) const {
    if (static_cast<size_t>(node) >= by_node.classes.size()) return {};
    return by_node.classes[static_cast<size_t>(node)];
  }

  // Find, for an id the case found at knowledge position `node`: an array read when the node there
  // has the id, else (kNoPosition, a stale hint, another knowledge base) the hashed look-up.
  int FindAt(Family family, knowledge::NodePosition node, std::string_view id) const {
    if (static_cast<size_t>(node) < by_node.ids.size() && SameId(by_node.ids[static_cast<size_t>(node)], id)) {
      const std::vector<int>& symbols = by_node.symbols[family];
      return symbols.empty() ? -1 : symbols[static_cast<size_t>(node)];
    }
    return Find(family, id);
  }

  // A datum that can wake a rule: its symbol, and the leaf test that reads it (-1 when several
  // do), so that a rule is put on the agenda only when that test is not already false.
  struct Trigger {
    int symbol;
    int leaf;
  };

  int Intern(Family family, const std::string& id);
  int Find(Family family, std::string_view id) const;  // -1 when unknown
  size_t symbol_count() const { return symbol_names.size(); }

  // Compiles `condition` into nodes[index]; its children go to fresh consecutive nodes.
  void CompileCondition(const rules::Condition& condition, int index);
  // The parts of a rule's condition that must each be activated (one of their triggers present
  // with its leaf test not false) before the rule can be true: the required children of a root
  // `and`, else the root itself. Empty: the rule can be true with nothing present.
  std::vector<std::vector<Trigger>> RequiredParts(int root) const;
  // The triggers at least one of which must be present for the node to be true; nullopt: it can
  // be true with none present (negation, patient fields, "is missing").
  std::optional<std::vector<Trigger>> Requirement(int index) const;
};

// REQUIRES: `rule_base` outlives the result (nodes point into its tests).
std::unique_ptr<CompiledRules> CompileRules(const rules::RuleBase& rule_base);

}  // namespace nflux::inference
