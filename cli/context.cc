#include "cli/context.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "store/store.h"

namespace nflux::cli {
namespace {

// <folder of the nflux binary>/.. — so build/nflux finds the repository's knowledge/ and rules/.
std::string ExecutableParent() {
  std::error_code error;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "";
  return exe.parent_path().parent_path().string();
}

std::string ResolveDir(const std::string& given, const char* env_name, const char* name) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv(env_name); env && *env) return env;
  if (std::filesystem::is_directory(name)) return name;
  std::string beside = ExecutableParent() + "/" + name;
  if (std::filesystem::is_directory(beside)) return beside;
  return name;
}

}  // namespace

std::string ResolveKnowledgeDir(const GlobalOptions& options) {
  return ResolveDir(options.knowledge_dir, "NFLUX_KNOWLEDGE", "knowledge");
}

std::string ResolveRulesDir(const GlobalOptions& options) {
  return ResolveDir(options.rules_dir, "NFLUX_RULES", "rules");
}

std::string ResolveDbPath(const GlobalOptions& options) {
  return options.db_path.empty() ? store::DefaultDatabasePath() : options.db_path;
}

int BadInput(const std::string& message) {
  std::cerr << message << "\n";
  return kExitBadInput;
}

std::shared_ptr<const knowledge::KnowledgeBase> LoadKnowledgeOrReport(Context& context) {
  const GlobalOptions& options = context.options;
  Result<std::vector<knowledge::SourceFile>> files = Status::Internal("unset");
  if (options.from_db) {
    auto db = store::Database::Open(ResolveDbPath(options), store::Database::Mode::kReadOnly);
    if (!db.ok()) {
      context.exit_code = BadInput(db.status().message());
      return nullptr;
    }
    files = (*db)->LoadKnowledgeSources(options.kb_version.empty() ? std::nullopt
                                                                    : std::optional<std::string>(options.kb_version));
  } else {
    files = knowledge::ReadKnowledgeDir(ResolveKnowledgeDir(options));
  }
  if (!files.ok()) {
    context.exit_code = BadInput(files.status().message());
    return nullptr;
  }
  auto outcome = knowledge::LoadKnowledge(*files);
  if (!outcome.problems.empty()) {
    for (const auto& problem : outcome.problems) std::cerr << problem.ToString() << "\n";
    std::cerr << outcome.problems.size() << " problem(s) in the knowledge base; run 'nflux kb validate'\n";
    context.exit_code = kExitBadInput;
    return nullptr;
  }
  return outcome.kb;
}

void AddKnowledgeSourceOptions(CLI::App* command, GlobalOptions& options) {
  command->add_flag("--from-db", options.from_db, "Load the knowledge base compiled by 'nflux kb build' from --db");
  command->add_option("--kb-version", options.kb_version, "With --from-db: the version to load (default: latest)");
}

}  // namespace nflux::cli
