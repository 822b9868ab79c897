// Table-driven tests generated from the knowledge base: for EVERY contraindicated_with edge one
// case per way its target can be met (the target itself; for a condition each criterion that
// implies it; for a supplement target both current and requested) and one case without it; for
// EVERY interacts_with edge a case with the two medications and one with only the first.
//
// The rows are the knowledge files' edges, so new content is tested the day it is written. An
// edge whose target cannot be met from case data is a failure naming it, unless listed in
// kUntriggerable with the reason.
#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "safety/safety_test_support.h"

namespace nflux::testing {
namespace {

using inference::Evaluation;
using inference::StrategyResult;
using inference::Verdict;
using nlohmann::json;
using nlohmann::ordered_json;
using knowledge::NodeKind;

// Edges that case data cannot trigger, "from -> to" with why. Keep it short: each entry is a
// contraindication nobody can see fire.
const std::map<std::string, std::string> kUntriggerable = {};

// Random cases searched for one that raises an alert or concludes a driver (targets that only the
// rules can produce).
constexpr uint64_t kWitnessFirstSeed = 900000001;
constexpr int kWitnessTries = 4000;

bool Listed(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

struct Variant {
  std::string how;  // "target", "implied_by[1]", "requested"...
  ordered_json c;
};

// A reason in the strategy's verdict entry that is this edge's: with its target, same alert,
// severity and citations (a reason the verdict rule adds for an alert names the alert instead).
const inference::BlockReason* EdgeReason(const StrategyResult& entry, const SafetyEdge& edge) {
  for (const inference::BlockReason& reason : entry.reasons) {
    if (reason.with != edge.to || reason.alert != edge.alert || Name(reason.severity) != edge.severity) continue;
    if (std::all_of(edge.citations.begin(), edge.citations.end(),
                    [&](const std::string& key) { return Listed(reason.citations, key); }))
      return &reason;
  }
  return nullptr;
}

std::string ReasonsText(const StrategyResult& entry) {
  std::string out;
  for (const inference::BlockReason& r : entry.reasons)
    out += "\n    {alert " + r.alert + ", with " + r.with + ", " + std::string(Name(r.severity)) + ", citations " +
           json(r.citations).dump() + "}";
  return out.empty() ? " none" : out;
}

struct Evaluated {
  std::string error;  // the case was rejected
  Evaluation evaluation;
};

Evaluated Evaluate(const ordered_json& c) {
  auto result = ShippedPipeline().Evaluate(c.dump(), FastOptions());
  if (!result.ok()) return {result.status().message(), {}};
  return {"", std::move(result->evaluation)};
}

// ---- Building the cases -----------------------------------------------------------------------

ordered_json Requesting(const SafetyEdge& edge, const std::string& sex = "female") {
  ordered_json c = BaseCase("edge-" + edge.from + "-" + edge.to, sex);
  c["supplements"] = {{"requested", {edge.from}}};
  return c;
}

// A random case that raises the alert (or concludes the driver, certainty >= 0.5) `target`.
std::optional<ordered_json> Witness(const std::string& target, NodeKind kind) {
  static std::map<std::string, std::optional<ordered_json>> found;
  if (auto it = found.find(target); it != found.end()) return it->second;
  std::optional<ordered_json> witness;
  for (int i = 0; i < kWitnessTries && !witness; ++i) {
    ordered_json c = RandomCase(ShippedVocabulary(), kWitnessFirstSeed + static_cast<uint64_t>(i));
    Evaluated e = Evaluate(c);
    if (!e.error.empty()) continue;
    if (kind == NodeKind::kAlert) {
      for (const auto& alert : e.evaluation.alerts)
        if (alert.id == target) witness = c;
    } else if (auto d = e.evaluation.drivers.find(target); d != e.evaluation.drivers.end() && d->second.certainty >= 0.5) {
      witness = c;
    }
  }
  return found[target] = witness;
}

// Every way to meet the edge's target; `problems` gets why a way could not be built.
std::vector<Variant> Variants(const knowledge::KnowledgeBase& kb, const SafetyEdge& edge, std::vector<std::string>& problems) {
  std::vector<Variant> out;
  const knowledge::Node* target = kb.Find(edge.to);
  if (target == nullptr) {
    problems.push_back("unknown target " + edge.to);
    return out;
  }
  if (target->kind == NodeKind::kAlert || target->kind == NodeKind::kDriver) {
    std::optional<ordered_json> witness = Witness(edge.to, target->kind);
    if (!witness) {
      problems.push_back("no random case in " + std::to_string(kWitnessTries) + " raises " + edge.to);
      return out;
    }
    ordered_json c = *witness;
    c["supplements"]["requested"].push_back(edge.from);
    out.push_back({"a random case raising " + edge.to, c});
    return out;
  }
  ordered_json c = Requesting(edge);
  if (std::string why = ApplyTarget(kb, edge.to, edge.when, edge.unless, c); why.empty()) out.push_back({"target", c});
  else problems.push_back(why);
  if (target->kind == NodeKind::kStrategy) {
    ordered_json both = Requesting(edge);
    both["supplements"]["requested"].push_back(edge.to);
    out.push_back({"both requested", both});
  }
  if (target->kind == NodeKind::kCondition && target->data.json().contains("implied_by")) {
    const json& criteria = target->data.json()["implied_by"];
    for (size_t i = 0; i < criteria.size(); ++i) {
      ordered_json implied = Requesting(edge);
      if (edge.when.is_object()) ApplyTarget(kb, edge.to, edge.when, edge.unless, implied);  // the `when` restrictions
      if (implied.contains("conditions")) implied.erase("conditions");
      std::string why = ApplyCriterion(kb, criteria[i], edge.unless, implied);
      if (why.empty()) out.push_back({"implied_by[" + std::to_string(i) + "] " + criteria[i].dump(), implied});
      else problems.push_back("implied_by[" + std::to_string(i) + "]: " + why);
    }
  }
  return out;
}

// ---- Checking one case ------------------------------------------------------------------------

// "" when the edge's contraindication shows in the evaluation as the schema says.
std::string CheckTriggered(const SafetyEdge& edge, const Evaluation& e) {
  std::vector<const StrategyResult*> entries = VerdictEntries(e, edge.from);
  if (entries.size() != 1) return std::to_string(entries.size()) + " verdict entries for " + edge.from;
  const StrategyResult& entry = *entries[0];
  const bool blocks = edge.severity != "caution";
  if (blocks && entry.verdict != Verdict::kBlocked)
    return "verdict " + std::string(inference::VerdictName(entry.verdict)) + ", expected blocked";
  if (!blocks && entry.verdict == Verdict::kAcceptable) return "verdict acceptable, expected acceptable_with_caution";
  if (EdgeReason(entry, edge) == nullptr) return "no reason {alert " + edge.alert + ", " + edge.severity +
                                                 ", citations " + json(edge.citations).dump() + "} among:" + ReasonsText(entry);
  if (edge.alert.empty()) return "";
  for (const inference::AlertResult& alert : e.alerts)
    if (alert.id == edge.alert && Listed(alert.because, "requested:" + edge.from)) return "";
  return "alert " + edge.alert + " naming requested:" + edge.from + " is not raised";
}

struct Tally {
  int edges = 0, cases = 0, failures = 0;
  std::map<std::string, int> by_target_kind;
};

void PrintTally(const char* what, const Tally& tally) {
  std::cout << "[ safety  ] " << what << ": " << tally.edges << " edges, " << tally.cases << " cases, " << tally.failures
            << " failing;";
  for (const auto& [kind, count] : tally.by_target_kind) std::cout << " " << kind << " " << count << ";";
  std::cout << "\n";
}

std::vector<SafetyEdge> EdgesOfType(const std::string& type) {
  std::vector<SafetyEdge> out;
  for (const SafetyEdge& edge : ShippedSafetyEdges())
    if (edge.type == type) out.push_back(edge);
  return out;
}

TEST(ContraindicationTable, EveryEdgeBlocksOrCautionsWithItsReasonAndAlert) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  Tally tally;
  for (const SafetyEdge& edge : EdgesOfType("contraindicated_with")) {
    ++tally.edges;
    const knowledge::Node* target = kb.Find(edge.to);
    ++tally.by_target_kind[target ? std::string(knowledge::KindName(target->kind)) : "unknown"];
    std::vector<std::string> problems;
    std::vector<Variant> variants = Variants(kb, edge, problems);
    const bool excused = kUntriggerable.count(edge.from + " -> " + edge.to) > 0;
    if (variants.empty() && !excused) {
      ++tally.failures;
      ADD_FAILURE() << "cannot be triggered from case data: " << edge.Describe() << ": " << json(problems).dump();
    }
    for (const Variant& variant : variants) {
      ++tally.cases;
      Evaluated e = Evaluate(variant.c);
      std::string problem = e.error.empty() ? CheckTriggered(edge, e.evaluation) : "case rejected: " + e.error;
      if (problem.empty()) continue;
      ++tally.failures;
      ADD_FAILURE() << edge.Describe() << " [" << variant.how << "]: " << problem << "\ncase: " << variant.c.dump();
    }
  }
  PrintTally("contraindicated_with", tally);
  EXPECT_GT(tally.edges, 0);
}

TEST(ContraindicationTable, WithoutTheTargetTheEdgesReasonIsAbsent) {
  int edges = 0;
  for (const SafetyEdge& edge : EdgesOfType("contraindicated_with")) {
    ++edges;
    const std::string sex = edge.when.is_object() ? edge.when.value("sex", "female") : "female";
    const ordered_json c = Requesting(edge, sex);
    Evaluated e = Evaluate(c);
    if (!e.error.empty()) {
      ADD_FAILURE() << edge.Describe() << ": case rejected: " << e.error << "\ncase: " << c.dump();
      continue;
    }
    for (const StrategyResult* entry : VerdictEntries(e.evaluation, edge.from))
      EXPECT_EQ(nullptr, EdgeReason(*entry, edge)) << edge.Describe() << ": the reason is there without the target "
                                                   << edge.to << ":" << ReasonsText(*entry) << "\ncase: " << c.dump();
  }
  EXPECT_GT(edges, 0);
}

// An `unless` lifts the edge: the target with the lifting medication, class or condition (carbidopa
// with levodopa for B6) does not give the edge's reason.
TEST(ContraindicationTable, EveryUnlessLiftsItsEdge) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  int lifted = 0;
  for (const SafetyEdge& edge : EdgesOfType("contraindicated_with")) {
    for (const std::string& lifting : edge.unless) {
      ordered_json c = Requesting(edge);
      const knowledge::Node* node = kb.Find(lifting);
      if (node == nullptr) {
        ADD_FAILURE() << edge.Describe() << ": unless names an unknown id " << lifting;
        continue;
      }
      std::string why = ApplyTarget(kb, edge.to, edge.when, edge.unless, c);
      if (why.empty() && node->kind == NodeKind::kCondition) c["conditions"].push_back({{"id", lifting}});
      else if (why.empty()) why = ApplyTarget(kb, lifting, json(), {}, c);
      if (!why.empty()) continue;  // the target itself is reported by the first test
      ++lifted;
      Evaluated e = Evaluate(c);
      ASSERT_EQ("", e.error) << c.dump();
      for (const StrategyResult* entry : VerdictEntries(e.evaluation, edge.from))
        EXPECT_EQ(nullptr, EdgeReason(*entry, edge)) << edge.Describe() << ": unless " << lifting << " does not lift it:"
                                                     << ReasonsText(*entry) << "\ncase: " << c.dump();
    }
  }
  std::cout << "[ safety  ] unless cases: " << lifted << "\n";
}

// ---- interacts_with ---------------------------------------------------------------------------

std::string MedicationId(const ordered_json& entry) {
  return entry.contains("id") ? entry["id"].get<std::string>() : entry["atc"].get<std::string>();
}

// The edge's two medications (different ones), or why there are none.
std::string InteractingPair(const knowledge::KnowledgeBase& kb, const SafetyEdge& edge, ordered_json& a, ordered_json& b) {
  a = MemberMedication(kb, edge.from, {});
  if (a.is_null()) return "no medication is, or belongs to, " + edge.from;
  b = MemberMedication(kb, edge.to, {}, MedicationId(a));
  if (b.is_null()) return "no second medication (other than " + MedicationId(a) + ") is, or belongs to, " + edge.to;
  return "";
}

const inference::AlertResult* AlertNaming(const Evaluation& e, const std::string& id, const std::vector<std::string>& because) {
  for (const inference::AlertResult& alert : e.alerts) {
    if (alert.id != id) continue;
    if (std::all_of(because.begin(), because.end(), [&](const std::string& b) { return Listed(alert.because, b); }))
      return &alert;
  }
  return nullptr;
}

TEST(InteractionTable, EveryInteractionRaisesItsAlertNamingBothMedications) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  Tally tally;
  for (const SafetyEdge& edge : EdgesOfType("interacts_with")) {
    ++tally.edges;
    ordered_json a, b;
    if (std::string why = InteractingPair(kb, edge, a, b); !why.empty()) {
      ++tally.failures;
      ADD_FAILURE() << "cannot be triggered from case data: " << edge.Describe() << ": " << why;
      continue;
    }
    ordered_json c = BaseCase("interaction-" + edge.from + "-" + edge.to);
    c["medications"] = {a, b};
    ++tally.cases;
    Evaluated e = Evaluate(c);
    if (!e.error.empty()) {
      ++tally.failures;
      ADD_FAILURE() << edge.Describe() << ": case rejected: " << e.error << "\ncase: " << c.dump();
      continue;
    }
    const std::vector<std::string> both = {"medication:" + MedicationId(a), "medication:" + MedicationId(b)};
    const inference::AlertResult* alert = AlertNaming(e.evaluation, edge.alert, both);
    std::optional<AlertSeverity> expected = Parse<AlertSeverity>(edge.alert_severity);
    std::string problem;
    if (alert == nullptr) problem = "no alert " + edge.alert + " naming " + json(both).dump();
    else if (!expected) problem = "alert_severity '" + edge.alert_severity + "' is not a severity";
    else if (Rank(alert->severity) > Rank(*expected))
      problem = "alert severity " + std::string(Name(alert->severity)) + ", expected " + edge.alert_severity;
    else if (!std::all_of(edge.citations.begin(), edge.citations.end(),
                          [&](const std::string& key) { return Listed(alert->citations, key); }))
      problem = "the alert lacks the edge's citations " + json(edge.citations).dump();
    if (problem.empty()) continue;
    ++tally.failures;
    ADD_FAILURE() << edge.Describe() << ": " << problem << "\ncase: " << c.dump();
  }
  PrintTally("interacts_with", tally);
  EXPECT_GT(tally.edges, 0) << "no interacts_with edge in the knowledge base";
}

TEST(InteractionTable, OneMedicationAloneRaisesNoInteraction) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  for (const SafetyEdge& edge : EdgesOfType("interacts_with")) {
    ordered_json a, b;
    if (!InteractingPair(kb, edge, a, b).empty()) continue;  // reported above
    ordered_json c = BaseCase("interaction-alone-" + edge.from);
    c["medications"] = ordered_json::array({a});  // not {a}: clang reads that as a copy of a
    Evaluated e = Evaluate(c);
    ASSERT_EQ("", e.error) << c.dump();
    // The interaction needs a second, different medication: with one alone, its alert does not
    // name it.
    for (const inference::AlertResult& alert : e.evaluation.alerts)
      EXPECT_FALSE(alert.id == edge.alert && Listed(alert.because, "medication:" + MedicationId(a)))
          << edge.Describe() << ": alert raised with one medication: " << json(alert.because).dump()
          << "\ncase: " << c.dump();
  }
}

// The tests read edges from the files; the loader must see the same ones.
TEST(SafetyKnowledge, TheFilesEdgesAreTheLoadedEdges) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  std::map<std::string, int> loaded, read;
  for (const knowledge::Edge& edge : kb.edges()) {
    const std::string type(knowledge::EdgeTypeName(edge.type));
    if (type == "contraindicated_with" || type == "interacts_with") ++loaded[type];
  }
  for (const SafetyEdge& edge : ShippedSafetyEdges()) ++read[edge.type];
  EXPECT_EQ(loaded, read);
  EXPECT_GT(read["contraindicated_with"], 0);
}

}  // namespace
}  // namespace nflux::testing
