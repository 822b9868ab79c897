// Explanations of an evaluation, built from its trace: "why was X concluded?" (the chain of fired
// rules, the case data they matched, the certainty arithmetic and the knowledge-graph paths behind
// it) and "why not X?" (the rules that could have concluded it, how close each came, and the
// unmeasured inputs that would decide it).
//
// Explanations are plain values (structs) keyed by the id they explain; they render themselves as
// JSON (ToJson) and as terminal text (ToText). They keep no pointer into the engine, the case or
// the evaluation, so they outlive them. Every function here is pure and thread-safe: it only
// reads the (immutable) engine, case and evaluation.
#pragma once

#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "case/case.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"
#include "knowledge/vocabulary.h"
#include "rules/rules.h"

namespace nflux::explain {

// ---------------------------------------------------------------------------------------------
// Evidence: the case data behind one fired rule, one item per TRUE leaf test.

struct Evidence {
  std::string kind;  // lab | symptom | questionnaire | medication | condition | flux | lifestyle |
                     // stressor | driver | deficit | fact | alert | derived | supplement | patient | data_quality
  std::string id;    // "ferritin"
  std::string text;  // TestTrace::actual: "ferritin 18 ng/mL (low)"
  std::string rule;  // the rule whose test it is
  std::string citation;  // the rule's first citation, formatted (Citation::Format), or ""
  std::string grade;     // the best evidence grade among the rule's citations ("A" | "B" | "C"), or ""
};

// The subject of a leaf test: {kind, id} as in Evidence ("lab", "ferritin"; "patient", "sex").
std::pair<std::string, std::string> TestSubject(const rules::Test& test);

// The leaf tests of a condition in source order (the order of RuleTrace::tests).
std::vector<const rules::Test*> LeafTests(const rules::Condition& condition);

// The trace of `rule_id` in the evaluation (fired or only considered), or nullptr.
const inference::RuleTrace* FindTrace(const inference::Evaluation& evaluation, std::string_view rule_id);

// The TRUE leaf tests of a fired rule as evidence. Empty when the rule did not fire.
std::vector<Evidence> EvidenceOf(const inference::Engine& engine, const inference::Evaluation& evaluation,
                                 std::string_view rule_id);

// The evidence of several fired rules, and behind every driver or fact they tested, the evidence
// of the rules that concluded it (recursively): a deficit resting on `driver iron_deficiency`
// lists the driver and the ferritin lab behind it. Duplicates (same kind, id and rule) dropped.
std::vector<Evidence> EvidenceBehind(const inference::Engine& engine, const inference::Evaluation& evaluation,
                                     const std::vector<std::string>& rule_ids);

// EvidenceBehind for the many rule lists of one evaluation (a report's deficits and drivers): each
// rule's evidence is built once. Reads the engine and evaluation, which must outlive it; one
// thread at a time.
class EvidenceCache {
 public:
  EvidenceCache(const inference::Engine& engine, const inference::Evaluation& evaluation);
  ~EvidenceCache();
  EvidenceCache(const EvidenceCache&) = delete;
  EvidenceCache& operator=(const EvidenceCache&) = delete;

  // EvidenceBehind(engine, evaluation, rule_ids), as pointers into this cache. REQUIRES: the
  // strings of `rule_ids` outlive the cache (the evaluation's conclusions' rule lists do).
  std::vector<const Evidence*> Behind(const std::vector<std::string>& rule_ids);

 private:
  struct Item {
    Evidence evidence;
    const inference::Conclusion* behind = nullptr;  // the driver or fact it tested, if concluded
    bool repeated = false;  // an earlier item of the rule has the same kind and id
  };
  const std::vector<Item>& Of(std::string_view rule_id);
  void Visit(std::string_view rule_id, std::vector<std::string_view>& seen_rules, std::vector<const Evidence*>& out);

  const inference::Engine& engine_;
  const inference::Evaluation& evaluation_;
  // Keyed by views of the rule ids the evaluation holds (Behind's and its conclusions').
  std::unordered_map<std::string_view, std::vector<Item>> of_;
};

// "Best J, ... 2010;7:34" for a citation key, or the key itself when the knowledge base lacks it.
std::string FormatCitation(const knowledge::KnowledgeBase& kb, const std::string& key);

// The best evidence grade among the citations `keys` names ("A" | "B" | "C"), or "" for none: a
// rule's grade is that of its strongest source.
std::string GradeOf(const knowledge::KnowledgeBase& kb, std::span<const std::string> keys);

// "grade B (kroenke_2001_phq9, apa_dsm5tr)", or "" for no citations: a rule's grade with the keys it
// comes from, as explain and the reports show it.
std::string GradeText(const knowledge::KnowledgeBase& kb, const std::vector<std::string>& keys);

// How well one knowledge edge is supported: its `evidence` (H human, A animal/cell, M mechanistic),
// `certainty` (high | moderate | low), and the grade and keys of its citations.
struct EdgeEvidence {
  std::string step;       // "iron_deficiency --downregulates(-)--> iron"
  std::string evidence;   // "" when the edge does not say
  std::string certainty;  // "" when the edge does not say
  std::string grade;
  std::vector<std::string> citations;  // keys

  std::string ToText() const;  // "evidence H, certainty moderate, grade B (key)"
};
EdgeEvidence EvidenceOfEdge(const knowledge::KnowledgeBase& kb, const knowledge::Edge& edge);

// ---------------------------------------------------------------------------------------------
// Why: the chain behind a conclusion.

struct WhyNode;

// One fired rule behind a conclusion.
struct WhyRule {
  std::string rule;
  std::string title;
  std::string file;
  int line = 0;
  double contribution = 0;  // what this rule added (rule certainty x condition strength)
  bool opposing = false;    // evidence against (oppose deficit)
  std::vector<inference::TestTrace> matched;  // its TRUE leaf tests, with the actual values
  std::vector<std::string> citations;         // formatted
  std::vector<std::string> citation_keys;     // as the rule lists them
  std::string grade;                          // GradeOf(citation_keys)
  std::vector<WhyNode> because;  // the conclusions (drivers, facts, deficits, alerts) it tested
};

// One conclusion and the rules behind it, recursively.
struct WhyNode {
  ConclusionKind kind = ConclusionKind::kFact;  // deficit | driver | fact | strategy | alert
  std::string id;
  double certainty = 0;  // combined (deficits, drivers, facts); the score for strategies
  double support = 0;    // P
  double against = 0;    // N
  bool repeated = false;  // already explained higher in the chain (cycles, shared drivers)
  std::vector<WhyRule> rules;  // supporting first (firing order), then opposing
};

// One knowledge-graph influence path from a driver to what a deficit involves.
struct WhyPath {
  std::string from;  // the driver
  std::string to;    // the deficit's pathway or transmitter
  int net_sign = 1;
  std::vector<std::string> steps;  // "iron_deficiency --downregulates(-)--> iron"
  std::vector<std::string> nodes;  // iron_deficiency, iron, tph2, ...
  std::vector<EdgeEvidence> evidence;  // one per step
};

struct WhyExplanation {
  std::string id;
  ConclusionKind kind = ConclusionKind::kFact;
  WhyNode root;
  std::vector<WhyPath> paths;
  // Strategies: set when safety blocked it or allowed it only with cautions.
  std::string verdict;  // "" | acceptable | acceptable_with_caution | blocked
  std::vector<inference::BlockReason> safety;

  nlohmann::ordered_json ToJson() const;
  std::string ToText() const;
};

// Why was `id` (a deficit, driver, fact, strategy or alert) concluded for this case?
// Errors: NotFound "'X' was not concluded for this case; try --why-not X" when it was not;
// NotFound "unknown id 'X' (did you mean ...)" when no knowledge node or rule names it.
// `flux` is used only for rules the evaluation did not trace (EvaluateOptions::trace off).
Result<WhyExplanation> Why(const inference::Engine& engine, const casefile::Case& c,
                           const inference::Evaluation& evaluation, const std::string& id,
                           const inference::FluxValues& flux = {});

// ---------------------------------------------------------------------------------------------
// Why not: the rules that could have concluded something, and what would decide them.

struct WhyNotRule {
  std::string rule;
  std::string title;
  std::string file;
  int line = 0;
  double certainty = 0;  // the certainty its action gives `id` at full strength
  inference::Truth truth = inference::Truth::kUnknown;
  double closeness = 0;  // RuleTrace::Closeness()
  std::vector<inference::TestTrace> held;     // TRUE tests
  std::vector<inference::TestTrace> failed;   // FALSE tests: actual vs required (source)
  std::vector<inference::TestTrace> unknown;  // UNKNOWN tests: unmeasured data
  std::vector<std::string> citations;         // formatted
  std::vector<std::string> citation_keys;
  std::string grade;
};

// An unmeasured input that would decide one or more of those rules. Like a trace, it refers to
// the engine's strings (the input as its tests read it, the rule base's rule ids): keep the engine
// while it is read.
struct DecidingInput {
  std::string_view input;               // "lab:vitamin_b6_plp"
  std::vector<std::string_view> rules;  // the rules it would decide (sorted)
  // The rise in `id`'s certainty if those rules fired at full strength (MYCIN-combined with the
  // evidence already there).
  double impact = 0;
};

struct WhyNotExplanation {
  std::string id;
  std::string kind;  // a conclusion kind's name; for an id no rule concludes, its knowledge kind ("lab")
  bool concluded = false;  // it was concluded after all
  double certainty = 0;
  std::vector<std::string> fired;  // the rules that did fire for it
  bool blocked = false;            // a strategy that safety blocked
  std::vector<inference::BlockReason> block_reasons;
  std::vector<WhyNotRule> rules;   // did not fire; closest first, then by rule id
  std::vector<DecidingInput> inputs;  // deciding the most rules first, then by impact, then by name

  nlohmann::ordered_json ToJson() const;
  std::string ToText() const;
};

// Why was `id` not concluded (or: which of its rules did not fire)?
// Errors: NotFound "unknown id 'X' (did you mean ...)" when no knowledge node or rule names it.
Result<WhyNotExplanation> WhyNot(const inference::Engine& engine, const casefile::Case& c,
                                 const inference::Evaluation& evaluation, const std::string& id,
                                 const inference::FluxValues& flux = {});

// What would decide `id`: exactly WhyNot's `certainty` and `inputs`, without the rest of the
// explanation (citations, titles, the tests that held or failed), which next_best_data does not
// show. Errors: as WhyNot.
struct Deciding {
  double certainty = 0;
  std::vector<DecidingInput> inputs;
};
Result<Deciding> WhatWouldDecide(const inference::Engine& engine, const casefile::Case& c,
                                 const inference::Evaluation& evaluation, const std::string& id,
                                 const inference::FluxValues& flux = {});
// WhatWouldDecide for each of `ids`, in order: every rule that could decide one of them is
// evaluated once, on one load of the case into working memory.
std::vector<Result<Deciding>> WhatWouldDecideEach(const inference::Engine& engine, const casefile::Case& c,
                                                  const inference::Evaluation& evaluation,
                                                  const std::vector<std::string>& ids,
                                                  const inference::FluxValues& flux = {});

}  // namespace nflux::explain
