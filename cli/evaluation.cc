#include "cli/evaluation.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <iterator>
#include <sstream>

#include "base/text.h"

namespace nflux::cli {

std::shared_ptr<const rules::RuleBase> LoadRulesOrReport(Context& context, const knowledge::KnowledgeBase& kb) {
  auto sources = rules::ReadRulesDir(ResolveRulesDir(context.options));
  if (!sources.ok()) {
    context.exit_code = BadInput(sources.status().message());
    return nullptr;
  }
  auto loaded = rules::LoadRules(*sources, kb);
  if (!loaded.errors.empty() || !loaded.rules) {
    for (const auto& error : loaded.errors) std::cerr << error.ToString() << "\n";
    std::cerr << loaded.errors.size() << " error(s) in the rule base; run 'nflux rules check'\n";
    context.exit_code = kExitBadInput;
    return nullptr;
  }
  return loaded.rules;
}

Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::ostringstream text;
    text << std::cin.rdbuf();
    return text.str();
  }
  return ReadFileToString(path);
}

Result<inference::FluxValues> FluxFromJson(const nlohmann::json& object, const std::string& source) {
  if (!object.is_object()) return Status::InvalidArgument(source + ": /: expected an object of flux indices");
  inference::FluxValues flux;
  std::string problems;
  for (const auto& [key, value] : object.items()) {
    if (key == "assumed") {
      if (!value.is_array()) {
        problems += source + ": /assumed: expected an array of flux indices\n";
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string() || !rules::IsFluxIndex(value[i].get<std::string>()))
          problems += source + ": /assumed/" + std::to_string(i) + ": not a flux index\n";
        else
          flux.assumed[value[i].get<std::string>()] = true;
      }
      continue;
    }
    if (!rules::IsFluxIndex(key)) {
      problems += source + ": /" + key + ": not a flux index (PATHWAY.INDEX, e.g. serotonin.synthesis)\n";
      continue;
    }
    if (!value.is_number()) {
      problems += source + ": /" + key + ": expected a number\n";
      continue;
    }
    flux.values[key] = value.get<double>();
  }
  if (!problems.empty()) {
    problems.pop_back();
    return Status::InvalidArgument(problems);
  }
  return flux;
}

Result<inference::FluxValues> ReadFluxFile(const std::string& path) {
  if (path.empty()) return inference::FluxValues{};
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  nlohmann::json object = nlohmann::json::parse(*text, nullptr, false);
  if (object.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  return FluxFromJson(object, path);
}

bool LoadEngine(Context& context, Loaded& loaded) {
  loaded.kb = LoadKnowledgeOrReport(context);
  if (!loaded.kb) return false;
  loaded.rules = LoadRulesOrReport(context, *loaded.kb);
  if (!loaded.rules) return false;
  loaded.engine = std::make_unique<inference::Engine>(loaded.rules, loaded.kb);
  auto model = flux::Model::Build(loaded.kb);
  if (!model.ok()) {
    context.exit_code = BadInput(model.status().message());
    return false;
  }
  loaded.flux = *model;
  return true;
}

inference::FluxValues MergeFlux(const flux::FluxResult& model, const inference::FluxValues& given) {
  inference::FluxValues out = inference::FluxValues::From(model);
  for (const auto& [key, value] : given.values) {
    out.values[key] = value;
    out.assumed.erase(key);
  }
  for (const auto& [key, assumed] : given.assumed) out.assumed[key] = assumed;
  return out;
}

bool ComputeCaseFlux(Context& context, const Loaded& loaded, const casefile::Case& c,
                     const inference::FluxValues& given, CaseFlux& out) {
  flux::ComputeOptions options;
  options.contributions = false;
  auto model = loaded.flux->Compute(c, options);
  if (!model.ok()) {
    context.exit_code = BadInput(model.status().message());
    return false;
  }
  out.model = std::move(model).value();
  out.values = MergeFlux(out.model, given);
  return true;
}

report::ReportOptions ReportOptionsFor(const Loaded& loaded, const casefile::Case& c, const CaseFlux& flux,
                                       const inference::Evaluation& evaluation) {
  report::ReportOptions options;
  options.flux = flux.values;
  for (const auto& p : flux.model.pathways) options.flux_assumed_inputs[p.pathway] = p.assumed;
  std::vector<std::string> deficits;
  for (const auto& [key, value] : flux.values.values)
    if (value < 0.95 && (key.ends_with(".synthesis") || key.ends_with(".level"))) deficits.push_back(key);
  for (const auto& effect : loaded.flux->RankStrategies(c, flux.model, deficits)) {
    bool suggested = false;
    for (const auto& strategy : evaluation.strategies) suggested = suggested || strategy.id == effect.strategy;
    if (!suggested) continue;
    auto& predicted = options.predicted_effects[effect.strategy];
    for (const auto& [key, change] : effect.changes)
      if (std::find(deficits.begin(), deficits.end(), key) != deficits.end()) predicted[key] = std::round(change * 1e4) / 1e4;
  }
  return options;
}

bool LoadCase(Context& context, const knowledge::KnowledgeBase& kb, const std::string& path, bool strict,
              casefile::Case& out) {
  auto text = ReadInput(path);
  if (!text.ok()) {
    context.exit_code = BadInput(text.status().message());
    return false;
  }
  casefile::ParseOptions options;
  options.strict = strict;
  options.source_name = path;
  auto parsed = casefile::ParseCase(*text, kb, options);
  if (!parsed.ok()) {
    context.exit_code = BadInput(parsed.status().message());
    return false;
  }
  out = std::move(parsed).value();
  return true;
}

}  // namespace nflux::cli
