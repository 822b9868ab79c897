// SQLite persistence. Nothing else in NeuroFlux touches SQL.
//
// The knowledge part: `nflux kb build` compiles a validated knowledge base into the database so
// that later runs can cite, and reload, the exact version they used. The source files are stored
// verbatim (loading them back gives the same graph and the same version) next to queryable
// tables of nodes, edges and citations.
//
// A Database owns one sqlite3 connection; use it from one thread at a time. Every write runs in
// one transaction: on any failure nothing is written.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "knowledge/knowledge.h"

struct sqlite3;

namespace nflux::store {

// $NFLUX_DB if set, else $XDG_DATA_HOME/nflux/nflux.db, else ~/.local/share/nflux/nflux.db.
std::string DefaultDatabasePath();

struct KnowledgeBuild {
  std::string version;
  std::string built_at;  // UTC, ISO 8601
  std::string source_dir;
  int nodes = 0;
  int edges = 0;
};

class Database {
 public:
  enum class Mode { kReadOnly, kReadWrite };
  // Opens (kReadWrite: creating the file and its folder if needed) and migrates the schema.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }

  // Stores a validated knowledge base and its source files. Storing a version that is already
  // there is a no-op that returns ok.
  // REQUIRES: `kb` was loaded from exactly `sources`.
  Status SaveKnowledge(const knowledge::KnowledgeBase& kb, const std::vector<knowledge::SourceFile>& sources,
                       const std::string& source_dir);
  // The source files of `version`, or of the most recently built version when none is given.
  Result<std::vector<knowledge::SourceFile>> LoadKnowledgeSources(const std::optional<std::string>& version) const;
  Result<std::vector<KnowledgeBuild>> ListKnowledgeBuilds() const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Execute(const std::string& sql);
  Status Migrate();
  sqlite3* db_;
  std::string path_;
};

}  // namespace nflux::store
