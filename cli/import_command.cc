// nflux import fhir FILE [--as-of DATE]: the case (shared/contracts/case.md) a FHIR R4 Bundle or
// resource gives, on stdout; every note (what was not used, and why) on stderr as "FHIR.path: message".
#include <iostream>
#include <memory>
#include <optional>

#include "cli/context.h"

namespace nflux::cli {
namespace {

struct ImportArgs {
  std::string path;
  std::optional<std::string> as_of;
};

int RunImportFhir(Context& context, const ImportArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  auto text = ReadInput(args.path);
  if (!text.ok()) return Fail(text.status());
  auto imported = pipeline->ImportFhir(*text, {args.as_of, args.path});
  if (!imported.ok()) return Fail(imported.status());
  for (const auto& note : imported->notes)
    std::cerr << note.path << ": " << note.message << "\n";
  std::cout << imported->case_json.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void SetupImportCommand(CLI::App* command, Context& context) {
  command->require_subcommand(1);
  auto args = std::make_shared<ImportArgs>();
  CLI::App* fhir = command->add_subcommand("fhir", "A FHIR R4 Bundle (any type) or resource as a case (shared/contracts/fhir.md)");
  fhir->add_option("FILE", args->path, "The FHIR JSON file, or - for stdin")->required();
  fhir->add_option("--as-of", args->as_of, "The evaluation date YYYY-MM-DD (default: the latest observation's date, else today)");
  AddKnowledgeSourceOptions(fhir, context.options);
  fhir->callback([&context, args] { context.exit_code = RunImportFhir(context, *args); });
}

}  // namespace nflux::cli
