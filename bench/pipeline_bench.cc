// The per-case path of every front end, step by step, on the shipped knowledge and rules: parsing
// a case, evaluating it (flux, inference, predicted effects), building the evaluation JSON and
// writing it. What `nflux batch` pays per case, and where a whole `nflux evaluate` spends its time.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "base/text.h"
#include "pipeline/pipeline.h"

namespace nflux::bench {
namespace {

const pipeline::Pipeline& Shipped() {
  static const std::shared_ptr<pipeline::Pipeline> shipped = [] {
    pipeline::Options options;
    options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
    options.rules_dir = NFLUX_SOURCE_DIR "/rules";
    auto opened = pipeline::Pipeline::Open(options);
    if (!opened.ok()) std::abort();
    return std::shared_ptr<pipeline::Pipeline>(std::move(opened).value());
  }();
  return *shipped;
}

// A case of 27 labs and symptoms (the golden case with the most).
std::string CaseText() {
  auto text = ReadFileToString(NFLUX_SOURCE_DIR "/rules/tests/healthy_control_older.case.json");
  if (!text.ok()) std::abort();
  return *text;
}

void BM_OpenShippedPipeline(benchmark::State& state) {
  pipeline::Options options;
  options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
  options.rules_dir = NFLUX_SOURCE_DIR "/rules";
  for (auto _ : state) benchmark::DoNotOptimize(pipeline::Pipeline::Open(options));
}
BENCHMARK(BM_OpenShippedPipeline)->Unit(benchmark::kMillisecond);

// The same from the compiled snapshot (engine/snapshot), written by the first open.
void BM_OpenShippedPipelineFromSnapshot(benchmark::State& state) {
  pipeline::Options options;
  options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
  options.rules_dir = NFLUX_SOURCE_DIR "/rules";
  options.snapshot_dir = (std::filesystem::temp_directory_path() / ("nflux_bench_snapshot_" + std::to_string(getpid()))).string();
  if (!pipeline::Pipeline::Open(options).ok()) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(pipeline::Pipeline::Open(options));
  std::filesystem::remove_all(options.snapshot_dir);
}
BENCHMARK(BM_OpenShippedPipelineFromSnapshot)->Unit(benchmark::kMillisecond);

void BM_ParseCase(benchmark::State& state) {
  const auto& shipped = Shipped();
  std::string text = CaseText();
  for (auto _ : state) benchmark::DoNotOptimize(shipped.ParseCase(text, "case.json"));
}
BENCHMARK(BM_ParseCase)->Unit(benchmark::kMicrosecond);

void BM_EvaluateCase(benchmark::State& state) {
  const auto& shipped = Shipped();
  auto parsed = shipped.ParseCase(CaseText(), "case.json");
  pipeline::EvaluationOptions options;
  options.engine.trace = state.range(0) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(shipped.Evaluate(*parsed, options));
}
BENCHMARK(BM_EvaluateCase)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_ReportJson(benchmark::State& state) {
  const auto& shipped = Shipped();
  pipeline::EvaluationOptions options;
  options.engine.trace = false;
  auto evaluated = shipped.Evaluate(CaseText(), options);
  for (auto _ : state) benchmark::DoNotOptimize(shipped.ReportJson(*evaluated).dump());
}
BENCHMARK(BM_ReportJson)->Unit(benchmark::kMicrosecond);

// The evaluation JSON written straight as text (what batch and evaluate print).
void BM_ReportText(benchmark::State& state) {
  const auto& shipped = Shipped();
  pipeline::EvaluationOptions options;
  options.engine.trace = false;
  auto evaluated = shipped.Evaluate(CaseText(), options);
  for (auto _ : state) benchmark::DoNotOptimize(shipped.ReportText(*evaluated));
}
BENCHMARK(BM_ReportText)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nflux::bench

BENCHMARK_MAIN();
