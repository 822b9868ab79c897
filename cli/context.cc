#include "cli/context.h"

#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/json.h"
#include "base/json_writer.h"
#include "base/text.h"
#include "explain/explain.h"
#include "report/report.h"
#include "snapshot/snapshot.h"
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

int Fail(const Status& status) {
  std::cerr << status.message() << "\n";
  return ExitCodeFor(status);
}

pipeline::Options PipelineOptions(const GlobalOptions& options) {
  pipeline::Options out;
  out.knowledge_dir = ResolveKnowledgeDir(options);
  out.rules_dir = ResolveRulesDir(options);
  out.from_db = options.from_db;
  out.db_path = ResolveDbPath(options);
  out.kb_version = options.kb_version;
  if (!options.no_snapshot) out.snapshot_dir = snapshot::DefaultCacheDir();
  return out;
}

std::shared_ptr<const knowledge::KnowledgeBase> LoadKnowledgeOrReport(Context& context) {
  auto kb = pipeline::LoadKnowledge(PipelineOptions(context.options));
  if (kb.ok()) return *kb;
  context.exit_code = Fail(kb.status());
  return nullptr;
}

pipeline::Pipeline* OpenPipelineOrReport(Context& context) {
  // Kept until the process exits, never freed: a command runs once, and freeing the knowledge and
  // rule bases allocation by allocation took ~2 ms of a 30 ms `nflux evaluate`. Reachable from
  // here, so the leak checker does not count them.
  static auto* const kept = new std::vector<std::unique_ptr<pipeline::Pipeline>>();
  auto opened = pipeline::Pipeline::Open(PipelineOptions(context.options));
  if (opened.ok()) return kept->emplace_back(std::move(opened).value()).get();
  context.exit_code = Fail(opened.status());
  return nullptr;
}

std::unique_ptr<store::Store> OpenStoreOrReport(Context& context, store::Mode mode) {
  auto opened = store::OpenStore(ResolveDbPath(context.options), mode);
  if (opened.ok()) return std::move(opened).value();
  context.exit_code = Fail(opened.status());
  return nullptr;
}

namespace {

// One line from the terminal with echo off (restored whatever happens).
std::optional<std::string> ReadHidden(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios before{};
  const bool terminal = tcgetattr(STDIN_FILENO, &before) == 0;
  if (terminal) {
    termios quiet = before;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool read = static_cast<bool>(std::getline(std::cin, line));
  if (terminal) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &before);
    std::cerr << "\n";
  }
  if (!read) return std::nullopt;
  return line;
}

}  // namespace

Result<std::string> ReadPassword(bool from_stdin, bool confirm) {
  if (from_stdin) {
    std::string line;
    if (!std::getline(std::cin, line)) return Status::InvalidArgument("--password-stdin: no password on stdin");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (!isatty(STDIN_FILENO))
    return Status::InvalidArgument("no terminal to ask the password on: give it on stdin with --password-stdin");
  auto first = ReadHidden("password: ");
  if (!first) return Status::InvalidArgument("no password given");
  if (!confirm) return *first;
  auto second = ReadHidden("password again: ");
  if (!second) return Status::InvalidArgument("no password given");
  if (*first != *second) return Status::InvalidArgument("the two passwords differ; nothing stored");
  return *first;
}

std::string CurrentActor() {
  if (const char* actor = std::getenv("NFLUX_ACTOR"); actor && *actor) return actor;
  if (const passwd* user = getpwuid(getuid()); user && user->pw_name) return user->pw_name;
  return "uid " + std::to_string(getuid());
}

void AddReportOutputOptions(CLI::App* command, ReportOutput& output) {
  command->add_option("--format", output.format,
                      "text (default), json (shared/contracts/output.md), markdown or html (one self-contained page)")
      ->check(CLI::IsMember({"text", "json", "markdown", "html"}));
  command->add_option("--out", output.out_path, "Write the report to this file instead of stdout");
}

namespace {

std::string RenderReport(const nlohmann::ordered_json& report, const knowledge::KnowledgeBase& kb,
                         const ReportOutput& output) {
  if (output.format == "json") return report.dump(2) + "\n";
  if (output.format == "markdown") return report::EvaluationToMarkdown(report, kb);
  if (output.format == "html") return report::EvaluationToHtml(report, kb);
  const char* no_color = std::getenv("NO_COLOR");
  const bool color = output.out_path.empty() && isatty(STDOUT_FILENO) && !(no_color && *no_color);
  return report::EvaluationToText(report, kb, {.color = color});
}

}  // namespace

// Writes `text` to `path` whole or not at all: a temporary file beside it, then a rename; the
// temporary file is removed when anything fails.
Status WriteFileAtomically(const std::string& path, const std::string& text, const std::string& what) {
  std::error_code error;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, error))
    return Status::InvalidArgument(path + ": no such folder " + parent.string());
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      std::filesystem::remove(temporary, error);
      return Status::IOError(path + ": cannot write " + what);
    }
  }
  std::filesystem::rename(temporary, path, error);
  if (error) {
    const std::string why = error.message();
    std::filesystem::remove(temporary, error);
    return Status::IOError(path + ": cannot write " + what + ": " + why);
  }
  return Status::Ok();
}

Status PrintReport(const nlohmann::ordered_json& report, const knowledge::KnowledgeBase& kb, const ReportOutput& output) {
  return PrintText(RenderReport(report, kb, output), output);
}

Status PrintEvaluation(const pipeline::Pipeline& pipeline, const pipeline::CaseEvaluation& result,
                       const ReportOutput& output) {
  // JSON is the evaluation's text laid out as dump(2) would lay out its DOM, without the DOM.
  if (output.format == "json") return PrintText(IndentJson(pipeline.ReportText(result), 2) + "\n", output);
  return PrintReport(pipeline.ReportJson(result), pipeline.knowledge(), output);
}

Status PrintText(const std::string& text, const ReportOutput& output) {
  if (output.out_path.empty()) {
    std::cout << text;
    return Status::Ok();
  }
  Status written = WriteFileAtomically(output.out_path, text, "the report");
  if (written.ok()) std::cerr << "wrote " << output.out_path << "\n";
  return written;
}

namespace {

// A folder where a file is expected is a usage mistake (exit 2), said plainly: not a read error.
Result<std::string> ReadFileExpecting(const std::string& path, const char* what) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    return Status::InvalidArgument(path + ": is a directory, expected " + what);
  return ReadFileToString(path);
}

}  // namespace

Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") return ReadStdinToString();
  return ReadFileExpecting(path, "a case file");
}

Result<inference::FluxValues> ReadFluxFile(const std::string& path) {
  if (path.empty()) return inference::FluxValues{};
  auto text = ReadFileExpecting(path, "a flux file (a JSON object of flux indices)");
  if (!text.ok()) return text.status();
  auto object = ParseJsonDocument(*text, path);
  if (!object.ok()) return object.status();
  return pipeline::FluxFromJson(*object, path);
}

void AddKnowledgeSourceOptions(CLI::App* command, GlobalOptions& options) {
  command->add_flag("--from-db", options.from_db,
                    "Load the knowledge base and rules of one build stored by 'nflux kb build' in --db (never mixed with files)");
  command->add_option("--kb-version", options.kb_version,
                      "With --from-db: the build's knowledge or rules version (default: the latest build)");
}

std::string VersionsLine(const pipeline::Pipeline& pipeline) {
  return report::VersionsText(report::VersionsOf(pipeline.engine()));
}

void AddFluxFileOption(CLI::App* command, std::string& path) {
  command
      ->add_option("--flux", path,
                   "A JSON file holding an object of flux indices that override the flux model's, "
                   "e.g. {\"serotonin.synthesis\": 0.7}")
      ->type_name("FILE");
}

Result<pipeline::CaseEvaluation> EvaluateCaseFile(const pipeline::Pipeline& pipeline, const std::string& case_path,
                                                  bool strict, const std::string& flux_path,
                                                  pipeline::EvaluationOptions options) {
  auto text = ReadInput(case_path);
  if (!text.ok()) return text.status();
  return EvaluateCaseText(pipeline, *text, case_path, strict, flux_path, std::move(options));
}

Result<pipeline::CaseEvaluation> EvaluateCaseText(const pipeline::Pipeline& pipeline, const std::string& text,
                                                  const std::string& case_path, bool strict,
                                                  const std::string& flux_path, pipeline::EvaluationOptions options) {
  auto parsed = pipeline.ParseCase(text, case_path, strict, options.as_of);
  if (!parsed.ok()) return parsed.status();
  auto given = ReadFluxFile(flux_path);
  if (!given.ok()) return given.status();
  options.given_flux = std::move(given).value();
  return pipeline.Evaluate(std::move(parsed).value(), options);
}

}  // namespace nflux::cli
