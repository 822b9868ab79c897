// nflux case add FILE [--id ID] | list [--json] | show ID [--version N] [--json] | edit ID FILE |
// history ID [--format text|json|markdown]: stored cases, every version kept (shared/contracts/cli.md).
#include <iomanip>
#include <iostream>
#include <memory>

#include "audit/audit.h"
#include "base/json.h"
#include "cli/context.h"

namespace nflux::cli {
namespace {

struct CaseArgs {
  std::string file, id;
  int version = 0;
  bool json = false;
  std::string format = "text";
};

// case add / case edit: the file parsed like evaluate's (a bad case stores nothing), then stored.
int RunStore(Context& context, const CaseArgs& args, audit::StoreMode mode) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  auto text = ReadInput(args.file);
  if (!text.ok()) return Fail(text.status());
  auto store = OpenStoreOrReport(context, store::Mode::kReadWrite);
  if (!store) return context.exit_code;
  audit::CaseStoreOptions options{.case_id = args.id, .source_name = args.file, .mode = mode, .actor = CurrentActor()};
  auto stored = audit::StoreCase(*pipeline, *store, *text, options);
  if (!stored.ok()) return Fail(stored.status());
  if (!stored->added)
    std::cout << "case " << stored->version.case_id << " unchanged: still version " << stored->version.version << "\n";
  else
    std::cout << "stored case " << stored->version.case_id << " version " << stored->version.version << " ("
              << stored->version.content_hash << ")\n";
  return kExitOk;
}

int RunList(Context& context, const CaseArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto cases = store->ListCases();
  if (!cases.ok()) return Fail(cases.status());
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& c : *cases)
      out.push_back({{"case_id", c.case_id}, {"versions", c.versions}, {"runs", c.runs},
                     {"created_at", c.created_at}, {"updated_at", c.updated_at}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(28) << "case" << std::setw(10) << "versions" << std::setw(6) << "runs"
            << std::setw(26) << "created" << "updated\n";
  for (const auto& c : *cases)
    std::cout << std::setw(28) << c.case_id << std::setw(10) << c.versions << std::setw(6) << c.runs << std::setw(26)
              << c.created_at << c.updated_at << "\n";
  std::cout << cases->size() << " case(s) in " << store->Describe() << "\n";
  return kExitOk;
}

int RunShow(Context& context, const CaseArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto version = store->GetCaseVersion(args.id, args.version);
  if (!version.ok()) return Fail(version.status());
  if (args.json) {
    nlohmann::ordered_json out = {{"case_id", version->case_id}, {"version", version->version},
                                  {"created_at", version->created_at}, {"actor", version->actor},
                                  {"content_hash", version->content_hash}, {"submitted", version->submitted},
                                  {"normalised", nlohmann::ordered_json::parse(version->normalised)}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "case " << version->case_id << " version " << version->version << ", stored " << version->created_at
            << " by " << version->actor << " (" << version->content_hash << ")\n\n"
            << version->submitted << (version->submitted.ends_with('\n') ? "" : "\n");
  return kExitOk;
}

int RunHistory(Context& context, const CaseArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto versions = store->ListCaseVersions(args.id);
  if (!versions.ok()) return Fail(versions.status());
  auto history = audit::CaseHistory(*pipeline, *versions);
  if (!history.ok()) return Fail(history.status());
  if (args.format == "json")
    std::cout << audit::HistoryToJson(*history).dump(2) << "\n";
  else if (args.format == "markdown")
    std::cout << audit::HistoryToMarkdown(*history);
  else
    std::cout << audit::HistoryToText(*history);
  return kExitOk;
}

}  // namespace

void SetupCaseCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<CaseArgs>();
  command->require_subcommand(1);
  auto* add = command->add_subcommand("add", "Store a new case (version 1); a bad case stores nothing (exit 2)");
  add->add_option("FILE", args->file, "Case file (JSON, shared/contracts/case.md), or - for stdin")->required();
  add->add_option("--id", args->id, "The case's id (default: its case_id, else one made from its content)");
  AddKnowledgeSourceOptions(add, context.options);
  add->callback([&context, args] { context.exit_code = RunStore(context, *args, audit::StoreMode::kAdd); });

  auto* list = command->add_subcommand("list", "Stored cases: versions, runs, first and last stored");
  list->add_flag("--json", args->json, "Print JSON");
  list->callback([&context, args] { context.exit_code = RunList(context, *args); });

  auto* show = command->add_subcommand("show", "A stored case version: exactly as submitted, with who stored it and when");
  show->add_option("ID", args->id, "Case id")->required();
  show->add_option("--version", args->version, "Version (default: the latest)")->check(CLI::PositiveNumber);
  show->add_flag("--json", args->json, "Print JSON (submitted text and the normalised case)");
  show->callback([&context, args] { context.exit_code = RunShow(context, *args); });

  auto* edit = command->add_subcommand("edit", "Store a new version of a case (a new visit); earlier versions stay");
  edit->add_option("ID", args->id, "Case id")->required();
  edit->add_option("FILE", args->file, "Case file, or - for stdin")->required();
  AddKnowledgeSourceOptions(edit, context.options);
  edit->callback([&context, args] { context.exit_code = RunStore(context, *args, audit::StoreMode::kEdit); });

  auto* history = command->add_subcommand(
      "history", "The patient's course over versions: labs, questionnaire totals, flux indices, deficits, with changes");
  history->add_option("ID", args->id, "Case id")->required();
  history->add_option("--format", args->format, "text (default), json or markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  AddKnowledgeSourceOptions(history, context.options);
  history->callback([&context, args] { context.exit_code = RunHistory(context, *args); });
}

}  // namespace nflux::cli
