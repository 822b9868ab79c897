#include "safety/case_state.h"

#include <algorithm>

#include "base/text.h"

namespace nflux::safety {
namespace {

using Subject = knowledge::Criterion::Subject;

constexpr double kDriverConcluded = 0.5;  // a driver counts from "likely" on

// Safety fails closed: an age bound it cannot check (the age was excluded) is taken to hold.
constexpr std::string_view kAgeNotKnown = "age not known: an impossible age was excluded";

}  // namespace

std::string Label(const knowledge::KnowledgeBase& kb, const std::string& id) {
  const knowledge::Node* node = kb.Find(id);
  return node ? node->label : id;
}

void AppendUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

std::optional<Match> CaseState::Holds(const knowledge::Criterion& criterion) const {
  const casefile::Fit fit = casefile::PatientFits(criterion, c_.patient);
  if (fit == casefile::Fit::kDoesNotFit) return std::nullopt;
  std::optional<Match> match = SubjectHolds(criterion);
  if (!match) return match;
  if (!criterion.wording.empty()) match->detail += " (" + criterion.wording + ")";
  if (fit == casefile::Fit::kAgeNotKnown && criterion.subject != Subject::kAge)
    match->detail += " (" + std::string(kAgeNotKnown) + ")";
  return match;
}

std::optional<Match> CaseState::SubjectHolds(const knowledge::Criterion& criterion) const {
  const std::string& id = criterion.id;
  switch (criterion.subject) {
    case Subject::kLab: return LabHolds(criterion);
    case Subject::kQuestionnaire: return QuestionnaireHolds(criterion);
    case Subject::kLifestyle: return LifestyleHolds(criterion);
    case Subject::kSymptom: {
      std::optional<int> severity = c_.Symptom(id);
      if (!severity || *severity < criterion.at_least.value_or(1)) return std::nullopt;
      return Match{"symptom:" + id, Label(kb_, id) + " " + std::to_string(*severity) + "/3"};
    }
    case Subject::kMedication: {
      auto medications = MedicationsMatching(id);
      if (medications.empty()) return std::nullopt;
      Match match{"medication:" + medications.front()->id, Label(kb_, medications.front()->id), {}};
      for (size_t i = 1; i < medications.size(); ++i) {
        match.also.push_back("medication:" + medications[i]->id);
        match.detail += ", " + Label(kb_, medications[i]->id);
      }
      return match;
    }
    case Subject::kPatient: {
      const std::optional<bool>& flag = id == "pregnant" ? c_.patient.pregnant : c_.patient.lactating;
      if (!flag.value_or(false)) return std::nullopt;
      return Match{"patient:" + id, id};
    }
    case Subject::kAge:
      if (!c_.patient.Age()) return Match{"patient:age_years", std::string(kAgeNotKnown)};
      return Match{"patient:age_years", "age " + FormatNumber(*c_.patient.Age())};
    case Subject::kCondition: return ConditionApplies(id);
    case Subject::kStrategy:
      if (c_.TakesSupplement(id)) return Match{"current:" + id, Label(kb_, id) + " (taken)"};
      if (c_.RequestsSupplement(id)) return Match{"requested:" + id, Label(kb_, id) + " (requested)"};
      return std::nullopt;
    case Subject::kAlert:
      if (alerts_ == nullptr || !alerts_->Has(id)) return std::nullopt;
      return Match{"alert:" + id, Label(kb_, id)};
    case Subject::kDriver: {
      auto it = conclusions_.drivers.find(id);
      if (it == conclusions_.drivers.end() || it->second < kDriverConcluded) return std::nullopt;
      return Match{"driver:" + id, Label(kb_, id) + " (concluded, certainty " + FormatNumber(it->second, 2) + ")"};
    }
  }
  return std::nullopt;
}

std::optional<Match> CaseState::LabHolds(const knowledge::Criterion& criterion) const {
  const casefile::LabResult* lab = c_.Lab(criterion.id);
  if (lab == nullptr || !lab->value) return std::nullopt;
  const double value = *lab->value;
  std::string comparison;
  if (criterion.above && value > *criterion.above) comparison = "above " + FormatNumber(*criterion.above);
  else if (criterion.below && value < *criterion.below) comparison = "below " + FormatNumber(*criterion.below);
  else return std::nullopt;
  return Match{"lab:" + criterion.id,
               Label(kb_, criterion.id) + " " + FormatNumber(value) + " " + lab->unit + " (" + comparison + ")"};
}

std::optional<Match> CaseState::QuestionnaireHolds(const knowledge::Criterion& criterion) const {
  const casefile::QuestionnaireResult* q = c_.Questionnaire(criterion.id);
  if (q == nullptr) return std::nullopt;
  const std::string name = Label(kb_, criterion.id);
  const std::string input = "questionnaire:" + criterion.id;
  if (criterion.item) {
    std::optional<int> answer = q->Item(*criterion.item);
    if (!answer || *answer < criterion.at_least.value_or(1)) return std::nullopt;
    return Match{input, name + " item " + std::to_string(*criterion.item) + " = " + std::to_string(*answer)};
  }
  if (criterion.positive) {
    if (!q->positive.value_or(false) && q->result != "positive") return std::nullopt;
    return Match{input, name + " positive" + (q->total ? " (" + std::to_string(*q->total) + ")" : std::string())};
  }
  if (!q->total || !criterion.at_least || *q->total < *criterion.at_least) return std::nullopt;
  return Match{input, name + " " + std::to_string(*q->total) + " (at least " + FormatNumber(*criterion.at_least) + ")"};
}

std::optional<Match> CaseState::LifestyleHolds(const knowledge::Criterion& criterion) const {
  const std::string& id = criterion.id;
  const std::string input = "lifestyle:" + id;
  if (std::optional<bool> flag = c_.LifestyleBool(id)) {
    if (!*flag) return std::nullopt;
    return Match{input, Label(kb_, id)};
  }
  std::optional<double> number = c_.LifestyleNumber(id);
  if (!number) return std::nullopt;
  bool holds = criterion.above ? *number > *criterion.above
               : criterion.at_least ? *number >= *criterion.at_least
                                    : *number > 0;
  if (!holds) return std::nullopt;
  return Match{input, Label(kb_, id) + " " + FormatNumber(*number)};
}

std::optional<Match> CaseState::ConditionApplies(const std::string& id) const {
  if (c_.HasCondition(id)) return Match{"condition:" + id, Label(kb_, id)};
  // Pregnancy and lactation are patient fields; a knowledge base may also say so with implied_by.
  if (id == "pregnancy" && c_.patient.pregnant.value_or(false)) return Match{"patient:pregnant", Label(kb_, id)};
  if (id == "lactation" && c_.patient.lactating.value_or(false)) return Match{"patient:lactating", Label(kb_, id)};
  const knowledge::Node* node = kb_.Find(id);
  if (node == nullptr || !node->condition) return std::nullopt;
  for (const auto& criterion : node->condition->implied_by)
    if (std::optional<Match> match = Holds(criterion))
      return Match{match->input, node->label + ", implied by " + match->detail, match->also};
  return std::nullopt;
}

bool CaseState::HasAnyOf(const std::vector<std::string>& ids) const {
  return std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
    return !MedicationsMatching(id).empty() || ConditionApplies(id).has_value();
  });
}

std::vector<const casefile::MedicationEntry*> CaseState::MedicationsMatching(const std::string& id) const {
  std::vector<const casefile::MedicationEntry*> out;
  for (const auto& medication : c_.medications)
    if (medication.id == id || std::binary_search(medication.classes.begin(), medication.classes.end(), id))
      out.push_back(&medication);
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->id < b->id; });
  out.erase(std::unique(out.begin(), out.end(), [](auto* a, auto* b) { return a->id == b->id; }), out.end());
  return out;
}

std::vector<std::string> Match::Inputs() const {
  std::vector<std::string> inputs{input};
  inputs.insert(inputs.end(), also.begin(), also.end());
  return inputs;
}

}  // namespace nflux::safety
