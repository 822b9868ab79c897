// Replay: a stored run evaluated again under its stored knowledge and rules, and compared.
#include "audit/audit.h"

namespace nflux::audit {
namespace {

pipeline::Sources SourcesOf(store::Bundle knowledge, store::Bundle rules, const std::string& run_name) {
  pipeline::Sources sources;
  sources.knowledge = pipeline::KnowledgeFilesOf(std::move(knowledge));
  sources.rules = pipeline::RuleFilesOf(std::move(rules));
  sources.rules_dir = run_name + " (stored rules)";
  return sources;
}

}  // namespace

Result<std::unique_ptr<pipeline::Pipeline>> OpenRunPipeline(const store::Store& store, const store::RunSummary& run) {
  std::string name = store::RunName(run.id);
  auto knowledge = store.GetBundle(store::BundleKind::kKnowledge, run.knowledge_version);
  if (!knowledge.ok()) return knowledge.status().WithContext(name);
  auto rules = store.GetBundle(store::BundleKind::kRules, run.rules_version);
  if (!rules.ok()) return rules.status().WithContext(name);
  auto opened = pipeline::Pipeline::OpenFromSources(
      SourcesOf(std::move(knowledge).value(), std::move(rules).value(), name));
  if (!opened.ok())
    return Status::InvalidArgument(name + ": the stored knowledge or rules no longer load: " +
                                   opened.status().message());
  return opened;
}

Result<EvaluationDiff> ReplayRun(const pipeline::Pipeline& pipeline, const store::RunRecord& run,
                                 const store::CaseVersion& submitted) {
  std::string name = store::RunName(run.summary.id);
  auto options = OptionsFromJson(run.options, name);
  if (!options.ok()) return options.status();
  auto evaluated = pipeline.Evaluate(submitted.submitted, *options);
  if (!evaluated.ok()) return evaluated.status().WithContext(name + ": the stored case no longer evaluates");
  nlohmann::ordered_json report = pipeline.ReportJson(*evaluated);
  report["trace_id"] = run.evaluation.is_object() ? run.evaluation.value("trace_id", name) : name;
  nlohmann::ordered_json trace = evaluated->evaluation.trace.ToJson();
  return DiffEvaluations(run.evaluation, run.trace, report, trace, name, "replay");
}

Result<ReplayResult> Replay(const store::Store& store, int64_t run_id) {
  auto run = store.GetRun(run_id);
  if (!run.ok()) return run.status();
  auto version = store.GetCaseVersion(run->summary.case_id, run->summary.case_version);
  if (!version.ok()) return version.status().WithContext(store::RunName(run_id));
  auto pipeline = OpenRunPipeline(store, run->summary);
  if (!pipeline.ok()) return pipeline.status();
  auto diff = ReplayRun(**pipeline, *run, *version);
  if (!diff.ok()) return diff.status();
  return ReplayResult{run->summary, std::move(diff).value()};
}

}  // namespace nflux::audit
