// Rule engine benchmarks: load-and-check time and per-case evaluation time for synthetic rule
// bases of 100, 1,000 and 10,000 rules. Counters: rules considered per case (the index at work)
// and the heap memory of the loaded rule base (rules, compiled index).
#include <benchmark/benchmark.h>

#include <malloc.h>
#ifdef NFLUX_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <memory>

#include "inference/inference.h"
#include "workload.h"

namespace nflux::bench {
namespace {

// Bytes the heap holds right now; the difference around loading is the rule base's memory (the
// resident set size is too coarse: freed pages of earlier benchmarks get reused).
long HeapBytesInUse() {
#ifdef NFLUX_JEMALLOC
  uint64_t epoch = 1;  // refreshes jemalloc's statistics
  size_t size = sizeof epoch;
  mallctl("epoch", &epoch, &size, &epoch, size);
  size_t allocated = 0;
  size = sizeof allocated;
  mallctl("stats.allocated", &allocated, &size, nullptr, 0);
  return static_cast<long>(allocated);
#else
  return static_cast<long>(mallinfo2().uordblks);
#endif
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
    auto engine = std::make_unique<inference::Engine>(loaded.rules, kb);
    benchmark::DoNotOptimize(engine);
    // Freeing the rule base is not loading it: a CLI run or server never waits for it.
    state.PauseTiming();
    engine.reset();
    loaded = {};
    state.ResumeTiming();
  }
  state.counters["rules"] = static_cast<double>(state.range(0));
}

// Evaluates the generated cases on `sources`, one case per iteration.
void Evaluate(benchmark::State& state, const std::vector<rules::RuleSource>& sources,
              const std::vector<casefile::Case>& cases, bool trace) {
  auto kb = RealKnowledge();
  long before = HeapBytesInUse();
  auto loaded = rules::LoadRules(sources, *kb);
  if (!loaded.errors.empty()) {
    state.SkipWithError(loaded.errors.front().ToString().c_str());
    return;
  }
  inference::Engine engine(loaded.rules, kb);
  long after = HeapBytesInUse();
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
  state.counters["rule_base_kB"] = static_cast<double>(after - before) / 1024.0;
}

void Evaluate(benchmark::State& state, bool trace) {
  auto kb = RealKnowledge();
  Evaluate(state, GenerateRules(*kb, static_cast<int>(state.range(0)), 7), GenerateCases(*kb, 256, 11), trace);
}

void BM_EvaluateCase(benchmark::State& state) { Evaluate(state, false); }
void BM_EvaluateCaseWithTrace(benchmark::State& state) { Evaluate(state, true); }

// 1,000 rules that can match the cases plus N that never can (they test symptoms and labs the
// cases do not have): the cost per case should not grow with N.
void BM_EvaluateCaseWithInertRules(benchmark::State& state) {
  auto kb = RealKnowledge();
  auto sources = GenerateRules(*kb, 1000, 7, IdHalf::kFirst, "live");
  auto inert = GenerateRules(*kb, static_cast<int>(state.range(0)), 13, IdHalf::kSecond, "inert");
  sources.insert(sources.end(), inert.begin(), inert.end());
  Evaluate(state, sources, GenerateCases(*kb, 256, 11, IdHalf::kFirst), false);
}

// Parsing the generated case texts (about 8 symptoms, 6 labs, a questionnaire, 1-2 medications):
// the parse half of the CLIPS comparison's "case text to conclusions".
void BM_ParseGeneratedCase(benchmark::State& state) {
  auto kb = RealKnowledge();
  const std::vector<std::string> texts = GenerateCaseTexts(*kb, 256, 11);
  size_t next = 0;
  for (auto _ : state) {
    auto parsed = casefile::ParseCase(texts[next], *kb, {});
    if (!parsed.ok()) {
      state.SkipWithError(parsed.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed);
    next = (next + 1) % texts.size();
  }
}

BENCHMARK(BM_ParseGeneratedCase)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LoadAndCheckRules)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->ComputeStatistics("min", Fastest);
BENCHMARK(BM_EvaluateCase)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", Fastest);
BENCHMARK(BM_EvaluateCaseWithTrace)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", Fastest);
BENCHMARK(BM_EvaluateCaseWithInertRules)->Arg(0)->Arg(9000)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", Fastest);

}  // namespace
}  // namespace nflux::bench

BENCHMARK_MAIN();
