// Property tests of the safety gate over random cases built from the whole knowledge base
// (random_case.h): whatever the case says, the verdicts never contradict the alerts.
//
// 100,000 cases by default, in kChunks seed ranges (fixed seeds: every run checks the same cases).
// Each chunk is generated and evaluated ONCE per process and every property reads that one run,
// so ctest runs one process per chunk (tests/CMakeLists.txt), not one per property. The
// environment variable NFLUX_PROPERTY_CASES lowers the count (for slow Debug or sanitizer builds)
// only when it is set. A failure prints the property, the seed, the message and the case JSON of
// the first failing case; `RandomCase(vocabulary, seed)` rebuilds it. NFLUX_PROPERTY_VERBOSE=1
// prints every failure.
//
// Properties: (a) no suggested strategy is blocked, by the gate or by a contraindication that holds
// in the case; (b) no supplement named by an alert is acceptable, and one named by an urgent or high
// alert is blocked unless lifted; (c) a suicide red flag puts suicide_risk_urgent and
// urgent_crisis_referral first and blocks precursors and botanicals; (d) list order does not
// matter; (e) every requested and current supplement has one verdict; (f) the same case gives the
// same output; (g) every contraindication that holds decides its supplement's verdict.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "safety/safety_test_support.h"

namespace nflux::testing {
namespace {

using inference::Evaluation;
using inference::StrategyResult;
using inference::Verdict;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr int kDefaultCases = 100000;
constexpr int kChunks = 4;
constexpr uint64_t kFirstSeed = 1;
// Every Nth case is also compared as the whole output JSON (with the trace): the report is the
// contract, but rendering it costs more than evaluating, so the rest compare the evaluation.
constexpr uint64_t kWholeJsonEvery = 500;
// (d) compares every case with its parsed lists shuffled; every 4th case also goes through the
// parser shuffled, and every 4th (another) is evaluated twice as it is for (f): a second parse and
// evaluation of every case would double the run time.
constexpr uint64_t kCostlyEvery = 4;

int CaseCount() {
  const char* given = std::getenv("NFLUX_PROPERTY_CASES");
  if (given == nullptr || *given == '\0') return kDefaultCases;
  return std::max(kChunks, std::atoi(given));
}

enum Property {
  kAccepted,            // every generated case is accepted (unknown medications included)
  kNoBlockedSuggested,  // (a)
  kAlertedNotAcceptable,  // (b)
  kSuicideRiskFirst,    // (c)
  kOrderIndependent,    // (d) the whole output
  kOrderKeepsVerdicts,  // (d) verdicts, alerts (id, severity) and strategy order
  kOneVerdictEach,      // (e)
  kDeterministic,       // (f)
  kEdgesDecide,         // (g) every contraindication that holds (reference reading) decides the verdict
  kPropertyCount
};
constexpr std::array<const char*, kPropertyCount> kPropertyNames = {
    "every case accepted", "(a) no blocked strategy suggested", "(b) alerted supplement not acceptable",
    "(c) suicide risk first", "(d) order independent", "(d) order keeps verdicts", "(e) one verdict each", "(f) deterministic",
    "(g) holding contraindication decides"};

struct Failure {
  uint64_t seed = 0;
  std::string message;
  std::string case_json;
};

struct Outcome {
  int checked = 0;  // cases the property applied to
  int failed = 0;
  std::optional<Failure> first;
};

struct ChunkRun {
  uint64_t first_seed = 0, last_seed = 0;  // inclusive
  double seconds = 0;
  std::array<Outcome, kPropertyCount> outcomes;
  int alert_named_strategies = 0;  // (b) strategies checked against an alert
};

// ---- The properties, one function each: "" when it holds, else what went wrong ----------------

// The contraindicated_with edges from each strategy.
const std::map<std::string, std::vector<const SafetyEdge*>>& ContraindicationsFrom() {
  static const auto edges = [] {
    std::map<std::string, std::vector<const SafetyEdge*>> out;
    for (const SafetyEdge& edge : ShippedSafetyEdges())
      if (edge.type == "contraindicated_with") out[edge.from].push_back(&edge);
    return out;
  }();
  return edges;
}

const std::vector<const SafetyEdge*>& EdgesFrom(const std::string& strategy) {
  static const std::vector<const SafetyEdge*> kNone;
  auto it = ContraindicationsFrom().find(strategy);
  return it == ContraindicationsFrom().end() ? kNone : it->second;
}

Concluded ConcludedBy(const Evaluation& e) {
  Concluded out;
  for (const inference::AlertResult& alert : e.alerts) out.alerts.push_back(alert.id);
  for (const auto& [id, driver] : e.drivers) out.drivers[id] = driver.certainty;
  return out;
}

// A blocking contraindication of the knowledge base that holds for a suggested strategy.
std::string SuggestedDespiteContraindication(const knowledge::KnowledgeBase& kb, const casefile::Case& c,
                                             const Evaluation& e) {
  const Concluded concluded = ConcludedBy(e);
  for (const StrategyResult& s : e.strategies)
    for (const SafetyEdge* edge : EdgesFrom(s.id))
      if (edge->severity != "caution" && EdgeHolds(kb, *edge, c, concluded))
        return "strategy " + s.id + " is suggested although " + edge->Describe() + " holds";
  return "";
}

// (g) Every requested or current supplement: a holding blocking edge -> blocked, a holding caution
// edge -> not acceptable.
std::string EdgesDecide(const knowledge::KnowledgeBase& kb, const casefile::Case& c, const Evaluation& e) {
  const Concluded concluded = ConcludedBy(e);
  for (const StrategyResult& s : e.requested) {
    for (const SafetyEdge* edge : EdgesFrom(s.id)) {
      if (!EdgeHolds(kb, *edge, c, concluded)) continue;
      const bool blocks = edge->severity != "caution";
      if ((blocks && s.verdict != Verdict::kBlocked) || s.verdict == Verdict::kAcceptable)
        return s.id + " is " + std::string(inference::VerdictName(s.verdict)) + " although " + edge->Describe() + " holds";
    }
  }
  return "";
}

std::string NoBlockedSuggested(const Evaluation& e) {
  std::set<std::string> blocked;
  for (const StrategyResult& s : e.blocked) blocked.insert(s.id);
  for (const StrategyResult& s : e.requested)
    if (s.verdict == Verdict::kBlocked) blocked.insert(s.id);
  for (const StrategyResult& s : e.strategies) {
    if (s.verdict == Verdict::kBlocked) return "strategy " + s.id + " is listed in strategies with verdict blocked";
    if (blocked.count(s.id)) return "strategy " + s.id + " is both in strategies and blocked";
  }
  return "";
}

bool IsSupplementKind(StrategyKind kind) {
  return kind == StrategyKind::kPrecursor || kind == StrategyKind::kCofactor || kind == StrategyKind::kBotanical ||
         kind == StrategyKind::kOther;
}

// An `unless` of one of the strategy's contraindications for this alert holds in the case.
bool LiftedByUnless(const knowledge::KnowledgeBase& kb, const std::string& strategy, const std::string& alert,
                    const casefile::Case& c) {
  for (const SafetyEdge& edge : ShippedSafetyEdges()) {
    if (edge.type != "contraindicated_with" || edge.from != strategy || edge.alert != alert) continue;
    for (const std::string& lifting : edge.unless)
      if (UnlessHolds(kb, lifting, c)) return true;
  }
  return false;
}

std::string AlertedNotAcceptable(const knowledge::KnowledgeBase& kb, const casefile::Case& c, const Evaluation& e,
                                 int& named) {
  for (const inference::AlertResult& alert : e.alerts) {
    for (const std::string& because : alert.because) {
      const std::string id = StrategyNamedBy(because);
      if (id.empty()) continue;
      ++named;
      const std::vector<Verdict> verdicts = VerdictsOf(e, id);
      const std::string where = "alert " + alert.id + " (" + std::string(Name(alert.severity)) + ") names " + because;
      if (verdicts.empty()) return where + ", but " + id + " has no verdict";
      for (Verdict v : verdicts)
        if (v == Verdict::kAcceptable) return where + ", but " + id + " is acceptable";
      if (!IsRedFlag(alert.severity) || !IsSupplementKind(KindOf(kb, id))) continue;
      if (LiftedByUnless(kb, id, alert.id, c)) continue;
      for (Verdict v : verdicts)
        if (v != Verdict::kBlocked)
          return where + ", but " + id + " (" + std::string(Name(KindOf(kb, id))) + ") is " +
                 std::string(inference::VerdictName(v)) + ", not blocked, and no unless lifts it";
    }
  }
  return "";
}

bool HasSuicideRedFlag(const casefile::Case& c) {
  return c.QuestionnaireItem("phq9", 9).value_or(0) > 0 || c.QuestionnaireItem("epds", 10).value_or(0) > 0 ||
         c.Symptom("suicidal_ideation").value_or(0) > 0;
}

std::string SuicideRiskFirst(const knowledge::KnowledgeBase& kb, const Evaluation& e) {
  if (e.alerts.empty() || e.alerts[0].id != "suicide_risk_urgent")
    return "alerts[0] is " + (e.alerts.empty() ? std::string("missing") : e.alerts[0].id) + ", not suicide_risk_urgent";
  if (e.strategies.empty() || e.strategies[0].id != "urgent_crisis_referral")
    return "strategies[0] is " + (e.strategies.empty() ? std::string("missing") : e.strategies[0].id) +
           ", not urgent_crisis_referral";
  for (const StrategyResult& s : e.strategies)
    if (s.kind == StrategyKind::kPrecursor || s.kind == StrategyKind::kBotanical)
      return "strategy " + s.id + " (" + std::string(Name(s.kind)) + ") is suggested under suicide risk";
  for (const StrategyResult& s : e.requested) {
    const StrategyKind kind = KindOf(kb, s.id);
    if ((kind == StrategyKind::kPrecursor || kind == StrategyKind::kBotanical) && s.verdict != Verdict::kBlocked)
      return "requested " + s.id + " is " + std::string(inference::VerdictName(s.verdict)) + " under suicide risk";
  }
  return "";
}

// The same in the output JSON (the contract; the report ranks strategies itself).
std::string SuicideRiskFirstInReport(const knowledge::KnowledgeBase& kb, const ordered_json& report) {
  const ordered_json& alerts = report["alerts"];
  const ordered_json& strategies = report["strategies"];
  if (alerts.empty() || alerts[0]["id"] != "suicide_risk_urgent")
    return "report: alerts[0] is " + (alerts.empty() ? std::string("missing") : alerts[0]["id"].dump()) +
           ", not suicide_risk_urgent";
  if (strategies.empty() || strategies[0]["id"] != "urgent_crisis_referral")
    return "report: strategies[0] is " + (strategies.empty() ? std::string("missing") : strategies[0]["id"].dump()) +
           ", not urgent_crisis_referral";
  for (const auto& s : strategies) {
    const StrategyKind kind = KindOf(kb, s["id"].get<std::string>());
    if (kind == StrategyKind::kPrecursor || kind == StrategyKind::kBotanical)
      return "report: strategy " + s["id"].dump() + " is suggested under suicide risk";
  }
  for (const auto& s : report["requested_supplements"]) {
    const StrategyKind kind = KindOf(kb, s["id"].get<std::string>());
    if ((kind == StrategyKind::kPrecursor || kind == StrategyKind::kBotanical) && s["verdict"] != "blocked")
      return "report: requested_supplements " + s["id"].dump() + " is " + s["verdict"].dump() + " under suicide risk";
  }
  return "";
}

std::string OneVerdictEach(const casefile::Case& c, const Evaluation& e) {
  std::set<std::string> supplements(c.supplements_requested.begin(), c.supplements_requested.end());
  supplements.insert(c.supplements_current.begin(), c.supplements_current.end());
  for (const std::string& id : supplements) {
    const size_t entries = VerdictEntries(e, id).size();
    if (entries != 1) return id + " has " + std::to_string(entries) + " verdict entries";
  }
  for (const StrategyResult& s : e.requested)
    if (!supplements.count(s.id)) return s.id + " has a verdict entry but is neither requested nor current";
  return "";
}

// ---- Comparing two evaluations ----------------------------------------------------------------

double Rounded(double value) { return std::round(value * 1e9) / 1e9; }

json StrategiesJson(const std::vector<StrategyResult>& list) {
  json out = json::array();
  for (const StrategyResult& s : list) {
    json reasons = json::array();
    for (const inference::BlockReason& r : s.reasons)
      reasons.push_back({{"alert", r.alert}, {"with", r.with}, {"severity", Name(r.severity)}, {"citations", r.citations},
                         {"note", r.note}, {"detail", r.detail}});
    out.push_back({{"id", s.id}, {"kind", Name(s.kind)}, {"score", Rounded(s.score)}, {"for_deficits", s.for_deficits},
                   {"rules", s.rules}, {"requested", s.requested}, {"current", s.current}, {"suggested", s.suggested},
                   {"verdict", inference::VerdictName(s.verdict)}, {"reasons", reasons}});
  }
  return out;
}

json ConclusionsJson(const std::map<std::string, inference::Conclusion>& conclusions) {
  json out = json::array();
  for (const auto& [id, c] : conclusions) {
    json drivers = json::object();
    for (const auto& [driver, weight] : c.drivers) drivers[driver] = Rounded(weight);
    out.push_back({{"id", id}, {"certainty", Rounded(c.certainty)}, {"support", Rounded(c.support)},
                   {"against", Rounded(c.against)}, {"rules", c.rules}, {"opposing_rules", c.opposing_rules},
                   {"drivers", drivers}});
  }
  return out;
}

// An alert's `because` with data-quality findings (named by their JSON path, which follows the
// input order) reduced to "data_quality:" and put last.
std::vector<std::string> BecauseWithoutPaths(std::vector<std::string> because) {
  for (std::string& item : because)
    if (item.rfind("data_quality:", 0) == 0) item = "data_quality:";
  std::stable_partition(because.begin(), because.end(), [](const std::string& item) { return item != "data_quality:"; });
  return because;
}

// A message with the JSON paths of list entries ("/medications/2/atc") reduced to the list
// ("/medications/*/atc"): a path names an input position, which a shuffle legitimately moves.
std::string MessageWithoutPositions(const std::string& message) {
  static const std::regex kPosition(R"((/(labs|medications|conditions|current|requested))/[0-9]+)");
  return std::regex_replace(message, kPosition, "$1/*");
}

bool SameMessage(const std::string& a, const std::string& b) {
  return a == b || MessageWithoutPositions(a) == MessageWithoutPositions(b);
}

// Everything an evaluation concluded, in its order (alerts, strategies and verdicts in particular).
std::string Canonical(const Evaluation& e) {
  json out;
  for (const inference::AlertResult& a : e.alerts) {
    json reasons = json::array();
    for (const inference::AlertReason& r : a.reasons)
      reasons.push_back({{"message", MessageWithoutPositions(r.message)}, {"because", BecauseWithoutPaths(r.because)}, {"source", r.source}});
    out["alerts"].push_back({{"id", a.id}, {"severity", Name(a.severity)}, {"message", MessageWithoutPositions(a.message)},
                             {"because", BecauseWithoutPaths(a.because)}, {"citations", a.citations}, {"rules", a.rules},
                             {"reasons", reasons}});
  }
  out["strategies"] = StrategiesJson(e.strategies);
  out["blocked"] = StrategiesJson(e.blocked);
  out["requested"] = StrategiesJson(e.requested);
  out["deficits"] = ConclusionsJson(e.deficits);
  out["drivers"] = ConclusionsJson(e.drivers);
  out["facts"] = ConclusionsJson(e.facts);
  for (const inference::Note& n : e.notes)
    out["notes"].push_back({{"rule", n.rule}, {"severity", n.severity}, {"message", n.message}});
  return out.dump();
}

// Cheap equality of two evaluations, field by field, with Canonical()'s rounding and `because`
// reading; Canonical() serialises only to show a difference.
bool SameNumber(double a, double b) { return Rounded(a) == Rounded(b); }

bool SameStrategies(const std::vector<StrategyResult>& a, const std::vector<StrategyResult>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const StrategyResult& x = a[i];
    const StrategyResult& y = b[i];
    if (x.id != y.id || x.kind != y.kind || !SameNumber(x.score, y.score) || x.for_deficits != y.for_deficits ||
        x.rules != y.rules || x.requested != y.requested || x.current != y.current || x.suggested != y.suggested ||
        x.verdict != y.verdict ||
        x.reasons.size() != y.reasons.size())
      return false;
    for (size_t r = 0; r < x.reasons.size(); ++r) {
      const inference::BlockReason& p = x.reasons[r];
      const inference::BlockReason& q = y.reasons[r];
      if (p.alert != q.alert || p.with != q.with || p.severity != q.severity || p.citations != q.citations ||
          p.note != q.note || p.detail != q.detail)
        return false;
    }
  }
  return true;
}

bool SameConclusions(const std::map<std::string, inference::Conclusion>& a, const std::map<std::string, inference::Conclusion>& b) {
  if (a.size() != b.size()) return false;
  for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
    const inference::Conclusion& p = x->second;
    const inference::Conclusion& q = y->second;
    if (x->first != y->first || !SameNumber(p.certainty, q.certainty) || !SameNumber(p.support, q.support) ||
        !SameNumber(p.against, q.against) || p.rules != q.rules || p.opposing_rules != q.opposing_rules ||
        p.drivers.size() != q.drivers.size())
      return false;
    for (auto d = p.drivers.begin(), e = q.drivers.begin(); d != p.drivers.end(); ++d, ++e)
      if (d->first != e->first || !SameNumber(d->second, e->second)) return false;
  }
  return true;
}

bool HasPathBecause(const inference::AlertResult& alert) {
  return std::any_of(alert.because.begin(), alert.because.end(),
                     [](const std::string& b) { return b.rfind("data_quality:", 0) == 0; });
}

// What decides safety: alert ids and severities in order, strategies in order, every verdict.
bool SameVerdicts(const Evaluation& a, const Evaluation& b) {
  auto alerts = [](const Evaluation& e) {
    std::vector<std::pair<std::string, AlertSeverity>> out;
    for (const inference::AlertResult& alert : e.alerts) out.emplace_back(alert.id, alert.severity);
    return out;
  };
  auto verdicts = [](const std::vector<StrategyResult>& list) {
    std::vector<std::pair<std::string, Verdict>> out;
    for (const StrategyResult& s : list) out.emplace_back(s.id, s.verdict);
    return out;
  };
  return alerts(a) == alerts(b) && verdicts(a.strategies) == verdicts(b.strategies) &&
         verdicts(a.blocked) == verdicts(b.blocked) && verdicts(a.requested) == verdicts(b.requested);
}

bool Same(const Evaluation& a, const Evaluation& b) {
  if (a.alerts.size() != b.alerts.size() || a.notes.size() != b.notes.size()) return false;
  for (size_t i = 0; i < a.alerts.size(); ++i) {
    const inference::AlertResult& x = a.alerts[i];
    const inference::AlertResult& y = b.alerts[i];
    if (x.id != y.id || x.severity != y.severity || !SameMessage(x.message, y.message) || x.citations != y.citations ||
        x.rules != y.rules)
      return false;
    if (x.because != y.because &&
        (!HasPathBecause(x) || BecauseWithoutPaths(x.because) != BecauseWithoutPaths(y.because)))
      return false;
    if (x.reasons.size() != y.reasons.size()) return false;
    for (size_t r = 0; r < x.reasons.size(); ++r) {
      const inference::AlertReason& p = x.reasons[r];
      const inference::AlertReason& q = y.reasons[r];
      if (!SameMessage(p.message, q.message) || p.source != q.source ||
          (p.because != q.because && BecauseWithoutPaths(p.because) != BecauseWithoutPaths(q.because)))
        return false;
    }
  }
  for (size_t i = 0; i < a.notes.size(); ++i)
    if (a.notes[i].rule != b.notes[i].rule || a.notes[i].severity != b.notes[i].severity ||
        a.notes[i].message != b.notes[i].message)
      return false;
  return SameStrategies(a.strategies, b.strategies) && SameStrategies(a.blocked, b.blocked) &&
         SameStrategies(a.requested, b.requested) && SameConclusions(a.deficits, b.deficits) &&
         SameConclusions(a.drivers, b.drivers) && SameConclusions(a.facts, b.facts);
}

// Where two JSON texts differ: the first operations of the JSON patch from one to the other, each
// with the value on both sides.
std::string FirstDifference(const std::string& a, const std::string& b) {
  const json left = json::parse(a), right = json::parse(b);
  const json patch = json::diff(left, right);
  std::string out;
  for (size_t i = 0; i < patch.size() && i < 3; ++i) {
    const json::json_pointer path(patch[i]["path"].get<std::string>());
    out += "\n  " + patch[i].dump() + (left.contains(path) ? "; was " + left[path].dump() : "");
  }
  return out.empty() ? "no difference in JSON" : out;
}

// The report minus what legitimately follows input order (labs and data-quality paths) and the
// trace id.
std::string ReportWithoutInputOrder(ordered_json report) {
  for (const char* key : {"labs", "data_quality", "trace_id"}) report.erase(key);
  for (auto& alert : report["alerts"])
    if (alert.contains("because")) alert["because"] = BecauseWithoutPaths(alert["because"].get<std::vector<std::string>>());
  return MessageWithoutPositions(report.dump());
}

// The parsed case with every list in another order, as if the input had been written so (paths
// travel with their entries).
casefile::Case ShuffledParsedCase(casefile::Case c, uint64_t seed) {
  Rng rng(seed ^ 0xC0FFEEULL);
  auto shuffle = [&](auto& list) {
    for (size_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[rng.Below(i)]);
  };
  shuffle(c.labs);
  shuffle(c.medications);
  shuffle(c.conditions);
  shuffle(c.unknown_medications);
  shuffle(c.unknown_conditions);
  shuffle(c.supplements_current);
  shuffle(c.supplements_requested);
  shuffle(c.data_quality);
  shuffle(c.flags.critical_labs);
  return c;
}

// ---- One chunk --------------------------------------------------------------------------------

class ChunkChecker {
 public:
  ChunkChecker(const pipeline::Pipeline& pipeline, ChunkRun& run) : pipeline_(pipeline), kb_(pipeline.knowledge()), run_(run) {}

  void Check(uint64_t seed) {
    seed_ = seed;
    input_ = RandomCase(ShippedVocabulary(), seed);
    text_ = input_.dump();
    auto parsed = pipeline_.ParseCase(text_, "random");
    Result<pipeline::CaseEvaluation> result =
        parsed.ok() ? pipeline_.Evaluate(*parsed, FastOptions()) : Result<pipeline::CaseEvaluation>(parsed.status());
    if (!Record(kAccepted, result.ok() ? "" : result.status().message())) return;
    const Evaluation& e = result->evaluation;
    const std::string blocked = NoBlockedSuggested(e);
    Record(kNoBlockedSuggested, blocked.empty() ? SuggestedDespiteContraindication(kb_, result->parsed, e) : blocked);
    Record(kEdgesDecide, EdgesDecide(kb_, result->parsed, e));
    Record(kAlertedNotAcceptable, AlertedNotAcceptable(kb_, result->parsed, e, run_.alert_named_strategies));
    if (HasSuicideRedFlag(result->parsed)) {
      const std::string in_evaluation = SuicideRiskFirst(kb_, e);
      Record(kSuicideRiskFirst,
             in_evaluation.empty() ? SuicideRiskFirstInReport(kb_, pipeline_.ReportJson(*result)) : in_evaluation);
    }
    Record(kOneVerdictEach, OneVerdictEach(result->parsed, e));
    CheckShuffledLists(*parsed, e);
    if (seed % kCostlyEvery == 1) CheckDeterministic(*parsed, e);
    if (seed % kCostlyEvery == 3) CheckOrderIndependent(e);
    if (seed % kWholeJsonEvery == 0) CheckWholeReports();
  }

 private:
  // Records one property's result on the current case; returns whether it held.
  bool Record(Property property, const std::string& problem) {
    Outcome& outcome = run_.outcomes[property];
    ++outcome.checked;
    if (problem.empty()) return true;
    ++outcome.failed;
    if (!outcome.first) outcome.first = Failure{seed_, problem, text_};
    if (verbose_) std::cerr << "[ failure ] " << kPropertyNames[property] << " seed " << seed_ << ": " << problem << "\n";
    return false;
  }

  void CheckDeterministic(const casefile::Case& parsed, const Evaluation& first) {
    auto again = pipeline_.Evaluate(parsed, FastOptions());
    if (!again.ok()) {
      Record(kDeterministic, "a second evaluation fails: " + again.status().message());
      return;
    }
    Record(kDeterministic, Same(first, again->evaluation)
                               ? ""
                               : "a second evaluation differs: " +
                                     FirstDifference(Canonical(first), Canonical(again->evaluation)));
  }

  // (d) on every case, cheaply: the parsed case's lists in another order (no second parse).
  void CheckShuffledLists(const casefile::Case& parsed, const Evaluation& first) {
    auto shuffled = pipeline_.Evaluate(ShuffledParsedCase(parsed, seed_), FastOptions());
    if (!shuffled.ok()) {
      Record(kOrderIndependent, "the shuffled parsed case fails: " + shuffled.status().message());
      return;
    }
    RecordVerdicts(first, shuffled->evaluation, "with its lists shuffled after parsing");
    Record(kOrderIndependent, Same(first, shuffled->evaluation)
                                  ? ""
                                  : "with its lists shuffled after parsing (seed " + std::to_string(seed_) +
                                        ") the case differs: " +
                                        FirstDifference(Canonical(first), Canonical(shuffled->evaluation)));
  }

  void RecordVerdicts(const Evaluation& first, const Evaluation& shuffled, const std::string& how) {
    Record(kOrderKeepsVerdicts, SameVerdicts(first, shuffled) ? ""
                                                             : how + ": verdicts, alerts or strategy order differ: " +
                                                                   FirstDifference(Canonical(first), Canonical(shuffled)));
  }

  // (d) through the parser: the case JSON with its lists in another order.
  void CheckOrderIndependent(const Evaluation& first) {
    const std::string shuffled_text = ShuffledCase(input_, seed_).dump();
    auto shuffled = pipeline_.Evaluate(shuffled_text, FastOptions());
    if (!shuffled.ok()) {
      Record(kOrderIndependent, "the shuffled case is rejected: " + shuffled.status().message());
      return;
    }
    RecordVerdicts(first, shuffled->evaluation, "the shuffled case " + shuffled_text);
    Record(kOrderIndependent, Same(first, shuffled->evaluation)
                                  ? ""
                                  : "the shuffled case " + shuffled_text + " differs: " +
                                        FirstDifference(Canonical(first), Canonical(shuffled->evaluation)));
  }

  // The whole output JSON, as `nflux evaluate --format json` prints it: twice the same (trace id
  // included), and the same for the shuffled case (but for labs, data-quality paths, trace id).
  void CheckWholeReports() {
    const pipeline::EvaluationOptions full;
    auto first = pipeline_.Evaluate(text_, full);
    auto second = pipeline_.Evaluate(text_, full);
    const std::string shuffled_text = ShuffledCase(input_, seed_ + 1).dump();
    auto shuffled = pipeline_.Evaluate(shuffled_text, full);
    if (!first.ok() || !second.ok() || !shuffled.ok()) return;  // reported by the checks above
    const std::string a = pipeline_.ReportJson(*first).dump();
    const std::string b = pipeline_.ReportJson(*second).dump();
    Record(kDeterministic, a == b ? "" : "the report JSON differs between two runs: " + FirstDifference(a, b));
    const std::string x = ReportWithoutInputOrder(pipeline_.ReportJson(*first));
    const std::string y = ReportWithoutInputOrder(pipeline_.ReportJson(*shuffled));
    Record(kOrderIndependent,
           x == y ? "" : "the report JSON of shuffled case " + shuffled_text + " differs: " + FirstDifference(x, y));
  }

  const pipeline::Pipeline& pipeline_;
  const knowledge::KnowledgeBase& kb_;
  ChunkRun& run_;
  // NFLUX_PROPERTY_VERBOSE=1 prints every failure, not only the first of each property.
  const bool verbose_ = std::getenv("NFLUX_PROPERTY_VERBOSE") != nullptr;
  uint64_t seed_ = 0;
  ordered_json input_;
  std::string text_;
};

// Adds one thread's outcomes to the chunk's; the first failure is the one of the lowest seed.
void Merge(const ChunkRun& part, ChunkRun& run) {
  for (int p = 0; p < kPropertyCount; ++p) {
    Outcome& into = run.outcomes[p];
    const Outcome& from = part.outcomes[p];
    into.checked += from.checked;
    into.failed += from.failed;
    if (from.first && (!into.first || from.first->seed < into.first->seed)) into.first = from.first;
  }
  run.alert_named_strategies += part.alert_named_strategies;
}

// The chunk's seeds on two threads (the pipeline is immutable and thread-safe), so one chunk uses
// both cores even when ctest runs one test at a time.
ChunkRun RunChunkNow(int chunk) {
  constexpr int kThreads = 2;
  const int per_chunk = (CaseCount() + kChunks - 1) / kChunks;
  ChunkRun run;
  run.first_seed = kFirstSeed + static_cast<uint64_t>(chunk) * static_cast<uint64_t>(per_chunk);
  run.last_seed = run.first_seed + static_cast<uint64_t>(per_chunk) - 1;
  const pipeline::Pipeline& shipped = ShippedPipeline();
  ShippedVocabulary();  // built before the threads start
  const auto start = std::chrono::steady_clock::now();
  std::array<ChunkRun, kThreads> parts;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ChunkChecker checker(shipped, parts[t]);
      for (uint64_t seed = run.first_seed + static_cast<uint64_t>(t); seed <= run.last_seed; seed += kThreads)
        checker.Check(seed);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const ChunkRun& part : parts) Merge(part, run);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ safety  ] seeds " << run.first_seed << "-" << run.last_seed << ": " << per_chunk << " cases in "
            << run.seconds << " s;";
  for (int p = 0; p < kPropertyCount; ++p)
    std::cout << " " << kPropertyNames[p] << " " << run.outcomes[p].checked << "/" << run.outcomes[p].failed << "f;";
  std::cout << " alert-named strategies " << run.alert_named_strategies << "\n";
  return run;
}

// Each chunk runs once per process, whichever property test asks first.
const ChunkRun& RunChunk(int chunk) {
  static std::map<int, ChunkRun> runs;
  auto it = runs.find(chunk);
  if (it == runs.end()) it = runs.emplace(chunk, RunChunkNow(chunk)).first;
  return it->second;
}

class SafetyProperty : public ::testing::TestWithParam<int> {
 protected:
  // Fails with the first failing case of `property` in this chunk; returns the cases checked.
  int ExpectHolds(Property property) {
    const ChunkRun& run = RunChunk(GetParam());
    const Outcome& outcome = run.outcomes[property];
    if (outcome.first) {
      ADD_FAILURE() << kPropertyNames[property] << ": " << outcome.failed << " of " << outcome.checked
                    << " cases fail (seeds " << run.first_seed << "-" << run.last_seed << ").\nFirst failure, seed "
                    << outcome.first->seed << ": " << outcome.first->message << "\ncase: " << outcome.first->case_json;
    }
    return outcome.checked;
  }
};

TEST_P(SafetyProperty, EveryRandomCaseIsAccepted) { EXPECT_GT(ExpectHolds(kAccepted), 0); }

TEST_P(SafetyProperty, NoSuggestedStrategyIsBlocked) { ExpectHolds(kNoBlockedSuggested); }

TEST_P(SafetyProperty, NoSupplementNamedByAnAlertIsAcceptable) {
  ExpectHolds(kAlertedNotAcceptable);
  EXPECT_GT(RunChunk(GetParam()).alert_named_strategies, 0) << "no alert named a strategy: the property was never tested";
}

TEST_P(SafetyProperty, SuicideRiskComesFirst) {
  EXPECT_GT(ExpectHolds(kSuicideRiskFirst), 0) << "no case had a suicide red flag: the property was never tested";
}

TEST_P(SafetyProperty, ListOrderDoesNotChangeVerdictsAlertsOrStrategies) { ExpectHolds(kOrderKeepsVerdicts); }

TEST_P(SafetyProperty, ListOrderDoesNotChangeTheOutput) { ExpectHolds(kOrderIndependent); }

TEST_P(SafetyProperty, EverySupplementHasExactlyOneVerdict) { ExpectHolds(kOneVerdictEach); }

TEST_P(SafetyProperty, SameCaseSameOutput) { ExpectHolds(kDeterministic); }

TEST_P(SafetyProperty, EveryContraindicationThatHoldsDecidesTheVerdict) { ExpectHolds(kEdgesDecide); }

INSTANTIATE_TEST_SUITE_P(Seeds, SafetyProperty, ::testing::Range(0, kChunks),
                         [](const ::testing::TestParamInfo<int>& info) { return "chunk" + std::to_string(info.param); });

// The generator itself: deterministic, and it draws from the whole vocabulary.
TEST(RandomCase, SameSeedSameCaseAndShuffleKeepsTheContent) {
  const CaseVocabulary& vocabulary = ShippedVocabulary();
  EXPECT_EQ(RandomCase(vocabulary, 42).dump(), RandomCase(vocabulary, 42).dump());
  EXPECT_NE(RandomCase(vocabulary, 42).dump(), RandomCase(vocabulary, 43).dump());
  const ordered_json c = RandomCase(vocabulary, 7);
  const ordered_json shuffled = ShuffledCase(c, 7);
  EXPECT_EQ(c.size(), shuffled.size());
  EXPECT_EQ(c["labs"].size(), shuffled["labs"].size());
  EXPECT_EQ(c["medications"].size(), shuffled["medications"].size());
  EXPECT_EQ(json::parse(c["symptoms"].dump()), json::parse(shuffled["symptoms"].dump()));  // same map
}

TEST(RandomCase, DrawsEveryStrategyMedicationAndLab) {
  const CaseVocabulary& vocabulary = ShippedVocabulary();
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  EXPECT_EQ(kb.IdsOfKind(knowledge::NodeKind::kStrategy).size(), vocabulary.strategies.size());
  EXPECT_EQ(kb.IdsOfKind(knowledge::NodeKind::kMedication).size(), vocabulary.medications.size());
  EXPECT_EQ(kb.IdsOfKind(knowledge::NodeKind::kLab).size(), vocabulary.labs.size());
  std::set<std::string> requested, medications, labs;
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    const ordered_json c = RandomCase(vocabulary, seed);
    for (const auto& id : c["supplements"]["requested"]) requested.insert(id.get<std::string>());
    for (const auto& m : c["medications"])
      if (m.contains("id")) medications.insert(m["id"].get<std::string>());
    for (const auto& lab : c["labs"]) labs.insert(lab["test"].get<std::string>());
  }
  EXPECT_EQ(vocabulary.strategies.size(), requested.size());
  EXPECT_GE(medications.size(), vocabulary.medications.size());  // plus unknown ids
  EXPECT_EQ(vocabulary.labs.size(), labs.size());
}

}  // namespace
}  // namespace nflux::testing
