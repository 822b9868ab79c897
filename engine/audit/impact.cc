// Impact: every stored case evaluated under the current and a changed knowledge or rule base, in
// parallel; the cases whose conclusions would change.
#include <atomic>
#include <cmath>
#include <thread>

#include "audit/audit.h"

namespace nflux::audit {
namespace {

using ordered_json = nlohmann::ordered_json;

double Round3(double value) { return std::round(value * 1000.0) / 1000.0; }

ordered_json StrategiesJson(const std::vector<inference::StrategyResult>& strategies) {
  ordered_json out = ordered_json::array();
  int rank = 0;
  for (const auto& strategy : strategies)
    out.push_back({{"id", strategy.id}, {"verdict", std::string(inference::VerdictName(strategy.verdict))},
                   {"rank", ++rank}});
  return out;
}

// What one case concluded under one pipeline, or why it could not be evaluated.
Result<ordered_json> Conclude(const pipeline::Pipeline& pipeline, const store::CaseVersion& version) {
  pipeline::EvaluationOptions options;
  options.source_name = "case " + version.case_id + " version " + std::to_string(version.version);
  options.engine.trace = false;  // impact compares conclusions only; the trace is most of the cost
  auto evaluated = pipeline.Evaluate(version.submitted, options);
  if (!evaluated.ok()) return evaluated.status();
  return ConclusionsJson(evaluated->evaluation);
}

ImpactCase CompareCase(const store::CaseVersion& version, const pipeline::Pipeline& current,
                       const pipeline::Pipeline& changed) {
  ImpactCase out{version.case_id, version.version, {}, ""};  // most cases do not change: no diff
  auto before = Conclude(current, version);
  auto after = Conclude(changed, version);
  if (!before.ok()) out.error = "current: " + before.status().message();
  else if (!after.ok()) out.error = "changed: " + after.status().message();
  else if (*before != *after) out.change = DiffEvaluations(*before, nullptr, *after, nullptr, "current", "changed");
  return out;
}

// Runs `work(i)` for every i < count on `threads` threads, each pulling the next index.
template <typename Work>
void ForEachIndex(size_t count, int threads, const Work& work) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++) work(i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(threads, 1); ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
}

}  // namespace

ordered_json ConclusionsJson(const inference::Evaluation& evaluation) {
  ordered_json alerts = ordered_json::array(), deficits = ordered_json::array();
  for (const auto& alert : evaluation.alerts)
    alerts.push_back({{"id", alert.id}, {"severity", std::string(Name(alert.severity))}});
  for (const auto& [id, deficit] : evaluation.deficits)
    if (deficit.certainty > 0) deficits.push_back({{"id", id}, {"certainty", Round3(deficit.certainty)}});
  ordered_json drivers = ordered_json::array();
  for (const auto& [id, driver] : evaluation.drivers)
    if (driver.certainty > 0) drivers.push_back({{"id", id}});
  ordered_json blocked = ordered_json::array(), requested = ordered_json::array();
  for (const auto& strategy : evaluation.blocked) blocked.push_back({{"id", strategy.id}});
  for (const auto& strategy : evaluation.requested)
    requested.push_back({{"id", strategy.id}, {"verdict", std::string(inference::VerdictName(strategy.verdict))}});
  return {{"alerts", alerts},
          {"deficits", deficits},
          {"strategies", StrategiesJson(evaluation.strategies)},
          {"blocked_strategies", blocked},
          {"requested_supplements", requested},
          {"drivers", drivers}};
}

ImpactReport Impact(const std::vector<store::CaseVersion>& cases, const pipeline::Pipeline& current,
                    const pipeline::Pipeline& changed, const ImpactOptions& options) {
  int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  std::vector<ImpactCase> results(cases.size());
  ForEachIndex(cases.size(), threads, [&](size_t i) { results[i] = CompareCase(cases[i], current, changed); });
  ImpactReport report;
  report.cases = static_cast<int>(cases.size());
  for (auto& result : results) {
    if (!result.error.empty()) report.failed.push_back(std::move(result));
    else if (result.change.ConclusionsDiffer()) report.changed.push_back(std::move(result));
  }
  auto by_id = [](const ImpactCase& a, const ImpactCase& b) { return a.case_id < b.case_id; };
  std::stable_sort(report.changed.begin(), report.changed.end(), by_id);
  std::stable_sort(report.failed.begin(), report.failed.end(), by_id);
  return report;
}

}  // namespace nflux::audit
