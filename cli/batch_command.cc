// nflux batch CASES.jsonl|DIR|- [--jobs N] [--out results.jsonl] [--save] [--summary FILE] [--quiet]
// Many cases through engine/batch: one evaluation JSON per line in input order (a bad line: an error
// line in its place and a message on stderr), progress and a summary on stderr.
// Exit codes: 0 every case evaluated; 2 a bad line (the others still evaluated and written), bad
// usage or an unreadable input; a store error as its status says.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "batch/batch.h"
#include "cli/context.h"

namespace nflux::cli {
namespace {

constexpr int kMaxJobs = 256;

struct BatchArgs {
  std::string input;
  int jobs = 0;
  std::string out_path;
  std::string format = "json";
  bool save = false;
  bool strict = false;
  bool quiet = false;
  std::string summary_path;
};

// Progress on stderr: a bar redrawn in place on a terminal (ten times a second), else a plain line
// every two seconds, so that a log file is not flooded.
class ProgressPrinter {
 public:
  ProgressPrinter(bool terminal, std::optional<int64_t> total) : terminal_(terminal), total_(total) {}

  void Update(const batch::Progress& progress) {
    const double every = terminal_ ? 0.1 : 2.0;
    if (progress.elapsed_seconds - last_ < every) return;
    last_ = progress.elapsed_seconds;
    const double rate = progress.done / std::max(progress.elapsed_seconds, 1e-9);
    if (terminal_) {
      std::fprintf(stderr, "\r%s", Bar(progress, rate).c_str());
      shown_ = true;
    } else {
      std::fprintf(stderr, "batch: %lld cases (%lld bad), %.0f cases/s, %.0f s\n",
                   static_cast<long long>(progress.done), static_cast<long long>(progress.errors), rate,
                   progress.elapsed_seconds);
    }
  }

  // Before anything else is printed on stderr: the bar's line cleared.
  void Clear() {
    if (!shown_) return;
    std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  std::string Bar(const batch::Progress& progress, double rate) const {
    char text[160];
    if (!total_ || *total_ <= 0) {
      std::snprintf(text, sizeof text, "%lld cases (%lld bad)  %.0f/s", static_cast<long long>(progress.done),
                    static_cast<long long>(progress.errors), rate);
      return text;
    }
    const double fraction = std::min(1.0, static_cast<double>(progress.done) / static_cast<double>(*total_));
    const int width = 30, filled = static_cast<int>(fraction * width);
    const double left = rate > 0 ? static_cast<double>(*total_ - progress.done) / rate : 0;
    std::snprintf(text, sizeof text, "[%s%s] %lld/%lld (%lld bad)  %.0f/s  %.0f s left",
                  std::string(static_cast<size_t>(filled), '#').c_str(),
                  std::string(static_cast<size_t>(width - filled), ' ').c_str(),
                  static_cast<long long>(progress.done), static_cast<long long>(*total_),
                  static_cast<long long>(progress.errors), rate, left);
    return text;
  }

  bool terminal_;
  std::optional<int64_t> total_;
  double last_ = 0;  // the first line after one period, not for the first case
  bool shown_ = false;
};

Status WriteSummary(const std::string& path, const batch::Summary& summary) {
  std::ofstream file(path);
  file << summary.ToJson().dump(2) << "\n";
  if (!file) return Status::IOError(path + ": cannot be written");
  return Status::Ok();
}

int RunBatch(Context& context, const BatchArgs& args) {
  if (args.jobs < 0) return BadInput("--jobs: expected a positive number of threads");
  // Each job is a thread: a million of them cannot start, and past a few hundred none would help.
  if (args.jobs > kMaxJobs) return BadInput("--jobs: at most " + std::to_string(kMaxJobs) + " threads");
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  std::unique_ptr<store::Store> store;
  if (args.save && !(store = OpenStoreOrReport(context, store::Mode::kReadWrite))) return context.exit_code;
  auto input = batch::OpenInput(args.input);
  if (!input.ok()) return Fail(input.status());
  std::ofstream file;
  if (!args.out_path.empty() && (file.open(args.out_path), !file)) return BadInput(args.out_path + ": cannot be written");
  std::ostream& out = args.out_path.empty() ? std::cout : file;

  const bool terminal = isatty(STDERR_FILENO) != 0;
  ProgressPrinter progress(terminal, terminal ? batch::CountCases(args.input) : std::nullopt);
  // Lines are gathered and written a block at a time: a stream writes anything over 1 KiB
  // straight through, one system call per result line (20,000 of them for 20,000 cases), and
  // while the writing thread waits on those the workers run out of room.
  constexpr size_t kWriteBlock = 1 << 20;
  std::string pending;
  pending.reserve(2 * kWriteBlock);  // a block and the line that fills it
  auto write_pending = [&] {
    out.write(pending.data(), static_cast<std::streamsize>(pending.size()));
    pending.clear();
  };
  batch::Sinks sinks;
  sinks.result = [&](std::string_view line) {
    pending.append(line).push_back('\n');
    if (pending.size() >= kWriteBlock) write_pending();
  };
  sinks.error = [&](const batch::LineError& error) {
    progress.Clear();
    std::cerr << error.ToString() << "\n";
  };
  if (!args.quiet) sinks.progress = [&](const batch::Progress& p) { progress.Update(p); };
  batch::Options options;
  options.jobs = args.jobs;
  options.strict = args.strict;
  options.store = store.get();
  options.actor = CurrentActor();
  auto summary = batch::Run(*pipeline, **input, options, sinks);
  progress.Clear();
  write_pending();
  out.flush();
  if (!summary.ok()) return Fail(summary.status());
  if (!out) return BadInput((args.out_path.empty() ? "stdout" : args.out_path) + ": write error");
  if (!args.quiet) std::cerr << summary->ToText();
  if (store && !args.quiet) std::cerr << "stored in " << store->Describe() << "\n";
  if (!args.summary_path.empty())
    if (Status status = WriteSummary(args.summary_path, *summary); !status.ok()) return Fail(status);
  return summary->errors > 0 ? kExitBadInput : kExitOk;
}

}  // namespace

void SetupBatchCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<BatchArgs>();
  command->add_option("CASES", args->input,
                      "JSON Lines file (one case per line; - for stdin), or a folder of case files (*.json, by name)")
      ->required();
  command->add_option("--jobs,-j", args->jobs, "Evaluation threads (default: one per core)");
  command->add_option("--out,-o", args->out_path, "Write the results (JSON Lines, input order) to FILE instead of stdout");
  command->add_option("--format", args->format, "json (default and only): one evaluation JSON per line (output.md)")
      ->check(CLI::IsMember({"json"}));
  command->add_flag("--save", args->save,
                    "Store every case and its run in --db, as evaluate --save (500 runs per transaction)");
  command->add_flag("--strict", args->strict, "A case with data-quality errors is a bad line");
  command->add_flag("--quiet,-q", args->quiet, "No progress and no summary on stderr (bad lines are still reported)");
  command->add_option("--summary", args->summary_path,
                      "Also write the summary as JSON to FILE (counts per deficit, alert, blocked strategy; errors; rate)");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunBatch(context, *args); });
}

}  // namespace nflux::cli
