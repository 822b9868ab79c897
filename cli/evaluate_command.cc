// nflux evaluate CASE [--format text|json|markdown|html] [--out FILE] [--strict] [--flux FILE] [--as-of DATE]
//                     [--save [--id ID]]
// nflux run CASE_ID|FILE [--version N]: evaluate and store (a stored case, or a file as evaluate --save).
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "audit/audit.h"
#include "cli/context.h"
#include "report/report.h"

namespace nflux::cli {
namespace {

struct EvaluateArgs {
  std::string case_path;
  ReportOutput output;  // --format, --out
  bool strict = false;
  std::string flux_path;
  std::optional<std::string> as_of;  // --as-of DATE for a FHIR input
  bool save = false;
  std::string case_id;  // --id with --save
  int version = 0;      // run: a stored case's version (0: latest)
};

void WarnIfStopped(const inference::Evaluation& evaluation) {
  if (!evaluation.trace.stopped.empty()) std::cerr << "warning: " << evaluation.trace.stopped << "\n";
}

// Stores the case text as a version (or takes the stored version) and the run evaluated from it.
Result<audit::Recorded> Record(const pipeline::Pipeline& pipeline, store::Store& store,
                               const std::optional<std::string>& text, const EvaluateArgs& args,
                               audit::RecordOptions record) {
  if (text) return audit::EvaluateAndStore(pipeline, store, *text, record);
  auto stored = store.GetCaseVersion(args.case_id, args.version);
  if (!stored.ok()) return stored.status();
  record.evaluation.source_name = "case " + stored->case_id + " version " + std::to_string(stored->version);
  return audit::EvaluateStoredAndStore(pipeline, store, *stored, record);
}

// Evaluates the case text (absent: the stored case args.case_id, version args.version, 0 the latest),
// stores the case version and the run, prints the report (its trace_id the run id) and, on stderr,
// what was stored.
int EvaluateAndSave(Context& context, const pipeline::Pipeline& pipeline, const std::optional<std::string>& text,
                    const EvaluateArgs& args, const std::string& origin) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadWrite);
  if (!store) return context.exit_code;
  audit::RecordOptions record;
  record.case_id = args.case_id;
  record.evaluation.strict = args.strict;
  record.evaluation.source_name = args.case_path;
  auto given = ReadFluxFile(args.flux_path);
  if (!given.ok()) return Fail(given.status());
  record.evaluation.given_flux = std::move(given).value();
  record.actor = CurrentActor();
  record.origin = origin;
  auto recorded = Record(pipeline, *store, text, args, record);
  if (!recorded.ok()) return Fail(recorded.status());
  WarnIfStopped(recorded->result.evaluation);
  if (Status printed = PrintReport(recorded->report, pipeline.knowledge(), args.output); !printed.ok()) return Fail(printed);
  std::cerr << "stored " << store::RunName(recorded->run_id) << " (case " << recorded->case_version.case_id
            << " version " << recorded->case_version.version << ") in " << store->Describe() << "\n";
  return kExitOk;
}

int RunEvaluate(Context& context, const EvaluateArgs& args) {
  if (!args.save && !args.case_id.empty()) return BadInput("--id: only with --save");
  // The case first: a missing or unreadable case costs no pipeline open.
  auto text = ReadInput(args.case_path);
  if (!text.ok()) return Fail(text.status());
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  if (args.save) return EvaluateAndSave(context, *pipeline, *text, args, "evaluate --save");
  pipeline::EvaluationOptions options;
  options.as_of = args.as_of;
  auto result = EvaluateCaseText(*pipeline, *text, args.case_path, args.strict, args.flux_path, options);
  if (!result.ok()) return Fail(result.status());
  WarnIfStopped(result->evaluation);
  if (Status printed = PrintEvaluation(*pipeline, *result, args.output); !printed.ok()) return Fail(printed);
  return kExitOk;
}

// `run` takes a file when one exists at that path, else a stored case id.
int RunStored(Context& context, EvaluateArgs args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  if (args.case_path == "-" || std::filesystem::is_regular_file(args.case_path)) {
    if (args.version != 0) return BadInput("--version: only for a stored case, not a file");
    auto text = ReadInput(args.case_path);
    if (!text.ok()) return Fail(text.status());
    return EvaluateAndSave(context, *pipeline, *text, args, "run");
  }
  args.case_id = args.case_path;
  return EvaluateAndSave(context, *pipeline, std::nullopt, args, "run");
}

void AddReportOptions(CLI::App* command, EvaluateArgs& args) {
  AddReportOutputOptions(command, args.output);
  command->add_flag("--strict", args.strict, "Reject a case with data-quality errors (exit 2) instead of reporting them");
  AddFluxFileOption(command, args.flux_path);
}

}  // namespace

void SetupEvaluateCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<EvaluateArgs>();
  command->add_option("CASE", args->case_path,
                      "Case file (JSON, shared/contracts/case.md, or a FHIR R4 Bundle or resource), or - for stdin")
      ->required();
  AddReportOptions(command, *args);
  command->add_option("--as-of", args->as_of,
                      "A FHIR input's evaluation date YYYY-MM-DD (the age at it; default: the latest observation's date)");
  command->add_flag("--save", args->save,
                    "Store the case (a new version when it changed) and the run in --db; trace_id is the run id");
  command->add_option("--id", args->case_id, "With --save: the stored case's id (default: the case's case_id)");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunEvaluate(context, *args); });
}

void SetupRunCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<EvaluateArgs>();
  command->add_option("CASE", args->case_path, "A stored case id, or a case file (stored first, as evaluate --save)")
      ->required();
  command->add_option("--version", args->version, "A stored case's version (default: the latest)")->check(CLI::PositiveNumber);
  command->add_option("--id", args->case_id, "For a file: the stored case's id (default: the case's case_id)");
  AddReportOptions(command, *args);
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunStored(context, *args); });
}

}  // namespace nflux::cli
