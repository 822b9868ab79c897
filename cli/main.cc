// nflux: the NeuroFlux command. A table of sub-commands; each lives in its own file.
#include <exception>
#include <iostream>

#include "cli/context.h"

namespace nflux::cli {
namespace {

const Command kCommands[] = {
    {"evaluate", "Evaluate a case: alerts, deficits, strategies, blocked strategies, labs", SetupEvaluateCommand},
    {"explain", "The reasoning behind (--why) or against (--why-not) a deficit, driver, strategy or alert", SetupExplainCommand},
    {"flux", "The flux model for a case: indices per pathway, assumptions and ranked contributions", SetupFluxCommand},
    {"whatif", "Apply strategies or changed labs to a case: flux before/after and the change in conclusions", SetupWhatifCommand},
    {"kb", "The knowledge base: validate, stats, show, path, export, build", SetupKbCommand},
    {"units", "Convert lab values between units", SetupUnitsCommand},
    {"rules", "The rule base: check, lint, test", SetupRulesCommand},
    {"case", "Stored cases: add, list, show, edit (a new version), history (the course over visits)", SetupCaseCommand},
    {"run", "Evaluate a stored case (or a file) and store the run; prints the run id", SetupRunCommand},
    {"audit", "Stored runs and the audit trail: list, show, trace, replay, diff, verify, impact", SetupAuditCommand},
};

int Main(int argc, char** argv) {
  Context context;
  CLI::App app{"nflux - NeuroFlux clinical decision support: knowledge graph, flux model and rules.\n"
               "It supports a qualified practitioner; it does not diagnose.",
               "nflux"};
  app.set_version_flag("--version", std::string("nflux ") + NFLUX_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--knowledge", context.options.knowledge_dir, "Knowledge base folder (default: knowledge/)");
  app.add_option("--rules", context.options.rules_dir, "Rule base folder (default: rules/)");
  app.add_option("--db", context.options.db_path,
                 "SQLite database (default: $NFLUX_DB, else ~/.local/share/nflux/nflux.db)");
  for (const auto& command : kCommands) command.setup(app.add_subcommand(command.name, command.help), context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  return context.exit_code;
}

}  // namespace
}  // namespace nflux::cli

int main(int argc, char** argv) {
  try {
    return nflux::cli::Main(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "internal error: " << error.what() << " (this is a bug: please report it)\n";
    return nflux::cli::kExitInternal;
  }
}
