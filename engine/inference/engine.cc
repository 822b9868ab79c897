// The engine: an evaluation as an outline of named steps over the parts in this directory
// (compile.h: the compiled rules and their index; working_memory.h: slots and generations;
// evaluator.h: conditions and leaf tests; trace.h). The safety gate is engine/safety.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/text.h"
#include "inference/certainty.h"
#include "inference/compile.h"
#include "inference/evaluator.h"
#include "inference/inference.h"
#include "inference/trace.h"
#include "inference/working_memory.h"

namespace nflux::inference {
namespace {

using rules::ActionKind;
using safety::AlertBoard;
using safety::KnowledgeCitations;
using safety::KnowledgeDefaultSeverity;

void AppendUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// One evaluation of one case: the agenda, the evidence the firing rules add to the working
// memory, the strategies they suggest and the alerts raised. Lives on the stack of Evaluate().
class Run {
 public:
  Run(const CompiledRules& compiled, const knowledge::KnowledgeBase& kb, const safety::GateIndex& gate_index,
      const casefile::Case& c, const FluxValues& flux, const EvaluateOptions& options,
      const CaseLoads* loads = nullptr)
      : compiled_(compiled), kb_(kb), gate_index_(gate_index), case_(c), flux_(flux), options_(options),
        loads_(loads),
        generation_(BeginEvaluation(compiled, scratch_)),
        evaluator_(c, flux, scratch_->slots, generation_, compiled.nodes), agenda_(scratch_->agenda),
        concluded_(scratch_->concluded), evidence_(scratch_->evidence), alerts_(kb) {}

  void LoadCase();
  void RunAgenda();
  void CollectConclusions();
  void AddDataQualityFindings();
  Evaluation Finish();

 private:
  void Enqueue(int rule);  // onto the agenda, once
  void Queue(RuleState& state, int rule);  // REQUIRES: `state` is the rule's, current, not queued
  void Wake(int symbol) { options_.trace ? WakeWith<true>(symbol) : WakeWith<false>(symbol); }
  template <bool kNearMisses>
  void WakeWith(int symbol);
  // The parts the wakers [begin, end) set; rules complete (or, traced, near misses) go on the agenda.
  template <bool kNearMisses>
  [[gnu::always_inline]] inline void ActivateWakers(uint32_t begin, uint32_t end);
  Truth FilterTruth(const WakeGroup& group, int symbol) const;
  bool Consider(int index);
  void Fire(const CompiledRule& compiled_rule, double strength, bool clinical);
  double Apply(const rules::Action& action, int symbol, const rules::Rule& rule, double contribution, bool clinical);
  void AddEvidence(int symbol, double contribution, bool for_it, const std::string& rule_id, bool clinical);
  void SuggestDeficit(const rules::Action& action, int symbol, const rules::Rule& rule, double contribution,
                      bool clinical);
  void TakeConclusion(int symbol, Conclusion& conclusion);
  void SuggestStrategy(const std::string& id, const std::vector<std::string>& for_deficits, double contribution,
                       const std::string& source);
  void RaiseAlert(const rules::Action& action, int symbol, const rules::Rule& rule);
  void NoteMeasured(int symbol);

  const CompiledRules& compiled_;
  const knowledge::KnowledgeBase& kb_;
  const safety::GateIndex& gate_index_;
  const casefile::Case& case_;
  const FluxValues& flux_;
  const EvaluateOptions& options_;
  const CaseLoads* loads_;  // the case's loads prepared for this engine (PreparedCase), or null
  Scratch* scratch_ = nullptr;
  const uint32_t generation_;  // after scratch_: BeginEvaluation sets it
  Evaluator evaluator_;
  // The agenda: candidate rules by agenda position (the rule base is already in agenda order), a
  // min-heap in the scratch space.
  std::vector<int>& agenda_;
  std::vector<int>& concluded_;  // conclusion symbols touched, in order
  std::map<int, std::map<std::string, double>> deficit_drivers_;
  // The rules that gave evidence for or against a symbol, in firing order; sorted by symbol (then order)
  // once the agenda is done, for TakeConclusion.
  std::vector<Evidence>& evidence_;
  std::map<int, std::vector<std::string>> measured_;  // drivers: the measured inputs that held
  std::map<std::string, StrategyResult> suggested_;
  AlertBoard alerts_;
  Evaluation evaluation_;
  // Reused across the agenda: an untraced evaluation builds no per-rule objects.
  RuleTrace trace_;
  std::vector<TestTrace> tests_;
};

// The case's data into the working memory; the rules it (or nothing at all) can make true onto
// the agenda.
void Run::LoadCase() {
  if (loads_)
    ReplayWorkingMemory(*loads_, flux_, compiled_, scratch_->slots, generation_, scratch_->present);
  else
    LoadWorkingMemory(case_, flux_, compiled_, scratch_->slots, generation_, scratch_->present);
  for (int rule : compiled_.always_rules) Enqueue(rule);
  if (!options_.use_index)
    for (int rule = 0; rule < static_cast<int>(compiled_.rules.size()); ++rule) Enqueue(rule);
  for (int symbol : scratch_->present) Wake(symbol);
}

// A rule's state in this evaluation: one stamped by an earlier evaluation starts afresh.
RuleState& Current(RuleState& state, uint32_t generation) {
  if (state.generation != generation) state = RuleState{generation, 0};
  return state;
}

void Run::Enqueue(int rule) {
  RuleState& state = Current(scratch_->rules[rule], generation_);
  if (!(state.parts & kQueued)) Queue(state, rule);
}

void Run::Queue(RuleState& state, int rule) {
  state.parts |= kQueued;
  agenda_.push_back(rule);
  std::push_heap(agenda_.begin(), agenda_.end(), std::greater<>());
}

// A present or changed symbol activates the parts of rules it can make true (not those whose
// test on it is false); a rule goes on the agenda once all its required parts are active. With a
// trace, also once all but one are: such a rule cannot be true and does not fire, but the trace
// shows reviewers the near miss and the datum it lacked ("ferritin not measured"). A threshold
// run's filters (symptom >= 1, >= 2, ...) are not tested one by one: those that hold are found by
// binary search on the symbol's value.
template <bool kNearMisses>
void Run::WakeWith(int symbol) {
  const WakeGroup* groups = compiled_.wake_groups.data();
  const WakeGroup* group = groups + compiled_.group_begin[static_cast<size_t>(symbol)];
  const WakeGroup* const end = groups + compiled_.group_begin[static_cast<size_t>(symbol) + 1];
  while (group != end) {
    if (group->run_length != 0) {
      const WakeGroup* const run_end = group + group->run_length;
      const Slot& slot = scratch_->slots[static_cast<size_t>(symbol)];
      // Absent, every filter is unknown, so not false: the whole run wakes.
      const auto op = static_cast<rules::Compare>(group->run_compare);
      auto [first, last] = slot.generation == generation_ ? HoldingThresholds(group, run_end, op, slot.value)
                                                           : std::pair{group, run_end};
      // The run's groups own consecutive ranges of wakers: those holding are one range.
      if (first != last) ActivateWakers<kNearMisses>(first->begin, (last - 1)->end);
      group = run_end;
      continue;
    }
    if (group->leaf < 0 || FilterTruth(*group, symbol) != Truth::kFalse) ActivateWakers<kNearMisses>(group->begin, group->end);
    ++group;
  }
}

// A group's filter on the waking symbol: a lab status from the symbol's slot, any other test by
// the evaluator (the same answer: its lab status test reads the same slot).
Truth Run::FilterTruth(const WakeGroup& group, int symbol) const {
  if (group.lab_check != LabCheck::kNone)
    if (const Slot& slot = scratch_->slots[static_cast<size_t>(symbol)]; slot.generation == generation_ && slot.data)
      return LabTruthOf(slot, group.lab_check);
  return evaluator_.EvaluateLeaf(compiled_.nodes[static_cast<size_t>(group.leaf)]);
}

// The hot loop of an evaluation (a few thousand wakers a case at 10,000 rules): the rule states
// and generation are held in locals, since the compiler cannot tell that Queue leaves them be.
template <bool kNearMisses>
void Run::ActivateWakers(uint32_t begin, uint32_t end) {
  RuleState* const states = scratch_->rules.data();
  const uint32_t generation = generation_;
  const Waker* const last = compiled_.wakers.data() + end;
  for (const Waker* waker = compiled_.wakers.data() + begin; waker != last; ++waker) {
    RuleState& state = Current(states[waker->rule], generation);
    if (state.parts & kQueued) continue;
    state.parts |= waker->part;
    // The required parts not yet active: none, or (a near miss) exactly one.
    const uint32_t missing = waker->required & ~state.parts;
    if (missing == 0 || (kNearMisses && (missing & (missing - 1)) == 0)) Queue(state, waker->rule);
  }
}

void Run::RunAgenda() {
  while (!agenda_.empty()) {
    std::pop_heap(agenda_.begin(), agenda_.end(), std::greater<>());
    const int index = agenda_.back();
    agenda_.pop_back();
    if (!Consider(index)) break;
  }
}

// Evaluates one rule from the agenda and fires it when true. False: the run limit stopped the run.
bool Run::Consider(int index) {
  const CompiledRule& compiled_rule = compiled_.rules[index];
  const rules::Rule& rule = *compiled_rule.rule;
  ++evaluation_.trace.considered;
  double strength = 1;
  tests_.clear();
  bool want_tests = options_.trace || compiled_rule.needs_evidence;
  if (want_tests) tests_.reserve(static_cast<size_t>(compiled_rule.leaves));  // the trace takes the buffer
  Truth truth = evaluator_.Evaluate(compiled_rule.root, &strength, want_tests ? &tests_ : nullptr);
  if (options_.trace) {
    trace_ = StartRuleTrace(rule);
    trace_.truth = truth;
  }
  if (truth == Truth::kTrue) {
    if (evaluation_.trace.firings >= options_.run_limit) {
      evaluation_.trace.stopped =
          "run limit of " + std::to_string(options_.run_limit) + " firings reached at rule " + rule.id;
      return false;
    }
    Fire(compiled_rule, strength, evaluator_.Clinical(compiled_rule.root));
  }
  if (options_.trace) {
    trace_.tests = std::move(tests_);  // cleared before the next rule
    evaluation_.trace.rules.push_back(std::move(trace_));
  }
  return true;
}

void Run::Fire(const CompiledRule& compiled_rule, double strength, bool clinical) {
  const rules::Rule& rule = *compiled_rule.rule;
  ++evaluation_.trace.firings;
  if (options_.trace) {
    trace_.fired = true;
    trace_.clinical = clinical;
    trace_.order = evaluation_.trace.firings;
    trace_.strength = strength;
  }
  for (size_t i = 0; i < rule.actions.size(); ++i) {
    const rules::Action& action = rule.actions[i];
    double contribution = Apply(action, compiled_rule.action_symbols[i], rule, action.certainty * strength, clinical);
    if (options_.trace) trace_.contributions.push_back(Contribution{ConclusionKindOf(action.kind), action.id, contribution});
  }
}

// Applies one action of a firing rule, `symbol` the conclusion it makes (CompiledRule::action_symbols);
// returns the certainty it contributed.
double Run::Apply(const rules::Action& action, int symbol, const rules::Rule& rule, double contribution,
                  bool clinical) {
  switch (action.kind) {
    case ActionKind::kDeriveFact: AddEvidence(symbol, contribution, true, rule.id, clinical); break;
    case ActionKind::kConcludeDriver:
      AddEvidence(symbol, contribution, true, rule.id, clinical);
      NoteMeasured(symbol);
      break;
    case ActionKind::kSuggestDeficit: SuggestDeficit(action, symbol, rule, contribution, clinical); break;
    case ActionKind::kOpposeDeficit: AddEvidence(symbol, contribution, false, rule.id, false); break;
    case ActionKind::kSuggestStrategy: SuggestStrategy(action.id, action.ids, contribution, rule.id); break;
    case ActionKind::kRaiseAlert: RaiseAlert(action, symbol, rule); return 1;
    case ActionKind::kNoteDataQuality:
      evaluation_.notes.push_back(Note{rule.id, action.severity.empty() ? "warning" : action.severity, action.message});
      break;
  }
  return contribution;
}

// Evidence for or against a conclusion; a changed conclusion wakes the rules that read it.
// Evidence for from a clinical rule makes the conclusion clinical (calibration).
void Run::AddEvidence(int symbol, double contribution, bool for_it, const std::string& rule_id, bool clinical) {
  Slot& slot = scratch_->slots[symbol];
  if (slot.generation != generation_) {
    slot.generation = generation_;
    slot.support = slot.against = 0;
    slot.data = nullptr;
    slot.clinical = false;
    concluded_.push_back(symbol);
  }
  if (for_it) {
    slot.support = CombineSameSign(slot.support, contribution);
    slot.clinical = slot.clinical || clinical;
  } else {
    slot.against = CombineSameSign(slot.against, contribution);
  }
  evidence_.push_back(Evidence{symbol, static_cast<uint32_t>(evidence_.size()), for_it, &rule_id});
  Wake(symbol);
}

void Run::SuggestDeficit(const rules::Action& action, int symbol, const rules::Rule& rule, double contribution,
                         bool clinical) {
  AddEvidence(symbol, contribution, true, rule.id, clinical);
  auto& drivers = deficit_drivers_[symbol];
  // A driver's weight is the evidence the rules naming it gave the deficit; the rule's strength
  // already holds the driver's own certainty when the rule tested it.
  for (const auto& driver : action.ids) drivers[driver] = CombineSameSign(drivers[driver], contribution);
}

void Run::SuggestStrategy(const std::string& id, const std::vector<std::string>& for_deficits, double contribution,
                          const std::string& source) {
  auto& strategy = suggested_[id];
  strategy.id = id;
  strategy.suggested = true;
  strategy.support = CombineSameSign(strategy.support, contribution);
  strategy.rules.push_back(source);
  for (const auto& deficit : for_deficits) AppendUnique(strategy.for_deficits, deficit);
}

// The measured values (labs, derived indices) that held in the firing rule: they confirm a driver.
void Run::NoteMeasured(int symbol) {
  for (const auto& test : tests_)
    if (test.reads_value && test.truth == Truth::kTrue) AppendUnique(measured_[symbol], std::string(test.input));
}

// An alert from a rule; its `because` is the case data of the rule's tests that held.
void Run::RaiseAlert(const rules::Action& action, int symbol, const rules::Rule& rule) {
  AddEvidence(symbol, 1, true, rule.id, false);
  std::vector<std::string> because;
  for (const auto& test : tests_)
    if (test.truth == Truth::kTrue && !test.input.empty()) because.emplace_back(test.input);
  alerts_.Raise(action.id, Parse<AlertSeverity>(action.severity), std::move(because), rule.citations, rule.id,
                action.message);
}

// Facts, drivers and deficits, from the working memory (concluded_ holds each symbol once).
void Run::CollectConclusions() {
  std::sort(evidence_.begin(), evidence_.end(), Evidence::BySymbolInOrder);
  for (int symbol : concluded_) {
    const auto& [family, id] = compiled_.symbol_names[symbol];
    std::map<std::string, Conclusion>* conclusions = family == kFact     ? &evaluation_.facts
                                                     : family == kDriver  ? &evaluation_.drivers
                                                     : family == kDeficit ? &evaluation_.deficits
                                                                          : nullptr;
    if (!conclusions) continue;
    // Filled in place: a conclusion is a large record.
    if (auto [it, inserted] = conclusions->try_emplace(id); inserted) TakeConclusion(symbol, it->second);
  }
}

// One conclusion from its slot, calibrated: a deficit without clinical support is capped and says
// so. Takes the symbol's evidence lists: called once per concluded symbol.
void Run::TakeConclusion(int symbol, Conclusion& conclusion) {
  const auto& [family, id] = compiled_.symbol_names[symbol];
  const Slot& slot = scratch_->slots[symbol];
  conclusion.id = id;
  conclusion.support = slot.support;
  conclusion.against = slot.against;
  conclusion.clinical = slot.clinical;
  conclusion.certainty = CalibratedCertainty(slot, family);
  double uncapped = CombineForAgainst(slot.support, slot.against);
  if (conclusion.certainty < uncapped)
    conclusion.calibration = "capped at " + FormatNumber(kNonClinicalDeficitCap) + " (rules alone: " +
                             FormatNumber(uncapped, 3) + "): supported only by the flux model, medications, " +
                             "lifestyle or patient data; no symptom, questionnaire or lab";
  auto [first, last] =
      std::equal_range(evidence_.begin(), evidence_.end(), Evidence{symbol, 0, false, nullptr}, Evidence::BySymbol);
  // Sized first: each list allocates once, not once per doubling.
  const auto supporting = static_cast<size_t>(std::count_if(first, last, [](const Evidence& e) { return e.for_it; }));
  conclusion.rules.reserve(supporting);
  conclusion.opposing_rules.reserve(static_cast<size_t>(last - first) - supporting);
  for (; first != last; ++first) (first->for_it ? conclusion.rules : conclusion.opposing_rules).push_back(*first->rule_id);
  // Taken, not copied: each concluded symbol is collected once.
  if (auto it = deficit_drivers_.find(symbol); it != deficit_drivers_.end()) conclusion.drivers = std::move(it->second);
  if (auto it = measured_.find(symbol); it != measured_.end()) conclusion.measured = std::move(it->second);
}

// The built-in findings' ids, made once: a literal would build a string at every raising.
const std::string kDataQualityWarning = "data_quality_warning", kCriticalLabValue = "critical_lab_value",
                  kRepeatOrVerifyLabs = "repeat_or_verify_labs", kDataQualitySource = "data_quality";

// Data quality, as case.md requires, whatever the rules say.
void Run::AddDataQualityFindings() {
  if (case_.flags.data_quality_warning) {
    std::vector<std::string> because;
    because.reserve(case_.data_quality.size());
    for (const auto& issue : case_.data_quality)
      if (issue.severity != casefile::Severity::kInfo) because.push_back("data_quality:" + issue.path);  // info: a note only
    // Info unless the knowledge base says otherwise (other alerts default to caution).
    alerts_.Raise(kDataQualityWarning, compiled_.built_in.data_quality_severity.value_or(AlertSeverity::kInfo),
                  std::move(because), compiled_.built_in.data_quality_citations, kDataQualitySource,
                  compiled_.built_in.data_quality_message);
  }
  if (case_.flags.critical_lab_value) {
    std::vector<std::string> because;
    because.reserve(case_.flags.critical_labs.size());
    for (const auto& lab : case_.flags.critical_labs) because.push_back("lab:" + lab);
    std::sort(because.begin(), because.end());  // the same for any order of the labs
    alerts_.Raise(kCriticalLabValue, AlertSeverity::kHigh, std::move(because), compiled_.built_in.critical_lab_citations,
                  kDataQualitySource, compiled_.built_in.critical_lab_message);
  }
  if (case_.flags.repeat_or_verify_labs) SuggestStrategy(kRepeatOrVerifyLabs, {}, 1, kDataQualitySource);
}

// The safety gate over every suggested, requested and current strategy, then alerts and
// strategies in order.
Evaluation Run::Finish() {
  safety::Conclusions conclusions;
  for (const auto& [id, driver] : evaluation_.drivers) conclusions.drivers[id] = driver.certainty;
  safety::GateResult gate = safety::PassGate(case_, kb_, conclusions, std::move(suggested_), alerts_, &gate_index_);
  evaluation_.alerts = alerts_.TakeSorted();
  evaluation_.strategies = std::move(gate.strategies);
  evaluation_.blocked = std::move(gate.blocked);
  evaluation_.requested = std::move(gate.requested);
  if (options_.rank) RankStrategies(evaluation_, case_, kb_);
  return std::move(evaluation_);
}

// The compiled rules with the knowledge every evaluation reads looked up once.
std::unique_ptr<const CompiledRules> CompileForEngine(const rules::RuleBase& rule_base,
                                                      const knowledge::KnowledgeBase& kb) {
  std::unique_ptr<CompiledRules> compiled = CompileRules(rule_base);
  compiled->built_in.data_quality_severity = KnowledgeDefaultSeverity(kb, "data_quality_warning");
  compiled->built_in.data_quality_citations = KnowledgeCitations(kb, "data_quality_warning");
  compiled->built_in.critical_lab_citations = KnowledgeCitations(kb, "critical_lab_value");
  compiled->built_in.data_quality_message = safety::KnowledgeDescription(kb, "data_quality_warning");
  compiled->built_in.critical_lab_message = safety::KnowledgeDescription(kb, "critical_lab_value");
  compiled->flux_symbols = FluxSymbolsInKeyOrder(*compiled);
  compiled->IndexKnowledgeNodes(kb);
  return compiled;
}

}  // namespace

ConclusionKind ConclusionKindOf(ActionKind kind) {
  switch (kind) {
    case ActionKind::kDeriveFact: return ConclusionKind::kFact;
    case ActionKind::kConcludeDriver: return ConclusionKind::kDriver;
    case ActionKind::kSuggestDeficit: return ConclusionKind::kDeficit;
    case ActionKind::kOpposeDeficit: return ConclusionKind::kAgainst;
    case ActionKind::kSuggestStrategy: return ConclusionKind::kStrategy;
    case ActionKind::kRaiseAlert: return ConclusionKind::kAlert;
    case ActionKind::kNoteDataQuality: return ConclusionKind::kNote;
  }
  return ConclusionKind::kNote;
}

namespace {

uint64_t NextEngineSerial() {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

}  // namespace

Engine::Engine(std::shared_ptr<const rules::RuleBase> rule_base, std::shared_ptr<const knowledge::KnowledgeBase> kb)
    : rules_(std::move(rule_base)), kb_(std::move(kb)), compiled_(CompileForEngine(*rules_, *kb_)),
      gate_index_(std::make_unique<safety::GateIndex>(*kb_)), serial_(NextEngineSerial()) {
  rule_by_id_.reserve(rules_->rules.size());
  for (const auto& rule : rules_->rules) rule_by_id_.try_emplace(rule.id, &rule);  // the first of an id, as a scan finds
}

const rules::Rule* Engine::FindRule(std::string_view id) const {
  auto it = rule_by_id_.find(id);
  return it == rule_by_id_.end() ? nullptr : it->second;
}

Engine::~Engine() = default;

namespace {

// An evaluation's outline, whichever way the case is loaded.
Evaluation Outline(Run& run) {
  run.LoadCase();
  run.RunAgenda();
  run.CollectConclusions();
  run.AddDataQualityFindings();
  return run.Finish();
}

}  // namespace

Evaluation Engine::Evaluate(const casefile::Case& c, const FluxValues& flux, const EvaluateOptions& options) const {
  Run run(*compiled_, *kb_, *gate_index_, c, flux, options);
  return Outline(run);
}

PreparedCase Engine::Prepare(casefile::Case c) const {
  PreparedCase prepared;
  prepared.case_ = std::make_unique<const casefile::Case>(std::move(c));
  prepared.prepared_for_ = serial_;
  // Recorded from a load into this thread's working memory (a generation of its own), so the
  // loads are exactly what LoadWorkingMemory writes, duplicates of a lab included.
  Scratch* scratch = nullptr;
  const uint32_t generation = BeginEvaluation(*compiled_, scratch);
  LoadWorkingMemory(*prepared.case_, {}, *compiled_, scratch->slots, generation, scratch->present, &prepared.loads_);
  return prepared;
}

Evaluation Engine::Evaluate(const PreparedCase& prepared, const FluxValues& flux,
                            const EvaluateOptions& options) const {
  if (prepared.prepared_for_ != serial_) return Evaluate(prepared.data(), flux, options);
  Run run(*compiled_, *kb_, *gate_index_, prepared.data(), flux, options, &prepared.loads_);
  return Outline(run);
}

const std::vector<const rules::Rule*>& Engine::RulesConcluding(const std::string& id) const {
  // Built on the first question: only explanations and reports ask, many times per case.
  std::call_once(concluding_once_, [this] {
    for (const auto& rule : rules_->rules)
      for (const auto& action : rule.actions) {
        auto& list = concluding_[action.id];
        if (list.empty() || list.back() != &rule) list.push_back(&rule);
      }
  });
  static const std::vector<const rules::Rule*> kNone;
  auto it = concluding_.find(id);
  return it == concluding_.end() ? kNone : it->second;
}

RuleTrace Engine::ExplainRule(const rules::Rule& rule, const casefile::Case& c, const FluxValues& flux,
                              const Evaluation& evaluation) const {
  return std::move(ExplainRules({&rule}, c, flux, evaluation).front());
}

std::vector<RuleTrace> Engine::ExplainRules(const std::vector<const rules::Rule*>& rules, const casefile::Case& c,
                                            const FluxValues& flux, const Evaluation& evaluation,
                                            ExplainDetail detail) const {
  const CompiledRules& compiled = *compiled_;
  // The calling thread's working memory, a new generation of it: case data plus the conclusions
  // of the finished evaluation (no evaluation runs on this thread meanwhile), loaded once for all.
  Scratch* scratch = nullptr;
  const uint32_t generation = BeginEvaluation(compiled, scratch);
  LoadWorkingMemory(c, flux, compiled, scratch->slots, generation, scratch->present);
  LoadConclusions(evaluation, compiled, scratch->slots, generation);
  const bool full = detail == ExplainDetail::kFull;
  Evaluator evaluator(c, flux, scratch->slots, generation, compiled.nodes, /*record_actual=*/full);
  std::unordered_map<std::string_view, const RuleTrace*> fired;  // rule id -> its firing
  if (full)  // next_best_data asks only of rules that did not fire
    for (const auto& considered : evaluation.trace.rules)
      if (considered.fired) fired[considered.rule] = &considered;
  // Compiled rules are in rule base order; a rule of another rule base is not evaluated.
  const auto& all = rules_->rules;
  const std::less<> before;
  std::vector<RuleTrace> out;
  out.reserve(rules.size());
  for (const rules::Rule* rule : rules) {
    RuleTrace& trace = out.emplace_back(StartRuleTrace(*rule));
    if (!all.empty() && !before(rule, all.data()) && before(rule, all.data() + all.size())) {
      const CompiledRule& compiled_rule = compiled.rules[static_cast<size_t>(rule - all.data())];
      double strength = 1;
      // The same truth and strength traced or not (an untraced `and` only stops at the first
      // false): without the full trace, only a rule still unknown is traced.
      if (!full) trace.truth = evaluator.Evaluate(compiled_rule.root, &strength, nullptr);
      if (full || trace.truth == Truth::kUnknown) {
        trace.tests.reserve(static_cast<size_t>(compiled_rule.leaves));
        trace.truth = evaluator.Evaluate(compiled_rule.root, &strength, &trace.tests);
      }
      trace.strength = trace.truth == Truth::kTrue ? strength : 0;
    }
    if (auto it = fired.find(rule->id); it != fired.end()) {
      trace.fired = true;
      trace.order = it->second->order;
      trace.contributions = it->second->contributions;
    }
  }
  return out;
}

}  // namespace nflux::inference
