// The rule language: rule files (docs/rule-language.md) are lexed, parsed, checked against the
// knowledge graph and stratified into a RuleBase, the structure the inference engine runs.
//
// LoadRules() never throws and never stops at the first error: it reports every one as
// `file:line:col: message` with the source line and a caret. A RuleBase is immutable after
// loading and safe to share between threads.
#pragma once

#include <compare>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "knowledge/knowledge.h"

namespace nflux::rules {

// A rule file's path as locations carry it. Every location of a file shares one copy: a rule
// base of 10,000 rules holds some 150,000 locations, and a path too long for the short-string
// buffer would cost an allocation each. Reads as a const std::string&.
class FileName {
 public:
  FileName() = default;
  FileName(std::string name) : name_(std::make_shared<const std::string>(std::move(name))) {}  // NOLINT: implicit
  FileName(const char* name) : FileName(std::string(name)) {}                                    // NOLINT: implicit

  const std::string& str() const { return name_ ? *name_ : Empty(); }
  operator const std::string&() const { return str(); }  // NOLINT: implicit, reads as a string

  friend bool operator==(const FileName& a, const FileName& b) {
    return a.name_ == b.name_ || a.str() == b.str();
  }
  friend std::strong_ordering operator<=>(const FileName& a, const FileName& b) {
    return a.name_ == b.name_ ? std::strong_ordering::equal : a.str().compare(b.str()) <=> 0;
  }

 private:
  static const std::string& Empty() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> name_;
};

struct SourceLocation {
  FileName file;
  int line = 0;
  int column = 0;
};

enum class Compare { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };
std::string_view CompareText(Compare op);  // "<", "<=", ...
// Inline: the inference engine calls it for nearly every test it evaluates.
inline bool Holds(double value, Compare op, double threshold) {
  switch (op) {
    case Compare::kLess: return value < threshold;
    case Compare::kLessEqual: return value <= threshold;
    case Compare::kGreater: return value > threshold;
    case Compare::kGreaterEqual: return value >= threshold;
    case Compare::kEqual: return value == threshold;
    case Compare::kNotEqual: return value != threshold;
  }
  return false;
}

// One leaf test of a condition. Which fields matter depends on `kind` (see the comments).
enum class TestKind {
  kSymptomCompare,         // id, op, number
  kSymptomPresent,         // id
  kSymptomAbsent,          // id
  kQuestionnaireTotal,     // id, op, number
  kQuestionnaireItem,      // id, item, op, number
  kQuestionnaireBand,      // id, text (band label)
  kQuestionnairePositive,  // id
  kQuestionnaireNegative,  // id
  kLabStatus,              // id, text: low normal high abnormal critical below_optimal optimal above_optimal
                           //   below_limit above_limit (the cited decision limit, docs/knowledge-format.md)
  kLabValue,               // id, op, number (canonical unit), written_number, unit (as written)
  kLabMeasured,            // id
  kLabMissing,             // id
  kDerivedCompare,         // id, op, number
  kDerivedStatus,          // id, text (low normal high)
  kFluxCompare,            // id ("serotonin.synthesis"), op, number
  kFluxAssumed,            // id
  kMedication,             // id
  kMedicationClass,        // id
  kCondition,              // id
  kSupplementCurrent,      // id (strategy)
  kSupplementRequested,    // id (strategy)
  kSex,                    // text: female | male
  kAge,                    // op, number
  kPregnant,               //
  kLactating,              //
  kMenopausalStatus,       // text
  kLifestyleCompare,       // id, op, number
  kLifestyleIs,            // id, text (true, false or an enum value)
  kStressorCompare,        // id, op, number
  kFact,                   // id; with has_compare: op, number on its certainty
  kDriver,                 // id (concluded driver or stressor)
  kDeficit,                // id
  kAlert,                  // id
  kDataQuality,            // text: error | warning
};

struct Test {
  TestKind kind = TestKind::kFact;
  std::string id;
  std::string text;
  Compare op = Compare::kGreaterEqual;
  double number = 0;
  bool has_compare = false;
  int item = 0;
  double written_number = 0;
  std::string unit;
  std::string source;  // the test as written, for traces: "lab ferritin < 30 ng/mL"
  SourceLocation at;
  // Where the parts were written, for the checker's messages.
  SourceLocation id_at;     // the id
  SourceLocation value_at;  // the number, status, band label or value after the id
  SourceLocation unit_at;   // kLabValue: the unit
};

struct Condition {
  enum class Op { kTest, kAnd, kOr, kNot, kAtLeast };
  Op op = Op::kTest;
  int at_least = 0;
  std::vector<Condition> children;
  Test test;  // op == kTest
  SourceLocation at;  // where the condition starts: `at` of `at least`, `not`, a test's keyword
};

enum class ActionKind {
  kDeriveFact,       // id, certainty
  kConcludeDriver,   // id, certainty (the weight)
  kSuggestDeficit,   // id, certainty, ids = drivers
  kOpposeDeficit,    // id, certainty
  kSuggestStrategy,  // id, ids = deficits it is for
  kRaiseAlert,       // id, severity (may be empty: the knowledge base default), message
  kNoteDataQuality,  // message, severity (default "warning")
};
std::string_view ActionKindName(ActionKind kind);

struct Action {
  ActionKind kind = ActionKind::kDeriveFact;
  std::string id;
  double certainty = 1;
  std::vector<std::string> ids;
  std::string severity;
  std::string message;
  std::string source;  // as written
  SourceLocation at;
  // Where the parts were written, for the checker's messages.
  SourceLocation id_at;
  std::vector<SourceLocation> ids_at;  // one per entry of `ids`
  SourceLocation certainty_at;         // the certainty or weight number
};

struct Rule {
  std::string id;
  std::string title;
  std::vector<std::string> citations;
  int salience = 0;
  Condition when;
  std::vector<Action> actions;
  SourceLocation at;     // the `rule` keyword
  SourceLocation id_at;  // the rule's id
  std::vector<SourceLocation> citations_at;  // one per entry of `citations`
  // The rule's file relative to the rules folder ("sleep.rules"), as traces name it: the same
  // wherever the folder is and however its path was spelled (`at.file` is the path as given).
  FileName source;
  int stratum = 0;  // rules that test a conclusion run in a later stratum than the rules making it
};

struct RuleBase {
  std::vector<Rule> rules;  // in agenda order: stratum, salience (high first), file, line
  std::vector<std::string> files;  // paths as given, in path order
  // "sha256:" of the content only: each file's name relative to the rules folder and its text, in
  // name order. The same files give the same version from any working directory or path spelling.
  std::string version;
};

struct RuleError {
  SourceLocation at;
  std::string message;
  std::string source_line;  // the offending line, for the caret display
  // "file:line:col: message\n  <line>\n  <caret>"
  std::string ToString() const;
};

struct RuleSource {
  std::string path;  // as shown in messages, e.g. "rules/sleep.rules"
  std::string text;
  std::string name = {};  // relative to the rules folder ("sleep.rules"), for the version; empty: path
};

// Reads every *.rules file below `dir` (path order), skipping the golden cases in dir/tests/.
// Each path is `dir` as given + "/" + its name relative to `dir`.
Result<std::vector<RuleSource>> ReadRulesDir(const std::string& dir);

struct LoadResult {
  std::shared_ptr<const RuleBase> rules;  // null when there are errors
  std::vector<RuleError> errors;
};
LoadResult LoadRules(const std::vector<RuleSource>& files, const knowledge::KnowledgeBase& kb);

// The flux indices a rule may test: PATHWAY.INDEX, an index of the flux model (flux::IsIndexKey).
bool IsFluxIndex(std::string_view name);

}  // namespace nflux::rules
