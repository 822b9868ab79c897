// nflux whatif CASE [--set lab.ID=VALUE[UNIT]]... [--apply STRATEGY]... [--rank] [--json]
// Recomputes the flux model with strategies applied (their `targets` edges) and labs changed (the
// case re-parsed, so units and reference ranges apply as usual), prints the before/after of every
// index, and evaluates the case twice to show the change in its conclusions. --rank ranks every
// strategy by its predicted improvement of the case's flux deficits.
#include <cmath>
#include <iostream>
#include <memory>
#include <regex>
#include <set>

#include "base/text.h"
#include "cli/context.h"
#include "cli/evaluation.h"

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

// Applies "lab.ferritin=80ng/mL" to the case JSON: replaces the value and unit of every entry of
// that test, or adds one.
Status ApplySet(nlohmann::json& doc, const std::string& set) {
  static const std::regex pattern(R"(^lab\.([a-z0-9_]+)=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(.*)$)");
  std::smatch match;
  if (!std::regex_match(set, match, pattern))
    return Status::InvalidArgument("--set " + set + ": expected lab.ID=VALUE[UNIT], e.g. lab.ferritin=80ng/mL");
  std::string test = match[1], unit = match[3];
  double value = std::stod(match[2]);
  if (!doc.contains("labs") || !doc["labs"].is_array()) doc["labs"] = nlohmann::json::array();
  bool found = false;
  for (auto& lab : doc["labs"]) {
    if (!lab.is_object() || lab.value("test", "") != test) continue;
    found = true;
    lab["value"] = value;
    if (!unit.empty()) lab["unit"] = unit;
    else lab.erase("unit");
    lab.erase("date");
  }
  if (!found) {
    nlohmann::json lab = {{"test", test}, {"value", value}};
    if (!unit.empty()) lab["unit"] = unit;
    doc["labs"].push_back(lab);
  }
  return Status::Ok();
}

std::map<std::string, double> Conclusions(const inference::Evaluation& evaluation) {
  std::map<std::string, double> out;
  for (const auto& [id, conclusion] : evaluation.deficits) out["deficit:" + id] = conclusion.certainty;
  for (const auto& strategy : evaluation.strategies) out["strategy:" + strategy.id] = 1;
  for (const auto& alert : evaluation.alerts) out["alert:" + alert.id] = 1;
  return out;
}

double Round4(double v) { return std::round(v * 1e4) / 1e4 + 0.0; }  // + 0.0: no -0

int RunWhatif(Context& context, const WhatifArgs& args) {
  Loaded loaded;
  if (!LoadEngine(context, loaded)) return context.exit_code;
  auto text = ReadInput(args.case_path);
  if (!text.ok()) return BadInput(text.status().message());
  casefile::ParseOptions parse_options;
  parse_options.source_name = args.case_path;
  auto before_case = casefile::ParseCase(*text, *loaded.kb, parse_options);
  if (!before_case.ok()) return BadInput(before_case.status().message());
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  for (const auto& set : args.sets)
    if (auto status = ApplySet(doc, set); !status.ok()) return BadInput(status.message());
  parse_options.source_name = args.case_path + " (with --set)";
  auto after_case = casefile::ParseCase(doc.dump(), *loaded.kb, parse_options);
  if (!after_case.ok()) return BadInput(after_case.status().message());

  flux::ComputeOptions options;
  options.contributions = false;
  auto before = loaded.flux->Compute(*before_case, options);
  if (!before.ok()) return BadInput(before.status().message());
  options.apply_strategies = args.apply;
  auto after = loaded.flux->Compute(*after_case, options);
  if (!after.ok()) return BadInput(after.status().message());

  inference::Evaluation eval_before = loaded.engine->Evaluate(*before_case, MergeFlux(*before, {}));
  inference::Evaluation eval_after = loaded.engine->Evaluate(*after_case, MergeFlux(*after, {}));
  auto conclusions_before = Conclusions(eval_before), conclusions_after = Conclusions(eval_after);
  std::set<std::string> keys;
  for (const auto& [k, v] : conclusions_before) keys.insert(k);
  for (const auto& [k, v] : conclusions_after) keys.insert(k);

  ordered_json indices = ordered_json::array();
  for (size_t p = 0; p < before->pathways.size(); ++p)
    for (size_t i = 0; i < flux::IndexNames().size(); ++i) {
      double b = before->pathways[p].index[i], a = after->pathways[p].index[i];
      indices.push_back({{"index", before->pathways[p].pathway + "." + flux::IndexNames()[i]},
                         {"before", Round4(b)}, {"after", Round4(a)}, {"change", Round4(a - b)}});
    }
  ordered_json changes = ordered_json::array();
  for (const auto& key : keys) {
    double b = conclusions_before.count(key) ? conclusions_before[key] : 0;
    double a = conclusions_after.count(key) ? conclusions_after[key] : 0;
    if (std::fabs(a - b) < 1e-9) continue;
    changes.push_back({{"conclusion", key}, {"before", Round4(b)}, {"after", Round4(a)}});
  }
  ordered_json ranking = ordered_json::array();
  if (args.rank)
    for (const auto& effect : loaded.flux->RankStrategies(*before_case, *before)) {
      ordered_json moved = ordered_json::object();
      for (const auto& [key, change] : effect.changes) moved[key] = Round4(change);
      ranking.push_back({{"strategy", effect.strategy}, {"improvement", Round4(effect.improvement)}, {"changes", moved}});
    }

  if (args.json) {
    ordered_json out;
    out["case_id"] = before_case->case_id;
    out["set"] = args.sets;
    out["apply"] = args.apply;
    out["indices"] = indices;
    out["conclusions"] = changes;
    if (args.rank) out["ranking"] = ranking;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "What if for " << before_case->case_id << ":";
  for (const auto& set : args.sets) std::cout << " set " << set;
  for (const auto& id : args.apply) std::cout << " apply " << id;
  std::cout << "\nflux index               before   after  change\n";
  for (const auto& row : indices) {
    std::string name = row["index"].get<std::string>();
    name.resize(24, ' ');
    std::cout << name << " " << FormatNumber(row["before"].get<double>(), 4) << " -> "
              << FormatNumber(row["after"].get<double>(), 4) << "  "
              << (row["change"].get<double>() > 0 ? "+" : "") << FormatNumber(row["change"].get<double>(), 4) << "\n";
  }
  std::cout << "conclusions\n";
  if (changes.empty()) std::cout << "  unchanged\n";
  for (const auto& row : changes)
    std::cout << "  " << row["conclusion"].get<std::string>() << ": " << FormatNumber(row["before"].get<double>(), 3)
              << " -> " << FormatNumber(row["after"].get<double>(), 3) << "\n";
  if (args.rank) {
    std::cout << "strategies ranked by predicted improvement of the flux deficits\n";
    int rank = 0;
    for (const auto& row : ranking)
      std::cout << "  " << ++rank << ". " << row["strategy"].get<std::string>() << " +"
                << FormatNumber(row["improvement"].get<double>(), 4) << "\n";
  }
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
