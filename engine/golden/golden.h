// Golden cases: a case (NAME.case.json) and its expectation (NAME.expect.json) run through the
// pipeline and compared, as sqllogictest files state every expected row.
//
// An expectation states the WHOLE result, so that a spurious or a missing conclusion fails it:
//   {"description": "...", "flux": {...given flux values...}, "covers": ["rule_id", ...],
//    "alerts": [{"id": "...", "severity": "high"}, ...],     every alert and its severity, nothing else
//    "strategies": [{"id": "...", "verdict": "acceptable"}], every suggested strategy and verdict
//    "blocked_strategies": ["id", ...],                       every blocked strategy
//    "requested_supplements": [{"id": "...", "verdict": "blocked"}],  every requested AND current
//                                                             supplement and its verdict (absent: none)
//    "deficits": [{"id": "...", "certainty": 0.72, "tolerance": 0.01}   pinned, or
//                 {"id": "...", "min": 0.5, "max": 0.8}],               a band; every deficit > 0
//    "drivers": ["id", ...]}                                  every driver with weight > 0
// and `covers` names the rules the case exercises: a covered rule that did not fire fails it.
// Alerts and strategies are also checked in order (red flags first, strategies by rank).
// An alert may also be written as a plain id (older files): then its severity is not checked.
// Two more keys survive --update: "case_kind" (healthy_control: no deficit reaches 0.2;
// single_issue: at most 3 deficits >= 0.5; mixed: no limit) and "clinician" (Clinician). Every id
// anywhere must exist (UnknownIds). A file with neither result format fails with "no expected
// result: run nflux rules test --update", which fills the complete result in.
// The old partial format ("must_include" / "must_not_include" / "max_deficit_certainty") still
// loads and is checked as before; `nflux rules test --update` rewrites a file in the complete
// format (Snapshot), keeping its description, flux and covers.
//
// Everything here is a pure function of its inputs, except the functions that read or write
// files; thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"
#include "knowledge/vocabulary.h"
#include "pipeline/pipeline.h"
#include "rules/rules.h"

namespace nflux::golden {

inline constexpr double kPresent = 0.2;            // the old format: a deficit at or above is present
inline constexpr double kDefaultTolerance = 0.01;  // a pinned certainty's tolerance

struct DeficitBand {
  std::string id;
  double min = 0, max = 1;
  std::optional<double> tolerance;  // set when written pinned ("certainty"), not as a band
};
struct StrategyVerdict {
  std::string id;
  inference::Verdict verdict = inference::Verdict::kAcceptable;
};
struct AlertExpectation {
  std::string id;
  std::optional<AlertSeverity> severity;  // nullopt: written as a plain id, severity not checked
};

// The complete result a case must produce.
struct Complete {
  std::vector<AlertExpectation> alerts;
  std::vector<StrategyVerdict> strategies;
  std::vector<std::string> blocked;
  std::vector<StrategyVerdict> requested;  // requested and current supplements (Evaluation::requested)
  std::vector<DeficitBand> deficits;
  std::vector<std::string> drivers;
};

// The old format: what must and must not appear.
struct Partial {
  std::vector<std::pair<std::string, double>> deficits;  // id, min certainty
  std::vector<std::string> drivers, alerts, strategies, blocked;
  std::vector<std::string> not_deficits, not_strategies, not_alerts, not_drivers;
  std::optional<double> max_deficit_certainty;
};

// `case_kind`: the calibration limit a case is held to (GOLDEN10 / README).
enum class CaseKind { kHealthyControl, kSingleIssue, kMixed };
inline constexpr double kLikely = 0.5;         // a deficit at or above is likely
inline constexpr int kSingleIssueMaxLikely = 3;  // single_issue: most deficits >= kLikely

// The `clinician` block: what a clinician would and would not conclude, checked on every run
// beside the complete result, and kept by --update.
struct Clinician {
  std::vector<std::string> deficits, not_deficits;  // >= kPresent; absent or < kPresent
  std::vector<std::string> drivers, not_drivers;    // concluded (certainty > 0); not
  std::vector<std::string> alerts, not_alerts;      // raised; not
  std::vector<std::string> not_strategies;          // never suggested
  std::vector<std::pair<std::string, std::string>> ranked_before;  // both suggested, first above second
};

// An id an expectation names, where it is written, and what it must be: "deficit", "driver",
// "alert", "strategy" (knowledge base node kinds) or "rule" (covers).
struct IdRef {
  std::string path;  // JSON path: "/clinician/not_deficits/0"
  std::string what;
  std::string id;
};

struct Expectation {
  std::string description;
  nlohmann::json flux = nlohmann::json::object();
  std::vector<std::string> covers;
  std::optional<Complete> complete;
  std::optional<Partial> partial;
  std::optional<CaseKind> case_kind;
  std::optional<Clinician> clinician;
  nlohmann::json clinician_json;  // the block as written, for Snapshot
  std::vector<IdRef> ids;         // every id named anywhere, for UnknownIds
};

// Every id of `expect` that the knowledge base (or, for covers, the rule base) does not define:
// "<source>:/clinician/not_deficits/0: unknown deficit 'gaba_functon' (nearest: gaba_function)".
std::vector<std::string> UnknownIds(const Expectation& expect, const std::string& source,
                                    const knowledge::KnowledgeBase& kb, const rules::RuleBase& rule_base);

// Parses an expectation; InvalidArgument naming `source` and the JSON path of every problem.
Result<Expectation> ParseExpectation(std::string_view text, const std::string& source);

// The failures of one evaluation against an expectation, each with the actual value; empty: pass.
std::vector<std::string> Check(const Expectation& expect, const inference::Evaluation& evaluation,
                               const std::set<std::string>& fired);

// The rules that fired in an evaluation (needs a traced evaluation).
std::set<std::string> FiredRules(const inference::Evaluation& evaluation);

// The expectation file, in the complete format, that `evaluation` satisfies: `old`'s description,
// flux and covers (covers: the fired rules when `old` names none); a deficit `old` gave as a band
// that still holds keeps its band, a pinned one keeps its tolerance. Alerts are written with
// their severity, requested and current supplements with their verdicts.
nlohmann::ordered_json Snapshot(const Expectation& old, const inference::Evaluation& evaluation,
                                const std::set<std::string>& fired);
// What changed between two expectations as "+ alert x (high)", "- strategy y (acceptable)",
// "+ requested supplement z (blocked)" lines; a file in the old format is "migrated to the complete
// format". An alert `old` wrote as a plain id that is still raised is not a change: its severity
// is counted in one "severity stated for N alert(s)" line.
std::vector<std::string> Changes(const Expectation& old, const Expectation& updated);

// One golden case run.
struct CaseRun {
  std::string name;
  std::vector<std::string> failures;  // empty: passed
  std::optional<Expectation> expectation;            // when it parsed
  std::optional<inference::Evaluation> evaluation;   // when the case evaluated
  std::set<std::string> fired;
  std::vector<std::string> unknown_ids;  // UnknownIds(), kept as failures by Update()
  bool passed() const { return failures.empty(); }
};

// Where a folder's cases and their expectations are. rules/tests keeps NAME.case.json beside
// NAME.expect.json; examples/ keeps plain cases NAME.json (what a practitioner evaluates) with their
// expectations in examples/expected/NAME.expect.json.
struct Layout {
  std::string case_dir, expect_dir;
  std::string case_suffix = ".case.json";
  std::string CasePath(const std::string& name) const { return case_dir + "/" + name + case_suffix; }
  std::string ExpectPath(const std::string& name) const { return expect_dir + "/" + name + ".expect.json"; }
};
inline Layout GoldenLayout(const std::string& dir) { return {dir, dir, ".case.json"}; }
inline Layout ExamplesLayout(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();  // "examples/" as typed
  return {dir, dir + "/expected", ".json"};
}

// The NAME of every NAME<case_suffix> in the case folder, sorted. NotFound when it is not a folder.
Result<std::vector<std::string>> FindCases(const Layout& layout);
inline Result<std::vector<std::string>> FindCases(const std::string& dir) { return FindCases(GoldenLayout(dir)); }

// Runs the case NAME against its expectation. A missing expectation file is "no expected result"
// (so --update can write the first one), not a read error.
CaseRun RunCase(const pipeline::Pipeline& pipeline, const Layout& layout, const std::string& name);
inline CaseRun RunCase(const pipeline::Pipeline& pipeline, const std::string& dir, const std::string& name) {
  return RunCase(pipeline, GoldenLayout(dir), name);
}

// Rewrites NAME.expect.json from the run's actual result (Snapshot) and re-checks the run against
// it. Returns the changes (Changes()); an error when the case did not evaluate.
Result<std::vector<std::string>> Update(const Layout& layout, CaseRun& run);
inline Result<std::vector<std::string>> Update(const std::string& dir, CaseRun& run) {
  return Update(GoldenLayout(dir), run);
}

// The share of rules that fired in at least one case.
struct Coverage {
  size_t fired = 0, total = 0;
  std::vector<const rules::Rule*> unfired;  // rule base order
  double percent() const { return total == 0 ? 100.0 : 100.0 * static_cast<double>(fired) / static_cast<double>(total); }
  std::string Summary() const;  // "coverage: 175/252 rules (69.4%)"
};
Coverage CoverageOf(const rules::RuleBase& rule_base, const std::set<std::string>& fired);

// The coverage floor in percent from `path` (one number); nullopt when the file does not exist.
Result<std::optional<double>> ReadCoverageFloor(const std::string& path);

// Checks `coverage` against the floor in <dir>/coverage_floor.txt: "" when it holds or there is no
// floor file; else why not ("... is below the floor 99% (<dir>/coverage_floor.txt)"), or the
// floor file's own error message.
std::string FloorFailure(const std::string& dir, const Coverage& coverage);

}  // namespace nflux::golden
