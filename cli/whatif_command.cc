// nflux whatif CASE [--set lab.ID=VALUE[UNIT]]... [--apply STRATEGY]... [--rank] [--json]
// Recomputes the flux model with strategies applied (their `targets` edges) and labs changed (the
// case re-parsed, so units and reference ranges apply as usual), prints the before/after of every
// index, and evaluates the case twice to show the change in its conclusions. --rank ranks every
// strategy by its predicted improvement of the case's flux deficits.
#include <cmath>
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

double Round4(double v) { return std::round(v * 1e4) / 1e4 + 0.0; }  // + 0.0: no -0

// The before/after rows of the what-if: every flux index, the conclusions that changed, and the
// ranking when asked for.
struct WhatifRows {
  ordered_json indices = ordered_json::array();
  ordered_json changes = ordered_json::array();
  ordered_json ranking = ordered_json::array();
};

WhatifRows Rows(const pipeline::WhatIfResult& result) {
  WhatifRows rows;
  for (size_t p = 0; p < result.before.pathways.size(); ++p)
    for (int i = 0; i < flux::kIndexCount; ++i) {
      double b = result.before.pathways[p].index[static_cast<size_t>(i)];
      double a = result.after.pathways[p].index[static_cast<size_t>(i)];
      rows.indices.push_back({{"index", flux::IndexKey(result.before.pathways[p].pathway, i)},
                              {"before", Round4(b)}, {"after", Round4(a)}, {"change", Round4(a - b)}});
    }
  for (const auto& change : result.changes)
    rows.changes.push_back(
        {{"conclusion", change.conclusion}, {"before", Round4(change.before)}, {"after", Round4(change.after)}});
  for (const auto& effect : result.ranking) {
    ordered_json moved = ordered_json::object();
    for (const auto& [key, change] : effect.changes) moved[key] = Round4(change);
    rows.ranking.push_back({{"strategy", effect.strategy}, {"improvement", Round4(effect.improvement)}, {"changes", moved}});
  }
  return rows;
}

void PrintText(const std::string& case_id, const WhatifArgs& args, const WhatifRows& rows) {
  std::cout << "What if for " << case_id << ":";
  for (const auto& set : args.sets) std::cout << " set " << set;
  for (const auto& id : args.apply) std::cout << " apply " << id;
  std::cout << "\nflux index               before   after  change\n";
  for (const auto& row : rows.indices) {
    std::string name = row["index"].get<std::string>();
    name.resize(24, ' ');
    std::cout << name << " " << FormatNumber(row["before"].get<double>(), 4) << " -> "
              << FormatNumber(row["after"].get<double>(), 4) << "  "
              << (row["change"].get<double>() > 0 ? "+" : "") << FormatNumber(row["change"].get<double>(), 4) << "\n";
  }
  std::cout << "conclusions\n";
  if (rows.changes.empty()) std::cout << "  unchanged\n";
  for (const auto& row : rows.changes)
    std::cout << "  " << row["conclusion"].get<std::string>() << ": " << FormatNumber(row["before"].get<double>(), 3)
              << " -> " << FormatNumber(row["after"].get<double>(), 3) << "\n";
  if (!args.rank) return;
  std::cout << "strategies ranked by predicted improvement of the flux deficits\n";
  int rank = 0;
  for (const auto& row : rows.ranking)
    std::cout << "  " << ++rank << ". " << row["strategy"].get<std::string>() << " +"
              << FormatNumber(row["improvement"].get<double>(), 4) << "\n";
}

int RunWhatif(Context& context, const WhatifArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  auto text = ReadInput(args.case_path);
  if (!text.ok()) return Fail(text.status());
  if (auto parsed = pipeline->ParseCase(*text, args.case_path); !parsed.ok()) return Fail(parsed.status());
  auto changed = pipeline::ApplyLabChanges(*text, args.sets);
  if (!changed.ok()) return Fail(changed.status());
  pipeline::WhatIfOptions options{args.case_path, args.apply, args.rank};
  auto result = pipeline->WhatIf(*text, *changed, options);
  if (!result.ok()) return Fail(result.status());
  WhatifRows rows = Rows(*result);
  if (!args.json) {
    PrintText(result->before_case.case_id, args, rows);
    return kExitOk;
  }
  ordered_json out;
  out["case_id"] = result->before_case.case_id;
  out["set"] = args.sets;
  out["apply"] = args.apply;
  out["indices"] = rows.indices;
  out["conclusions"] = rows.changes;
  if (args.rank) out["ranking"] = rows.ranking;
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void SetupWhatifCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<WhatifArgs>();
  command->add_option("CASE", args->case_path, "Case file (JSON), or - for stdin")->required();
  command->add_option("--set", args->sets, "A changed lab: lab.ID=VALUE[UNIT], e.g. lab.ferritin=80ng/mL (repeatable)");
  command->add_option("--apply", args->apply, "A strategy id whose targets edges are applied (repeatable)");
  command->add_flag("--rank", args->rank, "Also rank every strategy by predicted improvement of the flux deficits");
  command->add_flag("--json", args->json, "JSON output");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunWhatif(context, *args); });
}

}  // namespace nflux::cli
