// Tests for engine/store's knowledge part (store.cc): SaveKnowledge / LoadKnowledgeSources round
// trips, idempotent saves, ListKnowledgeBuilds, the errors for missing databases and versions, and
// atomicity: a locked database, or a failure half-way through a save, leaves nothing behind.
//
// Each test uses its own database file under testing::TempDir(); a second, raw sqlite3 connection
// plays "another process".

#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

namespace nflux::store {
namespace {

using knowledge::LoadKnowledge;
using knowledge::SourceFile;
using nlohmann::json;

// A unique database path for the running test; removed before and after.
class TempDatabase {
 public:
  TempDatabase() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("nflux_store_" + std::to_string(getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "nflux.db").string();
  }
  ~TempDatabase() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

// A raw connection, for locking and for counting rows behind the store's back.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK) << path;
  }
  ~RawConnection() { sqlite3_close(db_); }
  void Exec(const char* sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  int Count(const std::string& table) {
    sqlite3_stmt* stmt = nullptr;
    std::string sql = "SELECT COUNT(*) FROM " + table;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    int count = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return count;
  }

 private:
  sqlite3* db_ = nullptr;
};

const char* const kTables[] = {"kb_builds", "kb_sources", "kb_nodes", "kb_edges", "kb_citations"};

// A small valid knowledge base in two files; `label` varies it to make another version.
std::vector<SourceFile> SmallKnowledge(const std::string& label = "Serotonin") {
  json nodes = {{"nodes",
                 {{{"id", "serotonin"}, {"kind", "neurotransmitter"}, {"label", label}, {"description", "5-HT."}},
                  {{"id", "tryptophan"}, {"kind", "precursor"}, {"label", "Tryptophan"}, {"description", "Trp."}},
                  {{"id", "iron"}, {"kind", "cofactor"}, {"label", "Iron"}, {"description", "Fe."}},
                  {{"id", "tph2"},
                   {"kind", "enzyme"},
                   {"label", "TPH2"},
                   {"description", "Tryptophan hydroxylase 2."},
                   {"cofactors", {"iron"}},
                   {"citations", {"small_paper"}}}}},
                {"edges",
                 {{{"from", "tryptophan"},
                   {"type", "precursor_of"},
                   {"to", "serotonin"},
                   {"citations", {"small_paper"}}}}}};
  json citations = {{"citations",
                     {{"small_paper",
                       {{"kind", "paper"}, {"title", "Small"}, {"source", "J 2020;1:1"}, {"verified", "checked"}, {"grade", "C"}}}}}};
  return {SourceFile{"small/citations.json", citations.dump(2)}, SourceFile{"small/nodes.json", nodes.dump(2)}};
}

std::shared_ptr<const knowledge::KnowledgeBase> LoadOrFail(const std::vector<SourceFile>& files) {
  auto outcome = LoadKnowledge(files);
  for (const auto& problem : outcome.problems) ADD_FAILURE() << problem.ToString();
  return outcome.kb;
}

std::unique_ptr<Database> OpenOrFail(const std::string& path, Database::Mode mode) {
  auto db = Database::Open(path, mode);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(*db) : nullptr;
}

void ExpectSameFiles(const std::vector<SourceFile>& actual, const std::vector<SourceFile>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].path, expected[i].path);
    EXPECT_TRUE(actual[i].text == expected[i].text) << actual[i].path << " text differs";
  }
}

TEST(StoreTest, RealKnowledgeRoundTripsWithSameVersionAndJson) {
  TempDatabase temp;
  auto files = knowledge::ReadKnowledgeDir(NFLUX_SOURCE_DIR "/knowledge");
  ASSERT_TRUE(files.ok()) << files.status().message();
  auto kb = LoadOrFail(*files);
  auto db = OpenOrFail(temp.path(), Database::Mode::kReadWrite);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SaveKnowledge(*kb, *files, "knowledge").ok());

  for (const auto& version : {std::optional<std::string>(kb->version()), std::optional<std::string>()}) {
    SCOPED_TRACE(version ? *version : "latest");
    auto loaded = db->LoadKnowledgeSources(version);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    ExpectSameFiles(*loaded, *files);
    auto reloaded = LoadOrFail(*loaded);
    EXPECT_EQ(reloaded->version(), kb->version());
    EXPECT_TRUE(reloaded->ToJson() == kb->ToJson()) << "ToJson differs after the round trip";
  }

  // The queryable tables hold the whole graph.
  RawConnection raw(temp.path());
  EXPECT_EQ(raw.Count("kb_builds"), 1);
  EXPECT_EQ(raw.Count("kb_sources"), static_cast<int>(files->size()));
  EXPECT_EQ(raw.Count("kb_nodes"), static_cast<int>(kb->nodes().size()));
  EXPECT_EQ(raw.Count("kb_edges"), static_cast<int>(kb->edges().size()));
  EXPECT_EQ(raw.Count("kb_citations"), static_cast<int>(kb->citations().size()));
}

TEST(StoreTest, ReadOnlyConnectionLoadsWhatWasSaved) {
  TempDatabase temp;
  auto files = SmallKnowledge();
  auto kb = LoadOrFail(files);
  {
    auto db = OpenOrFail(temp.path(), Database::Mode::kReadWrite);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->SaveKnowledge(*kb, files, "small").ok());
  }
  auto db = OpenOrFail(temp.path(), Database::Mode::kReadOnly);
  ASSERT_NE(db, nullptr);
  auto loaded = db->LoadKnowledgeSources(std::nullopt);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ExpectSameFiles(*loaded, files);
  EXPECT_EQ(LoadOrFail(*loaded)->version(), kb->version());
}

TEST(StoreTest, SavingTheSameVersionTwiceIsANoOp) {
  TempDatabase temp;
  auto files = SmallKnowledge();
  auto kb = LoadOrFail(files);
  auto db = OpenOrFail(temp.path(), Database::Mode::kReadWrite);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SaveKnowledge(*kb, files, "small").ok());
  RawConnection raw(temp.path());
  std::vector<int> before;
  for (const char* table : kTables) before.push_back(raw.Count(table));
  EXPECT_EQ(before, (std::vector<int>{1, 2, 4, 2, 1}));  // 4 nodes; 1 written + 1 generated edge

  Status again = db->SaveKnowledge(*kb, files, "somewhere_else");
  EXPECT_TRUE(again.ok()) << again.message();
  std::vector<int> after;
  for (const char* table : kTables) after.push_back(raw.Count(table));
  EXPECT_EQ(after, before);
  auto builds = db->ListKnowledgeBuilds();
  ASSERT_TRUE(builds.ok());
  ASSERT_EQ(builds->size(), 1u);
  EXPECT_EQ((*builds)[0].source_dir, "small");  // the first save is kept
}

TEST(StoreTest, ListKnowledgeBuildsInBuildOrder) {
  TempDatabase temp;
  auto db = OpenOrFail(temp.path(), Database::Mode::kReadWrite);
  ASSERT_NE(db, nullptr);
  auto empty = db->ListKnowledgeBuilds();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  auto first_files = SmallKnowledge("Serotonin");
  auto second_files = SmallKnowledge("5-hydroxytryptamine");
  auto first = LoadOrFail(first_files);
  auto second = LoadOrFail(second_files);
  ASSERT_NE(first->version(), second->version());
  ASSERT_TRUE(db->SaveKnowledge(*first, first_files, "dir_one").ok());
  ASSERT_TRUE(db->SaveKnowledge(*second, second_files, "dir_two").ok());

  auto builds = db->ListKnowledgeBuilds();
  ASSERT_TRUE(builds.ok()) << builds.status().message();
  ASSERT_EQ(builds->size(), 2u);
  const std::regex iso8601(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  struct Expected {
    std::string version, source_dir;
  };
  const Expected expected[] = {{first->version(), "dir_one"}, {second->version(), "dir_two"}};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ((*builds)[i].version, expected[i].version);
    EXPECT_EQ((*builds)[i].source_dir, expected[i].source_dir);
    EXPECT_EQ((*builds)[i].nodes, 4);
    EXPECT_EQ((*builds)[i].edges, 2);
    EXPECT_TRUE(std::regex_match((*builds)[i].built_at, iso8601)) << (*builds)[i].built_at;
  }

  // The latest build is what loads by default; each version loads its own files.
  auto latest = db->LoadKnowledgeSources(std::nullopt);
  ASSERT_TRUE(latest.ok());
  ExpectSameFiles(*latest, second_files);
  auto older = db->LoadKnowledgeSources(first->version());
  ASSERT_TRUE(older.ok());
  ExpectSameFiles(*older, first_files);
}

TEST(StoreTest, ErrorsNameThePathAndWhatIsMissing) {
  TempDatabase temp;
  const std::string missing = temp.dir() + "/absent.db";
  struct Case {
    const char* name;
    Status status;
    Status::Code code;
    std::string message;
  };
  auto open_missing = Database::Open(missing, Database::Mode::kReadOnly);
  auto db = OpenOrFail(temp.path(), Database::Mode::kReadWrite);
  ASSERT_NE(db, nullptr);
  auto nothing_built = db->LoadKnowledgeSources(std::nullopt);
  auto kb = LoadOrFail(SmallKnowledge());
  ASSERT_TRUE(db->SaveKnowledge(*kb, SmallKnowledge(), "small").ok());
  auto absent_version = db->LoadKnowledgeSources(std::string("sha256:0000"));

  const Case cases[] = {
      {"read-only open of a missing file", open_missing.status(), Status::Code::kNotFound,
       missing + ": database not found (run 'nflux kb build' first, or pass --db PATH)"},
      {"nothing built yet", nothing_built.status(), Status::Code::kNotFound,
       temp.path() + ": no knowledge base has been built into this database (run 'nflux kb build')"},
      {"version not there", absent_version.status(), Status::Code::kNotFound,
       temp.path() + ": knowledge version 'sha256:0000' is not in this database"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), c.message);
  }
  // A read-only open never creates the file.
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST(StoreTest, ReadWriteOpenCreatesFolders) {
  TempDatabase temp;
  const std::string nested = temp.dir() + "/a/b/nflux.db";
  auto db = OpenOrFail(nested, Database::Mode::kReadWrite);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->path(), nested);
  EXPECT_TRUE(std::filesystem::exists(nested));
}

TEST(StoreTest, LockedDatabaseFailsAndWritesNothing) {
  TempDatabase temp;
  auto files = SmallKnowledge();
  auto kb = LoadOrFail(files);
  auto db = OpenOrFail(temp.path(), Database::Mode::kReadWrite);  // schema created before the lock
  ASSERT_NE(db, nullptr);
  {
    RawConnection other(temp.path());
    other.Exec("BEGIN EXCLUSIVE");
    Status status = db->SaveKnowledge(*kb, files, "small");
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), Status::Code::kIOError);
    EXPECT_NE(status.message().find("locked"), std::string::npos) << status.message();
    EXPECT_EQ(status.message().rfind(temp.path() + ": ", 0), 0u) << status.message();
    other.Exec("ROLLBACK");
  }
  RawConnection fresh(temp.path());
  for (const char* table : kTables) EXPECT_EQ(fresh.Count(table), 0) << table;

  // Once the lock is gone the same save succeeds.
  Status retry = db->SaveKnowledge(*kb, files, "small");
  EXPECT_TRUE(retry.ok()) << retry.message();
  EXPECT_EQ(fresh.Count("kb_builds"), 1);
}

TEST(StoreTest, FailureHalfWayThroughASaveRollsBack) {
  TempDatabase temp;
  auto files = SmallKnowledge();
  auto kb = LoadOrFail(files);
  // Violates SaveKnowledge's precondition on purpose: the same path twice makes the second insert
  // fail after the build row and the first source are written.
  auto broken = files;
  broken.push_back(files[0]);
  auto db = OpenOrFail(temp.path(), Database::Mode::kReadWrite);
  ASSERT_NE(db, nullptr);
  Status status = db->SaveKnowledge(*kb, broken, "small");
  EXPECT_EQ(status.code(), Status::Code::kIOError);
  EXPECT_EQ(status.message(), temp.path() + ": storing small/citations.json: UNIQUE constraint failed: "
                                            "kb_sources.version, kb_sources.path");
  RawConnection fresh(temp.path());
  for (const char* table : kTables) EXPECT_EQ(fresh.Count(table), 0) << table;
  // The connection is usable afterwards (no transaction left open).
  EXPECT_TRUE(db->SaveKnowledge(*kb, files, "small").ok());
  EXPECT_EQ(fresh.Count("kb_sources"), 2);
}

}  // namespace
}  // namespace nflux::store
