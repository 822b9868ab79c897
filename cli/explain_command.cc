// nflux explain CASE --why ID | --why-not ID [--json] [--flux FILE]
#include <iostream>
#include <memory>

#include "cli/context.h"
#include "cli/evaluation.h"
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

int RunExplain(Context& context, const ExplainArgs& args) {
  if (args.why.empty() == args.why_not.empty()) return BadInput("explain: give exactly one of --why ID or --why-not ID");
  Loaded loaded;
  if (!LoadEngine(context, loaded)) return context.exit_code;
  casefile::Case c;
  if (!LoadCase(context, *loaded.kb, args.case_path, args.strict, c)) return context.exit_code;
  auto given = ReadFluxFile(args.flux_path);
  if (!given.ok()) return BadInput(given.status().message());
  CaseFlux case_flux;
  if (!ComputeCaseFlux(context, loaded, c, *given, case_flux)) return context.exit_code;
  const inference::FluxValues* flux = &case_flux.values;
  inference::Evaluation evaluation = loaded.engine->Evaluate(c, *flux);

  if (!args.why.empty()) {
    auto why = explain::Why(*loaded.engine, c, evaluation, args.why, *flux);
    if (!why.ok()) return BadInput(why.status().message());
    if (args.json)
      std::cout << why->ToJson().dump(2) << "\n";
    else
      std::cout << why->ToText();
    return kExitOk;
  }
  auto why_not = explain::WhyNot(*loaded.engine, c, evaluation, args.why_not, *flux);
  if (!why_not.ok()) return BadInput(why_not.status().message());
  if (args.json)
    std::cout << why_not->ToJson().dump(2) << "\n";
  else
    std::cout << why_not->ToText();
  return kExitOk;
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
  command->add_option("--flux", args->flux_path, "JSON object of flux values that override the flux model's");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunExplain(context, *args); });
}

}  // namespace nflux::cli
