#include "flux/flux.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "flux/kinetics.h"

namespace nflux::flux {
namespace {

using knowledge::Edge;
using knowledge::EdgeType;
using knowledge::NodeKind;

constexpr int kSynthesis = 0, kRelease = 1, kReuptake = 2, kBreakdown = 3, kLevel = 4, kTurnover = 5;

// Defaults for edges written without a weight (docs/flux-model.md, "Inputs").
constexpr double kDefaultInhibition = 0.5;  // fraction of activity an inhibitor removes
constexpr double kDefaultRegulation = 0.3;  // log gain of up/downregulates and depletes
constexpr double kMaxInhibition = 0.95;
constexpr int kMaxDepth = 4;                // longest influence chain followed from a source
constexpr double kHormoneClamp = 1.5;       // |ln(value / limit)| cap for hormones
constexpr double kSufficiencyK = 0.25;

std::vector<std::string> Sorted(std::set<std::string> s) { return {s.begin(), s.end()}; }

}  // namespace

// The compiled model: node indices, influence adjacency, per-pathway channel node lists.
struct Model::Impl {
  struct Link {
    int to;
    double gain;  // log gain per unit of the source's state
  };
  struct CompiledPathway {
    Kinetics kinetics;
    const PathwaySpec& spec() const { return *kinetics.spec; }
    int upstream = -1;  // pathway index
    std::array<std::vector<int>, kMaxChannels> nodes;  // knowledge node indices per channel
    std::vector<int> assumable;  // nodes whose labs would inform this pathway
    std::vector<int> primary;    // measurable cofactors of its synthesis enzymes
  };

  std::map<std::string, int, std::less<>> index;
  std::vector<const knowledge::Node*> nodes;
  std::vector<std::vector<Link>> links;
  std::vector<std::vector<const Edge*>> measured_by;  // node -> its labs
  std::vector<CompiledPathway> pathways;

  int Find(std::string_view id) const {
    auto it = index.find(id);
    return it == index.end() ? -1 : it->second;
  }
  void Propagate(int start, double value, const std::vector<char>& measured, std::vector<double>& out) const;
};

// Adds `value` at `start` and carries it along influence links (depth-first, no node twice on a
// path, not into another measured node), multiplying by each link's gain.
void Model::Impl::Propagate(int start, double value, const std::vector<char>& measured, std::vector<double>& out) const {
  std::vector<int> path;
  auto visit = [&](auto&& self, int node, double v, int depth) -> void {
    out[static_cast<size_t>(node)] += v;
    if (depth >= kMaxDepth) return;
    path.push_back(node);
    for (const Link& link : links[static_cast<size_t>(node)]) {
      if (measured[static_cast<size_t>(link.to)]) continue;
      if (std::find(path.begin(), path.end(), link.to) != path.end()) continue;
      double next = v * link.gain;
      if (std::fabs(next) < 1e-9) continue;
      self(self, link.to, next, depth + 1);
    }
    path.pop_back();
  };
  visit(visit, start, value, 0);
}

Model::Model(std::unique_ptr<Impl> impl, std::shared_ptr<const knowledge::KnowledgeBase> kb)
    : impl_(std::move(impl)), kb_(std::move(kb)) {}
Model::~Model() = default;

const std::array<std::string, kIndexCount>& IndexNames() {
  static const std::array<std::string, kIndexCount> names = {"synthesis", "release",  "reuptake",
                                                             "breakdown", "level", "turnover"};
  return names;
}

const std::vector<std::string>& Model::Pathways() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& spec : Specs()) out.push_back(spec.name);
    return out;
  }();
  return names;
}

double CofactorSufficiency(double x) {
  if (!(x < 1)) return 1.0;
  if (x <= 0) return 1e-3;
  return std::max(1e-3, x * (1 + kSufficiencyK) / (x + kSufficiencyK));
}

Result<std::shared_ptr<const Model>> Model::Build(std::shared_ptr<const knowledge::KnowledgeBase> kb) {
  auto impl = std::make_unique<Impl>();
  const auto& nodes = kb->nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    impl->index.emplace(nodes[i].id, static_cast<int>(i));
    impl->nodes.push_back(&nodes[i]);
  }
  impl->links.resize(nodes.size());
  impl->measured_by.resize(nodes.size());
  for (const Edge& edge : kb->edges()) {
    int from = impl->Find(edge.from), to = impl->Find(edge.to);
    if (from < 0 || to < 0) continue;
    // Receptors are outside the model (its autoreceptor feedback is internal): no effect passes
    // through them.
    if (nodes[static_cast<size_t>(from)].kind == NodeKind::kReceptor ||
        nodes[static_cast<size_t>(to)].kind == NodeKind::kReceptor)
      continue;
    double gain = 0;
    switch (edge.type) {
      case EdgeType::kCofactorOf: gain = 1.0; break;
      case EdgeType::kUpregulates:
      case EdgeType::kDownregulates:
      case EdgeType::kDepletes: gain = edge.sign * edge.weight.value_or(kDefaultRegulation); break;
      case EdgeType::kInhibits:
        gain = std::log(1 - std::clamp(edge.weight.value_or(kDefaultInhibition), 0.0, kMaxInhibition));
        break;
      case EdgeType::kMeasuredBy: impl->measured_by[static_cast<size_t>(from)].push_back(&edge); continue;
      default: continue;
    }
    if (gain != 0) impl->links[static_cast<size_t>(from)].push_back({to, gain});
  }

  auto need = [&](const std::string& id) -> Result<int> {
    int i = impl->Find(id);
    if (i < 0) return Status::NotFound("flux model: knowledge node '" + id + "' is missing");
    return i;
  };
  for (const PathwaySpec& spec : Specs()) {
    Impl::CompiledPathway p;
    p.kinetics = Kinetics::For(spec);
    std::set<int> touched;  // enzymes and transporters the pathway reads, for `assumable`
    auto add = [&](Channel channel, const std::string& id) -> Status {
      auto i = need(id);
      if (!i.ok()) return i.status();
      p.nodes[channel].push_back(*i);
      touched.insert(*i);
      return Status::Ok();
    };
    for (const char* id : {spec.transmitter.c_str(), spec.pathway_node.c_str()})
      if (auto st = add(kDrive, id); !st.ok()) return st;
    if (!spec.precursor.empty()) {
      if (auto st = add(kSupply, spec.precursor); !st.ok()) return st;
      // Graph-derived: the precursor's transporters into the brain and the enzymes degrading it.
      for (const Edge& edge : kb->edges()) {
        if (edge.to != spec.precursor) continue;
        if (edge.type == EdgeType::kTransports && edge.role == "bbb") (void)add(kBbb, edge.from);
        if (edge.type == EdgeType::kDegrades) (void)add(kShunt, edge.from);
      }
    }
    if (!spec.upstream.empty())
      for (size_t k = 0; k < impl->pathways.size(); ++k)
        if (impl->pathways[k].spec().name == spec.upstream) p.upstream = static_cast<int>(k);
    for (const auto& id : spec.rate_enzymes)
      if (auto st = add(kRate, id); !st.ok()) return st;
    if (!spec.cosubstrate.empty())
      if (auto st = add(kCosubstrate, spec.cosubstrate); !st.ok()) return st;
    for (size_t k = 0; k < spec.steps.size(); ++k)
      for (const auto& id : spec.steps[k].enzymes)
        if (auto st = add(static_cast<Channel>(kStep0 + static_cast<int>(k)), id); !st.ok()) return st;
    // Graph-derived: vesicular and reuptake transporters of the transmitter, enzymes degrading it.
    for (const Edge& edge : kb->edges()) {
      if (edge.to != spec.transmitter) continue;
      if (edge.type == EdgeType::kTransports && edge.role == "vesicular") (void)add(kVmat, edge.from);
      if (edge.type == EdgeType::kTransports && edge.role == "reuptake") (void)add(kTransporter, edge.from);
      if (edge.type == EdgeType::kDegrades) {
        bool outside = std::find(spec.extracellular_enzymes.begin(), spec.extracellular_enzymes.end(), edge.from) !=
                       spec.extracellular_enzymes.end();
        (void)add(outside ? kExtBreakdown : kCytBreakdown, edge.from);
      }
    }
    // Inputs that would inform the pathway: its precursor and the cofactors and hormones with an
    // edge into a node it reads.
    std::set<int> assumable;
    if (!spec.precursor.empty()) assumable.insert(impl->Find(spec.precursor));
    for (const Edge& edge : kb->edges()) {
      int to = impl->Find(edge.to), from = impl->Find(edge.from);
      if (to < 0 || from < 0 || !touched.count(to)) continue;
      NodeKind kind = impl->nodes[static_cast<size_t>(from)]->kind;
      bool input_kind = kind == NodeKind::kCofactor || kind == NodeKind::kHormone || kind == NodeKind::kPrecursor;
      bool influence = edge.type == EdgeType::kCofactorOf || edge.type == EdgeType::kUpregulates ||
                       edge.type == EdgeType::kDownregulates;
      if (input_kind && influence) assumable.insert(from);
    }
    for (int n : assumable)
      if (n >= 0 && !impl->measured_by[static_cast<size_t>(n)].empty()) p.assumable.push_back(n);
    std::set<std::string> synthesis_enzymes(spec.rate_enzymes.begin(), spec.rate_enzymes.end());
    for (const auto& step : spec.steps) synthesis_enzymes.insert(step.enzymes.begin(), step.enzymes.end());
    std::set<int> primary;
    for (const Edge& edge : kb->edges()) {
      if (edge.type != EdgeType::kCofactorOf || !synthesis_enzymes.count(edge.to)) continue;
      int from = impl->Find(edge.from);
      if (from >= 0 && !impl->measured_by[static_cast<size_t>(from)].empty()) primary.insert(from);
    }
    p.primary.assign(primary.begin(), primary.end());
    impl->pathways.push_back(std::move(p));
  }
  return std::shared_ptr<const Model>(new Model(std::move(impl), std::move(kb)));
}

namespace {

std::string Num(double v, int digits = 3) {
  std::ostringstream out;
  out.precision(digits);
  out << v;
  return out.str();
}

}  // namespace

Result<FluxResult> Model::Compute(const casefile::Case& c, const ComputeOptions& options) const {
  const Impl& m = *impl_;
  const size_t n = m.nodes.size();
  FluxResult result;
  std::vector<char> measured(n, 0);

  // 1. Sources from the case. Each input gets a state vector over the nodes (linear in log space).
  struct Source {
    int node;
    double value;
  };
  std::vector<std::pair<Input, Source>> sources;
  for (size_t i = 0; i < n; ++i) {
    const auto* node = m.nodes[i];
    NodeKind kind = node->kind;
    bool sufficiency = kind == NodeKind::kCofactor || kind == NodeKind::kPrecursor;
    if (!sufficiency && kind != NodeKind::kHormone && kind != NodeKind::kStressor) continue;
    double best = 0;
    std::string best_lab, best_text;
    for (const Edge* edge : m.measured_by[i]) {
      const casefile::LabResult* lab = c.Lab(edge->to);
      if (!lab || !lab->used || !lab->value) continue;
      measured[i] = 1;
      double v = *lab->value, state = 0;
      std::optional<double> low = lab->reference_low, high = lab->reference_high;
      if (sufficiency) {
        if (edge->sign > 0 && low && *low > 0 && v < *low) state = std::log(CofactorSufficiency(v / *low));
        if (edge->sign < 0 && high && v > *high && v > 0) state = std::log(CofactorSufficiency(*high / v));
      } else {
        double dev = 0;
        if (high && *high > 0 && v > *high) dev = std::log(v / *high);
        if (low && *low > 0 && v < *low && v > 0) dev = std::log(v / *low);
        dev *= edge->sign;
        if (kind == NodeKind::kHormone) state = std::clamp(dev, -kHormoneClamp, kHormoneClamp);
        else state = std::clamp(dev, 0.0, 1.0);  // a stressor: only its raised direction
      }
      if (std::fabs(state) > std::fabs(best)) {
        best = state;
        best_lab = edge->to;
        best_text = edge->to + " " + Num(v, 4) + " " + lab->unit + (state < 0 && sufficiency ? " low" : "") +
                    ": " + node->id + (sufficiency ? " sufficiency " + Num(std::exp(state)) : " state " + Num(state));
      }
    }
    if (best != 0) sources.push_back({{"lab:" + best_lab, node->id, best, best_text}, {static_cast<int>(i), best}});
  }
  // Stressor scores 0-3; a mild score (1) is within the healthy reference.
  for (const auto& [id, score] : c.stressors) {
    int i = m.Find(id);
    if (i < 0 || score <= 1) continue;
    double value = (score - 1) / 2.0;
    bool replaced = false;
    for (auto& [input, source] : sources)
      if (source.node == i) {  // measured too: the stronger of the two speaks
        if (value > source.value) input = {"stressor:" + id, id, value, id + " " + std::to_string(score) + "/3"},
                                  source.value = value;
        replaced = true;
      }
    if (!replaced)
      sources.push_back({{"stressor:" + id, id, value, id + " " + std::to_string(score) + "/3"}, {i, value}});
  }
  for (const auto& med : c.medications) {
    std::set<std::string> ids(med.classes.begin(), med.classes.end());
    ids.insert(med.id);
    for (const auto& id : ids) {
      int i = m.Find(id);
      if (i < 0 || m.links[static_cast<size_t>(i)].empty()) continue;
      sources.push_back({{"medication:" + med.id, id, 1.0, med.id + (id == med.id ? "" : " (" + id + ")")}, {i, 1.0}});
    }
  }
  for (const auto& condition : c.conditions) {
    int i = m.Find(condition.id);
    if (i < 0 || m.links[static_cast<size_t>(i)].empty()) continue;
    sources.push_back({{"condition:" + condition.id, condition.id, 1.0, condition.id}, {i, 1.0}});
  }

  // 2. Propagation: one state vector per input id (sources of one input add up).
  std::vector<std::string> input_ids;
  std::map<std::string, size_t> input_index;
  std::vector<std::vector<double>> state;
  auto slot = [&](const std::string& id) -> std::vector<double>& {
    auto [it, inserted] = input_index.emplace(id, input_ids.size());
    if (inserted) {
      input_ids.push_back(id);
      state.emplace_back(n, 0.0);
    }
    return state[it->second];
  };
  for (const auto& [input, source] : sources) {
    result.inputs.push_back(input);
    std::vector<char> blocked = measured;
    blocked[static_cast<size_t>(source.node)] = 0;
    m.Propagate(source.node, source.value, blocked, slot(input.id));
  }
  std::vector<double> total(n, 0.0);
  for (const auto& s : state)
    for (size_t i = 0; i < n; ++i) total[i] += s[i];

  // 3. Strategies (what-if): each `targets` edge moves its node, then propagates like a source.
  for (const auto& strategy : options.apply_strategies) {
    const auto* node = kb_->Find(strategy);
    if (!node || node->kind != NodeKind::kStrategy)
      return Status::InvalidArgument("unknown strategy '" + strategy + "'");
    std::vector<double> delta(n, 0.0);
    for (const Edge* edge : kb_->OutEdges(strategy)) {
      if (edge->type != EdgeType::kTargets) continue;
      int i = m.Find(edge->to);
      if (i < 0) continue;
      double w = std::clamp(edge->weight.value_or(kDefaultRegulation), 0.0, kMaxInhibition);
      double now = total[static_cast<size_t>(i)];
      NodeKind kind = m.nodes[static_cast<size_t>(i)]->kind;
      double d = 0;
      switch (kind) {
        case NodeKind::kPrecursor: d = edge->sign > 0 ? std::log(1 + w) : std::log(1 - w); break;
        case NodeKind::kCofactor:
          if (edge->sign > 0) d = now < 0 ? -w * now : 0.0;  // closes w of the gap; no effect when replete
          else d = std::log(1 - w);
          break;
        case NodeKind::kStressor:
        case NodeKind::kHormone:
          if ((edge->sign < 0 && now > 0) || (edge->sign > 0 && now < 0)) d = -w * now;
          break;
        case NodeKind::kEnzyme:
        case NodeKind::kTransporter:
        case NodeKind::kNeurotransmitter:
        case NodeKind::kPathway: d = edge->sign > 0 ? std::log(1 + w) : std::log(1 - w); break;
        default: break;
      }
      if (d == 0) continue;
      std::vector<char> blocked = measured;
      blocked[static_cast<size_t>(i)] = 0;
      m.Propagate(i, d, blocked, delta);
      result.inputs.push_back({"strategy:" + strategy, edge->to, d, strategy + " -> " + edge->to});
    }
    auto& s = slot("strategy:" + strategy);
    for (size_t i = 0; i < n; ++i) {
      s[i] += delta[i];
      total[i] += delta[i];
    }
  }

  // 4. Pathways: channel log factors, indices, contributions.
  for (size_t pi = 0; pi < m.pathways.size(); ++pi) {
    const auto& p = m.pathways[pi];
    PathwayFlux out;
    out.pathway = p.spec().name;
    const size_t inputs = input_ids.size();
    std::array<double, kMaxChannels> l{};
    std::vector<std::array<double, kMaxChannels>> share(inputs);  // per input, its part of each channel
    for (int ch = 0; ch < kMaxChannels; ++ch) {
      const auto& list = p.nodes[static_cast<size_t>(ch)];
      if (list.empty()) continue;
      double scale = ch == kDrive ? 1.0 : 1.0 / static_cast<double>(list.size());  // drive nodes add up
      for (int node : list) l[static_cast<size_t>(ch)] += scale * total[static_cast<size_t>(node)];
      for (size_t k = 0; k < inputs; ++k) {
        double v = 0;
        for (int node : list) v += scale * state[k][static_cast<size_t>(node)];
        share[k][static_cast<size_t>(ch)] = v;
      }
    }
    if (p.upstream >= 0) {  // melatonin: serotonin synthesis is its precursor supply
      const auto& up = result.pathways[static_cast<size_t>(p.upstream)];
      l[kSupply] = std::log(up.index[kSynthesis]);
      double sum = 0;
      for (const auto& contribution : up.contributions[kSynthesis]) sum += contribution.log_change;
      for (const auto& contribution : up.contributions[kSynthesis]) {
        auto it = input_index.find(contribution.input);
        if (it != input_index.end() && sum != 0)
          share[it->second][kSupply] = l[kSupply] * contribution.log_change / sum;
      }
    }
    out.index = Indices(SteadyState(p.kinetics, l), p.kinetics.ref);
    for (int idx = 0; idx < kIndexCount; ++idx)
      if (!(out.index[static_cast<size_t>(idx)] > 0)) out.index[static_cast<size_t>(idx)] = 1e-9;

    if (options.contributions) {
      // Each channel's part of ln(index), split between the inputs by their share of the channel
      // (propagation is linear in log space).
      PerChannel per_unit = IntegratedGradients(p.kinetics, l);  // then per unit of channel state
      for (auto& channels : per_unit)
        for (size_t c = 0; c < channels.size(); ++c) channels[c] = l[c] != 0 ? channels[c] / l[c] : 0.0;
      for (int idx = 0; idx < kIndexCount; ++idx) {
        size_t x = static_cast<size_t>(idx);
        std::vector<Contribution> list;
        double sum = 0;
        for (size_t k = 0; k < inputs; ++k) {
          double v = 0;
          for (size_t c = 0; c < per_unit[x].size(); ++c) v += per_unit[x][c] * share[k][c];
          sum += v;
          if (std::fabs(v) > 1e-9) list.push_back({input_ids[k], v});
        }
        // Inputs are unique within a list, so this order is total and std::sort is deterministic.
        std::sort(list.begin(), list.end(), [](const Contribution& a, const Contribution& b) {
          if (std::fabs(a.log_change) != std::fabs(b.log_change)) return std::fabs(a.log_change) > std::fabs(b.log_change);
          return a.input < b.input;
        });
        out.contributions[x] = std::move(list);
        out.residual = std::max(out.residual, std::fabs(std::log(out.index[x]) - sum));
      }
    }
    std::set<std::string> assumed;
    for (int node : p.assumable) {
      if (measured[static_cast<size_t>(node)]) continue;
      assumed.insert(m.measured_by[static_cast<size_t>(node)].front()->to);
    }
    out.assumed = Sorted(std::move(assumed));
    for (int node : p.primary) out.rests_on_assumption = out.rests_on_assumption || !measured[static_cast<size_t>(node)];
    result.pathways.push_back(std::move(out));
  }
  return result;
}

std::vector<StrategyEffect> Model::RankStrategies(const casefile::Case& c, const FluxResult& before,
                                                  std::vector<std::string> deficits) const {
  if (deficits.empty())
    for (const auto& p : before.pathways)
      for (int idx : {kSynthesis, kLevel})
        if (p.index[static_cast<size_t>(idx)] < 0.95) deficits.push_back(p.pathway + "." + IndexNames()[static_cast<size_t>(idx)]);
  std::vector<StrategyEffect> out;
  for (const auto& node : kb_->nodes()) {
    if (node.kind != NodeKind::kStrategy) continue;
    bool targets = false;
    for (const Edge* edge : kb_->OutEdges(node.id)) targets = targets || edge->type == EdgeType::kTargets;
    if (!targets) continue;
    ComputeOptions options;
    options.apply_strategies = {node.id};
    options.contributions = false;
    auto after = Compute(c, options);
    if (!after.ok()) continue;
    StrategyEffect effect;
    effect.strategy = node.id;
    for (size_t k = 0; k < after->pathways.size(); ++k)
      for (int idx = 0; idx < kIndexCount; ++idx) {
        double d = after->pathways[k].index[static_cast<size_t>(idx)] - before.pathways[k].index[static_cast<size_t>(idx)];
        std::string key = after->pathways[k].pathway + "." + IndexNames()[static_cast<size_t>(idx)];
        if (std::fabs(d) > 1e-4) effect.changes.push_back({key, d});
        // A deficit improves up to the reference; overshooting it earns nothing.
        if (std::find(deficits.begin(), deficits.end(), key) != deficits.end())
          effect.improvement += std::min(after->pathways[k].index[static_cast<size_t>(idx)], 1.0) -
                                std::min(before.pathways[k].index[static_cast<size_t>(idx)], 1.0);
      }
    if (effect.improvement > 1e-4) out.push_back(std::move(effect));
  }
  std::stable_sort(out.begin(), out.end(), [](const StrategyEffect& a, const StrategyEffect& b) {
    if (a.improvement != b.improvement) return a.improvement > b.improvement;
    return a.strategy < b.strategy;
  });
  return out;
}

double Model::LevelAt(const std::string& pathway, const std::string& node, double sufficiency) const {
  const Impl& m = *impl_;
  int start = m.Find(node);
  std::vector<double> total(m.nodes.size(), 0.0);
  if (start >= 0) {
    std::vector<char> blocked(m.nodes.size(), 0);
    m.Propagate(start, std::log(sufficiency), blocked, total);
  }
  double upstream_synthesis = 1.0;
  for (const auto& p : m.pathways) {
    std::array<double, kMaxChannels> l{};
    for (int ch = 0; ch < kMaxChannels; ++ch) {
      const auto& list = p.nodes[static_cast<size_t>(ch)];
      double scale = ch == kDrive ? 1.0 : 1.0 / static_cast<double>(std::max<size_t>(1, list.size()));
      for (int i : list) l[static_cast<size_t>(ch)] += scale * total[static_cast<size_t>(i)];
    }
    if (p.upstream >= 0) l[kSupply] = std::log(upstream_synthesis);
    auto index = Indices(SteadyState(p.kinetics, l), p.kinetics.ref);
    if (p.spec().name == "serotonin") upstream_synthesis = index[kSynthesis];
    if (p.spec().name == pathway) return index[kLevel];
  }
  return 1.0;
}

const PathwayFlux* FluxResult::Find(const std::string& pathway) const {
  for (const auto& p : pathways)
    if (p.pathway == pathway) return &p;
  return nullptr;
}

double FluxResult::Value(const std::string& key) const {
  auto dot = key.find('.');
  if (dot == std::string::npos) return 1.0;
  const PathwayFlux* p = Find(key.substr(0, dot));
  if (!p) return 1.0;
  for (int idx = 0; idx < kIndexCount; ++idx)
    if (IndexNames()[static_cast<size_t>(idx)] == key.substr(dot + 1)) return p->index[static_cast<size_t>(idx)];
  return 1.0;
}

namespace {
double Round(double v, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}
}  // namespace

nlohmann::ordered_json FluxToJson(const FluxResult& result) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& p : result.pathways) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    for (int idx = 0; idx < kIndexCount; ++idx)
      entry[IndexNames()[static_cast<size_t>(idx)]] = Round(p.index[static_cast<size_t>(idx)], 4);
    entry["assumed"] = p.assumed;
    out[p.pathway] = std::move(entry);
  }
  return out;
}

nlohmann::ordered_json ContributionsToJson(const FluxResult& result) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& p : result.pathways) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    for (int idx = 0; idx < kIndexCount; ++idx) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const auto& contribution : p.contributions[static_cast<size_t>(idx)])
        list.push_back({{"input", contribution.input}, {"log_change", Round(contribution.log_change, 4)}});
      entry[IndexNames()[static_cast<size_t>(idx)]] = std::move(list);
    }
    out[p.pathway] = std::move(entry);
  }
  return out;
}

std::string FluxToText(const FluxResult& result, size_t max_contributions) {
  std::string out;
  for (const auto& p : result.pathways) {
    out += p.pathway;
    out += "\n";
    for (int idx = 0; idx < kIndexCount; ++idx) {
      size_t x = static_cast<size_t>(idx);
      out += "  ";
      out += IndexNames()[x];
      out += " ";
      out += Num(p.index[x]);
      const auto& list = p.contributions[x];
      for (size_t k = 0; k < list.size() && k < max_contributions; ++k) {
        out += k == 0 ? ": " : ", ";
        out += list[k].input;
        out += " (";
        out += (list[k].log_change > 0 ? "+" : "");
        out += Num(Round(list[k].log_change, 3));
        out += ")";
      }
      out += "\n";
    }
    if (!p.assumed.empty()) {
      out += "  assumed at reference:";
      for (const auto& a : p.assumed) {
        out += " ";
        out += a;
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace nflux::flux
