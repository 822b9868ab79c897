// Rule engine benchmarks: load-and-check time and per-case evaluation time for synthetic rule
// bases of 100, 1,000 and 10,000 rules. Counters: rules considered per case (the index at work)
// and the resident memory of the loaded rule base.
#include <benchmark/benchmark.h>

#include <fstream>

#include "inference/inference.h"
#include "workload.h"

namespace nflux::bench {
namespace {

long ResidentKilobytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

void BM_LoadAndCheckRules(benchmark::State& state) {
  auto kb = RealKnowledge();
  auto sources = GenerateRules(*kb, static_cast<int>(state.range(0)), 7);
  for (auto _ : state) {
    auto loaded = rules::LoadRules(sources, *kb);
    if (!loaded.errors.empty()) {
      state.SkipWithError(loaded.errors.front().ToString().c_str());
      break;
    }
    inference::Engine engine(loaded.rules, kb);
    benchmark::DoNotOptimize(engine);
  }
  state.counters["rules"] = static_cast<double>(state.range(0));
}

void Evaluate(benchmark::State& state, bool trace) {
  auto kb = RealKnowledge();
  long before = ResidentKilobytes();
  auto loaded = rules::LoadRules(GenerateRules(*kb, static_cast<int>(state.range(0)), 7), *kb);
  if (!loaded.errors.empty()) {
    state.SkipWithError(loaded.errors.front().ToString().c_str());
    return;
  }
  inference::Engine engine(loaded.rules, kb);
  long after = ResidentKilobytes();
  auto cases = GenerateCases(*kb, 256, 11);
  inference::EvaluateOptions options;
  options.trace = trace;
  size_t next = 0;
  double considered = 0, fired = 0;
  for (auto _ : state) {
    auto evaluation = engine.Evaluate(cases[next], {}, options);
    considered += evaluation.trace.considered;
    fired += evaluation.trace.firings;
    benchmark::DoNotOptimize(evaluation);
    next = (next + 1) % cases.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["cases_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["considered"] = considered / static_cast<double>(state.iterations());
  state.counters["fired"] = fired / static_cast<double>(state.iterations());
  state.counters["rule_base_kB"] = static_cast<double>(after - before);
}

void BM_EvaluateCase(benchmark::State& state) { Evaluate(state, false); }
void BM_EvaluateCaseWithTrace(benchmark::State& state) { Evaluate(state, true); }

BENCHMARK(BM_LoadAndCheckRules)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateCase)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EvaluateCaseWithTrace)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nflux::bench

BENCHMARK_MAIN();
