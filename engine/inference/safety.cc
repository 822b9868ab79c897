#include "inference/safety.h"

#include <algorithm>
#include <set>

namespace nflux::inference {
namespace {

void AppendUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// Whether a contraindicated_with edge's target is in the case: a medication (or its class), a
// condition (pregnancy and lactation also from the patient fields) or a lifestyle factor.
bool ContraindicationApplies(const knowledge::Edge& edge, const knowledge::Node& target, const casefile::Case& c) {
  bool applies = false;
  switch (target.kind) {
    case knowledge::NodeKind::kMedication:
      applies = c.TakesMedication(edge.to) || c.TakesMedicationClass(edge.to);
      break;
    case knowledge::NodeKind::kMedicationClass:
      applies = c.TakesMedicationClass(edge.to);
      break;
    case knowledge::NodeKind::kCondition:
      applies = c.HasCondition(edge.to) || (edge.to == "pregnancy" && c.patient.pregnant.value_or(false)) ||
                (edge.to == "lactation" && c.patient.lactating.value_or(false));
      break;
    case knowledge::NodeKind::kLifestyleFactor:
      applies = c.LifestyleBool(edge.to).value_or(false) || c.LifestyleNumber(edge.to).value_or(0) > 0;
      break;
    default:
      break;
  }
  for (const auto& lifting : edge.unless)
    if (c.TakesMedication(lifting) || c.TakesMedicationClass(lifting) || c.HasCondition(lifting)) applies = false;
  return applies;
}

// What in the case a contraindication met: the medication itself (also when the knowledge names
// its class), or the condition.
std::string ConflictingInput(const casefile::Case& c, const knowledge::KnowledgeBase& kb, const std::string& with) {
  const knowledge::Node* node = kb.Find(with);
  if (node && node->kind == knowledge::NodeKind::kCondition) return "condition:" + with;
  if (node && node->kind == knowledge::NodeKind::kLifestyleFactor) return "lifestyle:" + with;
  for (const auto& medication : c.medications)
    if (medication.id == with ||
        std::find(medication.classes.begin(), medication.classes.end(), with) != medication.classes.end())
      return "medication:" + medication.id;
  return "medication:" + with;
}

// Raises the alerts a checked strategy's contraindications name.
void RaiseReasonAlerts(const std::string& id, const StrategyResult& strategy, const casefile::Case& c,
                       const knowledge::KnowledgeBase& kb, AlertBoard& alerts) {
  for (const auto& reason : strategy.reasons) {
    if (reason.alert.empty()) continue;
    std::vector<std::string> citations = KnowledgeCitations(kb, reason.alert);
    citations.insert(citations.end(), reason.citations.begin(), reason.citations.end());
    alerts.Raise(reason.alert, std::nullopt,
                 {ConflictingInput(c, kb, reason.with), (strategy.requested ? "requested:" : "suggested:") + id},
                 citations, "safety", "");
  }
}

}  // namespace

std::string KnowledgeDescription(const knowledge::KnowledgeBase& kb, const std::string& id) {
  const knowledge::Node* node = kb.Find(id);
  return node ? node->description : std::string();
}

std::optional<AlertSeverity> KnowledgeDefaultSeverity(const knowledge::KnowledgeBase& kb, const std::string& id) {
  const knowledge::Node* node = kb.Find(id);
  return node && node->alert ? node->alert->default_severity : std::nullopt;
}

std::vector<std::string> KnowledgeCitations(const knowledge::KnowledgeBase& kb, const std::string& id) {
  const knowledge::Node* node = kb.Find(id);
  return node ? node->citations : std::vector<std::string>{};
}

StrategyResult CheckStrategy(const std::string& strategy_id, const casefile::Case& c,
                             const knowledge::KnowledgeBase& kb) {
  StrategyResult result;
  result.id = strategy_id;
  const knowledge::Node* node = kb.Find(strategy_id);
  if (node && node->strategy) result.kind = node->strategy->kind;
  for (const knowledge::Edge* edge : kb.OutEdges(strategy_id)) {
    if (edge->type != knowledge::EdgeType::kContraindicatedWith) continue;
    const knowledge::Node* target = kb.Find(edge->to);
    if (!target || !ContraindicationApplies(*edge, *target, c)) continue;
    const ContraindicationSeverity severity = edge->severity;
    result.reasons.push_back(BlockReason{edge->alert, edge->to, severity, edge->citations, edge->note});
    if (Blocks(severity)) result.verdict = Verdict::kBlocked;
    else if (result.verdict == Verdict::kAcceptable) result.verdict = Verdict::kCaution;
  }
  return result;
}

std::optional<AlertSeverity> AlertSeverityOf(const std::string& word) { return Parse<AlertSeverity>(word); }

bool IsReferral(const StrategyResult& strategy) { return strategy.kind == StrategyKind::kReferral; }

void AlertBoard::Raise(const std::string& id, std::optional<AlertSeverity> severity,
                       const std::vector<std::string>& because, const std::vector<std::string>& citations,
                       const std::string& source, const std::string& message) {
  if (!severity) severity = KnowledgeDefaultSeverity(kb_, id);
  if (!severity) severity = AlertSeverity::kCaution;
  auto [it, added] = alerts_.try_emplace(id);
  AlertResult& alert = it->second;
  alert.id = id;
  if (added || Rank(*severity) < Rank(alert.severity)) alert.severity = *severity;
  if (alert.message.empty()) alert.message = message.empty() ? KnowledgeDescription(kb_, id) : message;
  for (const auto& item : because) AppendUnique(alert.because, item);
  for (const auto& citation : citations) AppendUnique(alert.citations, citation);
  AppendUnique(alert.rules, source);
}

std::vector<AlertResult> AlertBoard::TakeSorted() {
  std::vector<AlertResult> out;
  for (auto& [id, alert] : alerts_) out.push_back(std::move(alert));  // by id
  std::stable_sort(out.begin(), out.end(), [](const AlertResult& a, const AlertResult& b) {
    return Rank(a.severity) < Rank(b.severity);
  });
  alerts_.clear();
  return out;
}

void PassSafetyGate(const casefile::Case& c, const knowledge::KnowledgeBase& kb,
                    std::map<std::string, StrategyResult>& suggested, AlertBoard& alerts, Evaluation& evaluation) {
  std::set<std::string> requested(c.supplements_requested.begin(), c.supplements_requested.end());
  for (const auto& id : requested) suggested[id].id = id;
  for (auto& [id, strategy] : suggested) {
    StrategyResult checked = CheckStrategy(id, c, kb);
    strategy.kind = checked.kind;
    strategy.verdict = checked.verdict;
    strategy.reasons = checked.reasons;
    strategy.requested = requested.count(id) > 0;
    RaiseReasonAlerts(id, strategy, c, kb, alerts);
    if (strategy.requested) evaluation.requested.push_back(strategy);
    if (strategy.verdict == Verdict::kBlocked) evaluation.blocked.push_back(strategy);
    else if (strategy.suggested) evaluation.strategies.push_back(strategy);
  }
}

void RankStrategies(Evaluation& evaluation) {
  bool red_flag = !evaluation.alerts.empty() && IsRedFlag(evaluation.alerts.front().severity);
  std::stable_sort(evaluation.strategies.begin(), evaluation.strategies.end(),
                   [&](const StrategyResult& a, const StrategyResult& b) {
                     bool a_first = red_flag && IsReferral(a);
                     bool b_first = red_flag && IsReferral(b);
                     if (a_first != b_first) return a_first;
                     if (a.score != b.score) return a.score > b.score;
                     return a.id < b.id;
                   });
}

}  // namespace nflux::inference
