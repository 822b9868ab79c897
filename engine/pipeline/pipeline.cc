#include "pipeline/pipeline.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "base/json.h"
#include "base/limits.h"
#include "base/text.h"
#include "safety/safety.h"
#include "snapshot/snapshot.h"
#include "store/store.h"

namespace nflux::pipeline {
namespace {

// The build `options` name in the database, with its bundle of `kind`.
Result<store::Bundle> StoredBundle(const Options& options, store::BundleKind kind) {
  auto db = store::OpenStore(options.db_path, store::Mode::kReadOnly);
  if (!db.ok()) return db.status();
  std::optional<std::string> version;
  if (!options.kb_version.empty()) version = options.kb_version;
  auto build = (*db)->FindBuild(version);
  if (!build.ok()) return build.status();
  const std::string& wanted = kind == store::BundleKind::kKnowledge ? build->knowledge_version : build->rules_version;
  if (wanted.empty())
    return Status::InvalidArgument(options.db_path + ": build " + std::to_string(build->id) +
                                   " holds no rules (stored by an older nflux); run 'nflux kb build' again");
  return (*db)->GetBundle(kind, wanted);
}

Result<std::shared_ptr<const rules::RuleBase>> LoadRuleBase(const Sources& sources, const knowledge::KnowledgeBase& kb) {
  auto loaded = rules::LoadRules(sources.rules, kb);
  if (loaded.errors.empty() && loaded.rules) {
    if (Status status = RequireRules(sources.rules_dir, sources.rules.size(), loaded.rules->rules.size()); !status.ok())
      return status;
    return loaded.rules;
  }
  std::string message;
  for (const auto& error : loaded.errors) message += error.ToString() + "\n";
  message += std::to_string(loaded.errors.size()) + " error(s) in the rule base; run 'nflux rules check'";
  return Status::InvalidArgument(message);
}

// The knowledge loader's outcome with what only the engine can check: every derived index has a
// formula in the case module (docs/knowledge-format.md), else rules on it would never see a value.
knowledge::LoadOutcome LoadKnowledgeChecked(const std::vector<knowledge::SourceFile>& files) {
  knowledge::LoadOutcome outcome = knowledge::LoadKnowledge(files);
  if (!outcome.problems.empty()) return outcome;
  for (const knowledge::Node& node : outcome.kb->nodes())
    if (node.kind == knowledge::NodeKind::kDerivedIndex && !casefile::HasFormula(node.id))
      outcome.problems.push_back({node.source.file, node.source.json_path,
                                  "derived index '" + node.id + "' has no formula in the engine (engine/case): " +
                                      "no case could ever give it a value",
                                  0, 0});
  return outcome;
}

Result<std::shared_ptr<const knowledge::KnowledgeBase>> ValidKnowledge(const std::vector<knowledge::SourceFile>& files) {
  auto outcome = LoadKnowledgeChecked(files);
  if (outcome.problems.empty()) return outcome.kb;
  std::string message;
  for (const auto& problem : outcome.problems) message += problem.ToString() + "\n";
  message += std::to_string(outcome.problems.size()) + " problem(s) in the knowledge base; run 'nflux kb validate'";
  return Status::InvalidArgument(message);
}

}  // namespace

Result<std::vector<knowledge::SourceFile>> ReadKnowledgeSources(const Options& options) {
  if (!options.from_db) return knowledge::ReadKnowledgeDir(options.knowledge_dir);
  auto bundle = StoredBundle(options, store::BundleKind::kKnowledge);
  if (!bundle.ok()) return bundle.status();
  return KnowledgeFilesOf(std::move(bundle).value());
}

Result<std::vector<rules::RuleSource>> ReadRuleSources(const Options& options) {
  if (!options.from_db) return rules::ReadRulesDir(options.rules_dir);
  auto bundle = StoredBundle(options, store::BundleKind::kRules);
  if (!bundle.ok()) return bundle.status();
  return RuleFilesOf(std::move(bundle).value());
}

std::vector<knowledge::SourceFile> KnowledgeFilesOf(store::Bundle bundle) {
  std::vector<knowledge::SourceFile> files;
  for (auto& file : bundle.files) files.push_back(knowledge::SourceFile{std::move(file.name), std::move(file.text)});
  return files;
}

std::vector<rules::RuleSource> RuleFilesOf(store::Bundle bundle) {
  std::vector<rules::RuleSource> files;
  for (auto& file : bundle.files) files.push_back(rules::RuleSource{file.name, std::move(file.text), file.name});
  return files;
}

Result<Sources> ReadSources(const Options& options) {
  Sources sources;
  auto knowledge = ReadKnowledgeSources(options);
  if (!knowledge.ok()) return knowledge.status();
  sources.knowledge = std::move(knowledge).value();
  auto rule_files = ReadRuleSources(options);
  if (!rule_files.ok()) return rule_files.status();
  sources.rules = std::move(rule_files).value();
  sources.knowledge_dir = options.from_db ? "" : options.knowledge_dir;
  sources.rules_dir = options.from_db ? options.db_path + " (stored rules)" : options.rules_dir;
  return sources;
}

std::string RelativeName(const knowledge::SourceFile& file, const std::string& dir) {
  if (dir.empty()) return file.path;
  std::string prefix = dir.back() == '/' ? dir : dir + "/";
  return file.path.starts_with(prefix) ? file.path.substr(prefix.size()) : file.path;
}

namespace {

// Every problem in `value` joined into one message, one per line; Ok when there are none.
Status Problems(const std::vector<std::string>& problems) {
  if (problems.empty()) return Status::Ok();
  std::string message;
  for (const auto& problem : problems) message += (message.empty() ? "" : "\n") + problem;
  return Status::InvalidArgument(message);
}

// One entry of a flux object, checked; problems go to `reader` at JSON pointer paths.
void ReadFluxEntry(const std::string& key, const nlohmann::json& value, const JsonReader& reader,
                   inference::FluxValues& flux) {
  std::string path = JsonChild("", key);
  if (key == "assumed") {
    if (!value.is_array()) return reader.Report(path, "expected an array of flux indices");
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string() || !rules::IsFluxIndex(value[i].get<std::string>()))
        reader.Report(JsonChild(path, i), "not a flux index");
      else
        flux.assumed[value[i].get<std::string>()] = true;
    }
    return;
  }
  if (!rules::IsFluxIndex(key))
    reader.Report(path, "not a flux index (PATHWAY.INDEX, e.g. serotonin.synthesis)");
  else if (!value.is_number())
    reader.Report(path, "expected a number");
  else
    flux.values[key] = value.get<double>();
}

bool IsDeficitIndex(const std::string& key, double value) {
  return value < kFluxDeficitThreshold && (key.ends_with(".synthesis") || key.ends_with(".level"));
}

// The flux indices of `flux` below kFluxDeficitThreshold: what a strategy's predicted effect is on.
std::vector<std::string> DeficitIndices(const inference::FluxValues& flux) {
  std::vector<std::string> deficits;
  for (const auto& [key, value] : flux.values)
    if (IsDeficitIndex(key, value)) deficits.push_back(key);
  return deficits;
}

// A deficit index with its place in the flux model's pathways, resolved once per case.
struct DeficitAt {
  std::string key;  // "serotonin.synthesis"
  size_t pathway = 0;
  size_t index = 0;
};

// The deficit keys that name an index of the model (in their order), where it sits.
std::vector<DeficitAt> LocateDeficits(const std::vector<std::string>& deficits) {
  const auto& pathways = flux::Model::Pathways();
  std::vector<DeficitAt> out;
  for (const auto& key : deficits) {
    auto parsed = flux::ParseIndexKey(key);
    if (!parsed) continue;
    auto at = std::find(pathways.begin(), pathways.end(), parsed->first);
    out.push_back({key, static_cast<size_t>(at - pathways.begin()), static_cast<size_t>(parsed->second)});
  }
  return out;
}

// One strategy applied alone through the flux model: its change of each deficit index (rounded,
// |change| > 1e-4) and the improvement up to the reference (flux::Model::RankStrategies' measure).
// Nullopt when it improves nothing. `state` and `before`: the case without strategies.
std::optional<PredictedEffect> PredictEffect(const flux::Model& model, const flux::CaseState& state,
                                             const flux::FluxResult& before, const std::vector<DeficitAt>& deficits,
                                             const std::string& strategy) {
  auto after = model.IndicesWith(state, strategy);
  if (!after.ok()) return std::nullopt;
  PredictedEffect out;
  for (const auto& [key, pathway, index] : deficits) {
    if (pathway >= before.pathways.size() || pathway >= after->size()) continue;
    const double was = before.pathways[pathway].index[index], now = (*after)[pathway][index];
    out.effect.improvement += std::min(now, 1.0) - std::min(was, 1.0);
    if (std::fabs(now - was) <= 1e-4) continue;
    out.changes[key] = std::round((now - was) * 1e4) / 1e4;
    if (!out.effect.index.empty() && now - was <= out.effect.change) continue;
    out.effect.index = key;  // the index it raises most, for the ranking's reason
    out.effect.change = now - was;
  }
  if (out.effect.improvement <= 1e-4) return std::nullopt;
  return out;
}

// The gate for a strategy the evaluation did not judge, as if a rule had suggested it: the engine's
// own PassGate, seeing the evaluation's alerts (so that their gates and the strategies they name
// hold here too) and its concluded drivers.
safety::StrategyResult JudgeAsSuggested(const std::string& strategy_id, const casefile::Case& c,
                                        const inference::Evaluation& evaluation, const knowledge::KnowledgeBase& kb) {
  safety::AlertBoard alerts(kb);
  for (const auto& alert : evaluation.alerts) {
    for (const auto& reason : alert.reasons)
      alerts.Raise(alert.id, alert.severity, reason.because, alert.citations, reason.source, reason.message);
    if (alert.reasons.empty())
      alerts.Raise(alert.id, alert.severity, alert.because, alert.citations, "safety", alert.message);
  }
  safety::Conclusions conclusions;
  for (const auto& [id, driver] : evaluation.drivers) conclusions.drivers[id] = driver.certainty;
  safety::StrategyResult strategy;
  strategy.id = strategy_id;
  strategy.suggested = true;
  safety::GateResult gate = safety::PassGate(c, kb, conclusions, {{strategy_id, strategy}}, alerts);
  for (const auto* list : {&gate.blocked, &gate.strategies})
    for (const auto& judged : *list)
      if (judged.id == strategy_id) return judged;
  return strategy;
}

// The evaluation's own judgement of `strategy_id`, if it made one.
const inference::StrategyResult* Judged(const inference::Evaluation& evaluation, const std::string& strategy_id) {
  for (const auto* list : {&evaluation.blocked, &evaluation.requested, &evaluation.strategies})
    for (const auto& strategy : *list)
      if (strategy.id == strategy_id) return &strategy;
  return nullptr;
}

// Every strategy the flux model ranks, split by its safety verdict for the case: the options
// (acceptable, with caution or not) and the blocked, each list keeping the model's order.
void RankSafely(std::vector<flux::StrategyEffect> effects, const casefile::Case& c,
                const inference::Evaluation& evaluation, const knowledge::KnowledgeBase& kb, WhatIfResult& out) {
  for (auto& effect : effects) {
    inference::StrategyResult safety = SafetyVerdict(effect.strategy, c, evaluation, kb);
    RankedStrategy ranked{std::move(effect), std::move(safety)};
    (ranked.safety.verdict == inference::Verdict::kBlocked ? out.blocked : out.ranking).push_back(std::move(ranked));
  }
}

std::map<std::string, double> Conclusions(const inference::Evaluation& evaluation) {
  std::map<std::string, double> out;
  for (const auto& [id, conclusion] : evaluation.deficits) out["deficit:" + id] = conclusion.certainty;
  for (const auto& strategy : evaluation.strategies) out["strategy:" + strategy.id] = 1;
  for (const auto& alert : evaluation.alerts) out["alert:" + alert.id] = 1;
  return out;
}

std::vector<ConclusionChange> ChangedConclusions(const inference::Evaluation& before_evaluation,
                                                 const inference::Evaluation& after_evaluation) {
  auto before = Conclusions(before_evaluation), after = Conclusions(after_evaluation);
  std::map<std::string, ConclusionChange> all;
  for (const auto& [key, value] : before) all[key] = {key, value, 0};
  for (const auto& [key, value] : after) {
    all.try_emplace(key, ConclusionChange{key, 0, 0});
    all[key].after = value;
  }
  std::vector<ConclusionChange> out;
  for (const auto& [key, change] : all)
    if (std::fabs(change.after - change.before) >= 1e-9) out.push_back(change);
  return out;
}

// Applies "lab.ferritin=80ng/mL" to the case JSON: replaces the value and unit of every entry of
// that test, or adds one.
// A change names a lab the knowledge base knows, in a unit it accepts; a missing unit only where
// every accepted unit gives the same number. Else the case parser would exclude the lab, and the
// what-if would silently show a change without it.
Status CheckLabChange(const knowledge::KnowledgeBase& kb, const std::string& set, const std::string& test,
                      const std::string& unit) {
  const knowledge::Node* node = kb.Find(test);
  if (!node || !node->lab) return Status::InvalidArgument("--set " + set + ": unknown lab '" + test + "'");
  const knowledge::Lab& lab = *node->lab;
  const std::string example = "e.g. lab." + test + "=80" + lab.analyte.canonical_unit;
  // As the case parser decides: a missing unit is assumed only where it cannot matter.
  if (unit.empty() && !(lab.units.size() == 1 || lab.UnitsInterchangeable()))
    return Status::InvalidArgument("--set " + set + ": give a unit for " + test + " (accepted units: " +
                                   Join(lab.units, ", ") + "), " + example);
  if (!unit.empty() && !lab.Accepts(unit))
    return Status::InvalidArgument("--set " + set + ": " + test + " is not measured in '" + unit +
                                   "' (accepted units: " + Join(lab.units, ", ") + ")");
  return Status::Ok();
}

struct LabChange {
  std::string test;
  double value = 0;
  std::string unit;
};

// "lab.ID=VALUE[UNIT]": ID in [a-z0-9_], VALUE a decimal number, the unit after optional spaces.
// Read by hand, not by std::regex, whose backtracking recursed past the stack on long values.
Result<LabChange> ParseLabChange(const std::string& set) {
  const Status usage = Status::InvalidArgument("--set " + set + ": expected lab.ID=VALUE[UNIT], e.g. lab.ferritin=80ng/mL");
  if (set.size() > limits::kMaxChangeLength)
    return Status::InvalidArgument("--set: longer than the limit of " + std::to_string(limits::kMaxChangeLength) +
                                   " characters");
  constexpr std::string_view kPrefix = "lab.";
  if (!set.starts_with(kPrefix)) return usage;
  const size_t equals = set.find('=');
  if (equals == std::string::npos || equals == kPrefix.size()) return usage;
  LabChange change;
  change.test = set.substr(kPrefix.size(), equals - kPrefix.size());
  auto id_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; };
  if (!std::all_of(change.test.begin(), change.test.end(), id_char)) return usage;
  const char* begin = set.data() + equals + 1;
  const char* end = set.data() + set.size();
  const bool plus = begin != end && *begin == '+';  // from_chars takes '-' only
  if (plus) ++begin;
  // A digit or point first (after one sign): from_chars would also read "inf" and "nan".
  const char* first = begin + (begin != end && *begin == '-' && !plus ? 1 : 0);
  if (first == end || !(std::isdigit(static_cast<unsigned char>(*first)) || *first == '.')) return usage;
  auto [number_end, error] = std::from_chars(begin, end, change.value);
  if (error == std::errc::result_out_of_range)
    return Status::InvalidArgument("--set " + set.substr(0, 64) + ": the value is out of range");
  if (error != std::errc() || !std::isfinite(change.value)) return usage;
  std::string_view rest(number_end, static_cast<size_t>(end - number_end));
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  change.unit = std::string(rest);
  return change;
}

Status ApplyLabChange(nlohmann::json& doc, const std::string& set, const knowledge::KnowledgeBase& kb) {
  auto change = ParseLabChange(set);
  if (!change.ok()) return change.status();
  const std::string& test = change->test;
  const std::string& unit = change->unit;
  const double value = change->value;
  if (Status status = CheckLabChange(kb, set, test, unit); !status.ok()) return status;
  if (!doc.contains("labs") || !doc["labs"].is_array()) doc["labs"] = nlohmann::json::array();
  bool found = false;
  for (auto& lab : doc["labs"]) {
    if (JsonStringAt(lab, "test") != test) continue;
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

}  // namespace

Result<std::shared_ptr<const knowledge::KnowledgeBase>> LoadKnowledge(const Options& options) {
  auto files = ReadKnowledgeSources(options);
  if (!files.ok()) return files.status();
  return ValidKnowledge(*files);
}

Status RequireRules(const std::string& rules_dir, size_t file_count, size_t rule_count) {
  if (rule_count > 0) return Status::Ok();
  std::string found = file_count == 0 ? "no .rules files in the folder"
                                      : std::to_string(file_count) + " .rules file(s) with no rule in them";
  return Status::InvalidArgument(rules_dir + ": no rules loaded (" + found +
                                 "); an evaluation without rules would conclude nothing: check --rules");
}

inference::StrategyResult SafetyVerdict(const std::string& strategy_id, const casefile::Case& c,
                                        const inference::Evaluation& evaluation,
                                        const knowledge::KnowledgeBase& kb) {
  if (const auto* judged = Judged(evaluation, strategy_id)) return *judged;
  return JudgeAsSuggested(strategy_id, c, evaluation, kb);
}

Result<KnowledgeCheck> CheckKnowledge(const Options& options) {
  auto files = ReadKnowledgeSources(options);
  if (!files.ok()) return files.status();
  KnowledgeCheck check;
  check.outcome = LoadKnowledgeChecked(*files);
  check.files = std::move(files).value();
  return check;
}

Result<RulesCheck> CheckRules(const Options& options, const knowledge::KnowledgeBase& kb) {
  auto sources = ReadRuleSources(options);
  if (!sources.ok()) return sources.status();
  RulesCheck check;
  check.loaded = rules::LoadRules(*sources, kb);
  check.sources = std::move(sources).value();
  return check;
}

KnowledgeStats StatsOf(const knowledge::KnowledgeBase& kb) {
  KnowledgeStats stats;
  for (const auto& node : kb.nodes()) ++stats.nodes[std::string(knowledge::KindName(node.kind))];
  for (const auto& edge : kb.edges()) {
    ++stats.edges[std::string(knowledge::EdgeTypeName(edge.type))];
    if (edge.citations.empty()) ++stats.uncited_edges;
  }
  return stats;
}

CitationStats CitationStatsOf(const knowledge::KnowledgeBase& kb, const rules::RuleBase* rule_base) {
  CitationStats stats;
  for (const auto& [key, citation] : kb.citations()) {
    ++stats.total;
    stats.checked += citation.verified == knowledge::Verification::kChecked;
    stats.textbook += citation.verified == knowledge::Verification::kTextbook;
    stats.uncertain += citation.verified == knowledge::Verification::kUncertain;
    stats.with_identifier += citation.HasIdentifier();
    stats.with_claim += !citation.claim.empty();
    ++stats.grades[std::string(Name(citation.grade))];
  }
  for (const auto& edge : kb.edges()) {
    ++stats.edges;
    if (kb.RestsOnlyOnUncertain(edge.citations))
      stats.uncertain_edges.push_back(edge.from + " --" + std::string(knowledge::EdgeTypeName(edge.type)) + "--> " + edge.to);
  }
  if (!rule_base) return stats;
  for (const auto& rule : rule_base->rules) {
    ++stats.rules;
    if (kb.RestsOnlyOnUncertain(rule.citations)) stats.uncertain_rules.push_back(rule.id);
  }
  return stats;
}

std::map<std::string, std::string> CitationsAround(const knowledge::KnowledgeBase& kb, const knowledge::Node& node) {
  std::map<std::string, std::string> cited;
  for (const auto& key : node.citations) cited[key] = "";
  for (const auto& edges : {kb.OutEdges(node.id), kb.InEdges(node.id)})
    for (const knowledge::Edge* edge : edges)
      for (const auto& key : edge->citations) cited[key] = "";
  for (auto& [key, text] : cited)
    if (const auto* citation = kb.FindCitation(key)) text = citation->Format();
  return cited;
}

Result<inference::FluxValues> FluxFromJson(const nlohmann::json& object, const std::string& source) {
  if (!object.is_object()) return Status::InvalidArgument(source + ": /: expected an object of flux indices");
  inference::FluxValues flux;
  std::vector<std::string> problems;
  JsonReader reader([&](const std::string& path, const std::string& message) {
    problems.push_back(source + ": " + path + ": " + message);
  });
  for (const auto& [key, value] : object.items()) ReadFluxEntry(key, value, reader, flux);
  if (Status status = Problems(problems); !status.ok()) return status;
  return flux;
}

std::vector<report::Override> FluxOverrides(const flux::FluxResult& model, const inference::FluxValues& given) {
  if (given.values.empty()) return {};
  inference::FluxValues modelled = inference::FluxValues::From(model);
  std::vector<report::Override> out;
  for (const auto& [key, value] : given.values) {
    report::Override item{"flux", key, value, std::nullopt};
    if (auto it = modelled.values.find(key); it != modelled.values.end()) item.model_value = std::round(it->second * 1e4) / 1e4;
    out.push_back(std::move(item));
  }
  return out;
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

Result<std::string> ApplyLabChanges(std::string_view case_text, const std::vector<std::string>& changes,
                                    const knowledge::KnowledgeBase& kb) {
  StrictJson parsed = ParseJsonStrict(case_text);
  if (parsed.syntax_error) return std::string(case_text);
  nlohmann::json doc = std::move(parsed.value);
  if (!changes.empty() && fhir::IsFhirResource(doc)) {  // changed in the case it gives, not in the bundle
    auto imported = fhir::ImportFhir(doc, kb, {});
    if (!imported.ok()) return imported.status();
    doc = nlohmann::json::parse(imported->case_json.dump());
  }
  for (const auto& change : changes)
    if (auto status = ApplyLabChange(doc, change, kb); !status.ok()) return status;
  return doc.dump();
}

Result<std::unique_ptr<Pipeline>> Pipeline::Open(const Options& options) {
  auto sources = ReadSources(options);
  if (!sources.ok()) return sources.status();
  return OpenFromSources(std::move(sources).value(), options.from_db ? "" : options.snapshot_dir);
}

Result<std::unique_ptr<Pipeline>> Pipeline::OpenFromSources(Sources sources) {
  auto kb = ValidKnowledge(sources.knowledge);
  if (!kb.ok()) return kb.status();
  auto rule_base = LoadRuleBase(sources, **kb);
  if (!rule_base.ok()) return rule_base.status();
  return Assemble(*kb, *rule_base, std::move(sources));
}

Result<std::unique_ptr<Pipeline>> Pipeline::OpenFromSources(Sources sources, const std::string& snapshot_dir) {
  if (snapshot_dir.empty()) return OpenFromSources(std::move(sources));
  const uint64_t key = snapshot::KeyOf(sources.knowledge, sources.rules);
  const std::string path = snapshot::PathFor(snapshot_dir, sources.knowledge_dir, sources.rules_dir);
  if (auto image = snapshot::Load(path, key); image.ok())
    return Assemble(std::move(image->kb), std::move(image->rules), std::move(sources));
  auto opened = OpenFromSources(std::move(sources));
  // Only what opened without a problem is written; a folder that cannot be written is no error.
  if (opened.ok()) (void)snapshot::Save(path, key, (*opened)->knowledge(), (*opened)->rule_base());
  return opened;
}

Result<std::unique_ptr<Pipeline>> Pipeline::Assemble(std::shared_ptr<const knowledge::KnowledgeBase> kb,
                                                     std::shared_ptr<const rules::RuleBase> rule_base,
                                                     Sources sources) {
  std::unique_ptr<Pipeline> pipeline(new Pipeline());
  pipeline->kb_ = std::move(kb);
  pipeline->rules_ = std::move(rule_base);
  pipeline->engine_ = std::make_unique<inference::Engine>(pipeline->rules_, pipeline->kb_);
  auto model = flux::Model::Build(pipeline->kb_);
  if (!model.ok()) return model.status();
  pipeline->flux_ = *model;
  pipeline->sources_ = std::move(sources);
  return pipeline;
}

Result<casefile::Case> Pipeline::ParseCase(std::string_view text, const std::string& source_name, bool strict) const {
  return ParseCase(text, source_name, strict, std::nullopt);
}

Result<casefile::Case> Pipeline::ParseCase(std::string_view text, const std::string& source_name, bool strict,
                                           const std::optional<std::string>& as_of) const {
  if (LooksLikeFhir(text)) return ParseFhirCase(text, source_name, strict, as_of);
  casefile::ParseOptions options;
  options.strict = strict;
  options.source_name = source_name;
  return casefile::ParseCase(text, *kb_, options);
}

Result<flux::FluxResult> Pipeline::ComputeFlux(const casefile::Case& c, const flux::ComputeOptions& options) const {
  return flux_->Compute(c, options);
}

Result<CaseEvaluation> Pipeline::Evaluate(std::string_view case_text, const EvaluationOptions& options) const {
  auto parsed = ParseCase(case_text, options.source_name, options.strict, options.as_of);
  if (!parsed.ok()) return parsed.status();
  return Evaluate(std::move(parsed).value(), options);
}

Result<CaseEvaluation> Pipeline::Evaluate(casefile::Case c, const EvaluationOptions& options) const {
  flux::ComputeOptions compute;
  compute.contributions = false;
  flux::CaseState state;
  auto model = flux_->Compute(c, compute, &state);
  if (!model.ok()) return model.status();
  CaseEvaluation result;
  result.parsed = std::move(c);
  result.flux_model = std::move(model).value();
  result.flux = MergeFlux(result.flux_model, options.given_flux);
  inference::EvaluateOptions engine_options = options.engine;
  engine_options.rank = false;  // ranked once, below, with the predicted effects
  result.evaluation = engine_->Evaluate(result.parsed, result.flux, engine_options);
  // Always, so that every front end (and the golden cases) sees the same order.
  std::map<std::string, PredictedEffect> effects = RankWithEffects(result.parsed, state, result.flux_model,
                                                                   DeficitIndices(result.flux), result.evaluation);
  if (options.predicted_effects) result.report = ReportOptionsFor(result, std::move(effects));
  result.report.overrides = FluxOverrides(result.flux_model, options.given_flux);
  return result;
}

report::ReportOptions Pipeline::ReportOptionsFor(const CaseEvaluation& result,
                                                 std::map<std::string, PredictedEffect>&& effects) const {
  report::ReportOptions options;
  options.flux = result.flux;
  for (const auto& p : result.flux_model.pathways) options.flux_assumed_inputs[p.pathway] = p.assumed;
  for (auto& [strategy, predicted] : effects) options.predicted_effects.emplace(strategy, std::move(predicted.changes));
  return options;
}

std::map<std::string, PredictedEffect> Pipeline::RankWithEffects(const casefile::Case& c,
                                                                 const flux::CaseState& state,
                                                                 const flux::FluxResult& before,
                                                                 const std::vector<std::string>& deficits,
                                                                 inference::Evaluation& evaluation) const {
  std::map<std::string, PredictedEffect> effects;
  std::map<std::string, safety::PredictedEffect> ranking;
  const std::vector<DeficitAt> located = LocateDeficits(deficits);
  for (const auto& strategy : evaluation.strategies)
    if (auto predicted = PredictEffect(*flux_, state, before, located, strategy.id)) {
      ranking[strategy.id] = predicted->effect;
      effects[strategy.id] = std::move(*predicted);
    }
  inference::RankStrategies(evaluation, c, *kb_, ranking);
  return effects;
}

nlohmann::ordered_json Pipeline::ReportJson(const CaseEvaluation& result) const {
  return report::EvaluationToJson(*engine_, result.parsed, result.evaluation, report::VersionsOf(*engine_),
                                  result.report);
}

std::string Pipeline::ReportText(const CaseEvaluation& result, report::TraceIdField trace_id) const {
  return report::EvaluationJsonText(*engine_, result.parsed, result.evaluation, report::VersionsOf(*engine_),
                                    result.report, trace_id);
}

Result<WhatIfResult> Pipeline::WhatIf(std::string_view before_text, std::string_view after_text,
                                      const WhatIfOptions& options) const {
  WhatIfResult out;
  auto before_case = ParseCase(before_text, options.source_name);
  if (!before_case.ok()) return before_case.status();
  auto after_case = ParseCase(after_text, options.source_name + " (with --set)");
  if (!after_case.ok()) return after_case.status();
  out.before_case = std::move(before_case).value();
  out.after_case = std::move(after_case).value();
  flux::ComputeOptions compute;
  compute.contributions = false;
  flux::CaseState before_state, after_state;
  auto before = flux_->Compute(out.before_case, compute, &before_state);
  if (!before.ok()) return before.status();
  // The after case without the applied strategies: what its predicted effects start from.
  if (auto plain_after = flux_->Compute(out.after_case, compute, &after_state); !plain_after.ok())
    return plain_after.status();
  compute.apply_strategies = options.apply_strategies;
  auto after = flux_->Compute(out.after_case, compute);
  if (!after.ok()) return after.status();
  out.before = std::move(before).value();
  out.after = std::move(after).value();
  out.before_evaluation = engine_->Evaluate(out.before_case, MergeFlux(out.before, {}));
  out.after_evaluation = engine_->Evaluate(out.after_case, MergeFlux(out.after, {}));
  RankWithEffects(out.before_case, before_state, out.before, DeficitIndices(MergeFlux(out.before, {})),
                  out.before_evaluation);
  RankWithEffects(out.after_case, after_state, out.after, DeficitIndices(MergeFlux(out.after, {})),
                  out.after_evaluation);
  out.changes = ChangedConclusions(out.before_evaluation, out.after_evaluation);
  for (const auto& strategy : options.apply_strategies)
    out.applied.push_back(SafetyVerdict(strategy, out.before_case, out.before_evaluation, *kb_));
  if (options.rank)
    RankSafely(flux_->RankStrategies(out.before_case, out.before), out.before_case, out.before_evaluation, *kb_, out);
  return out;
}

}  // namespace nflux::pipeline
