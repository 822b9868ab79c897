// nflux rules check|lint|test
#include <algorithm>
#include <iostream>
#include <memory>
#include <set>

#include "base/text.h"
#include "cli/context.h"
#include "golden/golden.h"
#include "lint/lint.h"

namespace nflux::cli {
namespace {

using nlohmann::json;
using rules::Rule;

struct RulesArgs {
  bool json = false;
  bool strict = false;
  bool coverage = false;
  bool update = false;
  bool deficits = false;
  std::string dir;
  std::string cases;  // --cases: a folder of plain NAME.json cases, expectations in <cases>/expected
};

std::string Where(const Rule& rule) { return rule.at.file.str() + ":" + std::to_string(rule.at.line); }

// ---------------------------------------------------------------------------------------------
// check

int RunCheck(Context& context, const RulesArgs& args) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  const pipeline::Options options = PipelineOptions(context.options);
  auto check = pipeline::CheckRules(options, *kb);
  if (!check.ok()) return Fail(check.status());
  const auto& [sources, loaded] = *check;
  size_t count = loaded.rules ? loaded.rules->rules.size() : lint::CountRuleOpenings(sources);
  // No rules at all is a problem the check finds (an evaluation would refuse the folder).
  Status empty = loaded.rules ? pipeline::RequireRules(options.rules_dir, sources.size(), count) : Status::Ok();
  if (args.json) {
    json out = {{"rules", count}, {"files", json::array()}, {"errors", json::array()}};
    for (const auto& source : sources) out["files"].push_back(source.path);
    for (const auto& error : loaded.errors)
      out["errors"].push_back({{"file", error.at.file},
                               {"line", error.at.line},
                               {"column", error.at.column},
                               {"message", error.message},
                               {"text", error.ToString()}});
    if (!empty.ok())
      out["errors"].push_back({{"file", options.rules_dir}, {"line", 0}, {"column", 0},
                               {"message", empty.message()}, {"text", empty.message()}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& error : loaded.errors) std::cerr << error.ToString() << "\n";
    if (!empty.ok()) std::cerr << empty.message() << "\n";
    std::cout << "rules " << (loaded.rules ? loaded.rules->version : std::string("(not loaded)")) << ": " << count
              << " rules in " << sources.size() << " files; "
              << (loaded.errors.empty() ? (empty.ok() ? "no errors" : "no rules")
                                        : std::to_string(loaded.errors.size()) + " error(s)")
              << "\n";
  }
  return loaded.errors.empty() && loaded.rules && empty.ok() ? kExitOk : kExitCheckFailed;
}

// ---------------------------------------------------------------------------------------------
// lint

int RunLint(Context& context, const RulesArgs& args) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  auto check = pipeline::CheckRules(PipelineOptions(context.options), *kb);
  if (!check.ok()) return Fail(check.status());
  const rules::LoadResult& loaded = check->loaded;
  if (!loaded.errors.empty() || !loaded.rules) {
    for (const auto& error : loaded.errors) std::cerr << error.ToString() << "\n";
    std::cerr << loaded.errors.size() << " error(s): the rules do not load; fix them first ('nflux rules check')\n";
    return kExitCheckFailed;
  }
  std::vector<lint::Finding> warnings = lint::Lint(*loaded.rules, *kb);
  if (args.json) {
    json out = {{"rules", loaded.rules->rules.size()}, {"warnings", json::array()}};
    for (const auto& warning : warnings)
      out["warnings"].push_back({{"file", warning.at.file},
                                 {"line", warning.at.line},
                                 {"column", warning.at.column},
                                 {"rule", warning.rule},
                                 {"message", warning.message},
                                 {"text", warning.Text()}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& warning : warnings) std::cout << warning.Text() << "\n";
    std::cout << warnings.size() << " warning(s) in " << loaded.rules->rules.size() << " rules\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// test: golden cases

// Prints one case's result (text) or appends it (JSON).
void Report(const golden::CaseRun& run, bool as_json, json& cases) {
  if (as_json) {
    cases.push_back({{"name", run.name}, {"passed", run.passed()}, {"failures", run.failures}});
    return;
  }
  std::cout << (run.passed() ? "PASS " : "FAIL ") << run.name << "\n";
  for (const auto& failure : run.failures) std::cout << "  " << failure << "\n";
}

// --update: rewrites the expectation from the actual result; prints what changed.
void UpdateExpectation(const golden::Layout& layout, golden::CaseRun& run) {
  auto changes = golden::Update(layout, run);
  if (!changes.ok()) {
    std::cerr << changes.status().message() << "\n";
    return;
  }
  if (changes->empty()) return;
  std::cerr << "updated " << layout.ExpectPath(run.name) << "\n";
  for (const auto& change : *changes) std::cerr << "  " << change << "\n";
}

// One row of the --deficits table: "| name | kind | 2: a, b | 1: c |".
std::string DeficitRow(const golden::CaseRun& run) {
  std::vector<std::pair<double, std::string>> ranked;
  if (run.evaluation)
    for (const auto& [id, conclusion] : run.evaluation->deficits) ranked.emplace_back(-conclusion.certainty, id);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> likely, possible;
  for (const auto& [negative, id] : ranked) {
    if (-negative >= golden::kLikely) likely.push_back(id);
    else if (-negative >= golden::kPresent) possible.push_back(id);
  }
  auto cell = [](const std::vector<std::string>& ids) {
    std::string text = std::to_string(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) text += (i == 0 ? ": " : ", ") + ids[i];
    return text;
  };
  std::string kind = "-";
  if (run.expectation && run.expectation->case_kind) {
    switch (*run.expectation->case_kind) {
      case golden::CaseKind::kHealthyControl: kind = "healthy_control"; break;
      case golden::CaseKind::kSingleIssue: kind = "single_issue"; break;
      case golden::CaseKind::kMixed: kind = "mixed"; break;
    }
  }
  return "| " + run.name + " | " + kind + " | " + cell(likely) + " | " + cell(possible) + " |";
}

void PrintCoverage(const golden::Coverage& coverage, bool as_json, json& out) {
  if (as_json) {
    out["coverage"] = {{"fired", coverage.fired}, {"total", coverage.total}};
    out["uncovered"] = json::array();
    for (const Rule* rule : coverage.unfired)
      out["uncovered"].push_back({{"rule", rule->id}, {"file", rule->at.file}, {"line", rule->at.line}});
    return;
  }
  std::cout << coverage.Summary() << " fired in a golden case; fired in none:\n";
  for (const Rule* rule : coverage.unfired) std::cout << "  " << Where(*rule) << ": " << rule->id << "\n";
}

// --deficits: the Markdown table alone on stdout (for README), the counts on stderr.
int PrintDeficitTable(const std::vector<std::string>& rows, int passed, int failed) {
  std::cout << "| case | kind | deficits >= 0.5 | deficits 0.2-0.5 |\n|---|---|---|---|\n";
  for (const auto& row : rows) std::cout << row << "\n";
  std::cerr << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? kExitOk : kExitCheckFailed;
}

int RunTest(Context& context, const RulesArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  const golden::Layout layout =
      !args.cases.empty() ? golden::ExamplesLayout(args.cases)
                          : golden::GoldenLayout(args.dir.empty() ? ResolveRulesDir(context.options) + "/tests" : args.dir);
  auto names = golden::FindCases(layout);
  if (!names.ok() && (!args.dir.empty() || !args.cases.empty())) return Fail(names.status());
  int passed = 0, failed = 0;
  std::set<std::string> fired;
  json cases = json::array();
  std::vector<std::string> table;
  for (const auto& name : names.ok() ? *names : std::vector<std::string>{}) {
    golden::CaseRun run = golden::RunCase(*pipeline, layout, name);
    if (args.update) UpdateExpectation(layout, run);
    fired.insert(run.fired.begin(), run.fired.end());
    (run.passed() ? passed : failed)++;
    if (args.deficits) table.push_back(DeficitRow(run));
    else Report(run, args.json, cases);
  }
  if (args.deficits) return PrintDeficitTable(table, passed, failed);
  golden::Coverage coverage = golden::CoverageOf(pipeline->rule_base(), fired);
  std::string floor_failure = names.ok() && !names->empty() ? golden::FloorFailure(layout.expect_dir, coverage) : "";
  json out = {{"cases", cases}, {"passed", passed}, {"failed", failed}};
  if (args.coverage) PrintCoverage(coverage, args.json, out);
  if (args.json) {
    if (!floor_failure.empty()) out["coverage_floor"] = floor_failure;
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << passed << " passed, " << failed << " failed\n";
    if (!floor_failure.empty()) std::cout << floor_failure << "\n";
  }
  return failed == 0 && floor_failure.empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace

void SetupRulesCommand(CLI::App* rules_command, Context& context) {
  auto args = std::make_shared<RulesArgs>();
  rules_command->require_subcommand(1);

  auto* check = rules_command->add_subcommand(
      "check", "Load every rule file; print every error, or that there is no rule at all (exit 3 if any)");
  check->add_flag("--json", args->json, R"(Print {"rules", "files", "errors"} as JSON)");
  AddKnowledgeSourceOptions(check, context.options);
  check->callback([&context, args] { context.exit_code = RunCheck(context, *args); });

  auto* lint = rules_command->add_subcommand(
      "lint", "Warn about rules that can never fire, duplicates, subsumed or conflicting rules, unconcluded ids");
  lint->add_flag("--json", args->json, "Print the warnings as JSON");
  lint->add_flag("--strict", args->strict, "Accepted for symmetry; warnings never fail the command (exit 3 only "
                                           "when the rules do not load)");
  AddKnowledgeSourceOptions(lint, context.options);
  lint->callback([&context, args] { context.exit_code = RunLint(context, *args); });

  auto* test = rules_command->add_subcommand(
      "test", "Run the golden cases (<rules>/tests/NAME.case.json + NAME.expect.json); exit 3 if any fails");
  test->add_flag("--coverage", args->coverage,
                 "Report the share of rules fired over all golden cases and list the rules that fired in none");
  test->add_flag("--update", args->update,
                 "Rewrite each NAME.expect.json from the actual result (complete format; keeps description, "
                 "case_kind, clinician, flux and covers) and print what changed; for use after a reviewed change");
  test->add_flag("--json", args->json, "Print the results as JSON");
  test->add_flag("--deficits", args->deficits,
                 "Print instead a Markdown table of the cases: case, case_kind, the deficits >= 0.5 and those "
                 "0.2-0.5 (count: ids); pass/fail counts go to stderr");
  auto* dir = test->add_option("--dir", args->dir, "Folder of golden cases (default: <rules dir>/tests)");
  test->add_option("--cases", args->cases,
                   "Folder of plain cases NAME.json (such as examples/), each checked against "
                   "<folder>/expected/NAME.expect.json")
      ->excludes(dir);
  test->callback([&context, args] { context.exit_code = RunTest(context, *args); });
}

}  // namespace nflux::cli
