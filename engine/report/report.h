// Renderers of an evaluation: the evaluation JSON of shared/contracts/output.md (field names and
// order fixed), and the practitioner's reports made from it: a terminal text report whose first
// screen is the summary, Markdown for a clinical note, and one self-contained HTML page with the
// pathway map.
//
// The JSON is the one source of content: the text, Markdown and HTML reports are rendered from it
// (with the knowledge base for labels and the pathway graph), through one shared view
// (report/view.h), so the formats always say the same thing. Everything here is pure (reads the
// immutable engine, case, evaluation and knowledge base) and thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "case/case.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"

namespace nflux::report {

struct Versions {
  std::string engine;     // NFLUX_VERSION
  std::string knowledge;  // KnowledgeBase::version()
  std::string rules;      // RuleBase::version
};

// The versions of this binary and of the engine's knowledge and rule bases.
Versions VersionsOf(const inference::Engine& engine);

// "engine 0.1.0, knowledge sha256:8545a2b86bc5, rules sha256:5f261887c934": how every report and
// every command that prints text of its own names the versions (hashes cut to 12 hex digits).
std::string VersionsText(const Versions& versions);

// A value that did not come from the case and the models (output.md `overrides`): a flux index
// given with --flux, a what-if change; with the value the model would have used (nullopt: none).
struct Override {
  std::string kind;  // "flux" | "lab" | "strategy"
  std::string id;    // "serotonin.synthesis", "ferritin", "cofactor_iron"
  double value = 0;
  std::optional<double> model_value;
};

// Options shared by the renderers.
struct ReportOptions {
  // The flux values the evaluation read (the flux model's, or given ones overriding them);
  // reported under "flux", grouped per pathway, rounded to 4 decimals. Empty: "flux" is {}.
  inference::FluxValues flux;
  // Per pathway, the unmeasured inputs (lab ids) the flux model took as reference; when set for a
  // pathway, its "assumed" lists these instead of the assumed index names.
  std::map<std::string, std::vector<std::string>> flux_assumed_inputs;
  // Per strategy id, its predicted change of flux indices ("serotonin.synthesis" -> +0.14).
  std::map<std::string, std::map<std::string, double>> predicted_effects;
  size_t max_next_best_data = 8;  // most entries in next_best_data
  std::vector<Override> overrides;  // reported under "overrides"; empty for a plain evaluation
};

// The evaluation object of output.md, keys in the contract's order:
// case_id, versions, alerts, data_quality, labs, derived, questionnaires, drivers, deficits,
// strategies, blocked_strategies, requested_supplements, flux, next_best_data, overrides, trace_id.
// A deficit capped by calibration (inference::kNonClinicalDeficitCap) carries "calibration": why.
// The engine is needed for what the evaluation does not hold: the rules' leaf tests (evidence
// kinds), formatted citations, and why-not analysis for next_best_data.
nlohmann::ordered_json EvaluationToJson(const inference::Engine& engine, const casefile::Case& c,
                                        const inference::Evaluation& evaluation, const Versions& versions,
                                        const ReportOptions& options = {});

// What the evaluation text's trace_id holds: the hash of the reasoning (TraceId), or nothing yet,
// for a run about to be stored, whose trace_id the store sets to its run id (the hash, about a
// twentieth of the text's cost, would be thrown away).
enum class TraceIdField { kHash, kLeftEmpty };

// The same evaluation object as compact JSON text: byte for byte EvaluationToJson(...).dump(),
// written straight into the string (no JSON DOM), for front ends that only pass the text on.
std::string EvaluationJsonText(const inference::Engine& engine, const casefile::Case& c,
                               const inference::Evaluation& evaluation, const Versions& versions,
                               const ReportOptions& options = {}, TraceIdField trace_id = TraceIdField::kHash);

// What a batch summary counts of one evaluation, in the evaluation object's order: the ids of the
// deficits at level "likely" and at "possible", of the alerts, of the blocked strategies.
struct Tally {
  std::vector<std::string> likely, possible, alerts, blocked;
};
Tally TallyOf(const inference::Evaluation& evaluation);

// How the text report is drawn.
struct TextOptions {
  bool color = false;  // ANSI colours; a front end sets it only for a terminal without NO_COLOR
};

// The terminal report. The first screen (at most 40 lines) is the summary: red flags, data
// quality, root causes found, the top deficits with certainty and one line of why, the top
// strategies with their verdict and one line of why, blocked strategies, the next tests to order.
// Then the details (alerts, questionnaires, evidence, strategies, safety, flux, labs with units as
// entered), the citations numbered once ([1], [2]...) and listed at the end. Labels come from `kb`
// (ids in brackets in the details only); no line is wider than 100 columns.
std::string EvaluationToText(const nlohmann::ordered_json& evaluation_json, const knowledge::KnowledgeBase& kb,
                             const TextOptions& options = {});
// The same content as Markdown, compact enough to paste into a clinical note.
std::string EvaluationToMarkdown(const nlohmann::ordered_json& evaluation_json, const knowledge::KnowledgeBase& kb);
// The same content as one self-contained HTML page (inline CSS and SVG, no network): the summary,
// a pathway map drawn from `kb` coloured by the case's flux indices with the drivers found marked,
// a flux bar chart, each deficit's explanation expandable, a print stylesheet for A4.
std::string EvaluationToHtml(const nlohmann::ordered_json& evaluation_json, const knowledge::KnowledgeBase& kb);

// "sha256:<hex>" of the versions and of everything the case decided in the trace (each rule's
// outcome, every test's value and result, what it concluded): with the versions, which fix the
// rules' text, it identifies the reasoning of a run.
std::string TraceId(const inference::Evaluation& evaluation, const Versions& versions);

}  // namespace nflux::report
