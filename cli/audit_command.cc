// nflux audit list [--case ID] | show RUN | trace RUN [--rule ID] | replay RUN | diff RUN_A RUN_B |
// verify | impact --rules DIR [--knowledge DIR]: the stored runs and the tamper-evident audit trail.
#include <iomanip>
#include <iostream>
#include <memory>

#include "audit/audit.h"
#include "cli/context.h"
#include "report/report.h"

namespace nflux::cli {
namespace {

struct AuditArgs {
  std::string case_id;
  std::string run, other_run;
  std::string rule;
  std::string format = "text";
  ReportOutput report;  // show: --format (html too) and --out
  bool json = false;
  std::string rules_dir, knowledge_dir;
  int threads = 0;
};

Result<int64_t> RunIdArgument(const std::string& text) {
  if (auto id = store::ParseRunId(text)) return *id;
  return Status::InvalidArgument("RUN: '" + text + "' is not a run id (run-17, or 17)");
}

// The stored run RUN names, from a read-only store.
Result<store::RunRecord> StoredRun(const store::Store& store, const std::string& text) {
  auto id = RunIdArgument(text);
  if (!id.ok()) return id.status();
  return store.GetRun(*id);
}

nlohmann::ordered_json RunSummaryJson(const store::RunSummary& run) {
  return {{"run", store::RunName(run.id)},         {"created_at", run.created_at},
          {"actor", run.actor},                    {"origin", run.origin},
          {"case_id", run.case_id},                {"case_version", run.case_version},
          {"knowledge", run.knowledge_version},    {"rules", run.rules_version},
          {"engine", run.engine_version},          {"release", run.release_id}};
}

int RunList(Context& context, const AuditArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  std::optional<std::string> case_id;
  if (!args.case_id.empty()) case_id = args.case_id;
  auto runs = store->ListRuns(case_id);
  if (!runs.ok()) return Fail(runs.status());
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& run : *runs) out.push_back(RunSummaryJson(run));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(12) << "run" << std::setw(26) << "stored" << std::setw(28) << "case"
            << std::setw(9) << "version" << std::setw(16) << "by" << "origin\n";
  for (const auto& run : *runs)
    std::cout << std::setw(12) << store::RunName(run.id) << std::setw(26) << run.created_at << std::setw(28)
              << run.case_id << std::setw(9) << run.case_version << std::setw(16) << (run.actor + " ") << run.origin
              << "\n";
  std::cout << runs->size() << " run(s)\n";
  return kExitOk;
}

// Prints a run's report with the labels and pathway map of the knowledge base it was evaluated
// with (the pipeline a replay opens); with ids instead of labels when that no longer loads.
Status PrintRunReport(const store::Store& store, const store::RunRecord& run, const ReportOutput& output) {
  auto opened = audit::OpenRunPipeline(store, run.summary);
  if (opened.ok()) return PrintReport(run.evaluation, (*opened)->knowledge(), output);
  return PrintReport(run.evaluation, knowledge::KnowledgeBase(), output);
}

int RunShow(Context& context, const AuditArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto run = StoredRun(*store, args.run);
  if (!run.ok()) return Fail(run.status());
  if (args.report.format == "json" && args.report.out_path.empty()) {
    nlohmann::ordered_json out = RunSummaryJson(run->summary);
    out["options"] = run->options;
    out["content_hash"] = run->content_hash;
    out["evaluation"] = run->evaluation;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  const auto& s = run->summary;
  (args.report.out_path.empty() ? std::cout : std::cerr)
      << store::RunName(s.id) << ": case " << s.case_id << " version " << s.case_version << ", stored " << s.created_at
      << " by " << s.actor << " (" << s.origin << "); options " << run->options.dump() << "\n\n";
  if (Status printed = PrintRunReport(*store, *run, args.report); !printed.ok()) return Fail(printed);
  return kExitOk;
}

int RunTrace(Context& context, const AuditArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto run = StoredRun(*store, args.run);
  if (!run.ok()) return Fail(run.status());
  auto trace = audit::TraceOf(run->trace, args.rule);
  if (!trace.ok()) return Fail(trace.status());
  if (args.json)
    std::cout << trace->dump(2) << "\n";
  else
    std::cout << audit::TraceToText(*trace);
  return kExitOk;
}

void PrintDiff(const audit::EvaluationDiff& diff, const std::string& format) {
  if (format == "json")
    std::cout << audit::DiffToJson(diff).dump(2) << "\n";
  else if (format == "markdown")
    std::cout << audit::DiffToMarkdown(diff);
  else
    std::cout << audit::DiffToText(diff);
}

int RunReplay(Context& context, const AuditArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto id = RunIdArgument(args.run);
  if (!id.ok()) return Fail(id.status());
  auto replay = audit::Replay(*store, *id);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->diff.identical() && args.format != "json") {
    std::cout << store::RunName(*id) << ": identical (replayed with its stored case, knowledge and rules)\n";
    return kExitOk;
  }
  PrintDiff(replay->diff, args.format);
  return replay->diff.identical() ? kExitOk : kExitCheckFailed;
}

int RunDiff(Context& context, const AuditArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto a = StoredRun(*store, args.run);
  if (!a.ok()) return Fail(a.status());
  auto b = StoredRun(*store, args.other_run);
  if (!b.ok()) return Fail(b.status());
  PrintDiff(audit::DiffEvaluations(a->evaluation, a->trace, b->evaluation, b->trace, store::RunName(a->summary.id),
                                   store::RunName(b->summary.id)),
            args.format);
  return kExitOk;
}

int RunVerify(Context& context, const AuditArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto report = store->Verify();
  if (!report.ok()) return Fail(report.status());
  if (args.json) {
    nlohmann::ordered_json out = {{"ok", report->ok()},         {"entries", report->entries},
                                  {"runs", report->runs},       {"case_versions", report->case_versions},
                                  {"blobs", report->blobs},     {"bundles", report->bundles},
                                  {"feedback", report->feedback}, {"account_events", report->account_events},
                                  {"releases", report->releases}, {"dictionaries", report->dictionaries},
                                  {"head_hash", report->head_hash}, {"problems", report->problems}};
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& problem : report->problems) std::cerr << store->Describe() << ": " << problem << "\n";
    std::cout << (report->ok() ? "verified: " : "NOT verified: ") << report->entries << " audit entries, "
              << report->runs << " runs, " << report->case_versions << " case versions, " << report->bundles
              << " knowledge and rule versions, " << report->blobs << " files, " << report->feedback
              << " card feedback, " << report->account_events << " account events, " << report->releases
              << " release publications and activations, " << report->dictionaries
              << " compression dictionaries; head " << report->head_hash << "\n";
  }
  return report->ok() ? kExitOk : kExitCheckFailed;
}

int RunImpact(Context& context, const AuditArgs& args) {
  auto current = OpenPipelineOrReport(context);
  if (!current) return context.exit_code;
  Context changed_context = context;
  changed_context.options.from_db = false;
  if (!args.rules_dir.empty()) changed_context.options.rules_dir = args.rules_dir;
  if (!args.knowledge_dir.empty()) changed_context.options.knowledge_dir = args.knowledge_dir;
  auto changed = OpenPipelineOrReport(changed_context);
  if (!changed) return context.exit_code = changed_context.exit_code;
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto cases = audit::LatestCaseVersions(*store);
  if (!cases.ok()) return Fail(cases.status());
  auto impact = audit::Impact(*cases, *current, *changed, {.threads = args.threads});
  if (args.format == "json")
    std::cout << audit::ImpactToJson(impact).dump(2) << "\n";
  else if (args.format == "markdown")
    std::cout << audit::ImpactToMarkdown(impact);
  else
    std::cout << audit::ImpactToText(impact);
  return kExitOk;
}

void AddFormat(CLI::App* command, AuditArgs& args) {
  command->add_option("--format", args.format, "text (default), json or markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
}

}  // namespace

void SetupAuditCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<AuditArgs>();
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "Stored runs, oldest first");
  list->add_option("--case", args->case_id, "Only the runs of this case");
  list->add_flag("--json", args->json, "Print JSON");
  list->callback([&context, args] { context.exit_code = RunList(context, *args); });

  auto* show = command->add_subcommand("show", "A stored run: who, when, options, and its evaluation as it was");
  show->add_option("RUN", args->run, "Run id (run-17 or 17)")->required();
  AddReportOutputOptions(show, args->report);
  show->callback([&context, args] { context.exit_code = RunShow(context, *args); });

  auto* trace = command->add_subcommand("trace", "A stored run's rule trace: every rule considered, its tests and what it concluded");
  trace->add_option("RUN", args->run, "Run id")->required();
  trace->add_option("--rule", args->rule, "Only this rule");
  trace->add_flag("--json", args->json, "Print JSON");
  trace->callback([&context, args] { context.exit_code = RunTrace(context, *args); });

  auto* replay = command->add_subcommand(
      "replay", "Evaluate a stored run again with its stored case, knowledge and rules: identical, or what differs (exit 3)");
  replay->add_option("RUN", args->run, "Run id")->required();
  AddFormat(replay, *args);
  replay->callback([&context, args] { context.exit_code = RunReplay(context, *args); });

  auto* diff = command->add_subcommand("diff", "What differs between two runs: alerts, deficits, strategies, trace");
  diff->add_option("RUN_A", args->run, "Run id")->required();
  diff->add_option("RUN_B", args->other_run, "Run id")->required();
  AddFormat(diff, *args);
  diff->callback([&context, args] { context.exit_code = RunDiff(context, *args); });

  auto* verify = command->add_subcommand("verify", "Recompute every hash and the audit chain; name what does not match (exit 3)");
  verify->add_flag("--json", args->json, "Print JSON");
  verify->callback([&context, args] { context.exit_code = RunVerify(context, *args); });

  auto* impact = command->add_subcommand(
      "impact", "Re-evaluate every stored case's latest version under changed rules or knowledge: the cases that would change");
  impact->add_option("--rules", args->rules_dir, "The changed rule folder")->required();
  impact->add_option("--knowledge", args->knowledge_dir, "The changed knowledge folder (default: the current one)");
  impact->add_option("--threads", args->threads, "Evaluation threads (default: one per core)")->check(CLI::NonNegativeNumber);
  AddFormat(impact, *args);
  AddKnowledgeSourceOptions(impact, context.options);
  impact->callback([&context, args] { context.exit_code = RunImpact(context, *args); });
}

}  // namespace nflux::cli
