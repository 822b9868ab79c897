// Renderers of an evaluation: the evaluation JSON of shared/contracts/output.md (field names and
// order fixed), a terminal text report for a clinician (red flags first) and Markdown.
//
// The JSON is the one source of content: the text and Markdown reports are rendered from it, so
// the three always say the same thing. Everything here is pure (reads the immutable engine, case
// and evaluation) and thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "case/case.h"
#include "inference/inference.h"

namespace nflux::report {

struct Versions {
  std::string engine;     // NFLUX_VERSION
  std::string knowledge;  // KnowledgeBase::version()
  std::string rules;      // RuleBase::version
};

// The versions of this binary and of the engine's knowledge and rule bases.
Versions VersionsOf(const inference::Engine& engine);

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

// The same content as a terminal report: versions and overrides, alerts (red flags) first in a
// boxed block, then data quality, questionnaire scores, root causes found (drivers), deficits with
// evidence and citations, strategies, blocked strategies, next best data, labs.
std::string EvaluationToText(const nlohmann::ordered_json& evaluation_json);
// The same content as Markdown.
std::string EvaluationToMarkdown(const nlohmann::ordered_json& evaluation_json);

// "sha256:<hex>" of the trace JSON: identifies the reasoning of a run.
std::string TraceId(const inference::Evaluation& evaluation);

}  // namespace nflux::report
