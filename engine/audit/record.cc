// Recording: storing case versions and evaluated runs.
#include <algorithm>
#include <utility>

#include "audit/audit.h"
#include "base/fast_json.h"
#include "base/sha256.h"
#include "base/text.h"

#ifndef NFLUX_VERSION
#define NFLUX_VERSION "0.0.0"
#endif

namespace nflux::audit {
namespace {

struct ParsedAndStored {
  casefile::Case parsed;
  StoredCase stored;
};

store::Store::AddOptions AddOptionsFor(StoreMode mode) {
  store::Store::AddOptions add;
  add.only_if_new_case = mode == StoreMode::kAdd;
  add.only_if_existing = mode == StoreMode::kEdit;
  return add;
}

// The latest version when its text is `text` (kEdit, kVisit); nullopt when a version must be stored.
Result<std::optional<store::CaseVersion>> SameLatest(const store::Store& store, const std::string& case_id,
                                                     std::string_view text, StoreMode mode) {
  if (mode == StoreMode::kAdd) return std::optional<store::CaseVersion>();
  auto latest = store.GetCaseVersion(case_id, 0);
  if (!latest.ok()) {
    if (latest.status().code() == Status::Code::kNotFound) return std::optional<store::CaseVersion>();
    return latest.status();
  }
  if (latest->submitted != text) return std::optional<store::CaseVersion>();
  return std::optional<store::CaseVersion>(std::move(latest).value());
}

// CaseIdFor (audit.h) from the case's own case_id rather than the case.
std::string CaseIdOf(const std::string& own_id, std::string_view text, const std::string& explicit_id) {
  if (!explicit_id.empty()) return explicit_id;
  if (!own_id.empty()) return own_id;
  return "case-" + Sha256Hex(text).substr(0, 12);
}

// Stores `text` (already parsed) as the mode says: nothing when it is the latest version (kEdit, kVisit).
// `own_id`: the parsed case's case_id; `normalised()`: its CaseToJson text, asked for only when a
// version is stored.
template <typename Normalised>
Result<StoredCase> StoreCaseVersion(store::Store& store, const std::string& own_id, std::string_view text,
                                    const CaseStoreOptions& options, Normalised normalised) {
  std::string case_id = CaseIdOf(own_id, text, options.case_id);
  auto same = SameLatest(store, case_id, text, options.mode);
  if (!same.ok()) return same.status();
  if (*same) return StoredCase{std::move(**same), false};
  store::CaseVersion version;
  version.case_id = case_id;
  version.actor = options.actor;
  version.submitted = std::string(text);
  version.normalised = normalised();
  auto added = store.AddCaseVersion(version, AddOptionsFor(options.mode));
  if (!added.ok()) return added.status();
  return StoredCase{std::move(added).value(), true};
}

Result<StoredCase> StoreParsed(store::Store& store, const casefile::Case& parsed, std::string_view text,
                               const CaseStoreOptions& options) {
  return StoreCaseVersion(store, parsed.case_id, text, options, [&] { return casefile::CaseToJsonText(parsed); });
}

// Parses first (nothing is written for a bad case), then stores as the mode says.
Result<ParsedAndStored> ParseAndStore(const pipeline::Pipeline& pipeline, store::Store& store, std::string_view text,
                                      const CaseStoreOptions& options) {
  auto parsed = pipeline.ParseCase(text, options.source_name, options.strict);
  if (!parsed.ok()) return parsed.status();
  auto stored = StoreParsed(store, *parsed, text, options);
  if (!stored.ok()) return stored.status();
  return ParsedAndStored{std::move(parsed).value(), std::move(stored).value()};
}

nlohmann::ordered_json FluxToJson(const inference::FluxValues& flux) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [key, value] : flux.values) out[key] = value;
  nlohmann::ordered_json assumed = nlohmann::ordered_json::array();
  for (const auto& [key, is_assumed] : flux.assumed)
    if (is_assumed) assumed.push_back(key);
  if (!assumed.empty()) out["assumed"] = assumed;
  return out;
}

}  // namespace

std::string CaseIdFor(const casefile::Case& parsed, std::string_view text, const std::string& explicit_id) {
  return CaseIdOf(parsed.case_id, text, explicit_id);
}

Result<StoredCase> StoreCase(const pipeline::Pipeline& pipeline, store::Store& store, std::string_view text,
                             const CaseStoreOptions& options) {
  auto done = ParseAndStore(pipeline, store, text, options);
  if (!done.ok()) return done.status();
  return std::move(done->stored);
}

RunBundles BundlesOf(const pipeline::Pipeline& pipeline) {
  const pipeline::Sources& sources = pipeline.sources();
  RunBundles out;
  out.knowledge.kind = store::BundleKind::kKnowledge;
  out.knowledge.version = pipeline.knowledge().version();
  for (const auto& file : sources.knowledge)
    out.knowledge.files.push_back({pipeline::RelativeName(file, sources.knowledge_dir), file.text});
  out.rules.kind = store::BundleKind::kRules;
  out.rules.version = pipeline.rule_base().version;
  for (const auto& source : sources.rules)
    out.rules.files.push_back({source.name.empty() ? source.path : source.name, source.text});
  return out;
}

nlohmann::ordered_json OptionsToJson(const pipeline::EvaluationOptions& options) {
  nlohmann::ordered_json out = {{"strict", options.strict},
                                {"source_name", options.source_name},
                                {"predicted_effects", options.predicted_effects},
                                {"run_limit", options.engine.run_limit}};
  if (!options.given_flux.values.empty() || !options.given_flux.assumed.empty())
    out["flux"] = FluxToJson(options.given_flux);
  return out;
}

Result<pipeline::EvaluationOptions> OptionsFromJson(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object()) return Status::InvalidArgument(source + ": options: expected an object");
  pipeline::EvaluationOptions options;
  try {
    options.strict = json.value("strict", false);
    options.source_name = json.value("source_name", std::string());
    options.predicted_effects = json.value("predicted_effects", true);
    options.engine.run_limit = json.value("run_limit", options.engine.run_limit);
  } catch (const nlohmann::json::exception& error) {
    return Status::InvalidArgument(source + ": options: " + error.what());
  }
  if (json.contains("flux")) {
    auto flux = pipeline::FluxFromJson(json["flux"], source + ": options /flux");
    if (!flux.ok()) return flux.status();
    options.given_flux = std::move(flux).value();
  }
  return options;
}

namespace {

// The pipeline's bundles, their files left out when the store already has that version.
Result<RunBundles> BundlesToStore(const pipeline::Pipeline& pipeline, store::Store& store) {
  auto has_knowledge = store.HasBundle(store::BundleKind::kKnowledge, pipeline.knowledge().version());
  if (!has_knowledge.ok()) return has_knowledge.status();
  auto has_rules = store.HasBundle(store::BundleKind::kRules, pipeline.rule_base().version);
  if (!has_rules.ok()) return has_rules.status();
  if (*has_knowledge && *has_rules)
    return RunBundles{{store::BundleKind::kKnowledge, pipeline.knowledge().version(), {}},
                      {store::BundleKind::kRules, pipeline.rule_base().version, {}}};
  return BundlesOf(pipeline);
}

Result<store::CompressedText> CompressedTrace(const pipeline::CaseEvaluation& result,
                                              std::shared_ptr<const store::CompressionDictionary> dictionary = nullptr) {
  return store::CompressText(result.evaluation.trace.ToJsonText(), "the trace", std::move(dictionary));
}

// The run evaluated from `version`, with its report text and compressed trace, stored; returns the run id.
Result<int64_t> SaveRunOf(const pipeline::Pipeline& pipeline, store::Store& store, const store::CaseVersion& version,
                          std::string report, store::CompressedText trace, const RecordOptions& options) {
  auto bundles = BundlesToStore(pipeline, store);
  if (!bundles.ok()) return bundles.status();
  return store.SaveRun({version.case_id, version.version, options.actor, options.origin, NFLUX_VERSION,
                        std::move(bundles->knowledge), std::move(bundles->rules), OptionsToJson(options.evaluation),
                        std::move(report), std::move(trace), options.hook_instance, options.hook_cards,
                        pipeline.sources().release_id});
}

// Evaluates the parsed case of `version` and stores the run.
Result<Recorded> EvaluateParsedAndStore(const pipeline::Pipeline& pipeline, store::Store& store,
                                        store::CaseVersion version, casefile::Case parsed, const RecordOptions& options) {
  auto evaluated = pipeline.Evaluate(std::move(parsed), options.evaluation);
  if (!evaluated.ok()) return evaluated.status();
  Recorded out{std::move(version), 0, std::move(evaluated).value(), {}};
  std::string report = pipeline.ReportText(out.result, report::TraceIdField::kLeftEmpty);
  auto trace = CompressedTrace(out.result);
  if (!trace.ok()) return trace.status();
  out.report = ParseWrittenJson(report);
  auto id = SaveRunOf(pipeline, store, out.case_version, std::move(report), std::move(trace).value(), options);
  if (!id.ok()) return id.status();
  out.run_id = *id;
  out.report["trace_id"] = store::RunName(out.run_id);
  return out;
}

}  // namespace

Result<Recorded> EvaluateAndStore(const pipeline::Pipeline& pipeline, store::Store& store, std::string_view text,
                                  const RecordOptions& options) {
  CaseStoreOptions case_options{options.case_id, options.evaluation.source_name, StoreMode::kVisit, options.actor,
                                options.evaluation.strict};
  auto done = ParseAndStore(pipeline, store, text, case_options);
  if (!done.ok()) return done.status();
  return EvaluateParsedAndStore(pipeline, store, std::move(done->stored.version), std::move(done->parsed), options);
}

Result<Recorded> EvaluateStoredAndStore(const pipeline::Pipeline& pipeline, store::Store& store,
                                        const store::CaseVersion& version, const RecordOptions& options) {
  auto parsed = pipeline.ParseCase(version.submitted, options.evaluation.source_name, options.evaluation.strict);
  if (!parsed.ok()) return parsed.status();
  return EvaluateParsedAndStore(pipeline, store, version, std::move(parsed).value(), options);
}

Result<PreparedRun> PrepareRun(const pipeline::Pipeline& pipeline, const pipeline::CaseEvaluation& result,
                               std::shared_ptr<const store::CompressionDictionary> dictionary) {
  PreparedRun out;
  out.report = pipeline.ReportText(result, report::TraceIdField::kLeftEmpty);
  auto trace = CompressedTrace(result, std::move(dictionary));
  if (!trace.ok()) return trace.status();
  out.trace = std::move(trace).value();
  out.normalised = casefile::CaseToJsonText(result.parsed);
  out.own_case_id = result.parsed.case_id;
  return out;
}

Result<std::shared_ptr<const store::CompressionDictionary>> SaveDictionaryFor(
    const pipeline::Pipeline& pipeline, store::Store& store, const std::vector<std::string_view>& case_texts,
    const RecordOptions& options) {
  std::string reports, traces;
  size_t cases = 0;
  for (std::string_view text : case_texts) {
    if (cases == kDictionaryReports) break;
    // A case that does not parse or evaluate is the batch's to report, not the dictionary's.
    auto parsed = pipeline.ParseCase(text, options.evaluation.source_name, options.evaluation.strict);
    if (!parsed.ok()) continue;
    auto result = pipeline.Evaluate(std::move(parsed).value(), options.evaluation);
    if (!result.ok()) continue;
    reports += pipeline.ReportText(*result, report::TraceIdField::kLeftEmpty);
    if (cases < kDictionaryTraces) traces += result->evaluation.trace.ToJsonText();
    ++cases;
  }
  if (cases == 0) return std::shared_ptr<const store::CompressionDictionary>();
  return store.SaveDictionary(reports + traces, options.actor);
}

Result<StoredRun> StoreEvaluation(const pipeline::Pipeline& pipeline, store::Store& store, std::string_view text,
                                  PreparedRun prepared, const RecordOptions& options) {
  CaseStoreOptions case_options{options.case_id, options.evaluation.source_name, StoreMode::kVisit, options.actor,
                                options.evaluation.strict};
  auto stored = StoreCaseVersion(store, prepared.own_case_id, text, case_options,
                                 [&] { return std::move(prepared.normalised); });
  if (!stored.ok()) return stored.status();
  auto id = SaveRunOf(pipeline, store, stored->version, std::move(prepared.report), std::move(prepared.trace), options);
  if (!id.ok()) return id.status();
  return StoredRun{std::move(stored->version), *id};
}

Result<std::vector<store::CaseVersion>> LatestCaseVersions(const store::Store& store) {
  auto cases = store.ListCases();
  if (!cases.ok()) return cases.status();
  std::vector<store::CaseVersion> out;
  for (const auto& summary : *cases) {
    auto latest = store.GetCaseVersion(summary.case_id, 0);
    if (!latest.ok()) return latest.status();
    out.push_back(std::move(latest).value());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.case_id < b.case_id; });
  return out;
}

}  // namespace nflux::audit
