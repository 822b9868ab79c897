// The flux model: a small steady-state model per transmitter pathway (serotonin, melatonin,
// dopamine, noradrenaline, adrenaline, GABA, glutamate, acetylcholine) that turns a case into
// indices of synthesis, release, reuptake, breakdown, synaptic level and turnover, each relative to
// a healthy reference (every input at its reference gives exactly 1.0). Equations, parameters,
// sources and limits: docs/flux-model.md.
//
// Inputs reach the model through the knowledge graph, never through per-id code: labs set the state
// of the node they measure (measured_by), stressor scores, medications (and their classes) and
// conditions are sources, and the influence edges (cofactor_of, upregulates, downregulates,
// depletes, inhibits) carry their effect, with the edge's weight, to the enzymes, transporters,
// precursors and pathways the kinetic model reads. Strategies act through their `targets` edges.
//
// Every index comes with the contribution of each input to its log change (integrated gradients in
// log space, exact up to quadrature error, see the doc), ranked by magnitude.
//
// Ownership and threads: a Model holds a shared_ptr to the immutable knowledge base and is
// immutable after Build(); Compute() is a pure function and may run on many threads at once.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "case/case.h"
#include "knowledge/knowledge.h"

namespace nflux::flux {

inline constexpr int kIndexCount = 6;
// "synthesis", "release", "reuptake", "breakdown", "level", "turnover", in this order.
const std::array<std::string, kIndexCount>& IndexNames();

// Index keys "PATHWAY.INDEX" ("serotonin.synthesis"): how rules, reports and front ends name one
// index of one pathway. The pathways (Model::Pathways()) and the indices (IndexNames()) are
// declared here only; every other module asks these functions.
std::string IndexKey(std::string_view pathway, int index);  // REQUIRES: 0 <= index < kIndexCount
// Model::Pathways() x IndexNames(), pathway by pathway.
const std::vector<std::string>& AllIndexKeys();
// {pathway, index in IndexNames() order}, or nullopt when `key` names no index of the model.
std::optional<std::pair<std::string_view, int>> ParseIndexKey(std::string_view key);
bool IsIndexKey(std::string_view key);

// One input's share of an index's change: `log_change` is its part of ln(index), so the
// contributions of an index sum to ln(index) (up to the quadrature residual).
struct Contribution {
  std::string input;  // "lab:ferritin", "stressor:chronic_stress", "medication:sertraline", "strategy:cofactor_b6"
  double log_change = 0;
};

struct PathwayFlux {
  std::string pathway;  // "serotonin"
  std::array<double, kIndexCount> index{};  // relative to the healthy reference, IndexNames() order
  // Per index, largest |log_change| first; empty for an index with no contribution.
  std::array<std::vector<Contribution>, kIndexCount> contributions;
  // Labs of inputs this pathway reads that the case did not measure (taken as reference), sorted.
  std::vector<std::string> assumed;
  // A cofactor of a synthesis enzyme (rate-limiting step or a following one) is unmeasured: the
  // indices rest on an assumption (the rules' `flux PATHWAY.INDEX is assumed`).
  bool rests_on_assumption = false;
  double residual = 0;  // largest |ln(index) - sum of contributions| over the indices
};

// A source the case gave the model.
struct Input {
  std::string id;    // "lab:ferritin"
  std::string node;  // the knowledge node it sets: "iron"
  double value = 0;  // its log state (cofactor sufficiency, hormone deviation) or intensity (0..1)
  std::string text;  // "ferritin 12 ng/mL below 30: iron sufficiency 0.62"
};

struct FluxResult {
  std::vector<PathwayFlux> pathways;  // Model::Pathways() order
  std::vector<Input> inputs;
  const PathwayFlux* Find(const std::string& pathway) const;
  // The index "serotonin.synthesis"; nullopt for a key that is not an index of a computed pathway.
  std::optional<double> Value(std::string_view key) const;
};

struct ComputeOptions {
  // Strategy ids whose `targets` edges are applied (what-if). Unknown ids: InvalidArgument.
  std::vector<std::string> apply_strategies;
  bool contributions = true;  // false: indices only (faster; what-if ranking)
};

// One pathway's indices, IndexNames() order.
using IndexArray = std::array<double, kIndexCount>;

// The state a case puts the model's nodes in (strategies of the options applied), kept from
// Compute() so that strategies can be tried on the case one at a time without computing it again
// (the pipeline's predicted effects). Filled by Model::Compute and read by Model::IndicesWith only.
struct CaseState {
  std::vector<char> measured;  // per knowledge node: a used lab of the case measures it
  std::vector<double> total;   // per knowledge node: its log state, every input summed
  std::vector<IndexArray> indices;  // per pathway (Pathways() order): the case's indices
};

// A strategy's predicted effect for a case: the change of each index it moves.
struct StrategyEffect {
  std::string strategy;
  double improvement = 0;  // sum over the deficit indices of (min(after, 1) - min(before, 1))
  std::vector<std::pair<std::string, double>> changes;  // "serotonin.synthesis" -> after - before, |change| > 1e-4
};

class Model {
 public:
  // REQUIRES: `kb` loaded without problems. NotFound when a node the pathway table names
  // (enzyme, transporter, precursor) is missing from the knowledge base.
  static Result<std::shared_ptr<const Model>> Build(std::shared_ptr<const knowledge::KnowledgeBase> kb);

  static const std::vector<std::string>& Pathways();

  Result<FluxResult> Compute(const casefile::Case& c, const ComputeOptions& options = {}) const;
  // The same, keeping the case's state in `*state` for IndicesWith().
  Result<FluxResult> Compute(const casefile::Case& c, const ComputeOptions& options, CaseState* state) const;

  // Every pathway's indices (Pathways() order) with `strategy` applied to the case `state` was
  // computed for: bit for bit the indices of Compute() with that strategy appended to the
  // options' strategies, at a fraction of the cost. InvalidArgument for an unknown strategy.
  Result<std::vector<IndexArray>> IndicesWith(const CaseState& state, std::string_view strategy) const;

  // Every strategy with a `targets` edge, applied alone, ranked by improvement of `deficits`
  // ("pathway.index" keys; empty: every synthesis and level index below 0.95 in `before`), then by
  // id. Strategies that improve nothing are left out.
  std::vector<StrategyEffect> RankStrategies(const casefile::Case& c, const FluxResult& before,
                                             std::vector<std::string> deficits = {}) const;

  // For the doc's plots: `pathway`'s level when `node`'s log state is ln(sufficiency), all else at
  // reference. The sufficiency map of a lab value is CofactorSufficiency().
  double LevelAt(const std::string& pathway, const std::string& node, double sufficiency) const;

  const knowledge::KnowledgeBase& knowledge() const { return *kb_; }

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  struct Impl;

 private:
  explicit Model(std::unique_ptr<Impl> impl, std::shared_ptr<const knowledge::KnowledgeBase> kb);
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<const knowledge::KnowledgeBase> kb_;
};

// The saturating sufficiency map of a cofactor lab: x = value / lower reference limit (or
// upper limit / value for a marker that rises in deficiency); 1 for x >= 1, else
// x (1 + K) / (x + K) with K = 0.25 (so 0.83 at half the lower limit, 0.5 at x = 0.2).
double CofactorSufficiency(double x);

// {"serotonin": {"synthesis": 0.71, ..., "assumed": ["vitamin_b6_plp"]}, ...}; with
// `contributions`, a second object {"serotonin": {"synthesis": [{"input": ..., "log_change": ...}]}}
// under "contributions" beside "flux".
nlohmann::ordered_json FluxToJson(const FluxResult& result);
nlohmann::ordered_json ContributionsToJson(const FluxResult& result);
// "serotonin synthesis 0.68: ferritin low (-0.19), vitamin_b6_plp low (-0.11)" style lines.
std::string FluxToText(const FluxResult& result, size_t max_contributions = 4);

}  // namespace nflux::flux
