// Batch evaluation (`nflux batch`): many cases, a JSON Lines stream (one case per line) or a folder
// of case files, evaluated in parallel through the pipeline, for clinic-wide review and research.
//
//   auto input = batch::OpenInput("cases.jsonl");                  // streamed, never read whole
//   batch::Sinks sinks;
//   sinks.result = [&](std::string_view line) { out << line << '\n'; };
//   auto summary = batch::Run(pipeline, **input, {.jobs = 4}, sinks);
//
// Each result line is exactly the evaluation JSON `nflux evaluate --format json` prints for that
// case (shared/contracts/output.md), dumped compact; a bad line (not JSON, not a valid case) gives
// {"line": 12, "error": {"kind", "path", "message"}} in its place ({"file": ..., ...} for a folder),
// and the batch goes on. Blank lines are skipped.
//
// Determinism and memory: results come in input order, byte-identical for any number of jobs. At
// most Options::window cases are in flight at once (read and waiting, being evaluated, or evaluated
// and waiting for an earlier one in the reorder buffer), so memory does not grow with the input.
//
// Saving (Options::store): every evaluated case and its run are stored as `evaluate --save` stores
// them (audit::StoreEvaluation; each result's trace_id is then its run id), by the one thread that
// writes the results, Options::runs_per_transaction runs per transaction (Store::BeginBatch). On a
// store error the batch stops: the transactions committed before it stay, the open one is dropped.
//
// Ownership: the caller owns the pipeline, the input and the store; Run() owns its threads and
// joins them before it returns. Thread-safety: the sinks are called from Run()'s calling thread
// only, one call at a time; the pipeline is read from every worker (it is immutable).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nflux::batch {

// One case of the input: where it comes from, and its text.
struct CaseText {
  std::string source;  // names the case in messages: "cases.jsonl:12", or the folder's file path
  int64_t line = 0;    // its line in a JSON Lines input; 0 for a file of a folder
  std::string file;    // the folder's file; empty for JSON Lines
  std::string text;
  std::string problem;  // why the case could not be read (a line over the size limit): reported, not evaluated
};

// Where cases come from, one at a time. Used from one thread.
class CaseReader {
 public:
  virtual ~CaseReader() = default;
  // The next case (blank lines skipped), or nullopt at the end. Errors: IOError; InvalidArgument for a
  // line over the input limit with no end of line within 128 MiB more (an endless stream).
  virtual Result<std::optional<CaseText>> Next() = 0;
};

// A JSON Lines stream named `name` in messages. REQUIRES: `in` outlives the reader.
std::unique_ptr<CaseReader> ReadJsonLines(std::istream& in, std::string name);
// A path: a folder (every *.json file in it, sorted by name, each one case), "-" (JSON Lines on
// stdin), else a JSON Lines file. Errors: NotFound for a missing path, IOError for an unreadable one.
Result<std::unique_ptr<CaseReader>> OpenInput(const std::string& path);
// How many cases the input at `path` holds, when that is cheap to know: the *.json files of a folder,
// or the non-blank lines of a regular file (one fast scan, no parsing); nullopt for stdin or a pipe.
std::optional<int64_t> CountCases(const std::string& path);

struct Options {
  int jobs = 0;    // evaluation threads; 0: one per core (std::thread::hardware_concurrency)
  int window = 0;  // cases in flight at most; 0: 64 per job
  bool strict = false;  // reject a case with data-quality errors (a bad line of kind "case")
  // With a store, every evaluated case and its run are stored (see the top comment).
  store::Store* store = nullptr;
  int runs_per_transaction = 500;
  std::string actor = {};         // who stores them (= {}: designated initializers may leave it out)
  std::string origin = "batch";   // a stored run's origin
};

// A line that could not be evaluated.
struct LineError {
  CaseText where;         // source, line, file (the text left empty)
  std::string kind;       // "json" (not JSON), "case" (not a valid case), "evaluation"
  std::string path;       // the JSON pointer of the first problem ("/labs/0/unit"); "" for "json"
  std::string message;    // every problem, one per line, each as the pipeline names it
  // The message as stderr shows it: "cases.jsonl:12: /labs/0/unit: unknown unit 'furlongs'".
  const std::string& ToString() const { return message; }
  // {"line": 12, "error": {"kind": "case", "path": "/labs/0/unit", "message": "..."}} ("file" for a folder).
  nlohmann::ordered_json ToJson() const;
};

struct Progress {
  int64_t done = 0;    // cases written (evaluated or bad)
  int64_t errors = 0;  // bad lines so far
  double elapsed_seconds = 0;
};

struct Summary {
  int64_t cases = 0, evaluated = 0, errors = 0;
  int64_t saved_runs = 0;  // committed to the store
  std::map<std::string, int64_t> errors_by_kind;     // "json", "case", "evaluation"
  std::map<std::string, int64_t> deficits_likely;    // deficit id -> cases where it is likely
  std::map<std::string, int64_t> deficits_possible;  // ... possible
  std::map<std::string, int64_t> alerts;             // alert id -> cases
  std::map<std::string, int64_t> blocked_strategies; // strategy id -> cases
  double elapsed_seconds = 0;

  double CasesPerSecond() const { return elapsed_seconds > 0 ? static_cast<double>(cases) / elapsed_seconds : 0; }
  // {"cases", "evaluated", "errors": {"total", "by_kind"}, "deficits": {id: {"likely", "possible"}},
  //  "alerts": {id: n}, "blocked_strategies": {id: n}, "saved_runs", "elapsed_seconds", "cases_per_second"}
  nlohmann::ordered_json ToJson() const;
  // A few lines for stderr: the counts, then each table most frequent first.
  std::string ToText() const;
};

// Where Run() sends what it makes, each from the calling thread, in input order. Any may be empty.
struct Sinks {
  std::function<void(std::string_view line)> result;  // one compact JSON object, no newline
  std::function<void(const LineError&)> error;        // a bad line, as its error line is written
  std::function<void(const Progress&)> progress;      // after every case
};

// Evaluates every case of `input`. Bad lines are not errors (they are in the results and the
// summary); errors are an input that cannot be read (IOError) and, with a store, a failed write.
Result<Summary> Run(const pipeline::Pipeline& pipeline, CaseReader& input, const Options& options,
                    const Sinks& sinks);

}  // namespace nflux::batch
