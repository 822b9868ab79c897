// The safety gate: every strategy a rule suggests, a case requests or a patient already takes is
// judged against the whole case (medications and their classes, conditions entered or implied by
// the data, pregnancy, lactation, age, labs, questionnaires, symptoms, other supplements, the
// alerts raised and the drivers concluded), and every verdict agrees with every alert. What makes
// a strategy unsafe is knowledge data (docs/knowledge-format.md, "Safety"); the verdict rule is
// built in here (docs/safety.md), so no rule can bypass it.
//
// The inference engine calls PassGate() once per evaluation, after its rules have run. Everything
// here is a pure function of its inputs: safe to call from many threads at once.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "case/case.h"
#include "knowledge/knowledge.h"
#include "knowledge/vocabulary.h"

namespace nflux::safety {

enum class Verdict { kAcceptable, kCaution, kBlocked };
std::string_view VerdictName(Verdict verdict);  // acceptable | acceptable_with_caution | blocked

// One reason behind a verdict.
struct BlockReason {
  std::string alert;  // alert id, may be empty
  std::string with;   // what in the case it conflicts with: a medication, class, condition, lab... id
  ContraindicationSeverity severity = ContraindicationSeverity::kCaution;
  std::vector<std::string> citations;
  std::string note;
  std::string detail;  // what the case shows: "ferritin 400 ng/mL (above 300)", "lithium (if prescribed for ...)"
};

struct StrategyResult {
  std::string id;
  StrategyKind kind = StrategyKind::kOther;  // the strategy node's kind
  double score = 0;  // combined certainty of the suggesting rules
  std::vector<std::string> for_deficits;
  std::vector<std::string> rules;
  bool requested = false;
  bool current = false;    // the patient already takes it
  bool suggested = false;  // a rule suggested it
  Verdict verdict = Verdict::kAcceptable;
  std::vector<BlockReason> reasons;  // blocking reasons, or cautions

  // "requested:ID", "current:ID" or "suggested:ID": how alerts name it in `because`.
  std::string Naming() const;
};

// One raising of an alert: every distinct message and reason is kept.
struct AlertReason {
  std::string message;
  std::vector<std::string> because;
  std::string source;  // the raising rule, or "safety" / "data_quality"
};

struct AlertResult {
  std::string id;
  AlertSeverity severity = AlertSeverity::kCaution;
  std::string message;  // the first message of the most severe raising
  std::vector<AlertReason> reasons;  // every distinct (message, because), in raising order
  std::vector<std::string> because;  // "medication:escitalopram", "requested:precursor_5htp"
  std::vector<std::string> citations;
  std::vector<std::string> rules;    // rules that raised it; "safety" / "data_quality" for built-ins
};

// The alerts of one evaluation, merged by id: the most severe severity wins; messages, reasons,
// `because`, citations and raising rules accumulate without duplicates.
class AlertBoard {
 public:
  explicit AlertBoard(const knowledge::KnowledgeBase& kb) : kb_(kb) {}

  // No `severity`: the alert's default_severity from the knowledge base, else caution. An empty
  // `message`: its description. `source` is the raising rule or built-in.
  void Raise(const std::string& id, std::optional<AlertSeverity> severity, const std::vector<std::string>& because,
             const std::vector<std::string>& citations, const std::string& source, const std::string& message);

  bool Has(std::string_view id) const { return alerts_.count(std::string(id)) > 0; }
  const std::map<std::string, AlertResult>& alerts() const { return alerts_; }

  // Every alert, most severe first, then by the alert's priority, then by id.
  std::vector<AlertResult> TakeSorted();

 private:
  const knowledge::KnowledgeBase& kb_;
  std::map<std::string, AlertResult> alerts_;  // by id
};

// What the gate sees besides the case: the drivers the rules concluded (id -> certainty).
struct Conclusions {
  std::map<std::string, double> drivers;
};

// The gate's answer: every strategy judged once.
struct GateResult {
  std::vector<StrategyResult> strategies;  // suggested and not blocked (unranked)
  std::vector<StrategyResult> blocked;     // suggested, requested or current, and blocked
  std::vector<StrategyResult> requested;   // every requested and current supplement with its verdict, by id
};

// The gate: raises the alerts the medications call for (interactions, unknown drugs), judges
// every strategy in `suggested` and every requested and current supplement of the case, raises
// the alerts their contraindications name, and applies the verdict rule: a strategy named in an
// alert's `because` is never acceptable; a supplement named by an urgent or high alert is blocked
// unless an `unless` of its contraindication for that alert holds; an alert's gates hold for every
// strategy of their kinds.
GateResult PassGate(const casefile::Case& c, const knowledge::KnowledgeBase& kb, const Conclusions& conclusions,
                    std::map<std::string, StrategyResult> suggested, AlertBoard& alerts);

// One strategy against the case's contraindication edges alone (no alerts, no conclusions).
StrategyResult CheckStrategy(const std::string& strategy_id, const casefile::Case& c,
                             const knowledge::KnowledgeBase& kb);

// A referral (strategy_kind "referral"): ranked first when an urgent or high alert calls for one.
bool IsReferral(const StrategyResult& strategy);

// Ranks strategies, the one ranking every front end shows: while an urgent or high alert stands,
// referrals first (those suggested by the rule that raised it first, the most severe first; then
// by the strategy's priority); then by score, then by id.
void RankStrategies(std::vector<StrategyResult>& strategies, const std::vector<AlertResult>& alerts,
                    const knowledge::KnowledgeBase& kb);

// A knowledge node's description, citations and alert default severity ("", none, nullopt when absent).
std::string KnowledgeDescription(const knowledge::KnowledgeBase& kb, const std::string& id);
std::vector<std::string> KnowledgeCitations(const knowledge::KnowledgeBase& kb, const std::string& id);
std::optional<AlertSeverity> KnowledgeDefaultSeverity(const knowledge::KnowledgeBase& kb, const std::string& id);

}  // namespace nflux::safety
