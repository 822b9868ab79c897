// What the commands that evaluate cases share (evaluate, explain, rules test): loading the rule
// base with its errors reported, reading a case file or stdin, and reading given flux values.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "case/case.h"
#include "cli/context.h"
#include "inference/inference.h"
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
};
// Loads knowledge and rules and builds the engine. false (exit code set) on any problem.
bool LoadEngine(Context& context, Loaded& loaded);

// Reads and parses a case ("-" for stdin). On a problem prints it to stderr and returns false with
// context.exit_code = 2.
bool LoadCase(Context& context, const knowledge::KnowledgeBase& kb, const std::string& path, bool strict,
              casefile::Case& out);

}  // namespace nflux::cli
