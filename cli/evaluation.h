// What the commands that evaluate cases share (evaluate, explain, rules test): loading the rule
// base with its errors reported, reading a case file or stdin, and reading given flux values.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "case/case.h"
#include "flux/flux.h"
#include "cli/context.h"
#include "inference/inference.h"
#include "report/report.h"
#include "rules/rules.h"

namespace nflux::cli {

// Loads the rule base the options name against `kb`. On any problem prints every error to stderr
// (RuleError::ToString()), sets context.exit_code (2) and returns nullptr.
std::shared_ptr<const rules::RuleBase> LoadRulesOrReport(Context& context, const knowledge::KnowledgeBase& kb);

// The text of a file, or of stdin for "-".
Result<std::string> ReadInput(const std::string& path);

// Flux values from a JSON object {"serotonin.synthesis": 0.7, ..., "assumed": ["serotonin.synthesis"]}.
// `source` names the file in messages ("flux.json: /serotonin.synth: not a flux index ...").
Result<inference::FluxValues> FluxFromJson(const nlohmann::json& object, const std::string& source);
Result<inference::FluxValues> ReadFluxFile(const std::string& path);

// Everything an evaluation needs, loaded; or nullptr members and context.exit_code set.
struct Loaded {
  std::shared_ptr<const knowledge::KnowledgeBase> kb;
  std::shared_ptr<const rules::RuleBase> rules;
  std::unique_ptr<inference::Engine> engine;
  std::shared_ptr<const flux::Model> flux;
};
// Loads knowledge and rules and builds the engine. false (exit code set) on any problem.
bool LoadEngine(Context& context, Loaded& loaded);

// The flux model's indices as the engine reads them ("serotonin.synthesis" -> value; every index of
// a pathway whose synthesis cofactors are unmeasured marked assumed), with `given` values overriding the model's for
// their keys (--flux FILE, a golden case's "flux").
inference::FluxValues MergeFlux(const flux::FluxResult& model, const inference::FluxValues& given);

// The flux model for the case, and the values the engine reads (MergeFlux). On a model error
// prints it and returns false with context.exit_code set.
struct CaseFlux {
  flux::FluxResult model;
  inference::FluxValues values;
};
bool ComputeCaseFlux(Context& context, const Loaded& loaded, const casefile::Case& c,
                     const inference::FluxValues& given, CaseFlux& out);

// The report options for an evaluation with the model's flux: the flux values, the unmeasured
// inputs per pathway, and each suggested strategy's predicted effect on the flux indices.
report::ReportOptions ReportOptionsFor(const Loaded& loaded, const casefile::Case& c, const CaseFlux& flux,
                                       const inference::Evaluation& evaluation);

// Reads and parses a case ("-" for stdin). On a problem prints it to stderr and returns false with
// context.exit_code = 2.
bool LoadCase(Context& context, const knowledge::KnowledgeBase& kb, const std::string& path, bool strict,
              casefile::Case& out);

}  // namespace nflux::cli
