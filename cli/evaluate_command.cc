// nflux evaluate CASE [--format text|json|markdown] [--strict] [--flux FILE]
#include <iostream>
#include <memory>

#include "cli/context.h"
#include "report/report.h"

namespace nflux::cli {
namespace {

struct EvaluateArgs {
  std::string case_path;
  std::string format = "text";
  bool strict = false;
  std::string flux_path;
};

int RunEvaluate(Context& context, const EvaluateArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  auto result = EvaluateCaseFile(*pipeline, args.case_path, args.strict, args.flux_path, {});
  if (!result.ok()) return Fail(result.status());
  if (!result->evaluation.trace.stopped.empty()) std::cerr << "warning: " << result->evaluation.trace.stopped << "\n";
  auto json = pipeline->ReportJson(*result);
  if (args.format == "json")
    std::cout << json.dump(2) << "\n";
  else if (args.format == "markdown")
    std::cout << report::EvaluationToMarkdown(json);
  else
    std::cout << report::EvaluationToText(json);
  return kExitOk;
}

}  // namespace

void SetupEvaluateCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<EvaluateArgs>();
  command->add_option("CASE", args->case_path, "Case file (JSON, shared/contracts/case.md), or - for stdin")->required();
  command->add_option("--format", args->format, "text (default), json (shared/contracts/output.md) or markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  command->add_flag("--strict", args->strict, "Reject a case with data-quality errors (exit 2) instead of reporting them");
  command->add_option("--flux", args->flux_path,
                      "JSON object of flux values {\"serotonin.synthesis\": 0.7, ...} that override the flux model's");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunEvaluate(context, *args); });
}

}  // namespace nflux::cli
