// nflux flux CASE [--json] [--strict]: the flux model's indices for a case, the inputs it read, the
// unmeasured inputs taken as reference, and each input's ranked contribution to every index.
// The hidden --sweep prints the data table behind docs/flux-plots (level against main cofactor).
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli/context.h"

namespace nflux::cli {
namespace {

struct FluxArgs {
  std::string case_path;
  bool json = false;
  bool strict = false;
  bool sweep = false;
};

// The cofactor each pathway's plot varies (docs/flux-model.md, "Plots").
const std::pair<const char*, const char*> kMainCofactor[] = {
    {"serotonin", "iron"},        {"melatonin", "iron"},
    {"dopamine", "iron"},         {"noradrenaline", "copper_cofactor"},
    {"adrenaline", "s_adenosylmethionine"}, {"gaba", "vitamin_b6"},
    {"glutamate", "magnesium"},   {"acetylcholine", "acetyl_coa"},
};

int RunSweep(const flux::Model& model) {
  std::cout << "# x = lab value / lower reference limit; sufficiency = CofactorSufficiency(x); level per pathway\n";
  std::cout << "x sufficiency";
  for (const auto& [pathway, cofactor] : kMainCofactor) std::cout << " " << pathway << ":" << cofactor;
  std::cout << "\n" << std::setprecision(6);
  for (int i = 0; i <= 28; ++i) {
    double x = 0.1 + 0.05 * i;
    double s = flux::CofactorSufficiency(x);
    std::cout << x << " " << s;
    for (const auto& [pathway, cofactor] : kMainCofactor) std::cout << " " << model.LevelAt(pathway, cofactor, s);
    std::cout << "\n";
  }
  return kExitOk;
}

int RunFlux(Context& context, const FluxArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  if (args.sweep) return RunSweep(pipeline->flux_model());
  if (args.case_path.empty()) return BadInput("flux: give a CASE file (or --sweep)");
  auto text = ReadInput(args.case_path);
  if (!text.ok()) return Fail(text.status());
  auto parsed = pipeline->ParseCase(*text, args.case_path, args.strict);
  if (!parsed.ok()) return Fail(parsed.status());
  const casefile::Case& c = *parsed;
  auto result = pipeline->ComputeFlux(c);
  if (!result.ok()) return Fail(result.status());
  if (args.json) {
    nlohmann::ordered_json out;
    out["case_id"] = c.case_id;
    out["flux"] = flux::FluxToJson(*result);
    out["contributions"] = flux::ContributionsToJson(*result);
    nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
    for (const auto& input : result->inputs)
      inputs.push_back({{"id", input.id}, {"node", input.node}, {"value", input.value}, {"text", input.text}});
    out["inputs"] = inputs;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "Flux model for " << c.case_id << " (1.0 = healthy reference; contributions are log changes)\n";
  std::cout << VersionsLine(*pipeline) << "\n";
  std::cout << flux::FluxToText(*result);
  if (!result->inputs.empty()) {
    std::cout << "inputs\n";
    for (const auto& input : result->inputs) std::cout << "  " << input.id << ": " << input.text << "\n";
  }
  return kExitOk;
}

}  // namespace

void SetupFluxCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<FluxArgs>();
  command->add_option("CASE", args->case_path, "Case file (JSON, shared/contracts/case.md), or - for stdin");
  command->add_flag("--json", args->json, "JSON: the evaluation's flux object, with contributions and inputs beside it");
  command->add_flag("--strict", args->strict, "Reject a case with data-quality errors (exit 2)");
  command->add_flag("--sweep", args->sweep, "Print each pathway's level against its main cofactor (data for the plots)")
      ->group("");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunFlux(context, *args); });
}

}  // namespace nflux::cli
