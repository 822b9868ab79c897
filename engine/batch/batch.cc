// Run(): the calling thread reads cases and writes results in input order; a fixed pool of workers
// evaluates. At most `window` cases are in flight, which bounds both the work queue and the
// reorder buffer.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "batch/batch.h"
#include "report/report.h"

namespace nflux::batch {
namespace {

using Clock = std::chrono::steady_clock;

// What a worker made of one case, waiting in the reorder buffer for its turn.
struct Outcome {
  CaseText where;  // text kept only when it is to be stored
  std::optional<LineError> error;
  std::string line;                     // the compact result (stored: its trace_id set after)
  // Kept only when it is to be stored: made by the worker rather than by the one writer, which
  // then never holds (nor frees) the case's evaluation.
  std::optional<audit::PreparedRun> prepared;
  std::vector<std::string> likely, possible, alerts, blocked;  // for the summary
};

// The first problem's JSON pointer: "SOURCE: /labs/0/unit: ..." -> "/labs/0/unit".
std::string FirstPath(const std::string& message, const std::string& source) {
  std::string_view rest(message);
  if (rest.substr(0, source.size() + 2) != source + ": ") return "";
  rest.remove_prefix(source.size() + 2);
  if (rest.empty() || rest[0] != '/') return "";
  return std::string(rest.substr(0, rest.find(": ")));
}

// A pipeline error as a bad line. A JSON syntax error names "SOURCE:LINE:COLUMN"; a case of one
// line is line 1 of its text, so "cases.jsonl:12:1:7" reads "cases.jsonl:12:7".
LineError ErrorOf(const Status& status, CaseText where, const std::string& kind_if_not_json) {
  LineError error{std::move(where), kind_if_not_json, "", status.message()};
  error.where.text.clear();
  const std::string& source = error.where.source;
  const bool syntax = error.message.size() > source.size() && error.message.compare(0, source.size(), source) == 0 &&
                      error.message[source.size()] == ':' && error.message[source.size() + 1] != ' ';
  if (syntax) {
    error.kind = "json";
    if (error.where.line > 0 && error.message.compare(source.size(), 3, ":1:") == 0)
      error.message.erase(source.size(), 2);
    return error;
  }
  error.path = FirstPath(error.message, source);
  return error;
}

void Tally(const report::Tally& tally, Outcome& out) {
  out.likely = tally.likely;
  out.possible = tally.possible;
  out.alerts = tally.alerts;
  out.blocked = tally.blocked;
}

// Parses and evaluates one case, exactly as `nflux evaluate --format json` would; a case to be
// stored has its trace compressed here with the batch's dictionary, if it has one.
Outcome EvaluateOne(const pipeline::Pipeline& pipeline, CaseText item, const Options& options,
                    const std::shared_ptr<const store::CompressionDictionary>& dictionary) {
  Outcome out;
  pipeline::EvaluationOptions evaluation;
  evaluation.strict = options.strict;
  evaluation.source_name = item.source;
  if (!item.problem.empty()) {
    Status problem = Status::InvalidArgument(item.problem);
    out.error = ErrorOf(problem, std::move(item), "case");
    return out;
  }
  auto parsed = pipeline.ParseCase(item.text, item.source, options.strict);
  if (!parsed.ok()) {
    out.error = ErrorOf(parsed.status(), std::move(item), "case");
    return out;
  }
  auto result = pipeline.Evaluate(std::move(parsed).value(), evaluation);
  if (!result.ok()) {
    out.error = ErrorOf(result.status(), std::move(item), "evaluation");
    return out;
  }
  Tally(report::TallyOf(result->evaluation), out);
  if (options.store) {
    // The line is the report the store keeps (which sets its trace_id to the run id).
    auto prepared = audit::PrepareRun(pipeline, *result, dictionary);
    if (!prepared.ok()) {
      out.error = ErrorOf(prepared.status(), std::move(item), "evaluation");
      return out;
    }
    out.line = prepared->report;
    out.prepared = std::move(prepared).value();
  } else {
    out.line = pipeline.ReportText(*result);
    item.text.clear();
  }
  out.where = std::move(item);
  return out;
}

// The workers and the two queues they share with the calling thread.
class Pool {
 public:
  Pool(const pipeline::Pipeline& pipeline, const Options& options,
       std::shared_ptr<const store::CompressionDictionary> dictionary, int jobs)
      : pipeline_(pipeline), options_(options), dictionary_(std::move(dictionary)) {
    for (int i = 0; i < jobs; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    work_ready_.notify_all();
    for (auto& thread : threads_) thread.join();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Cases `first`, `first` + 1, ... in input order. A worker takes a whole chunk, so the threads
  // meet (lock, wake) once a chunk rather than once a case.
  void Submit(int64_t first, std::vector<CaseText> chunk) {
    {
      std::lock_guard lock(mutex_);
      work_.emplace_back(first, std::move(chunk));
    }
    work_ready_.notify_one();
  }

  // Waits for the outcome of case `sequence` (submitted) and takes it out of the reorder buffer.
  Outcome Take(int64_t sequence) {
    std::unique_lock lock(mutex_);
    done_ready_.wait(lock, [&] { return done_.count(sequence) > 0; });
    auto node = done_.extract(sequence);
    // cppcheck-suppress returnStdMoveLocal ; mapped() is a reference into the node: no elision applies
    return std::move(node.mapped());
  }

 private:
  void Work() {
    for (;;) {
      std::pair<int64_t, std::vector<CaseText>> chunk;
      {
        std::unique_lock lock(mutex_);
        work_ready_.wait(lock, [&] { return closing_ || !work_.empty(); });
        if (closing_) return;
        chunk = std::move(work_.front());
        work_.pop_front();
      }
      std::vector<Outcome> outcomes;
      outcomes.reserve(chunk.second.size());
      for (CaseText& item : chunk.second) outcomes.push_back(EvaluateOne(pipeline_, std::move(item), options_, dictionary_));
      {
        std::lock_guard lock(mutex_);
        for (size_t i = 0; i < outcomes.size(); ++i)
          done_.emplace(chunk.first + static_cast<int64_t>(i), std::move(outcomes[i]));
      }
      done_ready_.notify_all();
    }
  }

  const pipeline::Pipeline& pipeline_;
  const Options& options_;
  const std::shared_ptr<const store::CompressionDictionary> dictionary_;
  std::mutex mutex_;
  std::condition_variable work_ready_, done_ready_;
  std::deque<std::pair<int64_t, std::vector<CaseText>>> work_;
  std::map<int64_t, Outcome> done_;  // the reorder buffer
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

// Stores the evaluated cases, runs_per_transaction runs per transaction.
class Saver {
 public:
  Saver(const pipeline::Pipeline& pipeline, const Options& options) : pipeline_(pipeline), options_(options) {
    record_.actor = options.actor;
    record_.origin = options.origin;
    record_.evaluation.strict = options.strict;
  }
  ~Saver() {
    if (open_) options_.store->RollbackBatch();
  }
  Saver(const Saver&) = delete;
  Saver& operator=(const Saver&) = delete;

  // The dictionary the batch's runs are compressed with, made from the good cases among its first
  // lines (the first chunk, read before the workers start) and stored in its first transaction;
  // none when that chunk has fewer than kMinCasesForDictionary lines (a small batch, where the
  // dictionary would take more room than it saves).
  Result<std::shared_ptr<const store::CompressionDictionary>> DictionaryFor(const std::vector<CaseText>& first) {
    if (first.size() < kMinCasesForDictionary) return std::shared_ptr<const store::CompressionDictionary>();
    if (Status status = Open(); !status.ok()) return status;
    std::vector<std::string_view> texts;
    for (const CaseText& item : first)
      if (item.problem.empty()) texts.push_back(item.text);
    return audit::SaveDictionaryFor(pipeline_, *options_.store, texts, record_);
  }

  // Stores the case and its run (what the worker prepared, moved into the store); the line's
  // trace_id becomes the run id.
  Status Save(Outcome& outcome) {
    if (Status status = Open(); !status.ok()) return status;
    record_.evaluation.source_name = outcome.where.source;
    auto stored = audit::StoreEvaluation(pipeline_, *options_.store, outcome.where.text, std::move(*outcome.prepared),
                                         record_);
    if (!stored.ok()) return stored.status();
    if (Status set = store::SetTraceId(outcome.line, store::RunName(stored->run_id)); !set.ok()) return set;
    if (++pending_ >= options_.runs_per_transaction) return Commit();
    return Status::Ok();
  }

  Status Commit() {
    if (!open_) return Status::Ok();
    open_ = false;
    if (Status status = options_.store->CommitBatch(); !status.ok()) return status;
    saved_ += pending_;
    pending_ = 0;
    return Status::Ok();
  }

  int64_t saved() const { return saved_; }

 private:
  // A dictionary (about 430 KB of text: 16 reports and 4 traces) is stored in about 60 KB; each later
  // run saves about 5 KB.
  static constexpr size_t kMinCasesForDictionary = 16;

  Status Open() {
    if (open_) return Status::Ok();
    if (Status status = options_.store->BeginBatch(); !status.ok()) return status;
    open_ = true;
    return Status::Ok();
  }

  const pipeline::Pipeline& pipeline_;
  const Options& options_;
  audit::RecordOptions record_;
  bool open_ = false;
  int64_t pending_ = 0, saved_ = 0;
};

void Count(const std::vector<std::string>& ids, std::map<std::string, int64_t>& counts) {
  for (const auto& id : ids) ++counts[id];
}

// Writes one outcome (storing it first when asked) and counts it into the summary.
Status Emit(Outcome& outcome, Saver* saver, const Sinks& sinks, Summary& summary) {
  ++summary.cases;
  if (outcome.error) {
    ++summary.errors;
    ++summary.errors_by_kind[outcome.error->kind];
    if (sinks.error) sinks.error(*outcome.error);
    // Replacing bytes that are not UTF-8: a message may quote what the line held.
    if (sinks.result) sinks.result(outcome.error->ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return Status::Ok();
  }
  if (saver)
    if (Status status = saver->Save(outcome); !status.ok()) return status;
  ++summary.evaluated;
  Count(outcome.likely, summary.deficits_likely);
  Count(outcome.possible, summary.deficits_possible);
  Count(outcome.alerts, summary.alerts);
  Count(outcome.blocked, summary.blocked_strategies);
  if (sinks.result) sinks.result(outcome.line);
  return Status::Ok();
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

nlohmann::ordered_json LineError::ToJson() const {
  nlohmann::ordered_json out;
  if (where.line > 0)
    out["line"] = where.line;
  else
    out["file"] = where.file;
  out["error"] = {{"kind", kind}, {"path", path}, {"message", message}};
  return out;
}

Result<Summary> Run(const pipeline::Pipeline& pipeline, CaseReader& input, const Options& options,
                    const Sinks& sinks) {
  const auto start = Clock::now();
  const int jobs = options.jobs > 0 ? options.jobs : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int64_t window = options.window > 0 ? options.window : 64 * jobs;
  // Four chunks per worker in flight: enough to keep every worker busy while the results wait
  // their turn.
  const int64_t chunk_size = std::max<int64_t>(1, window / (4 * static_cast<int64_t>(jobs)));
  Summary summary;
  std::optional<Saver> saver;
  if (options.store) saver.emplace(pipeline, options);
  // The next cases in input order (fewer than chunk_size only at the end).
  bool end = false;
  int64_t read = 0, written = 0;
  auto read_chunk = [&]() -> Result<std::vector<CaseText>> {
    std::vector<CaseText> chunk;
    while (!end && static_cast<int64_t>(chunk.size()) < chunk_size) {
      auto next = input.Next();
      if (!next.ok()) return next.status();
      if (*next) {
        chunk.push_back(std::move(**next));
        ++read;
      } else {
        end = true;
      }
    }
    return chunk;
  };
  auto first = read_chunk();
  if (!first.ok()) return first.status();
  std::shared_ptr<const store::CompressionDictionary> dictionary;
  if (saver) {
    auto made = saver->DictionaryFor(*first);
    if (!made.ok()) return made.status();
    dictionary = std::move(made).value();
  }
  Pool pool(pipeline, options, std::move(dictionary), jobs);
  if (!first->empty()) pool.Submit(0, std::move(first).value());
  for (;;) {
    // Reads a chunk only when a whole one fits in the window, so chunks stay full.
    while (!end && read - written + chunk_size <= window) {
      const int64_t chunk_first = read;
      auto chunk = read_chunk();
      if (!chunk.ok()) return chunk.status();
      if (!chunk->empty()) pool.Submit(chunk_first, std::move(chunk).value());
    }
    if (written == read) break;
    Outcome outcome = pool.Take(written++);
    if (Status status = Emit(outcome, saver ? &*saver : nullptr, sinks, summary); !status.ok()) return status;
    if (sinks.progress) sinks.progress({summary.cases, summary.errors, SecondsSince(start)});
  }
  if (saver) {
    if (Status status = saver->Commit(); !status.ok()) return status;
    summary.saved_runs = saver->saved();
  }
  summary.elapsed_seconds = SecondsSince(start);
  return summary;
}

}  // namespace nflux::batch
