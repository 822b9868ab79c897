// Helpers shared by the store tests: a database file per test, a raw sqlite3 connection that
// plays "another process" (locks, counts and tampers behind the store's back), and sample
// bundles and runs.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "store/store.h"
#include "testutil.h"

namespace nflux::store::testing {

// A unique database path for the running test; its folder is removed before and after. A second
// database in the same test needs its own `suffix`.
class TempDatabase {
 public:
  explicit TempDatabase(const std::string& suffix = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name() + (suffix.empty() ? "" : "_" + suffix);
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = std::filesystem::path(::testing::TempDir()) / ("nflux_store_" + std::to_string(getpid()) + "_" + name);
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

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A raw connection, for locking, counting and tampering behind the store's back.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, flags, nullptr), SQLITE_OK) << path;
  }
  ~RawConnection() { sqlite3_close(db_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  sqlite3* db() const { return db_; }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  // The first column of the first row as text ("" when there is none).
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    std::string text;
    if (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      const void* data = sqlite3_column_blob(stmt, 0);
      if (data) text.assign(static_cast<const char*>(data), sqlite3_column_bytes(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return text;
  }
  int64_t Int(const std::string& sql) { return std::stoll("0" + Text(sql)); }
  int64_t Count(const std::string& table) { return Int("SELECT COUNT(*) FROM " + table); }
  // Flips one bit of one byte of `column` in the row `where` selects (text or blob), keeping its type.
  void FlipByte(const std::string& table, const std::string& column, const std::string& where, size_t at = 10) {
    std::string bytes = Text("SELECT " + column + " FROM " + table + " WHERE " + where);
    std::string type = Text("SELECT typeof(" + column + ") FROM " + table + " WHERE " + where);
    ASSERT_GT(bytes.size(), at) << table << "." << column;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    sqlite3_stmt* stmt = nullptr;
    std::string sql = "UPDATE " + table + " SET " + column + " = ? WHERE " + where;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    if (type == "blob") sqlite3_bind_blob(stmt, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    else sqlite3_bind_text(stmt, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    EXPECT_EQ(sqlite3_changes(db_), 1) << sql;
    sqlite3_finalize(stmt);
  }

 private:
  sqlite3* db_ = nullptr;
};

inline std::unique_ptr<Store> OpenOrFail(const std::string& path, Mode mode = Mode::kReadWrite,
                                         int busy_timeout_ms = kDefaultBusyTimeoutMs) {
  auto store = OpenStore(path, mode, busy_timeout_ms);
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(*store) : nullptr;
}

inline Bundle SampleRules(const std::string& version = "sha256:rules-v1") {
  return Bundle{BundleKind::kRules, version,
                {{"mood.rules", "rule low_mood {\n  when phq9.total >= 10\n  then conclude low_mood 0.6\n}\n"},
                 {"sleep.rules", "rule poor_sleep {\n  when psqi.total > 5\n  then conclude poor_sleep 0.7\n}\n"}}};
}

inline Bundle SampleKnowledge(const std::string& version = "sha256:knowledge-v1") {
  return Bundle{BundleKind::kKnowledge, version,
                {{"labs.json", "{\"nodes\": []}\n"}, {"nodes.json", "{\"nodes\": [{\"id\": \"serotonin\"}]}\n"}}};
}

// An evaluation and trace about as large as a real one (output.md: some 30 KB; the trace of a
// few hundred rule firings), varied by `seed`.
inline RunToStore SampleRun(const std::string& case_id, int case_version, int seed = 0, size_t deficits = 3) {
  RunToStore run;
  run.case_id = case_id;
  run.case_version = case_version;
  run.actor = "tester";
  run.origin = "store_test";
  run.engine_version = "0.1.0";
  run.knowledge = SampleKnowledge();
  run.rules = SampleRules();
  run.options = {{"strict", seed % 2 == 0}, {"source", "case.json"}, {"flux", {{"serotonin.synthesis", 0.7}}}};
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < deficits; ++i)
    list.push_back({{"id", "deficit_" + std::to_string(i)}, {"certainty", 0.5 + 0.001 * seed}, {"because", "x"}});
  run.evaluation = nlohmann::ordered_json{{"case_id", case_id}, {"deficits", list}, {"trace_id", "sha256:before"}, {"seed", seed}}
                       .dump();
  nlohmann::json firings = nlohmann::json::array();
  for (size_t i = 0; i < deficits * 4; ++i)
    firings.push_back({{"rule", "rule_" + std::to_string(i)}, {"cycle", i}, {"certainty", 0.01 * seed}});
  run.trace = CompressText(nlohmann::json{{"firings", firings}}.dump(), "the trace").value();
  return run;
}

}  // namespace nflux::store::testing
