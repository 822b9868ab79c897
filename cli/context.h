// What every nflux sub-command shares: global options, exit codes, opening the pipeline (knowledge
// and rules from folders or the compiled database) with its problems reported, and reading inputs.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nflux::cli {

// Exit codes, as promised in shared/contracts/cli.md.
enum ExitCode { kExitOk = 0, kExitInternal = 1, kExitBadInput = 2, kExitCheckFailed = 3 };

struct GlobalOptions {
  std::string knowledge_dir;  // empty: $NFLUX_KNOWLEDGE, ./knowledge, or <exe>/../knowledge
  std::string rules_dir;      // empty: $NFLUX_RULES, ./rules, or <exe>/../rules
  std::string db_path;        // empty: store::DefaultDatabasePath()
  bool from_db = false;
  std::string kb_version;     // with from_db: which build; empty = latest
  bool no_snapshot = false;   // --no-snapshot: never the compiled snapshot (engine/snapshot)
};

struct Context {
  GlobalOptions options;
  int exit_code = kExitOk;
};

std::string ResolveKnowledgeDir(const GlobalOptions& options);
std::string ResolveRulesDir(const GlobalOptions& options);
std::string ResolveDbPath(const GlobalOptions& options);

// The pipeline options the global options name (folders resolved, database path defaulted).
pipeline::Options PipelineOptions(const GlobalOptions& options);

// Loads the knowledge base the options name. On any problem prints every one to stderr, sets
// context.exit_code and returns nullptr.
std::shared_ptr<const knowledge::KnowledgeBase> LoadKnowledgeOrReport(Context& context);

// Opens the pipeline (knowledge, rules, engine, flux model), which lives until the process exits.
// On any problem prints every one to stderr, sets context.exit_code and returns nullptr.
pipeline::Pipeline* OpenPipelineOrReport(Context& context);

// Opens the store at --db (or $NFLUX_DB, or the default). On a problem prints it, sets
// context.exit_code and returns nullptr.
std::unique_ptr<store::Store> OpenStoreOrReport(Context& context, store::Mode mode);

// Who is acting, for the audit trail: $NFLUX_ACTOR, else the login name, else the user id.
std::string CurrentActor();

// A password from stdin (`from_stdin`: one line, for scripts) or asked on the terminal without echo
// (twice when `confirm`). It never appears in arguments or output.
Result<std::string> ReadPassword(bool from_stdin, bool confirm);

// How an evaluation report is printed: --format and --out.
struct ReportOutput {
  std::string format = "text";  // text | json | markdown | html
  std::string out_path;         // empty: stdout
};

// Adds --format text|json|markdown|html and --out FILE to a command that prints a report.
void AddReportOutputOptions(CLI::App* command, ReportOutput& output);

// Prints a report JSON (output.md) in output.format, labels and the pathway map from `kb`: to
// stdout, or to output.out_path (written to a temporary file and renamed: the file is whole or
// untouched; "wrote FILE" on stderr). Text is coloured only when stdout is a terminal and NO_COLOR
// is unset. Errors: IOError when the file cannot be written.
Status PrintReport(const nlohmann::ordered_json& report, const knowledge::KnowledgeBase& kb, const ReportOutput& output);
// The same for an evaluation of `pipeline` (its JSON written without a DOM).
Status PrintEvaluation(const pipeline::Pipeline& pipeline, const pipeline::CaseEvaluation& result,
                       const ReportOutput& output);
// `text` as PrintReport prints a rendered report: to stdout, or to output.out_path whole.
Status PrintText(const std::string& text, const ReportOutput& output);

// "engine 0.12.0, knowledge 2026.11.20-ab12cd, rules ...": the versions an evaluation ran under, as
// the text report's header shows them, for the commands that print text of their own.
std::string VersionsLine(const pipeline::Pipeline& pipeline);

// The text of a file, or of stdin for "-". A folder: InvalidArgument "PATH: is a directory, expected
// a case file".
Result<std::string> ReadInput(const std::string& path);
// Writes `text` to `path` whole or not at all (a temporary file beside it, renamed; removed on any
// failure). `what` names the content in messages ("the report").
Status WriteFileAtomically(const std::string& path, const std::string& text, const std::string& what);
// Flux values from a JSON file (pipeline::FluxFromJson); none for an empty path. A folder:
// InvalidArgument, as ReadInput.
Result<inference::FluxValues> ReadFluxFile(const std::string& path);

// Adds --from-db and --kb-version to a command that reads the knowledge base.
void AddKnowledgeSourceOptions(CLI::App* command, GlobalOptions& options);
// Adds --flux FILE: a JSON file holding an object of flux indices that override the flux model's.
void AddFluxFileOption(CLI::App* command, std::string& path);

// Prints an error line to stderr and returns kExitBadInput.
int BadInput(const std::string& message);
// Prints the status's message to stderr and returns its exit code.
int Fail(const Status& status);

// Reads the case (a file, or stdin for "-"; a FHIR R4 resource is imported at options.as_of) and the --flux file (none when empty) and evaluates the
// case through the pipeline with `options`. Errors in that order: the case text, the case, the
// flux file, the evaluation.
Result<pipeline::CaseEvaluation> EvaluateCaseFile(const pipeline::Pipeline& pipeline, const std::string& case_path,
                                                  bool strict, const std::string& flux_path,
                                                  pipeline::EvaluationOptions options);
// The same for a case already read (`text`; `case_path` names it in messages).
Result<pipeline::CaseEvaluation> EvaluateCaseText(const pipeline::Pipeline& pipeline, const std::string& text,
                                                  const std::string& case_path, bool strict,
                                                  const std::string& flux_path, pipeline::EvaluationOptions options);

// A sub-command: its name, one-line help, and a function that adds it (with its own
// sub-commands and callbacks) to the app.
struct Command {
  const char* name;
  const char* help;
  void (*setup)(CLI::App* command, Context& context);
};

void SetupKbCommand(CLI::App* kb, Context& context);
void SetupUnitsCommand(CLI::App* command, Context& context);
void SetupEvaluateCommand(CLI::App* command, Context& context);
void SetupExplainCommand(CLI::App* command, Context& context);
void SetupRulesCommand(CLI::App* command, Context& context);
void SetupFluxCommand(CLI::App* command, Context& context);
void SetupWhatifCommand(CLI::App* command, Context& context);
void SetupCaseCommand(CLI::App* command, Context& context);
void SetupUserCommand(CLI::App* command, Context& context);
void SetupReleaseCommand(CLI::App* command, Context& context);
void SetupRunCommand(CLI::App* command, Context& context);
void SetupAuditCommand(CLI::App* command, Context& context);
void SetupBatchCommand(CLI::App* command, Context& context);
void SetupImportCommand(CLI::App* command, Context& context);
void SetupServeCommand(CLI::App* command, Context& context);

// `nflux serve` runs in build/nflux-serve (cli/CMakeLists.txt). In build/nflux, ExecServe replaces
// the process with it (same arguments, environment, pid, stdio and signals) and returns only when
// that fails, with the exit code; in build/nflux-serve it returns nullopt and the command runs there.
std::optional<int> ExecServe(char** argv);

}  // namespace nflux::cli
