// Tests for engine/store: round trips of case versions, runs, bundles and builds; the errors with
// their exact messages; migrations from every earlier schema; hostile text (SQL metacharacters,
// long strings, odd Unicode, NULs). Integrity (tamper, locks, processes, SIGKILL): store_integrity_test.cc.
//
// What does not depend on the backend runs on both (TEST_P, names ending in /sqlite and /postgres),
// each test on a fresh database of its own (store_backend.h); a raw connection plays "another
// process". What only SQLite has (files, ":memory:", WAL, migrations from schemas 1-3) is TEST.

#include "store/chain.h"
#include "store/store.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "base/text.h"
#include "store/store_backend.h"
#include "store/store_test_support.h"

namespace nflux::store {
namespace {

using knowledge::LoadKnowledge;
using knowledge::SourceFile;
using nlohmann::json;
using testing::Backend;
using testing::OpenOrFail;
using testing::RawConnection;
using testing::RawDatabase;
using testing::SampleKnowledge;
using testing::SampleRules;
using testing::SampleRun;
using testing::TempDatabase;
using testing::TestDatabase;

const std::regex kIso8601(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
const std::regex kHash("sha256:[0-9a-f]{64}");

CaseVersion Visit(const std::string& case_id, const std::string& submitted) {
  return CaseVersion{.case_id = case_id, .actor = "dr_who", .submitted = submitted,
                     .normalised = "{\"normalised\": " + json(submitted).dump() + "}"};
}

NFLUX_BACKEND_SUITE(StoreCases);
NFLUX_BACKEND_SUITE(StoreRuns);
NFLUX_BACKEND_SUITE(StoreBuilds);
NFLUX_BACKEND_SUITE(StoreErrors);
NFLUX_BACKEND_SUITE(StoreModes);
NFLUX_BACKEND_SUITE(StoreText);

TEST_P(StoreCases, VersionsAreNumberedKeptAndNeverOverwritten) {
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> texts = {"{\"visit\": 1}", "{\"visit\": 2}\n", "{ \"visit\" : 3 }"};
  for (size_t i = 0; i < texts.size(); ++i) {
    auto stored = store->AddCaseVersion(Visit("c-1", texts[i]), {});
    ASSERT_OK(stored);
    EXPECT_EQ(stored->version, static_cast<int>(i + 1));
    EXPECT_TRUE(std::regex_match(stored->created_at, kIso8601)) << stored->created_at;
    EXPECT_TRUE(std::regex_match(stored->content_hash, kHash)) << stored->content_hash;
  }
  ASSERT_OK(store->AddCaseVersion(Visit("c-0", "{}"), {}));
  for (int version = 1; version <= 3; ++version) {
    auto got = store->GetCaseVersion("c-1", version);
    ASSERT_OK(got);
    EXPECT_EQ(got->version, version);
    EXPECT_EQ(got->submitted, texts[version - 1]);
    EXPECT_EQ(got->normalised, Visit("c-1", texts[version - 1]).normalised);
    EXPECT_EQ(got->actor, "dr_who");
  }
  auto latest = store->GetCaseVersion("c-1", 0);
  ASSERT_OK(latest);
  EXPECT_EQ(latest->version, 3);
  auto versions = store->ListCaseVersions("c-1");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ((*versions)[0].submitted, texts[0]);
  EXPECT_NE((*versions)[0].content_hash, (*versions)[1].content_hash);

  ASSERT_OK(store->SaveRun(SampleRun("c-1", 2)));
  ASSERT_OK(store->SaveRun(SampleRun("c-1", 3)));
  auto cases = store->ListCases();
  ASSERT_OK(cases);
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[0].case_id, "c-0");  // by id
  EXPECT_EQ((*cases)[0].versions, 1);
  EXPECT_EQ((*cases)[0].runs, 0);
  const CaseSummary& c1 = (*cases)[1];
  EXPECT_EQ(c1.case_id, "c-1");
  EXPECT_EQ(c1.versions, 3);
  EXPECT_EQ(c1.runs, 2);
  EXPECT_EQ(c1.created_at, (*versions)[0].created_at);
  EXPECT_EQ(c1.updated_at, (*versions)[2].created_at);

  // Each version has its audit entry, in order.
  auto entries = store->AuditEntries();
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 6u);
  EXPECT_EQ((*entries)[1].subject, "case c-1 version 2");
  EXPECT_EQ((*entries)[1].kind, "case_version");
  EXPECT_EQ((*entries)[1].content_hash, (*versions)[1].content_hash);
  EXPECT_EQ((*entries)[1].prev_hash, (*entries)[0].entry_hash);
  EXPECT_EQ((*entries)[5].subject, "run-2");
}

TEST_P(StoreRuns, RoundTripWithTraceIdOptionsAndTrace) {
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  ASSERT_OK(store->AddCaseVersion(Visit("c-2", "{}"), {}));
  RunToStore run = SampleRun("c-1", 1, 7);
  auto first = store->SaveRun(run);
  ASSERT_OK(first);
  EXPECT_EQ(*first, 1);
  auto second = store->SaveRun(SampleRun("c-2", 1, 8));
  ASSERT_OK(second);
  EXPECT_EQ(*second, 2);

  auto record = store->GetRun(1);
  ASSERT_OK(record);
  auto expected = nlohmann::ordered_json::parse(run.evaluation);
  expected["trace_id"] = "run-1";  // in its place: key order is kept
  EXPECT_EQ(record->evaluation.dump(), expected.dump());
  EXPECT_EQ(record->trace.dump(), Decompress(run.trace.bytes, "trace").value());
  EXPECT_EQ(record->options.dump(), run.options.dump());
  EXPECT_EQ(record->options, run.options);
  const RunSummary& s = record->summary;
  EXPECT_EQ(s.id, 1);
  EXPECT_EQ(s.case_id, "c-1");
  EXPECT_EQ(s.case_version, 1);
  EXPECT_EQ(s.actor, "tester");
  EXPECT_EQ(s.origin, "store_test");
  EXPECT_EQ(s.knowledge_version, "sha256:knowledge-v1");
  EXPECT_EQ(s.rules_version, "sha256:rules-v1");
  EXPECT_EQ(s.engine_version, "0.1.0");
  EXPECT_TRUE(std::regex_match(s.created_at, kIso8601)) << s.created_at;
  EXPECT_TRUE(std::regex_match(record->content_hash, kHash));
  EXPECT_EQ(record->audit_sequence, 3);  // after the two case versions

  auto all = store->ListRuns(std::nullopt);
  auto of_c2 = store->ListRuns(std::string("c-2"));
  auto of_none = store->ListRuns(std::string("c-9"));
  ASSERT_OK(all);
  ASSERT_OK(of_c2);
  ASSERT_OK(of_none);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, 1);
  EXPECT_EQ((*all)[1].id, 2);
  ASSERT_EQ(of_c2->size(), 1u);
  EXPECT_EQ((*of_c2)[0].id, 2);
  EXPECT_TRUE(of_none->empty());

  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->runs, 2);
  EXPECT_EQ(report->case_versions, 2);
  EXPECT_EQ(report->entries, 4);
  EXPECT_EQ(report->bundles, 2);
  EXPECT_EQ(report->blobs, 4);
  auto entries = store->AuditEntries();
  ASSERT_OK(entries);
  EXPECT_EQ(report->head_hash, entries->back().entry_hash);
}

// A dictionary is stored once per content and chained; a run compressed with it (trace by the
// caller, evaluation by the store) reads back exactly, also through a connection that has not seen
// the dictionary, in fewer bytes than without it; a dictionary the store does not hold is refused.
TEST_P(StoreRuns, RunsCompressedWithADictionaryReadBackExactlyInFewerBytes) {
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  // Content like the runs': another sample run's evaluation and trace.
  RunToStore like = SampleRun("c-1", 1, 3, 40);
  std::string content = like.evaluation + Decompress(like.trace.bytes, "trace").value();
  auto dictionary = store->SaveDictionary(content, "dr_who");
  ASSERT_OK(dictionary);
  ASSERT_NE(*dictionary, nullptr);
  EXPECT_EQ((*dictionary)->id(), 1);
  EXPECT_EQ((*dictionary)->content(), content);
  auto again = store->SaveDictionary(content, "dr_other");  // the same content: the same dictionary
  ASSERT_OK(again);
  EXPECT_EQ((*again)->id(), 1);
  EXPECT_EQ(store->SaveDictionary("", "dr_who").status().message(), "storing a compression dictionary: it has no content");

  RunToStore plain = SampleRun("c-1", 1, 7, 40);
  RunToStore compressed = plain;
  std::string trace_text = Decompress(plain.trace.bytes, "trace").value();
  compressed.trace = CompressText(trace_text, "the trace", *dictionary).value();
  EXPECT_LT(compressed.trace.bytes.size() * 2, plain.trace.bytes.size());
  ASSERT_OK(store->SaveRun(plain));
  ASSERT_OK(store->SaveRun(compressed));

  RawDatabase raw(backend(), location());
  EXPECT_LT(raw.Int("SELECT length(evaluation) FROM runs WHERE id = 2"),
            raw.Int("SELECT length(evaluation) FROM runs WHERE id = 1"));
  EXPECT_EQ(raw.Int("SELECT dictionary_id FROM runs WHERE id = 1"), 0);
  EXPECT_EQ(raw.Int("SELECT dictionary_id FROM runs WHERE id = 2"), 1);
  EXPECT_EQ(raw.Text("SELECT kind || ' ' || subject FROM audit_log WHERE sequence = 2"), "dictionary dictionary-1");
  auto fresh = OpenOrFail(location());  // nothing cached: the dictionary is read from the database
  ASSERT_NE(fresh, nullptr);
  for (Store* reader : {store.get(), fresh.get()}) {
    auto first = reader->GetRun(1);
    auto second = reader->GetRun(2);
    ASSERT_OK(first);
    ASSERT_OK(second);
    auto expected = nlohmann::ordered_json::parse(plain.evaluation);
    expected["trace_id"] = "run-2";
    EXPECT_EQ(second->evaluation.dump(), expected.dump());
    EXPECT_EQ(second->trace.dump(), nlohmann::ordered_json::parse(trace_text).dump());
    EXPECT_EQ(second->trace, first->trace);
  }
  auto report = fresh->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->dictionaries, 1);
  EXPECT_EQ(report->entries, 4);  // the case version, the dictionary (once) and two runs

  // A dictionary made by another database, under an id this one does not hold or holds for other content.
  const TestDatabase other_database(backend(), "other");
  auto other = OpenOrFail(other_database.location());
  ASSERT_NE(other, nullptr);
  auto foreign = other->SaveDictionary(content + " ", "dr_who");
  auto foreign_second = other->SaveDictionary(content + "  ", "dr_who");
  ASSERT_OK(foreign);
  ASSERT_OK(foreign_second);
  RunToStore stranger = plain;
  stranger.trace = CompressText(trace_text, "the trace", *foreign).value();
  EXPECT_EQ(store->SaveRun(stranger).status().message(),
            "storing a run: its trace was compressed with a dictionary this store does not hold as dictionary-1");
  stranger.trace = CompressText(trace_text, "the trace", *foreign_second).value();
  EXPECT_EQ(store->SaveRun(stranger).status().message(),
            "storing a run: its compression dictionary dictionary-2 is not stored");
  EXPECT_EQ(raw.Count("runs"), 2);
}

TEST_P(StoreRuns, BundlesAreStoredOncePerVersion) {
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  ASSERT_OK(store->SaveRun(SampleRun("c-1", 1)));
  RawDatabase raw(backend(), location());
  EXPECT_EQ(raw.Count("blobs"), 4);
  EXPECT_EQ(raw.Count("bundles"), 2);
  for (int i = 0; i < 100; ++i) {
    RunToStore run = SampleRun("c-1", 1, i);
    if (i % 2) run.rules.files.clear();  // a stored version needs no files
    ASSERT_OK(store->SaveRun(run));
  }
  EXPECT_EQ(raw.Count("blobs"), 4);
  EXPECT_EQ(raw.Count("bundles"), 2);
  EXPECT_EQ(raw.Count("runs"), 101);

  auto rules = store->GetBundle(BundleKind::kRules, "sha256:rules-v1");
  ASSERT_OK(rules);
  Bundle expected = SampleRules();
  ASSERT_EQ(rules->files.size(), expected.files.size());
  for (size_t i = 0; i < expected.files.size(); ++i) {
    EXPECT_EQ(rules->files[i].name, expected.files[i].name);
    EXPECT_EQ(rules->files[i].text, expected.files[i].text);
  }
  // A new version with one changed file adds that file only; the same file text is one blob.
  Bundle next = SampleRules("sha256:rules-v2");
  next.files[1].text += "# edited\n";
  RunToStore run = SampleRun("c-1", 1);
  run.rules = next;
  ASSERT_OK(store->SaveRun(run));
  EXPECT_EQ(raw.Count("blobs"), 5);
  EXPECT_EQ(raw.Count("bundles"), 3);
}

// The fixture knowledge base's files with names relative to its folder, as `kb build` stores them.
Bundle FixtureKnowledgeBundle(std::string* dir_out = nullptr) {
  const std::string dir = NFLUX_SOURCE_DIR "/tests/fixtures/knowledge";
  auto files = knowledge::ReadKnowledgeDir(dir);
  EXPECT_TRUE(files.ok()) << files.status().message();
  Bundle bundle{BundleKind::kKnowledge, nflux::testing::FixtureKnowledge()->version(), {}};
  for (const auto& file : files.ok() ? *files : std::vector<SourceFile>{})
    bundle.files.push_back({file.path.substr(dir.size() + 1), file.text});
  if (dir_out) *dir_out = dir;
  return bundle;
}

std::vector<SourceFile> AsSourceFiles(const Bundle& bundle) {
  std::vector<SourceFile> files;
  for (const auto& file : bundle.files) files.push_back({file.name, file.text});
  return files;
}

TEST_P(StoreBuilds, SaveBuildThenFindBuildAndGetBundleLoadTheSameKnowledge) {
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  auto kb = nflux::testing::FixtureKnowledge();
  Bundle knowledge = FixtureKnowledgeBundle();
  ASSERT_FALSE(knowledge.files.empty());
  ASSERT_OK(store->SaveBuild(*kb, knowledge, SampleRules(), "tests/fixtures/knowledge"));
  ASSERT_OK(store->SaveBuild(*kb, knowledge, SampleRules(), "elsewhere"));  // the same pair: a no-op

  auto build = store->FindBuild(std::nullopt);
  ASSERT_OK(build);
  EXPECT_EQ(build->knowledge_version, kb->version());
  EXPECT_EQ(build->rules_version, "sha256:rules-v1");
  EXPECT_EQ(build->source_dir, "tests/fixtures/knowledge");
  EXPECT_EQ(build->nodes, static_cast<int>(kb->nodes().size()));
  EXPECT_EQ(build->edges, static_cast<int>(kb->edges().size()));
  EXPECT_TRUE(std::regex_match(build->built_at, kIso8601)) << build->built_at;
  auto stored = store->GetBundle(BundleKind::kKnowledge, build->knowledge_version);
  ASSERT_OK(stored);
  auto loaded = LoadKnowledge(AsSourceFiles(*stored));
  for (const auto& problem : loaded.problems) ADD_FAILURE() << problem.ToString();
  EXPECT_EQ(loaded.kb->version(), kb->version());
  EXPECT_EQ(loaded.kb->ToJson(), kb->ToJson());
  auto rules = store->GetBundle(BundleKind::kRules, build->rules_version);
  ASSERT_OK(rules);
  EXPECT_EQ(rules->files.size(), 2u);

  // A new rule version makes a second build; each version finds its own.
  ASSERT_OK(store->SaveBuild(*kb, knowledge, SampleRules("sha256:rules-v2"), "tests/fixtures/knowledge"));
  auto builds = store->ListBuilds();
  ASSERT_OK(builds);
  ASSERT_EQ(builds->size(), 2u);
  EXPECT_EQ((*builds)[1].rules_version, "sha256:rules-v2");
  auto by_rules = store->FindBuild(std::string("sha256:rules-v1"));
  ASSERT_OK(by_rules);
  EXPECT_EQ(by_rules->id, (*builds)[0].id);
  auto by_knowledge = store->FindBuild(kb->version());
  ASSERT_OK(by_knowledge);
  EXPECT_EQ(by_knowledge->id, (*builds)[1].id);  // the latest with that knowledge

  // The queryable knowledge tables hold the graph once.
  RawDatabase raw(backend(), location());
  EXPECT_EQ(raw.Count("kb_builds"), 1);
  EXPECT_EQ(raw.Count("kb_nodes"), static_cast<int64_t>(kb->nodes().size()));
  EXPECT_EQ(raw.Count("kb_edges"), static_cast<int64_t>(kb->edges().size()));
  EXPECT_EQ(raw.Count("kb_citations"), static_cast<int64_t>(kb->citations().size()));
}

TEST_P(StoreErrors, ExactMessages) {
  const TestDatabase newer_database(backend(), "newer");
  const std::string& newer = newer_database.location();
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  auto no_build = store->FindBuild(std::nullopt);
  for (int i = 0; i < 3; ++i) ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  ASSERT_OK(store->AddCaseVersion(Visit("c-2", "{}"), {}));
  {
    auto other = OpenOrFail(newer);
    ASSERT_NE(other, nullptr);
  }
  RawDatabase(backend(), newer).SetSchemaVersion(kSchemaVersion + 1);
  RunToStore orphan = SampleRun("c-1", 4);
  RunToStore no_files = SampleRun("c-1", 1);
  no_files.rules.files.clear();
  RunToStore not_object = SampleRun("c-1", 1);
  not_object.evaluation = "[]";
  struct Case {
    const char* name;
    Status status;
    Status::Code code;
    std::string message;
  };
  const Case cases[] = {
      {"missing case", store->GetCaseVersion("c-9", 1).status(), Status::Code::kNotFound, "case c-9: no such case"},
      {"missing version", store->GetCaseVersion("c-1", 5).status(), Status::Code::kNotFound,
       "case c-1 has versions 1-3; there is no version 5"},
      {"missing version of a one-version case", store->GetCaseVersion("c-2", 2).status(), Status::Code::kNotFound,
       "case c-2 has version 1; there is no version 2"},
      {"versions of a missing case", store->ListCaseVersions("c-9").status(), Status::Code::kNotFound,
       "case c-9: no such case"},
      {"missing run", store->GetRun(42).status(), Status::Code::kNotFound, "run-42: no such run"},
      {"case exists", store->AddCaseVersion(Visit("c-1", "{}"), {.only_if_new_case = true}).status(),
       Status::Code::kInvalidArgument, "case c-1 exists (3 versions); 'nflux case edit' stores a new version"},
      {"case exists once", store->AddCaseVersion(Visit("c-2", "{}"), {.only_if_new_case = true}).status(),
       Status::Code::kInvalidArgument, "case c-2 exists (1 version); 'nflux case edit' stores a new version"},
      {"edit of a missing case", store->AddCaseVersion(Visit("c-9", "{}"), {.only_if_existing = true}).status(),
       Status::Code::kNotFound, "case c-9: no such case"},
      {"run of a missing case version", store->SaveRun(orphan).status(), Status::Code::kNotFound,
       "case c-1 has versions 1-3; there is no version 4"},
      {"run with an unstored bundle and no files", store->SaveRun(no_files).status(), Status::Code::kInvalidArgument,
       location() + ": rules version 'sha256:rules-v1' is not stored and no files were given for it"},
      {"evaluation not an object", store->SaveRun(not_object).status(), Status::Code::kInvalidArgument,
       "a run's evaluation must be a JSON object"},
      {"missing bundle", store->GetBundle(BundleKind::kRules, "sha256:nope").status(), Status::Code::kNotFound,
       location() + ": rules version 'sha256:nope' is not in this database"},
      {"no build yet", no_build.status(), Status::Code::kNotFound,
       location() + ": no knowledge base has been built into this database (run 'nflux kb build')"},
      {"missing build version", store->FindBuild(std::string("sha256:nope")).status(), Status::Code::kNotFound,
       location() + ": knowledge version 'sha256:nope' is not in this database (nor is a rules version of that name)"},
      {"newer schema", OpenStore(newer, Mode::kReadWrite).status(), Status::Code::kIOError,
       newer + ": written by a newer nflux (schema 7; this one knows 6)"},
      {"newer schema, read-only", OpenStore(newer, Mode::kReadOnly).status(), Status::Code::kIOError,
       newer + ": written by a newer nflux (schema 7; this one knows 6)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), c.message);
  }
  // None of the failed writes left anything behind.
  RawDatabase raw(backend(), location());
  EXPECT_EQ(raw.Count("runs"), 0);
  EXPECT_EQ(raw.Count("bundles"), 0);
  EXPECT_EQ(raw.Count("case_versions"), 4);
  EXPECT_EQ(raw.Count("audit_log"), 4);
}

TEST(StoreBasics, RunNamesParseBothWays) {
  EXPECT_EQ(RunName(17), "run-17");
  struct Case {
    const char* text;
    std::optional<int64_t> id;
  };
  const Case cases[] = {{"run-17", 17}, {"17", 17}, {"run-1", 1}, {"run-0", std::nullopt}, {"0", std::nullopt},
                        {"run-", std::nullopt}, {"", std::nullopt}, {"run-17x", std::nullopt}, {"-3", std::nullopt},
                        {"run-017", std::nullopt}, {"RUN-17", std::nullopt}, {"run-99999999999999999999", std::nullopt}};
  for (const auto& c : cases) EXPECT_EQ(ParseRunId(c.text), c.id) << c.text;
  EXPECT_EQ(ContentHash("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The evaluation text's top-level trace_id, whatever its place, and only that one.
TEST(StoreBasics, SetTraceIdReplacesTheTopLevelTraceIdOnly) {
  struct Case {
    std::string text, expected;
  };
  const Case cases[] = {
      {R"({"a":1,"trace_id":"sha256:ab"})", R"({"a":1,"trace_id":"run-7"})"},  // the report's shape: in place
      {R"({"trace_id":"x","b":[1]})", R"({"trace_id":"run-7","b":[1]})"},
      {R"({"a":{"trace_id":"inner"}})", R"({"a":{"trace_id":"inner"},"trace_id":"run-7"})"},
      {R"({"a":"ends \",\"trace_id\":\"","trace_id":"x"})", R"({"a":"ends \",\"trace_id\":\"","trace_id":"run-7"})"},
      {R"({"a":1,"trace_id":"with \" quote"})", R"({"a":1,"trace_id":"run-7"})"},
      {"{}", R"({"trace_id":"run-7"})"},
  };
  for (const auto& c : cases) {
    std::string text = c.text;
    ASSERT_OK(SetTraceId(text, "run-7"));
    EXPECT_EQ(text, c.expected);
  }
  for (std::string bad : {"[]", "not json", R"({"a":1,"trace_id":"x")", ""}) {
    Status status = SetTraceId(bad, "run-7");
    EXPECT_EQ(status.message(), "a run's evaluation must be a JSON object") << bad;
  }
}

TEST(StoreBasics, ReadOnlyOpenOfAMissingFileIsNotFoundAndCreatesNothing) {
  TempDatabase temp;
  const std::string missing = temp.dir() + "/absent.db";
  auto store = OpenStore(missing, Mode::kReadOnly);
  EXPECT_EQ(store.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store.status().message(), missing + ": database not found (run 'nflux kb build' first, or pass --db PATH)");
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST(StoreBasics, InMemoryStoreWorks) {
  auto store = OpenOrFail(":memory:");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(), ":memory:");
  ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  ASSERT_OK(store->SaveRun(SampleRun("c-1", 1)));
  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->entries, 2);
}

TEST(StoreBasics, ReadWriteOpenCreatesFoldersAndReadOnlyReads) {
  TempDatabase temp;
  const std::string nested = temp.dir() + "/a/b/nflux.db";
  {
    auto store = OpenOrFail(nested);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->Describe(), nested);
    ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{\"x\": 1}"), {}));
  }
  RawConnection raw(nested);
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Int("PRAGMA user_version"), kSchemaVersion);
  auto reader = OpenOrFail(nested, Mode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  auto got = reader->GetCaseVersion("c-1", 1);
  ASSERT_OK(got);
  EXPECT_EQ(got->submitted, "{\"x\": 1}");
  auto write = reader->AddCaseVersion(Visit("c-1", "{}"), {});
  EXPECT_EQ(write.status().code(), Status::Code::kIOError);
  EXPECT_NE(write.status().message().find("readonly"), std::string::npos) << write.status().message();
}

// A store opened read-only reads what a read-write one stored, and refuses to write.
TEST_P(StoreModes, ReadOnlyOpenReadsAndRefusesWrites) {
  {
    auto store = OpenOrFail(location());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{\"x\": 1}"), {}));
  }
  auto reader = OpenOrFail(location(), Mode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  auto got = reader->GetCaseVersion("c-1", 1);
  ASSERT_OK(got);
  EXPECT_EQ(got->submitted, "{\"x\": 1}");
  auto write = reader->AddCaseVersion(Visit("c-1", "{}"), {});
  EXPECT_EQ(write.status().code(), Status::Code::kIOError);
  EXPECT_NE(write.status().message().find(backend() == Backend::kSqlite ? "readonly" : "read-only"), std::string::npos)
      << write.status().message();
  RawDatabase raw(backend(), location());
  EXPECT_EQ(raw.Count("case_versions"), 1);
  EXPECT_EQ(raw.Count("audit_log"), 1);
}

// ---- Migrations

// The schema nflux 0.1 created (git show HEAD~1:engine/store/store.cc), with one build whose
// sources are stored by path as given.
void CreateSchema1Database(const std::string& path, const Bundle& knowledge, const std::string& source_dir) {
  RawConnection raw(path);
  raw.Exec(R"sql(
    PRAGMA foreign_keys = ON;
    CREATE TABLE IF NOT EXISTS kb_builds (
      version TEXT PRIMARY KEY, built_at TEXT NOT NULL, source_dir TEXT NOT NULL,
      engine_version TEXT NOT NULL, nodes INTEGER NOT NULL, edges INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS kb_sources (
      version TEXT NOT NULL REFERENCES kb_builds(version), path TEXT NOT NULL, content TEXT NOT NULL,
      PRIMARY KEY (version, path));
    CREATE TABLE IF NOT EXISTS kb_nodes (
      version TEXT NOT NULL REFERENCES kb_builds(version), id TEXT NOT NULL, kind TEXT NOT NULL,
      label TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (version, id));
    CREATE TABLE IF NOT EXISTS kb_edges (
      version TEXT NOT NULL REFERENCES kb_builds(version), from_id TEXT NOT NULL, type TEXT NOT NULL,
      to_id TEXT NOT NULL, sign INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (version, from_id, type, to_id));
    CREATE TABLE IF NOT EXISTS kb_citations (
      version TEXT NOT NULL REFERENCES kb_builds(version), key TEXT NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (version, key));
  )sql");
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(raw.db(), "INSERT INTO kb_builds VALUES (?, '2026-01-02T03:04:05Z', ?, '0.1.0', 7, 8)", -1, &stmt,
                     nullptr);
  sqlite3_bind_text(stmt, 1, knowledge.version.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 2, source_dir.c_str(), -1, SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(raw.db(), "INSERT INTO kb_sources VALUES (?, ?, ?)", -1, &stmt, nullptr);
  for (const auto& file : knowledge.files) {
    std::string path = source_dir + "/" + file.name;
    sqlite3_bind_text(stmt, 1, knowledge.version.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, path.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 3, file.text.data(), static_cast<int>(file.text.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
}

TEST(StoreMigrations, EmptyFileBecomesSchema2) {
  TempDatabase temp;
  std::filesystem::create_directories(temp.dir());
  { std::ofstream touch(temp.path()); }
  ASSERT_EQ(std::filesystem::file_size(temp.path()), 0u);
  auto read_only = OpenStore(temp.path(), Mode::kReadOnly);
  EXPECT_EQ(read_only.status().code(), Status::Code::kIOError);
  EXPECT_EQ(read_only.status().message(),
            temp.path() + ": the database has schema 0 and needs 6; open it read-write once to upgrade it (e.g. 'nflux "
                          "kb build --db " + temp.path() + "')");
  auto store = OpenOrFail(temp.path());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  RawConnection raw(temp.path());
  EXPECT_EQ(raw.Int("PRAGMA user_version"), kSchemaVersion);
  for (const char* table : {"kb_builds", "kb_nodes", "blobs", "bundles", "builds", "cases", "case_versions", "runs",
                            "audit_log"})
    EXPECT_EQ(raw.Int(std::string("SELECT COUNT(*) FROM sqlite_master WHERE name = '") + table + "'"), 1) << table;
}

TEST(StoreMigrations, Schema1BuildStillLoads) {
  TempDatabase temp;
  std::filesystem::create_directories(temp.dir());
  Bundle knowledge = FixtureKnowledgeBundle();
  CreateSchema1Database(temp.path(), knowledge, "old/knowledge");
  auto read_only = OpenStore(temp.path(), Mode::kReadOnly);
  EXPECT_EQ(read_only.status().code(), Status::Code::kIOError);
  EXPECT_NE(read_only.status().message().find("has schema 1 and needs 6"), std::string::npos);

  auto store = OpenOrFail(temp.path());
  ASSERT_NE(store, nullptr);
  RawConnection raw(temp.path());
  EXPECT_EQ(raw.Int("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'kb_sources'"), 0);
  auto build = store->FindBuild(std::nullopt);
  ASSERT_OK(build);
  EXPECT_EQ(build->knowledge_version, knowledge.version);
  EXPECT_EQ(build->rules_version, "");
  EXPECT_EQ(build->built_at, "2026-01-02T03:04:05Z");
  EXPECT_EQ(build->source_dir, "old/knowledge");
  EXPECT_EQ(build->nodes, 7);
  auto bundle = store->GetBundle(BundleKind::kKnowledge, build->knowledge_version);
  ASSERT_OK(bundle);
  ASSERT_EQ(bundle->files.size(), knowledge.files.size());
  EXPECT_EQ(bundle->files[0].name, knowledge.files[0].name);  // relative to the folder again
  auto loaded = LoadKnowledge(AsSourceFiles(*bundle));
  for (const auto& problem : loaded.problems) ADD_FAILURE() << problem.ToString();
  EXPECT_EQ(loaded.kb->version(), knowledge.version);
  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->bundles, 1);
}

// Schema 5 to 6 adds compression dictionaries: runs stored before keep their hashes and read back.
TEST(StoreMigrations, Schema5RunsStillVerifyAndReadAfterSchema6) {
  TempDatabase temp;
  std::string evaluation;
  {
    auto store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
    ASSERT_OK(store->SaveRun(SampleRun("c-1", 1, 5)));
    evaluation = store->GetRun(1).value().evaluation.dump();
  }
  {
    // Back to schema 5 as nflux wrote it: no dictionaries table, no dictionary_id column.
    RawConnection raw(temp.path());
    raw.Exec("DROP TABLE compression_dictionaries; ALTER TABLE runs DROP COLUMN dictionary_id; PRAGMA user_version = 5");
  }
  auto store = OpenOrFail(temp.path());
  ASSERT_NE(store, nullptr);
  RawConnection raw(temp.path());
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 6);
  EXPECT_EQ(raw.Int("SELECT dictionary_id FROM runs WHERE id = 1"), 0);
  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(store->GetRun(1).value().evaluation.dump(), evaluation);
  ASSERT_OK(store->SaveDictionary("{\"rules\": []}", "dr_who"));
  EXPECT_EQ(raw.Count("compression_dictionaries"), 1);
}

TEST(StoreMigrations, ReopeningSchema2ChangesNothing) {
  TempDatabase temp;
  {
    auto store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  }
  RawConnection raw(temp.path());
  // schema_version counts every schema change; a reopen must not make one.
  int64_t schema_cookie = raw.Int("PRAGMA schema_version");
  std::string schema = raw.Text("SELECT group_concat(sql, ';') FROM sqlite_master");
  auto store = OpenOrFail(temp.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(raw.Int("PRAGMA schema_version"), schema_cookie);
  EXPECT_EQ(raw.Text("SELECT group_concat(sql, ';') FROM sqlite_master"), schema);
  EXPECT_EQ(raw.Count("case_versions"), 1);
}

// ---- Hostile text

// A text PostgreSQL refuses (not UTF-8, or holding a NUL), stored as a case and as a run's actor:
// both are refused with the server's reason, and nothing is written.
void ExpectRefusedByPostgres(Store& store, RawDatabase& raw, const std::string& text) {
  const int64_t entries = raw.Count("audit_log");
  const int64_t versions = raw.Count("case_versions");
  const int64_t runs = raw.Count("runs");
  CaseVersion visit{.case_id = "refused", .actor = "dr_who", .submitted = text, .normalised = "{}"};
  auto stored = store.AddCaseVersion(visit, {});
  EXPECT_EQ(stored.status().code(), Status::Code::kIOError);
  EXPECT_EQ(stored.status().message().rfind(store.Describe() + ": ", 0), 0u) << stored.status().message();
  EXPECT_NE(stored.status().message().find("invalid byte sequence for encoding \"UTF8\""), std::string::npos)
      << stored.status().message();
  ASSERT_OK(store.AddCaseVersion(Visit("accepted", "{}"), {}));
  RunToStore run = SampleRun("accepted", 1);
  run.actor = text;
  auto id = store.SaveRun(run);
  EXPECT_EQ(id.status().code(), Status::Code::kIOError);
  EXPECT_EQ(id.status().message().rfind(store.Describe() + ": ", 0), 0u) << id.status().message();
  EXPECT_NE(id.status().message().find("invalid byte sequence for encoding \"UTF8\""), std::string::npos)
      << id.status().message();
  EXPECT_EQ(raw.Count("audit_log"), entries + 1);  // the accepted case only
  EXPECT_EQ(raw.Count("case_versions"), versions + 1);
  EXPECT_EQ(raw.Count("runs"), runs);
  EXPECT_EQ(raw.Count("cases WHERE case_id = 'refused'"), 0);
}

TEST_P(StoreText, MetacharactersLongStringsAndOddUnicodeRoundTrip) {
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  RawDatabase raw(backend(), location());
  const std::vector<std::string> texts = {
      "'; DROP TABLE runs; --",
      "Robert'); DELETE FROM audit_log; --",
      "\"double\" 'single' `back` \\backslash\\ \\\\ %_ ?1 :name @x $y $1 $$dollar$$",
      std::string(1 << 20, 'x') + "end",
      "\u200F\u05E9\u05DC\u05D5\u05DD\u200E mixed \u202E reversed",   // RTL marks
      "e\u0301 a\u0308 Z\u0351\u0352\u0353",                          // combining characters
      "\U0001F9E0 \U0001F468\u200D\U0001F469\u200D\U0001F467 \U0001F3FD",  // emoji, ZWJ sequence
      "\uFFFD \uFFFE\uFFFF \U0010FFFF",                                // noncharacters, the last code point
      std::string("nul\0inside\0", 11),                                // embedded NULs
      "not \xC3\x28 UTF-8 \xFF",                                       // invalid UTF-8
  };
  int version = 0;
  for (const auto& text : texts) {
    SCOPED_TRACE(text.substr(0, 40));
    // JSON strings may hold any UTF-8 (a NUL as \u0000 too); PostgreSQL's texts hold UTF-8 without NULs.
    const bool utf8 = IsValidUtf8(text) && text.find('\0') == std::string::npos;
    if (backend() == Backend::kPostgres && !utf8) {
      ExpectRefusedByPostgres(*store, raw, text);
      continue;
    }
    CaseVersion visit{.case_id = text.size() < 1000 ? text : "long", .actor = text, .submitted = text,
                      .normalised = text};
    auto stored = store->AddCaseVersion(visit, {});
    ASSERT_OK(stored);
    auto got = store->GetCaseVersion(visit.case_id, stored->version);
    ASSERT_OK(got);
    EXPECT_EQ(got->case_id, visit.case_id);
    EXPECT_TRUE(got->submitted == text) << "submitted differs";
    EXPECT_TRUE(got->normalised == text) << "normalised differs";
    EXPECT_TRUE(got->actor == text) << "actor differs";
    // JSON holds UTF-8 only: the evaluation names another case id then.
    RunToStore run = SampleRun(IsValidUtf8(text) ? visit.case_id : "not-utf-8", stored->version);
    run.case_id = visit.case_id;
    auto evaluation = nlohmann::ordered_json::parse(run.evaluation);
    nlohmann::json trace = {{"firings", nlohmann::json::array()}};
    run.actor = run.origin = text;
    if (utf8) {
      run.options["text"] = text;
      evaluation["note"] = text;
      trace["note"] = text;
    }
    run.evaluation = evaluation.dump();
    run.trace = CompressText(trace.dump(), "the trace").value();
    auto id = store->SaveRun(run);
    ASSERT_OK(id);
    auto record = store->GetRun(*id);
    ASSERT_OK(record);
    EXPECT_TRUE(record->summary.actor == text && record->summary.origin == text);
    EXPECT_TRUE(record->summary.case_id == visit.case_id);
    if (utf8) {
      EXPECT_TRUE(record->options["text"] == text);
      EXPECT_TRUE(record->evaluation["note"] == text);
      EXPECT_TRUE(record->trace["note"] == text);
    }
    ++version;
  }
  // Every table is still there, and every hash still verifies.
  const int refused = backend() == Backend::kPostgres ? 2 : 0;  // each left one accepted case version
  EXPECT_EQ(raw.Count("runs"), version);
  EXPECT_EQ(raw.Count("audit_log"), 2 * version + refused);
  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems.front();
}

TEST_P(StoreText, InvalidUtf8InJsonIsAnErrorNotACrash) {
  auto store = OpenOrFail(location());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddCaseVersion(Visit("c-1", "{}"), {}));
  RunToStore run = SampleRun("c-1", 1);
  run.evaluation.insert(run.evaluation.size() - 1, ",\"bad\":\"\xFF\xFE\"");
  auto id = store->SaveRun(run);
  EXPECT_EQ(id.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(id.status().message(), "the evaluation cannot be stored: it is not UTF-8");
  auto trace = CompressText("{\"bad\":\"\xC3\"}", "the trace");  // a sequence cut short
  EXPECT_EQ(trace.status().message(), "the trace cannot be stored: it is not UTF-8");
  RunToStore no_trace = SampleRun("c-1", 1);
  no_trace.trace = {};
  EXPECT_EQ(store->SaveRun(no_trace).status().message(), "a run needs its trace (CompressText)");
  auto runs = store->ListRuns(std::nullopt);
  ASSERT_OK(runs);
  EXPECT_TRUE(runs->empty());
}

}  // namespace
}  // namespace nflux::store
