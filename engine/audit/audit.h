// The audit trail on top of the pipeline and the store: what `nflux case`, `evaluate --save`, `run`
// and `nflux audit` do, as functions the front ends call.
//
//   auto stored = audit::StoreCase(pipeline, store, text, {.case_id = "c-1", .mode = audit::StoreMode::kAdd});
//   auto run = audit::EvaluateAndStore(pipeline, store, text, options);     // -> run id, report
//   auto replay = audit::Replay(store, run_id);                             // identical, or the diff
//   auto diff = audit::DiffEvaluations(eval_a, trace_a, eval_b, trace_b);   // conclusions first
//   auto impact = audit::Impact(latest_versions, current, changed, {});     // a rule author's check
//   auto course = audit::CaseHistory(pipeline, versions);                   // a patient's visits
//
// Recording parses every case with the pipeline before anything is written, so a bad case is
// refused exactly as `evaluate` refuses it and the store is left unchanged. A run keeps everything
// needed to evaluate it again: the submitted text (its case version), the options as JSON, and the
// knowledge and rule files the pipeline was opened from; Replay() opens a pipeline from those stored
// files only (Pipeline::OpenFromSources), never from the folders on disk.
//
// Diffs are made of the JSON that is stored (the evaluation of shared/contracts/output.md and the
// trace), so that a diff of a replay and a diff of two stored runs are the same thing. Every
// difference is reported: the conclusions in named sections, everything else under `other` as JSON
// pointer paths; identical() means the same content apart from trace_id.
//
// Ownership: every result is a plain value. Thread-safety: everything here is a pure function of
// its arguments except the store calls (a Store is one connection: one thread at a time); Impact()
// evaluates on its own threads, reading the two const pipelines only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nflux::audit {

// ---- Recording (record.cc)

// kEdit and kVisit store nothing when the text equals the latest version's: they return that version.
enum class StoreMode {
  kAdd,    // a new case only (`nflux case add`): an existing id is InvalidArgument
  kEdit,   // an existing case only (`nflux case edit`): a new version; a missing id is NotFound
  kVisit,  // either (`evaluate --save`, `run FILE`)
};

struct CaseStoreOptions {
  std::string case_id;      // explicit id; empty: the case's own case_id, else CaseIdFor()'s hash id
  std::string source_name;  // names the case in messages ("case.json: /labs/2/unit: ...")
  StoreMode mode = StoreMode::kVisit;
  std::string actor;        // who stores it
  bool strict = false;      // refuse a case with data-quality errors, as `evaluate --strict`
};

struct StoredCase {
  store::CaseVersion version;
  bool added = false;  // false: the text was already the latest version (kEdit, kVisit)
};

// The id a case is stored under: `explicit_id` if given, else the case's own case_id, else
// "case-" + the first 12 hex digits of the SHA-256 of the text.
std::string CaseIdFor(const casefile::Case& parsed, std::string_view text, const std::string& explicit_id);

// Parses `text` with the pipeline (a bad case: the pipeline's InvalidArgument naming the source and
// JSON path, and nothing is stored), then stores a version as options.mode says, with normalised =
// casefile::CaseToJson(parsed).dump(). Errors also as Store::AddCaseVersion.
Result<StoredCase> StoreCase(const pipeline::Pipeline& pipeline, store::Store& store, std::string_view text,
                             const CaseStoreOptions& options);

// The knowledge and rule files of a pipeline as the store keeps them: names relative to their
// folders (pipeline::RelativeName, rules::RuleSource::name), versions as the pipeline's.
struct RunBundles {
  store::Bundle knowledge, rules;
};
RunBundles BundlesOf(const pipeline::Pipeline& pipeline);

// The options of a run as stored: everything needed to evaluate again identically.
//   {"strict": false, "source_name": "case.json", "predicted_effects": true, "run_limit": 100000,
//    "flux": {"serotonin.synthesis": 0.5, "assumed": [...]}}   ("flux" only when values were given)
nlohmann::ordered_json OptionsToJson(const pipeline::EvaluationOptions& options);
// The inverse (given flux values read back through pipeline::FluxFromJson); trace on.
// Errors: InvalidArgument naming `source` and the bad field.
Result<pipeline::EvaluationOptions> OptionsFromJson(const nlohmann::json& json, const std::string& source);

struct RecordOptions {
  std::string case_id;  // as CaseStoreOptions::case_id
  std::string actor;
  std::string origin;   // "evaluate --save", "run", ...
  pipeline::EvaluationOptions evaluation;  // strict, source name, given flux values
  // A CDS Hooks call: store::RunToStore's hook_instance and hook_cards (empty otherwise).
  std::string hook_instance = {};
  std::vector<std::string> hook_cards = {};
};

struct Recorded {
  store::CaseVersion case_version;
  int64_t run_id = 0;
  pipeline::CaseEvaluation result;
  nlohmann::ordered_json report;  // the evaluation JSON, trace_id = store::RunName(run_id)
};

// StoreCase (kVisit), evaluates through the pipeline with options.evaluation, then
// store.SaveRun with the pipeline's bundles, NFLUX_VERSION, the options, the evaluation JSON and
// the trace. A case that does not parse or evaluate stores nothing.
Result<Recorded> EvaluateAndStore(const pipeline::Pipeline& pipeline, store::Store& store, std::string_view text,
                                  const RecordOptions& options);
// The same for a version already stored (`nflux run CASE_ID`): no new case version; options.case_id
// is not used. Errors: the version no longer parses (the pipeline's InvalidArgument).
Result<Recorded> EvaluateStoredAndStore(const pipeline::Pipeline& pipeline, store::Store& store,
                                        const store::CaseVersion& version, const RecordOptions& options);

// A case and a run evaluated elsewhere, stored (`nflux batch --save` and the hook service evaluate
// on their own threads and store through one writer): PrepareRun writes everything to be stored on
// the caller's thread, so that the evaluation itself is freed there too; StoreEvaluation then stores
// the case version as EvaluateAndStore stores it (kVisit: none when `text` is the latest version) and
// the run, the report's trace_id set to the run id. REQUIRES: `prepared` is PrepareRun() of
// pipeline.Evaluate(text, options.evaluation).
struct PreparedRun {
  std::string report;          // ReportText(result, kLeftEmpty)
  store::CompressedText trace;  // the trace JSON (Trace::ToJsonText), compressed
  std::string normalised;      // CaseToJsonText(result.parsed), for a new case version
  std::string own_case_id;     // result.parsed.case_id (may be empty): what CaseIdFor reads of the case
};
// The trace is compressed with `dictionary` when given (then the store compresses the report with
// it too). Errors: the trace's InvalidArgument (not UTF-8).
Result<PreparedRun> PrepareRun(const pipeline::Pipeline& pipeline, const pipeline::CaseEvaluation& result,
                               std::shared_ptr<const store::CompressionDictionary> dictionary = nullptr);
// A compression dictionary for runs of cases like `case_texts` (a batch's first cases), stored:
// the reports of the first kDictionaryReports of them that evaluate, then the traces of the first
// kDictionaryTraces, as PrepareRun writes them (traces last: zstd reaches the end of a dictionary
// most cheaply, and traces are most of a run's bytes). nullptr (nothing stored) when none
// evaluates. Errors: the store's.
inline constexpr size_t kDictionaryReports = 16;
inline constexpr size_t kDictionaryTraces = 4;
Result<std::shared_ptr<const store::CompressionDictionary>> SaveDictionaryFor(
    const pipeline::Pipeline& pipeline, store::Store& store, const std::vector<std::string_view>& case_texts,
    const RecordOptions& options);
struct StoredRun {
  store::CaseVersion case_version;
  int64_t run_id = 0;
};
Result<StoredRun> StoreEvaluation(const pipeline::Pipeline& pipeline, store::Store& store, std::string_view text,
                                  PreparedRun prepared, const RecordOptions& options);

// The latest version of every stored case, in case-id order (what `audit impact` evaluates).
Result<std::vector<store::CaseVersion>> LatestCaseVersions(const store::Store& store);

// ---- Diff (diff.cc, render.cc)

// One changed value: `id` names the item (a deficit id, a rule id, a JSON pointer path under
// `other`), `field` what changed ("certainty", "verdict", ...; empty under `other`).
struct Change {
  std::string id;
  std::string field;
  nlohmann::json before, after;  // null when absent on that side
};

struct Section {
  std::vector<std::string> added, removed;  // ids only in B, only in A
  std::vector<Change> changed;             // items in both whose field differs
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// A and B compared. In every section ids are in B's order for `added`, A's order otherwise.
struct EvaluationDiff {
  std::string a = "A", b = "B";  // the sides' names, for the renderers ("run-3", "replay")
  Section versions;            // changed: engine, knowledge, rules (id = that name)
  Section alerts;              // added, removed; changed: severity
  Section deficits;            // added, removed; changed: certainty, rank, level
  Section drivers;             // added, removed; changed: certainty, level
  Section strategies;          // suggested or blocked; changed: verdict, rank, score
  Section blocked_strategies;  // added, removed; changed: reasons
  Section data_quality;        // by "code at path"; changed: severity, message
  Section trace;               // added/removed: rules fired only in B / only in A; changed: truth, strength, order
  // Every other difference, by JSON pointer path into the evaluation ("/labs/0/value") or the
  // trace ("/trace/considered"); in arrays of items with ids the path names the id instead of the
  // index ("/deficits/serotonin_synthesis/evidence_for/0/text", "/trace/rules/iron_low/tests/1/truth").
  // The same content in another key or item order is one entry: id "/", field "order".
  std::vector<Change> other;

  bool identical() const;
  // What a golden case pins differs, so its expectation would change: alerts (set, severity, order),
  // deficits (set, certainty), drivers (set), strategies (set, verdict, order; blocked and requested
  // ones included). What `audit impact` reports a case for; a score or a level alone does not count.
  bool ConclusionsDiffer() const;
};

// Compares two evaluations (output.md JSON) and their traces (Trace::ToJson; null when not kept).
// trace_id is ignored. Strategy verdicts: "blocked" when under blocked_strategies, the entry's
// "verdict" when it has one, else "acceptable_with_caution" when it has cautions, else "acceptable".
// `a` and `b` name the sides in the renderers.
EvaluationDiff DiffEvaluations(const nlohmann::ordered_json& eval_a, const nlohmann::ordered_json& trace_a,
                               const nlohmann::ordered_json& eval_b, const nlohmann::ordered_json& trace_b,
                               const std::string& a = "A", const std::string& b = "B");

// Renderers: "identical" or one line per difference, grouped by section, the sides named as the
// diff names them.
std::string DiffToText(const EvaluationDiff& diff);
std::string DiffToMarkdown(const EvaluationDiff& diff);
// {"identical": bool, "a": name, "b": name,
//  "versions": {"added": [], "removed": [], "changed": [{id, field, before, after}]}, ...,
//  "other": [{path, before, after}]}
nlohmann::ordered_json DiffToJson(const EvaluationDiff& diff);

// ---- Replay (replay.cc)

struct ReplayResult {
  store::RunSummary run;
  EvaluationDiff diff;  // A: the stored run ("run-17"), B: the replay ("replay")
  bool identical() const { return diff.identical(); }
};

// The pipeline a run was evaluated under, from its stored knowledge and rules only.
// Errors: NotFound when a bundle is missing; InvalidArgument "run-17: the stored knowledge or rules
// no longer load: ..." when they do not load in this build.
Result<std::unique_ptr<pipeline::Pipeline>> OpenRunPipeline(const store::Store& store, const store::RunSummary& run);

// The pure core: evaluates `submitted` (the run's case version) under `pipeline` with the run's
// stored options, sets trace_id as stored, and diffs the stored evaluation and trace against it.
// Errors: the options or the case no longer parse (InvalidArgument naming the run).
Result<EvaluationDiff> ReplayRun(const pipeline::Pipeline& pipeline, const store::RunRecord& run,
                                 const store::CaseVersion& submitted);

// Loads run `run_id`, its case version and its bundles, and replays it. Errors: NotFound
// ("run-17: no such run"), and as OpenRunPipeline and ReplayRun.
Result<ReplayResult> Replay(const store::Store& store, int64_t run_id);

// ---- Impact (impact.cc)

struct ImpactCase {
  std::string case_id;
  int version = 0;
  EvaluationDiff change;  // current (A) -> changed (B), of ConclusionsJson()
  std::string error;      // why it failed to evaluate ("current: ..." or "changed: ..."), for `failed`
};

struct ImpactReport {
  int cases = 0;                    // evaluated
  std::vector<ImpactCase> changed;  // cases whose conclusions differ, in case-id order
  std::vector<ImpactCase> failed;   // cases that did not evaluate under either pipeline, in case-id order
};

struct ImpactOptions {
  int threads = 0;  // evaluation threads; 0: one per core
};

// Evaluates every case (its `submitted` text, default options, no trace) under both pipelines on a
// fixed pool of threads and lists the cases whose conclusions differ (ConclusionsDiffer).
ImpactReport Impact(const std::vector<store::CaseVersion>& cases, const pipeline::Pipeline& current,
                    const pipeline::Pipeline& changed, const ImpactOptions& options);

// The conclusions of an evaluation as Impact compares them, the fields a golden case pins
// (golden::Snapshot): alerts {id, severity}, deficits {id, certainty} (> 0, rounded to 3 decimals),
// strategies {id, verdict, rank}, blocked_strategies {id}, requested_supplements {id, verdict},
// drivers {id} (> 0).
nlohmann::ordered_json ConclusionsJson(const inference::Evaluation& evaluation);

std::string ImpactToText(const ImpactReport& report);
std::string ImpactToMarkdown(const ImpactReport& report);
// {"cases": N, "changed": [{"case_id", "version", "change": DiffToJson}], "failed": [{"case_id", "version", "error"}]}
nlohmann::ordered_json ImpactToJson(const ImpactReport& report);

// ---- A stored trace (trace.cc)

// The stored trace (inference::Trace::ToJson), or with `rule_id` only that rule's entry
// ({"considered", "firings", "rules": [the rule]}). NotFound when the rule was not considered.
Result<nlohmann::ordered_json> TraceOf(const nlohmann::ordered_json& trace, const std::string& rule_id);
// One block per rule: its id, file:line, fired or not (truth, strength), every leaf test with what
// the case showed, and what it concluded.
std::string TraceToText(const nlohmann::ordered_json& trace);

// ---- History (history.cc, render.cc)

struct Visit {
  int version = 0;
  std::string stored_at;   // CaseVersion::created_at
  std::string visit_date;  // the latest lab date in the case ("YYYY-MM-DD"), or ""
};

// One measure over the visits: "lab ferritin", "questionnaire phq9", "flux serotonin.synthesis",
// "deficit serotonin_synthesis".
struct HistoryCell {
  bool present = false;
  double value = 0;        // canonical unit for labs; total; index; certainty
  std::string shown;       // "12 ng/mL", "14 (moderate)", "0.71", "0.68"
  std::string entered;     // labs: as entered ("27 nmol/L") when it differs from `shown`
  std::string change;      // from the previous visit: "+13 ng/mL (+108%)", "-3", "new", "gone", "" (same or first)
};
struct HistoryRow {
  std::string kind;  // "lab" | "questionnaire" | "flux" | "deficit"
  std::string id;    // "ferritin", "phq9", "serotonin.synthesis", "serotonin_synthesis"
  std::string unit;  // labs: the canonical unit
  std::vector<HistoryCell> cells;  // one per visit
};
struct CaseCourse {
  std::string case_id;
  std::vector<Visit> visits;     // oldest first
  std::vector<HistoryRow> rows;  // labs (first-seen order), questionnaires, flux, deficits (id order)
  // Per visit after the first: what appeared and disappeared ("new: lab ferritin", "gone: deficit ...").
  std::vector<std::vector<std::string>> notes;
};

// Evaluates each version (the stored submitted text, default options, no trace) and builds the course.
// Errors: a version that no longer parses (InvalidArgument naming the case and version).
Result<CaseCourse> CaseHistory(const pipeline::Pipeline& pipeline, const std::vector<store::CaseVersion>& versions);

std::string HistoryToText(const CaseCourse& course);      // an aligned table
std::string HistoryToMarkdown(const CaseCourse& course);  // a table that pastes into a note
nlohmann::ordered_json HistoryToJson(const CaseCourse& course);

}  // namespace nflux::audit
