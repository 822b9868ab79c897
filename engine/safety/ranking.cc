// The one ranking of strategies (docs/ranking.md): referrals that a red flag requires first, then
// a score that puts the treatment of a concluded cause (a lab-confirmed one most) before general
// advice for the same deficit, with the flux model's predicted effect and the safety verdict.
#include <algorithm>
#include <climits>
#include <cmath>

#include <boost/container/small_vector.hpp>

#include "base/text.h"
#include "safety/case_state.h"
#include "safety/safety.h"

namespace nflux::safety {
namespace {

// Scores are compared at this precision, so the order of combining certainties (the order the
// rules fired in) never reorders strategies.
double Rounded(double value) { return std::round(value * 1e4) / 1e4; }

const char* Level(double certainty) {
  return certainty >= 0.5 ? "likely" : certainty >= 0.2 ? "possible" : "unlikely";
}

std::string Signed(double value) {
  std::string text = value >= 0 ? "+" : "";
  return text.append(FormatNumber(Rounded(value), 3));
}

// The score's parts for one strategy, with the ids and values its reason names.
struct ScoreParts {
  double driver = 0;  // D, already discounted when no lab confirmed the driver
  std::string driver_id;
  double deficit = 0;  // F
  std::string deficit_id;
  double effect = 0;  // E
  double Total(double support, Verdict verdict) const {
    const double sum = kDriverWeight * driver + kDeficitWeight * deficit + kEffectWeight * effect +
                       kSupportWeight * support;
    return sum * (verdict == Verdict::kCaution ? kCautionFactor : 1.0);
  }
};

// Ids in text order, as pointers to them: ties between scores go to the first id, and sorting the
// strings themselves would copy them.
using IdList = boost::container::small_vector<const std::string*, 8>;  // a strategy's few ids: no allocation

IdList InIdOrder(IdList ids) {
  std::sort(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  return ids;
}

// D: the concluded driver the strategy corrects that weighs most (ties: the first id).
void ScoreDriver(const StrategyResult& strategy, const knowledge::KnowledgeBase& kb, const RankingInputs& inputs,
                 ScoreParts& parts) {
  IdList corrected;
  for (const knowledge::Edge* edge : kb.OutEdges(strategy.id))
    if (edge->type == knowledge::EdgeType::kCorrects) corrected.push_back(&edge->to);
  for (const std::string* id_at : InIdOrder(std::move(corrected))) {
    const std::string& id = *id_at;
    auto it = inputs.drivers.find(id);
    if (it == inputs.drivers.end() || it->second.certainty <= 0) continue;
    const double weight =
        it->second.certainty * (it->second.confirmed_by.empty() ? kUnconfirmedDriverFactor : 1.0);
    if (Rounded(weight) <= Rounded(parts.driver)) continue;
    parts.driver = weight;
    parts.driver_id = id;
  }
}

// F: the most certain deficit the strategy is for (ties: the first id). A strategy suggested for no
// deficit (a referral for an abnormal result, a lab to repeat) is for its own finding: the
// certainty of its rules stands in.
void ScoreDeficit(const StrategyResult& strategy, const RankingInputs& inputs, ScoreParts& parts) {
  if (strategy.for_deficits.empty()) {
    parts.deficit = strategy.support;
    return;
  }
  IdList deficits;
  for (const auto& id : strategy.for_deficits) deficits.push_back(&id);
  for (const std::string* id_at : InIdOrder(std::move(deficits))) {
    const std::string& id = *id_at;
    auto it = inputs.deficits.find(id);
    if (it == inputs.deficits.end() || Rounded(it->second) <= Rounded(parts.deficit)) continue;
    parts.deficit = it->second;
    parts.deficit_id = id;
  }
}

// "corrects iron_deficiency (likely 0.85, from ferritin 12 ng/mL); for serotonin_synthesis
// (likely 0.6); predicted serotonin.synthesis +0.14; with cautions".
std::string Reason(const StrategyResult& strategy, const ScoreParts& parts, const RankingInputs& inputs, int tier) {
  // Written into one string, part by part, "; " between them.
  std::string text;
  text.reserve(120);  // most reasons fit: one allocation, not one per part
  auto part = [&text]() -> std::string& { return text.append(text.empty() ? "" : "; "); };
  if (tier < 3) part().append("referral first: an urgent or high alert stands");
  if (!parts.driver_id.empty()) {
    const RankedDriver& driver = inputs.drivers.at(parts.driver_id);
    part().append("corrects ").append(parts.driver_id).append(" (").append(Level(driver.certainty)).append(" ");
    text.append(FormatNumber(Rounded(driver.certainty), 3));
    if (driver.confirmed_by.empty()) text.append(", not confirmed by a lab");
    else text.append(", from ").append(driver.confirmed_by);
    text.append(")");
  }
  if (!parts.deficit_id.empty())
    part().append("for ").append(parts.deficit_id).append(" (").append(Level(parts.deficit)).append(" ")
        .append(FormatNumber(Rounded(parts.deficit), 3)).append(")");
  if (auto it = inputs.effects.find(strategy.id); it != inputs.effects.end() && !it->second.index.empty())
    part().append("predicted ").append(it->second.index).append(" ").append(Signed(it->second.change));
  if (strategy.for_deficits.empty())
    part().append("for its own finding (rule certainty ").append(FormatNumber(Rounded(strategy.support), 3)).append(")");
  if (text.empty()) text.append("for no concluded deficit");
  if (strategy.verdict == Verdict::kCaution) part().append("with cautions");
  return text;
}

void Score(StrategyResult& strategy, const knowledge::KnowledgeBase& kb, const RankingInputs& inputs, int tier) {
  ScoreParts parts;
  ScoreDriver(strategy, kb, inputs, parts);
  ScoreDeficit(strategy, inputs, parts);
  if (auto it = inputs.effects.find(strategy.id); it != inputs.effects.end())
    parts.effect = std::min(1.0, std::max(0.0, it->second.improvement) / kEffectForFullCredit);
  strategy.score = Rounded(parts.Total(strategy.support, strategy.verdict));
  strategy.rank_reason = Reason(strategy, parts, inputs, tier);
}

int Priority(const StrategyResult& strategy, const knowledge::KnowledgeBase& kb) {
  const knowledge::Node* node = kb.Find(strategy.id);
  return node && node->strategy && node->strategy->priority ? *node->strategy->priority : INT_MAX;
}

}  // namespace

// A referral's tier: 0 or 1 when a rule that raised an urgent or high alert suggested it (the
// alert's rank), 2 for any referral while such an alert stands, 3 otherwise.
int ReferralTier(const StrategyResult& strategy, const std::vector<AlertResult>& alerts) {
  if (!IsReferral(strategy)) return 3;
  int tier = 3;
  for (const auto& alert : alerts) {
    if (!IsRedFlag(alert.severity)) continue;
    tier = std::min(tier, 2);
    for (const auto& rule : alert.rules)
      if (std::find(strategy.rules.begin(), strategy.rules.end(), rule) != strategy.rules.end())
        tier = std::min(tier, Rank(alert.severity));
  }
  return tier;
}

void RankStrategies(std::vector<StrategyResult>& strategies, const std::vector<AlertResult>& alerts,
                    const knowledge::KnowledgeBase& kb, const RankingInputs& inputs) {
  // Each strategy's keys computed once beside it; the strategies moved into their order at the end.
  struct Keyed {
    int tier, priority;
    StrategyResult* strategy;
  };
  boost::container::small_vector<Keyed, 8> keyed;
  for (auto& strategy : strategies) {
    const int tier = ReferralTier(strategy, alerts);
    Score(strategy, kb, inputs, tier);
    keyed.push_back(Keyed{tier, Priority(strategy, kb), &strategy});
  }
  if (keyed.size() < 2) return;  // scored; nothing to order
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& key_a, const Keyed& key_b) {
    const StrategyResult& a = *key_a.strategy;
    const StrategyResult& b = *key_b.strategy;
    if (key_a.tier != key_b.tier) return key_a.tier < key_b.tier;
    if (key_a.tier < 3 && key_a.priority != key_b.priority) return key_a.priority < key_b.priority;
    if (a.score != b.score) return a.score > b.score;
    return a.id < b.id;
  });
  std::vector<StrategyResult> ranked;
  ranked.reserve(keyed.size());
  for (const Keyed& key : keyed) ranked.push_back(std::move(*key.strategy));
  strategies = std::move(ranked);
}

}  // namespace nflux::safety
