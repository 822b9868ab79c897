// LoadRules and the small public helpers of rules.h: reading a rule directory, the error display,
// comparisons, names.
#include "rules/rules.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "base/limits.h"
#include "base/sha256.h"
#include "base/text.h"
#include "flux/flux.h"
#include "rules/checker.h"
#include "rules/parser.h"

namespace nflux::rules {
namespace {

constexpr size_t kMaxReportedErrors = 100;

// Line `line` (1-based) of `text`, without its line break; "" when there is no such line. A line
// that is not valid UTF-8 is shown with '?' for each byte past ASCII (one per byte, so the caret
// below still points at its column), so no message carries broken text.
std::string LineOf(std::string_view text, int line) {
  size_t start = 0;
  for (int i = 1; i < line; ++i) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return "";
    ++start;
  }
  size_t stop = text.find('\n', start);
  std::string_view found = text.substr(start, stop == std::string_view::npos ? std::string_view::npos : stop - start);
  if (!found.empty() && found.back() == '\r') found.remove_suffix(1);
  std::string shown(found);
  if (!IsValidUtf8(shown))
    for (char& c : shown)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  return shown;
}

}  // namespace

std::string_view CompareText(Compare op) {
  switch (op) {
    case Compare::kLess: return "<";
    case Compare::kLessEqual: return "<=";
    case Compare::kGreater: return ">";
    case Compare::kGreaterEqual: return ">=";
    case Compare::kEqual: return "=";
    case Compare::kNotEqual: return "!=";
  }
  return "?";
}

std::string_view ActionKindName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kDeriveFact: return "derive fact";
    case ActionKind::kConcludeDriver: return "conclude driver";
    case ActionKind::kSuggestDeficit: return "suggest deficit";
    case ActionKind::kOpposeDeficit: return "oppose deficit";
    case ActionKind::kSuggestStrategy: return "suggest strategy";
    case ActionKind::kRaiseAlert: return "raise alert";
    case ActionKind::kNoteDataQuality: return "note data_quality";
  }
  return "?";
}

bool IsFluxIndex(std::string_view name) { return flux::IsIndexKey(name); }

std::string RuleError::ToString() const {
  std::string text = at.file;
  text += ':';
  text += std::to_string(at.line);
  text += ':';
  text += std::to_string(at.column);
  text += ": ";
  text += message;
  text += "\n  ";
  text += source_line;
  text += "\n  ";
  // Tabs are copied so that the caret lines up under a tab-indented source line.
  for (int i = 0; i + 1 < at.column; ++i) {
    text += static_cast<size_t>(i) < source_line.size() && source_line[i] == '\t' ? '\t' : ' ';
  }
  text += '^';
  return text;
}

Result<std::vector<RuleSource>> ReadRulesDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) return Status::NotFound(dir + ": rules directory not found");
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  auto relative = ListSourceFiles(dir, ".rules", "tests");  // rule tests live in tests/ folders
  if (!relative.ok()) return relative.status();
  std::vector<RuleSource> files;
  for (const auto& path : *relative) {
    std::string full = base;
    full += '/';
    full += path;
    auto text = ReadFileToString(full, limits::kMaxSourceFileBytes);
    if (!text.ok()) return text.status();
    files.push_back(RuleSource{full, std::move(*text), path});
  }
  return files;
}

namespace {

const std::string& NameOf(const RuleSource& file) { return file.name.empty() ? file.path : file.name; }

// The rule base's version: a hash of content only, each file's name relative to the rules folder
// and its text, so that the path the folder was reached by never changes it.
std::string ContentVersion(const std::vector<const RuleSource*>& ordered) {
  size_t size = 0;
  for (const RuleSource* file : ordered) size += NameOf(*file).size() + file->text.size() + 2;
  std::string hashed;
  hashed.reserve(size);
  for (const RuleSource* file : ordered) {
    hashed += NameOf(*file);
    hashed += '\n';
    hashed += file->text;
    hashed += '\0';  // the end of a file's text, so that moving text across files changes the hash
  }
  return "sha256:" + Sha256Hex(hashed);
}

// Gives every rule the name of its file relative to the rules folder (Rule::source). `rules` are in
// file order, each rule's `at.file` the path of one of `ordered`.
void NameSources(const std::vector<const RuleSource*>& ordered, std::vector<Rule>* rules) {
  std::map<std::string, FileName, std::less<>> names;
  for (const RuleSource* file : ordered) names.emplace(file->path, FileName(NameOf(*file)));
  for (Rule& rule : *rules)
    if (auto it = names.find(rule.at.file.str()); it != names.end()) rule.source = it->second;
}

}  // namespace

LoadResult LoadRules(const std::vector<RuleSource>& files, const knowledge::KnowledgeBase& kb) {
  std::vector<const RuleSource*> ordered;
  ordered.reserve(files.size());
  for (const auto& file : files) ordered.push_back(&file);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const RuleSource* a, const RuleSource* b) { return NameOf(*a) < NameOf(*b); });

  auto base = std::make_shared<RuleBase>();
  std::vector<RuleError> errors;
  // Parsed file by file, then moved once into a vector of the right size: growing it rule by rule
  // would move every (large) rule several times.
  std::vector<std::vector<Rule>> parsed;
  size_t rule_count = 0;
  for (const RuleSource* file : ordered) {
    parsed.push_back(ParseRules(*file, &errors));
    rule_count += parsed.back().size();
    if (rule_count > limits::kMaxRules) {  // before the checks, whose work grows with the rules
      RuleError error;
      error.at.file = file->path;
      error.at.line = error.at.column = 1;
      error.message = "more than " + std::to_string(limits::kMaxRules) + " rules in the rule base (the limit); this file passes it";
      LoadResult over;
      over.errors.push_back(std::move(error));
      return over;
    }
  }
  base->rules.reserve(rule_count);
  for (auto& rules : parsed)
    base->rules.insert(base->rules.end(), std::make_move_iterator(rules.begin()), std::make_move_iterator(rules.end()));
  for (const RuleSource* file : ordered) base->files.push_back(file->path);
  NameSources(ordered, &base->rules);
  const bool syntax_ok = errors.empty();
  CheckRules(&base->rules, kb, &errors);
  Stratify(&base->rules, syntax_ok, &errors);
  base->version = ContentVersion(ordered);

  LoadResult result;
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const RuleError& a, const RuleError& b) {
      return std::tie(a.at.file, a.at.line, a.at.column) < std::tie(b.at.file, b.at.line, b.at.column);
    });
    // A broken file of a million lines gives a million errors: the first ones say what is wrong.
    if (errors.size() > kMaxReportedErrors) {
      const size_t more = errors.size() - kMaxReportedErrors;
      errors.resize(kMaxReportedErrors + 1);
      errors.back().message = std::to_string(more) + " more errors after this line are not shown (the first " +
                              std::to_string(kMaxReportedErrors) + " are)";
    }
    std::map<std::string, std::string_view> texts;
    for (const RuleSource* file : ordered) texts.emplace(file->path, file->text);
    for (RuleError& error : errors) {
      auto it = texts.find(error.at.file);
      if (it != texts.end()) error.source_line = LineOf(it->second, error.at.line);
    }
    result.errors = std::move(errors);
    return result;
  }
  result.rules = std::move(base);
  return result;
}

}  // namespace nflux::rules
