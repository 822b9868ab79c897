#include "golden/golden.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/json.h"
#include "base/text.h"

namespace nflux::golden {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Collects problems as "source: /path: message".
// Also collects the ids met, with their paths, for UnknownIds.
struct Problems {
  std::string source;
  std::vector<std::string> list;
  std::vector<IdRef> refs;
  void Add(const std::string& where, const std::string& message) { list.push_back(source + ": " + where + ": " + message); }
  void Ref(const std::string& where, const char* what, const std::string& id) {
    if (what) refs.push_back({where, what, id});
  }
};

// `what` (may be null): the kind each id must be, recorded for UnknownIds.
std::vector<std::string> IdList(const json& value, const std::string& where, Problems& problems,
                                const char* what = nullptr) {
  std::vector<std::string> out;
  if (!value.is_array()) {
    problems.Add(where, "expected an array of ids");
    return out;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i].is_string()) {
      out.push_back(value[i].get<std::string>());
      problems.Ref(where + "/" + std::to_string(i), what, out.back());
    } else {
      problems.Add(where + "/" + std::to_string(i), "expected an id (string)");
    }
  }
  return out;
}

void CheckKeys(const json& object, const std::vector<std::string>& allowed, const std::string& where,
               Problems& problems) {
  for (const auto& [key, value] : object.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      problems.Add(where + "/" + key, "unknown key" + DidYouMean(key, allowed));
}

std::optional<double> Number(const json& object, const std::string& key, const std::string& where, Problems& problems) {
  if (!object.contains(key)) return std::nullopt;
  if (object[key].is_number()) return object[key].get<double>();
  problems.Add(where + "/" + key, "expected a number");
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// The old format.

void ParseMustIncludeDeficits(const json& deficits, Partial& out, Problems& problems) {
  if (!deficits.is_array()) problems.Add("/must_include/deficits", "expected an array");
  for (size_t i = 0; deficits.is_array() && i < deficits.size(); ++i) {
    std::string where = "/must_include/deficits/" + std::to_string(i);
    const json& item = deficits[i];
    if (item.is_string()) {
      out.deficits.emplace_back(item.get<std::string>(), kPresent);
      problems.Ref(where, "deficit", item.get<std::string>());
      continue;
    }
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
      problems.Add(where, R"(expected {"id": ..., "min_certainty": ...})");
      continue;
    }
    CheckKeys(item, {"id", "min_certainty"}, where, problems);
    problems.Ref(where + "/id", "deficit", item["id"].get<std::string>());
    out.deficits.emplace_back(item["id"].get<std::string>(),
                              Number(item, "min_certainty", where, problems).value_or(kPresent));
  }
}

void ParseMustInclude(const json& include, Partial& out, Problems& problems) {
  if (!include.is_object()) return problems.Add("/must_include", "expected an object");
  CheckKeys(include, {"deficits", "drivers", "alerts", "strategies", "blocked_strategies"}, "/must_include", problems);
  if (include.contains("deficits")) ParseMustIncludeDeficits(include["deficits"], out, problems);
  if (include.contains("drivers")) out.drivers = IdList(include["drivers"], "/must_include/drivers", problems, "driver");
  if (include.contains("alerts")) out.alerts = IdList(include["alerts"], "/must_include/alerts", problems, "alert");
  if (include.contains("strategies"))
    out.strategies = IdList(include["strategies"], "/must_include/strategies", problems, "strategy");
  if (include.contains("blocked_strategies"))
    out.blocked = IdList(include["blocked_strategies"], "/must_include/blocked_strategies", problems, "strategy");
}

void ParseMustNotInclude(const json& exclude, Partial& out, Problems& problems) {
  if (!exclude.is_object()) return problems.Add("/must_not_include", "expected an object");
  CheckKeys(exclude, {"deficits", "strategies", "alerts", "drivers"}, "/must_not_include", problems);
  if (exclude.contains("deficits"))
    out.not_deficits = IdList(exclude["deficits"], "/must_not_include/deficits", problems, "deficit");
  if (exclude.contains("strategies"))
    out.not_strategies = IdList(exclude["strategies"], "/must_not_include/strategies", problems, "strategy");
  if (exclude.contains("alerts")) out.not_alerts = IdList(exclude["alerts"], "/must_not_include/alerts", problems, "alert");
  if (exclude.contains("drivers"))
    out.not_drivers = IdList(exclude["drivers"], "/must_not_include/drivers", problems, "driver");
}

std::optional<Partial> ParsePartial(const json& doc, Problems& problems) {
  if (!doc.contains("must_include") && !doc.contains("must_not_include") && !doc.contains("max_deficit_certainty"))
    return std::nullopt;
  Partial out;
  out.max_deficit_certainty = Number(doc, "max_deficit_certainty", "", problems);
  if (doc.contains("must_include")) ParseMustInclude(doc["must_include"], out, problems);
  if (doc.contains("must_not_include")) ParseMustNotInclude(doc["must_not_include"], out, problems);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The complete format.

// `requested_supplements` is not among them: absent, the case expects none.
const std::vector<std::string> kCompleteKeys = {"alerts", "strategies", "blocked_strategies", "deficits"};

constexpr inference::Verdict kVerdicts[] = {inference::Verdict::kAcceptable, inference::Verdict::kCaution,
                                            inference::Verdict::kBlocked};

std::optional<inference::Verdict> ParseVerdict(std::string_view name) {
  for (auto verdict : kVerdicts)
    if (inference::VerdictName(verdict) == name) return verdict;
  return std::nullopt;
}

// A list of {"id", "verdict"} under `key` ("strategies", "requested_supplements").
std::vector<StrategyVerdict> ParseVerdicts(const json& list, const std::string& key, Problems& problems) {
  std::vector<StrategyVerdict> out;
  if (!list.is_array()) {
    problems.Add("/" + key, R"(expected an array of {"id", "verdict"})");
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = "/" + key + "/" + std::to_string(i);
    const json& item = list[i];
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string() || !item.contains("verdict") ||
        !item["verdict"].is_string()) {
      problems.Add(where, R"(expected {"id": ..., "verdict": ...})");
      continue;
    }
    CheckKeys(item, {"id", "verdict"}, where, problems);
    problems.Ref(where + "/id", "strategy", item["id"].get<std::string>());
    auto verdict = ParseVerdict(item["verdict"].get<std::string>());
    if (!verdict)
      problems.Add(where + "/verdict", "expected acceptable, acceptable_with_caution or blocked");
    else
      out.push_back({item["id"].get<std::string>(), *verdict});
  }
  return out;
}

// An alert: a plain id (severity not checked) or {"id": ..., "severity": ...}.
std::optional<AlertExpectation> ParseAlert(const json& item, const std::string& where, Problems& problems) {
  if (item.is_string()) {
    problems.Ref(where, "alert", item.get<std::string>());
    return AlertExpectation{item.get<std::string>(), std::nullopt};
  }
  if (!item.is_object() || !item.contains("id") || !item["id"].is_string() || !item.contains("severity") ||
      !item["severity"].is_string()) {
    problems.Add(where, R"(expected an alert id or {"id": ..., "severity": ...})");
    return std::nullopt;
  }
  CheckKeys(item, {"id", "severity"}, where, problems);
  problems.Ref(where + "/id", "alert", item["id"].get<std::string>());
  auto severity = Parse<AlertSeverity>(item["severity"].get<std::string>());
  if (!severity) {
    problems.Add(where + "/severity", "expected urgent, high, caution or info");
    return std::nullopt;
  }
  return AlertExpectation{item["id"].get<std::string>(), severity};
}

void ParseAlerts(const json& list, Complete& out, Problems& problems) {
  if (!list.is_array()) return problems.Add("/alerts", "expected an array of alerts");
  for (size_t i = 0; i < list.size(); ++i)
    if (auto alert = ParseAlert(list[i], "/alerts/" + std::to_string(i), problems)) out.alerts.push_back(*alert);
}

void ParseDeficits(const json& list, Complete& out, Problems& problems) {
  if (!list.is_array()) return problems.Add("/deficits", R"(expected an array of {"id", "certainty"})");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = "/deficits/" + std::to_string(i);
    const json& item = list[i];
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
      problems.Add(where, R"(expected {"id": ..., "certainty": ...} or {"id": ..., "min": ..., "max": ...})");
      continue;
    }
    CheckKeys(item, {"id", "certainty", "tolerance", "min", "max"}, where, problems);
    problems.Ref(where + "/id", "deficit", item["id"].get<std::string>());
    DeficitBand band{item["id"].get<std::string>(), 0, 1, std::nullopt};
    if (auto pinned = Number(item, "certainty", where, problems)) {
      double tolerance = Number(item, "tolerance", where, problems).value_or(kDefaultTolerance);
      band.min = *pinned - tolerance;
      band.max = *pinned + tolerance;
      band.tolerance = tolerance;
    } else if (!item.contains("min") && !item.contains("max")) {
      problems.Add(where, "give a certainty (pinned) or a min and max (a band)");
    }
    band.min = Number(item, "min", where, problems).value_or(band.min);
    band.max = Number(item, "max", where, problems).value_or(band.max);
    out.deficits.push_back(band);
  }
}

std::optional<Complete> ParseComplete(const json& doc, Problems& problems) {
  bool any = doc.contains("drivers") || doc.contains("requested_supplements");
  for (const auto& key : kCompleteKeys) any = any || doc.contains(key);
  if (!any) return std::nullopt;
  for (const auto& key : kCompleteKeys)
    if (!doc.contains(key)) problems.Add("/" + key, "missing: a complete expectation lists every " + key + " (or [])");
  Complete out;
  if (doc.contains("alerts")) ParseAlerts(doc["alerts"], out, problems);
  if (doc.contains("strategies")) out.strategies = ParseVerdicts(doc["strategies"], "strategies", problems);
  if (doc.contains("blocked_strategies"))
    out.blocked = IdList(doc["blocked_strategies"], "/blocked_strategies", problems, "strategy");
  if (doc.contains("requested_supplements"))
    out.requested = ParseVerdicts(doc["requested_supplements"], "requested_supplements", problems);
  if (doc.contains("deficits")) ParseDeficits(doc["deficits"], out, problems);
  if (doc.contains("drivers")) out.drivers = IdList(doc["drivers"], "/drivers", problems, "driver");
  return out;
}

// ---------------------------------------------------------------------------------------------
// case_kind and the clinician block.

constexpr std::pair<CaseKind, const char*> kCaseKinds[] = {
    {CaseKind::kHealthyControl, "healthy_control"}, {CaseKind::kSingleIssue, "single_issue"}, {CaseKind::kMixed, "mixed"}};

const char* CaseKindName(CaseKind kind) {
  for (const auto& [k, name] : kCaseKinds)
    if (k == kind) return name;
  return "";
}

std::optional<CaseKind> ParseCaseKind(const json& value, Problems& problems) {
  for (const auto& [kind, name] : kCaseKinds)
    if (value.is_string() && value.get<std::string>() == name) return kind;
  problems.Add("/case_kind", "expected healthy_control, single_issue or mixed");
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> ParseRankedBefore(const json& list, Problems& problems) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string where = "/clinician/ranked_before";
  if (!list.is_array()) {
    problems.Add(where, "expected an array of [first, second] strategy pairs");
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + "/" + std::to_string(i);
    std::vector<std::string> pair = IdList(list[i], at, problems, "strategy");
    if (pair.size() == 2 && list[i].size() == 2) out.emplace_back(pair[0], pair[1]);
    else problems.Add(at, "expected [first, second]: two strategy ids");
  }
  return out;
}

Clinician ParseClinician(const json& block, Problems& problems) {
  Clinician out;
  const std::string where = "/clinician";
  if (!block.is_object()) {
    problems.Add(where, "expected an object");
    return out;
  }
  CheckKeys(block, {"deficits", "not_deficits", "drivers", "not_drivers", "alerts", "not_alerts", "not_strategies",
                    "ranked_before"},
            where, problems);
  auto list = [&](const char* key, const char* what, std::vector<std::string>& into) {
    if (block.contains(key)) into = IdList(block[key], where + "/" + key, problems, what);
  };
  list("deficits", "deficit", out.deficits);
  list("not_deficits", "deficit", out.not_deficits);
  list("drivers", "driver", out.drivers);
  list("not_drivers", "driver", out.not_drivers);
  list("alerts", "alert", out.alerts);
  list("not_alerts", "alert", out.not_alerts);
  list("not_strategies", "strategy", out.not_strategies);
  if (block.contains("ranked_before")) out.ranked_before = ParseRankedBefore(block["ranked_before"], problems);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checks.

std::string Certainty(double value) { return FormatNumber(value, 3); }

template <typename List>
bool HasId(const List& list, const std::string& id) {
  return std::any_of(list.begin(), list.end(), [&](const auto& item) { return item.id == id; });
}

double CertaintyOf(const std::map<std::string, inference::Conclusion>& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? 0.0 : it->second.certainty;
}

void CheckPartialIncludes(const Partial& expect, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  for (const auto& [id, minimum] : expect.deficits) {
    double certainty = CertaintyOf(evaluation.deficits, id);
    if (certainty < minimum) out.push_back("deficit " + id + ": certainty " + Certainty(certainty) + " < " + Certainty(minimum));
  }
  for (const auto& id : expect.drivers)
    if (CertaintyOf(evaluation.drivers, id) <= 0) out.push_back("driver " + id + ": not concluded");
  for (const auto& id : expect.alerts)
    if (!HasId(evaluation.alerts, id)) out.push_back("alert " + id + ": not raised");
  for (const auto& id : expect.strategies) {
    if (HasId(evaluation.strategies, id)) continue;
    out.push_back("strategy " + id + (HasId(evaluation.blocked, id) ? ": blocked by safety" : ": not suggested"));
  }
  for (const auto& id : expect.blocked)
    if (!HasId(evaluation.blocked, id)) out.push_back("blocked strategy " + id + ": not blocked");
}

void CheckPartialExcludes(const Partial& expect, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  for (const auto& id : expect.not_deficits) {
    double certainty = CertaintyOf(evaluation.deficits, id);
    if (certainty >= kPresent) out.push_back("deficit " + id + ": must not be included, certainty " + Certainty(certainty));
  }
  for (const auto& id : expect.not_strategies)
    if (HasId(evaluation.strategies, id)) out.push_back("strategy " + id + ": must not be suggested, but is");
  for (const auto& id : expect.not_alerts)
    if (HasId(evaluation.alerts, id)) out.push_back("alert " + id + ": must not be raised, but is");
  for (const auto& id : expect.not_drivers) {
    double certainty = CertaintyOf(evaluation.drivers, id);
    if (certainty > 0) out.push_back("driver " + id + ": must not be concluded, weight " + Certainty(certainty));
  }
  if (!expect.max_deficit_certainty) return;
  for (const auto& [id, conclusion] : evaluation.deficits)
    if (conclusion.certainty > *expect.max_deficit_certainty)
      out.push_back("deficit " + id + ": certainty " + Certainty(conclusion.certainty) + " > max_deficit_certainty " +
                    Certainty(*expect.max_deficit_certainty));
}

// Missing and extra ids between an expected and an actual list, as "<what> ID: ..." failures. Lists
// compare as multisets: an id raised twice where once is expected fails too.
void CompareIds(const std::string& what, const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                std::vector<std::string>& out) {
  std::map<std::string, long> want, got;
  for (const auto& id : expected) ++want[id];
  for (const auto& id : actual) ++got[id];
  std::set<std::string> reported;
  for (const auto& id : expected)
    if (!got.count(id) && reported.insert(id).second) out.push_back(what + " " + id + ": expected, missing");
  for (const auto& id : actual) {
    if (!reported.insert(id).second) continue;
    if (!want.count(id))
      out.push_back(what + " " + id + ": not expected, but present");
    else if (want[id] != got[id])
      out.push_back(what + " " + id + ": present " + std::to_string(got[id]) + " times, expected " +
                    std::to_string(want[id]));
  }
}

template <typename List>
std::vector<std::string> Ids(const List& list) {
  std::vector<std::string> ids;
  ids.reserve(list.size());
  for (const auto& item : list) ids.push_back(item.id);
  return ids;
}

std::vector<std::string> PresentIds(const std::map<std::string, inference::Conclusion>& map) {
  std::vector<std::string> ids;
  for (const auto& [id, conclusion] : map)
    if (conclusion.certainty > 0) ids.push_back(id);
  return ids;
}

// `what` ("strategy", "requested supplement"): every expected one with its verdict, nothing else.
void CheckVerdicts(const std::string& what, const std::vector<StrategyVerdict>& expected,
                   const std::vector<inference::StrategyResult>& actual, std::vector<std::string>& out) {
  CompareIds(what, Ids(expected), Ids(actual), out);
  for (const auto& want : expected)
    for (const auto& got : actual)
      if (got.id == want.id && got.verdict != want.verdict)
        out.push_back(what + " " + want.id + ": verdict " + std::string(inference::VerdictName(got.verdict)) +
                      ", expected " + std::string(inference::VerdictName(want.verdict)));
}

// Every expected alert, nothing else, and the severity of each written with one.
void CheckAlerts(const Complete& expect, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  CompareIds("alert", Ids(expect.alerts), Ids(evaluation.alerts), out);
  for (const auto& want : expect.alerts)
    for (const auto& got : evaluation.alerts)
      if (got.id == want.id && want.severity && got.severity != *want.severity)
        out.push_back("alert " + want.id + ": severity " + std::string(Name(got.severity)) + ", expected " +
                      std::string(Name(*want.severity)));
}

void CheckDeficits(const Complete& expect, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  std::vector<std::string> expected = Ids(expect.deficits);
  for (const auto& id : PresentIds(evaluation.deficits))
    if (std::find(expected.begin(), expected.end(), id) == expected.end())
      out.push_back("deficit " + id + ": not expected, but certainty " + Certainty(CertaintyOf(evaluation.deficits, id)));
  for (const auto& band : expect.deficits) {
    double certainty = CertaintyOf(evaluation.deficits, band.id);
    if (certainty < band.min - 1e-9 || certainty > band.max + 1e-9)
      out.push_back("deficit " + band.id + ": certainty " + Certainty(certainty) + " outside " + Certainty(band.min) +
                    ".." + Certainty(band.max));
  }
}

// The order is part of the result (red flags first, strategies by rank): with the same ids, the
// sequence must match too.
void CheckOrder(const std::string& what, const std::vector<std::string>& expected,
                const std::vector<std::string>& actual, std::vector<std::string>& out) {
  if (expected == actual) return;
  std::vector<std::string> sorted_expected = expected, sorted_actual = actual;
  std::sort(sorted_expected.begin(), sorted_expected.end());
  std::sort(sorted_actual.begin(), sorted_actual.end());
  if (sorted_expected != sorted_actual) return;  // CompareIds names what is missing or extra
  out.push_back(what + " order: " + Join(actual, ", ") + "; expected " + Join(expected, ", "));
}

void CheckComplete(const Complete& expect, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  CheckAlerts(expect, evaluation, out);
  CheckOrder("alert", Ids(expect.alerts), Ids(evaluation.alerts), out);
  CheckVerdicts("strategy", expect.strategies, evaluation.strategies, out);
  CheckOrder("strategy", Ids(expect.strategies), Ids(evaluation.strategies), out);
  CompareIds("blocked strategy", expect.blocked, Ids(evaluation.blocked), out);
  CheckVerdicts("requested supplement", expect.requested, evaluation.requested, out);
  CheckDeficits(expect, evaluation, out);
  if (!expect.drivers.empty() || !PresentIds(evaluation.drivers).empty())
    CompareIds("driver", expect.drivers, PresentIds(evaluation.drivers), out);
}

// The calibration limit of the case's kind.
void CheckCaseKind(CaseKind kind, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  const std::string label = std::string("case_kind ") + CaseKindName(kind);
  int likely = 0;
  std::vector<std::string> likely_ids;
  for (const auto& [id, conclusion] : evaluation.deficits) {
    if (kind == CaseKind::kHealthyControl && conclusion.certainty >= kPresent)
      out.push_back(label + ": deficit " + id + " certainty " + Certainty(conclusion.certainty) + " >= " +
                    Certainty(kPresent));
    if (conclusion.certainty >= kLikely) {
      ++likely;
      likely_ids.push_back(id);
    }
  }
  if (kind == CaseKind::kSingleIssue && likely > kSingleIssueMaxLikely)
    out.push_back(label + ": " + std::to_string(likely) + " deficits >= " + Certainty(kLikely) + " (" +
                  Join(likely_ids, ", ") + "), at most " + std::to_string(kSingleIssueMaxLikely));
}

// Where `id` ranks among the suggested strategies (0-based); nullopt when not suggested.
std::optional<size_t> StrategyRank(const inference::Evaluation& evaluation, const std::string& id) {
  for (size_t i = 0; i < evaluation.strategies.size(); ++i)
    if (evaluation.strategies[i].id == id) return i;
  return std::nullopt;
}

void CheckRankedBefore(const Clinician& expect, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  for (const auto& [first, second] : expect.ranked_before) {
    const std::string label = "clinician ranked_before " + first + " > " + second + ": ";
    auto a = StrategyRank(evaluation, first), b = StrategyRank(evaluation, second);
    if (!a || !b) out.push_back(label + (!a ? first : second) + " not suggested");
    else if (*a >= *b)
      out.push_back(label + first + " ranks " + std::to_string(*a + 1) + ", " + second + " ranks " + std::to_string(*b + 1));
  }
}

// The clinician block: each key can fail on its own.
void CheckClinician(const Clinician& expect, const inference::Evaluation& evaluation, std::vector<std::string>& out) {
  const std::string c = "clinician ";
  for (const auto& id : expect.deficits)
    if (double v = CertaintyOf(evaluation.deficits, id); v < kPresent)
      out.push_back(c + "deficit " + id + ": certainty " + Certainty(v) + " < " + Certainty(kPresent));
  for (const auto& id : expect.not_deficits)
    if (double v = CertaintyOf(evaluation.deficits, id); v >= kPresent)
      out.push_back(c + "not_deficit " + id + ": certainty " + Certainty(v) + " >= " + Certainty(kPresent));
  for (const auto& id : expect.drivers)
    if (CertaintyOf(evaluation.drivers, id) <= 0) out.push_back(c + "driver " + id + ": not concluded");
  for (const auto& id : expect.not_drivers)
    if (double v = CertaintyOf(evaluation.drivers, id); v > 0)
      out.push_back(c + "not_driver " + id + ": concluded, certainty " + Certainty(v));
  for (const auto& id : expect.alerts)
    if (!HasId(evaluation.alerts, id)) out.push_back(c + "alert " + id + ": not raised");
  for (const auto& id : expect.not_alerts)
    if (HasId(evaluation.alerts, id)) out.push_back(c + "not_alert " + id + ": raised");
  for (const auto& id : expect.not_strategies)
    if (HasId(evaluation.strategies, id)) out.push_back(c + "not_strategy " + id + ": suggested");
  CheckRankedBefore(expect, evaluation, out);
}

// ---------------------------------------------------------------------------------------------
// Snapshot and changes.

double Round3(double value) { return std::round(value * 1e3) / 1e3 + 0.0; }

// An expectation as comparable facts: "alert x", "strategy y (acceptable)", "deficit z 0.72".
std::vector<std::string> Facts(const Complete& complete) {
  std::vector<std::string> facts;
  for (const auto& alert : complete.alerts)
    facts.push_back("alert " + alert.id + (alert.severity ? " (" + std::string(Name(*alert.severity)) + ")" : ""));
  for (const auto& s : complete.strategies)
    facts.push_back("strategy " + s.id + " (" + std::string(inference::VerdictName(s.verdict)) + ")");
  for (const auto& id : complete.blocked) facts.push_back("blocked strategy " + id);
  for (const auto& s : complete.requested)
    facts.push_back("requested supplement " + s.id + " (" + std::string(inference::VerdictName(s.verdict)) + ")");
  for (const auto& band : complete.deficits)
    facts.push_back("deficit " + band.id + " " + Certainty((band.min + band.max) / 2));
  for (const auto& id : complete.drivers) facts.push_back("driver " + id);
  std::sort(facts.begin(), facts.end());
  return facts;
}

Result<std::string> ReadFile(const std::string& path) { return ReadFileToString(path); }

// A deficit of a snapshot: `old`'s band when it still holds, else pinned (with `old`'s tolerance).
ordered_json DeficitEntry(const Expectation& old, const std::string& id, double certainty) {
  const DeficitBand* before = nullptr;
  if (old.complete)
    for (const auto& band : old.complete->deficits)
      if (band.id == id) before = &band;
  if (before && !before->tolerance && certainty >= before->min - 1e-9 && certainty <= before->max + 1e-9)
    return {{"id", id}, {"min", before->min}, {"max", before->max}};
  ordered_json entry = {{"id", id}, {"certainty", Round3(certainty)}};
  if (before && before->tolerance && std::fabs(*before->tolerance - kDefaultTolerance) > 1e-12)
    entry["tolerance"] = *before->tolerance;
  return entry;
}

ordered_json VerdictList(const std::vector<inference::StrategyResult>& list) {
  ordered_json out = ordered_json::array();
  for (const auto& s : list) out.push_back({{"id", s.id}, {"verdict", std::string(inference::VerdictName(s.verdict))}});
  return out;
}

// `old` with the severity `updated` states for each alert `old` wrote as a plain id; counts them.
Complete WithStatedSeverities(Complete old, const Complete& updated, size_t& stated) {
  for (auto& alert : old.alerts)
    for (const auto& now : updated.alerts)
      if (!alert.severity && now.id == alert.id && now.severity) {
        alert.severity = now.severity;
        ++stated;
      }
  return old;
}

}  // namespace

Result<Expectation> ParseExpectation(std::string_view text, const std::string& source) {
  auto parsed = ParseJsonDocument(text, source);
  if (!parsed.ok()) return parsed.status();
  json doc = std::move(parsed).value();
  if (!doc.is_object()) return Status::InvalidArgument(source + ": /: expected an object");
  Problems problems{source, {}, {}};
  CheckKeys(doc, {"description", "case_kind", "clinician", "flux", "covers", "must_include", "must_not_include",
                  "max_deficit_certainty", "alerts", "strategies", "blocked_strategies", "requested_supplements",
                  "deficits", "drivers"},
            "", problems);
  Expectation out;
  if (doc.contains("description")) {
    if (doc["description"].is_string()) out.description = doc["description"].get<std::string>();
    else problems.Add("/description", "expected a string");
  }
  if (doc.contains("flux")) out.flux = doc["flux"];
  if (doc.contains("covers")) out.covers = IdList(doc["covers"], "/covers", problems, "rule");
  if (doc.contains("case_kind")) out.case_kind = ParseCaseKind(doc["case_kind"], problems);
  if (doc.contains("clinician")) {
    out.clinician = ParseClinician(doc["clinician"], problems);
    out.clinician_json = doc["clinician"];
  }
  out.partial = ParsePartial(doc, problems);
  out.complete = ParseComplete(doc, problems);
  out.ids = std::move(problems.refs);
  if (problems.list.empty()) return out;
  std::string message;
  for (const auto& problem : problems.list) message += (message.empty() ? "" : "\n") + problem;
  return Status::InvalidArgument(message);
}

std::vector<std::string> Check(const Expectation& expect, const inference::Evaluation& evaluation,
                               const std::set<std::string>& fired) {
  std::vector<std::string> failures;
  if (!expect.complete && !expect.partial) failures.emplace_back("no expected result: run nflux rules test --update");
  if (expect.complete) CheckComplete(*expect.complete, evaluation, failures);
  if (expect.case_kind) CheckCaseKind(*expect.case_kind, evaluation, failures);
  if (expect.clinician) CheckClinician(*expect.clinician, evaluation, failures);
  if (expect.partial) {
    CheckPartialIncludes(*expect.partial, evaluation, failures);
    CheckPartialExcludes(*expect.partial, evaluation, failures);
  }
  for (const auto& rule : expect.covers)
    if (!fired.count(rule)) failures.push_back("covered rule " + rule + ": did not fire");
  return failures;
}

std::vector<std::string> UnknownIds(const Expectation& expect, const std::string& source,
                                    const knowledge::KnowledgeBase& kb, const rules::RuleBase& rule_base) {
  using knowledge::NodeKind;
  // A driver is a driver or a stressor node, as `conclude driver` allows (docs/rule-language.md).
  static const std::map<std::string, std::vector<NodeKind>> kKinds = {
      {"deficit", {NodeKind::kDeficit}}, {"driver", {NodeKind::kDriver, NodeKind::kStressor}},
      {"alert", {NodeKind::kAlert}}, {"strategy", {NodeKind::kStrategy}}};
  std::map<std::string, std::vector<std::string>> known;  // what -> ids, built when first needed
  auto ids_of = [&](const std::string& what) -> const std::vector<std::string>& {
    auto [it, added] = known.try_emplace(what);
    if (!added) return it->second;
    if (what == "rule")
      for (const auto& rule : rule_base.rules) it->second.push_back(rule.id);
    else
      for (NodeKind kind : kKinds.at(what))
        for (auto& id : kb.IdsOfKind(kind)) it->second.push_back(std::move(id));
    return it->second;
  };
  std::vector<std::string> out;
  for (const auto& ref : expect.ids) {
    const auto& ids = ids_of(ref.what);
    if (std::find(ids.begin(), ids.end(), ref.id) != ids.end()) continue;
    std::vector<std::string> nearest = NearestIds(ref.id, ids);
    out.push_back(source + ":" + ref.path + ": unknown " + ref.what + " '" + ref.id + "'" +
                  (nearest.empty() ? "" : " (nearest: " + Join(nearest, ", ") + ")"));
  }
  return out;
}

std::set<std::string> FiredRules(const inference::Evaluation& evaluation) {
  std::set<std::string> fired;
  for (const auto& trace : evaluation.trace.rules)
    if (trace.fired) fired.emplace(trace.rule);
  return fired;
}

ordered_json Snapshot(const Expectation& old, const inference::Evaluation& evaluation, const std::set<std::string>& fired) {
  ordered_json out;
  if (!old.description.empty()) out["description"] = old.description;
  if (old.case_kind) out["case_kind"] = CaseKindName(*old.case_kind);
  if (old.clinician) out["clinician"] = old.clinician_json;
  if (!old.flux.empty()) out["flux"] = old.flux;
  out["covers"] = old.covers.empty() ? std::vector<std::string>(fired.begin(), fired.end()) : old.covers;
  out["alerts"] = ordered_json::array();
  for (const auto& alert : evaluation.alerts)
    out["alerts"].push_back({{"id", alert.id}, {"severity", std::string(Name(alert.severity))}});
  out["strategies"] = VerdictList(evaluation.strategies);
  out["blocked_strategies"] = Ids(evaluation.blocked);
  out["requested_supplements"] = VerdictList(evaluation.requested);
  out["deficits"] = ordered_json::array();
  for (const auto& id : PresentIds(evaluation.deficits))
    out["deficits"].push_back(DeficitEntry(old, id, CertaintyOf(evaluation.deficits, id)));
  out["drivers"] = PresentIds(evaluation.drivers);
  return out;
}

std::vector<std::string> Changes(const Expectation& old, const Expectation& updated) {
  std::vector<std::string> changes;
  if (!old.complete) changes.emplace_back(old.partial ? "migrated to the complete format" : "complete result filled in");
  size_t stated = 0;
  std::vector<std::string> before;
  if (old.complete && updated.complete) before = Facts(WithStatedSeverities(*old.complete, *updated.complete, stated));
  else if (old.complete) before = Facts(*old.complete);
  std::vector<std::string> after = updated.complete ? Facts(*updated.complete) : std::vector<std::string>{};
  for (const auto& fact : before)
    if (!std::binary_search(after.begin(), after.end(), fact)) changes.push_back("- " + fact);
  for (const auto& fact : after)
    if (!std::binary_search(before.begin(), before.end(), fact)) changes.push_back("+ " + fact);
  if (old.covers != updated.covers) changes.push_back("covers: " + std::to_string(updated.covers.size()) + " rule(s)");
  if (stated > 0) changes.push_back("severity stated for " + std::to_string(stated) + " alert(s)");
  return changes;
}

Result<std::vector<std::string>> FindCases(const Layout& layout) {
  const std::string& dir = layout.case_dir;
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) return Status::NotFound(dir + ": not a folder");
  std::vector<std::string> names;
  const std::string& suffix = layout.case_suffix;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string file = entry.path().filename().string();
    if (file.size() <= suffix.size() || !file.ends_with(suffix)) continue;
    std::error_code kind;  // a link to itself is listed: reading it names the problem
    if (entry.is_regular_file(kind) || kind) names.push_back(file.substr(0, file.size() - suffix.size()));
  }
  if (error) return Status::IOError(dir + ": " + error.message());
  std::sort(names.begin(), names.end());
  return names;
}

CaseRun RunCase(const pipeline::Pipeline& pipeline, const Layout& layout, const std::string& name) {
  CaseRun run;
  run.name = name;
  const std::string case_path = layout.CasePath(name), expect_path = layout.ExpectPath(name);
  std::error_code missing;
  auto expect_text = std::filesystem::exists(expect_path, missing) ? ReadFile(expect_path) : Result<std::string>(std::string("{}"));
  auto expect = expect_text.ok() ? ParseExpectation(*expect_text, expect_path) : Result<Expectation>(expect_text.status());
  if (!expect.ok()) {
    run.failures.push_back(expect.status().message());
    return run;
  }
  run.expectation = *expect;
  run.unknown_ids = UnknownIds(*expect, expect_path, pipeline.knowledge(), pipeline.rule_base());
  auto text = ReadFile(case_path);
  auto parsed = text.ok() ? pipeline.ParseCase(*text, case_path) : Result<casefile::Case>(text.status());
  auto flux = pipeline::FluxFromJson(expect->flux, expect_path + " (flux)");
  if (!parsed.ok() || !flux.ok()) {
    run.failures.push_back(parsed.ok() ? flux.status().message() : parsed.status().message());
    return run;
  }
  pipeline::EvaluationOptions options;
  options.given_flux = *flux;
  options.predicted_effects = false;
  auto result = pipeline.Evaluate(std::move(parsed).value(), options);
  if (!result.ok()) {
    run.failures.push_back(result.status().message());
    return run;
  }
  run.evaluation = std::move(result->evaluation);
  run.fired = FiredRules(*run.evaluation);
  if (!run.evaluation->trace.stopped.empty()) run.failures.push_back("stopped: " + run.evaluation->trace.stopped);
  for (auto& failure : Check(*expect, *run.evaluation, run.fired)) run.failures.push_back(std::move(failure));
  run.failures.insert(run.failures.begin(), run.unknown_ids.begin(), run.unknown_ids.end());
  return run;
}

Result<std::vector<std::string>> Update(const Layout& layout, CaseRun& run) {
  if (!run.expectation || !run.evaluation) return Status::InvalidArgument(run.name + ": did not evaluate; not updated");
  const std::string path = layout.ExpectPath(run.name);
  ordered_json snapshot = Snapshot(*run.expectation, *run.evaluation, run.fired);
  std::string text = snapshot.dump(2) + "\n";
  auto updated = ParseExpectation(text, path);
  if (!updated.ok()) return updated.status();
  auto current = ReadFile(path);
  if (!current.ok() || *current != text) {
    std::error_code error;
    std::filesystem::create_directories(layout.expect_dir, error);  // the first expectation of a folder
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text)) return Status::IOError(path + ": cannot write");
  }
  std::vector<std::string> changes = Changes(*run.expectation, *updated);
  run.failures = run.unknown_ids;
  for (auto& failure : Check(*updated, *run.evaluation, run.fired)) run.failures.push_back(std::move(failure));
  if (!run.evaluation->trace.stopped.empty()) run.failures.push_back("stopped: " + run.evaluation->trace.stopped);
  run.expectation = std::move(updated).value();
  return changes;
}

std::string Coverage::Summary() const {
  return "coverage: " + std::to_string(fired) + "/" + std::to_string(total) + " rules (" + FormatNumber(std::round(percent() * 10) / 10, 4) + "%)";
}

Coverage CoverageOf(const rules::RuleBase& rule_base, const std::set<std::string>& fired) {
  Coverage coverage;
  coverage.total = rule_base.rules.size();
  for (const auto& rule : rule_base.rules)
    if (!fired.count(rule.id)) coverage.unfired.push_back(&rule);
  coverage.fired = coverage.total - coverage.unfired.size();
  return coverage;
}

Result<std::optional<double>> ReadCoverageFloor(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::optional<double>();
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  try {
    size_t used = 0;
    double floor = std::stod(*text, &used);
    if (text->find_first_not_of(" \t\r\n", used) == std::string::npos) return std::optional<double>(floor);
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(path + ": expected one number, the coverage floor in percent");
}

std::string FloorFailure(const std::string& dir, const Coverage& coverage) {
  auto floor = ReadCoverageFloor(dir + "/coverage_floor.txt");
  if (!floor.ok()) return floor.status().message();
  if (!*floor || coverage.percent() + 1e-9 >= **floor) return "";
  return coverage.Summary() + " is below the floor " + FormatNumber(**floor, 4) + "% (" + dir + "/coverage_floor.txt)";
}

}  // namespace nflux::golden
