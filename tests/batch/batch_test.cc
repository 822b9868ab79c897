// engine/batch: results in input order and byte-identical for any number of jobs, bad lines reported
// with their line and JSON path while the rest are evaluated, folders, bounded memory, --save.
#include "batch/batch.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "base/limits.h"
#include "store/chain.h"
#include "base/text.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::batch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One shipped pipeline per test binary (tests/safety/safety_test_support.h).
const pipeline::Pipeline& Shipped() { return nflux::testing::ShippedPipeline(); }

// Every golden case of rules/tests, each one compact line, by file name.
const std::vector<std::string>& GoldenLines() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    for (const auto& path : nflux::testing::GoldenCaseFiles())
      out.push_back(json::parse(*ReadFileToString(path.string())).dump());
    return out;
  }();
  return lines;
}

// `count` cases cycling through the golden ones, each with its own case_id.
std::string JsonLines(int count) {
  std::string out;
  const auto& golden = GoldenLines();
  for (int i = 0; i < count; ++i) {
    json doc = json::parse(golden[static_cast<size_t>(i) % golden.size()]);
    doc["case_id"] = "batch-" + std::to_string(i);
    out += doc.dump() + "\n";
  }
  return out;
}

struct Collected {
  std::vector<std::string> lines;
  std::vector<LineError> errors;
  Summary summary;
};

Collected RunOn(const std::string& text, Options options, const std::string& name = "cases.jsonl") {
  std::istringstream in(text);
  auto reader = ReadJsonLines(in, name);
  Collected out;
  Sinks sinks;
  sinks.result = [&](std::string_view line) { out.lines.emplace_back(line); };
  sinks.error = [&](const LineError& error) { out.errors.push_back(error); };
  auto summary = batch::Run(Shipped(), *reader, options, sinks);
  EXPECT_OK(summary);
  if (summary.ok()) out.summary = *summary;
  return out;
}

TEST(Batch, ResultsInInputOrderAndIdenticalForAnyJobs) {
  const int count = 2 * static_cast<int>(GoldenLines().size());
  const std::string text = JsonLines(count);
  Collected one = RunOn(text, {.jobs = 1});
  ASSERT_EQ(static_cast<size_t>(count), one.lines.size());
  EXPECT_EQ(count, one.summary.evaluated);
  // A small window makes the reorder buffer wait for slow cases often.
  for (auto [jobs, window] : {std::pair{2, 0}, {4, 3}, {8, 0}}) {
    Collected many = RunOn(text, {.jobs = jobs, .window = window});
    EXPECT_TRUE(many.lines == one.lines) << jobs << " jobs, window " << window;
    EXPECT_EQ(one.summary.ToJson()["deficits"], many.summary.ToJson()["deficits"]);
  }
  // Each line is what `nflux evaluate --format json` makes of that case, compact.
  for (int i : {0, 1, count / 2, count - 1}) {
    std::string case_text = json::parse(JsonLines(i + 1).substr(JsonLines(i).size())).dump();
    pipeline::EvaluationOptions options;
    options.source_name = "cases.jsonl:" + std::to_string(i + 1);
    auto evaluated = Shipped().Evaluate(case_text, options);
    ASSERT_OK(evaluated);
    EXPECT_EQ(Shipped().ReportJson(*evaluated).dump(), one.lines[static_cast<size_t>(i)]) << "case " << i;
  }
}

TEST(Batch, BadLinesAreReportedWithLineAndPathAndTheRestEvaluated) {
  const std::string good = GoldenLines().front();
  const std::string text = good + "\n" +                                             // line 1
                           "\n   \n" +                                               // 2, 3: blank
                           "{\"patient\": \n" +                                      // 4: not JSON
                           good + "\n" +                                             // 5
                           R"({"patient": {"sex": "female", "age_years": 40}, "labs": [{"test": "ferritin", "value": 5, "unit": "furlongs"}]})" + "\n" +  // 6
                           "[1, 2]\n" +                                              // 7: not an object
                           good + "\n";                                              // 8
  Collected out = RunOn(text, {.jobs = 2});
  ASSERT_EQ(6u, out.lines.size());  // blank lines give no result
  EXPECT_EQ(6, out.summary.cases);
  EXPECT_EQ(3, out.summary.evaluated);
  EXPECT_EQ(3, out.summary.errors);
  EXPECT_EQ((std::map<std::string, int64_t>{{"case", 2}, {"json", 1}}), out.summary.errors_by_kind);
  ASSERT_EQ(3u, out.errors.size());

  EXPECT_EQ("json", out.errors[0].kind);
  EXPECT_EQ(4, out.errors[0].where.line);
  EXPECT_TRUE(out.errors[0].ToString().starts_with("cases.jsonl:4:13: ")) << out.errors[0].ToString();
  EXPECT_EQ("case", out.errors[1].kind);
  EXPECT_EQ("/labs/0/unit", out.errors[1].path);
  EXPECT_TRUE(out.errors[1].ToString().starts_with("cases.jsonl:6: /labs/0/unit: unknown unit 'furlongs'"))
      << out.errors[1].ToString();
  EXPECT_EQ("", out.errors[2].path);  // the whole document
  EXPECT_EQ("cases.jsonl:7: expected the case to be a JSON object, got an array", out.errors[2].ToString());
  EXPECT_EQ(7, out.errors[2].where.line);

  // The error lines stand where the cases stood.
  json line4 = json::parse(out.lines[1]);
  EXPECT_EQ(4, line4["line"]);
  EXPECT_EQ("json", line4["error"]["kind"]);
  json line6 = json::parse(out.lines[3]);
  EXPECT_EQ(6, line6["line"]);
  EXPECT_EQ("/labs/0/unit", line6["error"]["path"]);
  EXPECT_EQ(out.errors[1].message, line6["error"]["message"]);
  for (size_t i : {0u, 2u, 5u}) EXPECT_TRUE(json::parse(out.lines[i]).contains("deficits")) << i;
  EXPECT_EQ(out.lines[0], out.lines[2]);
}

// A line longer than the input limit (a stream with no newline, such as /dev/zero) is not held in
// memory: it is that line's error, and the batch goes on with the next line.
TEST(Batch, ALineOverTheInputLimitIsItsErrorAndTheBatchGoesOn) {
  const std::string good = GoldenLines().front();
  const std::string text = good + "\n" + std::string(limits::kMaxInputBytes + 1, 'x') + "\n" + good;
  Collected out = RunOn(text, {.jobs = 2});
  ASSERT_EQ(3u, out.lines.size());
  EXPECT_EQ(2, out.summary.evaluated);
  ASSERT_EQ(1u, out.errors.size());
  EXPECT_EQ(2, out.errors[0].where.line);
  EXPECT_EQ("case", out.errors[0].kind);
  EXPECT_EQ("cases.jsonl:2: the line is longer than the limit of 32 MiB for one case", out.errors[0].ToString());
  EXPECT_EQ(out.lines[0], out.lines[2]);
  // The last line without its newline, and blank lines between, are still read as before.
  Collected tail = RunOn(good + "\n\n" + good, {.jobs = 1});
  EXPECT_EQ(2, tail.summary.evaluated);
  EXPECT_EQ(tail.lines[0], tail.lines[1]);
}

// An error line quotes what the line held: bytes that are not UTF-8 never make it invalid JSON.
TEST(Batch, AnErrorLineIsValidJsonWhateverTheLineHeld) {
  Collected out = RunOn("{\"case_id\": \"\xff\xfe\", \"patient\": 1}\n\xff\n", {.jobs = 1});
  ASSERT_EQ(2u, out.lines.size());
  for (const std::string& line : out.lines) {
    ASSERT_TRUE(json::accept(line)) << line;
    EXPECT_TRUE(json::parse(line).contains("error")) << line;
  }
}

TEST(Batch, StrictMakesDataQualityErrorsBadLines) {
  const std::string text =
      R"({"patient": {"sex": "female", "age_years": 40}, "labs": [{"test": "ferritin", "value": -3, "unit": "ng/mL"}]})"
      "\n";
  EXPECT_EQ(0, RunOn(text, {.jobs = 1}).summary.errors);
  Collected strict = RunOn(text, {.jobs = 1, .strict = true});
  EXPECT_EQ(1, strict.summary.errors);
  EXPECT_EQ("/labs/0/value", strict.errors.at(0).path);
}

TEST(Batch, FolderOfCaseFilesByName) {
  fs::path dir = fs::temp_directory_path() / ("nflux_batch_folder_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto& golden = GoldenLines();
  std::ofstream(dir / "b.json") << golden[1];
  std::ofstream(dir / "a.json") << golden[0];
  std::ofstream(dir / "c.json") << "{oops";
  std::ofstream(dir / "notes.txt") << "not a case";
  fs::create_directories(dir / "sub.json");  // a folder, not a case file
  EXPECT_EQ(std::optional<int64_t>(3), CountCases(dir.string()));
  auto reader = OpenInput(dir.string());
  ASSERT_OK(reader);
  std::vector<std::string> lines;
  Sinks sinks;
  sinks.result = [&](std::string_view line) { lines.emplace_back(line); };
  auto summary = batch::Run(Shipped(), **reader, {.jobs = 2}, sinks);
  ASSERT_OK(summary);
  ASSERT_EQ(3u, lines.size());
  EXPECT_EQ(2, summary->evaluated);
  EXPECT_EQ(json::parse(golden[0]).value("case_id", ""), json::parse(lines[0]).value("case_id", ""));
  EXPECT_EQ(json::parse(golden[1]).value("case_id", ""), json::parse(lines[1]).value("case_id", ""));
  json bad = json::parse(lines[2]);
  EXPECT_EQ((dir / "c.json").string(), bad["file"]);
  EXPECT_FALSE(bad.contains("line"));
  EXPECT_EQ("json", bad["error"]["kind"]);
  fs::remove_all(dir);
}

// Memory stays flat: never more than `window` cases read and not yet written.
TEST(Batch, AtMostWindowCasesInFlight) {
  class Counting final : public CaseReader {
   public:
    Counting(const std::string& text, const int64_t& written) : in_(text), lines_(ReadJsonLines(in_, "x")), written_(written) {}
    Result<std::optional<CaseText>> Next() override {
      auto next = lines_->Next();
      if (next.ok() && *next) max_in_flight = std::max(max_in_flight, ++read - written_);
      return next;
    }
    int64_t read = 0, max_in_flight = 0;

   private:
    std::istringstream in_;
    std::unique_ptr<CaseReader> lines_;
    const int64_t& written_;
  };
  int64_t written = 0;
  Counting reader(JsonLines(200), written);
  Sinks sinks;
  sinks.result = [&](std::string_view) { ++written; };
  ASSERT_OK(batch::Run(Shipped(), reader, {.jobs = 4, .window = 16}, sinks));
  EXPECT_EQ(200, reader.read);
  EXPECT_EQ(200, written);
  EXPECT_EQ(16, reader.max_in_flight);
}

TEST(Batch, CountCasesCountsNonBlankLines) {
  fs::path file = fs::temp_directory_path() / ("nflux_batch_count_" + std::to_string(::getpid()) + ".jsonl");
  std::ofstream(file) << "{}\n\n  \n{}\r\n{}";  // the last line has no newline
  EXPECT_EQ(std::optional<int64_t>(3), CountCases(file.string()));
  EXPECT_EQ(std::nullopt, CountCases("-"));
  fs::remove(file);
  auto missing = OpenInput(file.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(Status::Code::kNotFound, missing.status().code());
}

TEST(Batch, SaveStoresEveryCaseAndRunInBatchesAndTheChainVerifies) {
  auto store = store::OpenStore(":memory:", store::Mode::kReadWrite);
  ASSERT_OK(store);
  std::string text = JsonLines(23) + "{oops\n" + JsonLines(2);  // the last two are visits of batch-0 and batch-1
  Options options{.jobs = 3, .store = store->get(), .runs_per_transaction = 7, .actor = "dr_batch"};
  Collected out = RunOn(text, options);
  EXPECT_EQ(25, out.summary.saved_runs);
  EXPECT_EQ(1, out.summary.errors);
  auto runs = (*store)->ListRuns(std::nullopt);
  ASSERT_OK(runs);
  ASSERT_EQ(25u, runs->size());
  // Results carry their run ids, in input order; the bad line has none.
  size_t run = 0;
  for (const auto& line : out.lines) {
    json result = json::parse(line);
    if (result.contains("error")) continue;
    EXPECT_EQ(store::RunName((*runs)[run].id), result["trace_id"]);
    EXPECT_EQ(result["case_id"], (*runs)[run].case_id);  // stored under the case's own id
    EXPECT_EQ("batch", (*runs)[run].origin);
    EXPECT_EQ("dr_batch", (*runs)[run].actor);
    ++run;
  }
  // The same text again is the same case version (a visit stores no new one).
  EXPECT_EQ((*runs)[0].case_version, (*runs)[23].case_version);
  EXPECT_EQ((*runs)[0].case_id, (*runs)[23].case_id);
  auto cases = (*store)->ListCases();
  ASSERT_OK(cases);
  EXPECT_EQ(23u, cases->size());
  auto verify = (*store)->Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok()) << (verify->problems.empty() ? "" : verify->problems.front());
  EXPECT_EQ(25, verify->runs);
  EXPECT_EQ(23, verify->case_versions);
  // A stored run evaluates again identically.
  auto record = (*store)->GetRun((*runs)[5].id);
  ASSERT_OK(record);
  EXPECT_EQ(json::parse(out.lines[5]), json::parse(record->evaluation.dump()));
}

// --save compresses a batch's runs with one dictionary made from its first cases (store.h): the
// same one for any number of jobs, stored once and chained, every run reading back as written; a
// batch too small to gain from one stores none.
TEST(Batch, SaveCompressesRunsWithOneDictionaryOfItsFirstCases) {
  std::string text = "{oops\n" + JsonLines(40);  // a bad first line is left out of the dictionary
  std::vector<std::string> dictionary_hashes;
  for (int jobs : {1, 3}) {
    SCOPED_TRACE(jobs);
    auto store = store::OpenStore(":memory:", store::Mode::kReadWrite);
    ASSERT_OK(store);
    Collected out = RunOn(text, {.jobs = jobs, .store = store->get(), .runs_per_transaction = 9, .actor = "dr_batch"});
    EXPECT_EQ(40, out.summary.saved_runs);
    auto entries = (*store)->AuditEntries();
    ASSERT_OK(entries);
    ASSERT_EQ(81u, entries->size());  // the dictionary, then a case version and a run per case
    EXPECT_EQ("dictionary", (*entries)[0].kind);
    EXPECT_EQ("dictionary-1", (*entries)[0].subject);
    EXPECT_EQ("dr_batch", (*entries)[0].actor);
    auto verify = (*store)->Verify();
    ASSERT_OK(verify);
    EXPECT_TRUE(verify->ok()) << (verify->problems.empty() ? "" : verify->problems.front());
    EXPECT_EQ(1, verify->dictionaries);
    for (int64_t run : {1, 17, 40}) {
      auto record = (*store)->GetRun(run);
      ASSERT_OK(record);
      EXPECT_EQ(json::parse(out.lines[static_cast<size_t>(run)]), json::parse(record->evaluation.dump())) << run;
      EXPECT_GT(record->trace["rules"].size(), 0u);
    }
    // The dictionary is made of the runs of the good cases among the batch's first 16 lines (its
    // first chunk, read before the workers start): made again, it is the one stored.
    std::vector<std::string_view> texts;
    std::istringstream lines(text);
    std::vector<std::string> kept;
    for (std::string line; std::getline(lines, line);) kept.push_back(line);
    for (size_t i = 1; i < 16; ++i) texts.push_back(kept[i]);
    audit::RecordOptions record;
    record.actor = "dr_batch";
    auto again = audit::SaveDictionaryFor(Shipped(), **store, texts, record);
    ASSERT_OK(again);
    ASSERT_NE(*again, nullptr);
    EXPECT_EQ(1, (*again)->id());
    dictionary_hashes.push_back((*again)->content_hash());
  }
  EXPECT_EQ(dictionary_hashes[0], dictionary_hashes[1]);

  auto store = store::OpenStore(":memory:", store::Mode::kReadWrite);
  ASSERT_OK(store);
  Collected small = RunOn(JsonLines(15), {.jobs = 2, .store = store->get()});
  EXPECT_EQ(15, small.summary.saved_runs);
  auto verify = (*store)->Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok());
  EXPECT_EQ(0, verify->dictionaries);
  EXPECT_EQ(30, verify->entries);
}

// Store::BeginBatch: writes join one transaction; a failed write inside it leaves the others.
TEST(StoreBatch, FailedWriteIsASavepointAndRollbackDropsTheBatch) {
  auto opened = store::OpenStore(":memory:", store::Mode::kReadWrite);
  ASSERT_OK(opened);
  store::Store& store = **opened;
  EXPECT_EQ(Status::Code::kInvalidArgument, store.CommitBatch().code());
  ASSERT_OK(store.BeginBatch());
  EXPECT_EQ(Status::Code::kInvalidArgument, store.BeginBatch().code());
  ASSERT_OK(store.AddCaseVersion({.case_id = "a", .submitted = "{}", .normalised = "{}"}, {}));
  auto refused = store.AddCaseVersion({.case_id = "a", .submitted = "{}", .normalised = "{}"}, {.only_if_new_case = true});
  EXPECT_FALSE(refused.ok());
  ASSERT_OK(store.AddCaseVersion({.case_id = "b", .submitted = "{}", .normalised = "{}"}, {}));
  ASSERT_OK(store.CommitBatch());
  auto cases = store.ListCases();
  ASSERT_OK(cases);
  EXPECT_EQ(2u, cases->size());
  ASSERT_OK(store.BeginBatch());
  ASSERT_OK(store.AddCaseVersion({.case_id = "c", .submitted = "{}", .normalised = "{}"}, {}));
  store.RollbackBatch();
  cases = store.ListCases();
  ASSERT_OK(cases);
  EXPECT_EQ(2u, cases->size());
  auto verify = store.Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok());
  EXPECT_EQ(2, verify->entries);
}

}  // namespace
}  // namespace nflux::batch
