// nflux rules check|lint|test
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "base/text.h"
#include "cli/context.h"
#include "explain/explain.h"
#include "lint/lint.h"

namespace nflux::cli {
namespace {

using nlohmann::json;
using rules::Condition;
using rules::Rule;
using rules::Test;
using rules::TestKind;

struct RulesArgs {
  bool json = false;
  bool strict = false;
  bool coverage = false;
  std::string dir;
};

// A rule count for a rule base that did not load: the lines that open with `rule ID`.
size_t CountRuleOpenings(const std::vector<rules::RuleSource>& sources) {
  size_t count = 0;
  for (const auto& source : sources) {
    std::istringstream lines(source.text);
    std::string keyword, id;
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      if (words >> keyword >> id && keyword == "rule" && id[0] >= 'a' && id[0] <= 'z') ++count;
    }
  }
  return count;
}

std::string Where(const Rule& rule) { return rule.at.file.str() + ":" + std::to_string(rule.at.line); }

// ---------------------------------------------------------------------------------------------
// check

int RunCheck(Context& context, const RulesArgs& args) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  auto sources = rules::ReadRulesDir(ResolveRulesDir(context.options));
  if (!sources.ok()) return BadInput(sources.status().message());
  auto loaded = rules::LoadRules(*sources, *kb);
  size_t count = loaded.rules ? loaded.rules->rules.size() : CountRuleOpenings(*sources);
  if (args.json) {
    json out = {{"rules", count}, {"files", json::array()}, {"errors", json::array()}};
    for (const auto& source : *sources) out["files"].push_back(source.path);
    for (const auto& error : loaded.errors)
      out["errors"].push_back({{"file", error.at.file},
                               {"line", error.at.line},
                               {"column", error.at.column},
                               {"message", error.message},
                               {"text", error.ToString()}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& error : loaded.errors) std::cerr << error.ToString() << "\n";
    std::cout << "rules " << (loaded.rules ? loaded.rules->version : std::string("(not loaded)")) << ": " << count
              << " rules in " << sources->size() << " files; "
              << (loaded.errors.empty() ? "no errors" : std::to_string(loaded.errors.size()) + " error(s)") << "\n";
  }
  return loaded.errors.empty() && loaded.rules ? kExitOk : kExitCheckFailed;
}

// ---------------------------------------------------------------------------------------------
// lint

int RunLint(Context& context, const RulesArgs& args) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  auto sources = rules::ReadRulesDir(ResolveRulesDir(context.options));
  if (!sources.ok()) return BadInput(sources.status().message());
  auto loaded = rules::LoadRules(*sources, *kb);
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

struct Expectation {
  json flux = json::object();
  std::vector<std::pair<std::string, double>> deficits;  // id, min certainty
  std::vector<std::string> drivers, alerts, strategies, blocked;
  std::vector<std::string> not_deficits, not_strategies, not_alerts, not_drivers;
  std::optional<double> max_deficit_certainty;
};

constexpr double kPresent = 0.2;  // a deficit at or above this counts as present

// Reads an id list at `path`, appending problems.
std::vector<std::string> IdList(const json& value, const std::string& where, std::vector<std::string>& problems) {
  std::vector<std::string> out;
  if (!value.is_array()) {
    problems.push_back(where + ": expected an array of ids");
    return out;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i].is_string())
      out.push_back(value[i].get<std::string>());
    else
      problems.push_back(where + "/" + std::to_string(i) + ": expected an id (string)");
  }
  return out;
}

void CheckKeys(const json& object, const std::vector<std::string>& allowed, const std::string& file,
               const std::string& where, std::vector<std::string>& problems) {
  for (const auto& [key, value] : object.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      problems.push_back(file + ": " + where + "/" + key + ": unknown key" + DidYouMean(key, allowed));
}

Result<Expectation> ParseExpectation(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument(path + ": /: expected an object");
  std::vector<std::string> problems;
  Expectation out;
  CheckKeys(doc, {"description", "flux", "must_include", "must_not_include", "max_deficit_certainty"}, path, "", problems);
  if (doc.contains("description") && !doc["description"].is_string())
    problems.push_back(path + ": /description: expected a string");
  if (doc.contains("flux")) out.flux = doc["flux"];
  if (doc.contains("max_deficit_certainty")) {
    if (doc["max_deficit_certainty"].is_number())
      out.max_deficit_certainty = doc["max_deficit_certainty"].get<double>();
    else
      problems.push_back(path + ": /max_deficit_certainty: expected a number");
  }
  if (doc.contains("must_include")) {
    const json& include = doc["must_include"];
    if (!include.is_object()) {
      problems.push_back(path + ": /must_include: expected an object");
    } else {
      CheckKeys(include, {"deficits", "drivers", "alerts", "strategies", "blocked_strategies"}, path, "/must_include",
                problems);
      if (include.contains("deficits")) {
        const json& deficits = include["deficits"];
        if (!deficits.is_array()) problems.push_back(path + ": /must_include/deficits: expected an array");
        for (size_t i = 0; deficits.is_array() && i < deficits.size(); ++i) {
          std::string where = "/must_include/deficits/" + std::to_string(i);
          const json& item = deficits[i];
          if (item.is_string()) {
            out.deficits.emplace_back(item.get<std::string>(), kPresent);
            continue;
          }
          if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
            problems.push_back(path + ": " + where + ": expected {\"id\": ..., \"min_certainty\": ...}");
            continue;
          }
          CheckKeys(item, {"id", "min_certainty"}, path, where, problems);
          double minimum = kPresent;
          if (item.contains("min_certainty")) {
            if (item["min_certainty"].is_number())
              minimum = item["min_certainty"].get<double>();
            else
              problems.push_back(path + ": " + where + "/min_certainty: expected a number");
          }
          out.deficits.emplace_back(item["id"].get<std::string>(), minimum);
        }
      }
      if (include.contains("drivers")) out.drivers = IdList(include["drivers"], path + ": /must_include/drivers", problems);
      if (include.contains("alerts")) out.alerts = IdList(include["alerts"], path + ": /must_include/alerts", problems);
      if (include.contains("strategies"))
        out.strategies = IdList(include["strategies"], path + ": /must_include/strategies", problems);
      if (include.contains("blocked_strategies"))
        out.blocked = IdList(include["blocked_strategies"], path + ": /must_include/blocked_strategies", problems);
    }
  }
  if (doc.contains("must_not_include")) {
    const json& exclude = doc["must_not_include"];
    if (!exclude.is_object()) {
      problems.push_back(path + ": /must_not_include: expected an object");
    } else {
      CheckKeys(exclude, {"deficits", "strategies", "alerts", "drivers"}, path, "/must_not_include", problems);
      if (exclude.contains("deficits"))
        out.not_deficits = IdList(exclude["deficits"], path + ": /must_not_include/deficits", problems);
      if (exclude.contains("strategies"))
        out.not_strategies = IdList(exclude["strategies"], path + ": /must_not_include/strategies", problems);
      if (exclude.contains("alerts")) out.not_alerts = IdList(exclude["alerts"], path + ": /must_not_include/alerts", problems);
      if (exclude.contains("drivers"))
        out.not_drivers = IdList(exclude["drivers"], path + ": /must_not_include/drivers", problems);
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& problem : problems) message += (message.empty() ? "" : "\n") + problem;
    return Status::InvalidArgument(message);
  }
  return out;
}

std::string Certainty(double value) { return FormatNumber(value, 3); }

template <typename List>
bool HasStrategy(const List& list, const std::string& id) {
  for (const auto& item : list)
    if (item.id == id) return true;
  return false;
}

// The failed expectations of one golden case, each with the actual value.
std::vector<std::string> CheckExpectation(const Expectation& expect, const inference::Evaluation& evaluation) {
  std::vector<std::string> failures;
  auto certainty_of = [](const std::map<std::string, inference::Conclusion>& map, const std::string& id) {
    auto it = map.find(id);
    return it == map.end() ? 0.0 : it->second.certainty;
  };
  auto has_alert = [&](const std::string& id) {
    for (const auto& alert : evaluation.alerts)
      if (alert.id == id) return true;
    return false;
  };
  for (const auto& [id, minimum] : expect.deficits) {
    double certainty = certainty_of(evaluation.deficits, id);
    if (certainty < minimum)
      failures.push_back("deficit " + id + ": certainty " + Certainty(certainty) + " < " + Certainty(minimum));
  }
  for (const auto& id : expect.drivers)
    if (certainty_of(evaluation.drivers, id) <= 0) failures.push_back("driver " + id + ": not concluded");
  for (const auto& id : expect.alerts)
    if (!has_alert(id)) failures.push_back("alert " + id + ": not raised");
  for (const auto& id : expect.strategies) {
    if (HasStrategy(evaluation.strategies, id)) continue;
    failures.push_back("strategy " + id + (HasStrategy(evaluation.blocked, id) ? ": blocked by safety" : ": not suggested"));
  }
  for (const auto& id : expect.blocked)
    if (!HasStrategy(evaluation.blocked, id)) failures.push_back("blocked strategy " + id + ": not blocked");
  for (const auto& id : expect.not_deficits) {
    double certainty = certainty_of(evaluation.deficits, id);
    if (certainty >= kPresent)
      failures.push_back("deficit " + id + ": must not be included, certainty " + Certainty(certainty));
  }
  for (const auto& id : expect.not_strategies)
    if (HasStrategy(evaluation.strategies, id)) failures.push_back("strategy " + id + ": must not be suggested, but is");
  for (const auto& id : expect.not_alerts)
    if (has_alert(id)) failures.push_back("alert " + id + ": must not be raised, but is");
  for (const auto& id : expect.not_drivers) {
    double certainty = certainty_of(evaluation.drivers, id);
    if (certainty > 0) failures.push_back("driver " + id + ": must not be concluded, weight " + Certainty(certainty));
  }
  if (expect.max_deficit_certainty) {
    for (const auto& [id, conclusion] : evaluation.deficits)
      if (conclusion.certainty > *expect.max_deficit_certainty)
        failures.push_back("deficit " + id + ": certainty " + Certainty(conclusion.certainty) +
                           " > max_deficit_certainty " + Certainty(*expect.max_deficit_certainty));
  }
  return failures;
}

int RunTest(Context& context, const RulesArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  std::string dir = args.dir.empty() ? ResolveRulesDir(context.options) + "/tests" : args.dir;
  std::vector<std::string> names;
  std::error_code error;
  if (std::filesystem::is_directory(dir, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      std::string file = entry.path().filename().string();
      const std::string suffix = ".case.json";
      if (entry.is_regular_file() && file.size() > suffix.size() &&
          file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
        names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  } else if (!args.dir.empty()) {
    return BadInput(dir + ": not a folder");
  }
  std::sort(names.begin(), names.end());

  int passed = 0, failed = 0;
  std::set<std::string> fired;
  json cases = json::array();
  for (const auto& name : names) {
    std::string case_path = dir + "/" + name + ".case.json";
    std::string expect_path = dir + "/" + name + ".expect.json";
    std::vector<std::string> failures;
    auto expect = ParseExpectation(expect_path);
    casefile::Case c;
    if (!expect.ok()) {
      failures.push_back(expect.status().message());
    } else {
      auto text = ReadFileToString(case_path);
      auto parsed = text.ok() ? pipeline->ParseCase(*text, case_path) : Result<casefile::Case>(text.status());
      auto flux = pipeline::FluxFromJson(expect->flux, expect_path + " (flux)");
      if (!parsed.ok()) {
        failures.push_back(parsed.status().message());
      } else if (!flux.ok()) {
        failures.push_back(flux.status().message());
      } else {
        pipeline::EvaluationOptions options;
        options.given_flux = *flux;
        options.predicted_effects = false;
        auto result = pipeline->Evaluate(std::move(parsed).value(), options);
        if (!result.ok()) failures.push_back(result.status().message());
        inference::Evaluation evaluation = result.ok() ? std::move(result->evaluation) : inference::Evaluation{};
        for (const auto& trace : evaluation.trace.rules)
          if (trace.fired) fired.insert(trace.rule);
        if (!evaluation.trace.stopped.empty()) failures.push_back("stopped: " + evaluation.trace.stopped);
        for (auto& failure : CheckExpectation(*expect, evaluation)) failures.push_back(std::move(failure));
      }
    }
    bool ok = failures.empty();
    (ok ? passed : failed)++;
    if (args.json) {
      cases.push_back({{"name", name}, {"passed", ok}, {"failures", failures}});
    } else {
      std::cout << (ok ? "PASS " : "FAIL ") << name << "\n";
      for (const auto& failure : failures) std::cout << "  " << failure << "\n";
    }
  }
  std::vector<const Rule*> uncovered;
  if (args.coverage)
    for (const auto& rule : pipeline->rule_base().rules)
      if (!fired.count(rule.id)) uncovered.push_back(&rule);
  if (args.json) {
    json out = {{"cases", cases}, {"passed", passed}, {"failed", failed}};
    if (args.coverage) {
      out["uncovered"] = json::array();
      for (const Rule* rule : uncovered)
        out["uncovered"].push_back({{"rule", rule->id}, {"file", rule->at.file}, {"line", rule->at.line}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    if (args.coverage) {
      std::cout << "coverage: " << (pipeline->rule_base().rules.size() - uncovered.size()) << " of "
                << pipeline->rule_base().rules.size() << " rules fired in a golden case; fired in none:\n";
      for (const Rule* rule : uncovered) std::cout << "  " << Where(*rule) << ": " << rule->id << "\n";
    }
    std::cout << passed << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? kExitOk : kExitCheckFailed;
}

}  // namespace

void SetupRulesCommand(CLI::App* rules_command, Context& context) {
  auto args = std::make_shared<RulesArgs>();
  rules_command->require_subcommand(1);

  auto* check = rules_command->add_subcommand("check", "Load every rule file; print every error (exit 3 if any)");
  check->add_flag("--json", args->json, "Print {\"rules\", \"files\", \"errors\"} as JSON");
  check->callback([&context, args] { context.exit_code = RunCheck(context, *args); });

  auto* lint = rules_command->add_subcommand(
      "lint", "Warn about rules that can never fire, duplicates, subsumed or conflicting rules, unconcluded ids");
  lint->add_flag("--json", args->json, "Print the warnings as JSON");
  lint->add_flag("--strict", args->strict, "Accepted for symmetry; warnings never fail the command (exit 3 only "
                                           "when the rules do not load)");
  lint->callback([&context, args] { context.exit_code = RunLint(context, *args); });

  auto* test = rules_command->add_subcommand(
      "test", "Run the golden cases (<rules>/tests/NAME.case.json + NAME.expect.json); exit 3 if any fails");
  test->add_flag("--coverage", args->coverage, "List the rules that fired in no golden case");
  test->add_flag("--json", args->json, "Print the results as JSON");
  test->add_option("--dir", args->dir, "Folder of golden cases (default: <rules dir>/tests)");
  test->callback([&context, args] { context.exit_code = RunTest(context, *args); });
}

}  // namespace nflux::cli
