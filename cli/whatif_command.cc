// nflux whatif CASE [--set lab.ID=VALUE[UNIT]]... [--apply STRATEGY]... [--rank] [--json]
// Recomputes the flux model with strategies applied (their `targets` edges) and labs changed (the
// case re-parsed, so units and reference ranges apply as usual), prints the before/after of every
// index, and evaluates the case twice to show the change in its conclusions. --rank ranks every
// strategy by its predicted improvement of the case's flux deficits; only those the safety gate lets
// through are options, each with its verdict, and the blocked ones are listed apart with what
// blocks them. An applied strategy the gate blocks or cautions is said so before its effect. Every
// verdict is evaluate's (pipeline::SafetyVerdict).
//
// --json: {"case_id", "set", "apply", "apply_safety": [{"strategy", "verdict", "reasons"}],
// "indices": [{"index", "before", "after", "change"}], "conclusions": [{"conclusion", "before",
// "after"}], and with --rank "ranking": [{"strategy", "rank", "verdict", "reasons", "improvement",
// "changes"}] (verdict acceptable or acceptable_with_caution, best first) and "blocked":
// [{"strategy", "verdict": "blocked", "reasons", "improvement", "changes"}] (no rank)}; each reason
// as in blocked_strategies (output.md): {"alert", "with", "severity", "detail", "note", "citation"}.
#include <iostream>
#include <memory>

#include "base/text.h"
#include "cli/context.h"

namespace nflux::cli {
namespace {

using nlohmann::ordered_json;

struct WhatifArgs {
  std::string case_path;
  std::vector<std::string> sets;
  std::vector<std::string> apply;
  bool rank = false;
  bool json = false;
};

// Every reason of a row, one per line under it.
void PrintReasons(const ordered_json& row, const char* indent) {
  for (const auto& reason : row["reasons"]) std::cout << indent << "- " << pipeline::SafetyReasonText(reason) << "\n";
}

void PrintRanking(const ordered_json& rows) {
  std::cout << "strategies ranked by predicted improvement of the flux deficits (those the safety gate lets through)\n";
  if (rows["ranking"].empty()) std::cout << "  none\n";
  for (const auto& row : rows["ranking"]) {
    std::cout << "  " << row["rank"].get<int>() << ". " << row["strategy"].get<std::string>() << " +"
              << FormatNumber(row["improvement"].get<double>(), 4) << "  " << row["verdict"].get<std::string>() << "\n";
    PrintReasons(row, "       ");
  }
  if (rows["blocked"].empty()) return;
  std::cout << "blocked by the safety gate for this case (not options)\n";
  for (const auto& row : rows["blocked"]) {
    std::cout << "  " << row["strategy"].get<std::string>() << ": blocked\n";
    PrintReasons(row, "       ");
  }
}

void PrintText(const std::string& case_id, const std::string& versions, const WhatifArgs& args,
               const ordered_json& rows) {
  std::cout << "What if for " << case_id << ":";
  for (const auto& set : args.sets) std::cout << " set " << set;
  for (const auto& id : args.apply) std::cout << " apply " << id;
  std::cout << "\n" << versions << "\n";
  const std::string acceptable(inference::VerdictName(inference::Verdict::kAcceptable));
  const std::string blocked(inference::VerdictName(inference::Verdict::kBlocked));
  for (const auto& row : rows["apply_safety"])
    if (row["verdict"] != acceptable) {
      std::cout << "safety: " << row["strategy"].get<std::string>() << " is "
                << (row["verdict"] == blocked ? "BLOCKED for this case" : "acceptable only with caution") << ":\n";
      PrintReasons(row, "  ");
    }
  std::cout << "flux index               before   after  change\n";
  for (const auto& row : rows["indices"]) {
    std::string name = row["index"].get<std::string>();
    name.resize(24, ' ');
    std::cout << name << " " << FormatNumber(row["before"].get<double>(), 4) << " -> "
              << FormatNumber(row["after"].get<double>(), 4) << "  "
              << (row["change"].get<double>() > 0 ? "+" : "") << FormatNumber(row["change"].get<double>(), 4) << "\n";
  }
  std::cout << "conclusions\n";
  if (rows["conclusions"].empty()) std::cout << "  unchanged\n";
  for (const auto& row : rows["conclusions"])
    std::cout << "  " << row["conclusion"].get<std::string>() << ": " << FormatNumber(row["before"].get<double>(), 3)
              << " -> " << FormatNumber(row["after"].get<double>(), 3) << "\n";
  if (args.rank) PrintRanking(rows);
}

int RunWhatif(Context& context, const WhatifArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  auto text = ReadInput(args.case_path);
  if (!text.ok()) return Fail(text.status());
  if (auto parsed = pipeline->ParseCase(*text, args.case_path); !parsed.ok()) return Fail(parsed.status());
  auto changed = pipeline::ApplyLabChanges(*text, args.sets, pipeline->knowledge());
  if (!changed.ok()) return Fail(changed.status());
  pipeline::WhatIfOptions options{args.case_path, args.apply, args.rank};
  auto result = pipeline->WhatIf(*text, *changed, options);
  if (!result.ok()) return Fail(result.status());
  const ordered_json rows = pipeline::WhatIfToJson(*result, pipeline->knowledge());
  if (!args.json) {
    PrintText(result->before_case.case_id, VersionsLine(*pipeline), args, rows);
    return kExitOk;
  }
  ordered_json out;
  out["case_id"] = result->before_case.case_id;
  out["set"] = args.sets;
  out["apply"] = args.apply;
  for (const char* key : {"apply_safety", "indices", "conclusions"}) out[key] = rows[key];
  if (args.rank) {
    out["ranking"] = rows["ranking"];
    out["blocked"] = rows["blocked"];
  }
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void SetupWhatifCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<WhatifArgs>();
  command->add_option("CASE", args->case_path, "Case file (JSON), or - for stdin")->required();
  command->add_option("--set", args->sets, "A changed lab: lab.ID=VALUE UNIT, e.g. lab.ferritin=80ng/mL (repeatable; the unit may be left out only where the lab has one)");
  command->add_option("--apply", args->apply, "A strategy id whose targets edges are applied (repeatable)");
  command->add_flag("--rank", args->rank, "Also rank every strategy the safety gate lets through by predicted improvement of the flux deficits; list the blocked apart");
  command->add_flag("--json", args->json, "JSON output");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunWhatif(context, *args); });
}

}  // namespace nflux::cli
