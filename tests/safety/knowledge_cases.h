// Safety knowledge as the tests read it, straight from the knowledge files (independent of the
// engine's own loader): every contraindicated_with and interacts_with edge with its `when`,
// `unless`, alert and citations; cases built to meet a criterion (SCHEMA9.md section 1) or an
// edge's target; and a reference reading of whether a parsed case meets a criterion.
//
// Internal test helper. Thread-safety: pure functions over immutable inputs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "case/case.h"
#include "knowledge/knowledge.h"

namespace nflux::testing {

// One safety edge as written in a knowledge file.
struct SafetyEdge {
  std::string from, type, to;  // type: contraindicated_with | interacts_with
  nlohmann::json when;         // comparators (object) or null
  std::string severity;        // contraindicated_with: absolute | relative | caution
  std::string alert;
  std::string alert_severity;  // interacts_with
  std::vector<std::string> unless;
  std::vector<std::string> citations;
  std::string where;  // "safety/interactions.json /edges/12" (relative to the knowledge folder)

  std::string Describe() const;  // "precursor_5htp -contraindicated_with-> ssri (serotonin_syndrome_risk) at ..."
};

// Every contraindicated_with and interacts_with edge of the knowledge folder, in file order.
std::vector<SafetyEdge> ReadSafetyEdges(const std::string& knowledge_dir);

// Per lab id, every `when` threshold of an edge to it (for drawing random values near them).
std::map<std::string, std::vector<double>> LabThresholds(const std::vector<SafetyEdge>& edges);

// A minimal case: an adult of `sex`, nothing else.
nlohmann::ordered_json BaseCase(const std::string& case_id, const std::string& sex = "female", int age = 35);

// Adds to `c` what makes the subject `subject` (a node id; its kind decides how) meet
// `comparators` (a criterion without its subject key; null: the plain default, e.g. a condition
// entered, a medication taken, a symptom of severity 1). Returns "" on success, else why it
// cannot be expressed in case data. `avoid` lists medication/class/condition ids the chosen
// inputs must not bring in (an edge's `unless`).
std::string ApplyTarget(const knowledge::KnowledgeBase& kb, const std::string& subject, const nlohmann::json& comparators,
                        const std::vector<std::string>& avoid, nlohmann::ordered_json& c);

// The same for a whole criterion object ({"lab": "ferritin", "above": 300}, {"age_below": 12}...).
std::string ApplyCriterion(const knowledge::KnowledgeBase& kb, const nlohmann::json& criterion,
                           const std::vector<std::string>& avoid, nlohmann::ordered_json& c);

// A medication entry (case JSON) that is, or is a member of, `id` and of none of `avoid`; null when
// the knowledge base has none (neither a medication node nor an ATC group code).
nlohmann::ordered_json MemberMedication(const knowledge::KnowledgeBase& kb, const std::string& id,
                                        const std::vector<std::string>& avoid, const std::string& other_than = "");

// Reference reading of the schema: whether the parsed case meets a criterion object, and whether a
// condition applies (entered, or implied by one of its `implied_by` criteria).
bool CaseMeets(const knowledge::KnowledgeBase& kb, const nlohmann::json& criterion, const casefile::Case& c);
bool ConditionApplies(const knowledge::KnowledgeBase& kb, const std::string& condition, const casefile::Case& c);
// An `unless` id (medication, class or condition) holds in the case.
bool UnlessHolds(const knowledge::KnowledgeBase& kb, const std::string& id, const casefile::Case& c);

// What the engine concluded that an edge may target: the alerts raised, the drivers with their
// certainty.
struct Concluded {
  std::vector<std::string> alerts;
  std::map<std::string, double> drivers;
};
// Reference reading of a contraindicated_with edge: its target is present in the case (with its
// `when`, age restrictions included) and no `unless` lifts it.
bool EdgeHolds(const knowledge::KnowledgeBase& kb, const SafetyEdge& edge, const casefile::Case& c,
               const Concluded& concluded);

}  // namespace nflux::testing
