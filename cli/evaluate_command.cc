// nflux evaluate CASE [--format text|json|markdown] [--strict] [--flux FILE]
#include <iostream>
#include <memory>

#include "cli/context.h"
#include "cli/evaluation.h"
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
  Loaded loaded;
  if (!LoadEngine(context, loaded)) return context.exit_code;
  casefile::Case c;
  if (!LoadCase(context, *loaded.kb, args.case_path, args.strict, c)) return context.exit_code;
  auto flux = ReadFluxFile(args.flux_path);
  if (!flux.ok()) return BadInput(flux.status().message());

  CaseFlux case_flux;
  if (!ComputeCaseFlux(context, loaded, c, *flux, case_flux)) return context.exit_code;
  inference::Evaluation evaluation = loaded.engine->Evaluate(c, case_flux.values);
  if (!evaluation.trace.stopped.empty()) std::cerr << "warning: " << evaluation.trace.stopped << "\n";
  report::ReportOptions options = ReportOptionsFor(loaded, c, case_flux, evaluation);
  auto json = report::EvaluationToJson(*loaded.engine, c, evaluation, report::VersionsOf(*loaded.engine), options);
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
