// nflux explain CASE --why ID | --why-not ID [--json] [--flux FILE]
#include <iostream>
#include <memory>

#include "cli/context.h"
#include "explain/explain.h"

namespace nflux::cli {
namespace {

struct ExplainArgs {
  std::string case_path;
  std::string why, why_not;
  bool json = false;
  bool strict = false;
  std::string flux_path;
};

template <typename Explanation>
int Print(const Result<Explanation>& explanation, bool json) {
  if (!explanation.ok()) return Fail(explanation.status());
  if (json)
    std::cout << explanation->ToJson().dump(2) << "\n";
  else
    std::cout << explanation->ToText();
  return kExitOk;
}

// Why not a strategy: the explanation, and what the safety gate says of the strategy for this case
// (pipeline::SafetyVerdict, the verdict evaluate and whatif give), so that the rules that could
// suggest it never read as a way to it when the gate blocks it.
int PrintWhyNotStrategy(const explain::WhyNotExplanation& explanation, const inference::StrategyResult& safety,
                        const knowledge::KnowledgeBase& kb, bool json) {
  nlohmann::ordered_json reasons = nlohmann::ordered_json::array();
  for (const auto& reason : safety.reasons) reasons.push_back(pipeline::SafetyReasonJson(reason, kb));
  const std::string verdict(inference::VerdictName(safety.verdict));
  if (json) {
    nlohmann::ordered_json out = explanation.ToJson();
    out["safety"] = {{"verdict", verdict}, {"reasons", reasons}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << explanation.ToText();
  if (explanation.blocked || safety.verdict == inference::Verdict::kAcceptable) return kExitOk;
  std::cout << (safety.verdict == inference::Verdict::kBlocked
                    ? "Were it suggested or requested, the safety gate would BLOCK it for this case:\n"
                    : "Were it suggested or requested, the safety gate would allow it WITH CAUTION:\n");
  for (const auto& reason : reasons) std::cout << "  - " << pipeline::SafetyReasonText(reason) << "\n";
  return kExitOk;
}

int RunExplain(Context& context, const ExplainArgs& args) {
  if (args.why.empty() == args.why_not.empty()) return BadInput("explain: give exactly one of --why ID or --why-not ID");
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  pipeline::EvaluationOptions options;
  options.predicted_effects = false;  // explanations do not show them
  auto result = EvaluateCaseFile(*pipeline, args.case_path, args.strict, args.flux_path, options);
  if (!result.ok()) return Fail(result.status());
  const auto& [c, model, flux, evaluation, report] = *result;
  if (!args.json) std::cout << VersionsLine(*pipeline) << "\n";
  if (!args.why.empty()) return Print(explain::Why(pipeline->engine(), c, evaluation, args.why, flux), args.json);
  auto why_not = explain::WhyNot(pipeline->engine(), c, evaluation, args.why_not, flux);
  const knowledge::Node* node = pipeline->knowledge().Find(args.why_not);
  if (!why_not.ok() || !node || node->kind != knowledge::NodeKind::kStrategy) return Print(why_not, args.json);
  return PrintWhyNotStrategy(*why_not, pipeline::SafetyVerdict(args.why_not, c, evaluation, pipeline->knowledge()),
                             pipeline->knowledge(), args.json);
}

}  // namespace

void SetupExplainCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<ExplainArgs>();
  command->add_option("CASE", args->case_path, "Case file (JSON), or - for stdin")->required();
  auto* why = command->add_option("--why", args->why, "A deficit, driver, fact, strategy or alert id: the reasoning behind it");
  auto* why_not = command->add_option("--why-not", args->why_not,
                                      "An id: the rules that could have concluded it and the data that would decide them");
  why->excludes(why_not);
  command->add_flag("--json", args->json, "Print JSON");
  command->add_flag("--strict", args->strict, "Reject a case with data-quality errors (exit 2)");
  AddFluxFileOption(command, args->flux_path);
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunExplain(context, *args); });
}

}  // namespace nflux::cli
