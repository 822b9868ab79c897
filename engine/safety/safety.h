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
#include <unordered_map>
#include <vector>

#include "base/text.h"
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
  double support = 0;  // combined certainty of the suggesting rules
  double score = 0;    // the ranking score (RankStrategies, docs/ranking.md), 0 until ranked
  std::string rank_reason;  // one line: what the score rests on ("corrects iron_deficiency (likely 0.85, ...)")
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
  void Raise(const std::string& id, std::optional<AlertSeverity> severity, std::vector<std::string> because,
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

// What the gate reads of the knowledge base for every case, indexed once: the interacts_with
// edges by source (a medication or medication class id). Immutable after construction; one per
// knowledge base, shared by every thread (the inference engine holds one).
// REQUIRES: `kb` outlives the index.
class GateIndex {
 public:
  explicit GateIndex(const knowledge::KnowledgeBase& kb);

  // The interacts_with edges from `id`, in the knowledge base's edge order (OutEdges); empty when none.
  const std::vector<const knowledge::Edge*>& Interactions(std::string_view id) const;

 private:
  std::unordered_map<std::string, std::vector<const knowledge::Edge*>, StringHash, std::equal_to<>> interactions_;
};

// The gate: raises the alerts the medications call for (interactions, unknown drugs), judges
// every strategy in `suggested` and every requested and current supplement of the case, raises
// the alerts their contraindications name, and applies the verdict rule: a strategy named in an
// alert's `because` is never acceptable; a supplement named by an urgent or high alert is blocked
// unless an `unless` of its contraindication for that alert holds; an alert's gates hold for every
// strategy of their kinds.
// `index`, when given, is one built from `kb`; without it the gate reads the graph directly.
GateResult PassGate(const casefile::Case& c, const knowledge::KnowledgeBase& kb, const Conclusions& conclusions,
                    std::map<std::string, StrategyResult> suggested, AlertBoard& alerts,
                    const GateIndex* index = nullptr);

// One strategy against the case's contraindication edges alone (no alerts, no conclusions).
StrategyResult CheckStrategy(const std::string& strategy_id, const casefile::Case& c,
                             const knowledge::KnowledgeBase& kb);

// A referral (strategy_kind "referral"): ranked first when an urgent or high alert calls for one.
bool IsReferral(const StrategyResult& strategy);

// What the ranking reads besides the strategies and alerts (docs/ranking.md).
struct RankedDriver {
  double certainty = 0;
  std::string confirmed_by;  // the measured value behind it ("ferritin 12 ng/mL"); "" when no lab confirmed it
};
struct PredictedEffect {
  double improvement = 0;  // the flux model's improvement of the case's flux deficits (flux::StrategyEffect)
  std::string index;       // the deficit index it raises most ("serotonin.synthesis")
  double change = 0;       // and by how much
};
struct RankingInputs {
  std::map<std::string, RankedDriver> drivers;      // concluded drivers by id
  std::map<std::string, double> deficits;           // concluded deficits: id -> certainty
  std::map<std::string, PredictedEffect> effects;   // by strategy id, where the flux model was run
};

// The weights of the ranking score (docs/ranking.md). A strategy's score is
//   (kDriverWeight x D + kDeficitWeight x F + kEffectWeight x E + kSupportWeight x S) x safety
// D: the certainty of the most certain concluded driver it `corrects`, times kUnconfirmedDriverFactor
//    unless a measured lab confirmed that driver; F: the highest certainty of the deficits it is for
//    (S when it is for none: a referral for an abnormal result is for its own finding);
// E: the predicted flux improvement over kEffectForFullCredit, at most 1; S: the combined certainty
// of the rules that suggested it; safety: kCautionFactor for acceptable_with_caution, else 1.
inline constexpr double kDriverWeight = 0.5;
inline constexpr double kDeficitWeight = 0.25;
inline constexpr double kEffectWeight = 0.15;
inline constexpr double kSupportWeight = 0.10;
inline constexpr double kUnconfirmedDriverFactor = 0.6;
inline constexpr double kEffectForFullCredit = 0.2;
inline constexpr double kCautionFactor = 0.85;

// A referral's tier: 0 or 1 when a rule that raised an urgent or high alert suggested it (the
// alert's rank), 2 for any referral while such an alert stands, 3 for every other strategy.
int ReferralTier(const StrategyResult& strategy, const std::vector<AlertResult>& alerts);

// Ranks strategies, the one ranking every front end shows (docs/ranking.md): while an urgent or
// high alert stands, referrals first (those suggested by the rule that raised it first, the most
// severe first; then by the strategy's priority); then by score (set here, with rank_reason), then
// by id. The order does not depend on the order of `strategies` or of the inputs' maps.
void RankStrategies(std::vector<StrategyResult>& strategies, const std::vector<AlertResult>& alerts,
                    const knowledge::KnowledgeBase& kb, const RankingInputs& inputs);

// A knowledge node's description, citations and alert default severity ("", none, nullopt when
// absent); the first two are views into the knowledge base, copied only where a caller keeps them.
const std::string& KnowledgeDescription(const knowledge::KnowledgeBase& kb, const std::string& id);
const std::vector<std::string>& KnowledgeCitations(const knowledge::KnowledgeBase& kb, const std::string& id);
std::optional<AlertSeverity> KnowledgeDefaultSeverity(const knowledge::KnowledgeBase& kb, const std::string& id);

}  // namespace nflux::safety
