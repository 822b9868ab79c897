// NeuroFlux side by side with CLIPS 6.30 built with -O3 (README "Against CLIPS"), on the same
// generated rules (bench/workload.h) translated into CLIPS (clips_translate.h) and the same cases.
// Run: scripts/bench-clips  (fetches CLIPS, builds, runs this, prints a markdown table).
//
// First it checks that both engines conclude the same facts and deficits, with the same
// certainties, on every case (through both CLIPS entry points); any difference aborts with the
// case and the conclusions that differ. Then it measures, interleaving the two engines round by
// round (the machine is shared and noisy) and reporting the median and the fastest round; a
// round of a per-case measure times passes over the cases after an untimed, warming one:
//  - evaluation alone: NeuroFlux Engine::Evaluate without trace on a prepared case (its data
//    resolved to the engine's working memory beforehand, Engine::Prepare), vs CLIPS reset, assert
//    the case's facts through the C API (symbols interned beforehand), run;
//  - evaluation of a parsed case: the same, NeuroFlux from the parsed case (resolving its data
//    inside the timed evaluation), for comparison with the figures before Engine::Prepare;
//  - case text to conclusions: NeuroFlux ParseCase of the JSON + Evaluate, vs CLIPS reset,
//    assert-string of each fact, run;
//  - rule loading: NeuroFlux LoadRules + Engine (index compiled), vs a CLIPS load of the
//    constructs from text into a cleared environment.
#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "clips_shim.h"
#include "clips_translate.h"
#include "inference/inference.h"
#include "workload.h"

namespace nflux::bench {
namespace {

using Conclusions = std::map<std::string, double>;  // "fact:ID" / "deficit:ID" -> certainty

struct Options {
  std::vector<int> sizes = {100, 1000, 10000};
  int cases = 256;
  int rounds = 11;
  std::string constructs_dir;  // when set: write each size's rules in both languages there
  std::string only;            // when set: only the measure whose name starts with it (for profiling)
};

// One rule base of one size, loaded in both engines, and the cases in every form they take.
struct Setup {
  int size = 0;
  std::vector<rules::RuleSource> sources;
  std::unique_ptr<inference::Engine> engine;
  std::string constructs;  // the CLIPS translation
  ClipsShim* clips = nullptr;
  ClipsShim* loader = nullptr;  // a second environment for the loading measurement
  std::vector<std::string> texts;  // case JSON
  std::vector<casefile::Case> cases;
  std::vector<inference::PreparedCase> prepared_cases;  // the cases resolved for `engine` (Engine::Prepare)
  std::vector<std::unique_ptr<clips::CaseFacts>> facts;
  std::vector<ClipsPreparedCase*> prepared;

  Setup() = default;
  Setup(const Setup&) = delete;
  Setup& operator=(const Setup&) = delete;
  ~Setup() {
    for (auto* p : prepared) ClipsFreePrepared(clips, p);
    if (clips) ClipsDestroy(clips);
    if (loader) ClipsDestroy(loader);
  }
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "bench-clips: %s\n", message.c_str());
  std::exit(1);
}

std::unique_ptr<inference::Engine> LoadNeuroFlux(const std::vector<rules::RuleSource>& sources) {
  auto kb = RealKnowledge();
  auto loaded = rules::LoadRules(sources, *kb);
  if (!loaded.errors.empty()) Fail("generated rules do not load: " + loaded.errors.front().ToString());
  return std::make_unique<inference::Engine>(loaded.rules, kb);
}

void LoadClips(ClipsShim* shim, const std::string& constructs) {
  if (ClipsLoad(shim, constructs.c_str()) != 0) Fail(std::string("CLIPS does not load the translation:\n") + ClipsOutput(shim));
}

std::unique_ptr<Setup> Prepare(int size, const Options& options) {
  auto kb = RealKnowledge();
  auto setup = std::make_unique<Setup>();
  setup->size = size;
  setup->sources = GenerateRules(*kb, size, 7);
  setup->engine = LoadNeuroFlux(setup->sources);
  setup->constructs = clips::TranslateRules(setup->engine->rule_base());
  if (!options.constructs_dir.empty()) {  // both forms, for reading side by side
    std::ofstream(options.constructs_dir + "/rules-" + std::to_string(size) + ".clp") << setup->constructs;
    std::ofstream rules(options.constructs_dir + "/rules-" + std::to_string(size) + ".rules");
    for (const auto& source : setup->sources) rules << source.text;
  }
  setup->clips = ClipsCreate();
  setup->loader = ClipsCreate();
  LoadClips(setup->clips, setup->constructs);
  for (auto& text : GenerateCaseTexts(*kb, options.cases, 11)) {
    auto parsed = casefile::ParseCase(text, *kb, {});
    if (!parsed.ok()) continue;  // as GenerateCases: the generator may draw an impossible case
    setup->texts.push_back(std::move(text));
    setup->cases.push_back(std::move(*parsed));
    setup->prepared_cases.push_back(setup->engine->Prepare(setup->cases.back()));
    setup->facts.push_back(clips::TranslateCase(setup->cases.back()));
    const auto& specs = setup->facts.back()->specs;
    setup->prepared.push_back(ClipsPrepare(setup->clips, specs.data(), specs.size()));
  }
  return setup;
}

Conclusions NeuroFluxConclusions(const inference::Evaluation& evaluation) {
  Conclusions conclusions;
  for (const auto& [id, conclusion] : evaluation.facts) conclusions["fact:" + id] = conclusion.certainty;
  for (const auto& [id, conclusion] : evaluation.deficits) conclusions["deficit:" + id] = conclusion.certainty;
  return conclusions;
}

Conclusions ClipsConclusionsOf(ClipsShim* shim) {
  Conclusions conclusions;
  ClipsConclusions(
      shim,
      [](void* context, const ClipsConclusion* c) {
        (*static_cast<Conclusions*>(context))[std::string(c->deficit ? "deficit:" : "fact:") + c->id] = c->certainty;
      },
      &conclusions);
  return conclusions;
}

std::string Describe(const Conclusions& conclusions) {
  std::string text;
  for (const auto& [id, certainty] : conclusions) {
    char number[32];
    std::snprintf(number, sizeof number, "%.6f", certainty);
    text += "    " + id + " " + number + "\n";
  }
  return text.empty() ? "    (none)\n" : text;
}

// Same ids, same certainties (to 1e-9: the two engines combine evidence in different orders).
void CheckSame(const Setup& setup, size_t index, const Conclusions& ours, const Conclusions& theirs, const char* how) {
  bool same = ours.size() == theirs.size();
  for (auto a = ours.begin(), b = theirs.begin(); same && a != ours.end(); ++a, ++b)
    same = a->first == b->first && std::fabs(a->second - b->second) <= 1e-9;
  if (same) return;
  Conclusions only_ours, only_theirs;
  for (const auto& [id, certainty] : ours)
    if (!theirs.count(id) || std::fabs(theirs.at(id) - certainty) > 1e-9) only_ours[id] = certainty;
  for (const auto& [id, certainty] : theirs)
    if (!ours.count(id) || std::fabs(ours.at(id) - certainty) > 1e-9) only_theirs[id] = certainty;
  Fail("conclusions differ at " + std::to_string(setup.size) + " rules, case " + setup.cases[index].case_id + " (CLIPS " +
       how + "):\n  NeuroFlux only or different:\n" + Describe(only_ours) + "  CLIPS only or different:\n" +
       Describe(only_theirs));
}

struct CheckCounts {
  long facts = 0, deficits = 0, capped = 0;
};

CheckCounts CheckEquivalence(const Setup& setup) {
  inference::EvaluateOptions options;
  options.trace = false;
  CheckCounts counts;
  for (size_t i = 0; i < setup.cases.size(); ++i) {
    auto evaluation = setup.engine->Evaluate(setup.cases[i], {}, options);
    for (const auto& [id, deficit] : evaluation.deficits) counts.capped += !deficit.calibration.empty();
    auto ours = NeuroFluxConclusions(evaluation);
    if (NeuroFluxConclusions(setup.engine->Evaluate(setup.prepared_cases[i], {}, options)) != ours)
      Fail("the prepared case concludes otherwise than its case: " + setup.cases[i].case_id);
    if (ClipsRunStrings(setup.clips, setup.facts[i]->string_pointers.data(), setup.facts[i]->strings.size()) < 0)
      Fail("CLIPS rejects a fact of case " + setup.cases[i].case_id);
    CheckSame(setup, i, ours, ClipsConclusionsOf(setup.clips), "assert-string");
    ClipsRunPrepared(setup.clips, setup.prepared[i]);
    CheckSame(setup, i, ours, ClipsConclusionsOf(setup.clips), "C API");
    for (const auto& [id, certainty] : ours) (id.rfind("fact:", 0) == 0 ? counts.facts : counts.deficits)++;
  }
  return counts;
}

// CPU time of this thread (Google Benchmark's "CPU" column): on a shared machine, the time other
// tenants hold the core is not counted, though their effect on the caches still is.
double ThreadSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

template <typename F>
double Seconds(F&& work) {
  double start = ThreadSeconds();
  work();
  return ThreadSeconds() - start;
}

// A round of a per-case measure times whole passes over the cases after an untimed one: the
// measure before it (the other engine, a rule base loaded and freed) leaves the caches cold, and
// one pass of a fast engine would time mostly that. Timed passes repeat until the round has run
// kMinRoundSeconds; both engines are measured alike. Returns microseconds per case.
constexpr double kMinRoundSeconds = 0.01;

template <typename Pass>
double MicrosPerCase(size_t cases, Pass&& pass) {
  pass();
  double seconds = 0;
  long passes = 0;
  do {
    seconds += Seconds(pass);
    ++passes;
  } while (seconds < kMinRoundSeconds);
  return seconds * 1e6 / static_cast<double>(passes) / static_cast<double>(cases);
}

// The measurements: each returns one round's time per case (microseconds) or per load (ms).
// Untraced evaluations of `cases` (parsed or prepared), one pass a case.
template <typename Cases>
double NeuroFluxEvaluateEach(const Setup& setup, const Cases& cases) {
  inference::EvaluateOptions options;
  options.trace = false;
  return MicrosPerCase(cases.size(), [&] {
    for (const auto& c : cases) {
      auto evaluation = setup.engine->Evaluate(c, {}, options);
      if (evaluation.trace.firings < 0) std::abort();  // keeps the result alive
    }
  });
}

double NeuroFluxEvaluate(const Setup& setup) { return NeuroFluxEvaluateEach(setup, setup.cases); }

double NeuroFluxEvaluatePrepared(const Setup& setup) { return NeuroFluxEvaluateEach(setup, setup.prepared_cases); }

double ClipsEvaluate(const Setup& setup) {
  return MicrosPerCase(setup.prepared.size(), [&] {
    for (const auto* prepared : setup.prepared) ClipsRunPrepared(setup.clips, prepared);
  });
}

double NeuroFluxFromText(const Setup& setup) {
  auto kb = RealKnowledge();
  inference::EvaluateOptions options;
  options.trace = false;
  return MicrosPerCase(setup.texts.size(), [&] {
    for (const auto& text : setup.texts) {
      auto parsed = casefile::ParseCase(text, *kb, {});
      if (!parsed.ok()) std::abort();
      auto evaluation = setup.engine->Evaluate(*parsed, {}, options);
      if (evaluation.trace.firings < 0) std::abort();
    }
  });
}

double ClipsFromText(const Setup& setup) {
  return MicrosPerCase(setup.facts.size(), [&] {
    for (const auto& facts : setup.facts) ClipsRunStrings(setup.clips, facts->string_pointers.data(), facts->strings.size());
  });
}

// Loads per round: enough that a round of a small rule base is not a timer tick.
int Loads(const Setup& setup) { return std::max(1, 2000 / setup.size); }

double NeuroFluxLoad(const Setup& setup) {
  double total = 0;
  for (int i = 0; i < Loads(setup); ++i) {
    std::unique_ptr<inference::Engine> engine;
    total += Seconds([&] { engine = LoadNeuroFlux(setup.sources); });
    // Freeing the rule base is not loading it (as BM_LoadAndCheckRules).
  }
  return total * 1e3 / Loads(setup);
}

double ClipsLoadTime(const Setup& setup) {
  double total = 0;
  for (int i = 0; i < Loads(setup); ++i) {
    ClipsClear(setup.loader);  // untimed: clearing is not loading
    total += Seconds([&] { LoadClips(setup.loader, setup.constructs); });
  }
  return total * 1e3 / Loads(setup);
}

constexpr int kNoTarget = std::numeric_limits<int>::max();

struct Measure {
  const char* name;
  const char* unit;
  double (*ours)(const Setup&);
  double (*theirs)(const Setup&);
  double target;      // how many times faster NeuroFlux should be
  int target_from;    // at this many rules and more (kNoTarget: shown for comparison only)
};

const Measure kMeasures[] = {
    {"evaluation alone", "us/case", NeuroFluxEvaluatePrepared, ClipsEvaluate, 10, 1000},
    {"evaluation of a parsed case", "us/case", NeuroFluxEvaluate, ClipsEvaluate, 0, kNoTarget},
    {"case text to conclusions", "us/case", NeuroFluxFromText, ClipsFromText, 5, 0},
    {"rule loading", "ms", NeuroFluxLoad, ClipsLoadTime, 5, 0},
};

struct Row {
  int size = 0;
  const Measure* measure = nullptr;
  std::vector<double> ours, theirs;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double Min(const std::vector<double>& values) { return *std::min_element(values.begin(), values.end()); }

// Round by round, each measure on both engines back to back, the order alternating.
std::vector<Row> MeasureSize(const Setup& setup, const Options& options) {
  std::vector<Row> rows;
  for (const auto& measure : kMeasures)
    if (std::string_view(measure.name).starts_with(options.only)) rows.push_back(Row{setup.size, &measure, {}, {}});
  for (int round = -1; round < options.rounds; ++round) {  // round -1 warms up
    for (auto& row : rows) {
      double ours = 0, theirs = 0;
      if (round % 2 == 0) {
        ours = row.measure->ours(setup);
        theirs = row.measure->theirs(setup);
      } else {
        theirs = row.measure->theirs(setup);
        ours = row.measure->ours(setup);
      }
      if (round < 0) continue;
      row.ours.push_back(ours);
      row.theirs.push_back(theirs);
    }
    std::fprintf(stderr, ".");
  }
  std::fprintf(stderr, "\n");
  return rows;
}

std::string Format(double value) {
  char text[32];
  std::snprintf(text, sizeof text, value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : value >= 1 ? "%.2f" : "%.3f", value);
  return text;
}

std::string Thousands(int n) {
  std::string digits = std::to_string(n);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

// Returns whether every target in the table is met (on the medians).
bool PrintTable(const std::vector<Row>& rows) {
  std::printf("| rules | measure | NeuroFlux median (min) | CLIPS -O3 median (min) | NeuroFlux faster: median (min/min) | target | met |\n");
  std::printf("|---:|---|---:|---:|---:|---:|:---:|\n");
  bool all = true;
  for (const auto& row : rows) {
    double ours = Median(row.ours), theirs = Median(row.theirs);
    // Per round, both engines ran back to back under the same load: the median of those ratios.
    std::vector<double> ratios;
    for (size_t i = 0; i < row.ours.size(); ++i) ratios.push_back(row.theirs[i] / row.ours[i]);
    double ratio = Median(ratios), best_ratio = Min(row.theirs) / Min(row.ours);
    bool targeted = row.size >= row.measure->target_from;
    bool met = ratio >= row.measure->target;
    if (targeted) all = all && met;
    std::printf("| %s | %s | %s (%s) %s | %s (%s) %s | %sx (%sx) | %s | %s |\n", Thousands(row.size).c_str(), row.measure->name,
                Format(ours).c_str(), Format(Min(row.ours)).c_str(), row.measure->unit, Format(theirs).c_str(),
                Format(Min(row.theirs)).c_str(), row.measure->unit, Format(ratio).c_str(), Format(best_ratio).c_str(),
                targeted ? (Format(row.measure->target) + "x").c_str() : "-", targeted ? (met ? "yes" : "**no**") : "-");
  }
  return all;
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::vector<int> ParseSizes(const std::string& text) {
  std::vector<int> sizes;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    sizes.push_back(std::stoi(text.substr(start, end - start)));
    start = end + 1;
  }
  return sizes;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--rules") options.sizes = ParseSizes(value);
    else if (flag == "--cases") options.cases = std::stoi(value);
    else if (flag == "--rounds") options.rounds = std::stoi(value);
    else if (flag == "--write-constructs") options.constructs_dir = value;
    else if (flag == "--only") options.only = value;
    else Fail("unknown option " + flag + " (--rules 100,1000,10000 --cases 256 --rounds 11 --write-constructs DIR --only MEASURE)");
  }
  if ((argc - 1) % 2) Fail("every option takes a value");
  return options;
}

int Main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  std::vector<Row> rows;
  for (int size : options.sizes) {
    std::fprintf(stderr, "%s rules: loading both engines, checking conclusions", Thousands(size).c_str());
    auto setup = Prepare(size, options);
    CheckCounts counts = CheckEquivalence(*setup);
    std::printf("%s rules, %zu cases: identical conclusions in both engines on every case (%ld facts, %ld deficits "
                "of which %ld capped without clinical evidence; CLIPS through assert-string and through the C API)\n",
                Thousands(size).c_str(), setup->cases.size(), counts.facts, counts.deficits, counts.capped);
    std::fprintf(stderr, "; measuring %d rounds ", options.rounds);
    auto measured = MeasureSize(*setup, options);
    rows.insert(rows.end(), measured.begin(), measured.end());
  }
  std::printf("\nMachine: %s, %u cores (nproc). CPU time of the benchmark thread, %d rounds with the engines back "
              "to back in each; per case over %d generated cases, passes after a warming one for at least %.0f ms a "
              "round. Faster: the median of the per-round ratios.\n\n",
              CpuModel().c_str(), std::thread::hardware_concurrency(), options.rounds, options.cases, kMinRoundSeconds * 1e3);
  bool met = PrintTable(rows);
  std::printf("\nTargets (on the median ratios): %s\n", met ? "all met" : "NOT all met");
  return 0;
}

}  // namespace
}  // namespace nflux::bench

int main(int argc, char** argv) {
  try {
    return nflux::bench::Main(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench-clips: %s\n", error.what());
    return 1;
  }
}
