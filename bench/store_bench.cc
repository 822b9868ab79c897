// Store benchmarks (issue 11): what storing a run costs on top of evaluating it (and what of it is
// prepared on the caller's thread), `audit verify`
// over 1,000 to 100,000 stored runs, and `audit impact` over 1,000 and 10,000 stored cases.
// Each uses a real evaluation of examples/perimenopause.json (or the golden cases) under the shipped
// knowledge and rules, and a SQLite file in $TMPDIR (WAL, as the command uses it).
//
//   build/bench/nflux_store_bench --benchmark_filter=Save      (quick)
//   build/bench/nflux_store_bench                              (all; the 100,000-run setup takes minutes)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "pipeline/pipeline.h"
#include "report/report.h"
#include "store/store.h"

namespace nflux::bench {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const pipeline::Pipeline& Shipped() {
  static auto pipeline = [] {
    pipeline::Options options;
    options.knowledge_dir = std::string(NFLUX_SOURCE_DIR) + "/knowledge";
    options.rules_dir = std::string(NFLUX_SOURCE_DIR) + "/rules";
    auto opened = pipeline::Pipeline::Open(options);
    if (!opened.ok()) std::abort();
    return std::shared_ptr<pipeline::Pipeline>(std::move(opened).value());
  }();
  return *pipeline;
}

const std::string& ExampleCase() {
  static const std::string text = ReadText(std::string(NFLUX_SOURCE_DIR) + "/examples/perimenopause.json");
  return text;
}

// A fresh database file for one benchmark, removed (with its WAL) when the benchmark ends: the
// 100,000-run database takes 2.5 GB.
class BenchDatabase {
 public:
  explicit BenchDatabase(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("nflux_bench_" + std::to_string(getpid()) + "_" + name + ".db")).string()) {
    Remove();
    auto opened = store::OpenStore(path_, store::Mode::kReadWrite);
    if (!opened.ok()) std::abort();
    store_ = std::move(opened).value();
  }
  ~BenchDatabase() {
    store_.reset();
    Remove();
  }
  store::Store& operator*() { return *store_; }
  store::Store* operator->() { return store_.get(); }

 private:
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
  std::unique_ptr<store::Store> store_;
};

audit::RecordOptions Recording() {
  audit::RecordOptions options;
  options.case_id = "bench-case";
  options.actor = "bench";
  options.origin = "bench";
  return options;
}

// Parse, evaluate, report and trace JSON text: the work EvaluateAndStore does besides storing.
void BM_EvaluateWithReport(benchmark::State& state) {
  const auto& pipeline = Shipped();
  for (auto _ : state) {
    auto result = pipeline.Evaluate(ExampleCase(), {});
    if (!result.ok()) std::abort();
    auto report = pipeline.ReportText(*result);
    auto trace = result->evaluation.trace.ToJsonText();
    benchmark::DoNotOptimize(report);
    benchmark::DoNotOptimize(trace);
  }
}

// Argument 0: the example case; 1: the patient record the hook benchmark sends (a FHIR bundle).
pipeline::CaseEvaluation Evaluated(const benchmark::State& state) {
  static const std::string hook_record =
      ReadText(std::string(NFLUX_SOURCE_DIR) + "/tests/service/data/ssri-record.bundle.json");
  auto result = Shipped().Evaluate(state.range(0) == 0 ? ExampleCase() : hook_record, {});
  if (!result.ok()) std::abort();
  return std::move(result).value();
}

// What a hook call or a batch worker prepares for the store on its own thread (audit::PrepareRun):
// the report text, the trace text compressed, the normalised case; then some of its parts.
void BM_PrepareRun(benchmark::State& state) {
  const pipeline::CaseEvaluation result = Evaluated(state);
  for (auto _ : state) benchmark::DoNotOptimize(audit::PrepareRun(Shipped(), result));
}

void BM_PreparedReportText(benchmark::State& state) {
  const pipeline::CaseEvaluation result = Evaluated(state);
  for (auto _ : state) benchmark::DoNotOptimize(Shipped().ReportText(result, report::TraceIdField::kLeftEmpty));
}

void BM_TraceText(benchmark::State& state) {
  const pipeline::CaseEvaluation result = Evaluated(state);
  for (auto _ : state) benchmark::DoNotOptimize(result.evaluation.trace.ToJsonText());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * result.evaluation.trace.ToJsonText().size()));
}

void BM_CompressTrace(benchmark::State& state) {
  const std::string text = Evaluated(state).evaluation.trace.ToJsonText();
  for (auto _ : state) benchmark::DoNotOptimize(store::CompressText(text, "the trace"));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

// The same plus storing the case version (unchanged after the first) and the run.
void BM_EvaluateAndStore(benchmark::State& state) {
  const auto& pipeline = Shipped();
  BenchDatabase store("evaluate_and_store");
  for (auto _ : state) {
    auto recorded = audit::EvaluateAndStore(pipeline, *store, ExampleCase(), Recording());
    if (!recorded.ok()) state.SkipWithError(recorded.status().message().c_str());
  }
}

// A stored run of the example case, ready for SaveRun.
store::RunToStore ExampleRun(store::Store& store) {
  auto recorded = audit::EvaluateAndStore(Shipped(), store, ExampleCase(), Recording());
  if (!recorded.ok()) std::abort();
  auto run = store.GetRun(recorded->run_id);
  if (!run.ok()) std::abort();
  store::RunToStore again;
  again.case_id = run->summary.case_id;
  again.case_version = run->summary.case_version;
  again.actor = "bench";
  again.origin = "bench";
  again.engine_version = run->summary.engine_version;
  again.knowledge = {store::BundleKind::kKnowledge, run->summary.knowledge_version, {}};
  again.rules = {store::BundleKind::kRules, run->summary.rules_version, {}};
  again.options = run->options;
  again.evaluation = run->evaluation.dump();
  again.trace = store::CompressText(run->trace.dump(), "the trace").value();
  return again;
}

// SaveRun alone: compress, hash, one transaction (the bundles are already stored).
void BM_SaveRun(benchmark::State& state) {
  BenchDatabase store("save_run");
  store::RunToStore run = ExampleRun(*store);
  for (auto _ : state) {
    auto id = store->SaveRun(run);
    if (!id.ok()) state.SkipWithError(id.status().message().c_str());
  }
}

// Verify over N stored runs (set up untimed: N SaveRun calls).
void BM_Verify(benchmark::State& state) {
  BenchDatabase store("verify_" + std::to_string(state.range(0)));
  store::RunToStore run = ExampleRun(*store);
  for (int64_t i = 1; i < state.range(0); ++i)
    if (!store->SaveRun(run).ok()) std::abort();
  for (auto _ : state) {
    auto report = store->Verify();
    if (!report.ok() || !report->ok()) state.SkipWithError("verify failed");
  }
  state.counters["runs"] = static_cast<double>(state.range(0));
}

// The shipped rules without iron_repletion: a rule author's change that alters some cases.
const pipeline::Pipeline& Changed() {
  static auto pipeline = [] {
    pipeline::Sources sources = Shipped().sources();
    for (auto& file : sources.rules)
      file.text = std::regex_replace(file.text, std::regex("rule iron_repletion [^]*?\nend\n"), "");
    auto opened = pipeline::Pipeline::OpenFromSources(std::move(sources));
    if (!opened.ok()) std::abort();
    return std::shared_ptr<pipeline::Pipeline>(std::move(opened).value());
  }();
  return *pipeline;
}

// Impact over N stored cases: the golden cases, repeated under distinct ids.
void BM_Impact(benchmark::State& state) {
  std::vector<store::CaseVersion> cases;
  std::vector<std::string> texts;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(NFLUX_SOURCE_DIR) + "/rules/tests"))
    if (entry.path().string().ends_with(".case.json")) texts.push_back(ReadText(entry.path().string()));
  std::sort(texts.begin(), texts.end());
  for (int64_t i = 0; i < state.range(0); ++i)
    cases.push_back(store::CaseVersion{.case_id = "c" + std::to_string(i), .version = 1, .submitted = texts[i % texts.size()]});
  const auto& current = Shipped();
  const auto& changed = Changed();
  for (auto _ : state) {
    auto impact = audit::Impact(cases, current, changed, {.threads = 2});
    benchmark::DoNotOptimize(impact);
    state.counters["changed"] = static_cast<double>(impact.changed.size());
  }
  state.counters["cases"] = static_cast<double>(state.range(0));
}

BENCHMARK(BM_EvaluateWithReport)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateAndStore)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PrepareRun)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PreparedReportText)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TraceText)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CompressTrace)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SaveRun)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Verify)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Impact)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace nflux::bench

BENCHMARK_MAIN();
