// Flux model benchmarks: compiling the model, every pathway with contributions for one case (target < 200 µs), and the
// what-if ranking of every strategy for one case (target < 5 ms). The case is the iron- and
// B6-deficient golden case with a stressor, an SSRI and a raised cortisol added, so that many
// channels are active.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "flux/flux.h"
#include "workload.h"

namespace nflux::bench {
namespace {

casefile::Case FluxCase() {
  std::ifstream in(NFLUX_SOURCE_DIR "/rules/tests/flux_model_iron_b6_serotonin.case.json");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str());
  doc["medications"] = {{{"id", "sertraline"}}, {{"id", "omeprazole"}}};
  doc["stressors"] = {{"chronic_stress", 3}, {"inflammation", 2}};
  doc["labs"].push_back({{"test", "cortisol_am"}, {"value", 30}, {"unit", "ug/dL"}});
  return *casefile::ParseCase(doc.dump(), *RealKnowledge(), {});
}

// Compiling the model from the shipped knowledge base: once per process (every `nflux evaluate`).
void BM_FluxModelBuild(benchmark::State& state) {
  auto kb = RealKnowledge();
  for (auto _ : state) benchmark::DoNotOptimize(flux::Model::Build(kb));
}
BENCHMARK(BM_FluxModelBuild)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", Fastest);

void BM_FluxAllPathwaysWithContributions(benchmark::State& state) {
  auto model = *flux::Model::Build(RealKnowledge());
  casefile::Case c = FluxCase();
  size_t inputs = 0;
  for (auto _ : state) {
    auto result = model->Compute(c);
    inputs = result->inputs.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["inputs"] = static_cast<double>(inputs);
}
BENCHMARK(BM_FluxAllPathwaysWithContributions)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", Fastest);

void BM_FluxIndicesOnly(benchmark::State& state) {
  auto model = *flux::Model::Build(RealKnowledge());
  casefile::Case c = FluxCase();
  flux::ComputeOptions options;
  options.contributions = false;
  for (auto _ : state) benchmark::DoNotOptimize(model->Compute(c, options));
}
BENCHMARK(BM_FluxIndicesOnly)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", Fastest);

void BM_FluxWhatIfRankEveryStrategy(benchmark::State& state) {
  auto model = *flux::Model::Build(RealKnowledge());
  casefile::Case c = FluxCase();
  auto before = *model->Compute(c);
  size_t ranked = 0;
  for (auto _ : state) {
    auto ranking = model->RankStrategies(c, before);
    ranked = ranking.size();
    benchmark::DoNotOptimize(ranking);
  }
  state.counters["ranked"] = static_cast<double>(ranked);
}
BENCHMARK(BM_FluxWhatIfRankEveryStrategy)->Unit(benchmark::kMillisecond)->ComputeStatistics("min", Fastest);

}  // namespace
}  // namespace nflux::bench
