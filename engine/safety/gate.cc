// The gate as an outline of steps: the medications' own alerts, every strategy against its
// contraindications (until the alerts raised stop growing), then the verdict rule over every alert.
#include <algorithm>

#include <boost/container/small_vector.hpp>

#include "safety/case_state.h"
#include "safety/safety.h"

namespace nflux::safety {
namespace {

bool IsSupplement(StrategyKind kind) { return kind != StrategyKind::kLifestyle && kind != StrategyKind::kReferral; }

bool Contains(const std::vector<StrategyKind>& kinds, StrategyKind kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

// Raises a verdict to at least `verdict` (blocked > caution > acceptable).
void AtLeast(StrategyResult& strategy, Verdict verdict) {
  if (static_cast<int>(verdict) > static_cast<int>(strategy.verdict)) strategy.verdict = verdict;
}

// The strategy an alert's `because` entry names ("requested:X", "current:X", "suggested:X"), or "".
std::string_view NamedStrategy(std::string_view item) {
  for (std::string_view prefix : {"requested:", "current:", "suggested:"})
    if (item.starts_with(prefix)) return item.substr(prefix.size());
  return {};
}

class Gate {
 public:
  Gate(const casefile::Case& c, const knowledge::KnowledgeBase& kb, const Conclusions& conclusions,
       std::map<std::string, StrategyResult> suggested, AlertBoard& alerts, const GateIndex* index)
      : kb_(kb), index_(index), alerts_(alerts), state_(c, kb, conclusions, &alerts), strategies_(std::move(suggested)) {
    for (const auto& id : c.supplements_requested) strategies_[id].requested = true;
    for (const auto& id : c.supplements_current) strategies_[id].current = true;
    for (auto& [id, strategy] : strategies_) {
      strategy.id = id;
      const knowledge::Node* node = kb.Find(id);
      if (node && node->strategy) strategy.kind = node->strategy->kind;
    }
  }

  void RaiseMedicationAlerts();
  void JudgeContraindications();
  void ApplyAlertVerdicts();
  GateResult TakeResult();  // the gate's last step: its strategies move into the result

 private:
  void RaiseInteractions(const casefile::MedicationEntry& a, const casefile::MedicationEntry& b);
  void RaiseInteractions(const std::vector<const knowledge::Edge*>& edges, const casefile::MedicationEntry& a,
                         const casefile::MedicationEntry& b);
  const std::vector<const knowledge::Edge*>& InteractionsOf(const std::string& source);
  void RaiseUnchecked(const std::vector<casefile::UnknownEntry>& unknown, std::string_view kind);
  void CheckEdges(StrategyResult& strategy);
  void ApplyNamedBy(StrategyResult& strategy, const AlertResult& alert);
  void ApplyGates(const AlertResult& alert);
  bool Lifted(const StrategyResult& strategy, const std::string& alert) const;

  const knowledge::KnowledgeBase& kb_;
  const GateIndex* index_;  // may be null: InteractionsOf reads the graph
  std::vector<const knowledge::Edge*> edges_;  // InteractionsOf's answer without an index
  AlertBoard& alerts_;
  CaseState state_;
  std::map<std::string, StrategyResult> strategies_;  // by id: the order is the same for any input order
};

// Interactions between the current medications themselves, and medications nobody could check.
void Gate::RaiseMedicationAlerts() {
  const casefile::Case& c = state_.c();
  if (c.medications.size() >= 2) {  // a pair needs two: most cases have fewer
    boost::container::small_vector<const casefile::MedicationEntry*, 8> medications;
    for (const auto& medication : c.medications) medications.push_back(&medication);
    std::sort(medications.begin(), medications.end(), [](auto* a, auto* b) { return a->id < b->id; });
    for (size_t i = 0; i < medications.size(); ++i)
      for (size_t j = 0; j < medications.size(); ++j)
        if (medications[i]->id != medications[j]->id) RaiseInteractions(*medications[i], *medications[j]);
  }
  RaiseUnchecked(c.unknown_medications, "medication");
  RaiseUnchecked(c.unknown_conditions, "condition");
}

// Every interacts_with edge from `a` (or a class of it) to `b` (or a class of it).
void Gate::RaiseInteractions(const casefile::MedicationEntry& a, const casefile::MedicationEntry& b) {
  for (const auto& source : a.classes) RaiseInteractions(InteractionsOf(source), a, b);
  RaiseInteractions(InteractionsOf(a.id), a, b);
}

const std::vector<const knowledge::Edge*>& Gate::InteractionsOf(const std::string& source) {
  if (index_) return index_->Interactions(source);
  edges_.clear();
  for (const knowledge::Edge* edge : kb_.OutEdges(source))
    if (edge->type == knowledge::EdgeType::kInteractsWith) edges_.push_back(edge);
  return edges_;
}

// The interacts_with `edges` of one source of `a` that meet `b`.
void Gate::RaiseInteractions(const std::vector<const knowledge::Edge*>& edges, const casefile::MedicationEntry& a,
                             const casefile::MedicationEntry& b) {
  for (const knowledge::Edge* edge : edges) {
    bool meets = b.id == edge->to || std::binary_search(b.classes.begin(), b.classes.end(), edge->to);
    // A class with itself: one alert per pair, raised from the first of the two by id.
    if (!meets || (edge->from == edge->to && a.id > b.id)) continue;
    std::vector<std::string> citations = KnowledgeCitations(kb_, edge->alert);
    citations.insert(citations.end(), edge->citations.begin(), edge->citations.end());
    const std::string message = Label(kb_, a.id) + " with " + Label(kb_, b.id) + ": " +
                                (edge->note.empty() ? KnowledgeDescription(kb_, edge->alert) : edge->note);
    alerts_.Raise(edge->alert, edge->alert_severity, {"medication:" + a.id, "medication:" + b.id}, citations,
                  "safety", message);
  }
}

void Gate::RaiseUnchecked(const std::vector<casefile::UnknownEntry>& unknown, std::string_view kind_name) {
  if (unknown.empty()) return;  // nearly every case: no texts built
  const std::string kind(kind_name);
  std::vector<const casefile::UnknownEntry*> sorted;
  sorted.reserve(unknown.size());
  for (const auto& entry : unknown) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->text < b->text; });
  for (const auto* entry_at : sorted) {
    const casefile::UnknownEntry& entry = *entry_at;
    alerts_.Raise("unchecked_medication", std::nullopt, {kind + ":" + entry.text},
                  KnowledgeCitations(kb_, "unchecked_medication"), "safety",
                  "The " + kind + " '" + entry.text +
                      "' is not in the knowledge base: its interactions with any supplement could not be checked.");
  }
}

// Contraindications can name alerts, and judging them raises alerts: repeat until none is new.
void Gate::JudgeContraindications() {
  size_t raised = SIZE_MAX;
  while (alerts_.alerts().size() != raised) {
    raised = alerts_.alerts().size();
    for (auto& [id, strategy] : strategies_) CheckEdges(strategy);
  }
}

// The strategy's contraindication edges that hold for the case, as reasons and alerts.
void Gate::CheckEdges(StrategyResult& strategy) {
  strategy.reasons.clear();
  strategy.verdict = Verdict::kAcceptable;
  for (const knowledge::Edge* edge : kb_.OutEdges(strategy.id)) {
    if (edge->type != knowledge::EdgeType::kContraindicatedWith || !edge->when) continue;
    std::optional<Match> match = state_.Holds(*edge->when);
    if (!match || state_.HasAnyOf(edge->unless)) continue;
    std::vector<std::string> citations = edge->citations;
    for (const auto& citation : edge->when->citations) AppendUnique(citations, citation);
    strategy.reasons.push_back(BlockReason{edge->alert, edge->to, edge->severity, citations, edge->note, match->detail});
    AtLeast(strategy, Blocks(edge->severity) ? Verdict::kBlocked : Verdict::kCaution);
    if (edge->alert.empty()) continue;
    std::vector<std::string> alert_citations = KnowledgeCitations(kb_, edge->alert);
    for (const auto& citation : citations) AppendUnique(alert_citations, citation);
    // A caution-level contraindication raises its alert as a caution, so the verdict rule agrees.
    std::optional<AlertSeverity> severity;
    if (!Blocks(edge->severity)) severity = AlertSeverity::kCaution;
    const std::string message = Label(kb_, strategy.id) + " with " + match->detail +
                                (edge->note.empty() ? "" : ": " + edge->note);
    // An alert target is why the edge holds, not something the alert needs to name again.
    std::vector<std::string> because;
    for (const auto& input : match->Inputs())
      if (input != "alert:" + edge->alert) because.push_back(input);
    because.push_back(strategy.Naming());
    alerts_.Raise(edge->alert, severity, std::move(because), alert_citations, "safety", message);
  }
}

// Whether an `unless` of one of the strategy's contraindications for `alert` holds: a cited
// exception (B6 with levodopa is lifted by carbidopa).
bool Gate::Lifted(const StrategyResult& strategy, const std::string& alert) const {
  for (const knowledge::Edge* edge : kb_.OutEdges(strategy.id))
    if (edge->type == knowledge::EdgeType::kContraindicatedWith && edge->alert == alert && !edge->unless.empty() &&
        state_.HasAnyOf(edge->unless))
      return true;
  return false;
}

// The verdict rule: never acceptable when an alert names it; a supplement named by an urgent or
// high alert is blocked (unless lifted); the alert's gates hold for every strategy of their kinds.
void Gate::ApplyAlertVerdicts() {
  for (const auto& [alert_id, alert] : alerts_.alerts()) {
    // Each strategy once, in id order (views into the alert, which outlives the loop).
    boost::container::small_vector<std::string_view, 4> named;
    for (const auto& item : alert.because)
      if (std::string_view id = NamedStrategy(item); !id.empty()) named.push_back(id);
    std::sort(named.begin(), named.end());
    named.erase(std::unique(named.begin(), named.end()), named.end());
    for (std::string_view id : named)
      if (auto it = strategies_.find(std::string(id)); it != strategies_.end()) ApplyNamedBy(it->second, alert);
    ApplyGates(alert);
  }
}

void Gate::ApplyNamedBy(StrategyResult& strategy, const AlertResult& alert) {
  const bool block = IsSupplement(strategy.kind) && IsRedFlag(alert.severity) && !Lifted(strategy, alert.id);
  const Verdict verdict = block ? Verdict::kBlocked : Verdict::kCaution;
  const bool has_reason = std::any_of(strategy.reasons.begin(), strategy.reasons.end(), [&](const BlockReason& r) {
    return r.alert == alert.id && (Blocks(r.severity) || !block);
  });
  AtLeast(strategy, verdict);
  if (has_reason) return;
  strategy.reasons.push_back(BlockReason{alert.id, alert.id,
                                         block ? ContraindicationSeverity::kRelative : ContraindicationSeverity::kCaution,
                                         alert.citations, alert.message,
                                         "named by the " + std::string(Name(alert.severity)) + " alert " +
                                             Label(kb_, alert.id)});
}

void Gate::ApplyGates(const AlertResult& alert) {
  const knowledge::Node* node = kb_.Find(alert.id);
  if (node == nullptr || !node->alert) return;
  const knowledge::AlertGates& gates = node->alert->gates;
  for (auto& [id, strategy] : strategies_) {
    const bool block = Contains(gates.block, strategy.kind);
    if (!block && !Contains(gates.caution, strategy.kind)) continue;
    AtLeast(strategy, block ? Verdict::kBlocked : Verdict::kCaution);
    strategy.reasons.push_back(BlockReason{alert.id, alert.id,
                                           block ? ContraindicationSeverity::kAbsolute : ContraindicationSeverity::kCaution,
                                           node->citations, gates.reason, Label(kb_, alert.id) + " stands"});
  }
}

GateResult Gate::TakeResult() {
  GateResult result;
  for (auto& [id, strategy] : strategies_) {
    const bool requested = strategy.requested || strategy.current;
    std::vector<StrategyResult>* listed = strategy.verdict == Verdict::kBlocked ? &result.blocked
                                          : strategy.suggested                  ? &result.strategies
                                                                                : nullptr;
    // A strategy in both lists is copied into `requested` and moved into the other.
    if (requested && listed) result.requested.push_back(strategy);
    if (listed) listed->push_back(std::move(strategy));
    else if (requested) result.requested.push_back(std::move(strategy));
  }
  return result;
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAcceptable: return "acceptable";
    case Verdict::kCaution: return "acceptable_with_caution";
    case Verdict::kBlocked: return "blocked";
  }
  return "acceptable";
}

std::string StrategyResult::Naming() const {
  return (requested ? "requested:" : current ? "current:" : "suggested:") + id;
}

GateIndex::GateIndex(const knowledge::KnowledgeBase& kb) {
  for (const knowledge::Edge& edge : kb.edges())
    if (edge.type == knowledge::EdgeType::kInteractsWith && !interactions_.count(edge.from)) {
      auto& edges = interactions_[edge.from];
      for (const knowledge::Edge* out : kb.OutEdges(edge.from))
        if (out->type == knowledge::EdgeType::kInteractsWith) edges.push_back(out);
    }
}

const std::vector<const knowledge::Edge*>& GateIndex::Interactions(std::string_view id) const {
  static const std::vector<const knowledge::Edge*> kNone;
  auto it = interactions_.find(id);
  return it == interactions_.end() ? kNone : it->second;
}

GateResult PassGate(const casefile::Case& c, const knowledge::KnowledgeBase& kb, const Conclusions& conclusions,
                    std::map<std::string, StrategyResult> suggested, AlertBoard& alerts, const GateIndex* index) {
  Gate gate(c, kb, conclusions, std::move(suggested), alerts, index);
  gate.RaiseMedicationAlerts();
  gate.JudgeContraindications();
  gate.ApplyAlertVerdicts();
  return gate.TakeResult();
}

StrategyResult CheckStrategy(const std::string& strategy_id, const casefile::Case& c,
                             const knowledge::KnowledgeBase& kb) {
  AlertBoard alerts(kb);
  StrategyResult strategy;
  strategy.id = strategy_id;
  strategy.requested = true;
  GateResult result = PassGate(c, kb, Conclusions{}, {{strategy_id, strategy}}, alerts);
  for (auto& judged : result.requested)
    if (judged.id == strategy_id) return judged;
  return strategy;
}

bool IsReferral(const StrategyResult& strategy) { return strategy.kind == StrategyKind::kReferral; }

}  // namespace nflux::safety
