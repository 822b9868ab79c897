// Internal: what the case shows, as the gate asks it: criteria, conditions entered or implied by
// the data, and the case inputs a contraindication or interaction meets.
#pragma once

#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "case/case.h"
#include "knowledge/knowledge.h"
#include "safety/safety.h"

namespace nflux::safety {

// A node's label, or the id itself when the knowledge base has no such node.
std::string Label(const knowledge::KnowledgeBase& kb, const std::string& id);
// Appends `item` unless `list` already holds it.
void AppendUnique(std::vector<std::string>& list, const std::string& item);

// A criterion that held: the case input it read ("lab:ferritin", "medication:lithium") and what
// it showed ("ferritin 400 ng/mL (above 300)").
struct Match {
  Match(std::string input_read, std::string shown, std::vector<std::string> more = {})
      : input(std::move(input_read)), detail(std::move(shown)), also(std::move(more)) {}

  std::string input;
  std::string detail;
  std::vector<std::string> also;  // further inputs it read (every medication of a class), by id

  // `input` then `also`: what an alert's `because` names.
  std::vector<std::string> Inputs() const;
};

class CaseState {
 public:
  // `alerts` may be null (no alert counts as raised).
  CaseState(const casefile::Case& c, const knowledge::KnowledgeBase& kb, const Conclusions& conclusions,
            const AlertBoard* alerts)
      : c_(c), kb_(kb), conclusions_(conclusions), alerts_(alerts) {}

  std::optional<Match> Holds(const knowledge::Criterion& criterion) const;
  // The condition entered (by id or ICD-10), or implied by the patient fields or its criteria.
  std::optional<Match> ConditionApplies(const std::string& id) const;
  // Whether the case has one of `ids` (medications, classes or conditions): an `unless` holds.
  bool HasAnyOf(const std::vector<std::string>& ids) const;
  // The case's medications matching a medication or class id, by id (any input order gives the
  // same answer).
  std::vector<const casefile::MedicationEntry*> MedicationsMatching(const std::string& id) const;

  const casefile::Case& c() const { return c_; }
  const knowledge::KnowledgeBase& kb() const { return kb_; }

 private:
  std::optional<Match> SubjectHolds(const knowledge::Criterion& criterion) const;
  std::optional<Match> LabHolds(const knowledge::Criterion& criterion) const;
  std::optional<Match> QuestionnaireHolds(const knowledge::Criterion& criterion) const;
  std::optional<Match> LifestyleHolds(const knowledge::Criterion& criterion) const;

  const casefile::Case& c_;
  const knowledge::KnowledgeBase& kb_;
  const Conclusions& conclusions_;
  const AlertBoard* alerts_;
};

}  // namespace nflux::safety
