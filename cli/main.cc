// nflux: the NeuroFlux command. A table of sub-commands; each lives in its own file.
#include <algorithm>
#include <exception>
#include <iostream>
#include <optional>
#include <string_view>
#include <vector>

#include "base/text.h"
#include "cli/context.h"

namespace nflux::cli {
namespace {

const Command kCommands[] = {
    {"evaluate", "Evaluate a case: alerts, deficits, strategies, blocked strategies, labs", SetupEvaluateCommand},
    {"explain", "The reasoning behind (--why) or against (--why-not) a deficit, driver, strategy or alert", SetupExplainCommand},
    {"flux", "The flux model for a case: indices per pathway, assumptions and ranked contributions", SetupFluxCommand},
    {"whatif", "Apply strategies or changed labs to a case: flux before/after and the change in conclusions", SetupWhatifCommand},
    {"batch", "Many cases (JSON Lines, or a folder of case files) in parallel: results in input order, progress, a summary", SetupBatchCommand},
    {"kb", "The knowledge base: validate, stats, show, path, export, build", SetupKbCommand},
    {"units", "Convert lab values between units", SetupUnitsCommand},
    {"rules", "The rule base: check, lint, test", SetupRulesCommand},
    {"case", "Stored cases: add, list, show, edit (a new version), history (the course over visits)", SetupCaseCommand},
    {"run", "Evaluate a stored case (or a file) and store the run; prints the run id", SetupRunCommand},
    {"audit", "Stored runs and the audit trail: list, show, trace, replay, diff, verify, impact", SetupAuditCommand},
    {"import", "Import a record: 'import fhir FILE' prints the case a FHIR R4 bundle or resource gives", SetupImportCommand},
    {"serve", "The CDS Hooks service over HTTP (discovery, patient-view, order-sign, feedback, /evaluate)", SetupServeCommand},
    {"user", "Local accounts of the web app: add (with a role), list", SetupUserCommand},
    {"release", "Releases of knowledge and rules for every service replica: publish, list, activate", SetupReleaseCommand},
};

// The first word that is not a global option or its value: where the command should be.
std::optional<std::string> CommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--knowledge" || arg == "--rules" || arg == "--db") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    return std::string(arg);
  }
  return std::nullopt;
}

// "nflux: unknown command 'evalute'; did you mean evaluate?" for a word that is no command (CLI11
// would say only "A subcommand is required"), with every command when nothing is close. Exit 2.
std::optional<int> RejectUnknownCommand(int argc, char** argv) {
  auto word = CommandWord(argc, argv);
  if (!word) return std::nullopt;
  std::string best, all;
  size_t best_distance = std::string::npos;
  for (const auto& command : kCommands) {
    if (*word == command.name) return std::nullopt;
    all += std::string(all.empty() ? "" : ", ") + command.name;
    size_t distance = EditDistance(*word, command.name);
    if (distance < best_distance) best_distance = distance, best = command.name;
  }
  std::cerr << "nflux: unknown command '" << *word << "'";
  if (best_distance <= std::max<size_t>(2, word->size() / 3))
    std::cerr << "; did you mean " << best << "?\n";
  else
    std::cerr << "; the commands are " << all << " (nflux --help)\n";
  return kExitBadInput;
}

int Main(int argc, char** argv) {
  if (auto rejected = RejectUnknownCommand(argc, argv)) return *rejected;
  if (CommandWord(argc, argv) == "serve")
    if (auto exited = ExecServe(argv)) return *exited;
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
                 "The store: a SQLite file or a postgresql:// URL (default: $NFLUX_DB, else ~/.local/share/nflux/nflux.db)");
  app.add_flag("--no-snapshot", context.options.no_snapshot,
               "Open the knowledge and rules from their sources, not from the compiled snapshot (also NFLUX_SNAPSHOT=off)");
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
