// Internal: the safety gate and the alerts. Every strategy a rule suggests or a case requests
// passes CheckStrategy (declared in inference.h); contraindications that name an alert raise it.
// Alerts from rules, data-quality findings and the gate are merged by id in one AlertBoard.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "case/case.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"

namespace nflux::inference {

// A knowledge node's description, or "" when the node is absent.
std::string KnowledgeDescription(const knowledge::KnowledgeBase& kb, const std::string& id);
// An alert node's default severity, or nullopt (no such alert, or none given).
std::optional<AlertSeverity> KnowledgeDefaultSeverity(const knowledge::KnowledgeBase& kb, const std::string& id);
// A knowledge node's citations, or none.
std::vector<std::string> KnowledgeCitations(const knowledge::KnowledgeBase& kb, const std::string& id);

// A severity word from a rule or the knowledge base; nullopt when empty (or not a severity).
std::optional<AlertSeverity> AlertSeverityOf(const std::string& word);

// The alerts of one evaluation, merged by id: the most severe severity wins, the first message
// stays, `because`, citations and raising rules accumulate without duplicates.
class AlertBoard {
 public:
  explicit AlertBoard(const knowledge::KnowledgeBase& kb) : kb_(kb) {}

  // No `severity`: the alert's default_severity from the knowledge base, else caution. An empty
  // `message`: its description. `source` is the raising rule or built-in.
  void Raise(const std::string& id, std::optional<AlertSeverity> severity, const std::vector<std::string>& because,
             const std::vector<std::string>& citations, const std::string& source, const std::string& message);

  // Every alert, most severe first, then by id.
  std::vector<AlertResult> TakeSorted();

 private:
  const knowledge::KnowledgeBase& kb_;
  std::map<std::string, AlertResult> alerts_;  // by id
};

// The safety gate: every suggested strategy and every supplement the case requests is checked;
// fills evaluation.requested, .blocked and .strategies (unranked) and raises the alerts the
// contraindications name.
void PassSafetyGate(const casefile::Case& c, const knowledge::KnowledgeBase& kb,
                    std::map<std::string, StrategyResult>& suggested, AlertBoard& alerts, Evaluation& evaluation);

// Ranks evaluation.strategies: referrals first when an urgent or high alert calls for them, then
// by score, then by id. REQUIRES: evaluation.alerts sorted, most severe first.
void RankStrategies(Evaluation& evaluation);

}  // namespace nflux::inference
