// The inference engine: forward chaining over a case with certainty factors, a safety gate that
// every strategy passes, and a trace that answers "why?" and "why not?".
//
// Semantics (docs/rule-language.md): conditions are three-valued (unknown for unmeasured data);
// a rule fires when its condition is true, at most once per case; rules run stratum by stratum
// (a rule reading a conclusion runs after every rule that can make it), then by salience, then by
// file and line. Certainty factors combine as in MYCIN, evidence for and against separately, so
// results do not depend on rule or fact order.
//
// Cost: rules are indexed by the case data and conclusions they read; a rule is evaluated only
// once every required part of its condition has data that does not already rule it out (plus the
// few rules that can fire on absent data), so a case costs what its matching rules cost, not the
// size of the rule base (docs/rule-language.md, "Which rules are looked at").
//
// An Engine is immutable after construction; Evaluate() may run on many threads at once.
//
// This is the module's one public header. Its parts sit beside it as internal headers:
// compile.h (rules to flat conditions and the wake index), working_memory.h (per-thread slots
// stamped with a generation), evaluator.h (conditions, one function per test family),
// trace.h, certainty.h (the MYCIN algebra). The safety gate is its own module (engine/safety).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/container/flat_map.hpp>
#include <nlohmann/json.hpp>

#include "case/case.h"
#include "flux/flux.h"
#include "knowledge/knowledge.h"
#include "knowledge/vocabulary.h"
#include "rules/rules.h"
#include "safety/safety.h"

namespace nflux::inference {

enum class Truth { kFalse, kTrue, kUnknown };

// Calibration (docs/rule-language.md): a deficit needs clinical evidence. One that no fired rule
// supports with a symptom, questionnaire, lab or derived index (directly or through a clinical
// conclusion) stays below `possible` (0.2): its certainty is at most this.
inline constexpr double kNonClinicalDeficitCap = 0.19;
// A bare `deficit ID` test holds from `possible` on: advice is never built on an unlikely deficit.
inline constexpr double kPossibleDeficit = 0.2;
std::string_view TruthName(Truth truth);  // "false" | "true" | "unknown"

// Flux indices for the case ("serotonin.synthesis" -> 0.71), relative to a healthy 1.0, and the
// indices that rest on unmeasured inputs. The pipeline computes them with the flux model
// (engine/flux/) and lets given values override it; tests may give them directly.
struct FluxValues {
  // Sorted vectors (Boost's flat_map, the std::map interface): a case has some fifty indices,
  // written in key order by From() and copied whole for the report.
  boost::container::flat_map<std::string, double, std::less<>> values;
  boost::container::flat_map<std::string, bool, std::less<>> assumed;

  // Every index of a flux model result, keyed as rules read it.
  static FluxValues From(const flux::FluxResult& result);
};

// The trace of an evaluation refers to its engine's rule base for what the rules say (a test's
// text, a rule's id, title, file and citations) rather than copying it for every rule considered:
// keep the engine (or the pipeline) while a trace is read.

// What a leaf test found in the case. Most tests found a number or nothing (a symptom's score,
// a flux index, a conclusion's certainty, a medication not taken): those are kept as data and
// written out only when read (TestTrace::Actual), since a trace records some 160 tests a case
// and few of them are ever shown. The rest (labs with a value, questionnaires, patient fields,
// lifestyle, data quality) are written as found (kText).
enum class Found : uint8_t {
  kText,
  kSymptomScore, kSymptomNotEntered, kStressorScore, kStressorNotGiven,
  kFluxIndex, kFluxIndexAssumed, kNoFluxIndex,
  kConcluded, kNotConcluded,
  kTakesMedication, kNoMedicationList, kMedicationNotListed,
  kHasCondition, kNoConditionList, kConditionNotListed,
  kTakesSupplement, kRequestsSupplement, kNoSupplementsSection, kSupplementNotTaken, kSupplementNotRequested,
  kLabMeasured, kLabNotMeasured,
};

// One leaf test of a rule as evaluated on the case.
struct TestTrace {
  std::string_view source{};  // as written: "lab ferritin < 30 ng/mL" (the rule base's)
  Truth truth = Truth::kUnknown;
  Found found = Found::kText;
  std::string_view input{};    // the datum it reads, for next-best-data: "lab:ferritin" (the engine's)
  std::string_view subject{};  // the id it reads: "ferritin" (the rule base's)
  double number = 0;           // the value found, for the kinds that have one
  std::string text{};          // kText: what it found
  double strength = 1;         // certainty of a tested conclusion; 1 for case data
  bool reads_value = false;    // a lab or derived-index test of a measured value (not `is missing`)

  // What it found, as a reviewer reads it: "ferritin 18 ng/mL (low)", "low_mood 2/3",
  // "sertraline not in the medication list"; "" when not recorded (Engine::ExplainDetail).
  std::string Actual() const;
  void AppendActual(std::string& out) const;
};

struct Contribution {
  ConclusionKind kind = ConclusionKind::kFact;
  std::string id;
  double certainty = 0;  // this rule's contribution (rule certainty x condition strength)
};

struct RuleTrace {
  std::string_view rule;   // the rule base's id, title, file and citations (see above)
  std::string_view title;
  std::string_view file;
  int line = 0;
  int stratum = 0;
  std::span<const std::string> citations;
  Truth truth = Truth::kUnknown;
  bool fired = false;
  double strength = 0;
  std::vector<TestTrace> tests;  // every leaf, in source order
  std::vector<Contribution> contributions;
  int order = 0;  // firing order (1-based) when fired
  // When fired: a true leaf test read clinical evidence (symptom, questionnaire, lab, derived
  // index, or a clinical conclusion), so what it concludes counts as clinically supported.
  bool clinical = false;

  // Fraction of leaf tests that held: how close a rule came, for why-not.
  double Closeness() const;
};

struct Trace {
  std::vector<RuleTrace> rules;  // every rule considered, in agenda order
  int firings = 0;
  int considered = 0;
  std::string stopped;  // non-empty when the run limit stopped the evaluation
  // The trace as stored and diffed: {"considered", "firings", "rules": [{"citations", "clinical",
  // "contributions", "file", "fired", "line", "order", "rule", "stratum", "strength", "tests",
  // "title", "truth"}], "stopped"}, keys sorted ("clinical" and "order" only when fired, "stopped"
  // only when set). The text is written directly, byte for byte the DOM's dump().
  std::string ToJsonText() const;
  nlohmann::json ToJson() const;
};

// A conclusion's combined certainty and where it came from.
struct Conclusion {
  std::string id;
  double certainty = 0;  // (P - N) / (1 - min(P, N)), floored at 0
  double support = 0;    // P: evidence for, combined
  double against = 0;    // N: evidence against, combined
  std::vector<std::string> rules;          // supporting rules, firing order
  std::vector<std::string> opposing_rules;
  std::map<std::string, double> drivers;   // deficits: driver -> weight
  // Some supporting rule fired on clinical evidence (RuleTrace::clinical).
  bool clinical = false;
  // Non-empty when calibration capped the certainty, saying why: "capped at 0.19 (model 0.45):
  // supported only by ..., no symptom, questionnaire or lab".
  std::string calibration;
  // Drivers: the labs and derived indices ("lab:ferritin") whose measured values held in a
  // supporting rule, in firing order: what makes a driver lab-confirmed for the ranking.
  std::vector<std::string> measured;
};

// The strategy and alert results are the safety module's (engine/safety/safety.h).
using safety::AlertReason;
using safety::AlertResult;
using safety::BlockReason;
using safety::StrategyResult;
using safety::Verdict;
using safety::VerdictName;

struct Note {
  std::string rule;
  std::string severity;
  std::string message;
};

struct Evaluation {
  std::vector<AlertResult> alerts;  // most severe first
  std::map<std::string, Conclusion> deficits, drivers, facts;
  std::vector<StrategyResult> strategies;  // suggested and not blocked, ranked
  std::vector<StrategyResult> blocked;     // suggested or requested, blocked by safety
  std::vector<StrategyResult> requested;   // every requested supplement with its verdict
  std::vector<Note> notes;
  Trace trace;
};

struct EvaluateOptions {
  bool trace = true;       // record every considered rule; off for raw speed
  int run_limit = 100000;  // most firings per case
  // false: put every rule on the agenda instead of only those the index wakes. Slow; the
  // reference the index is tested against (same conclusions, more rules considered).
  bool use_index = true;
  // false: leave the strategies unranked (in the gate's order, no score or rank reason), for a
  // caller that ranks them itself with RankStrategies (the pipeline, with predicted effects).
  bool rank = true;
};

using safety::CheckStrategy;
using safety::IsReferral;

// What a rule action concludes: the one mapping from the rule language's action kinds to the
// conclusion kinds of traces and explanations (oppose deficit -> against).
ConclusionKind ConclusionKindOf(rules::ActionKind kind);

// Ranks evaluation.strategies with the one ranking (safety::RankStrategies, docs/ranking.md) from
// the evaluation's alerts, drivers (lab-confirmed by `measured`, shown with the case's value) and
// deficits, and the predicted flux effects where the caller computed them. Evaluate() ranks
// without effects; the pipeline ranks again with the effect of every suggested strategy.
void RankStrategies(Evaluation& evaluation, const casefile::Case& c, const knowledge::KnowledgeBase& kb,
                    const std::map<std::string, safety::PredictedEffect>& effects = {});

struct CompiledRules;  // internal (compile.h)

// A case's data as it goes into an engine's working memory, in order (internal: working_memory.h):
// one (symbol, lab statuses, value, datum) per write, the flux values going in before loads[flux_at].
struct CaseLoads {
  struct Load {
    int symbol;
    uint32_t lab_truths;  // a lab's status checks, decided as it was loaded (working_memory.h)
    double value;
    const void* data;
  };
  std::vector<Load> loads;
  size_t flux_at = 0;
};

// A case prepared for one engine (Engine::Prepare): its data resolved once to that engine's
// working memory, so that each evaluation of it replays the loads instead of walking the case,
// as CLIPS asserts a prepared case's facts. The case is held read-only, so the loads cannot drift
// from it; evaluated by another engine, it is read as the case it holds.
class PreparedCase {
 public:
  const casefile::Case& data() const { return *case_; }

 private:
  friend class Engine;
  PreparedCase() = default;  // made by Engine::Prepare only: it always holds a case
  std::unique_ptr<const casefile::Case> case_;  // on the heap: the loads point into it
  uint64_t prepared_for_ = 0;  // the preparing engine's serial (an address could be reused)
  CaseLoads loads_;
};

class Engine {
 public:
  // REQUIRES: `rule_base` was loaded against `kb`.
  Engine(std::shared_ptr<const rules::RuleBase> rule_base, std::shared_ptr<const knowledge::KnowledgeBase> kb);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Evaluation Evaluate(const casefile::Case& c, const FluxValues& flux, const EvaluateOptions& options = {}) const;

  // The case resolved to this engine's working memory, for evaluating it without walking it.
  PreparedCase Prepare(casefile::Case c) const;
  // The same evaluation as Evaluate(prepared.data(), ...).
  Evaluation Evaluate(const PreparedCase& prepared, const FluxValues& flux, const EvaluateOptions& options = {}) const;

  // Evaluates one rule on the case as it stands after a full evaluation (its tests of conclusions
  // read `evaluation`), whether or not it was considered; for why-not.
  RuleTrace ExplainRule(const rules::Rule& rule, const casefile::Case& c, const FluxValues& flux,
                        const Evaluation& evaluation) const;

  // How much of each rule ExplainRules traces. kUnknownInputs, what next_best_data reads: every
  // rule's truth, and only for a rule whose condition is still unknown its tests' truth and input
  // (no actual values: Actual() is empty); the other rules get no tests, and no rule its firing
  // (fired, order, contributions: next_best_data asks only of rules that did not fire).
  enum class ExplainDetail { kFull, kUnknownInputs };

  // ExplainRule for each of `rules`, in order, the case loaded into working memory once: for
  // why-not and next_best_data, which ask about many rules of one case.
  std::vector<RuleTrace> ExplainRules(const std::vector<const rules::Rule*>& rules, const casefile::Case& c,
                                      const FluxValues& flux, const Evaluation& evaluation,
                                      ExplainDetail detail = ExplainDetail::kFull) const;

  // Rules with an action that concludes `id` (a deficit, driver, fact, strategy or alert), in
  // rule base order. Indexed on the first call (thread-safe).
  const std::vector<const rules::Rule*>& RulesConcluding(const std::string& id) const;

  // The rule of this rule base with that id; nullptr for none (a built-in check: "safety").
  const rules::Rule* FindRule(std::string_view id) const;

  const rules::RuleBase& rule_base() const { return *rules_; }
  const knowledge::KnowledgeBase& knowledge() const { return *kb_; }

 private:
  std::shared_ptr<const rules::RuleBase> rules_;
  std::shared_ptr<const knowledge::KnowledgeBase> kb_;
  std::unique_ptr<const CompiledRules> compiled_;
  std::unique_ptr<const safety::GateIndex> gate_index_;
  const uint64_t serial_;  // this engine among the process's engines (PreparedCase)
  mutable std::once_flag concluding_once_;  // RulesConcluding's index, built on first use
  mutable std::unordered_map<std::string, std::vector<const rules::Rule*>> concluding_;
  std::unordered_map<std::string_view, const rules::Rule*> rule_by_id_;  // views of the rules' ids
};

}  // namespace nflux::inference
