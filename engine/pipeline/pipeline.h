// The pipeline: the one door every front end (the nflux command, batch, the HTTP service) uses to
// evaluate cases, as leveldb's DB::Open is the one door to a database.
//
//   auto pipeline = pipeline::Pipeline::Open(options);      // knowledge + rules, loaded once
//   auto result = (*pipeline)->Evaluate(case_text, {});    // parse, flux, inference, report options
//
// Open() loads the knowledge base (from a folder, or a version stored by 'nflux kb build'), the
// rule base, the inference engine and the flux model; every load problem comes back as data in the
// Status (one problem per line, file:line first), nothing is printed; a rule base with no rules is
// refused (RequireRules), so no front end ever reports an empty evaluation. Evaluate() does what every
// command used to repeat: case parsing (strict or not, named by its source), the flux model, given
// flux values overriding it, inference, and the report options (flux, unmeasured inputs, the
// predicted effects of suggested strategies on the flux deficits). WhatIf() ranks strategies with
// the verdict the safety gate gives each for the case (SafetyVerdict, the evaluation's own).
//
// Ownership: a Pipeline owns (shares) its knowledge, rules, engine and flux model; a
// CaseEvaluation is a self-contained value. Thread-safety: a Pipeline is immutable after Open();
// every const method may run on many threads at once.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "case/case.h"
#include "fhir/fhir.h"
#include "flux/flux.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"
#include "report/report.h"
#include "rules/rules.h"
#include "safety/safety.h"
#include "store/store.h"

namespace nflux::pipeline {

// Where the knowledge and rules come from.
struct Options {
  std::string knowledge_dir = "knowledge";  // both ignored when from_db
  std::string rules_dir = "rules";
  // Load the knowledge base and the rules of one build stored by 'nflux kb build' in the database at
  // db_path instead of the folders; kb_version picks a build by its knowledge or rules version (empty:
  // the latest).
  bool from_db = false;
  std::string db_path;
  std::string kb_version;
  // The cache folder of compiled snapshots (engine/snapshot; the nflux command passes
  // snapshot::DefaultCacheDir()): the knowledge and rule base are taken from a snapshot of exactly
  // these sources when one is there, else opened from the sources and a snapshot written. Empty
  // (the default), and always with from_db: from the sources only.
  std::string snapshot_dir;
};

// The exact content a pipeline is opened from: what a stored run keeps so that it can be replayed
// under the same knowledge and rules.
struct Sources {
  std::vector<knowledge::SourceFile> knowledge;  // paths as read ("knowledge/labs.json"; stored: "labs.json")
  std::string knowledge_dir;                     // the folder the paths start with; "" when from the store
  std::vector<rules::RuleSource> rules;          // each with its name relative to the rules folder
  std::string rules_dir;                         // for messages ("rules: no rules loaded ...")
  int64_t release_id = 0;                        // the published release they are (store::Release); 0: none
};

// The knowledge files and rule files the options name: the two folders, or (from_db) one stored build,
// knowledge and rules together, never mixed with files on disk. Errors: NotFound/IOError for a
// missing folder, database or build; InvalidArgument for a stored build without rules (an older
// nflux stored knowledge only: "run 'nflux kb build' again").
Result<std::vector<knowledge::SourceFile>> ReadKnowledgeSources(const Options& options);
Result<std::vector<rules::RuleSource>> ReadRuleSources(const Options& options);
Result<Sources> ReadSources(const Options& options);

// A stored knowledge or rule bundle as the files a pipeline reads, each named by its stored name
// (relative to its folder): what --from-db and a replay open a pipeline from.
std::vector<knowledge::SourceFile> KnowledgeFilesOf(store::Bundle bundle);
std::vector<rules::RuleSource> RuleFilesOf(store::Bundle bundle);

// A knowledge file's name relative to its folder ("labs.json", "citations/sleep.json").
std::string RelativeName(const knowledge::SourceFile& file, const std::string& dir);

// Loads and validates only the knowledge base the options name (what the kb commands need).
// Errors: NotFound/IOError for a missing or unreadable source; InvalidArgument listing every
// problem, one per line (Problem::ToString()), then "N problem(s) in the knowledge base; ...".
Result<std::shared_ptr<const knowledge::KnowledgeBase>> LoadKnowledge(const Options& options);

// Counts of a knowledge base (`nflux kb stats`): nodes by kind name, edges by type name, and the
// edges that cite nothing.
struct KnowledgeStats {
  std::map<std::string, int> nodes, edges;
  int uncited_edges = 0;
};
KnowledgeStats StatsOf(const knowledge::KnowledgeBase& kb);

// How far the evidence can be checked (`nflux kb stats`, `nflux kb citations`): citations by
// verification and grade, how many give an identifier (PMID, PMCID, DOI, Reactome id, ISBN) and a
// claim, and the edges (generated ones included) and rules that rest only on `uncertain` citations.
struct CitationStats {
  int total = 0, checked = 0, textbook = 0, uncertain = 0;
  int with_identifier = 0, with_claim = 0;
  std::map<std::string, int> grades;  // "A" | "B" | "C" -> count
  int edges = 0, rules = 0;           // rules: 0 when no rule base was given
  std::vector<std::string> uncertain_edges;  // "from --type--> to", in knowledge order
  std::vector<std::string> uncertain_rules;  // rule ids, in rule-base order
};
// `rule_base` may be null (knowledge only).
CitationStats CitationStatsOf(const knowledge::KnowledgeBase& kb, const rules::RuleBase* rule_base);

// The citations `node` rests on (`nflux kb show`): its own and those of every edge into or out of
// it, key -> formatted reference ("" for a key the knowledge base does not define).
std::map<std::string, std::string> CitationsAround(const knowledge::KnowledgeBase& kb, const knowledge::Node& node);

// What the checking commands (kb validate, kb build, rules check, rules lint) read: every problem,
// not only the first, as data. Unlike LoadKnowledge() and Pipeline::Open(), problems in the content
// are not an error here; only a source that cannot be read is.
struct KnowledgeCheck {
  std::vector<knowledge::SourceFile> files;  // as read, for storing them (kb build)
  knowledge::LoadOutcome outcome;            // outcome.kb is always set
};
Result<KnowledgeCheck> CheckKnowledge(const Options& options);
struct RulesCheck {
  std::vector<rules::RuleSource> sources;
  rules::LoadResult loaded;  // loaded.rules is null when there are errors
};
// REQUIRES: `kb` loaded without problems.
Result<RulesCheck> CheckRules(const Options& options, const knowledge::KnowledgeBase& kb);

// A rule base with no rules (an empty folder, one without .rules files, a wrong --rules) would
// conclude nothing and read as a clean case, so it is bad input: InvalidArgument naming the folder
// ("rules_dir: no rules loaded: ..."); Ok when `rule_count` > 0. `file_count`: .rules files read.
Status RequireRules(const std::string& rules_dir, size_t file_count, size_t rule_count);

// Flux values from a JSON object {"serotonin.synthesis": 0.7, ..., "assumed": ["serotonin.synthesis"]}.
// `source` names the input in messages ("flux.json: /serotonin.synth: not a flux index ...").
Result<inference::FluxValues> FluxFromJson(const nlohmann::json& object, const std::string& source);

// The flux model's indices as the engine reads them, with `given` values overriding the model's for
// their keys (and no longer assumed).
inference::FluxValues MergeFlux(const flux::FluxResult& model, const inference::FluxValues& given);

// The given flux values as overrides (output.md): each with the value the flux model computed for
// it (none when the model has no such index), in key order.
std::vector<report::Override> FluxOverrides(const flux::FluxResult& model, const inference::FluxValues& given);

// A flux index below this (synthesis or level) is a deficit whose repair a strategy may predict.
inline constexpr double kFluxDeficitThreshold = 0.95;

// A suggested strategy's predicted effect on the case's flux deficits: what the ranking reads
// (safety::PredictedEffect) and the change of each deficit index the report shows.
struct PredictedEffect {
  safety::PredictedEffect effect;
  std::map<std::string, double> changes;  // "serotonin.synthesis" -> after - before, rounded to 4 decimals
};

struct EvaluationOptions {
  bool strict = false;      // reject a case with data-quality errors (ParseOptions::strict)
  std::string source_name;  // names the case in messages ("case.json: /labs/2/unit: ...")
  std::optional<std::string> as_of;  // FHIR input: the evaluation date (fhir::ImportOptions::as_of)
  inference::FluxValues given_flux;  // override the flux model's values for their keys
  inference::EvaluateOptions engine;
  // Show the predicted effects in the report. Computed either way, for every suggested strategy
  // (a flux run each): the ranking reads them, the same for every front end.
  bool predicted_effects = true;
};

// Everything one evaluation produced.
struct CaseEvaluation {
  casefile::Case parsed;
  flux::FluxResult flux_model;     // the model's result for the case (no contributions)
  inference::FluxValues flux;      // what the engine read: the model's, overridden by the given
  inference::Evaluation evaluation;
  report::ReportOptions report;    // flux, unmeasured inputs, predicted effects
};

// The case text with every lab change applied, for WhatIf()'s `after_text`. Each change is
// "lab.ID=VALUE[UNIT]" (e.g. "lab.ferritin=80ng/mL"): it replaces the value and unit of every entry
// of that test (dropping its date), or adds one. Text that is not JSON comes back unchanged (the
// case parser reports it); a FHIR resource comes back as the case it gives (fhir::ImportFhir),
// changed. Errors: InvalidArgument for a malformed change ("--set ...: expected ..."),
// a lab `kb` does not know, a unit it does not accept for the lab, and a missing unit unless every
// accepted unit gives the same number ("--set lab.ferritin=80: give a unit for ferritin (accepted
// units: ng/mL, ...)"): a lab the case parser would exclude is never changed silently.
Result<std::string> ApplyLabChanges(std::string_view case_text, const std::vector<std::string>& changes,
                                    const knowledge::KnowledgeBase& kb);

// A what-if: labs changed (the case re-parsed from `after_text`) and strategies applied.
struct WhatIfOptions {
  std::string source_name;
  std::vector<std::string> apply_strategies;  // unknown ids: InvalidArgument
  bool rank = false;                          // rank every strategy by predicted improvement
};
// A conclusion whose certainty changed: "deficit:ID" (its certainty), "strategy:ID" or "alert:ID"
// (1 when present, 0 when not).
struct ConclusionChange {
  std::string conclusion;
  double before = 0, after = 0;
};
// A strategy of the what-if ranking with its safety verdict for the case (before the change).
struct RankedStrategy {
  flux::StrategyEffect effect;
  inference::StrategyResult safety;  // verdict and reasons (cautions, or what blocks it)
};
struct WhatIfResult {
  casefile::Case before_case, after_case;
  flux::FluxResult before, after;
  inference::Evaluation before_evaluation, after_evaluation;
  std::vector<ConclusionChange> changes;  // sorted by conclusion; unchanged ones left out
  // With rank: the options, every strategy the safety gate lets through for `before` (acceptable or
  // acceptable_with_caution), by predicted improvement of the flux deficits, best first...
  std::vector<RankedStrategy> ranking;
  // ...and every strategy the gate blocks for `before`: never an option, listed with its reasons.
  std::vector<RankedStrategy> blocked;
  // The SafetyVerdict for `before` of each applied strategy, in options.apply_strategies order: a
  // what-if may show the effect of a strategy the gate blocks, never without saying so.
  std::vector<inference::StrategyResult> applied;
};

// The safety verdict of `strategy_id` for the case `evaluation` was made of, with its reasons: the
// evaluation's own when it judged the strategy (suggested, blocked, requested or current), else the
// engine's gate (safety::PassGate) as if a rule had suggested it, seeing the evaluation's alerts and
// drivers. The one place a front end outside Evaluate() asks the gate, so that a what-if or an
// explanation never says other than evaluate.
inference::StrategyResult SafetyVerdict(const std::string& strategy_id, const casefile::Case& c,
                                        const inference::Evaluation& evaluation,
                                        const knowledge::KnowledgeBase& kb);

// A safety reason as blocked_strategies gives it (output.md): {"alert", "with", "severity",
// "detail", "note", "citation"} (the first citation, formatted); and the same as one line of text:
// "Block unless prescriber-directed. (with ssri, relative: DETAIL) [alert serotonin_syndrome_risk]".
nlohmann::ordered_json SafetyReasonJson(const inference::BlockReason& reason, const knowledge::KnowledgeBase& kb);
std::string SafetyReasonText(const nlohmann::ordered_json& reason);

// A what-if as JSON, for `nflux whatif --json` and the web app (numbers rounded to 4 decimals):
//   {"apply_safety": [{"strategy", "verdict", "reasons"}], "indices": [{"index", "before", "after",
//    "change"}], "conclusions": [{"conclusion", "before", "after"}], "ranking": [{"strategy", "rank",
//    "verdict", "reasons", "improvement", "changes"}], "blocked": [{"strategy", "verdict", ...}]}
// ranking and blocked are empty unless the what-if ranked (WhatIfOptions::rank).
nlohmann::ordered_json WhatIfToJson(const WhatIfResult& result, const knowledge::KnowledgeBase& kb);

class Pipeline {
 public:
  // Errors: as LoadKnowledge; NotFound for a missing rules folder; rule errors as InvalidArgument,
  // one RuleError::ToString() each, then "N error(s) in the rule base; run 'nflux rules check'";
  // no rules at all as RequireRules(); a flux model that cannot be built.
  static Result<std::unique_ptr<Pipeline>> Open(const Options& options);
  // The same from content already read (a stored run's knowledge and rules, for replay).
  static Result<std::unique_ptr<Pipeline>> OpenFromSources(Sources sources);
  // OpenFromSources(), through a snapshot in `snapshot_dir` (Options::snapshot_dir; "": none).
  static Result<std::unique_ptr<Pipeline>> OpenFromSources(Sources sources, const std::string& snapshot_dir);

  // Parses a case (InvalidArgument naming the source and JSON path on a problem). Text that is a
  // FHIR resource (an object with "resourceType", shared/contracts/fhir.md) is imported first
  // (ImportFhir, at `as_of`): its notes join the case's data_quality, and a case error names the
  // FHIR origin too ("b.json: Bundle.entry[5].resource (case /labs/0/unit): unknown unit ...").
  Result<casefile::Case> ParseCase(std::string_view text, const std::string& source_name, bool strict = false) const;
  Result<casefile::Case> ParseCase(std::string_view text, const std::string& source_name, bool strict,
                                   const std::optional<std::string>& as_of) const;

  // The case a FHIR R4 Bundle or resource gives (fhir::ImportFhir). Errors: InvalidArgument for
  // text that is not JSON ("b.json:3:7: invalid JSON: ...") or not a FHIR resource, and ImportFhir's.
  Result<fhir::Import> ImportFhir(std::string_view text, const fhir::ImportOptions& options) const;

  // A FHIR resource already parsed (the service's hook prefetch) as the case it gives: what
  // ParseCase does with its text, without parsing it again. REQUIRES: fhir::IsFhirResource(resource).
  Result<casefile::Case> ParseFhirResource(const nlohmann::json& resource, const std::string& source_name,
                                           bool strict, const std::optional<std::string>& as_of) const;

  // The flux model for a case; `options` as flux::Model::Compute.
  Result<flux::FluxResult> ComputeFlux(const casefile::Case& c, const flux::ComputeOptions& options = {}) const;

  // Parses `case_text` and evaluates it; or evaluates an already parsed case.
  Result<CaseEvaluation> Evaluate(std::string_view case_text, const EvaluationOptions& options) const;
  Result<CaseEvaluation> Evaluate(casefile::Case c, const EvaluationOptions& options) const;

  // The evaluation JSON of shared/contracts/output.md for a result of Evaluate().
  nlohmann::ordered_json ReportJson(const CaseEvaluation& result) const;
  // The same as compact text, byte for byte ReportJson(result).dump(), without the JSON DOM; with
  // kLeftEmpty, for a run the store is about to keep, trace_id is "" (the store sets it).
  std::string ReportText(const CaseEvaluation& result, report::TraceIdField trace_id = report::TraceIdField::kHash) const;

  // The case before and after a change: both parsed, both through the flux model and the engine;
  // with options.rank, every strategy ranked for `before`, each with its SafetyVerdict().
  Result<WhatIfResult> WhatIf(std::string_view before_text, std::string_view after_text,
                              const WhatIfOptions& options) const;

  const knowledge::KnowledgeBase& knowledge() const { return *kb_; }
  const rules::RuleBase& rule_base() const { return *rules_; }
  const inference::Engine& engine() const { return *engine_; }
  const flux::Model& flux_model() const { return *flux_; }
  // What the pipeline was opened from (the exact files), for storing with a run.
  const Sources& sources() const { return sources_; }

  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

 private:
  Pipeline() = default;
  // The engine and the flux model over a knowledge and rule base that opened without problems.
  static Result<std::unique_ptr<Pipeline>> Assemble(std::shared_ptr<const knowledge::KnowledgeBase> kb,
                                                    std::shared_ptr<const rules::RuleBase> rule_base,
                                                    Sources sources);
  // FHIR input (fhir_input.cc): a cheap look for "resourceType" before any parse; the import, then
  // the case parsed from it.
  static bool LooksLikeFhir(std::string_view text);
  Result<casefile::Case> ParseFhirCase(std::string_view text, const std::string& source_name, bool strict,
                                       const std::optional<std::string>& as_of) const;
  // The report's options for `result`, taking the predicted changes of `effects`.
  report::ReportOptions ReportOptionsFor(const CaseEvaluation& result,
                                         std::map<std::string, PredictedEffect>&& effects) const;
  // Predicts the effect of every suggested strategy of `evaluation` and ranks them with it
  // (inference::RankStrategies); returns the effects. `state`: the case's, from the Compute() that
  // gave `before` (no strategies applied).
  std::map<std::string, PredictedEffect> RankWithEffects(const casefile::Case& c, const flux::CaseState& state,
                                                         const flux::FluxResult& before,
                                                         const std::vector<std::string>& deficits,
                                                         inference::Evaluation& evaluation) const;

  std::shared_ptr<const knowledge::KnowledgeBase> kb_;
  std::shared_ptr<const rules::RuleBase> rules_;
  std::unique_ptr<inference::Engine> engine_;
  std::shared_ptr<const flux::Model> flux_;
  Sources sources_;
};

// The pipeline a long-running service evaluates with, replaced whole when another release becomes
// active: a request takes the current one (Get) and keeps it for all its work, so it never mixes two
// releases; Set swaps in the next without waiting for requests, and the old pipeline is freed when
// the last request holding it ends. Thread-safe.
class PipelineHandle {
 public:
  explicit PipelineHandle(std::shared_ptr<const Pipeline> pipeline) : current_(std::move(pipeline)) {}
  // A handle on a pipeline that outlives it and never changes (tests, one-off front ends).
  static std::shared_ptr<PipelineHandle> Fixed(const Pipeline& pipeline) {
    return std::make_shared<PipelineHandle>(std::shared_ptr<const Pipeline>(&pipeline, [](const Pipeline*) {}));
  }
  std::shared_ptr<const Pipeline> Get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void Set(std::shared_ptr<const Pipeline> next) {
    {
      std::lock_guard lock(mutex_);
      current_.swap(next);
    }
    // `next` now holds the old pipeline: freed here, outside the lock, unless a request still has it.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Pipeline> current_;
};

}  // namespace nflux::pipeline
