#include "flux/flux.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "base/text.h"
#include "flux/kinetics.h"

namespace nflux::flux {
namespace {

using knowledge::Edge;
using knowledge::EdgeType;
using knowledge::NodeKind;

// Positions in a pathway's indices (IndexNames()) that this file reads by name.
constexpr int kSynthesis = 0, kLevel = 4;

// Defaults for edges written without a weight (docs/flux-model.md, "Inputs").
constexpr double kDefaultInhibition = 0.5;  // fraction of activity an inhibitor removes
constexpr double kDefaultRegulation = 0.3;  // log gain of up/downregulates and depletes
constexpr double kMaxInhibition = 0.95;
constexpr int kMaxDepth = 4;                // longest influence chain followed from a source
constexpr double kHormoneClamp = 1.5;       // |ln(value / limit)| cap for hormones
constexpr double kSufficiencyK = 0.25;

bool IsSufficiencyKind(NodeKind kind) { return kind == NodeKind::kCofactor || kind == NodeKind::kPrecursor; }

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
    // The assumable nodes grouped by the lab named for them (their first measured_by), by name.
    std::vector<std::pair<std::string, std::vector<int>>> assumable_labs;
  };
  // A strategy's `targets` edge into a node of the model, its weight clamped.
  struct Target {
    int node;
    double w;
    const Edge* edge;
  };

  const knowledge::KnowledgeBase* kb = nullptr;  // the model's (Model keeps it alive)
  std::vector<const knowledge::Node*> nodes;  // kb->nodes(), by index
  // Each knowledge edge's ends as node indices (-1 for none), in edge order: resolved once, not
  // once per pathway compiled.
  std::vector<std::pair<int, int>> edge_ends;
  std::vector<std::vector<Link>> links;
  std::vector<std::vector<const Edge*>> measured_by;  // node -> its labs
  std::vector<CompiledPathway> pathways;
  // Labs resolved once, not per case: every lab of a measured_by edge numbered, the number of each
  // node's labs (parallel to measured_by), and the nodes a lab can set (LabSources' kinds).
  std::unordered_map<std::string, int> lab_numbers;
  std::vector<std::vector<int>> measured_by_lab;
  std::vector<int> lab_nodes;
  // Every strategy node with its targets edges the model reads, in knowledge order.
  std::map<std::string, std::vector<Target>, std::less<>> strategies;

  // The node's index: its position in the knowledge base, found by its id table.
  int Find(std::string_view id) const {
    const knowledge::Node* node = kb->Find(id);
    return node == nullptr ? -1 : static_cast<int>(node - kb->nodes().data());
  }
  // `touched`, when given, gets every node `out` was added to (some more than once).
  void Propagate(int start, double value, const std::vector<char>& measured, std::vector<double>& out,
                 std::vector<int>* touched = nullptr) const;
};

// Adds `value` at `start` and carries it along influence links (depth-first, no node twice on a
// path, not into another measured node), multiplying by each link's gain. Whether `start` itself
// is measured does not matter: it is on every path, so no link leads back into it.
void Model::Impl::Propagate(int start, double value, const std::vector<char>& measured, std::vector<double>& out,
                            std::vector<int>* touched) const {
  std::vector<int> path;
  auto visit = [&](auto&& self, int node, double v, int depth) -> void {
    out[static_cast<size_t>(node)] += v;
    if (touched) touched->push_back(node);
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

std::string IndexKey(std::string_view pathway, int index) {
  std::string key(pathway);
  key += '.';
  key += IndexNames()[static_cast<size_t>(index)];
  return key;
}

const std::vector<std::string>& AllIndexKeys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const auto& pathway : Model::Pathways())
      for (int idx = 0; idx < kIndexCount; ++idx) out.push_back(IndexKey(pathway, idx));
    return out;
  }();
  return keys;
}

std::optional<std::pair<std::string_view, int>> ParseIndexKey(std::string_view key) {
  size_t dot = key.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view pathway = key.substr(0, dot), index = key.substr(dot + 1);
  const auto& pathways = Model::Pathways();
  if (std::find(pathways.begin(), pathways.end(), pathway) == pathways.end()) return std::nullopt;
  for (int idx = 0; idx < kIndexCount; ++idx)
    if (IndexNames()[static_cast<size_t>(idx)] == index) return std::pair{pathway, idx};
  return std::nullopt;
}

bool IsIndexKey(std::string_view key) { return ParseIndexKey(key).has_value(); }

double CofactorSufficiency(double x) {
  if (!(x < 1)) return 1.0;
  if (x <= 0) return 1e-3;
  return std::max(1e-3, x * (1 + kSufficiencyK) / (x + kSufficiencyK));
}

namespace {

using Impl = Model::Impl;

// ---- Build: the steps that compile the knowledge graph into the model.

void IndexNodes(const knowledge::KnowledgeBase& kb, Impl* impl) {
  impl->kb = &kb;
  for (const knowledge::Node& node : kb.nodes()) impl->nodes.push_back(&node);
  impl->links.resize(kb.nodes().size());
  impl->measured_by.resize(kb.nodes().size());
  impl->edge_ends.reserve(kb.edges().size());
  for (const Edge& edge : kb.edges()) impl->edge_ends.emplace_back(impl->Find(edge.from), impl->Find(edge.to));
}

// The log gain an influence edge carries per unit of its source's state; 0 for other edges.
double LinkGain(const Edge& edge) {
  switch (edge.type) {
    case EdgeType::kCofactorOf: return 1.0;
    case EdgeType::kUpregulates:
    case EdgeType::kDownregulates:
    case EdgeType::kDepletes: return edge.sign * edge.weight.value_or(kDefaultRegulation);
    case EdgeType::kInhibits:
      return std::log(1 - std::clamp(edge.weight.value_or(kDefaultInhibition), 0.0, kMaxInhibition));
    default: return 0;
  }
}

// A low-certainty marker of a stressor (ferritin or albumin for inflammation, GGT for alcohol) is
// non-specific: high ferritin alone is more often iron overload, liver or metabolic disease than
// inflammation. It neither sets the stressor's state nor marks it measured; hs-CRP or ESR do.
bool IsNonSpecificMarker(const knowledge::Node& node, const Edge& edge) {
  return node.kind == NodeKind::kStressor && edge.certainty == "low";
}

// The influence adjacency and, per node, the labs that measure it.
void CompileLinks(const knowledge::KnowledgeBase& kb, Impl* impl) {
  for (size_t e = 0; e < kb.edges().size(); ++e) {
    const Edge& edge = kb.edges()[e];
    auto [from, to] = impl->edge_ends[e];
    if (from < 0 || to < 0) continue;
    // Receptors are outside the model (its autoreceptor feedback is internal): no effect passes
    // through them.
    if (impl->nodes[static_cast<size_t>(from)]->kind == NodeKind::kReceptor ||
        impl->nodes[static_cast<size_t>(to)]->kind == NodeKind::kReceptor)
      continue;
    if (edge.type == EdgeType::kMeasuredBy) {
      if (!IsNonSpecificMarker(*impl->nodes[static_cast<size_t>(from)], edge))
        impl->measured_by[static_cast<size_t>(from)].push_back(&edge);
      continue;
    }
    double gain = LinkGain(edge);
    if (gain != 0) impl->links[static_cast<size_t>(from)].push_back({to, gain});
  }
}

// Fills a pathway's channels with the knowledge nodes they read: from its spec, and graph-derived
// (transporters and degrading enzymes of its precursor and transmitter). `touched` collects them.
class ChannelCompiler {
 public:
  ChannelCompiler(const knowledge::KnowledgeBase& kb, const Impl& impl, Impl::CompiledPathway* p)
      : kb_(kb), impl_(impl), p_(*p) {}

  Status Run(const PathwaySpec& spec) {
    for (const char* id : {spec.transmitter.c_str(), spec.pathway_node.c_str()})
      if (auto st = Add(kDrive, id); !st.ok()) return st;
    if (!spec.precursor.empty()) {
      if (auto st = Add(kSupply, spec.precursor); !st.ok()) return st;
      AddPrecursorEdges(spec);
    }
    for (const auto& id : spec.rate_enzymes)
      if (auto st = Add(kRate, id); !st.ok()) return st;
    if (!spec.cosubstrate.empty())
      if (auto st = Add(kCosubstrate, spec.cosubstrate); !st.ok()) return st;
    for (size_t k = 0; k < spec.steps.size(); ++k)
      for (const auto& id : spec.steps[k].enzymes)
        if (auto st = Add(static_cast<Channel>(kStep0 + static_cast<int>(k)), id); !st.ok()) return st;
    AddTransmitterEdges(spec);
    return Status::Ok();
  }

  const std::set<int>& touched() const { return touched_; }

 private:
  Status Add(Channel channel, const std::string& id) {
    int i = impl_.Find(id);
    if (i < 0) return Status::NotFound("flux model: knowledge node '" + id + "' is missing");
    p_.nodes[channel].push_back(i);
    touched_.insert(i);
    return Status::Ok();
  }

  // The edges into `id` in knowledge order, each with its source.
  template <typename Visit>
  void ForEdgesInto(const std::string& id, Visit visit) {
    const int to = impl_.Find(id);
    if (to < 0) return;
    for (size_t e = 0; e < impl_.edge_ends.size(); ++e)
      if (impl_.edge_ends[e].second == to) visit(kb_.edges()[e]);
  }

  // The precursor's transporters into the brain and the enzymes degrading it.
  void AddPrecursorEdges(const PathwaySpec& spec) {
    ForEdgesInto(spec.precursor, [&](const Edge& edge) {
      if (edge.type == EdgeType::kTransports && edge.role == "bbb") (void)Add(kBbb, edge.from);
      if (edge.type == EdgeType::kDegrades) (void)Add(kShunt, edge.from);
    });
  }

  // Vesicular and reuptake transporters of the transmitter, enzymes degrading it.
  void AddTransmitterEdges(const PathwaySpec& spec) {
    ForEdgesInto(spec.transmitter, [&](const Edge& edge) {
      if (edge.type == EdgeType::kTransports && edge.role == "vesicular") (void)Add(kVmat, edge.from);
      if (edge.type == EdgeType::kTransports && edge.role == "reuptake") (void)Add(kTransporter, edge.from);
      if (edge.type == EdgeType::kDegrades) {
        const auto& outside = spec.extracellular_enzymes;
        bool extracellular = std::find(outside.begin(), outside.end(), edge.from) != outside.end();
        (void)Add(extracellular ? kExtBreakdown : kCytBreakdown, edge.from);
      }
    });
  }

  const knowledge::KnowledgeBase& kb_;
  const Impl& impl_;
  Impl::CompiledPathway& p_;
  std::set<int> touched_;
};

// Inputs that would inform the pathway and have a lab: its precursor and the cofactors and
// hormones with an edge into a node it reads.
std::vector<int> AssumableInputs(const knowledge::KnowledgeBase& kb, const Impl& impl, const PathwaySpec& spec,
                                 const std::set<int>& touched) {
  std::set<int> assumable;
  if (!spec.precursor.empty()) assumable.insert(impl.Find(spec.precursor));
  for (size_t e = 0; e < kb.edges().size(); ++e) {
    const Edge& edge = kb.edges()[e];
    auto [from, to] = impl.edge_ends[e];
    if (to < 0 || from < 0 || !touched.count(to)) continue;
    NodeKind kind = impl.nodes[static_cast<size_t>(from)]->kind;
    bool input_kind = kind == NodeKind::kCofactor || kind == NodeKind::kHormone || kind == NodeKind::kPrecursor;
    bool influence = edge.type == EdgeType::kCofactorOf || edge.type == EdgeType::kUpregulates ||
                     edge.type == EdgeType::kDownregulates;
    if (input_kind && influence) assumable.insert(from);
  }
  std::vector<int> out;
  for (int n : assumable)
    if (n >= 0 && !impl.measured_by[static_cast<size_t>(n)].empty()) out.push_back(n);
  return out;
}

// The measurable cofactors of the pathway's synthesis enzymes (rate-limiting and following steps).
std::vector<int> PrimaryCofactors(const knowledge::KnowledgeBase& kb, const Impl& impl, const PathwaySpec& spec) {
  std::set<std::string> synthesis_enzymes(spec.rate_enzymes.begin(), spec.rate_enzymes.end());
  for (const auto& step : spec.steps) synthesis_enzymes.insert(step.enzymes.begin(), step.enzymes.end());
  std::set<int> primary;
  for (size_t e = 0; e < kb.edges().size(); ++e) {
    const Edge& edge = kb.edges()[e];
    if (edge.type != EdgeType::kCofactorOf || !synthesis_enzymes.count(edge.to)) continue;
    int from = impl.edge_ends[e].first;
    if (from >= 0 && !impl.measured_by[static_cast<size_t>(from)].empty()) primary.insert(from);
  }
  return {primary.begin(), primary.end()};
}

Result<Impl::CompiledPathway> CompilePathway(const knowledge::KnowledgeBase& kb, const Impl& impl,
                                             const PathwaySpec& spec) {
  Impl::CompiledPathway p;
  p.kinetics = Kinetics::For(spec);
  ChannelCompiler channels(kb, impl, &p);
  if (auto st = channels.Run(spec); !st.ok()) return st;
  if (!spec.upstream.empty())
    for (size_t k = 0; k < impl.pathways.size(); ++k)
      if (impl.pathways[k].spec().name == spec.upstream) p.upstream = static_cast<int>(k);
  p.assumable = AssumableInputs(kb, impl, spec, channels.touched());
  std::map<std::string, std::vector<int>> assumable_labs;
  for (int node : p.assumable) assumable_labs[impl.measured_by[static_cast<size_t>(node)].front()->to].push_back(node);
  p.assumable_labs.assign(assumable_labs.begin(), assumable_labs.end());
  p.primary = PrimaryCofactors(kb, impl, spec);
  return p;
}

// The nodes a lab can set (sufficiency kinds, hormones, stressors, with a lab), and every lab numbered.
void CompileLabs(Impl* impl) {
  impl->measured_by_lab.resize(impl->nodes.size());
  for (size_t i = 0; i < impl->nodes.size(); ++i) {
    for (const Edge* edge : impl->measured_by[i]) {
      const int next = static_cast<int>(impl->lab_numbers.size());
      impl->measured_by_lab[i].push_back(impl->lab_numbers.emplace(edge->to, next).first->second);
    }
    const NodeKind kind = impl->nodes[i]->kind;
    const bool settable = IsSufficiencyKind(kind) || kind == NodeKind::kHormone || kind == NodeKind::kStressor;
    if (settable && !impl->measured_by[i].empty()) impl->lab_nodes.push_back(static_cast<int>(i));
  }
}

// Every strategy node with its `targets` edges into nodes of the model.
void CompileStrategies(const knowledge::KnowledgeBase& kb, Impl* impl) {
  for (const auto& node : kb.nodes()) {
    if (node.kind != NodeKind::kStrategy) continue;
    auto& targets = impl->strategies[node.id];
    for (const Edge* edge : kb.OutEdges(node.id)) {
      if (edge->type != EdgeType::kTargets) continue;
      int i = impl->Find(edge->to);
      if (i < 0) continue;
      targets.push_back({i, std::clamp(edge->weight.value_or(kDefaultRegulation), 0.0, kMaxInhibition), edge});
    }
  }
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::Build(std::shared_ptr<const knowledge::KnowledgeBase> kb) {
  auto impl = std::make_unique<Impl>();
  IndexNodes(*kb, impl.get());
  CompileLinks(*kb, impl.get());
  CompileLabs(impl.get());
  CompileStrategies(*kb, impl.get());
  for (const PathwaySpec& spec : Specs()) {
    auto pathway = CompilePathway(*kb, *impl, spec);
    if (!pathway.ok()) return pathway.status();
    impl->pathways.push_back(std::move(*pathway));
  }
  return std::shared_ptr<const Model>(new Model(std::move(impl), std::move(kb)));
}

namespace {

// As an ostream with precision(digits) writes a double (its "%.*g"), without building a stream.
std::string Num(double v, int digits = 3) {
  char buffer[64];
  int n = std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  return std::string(buffer, static_cast<size_t>(n));
}

// ---- Compute: the steps from a case to the pathway indices.

// An input with the node it sets and its log state there.
struct Source {
  Input input;
  int node;
  double value;
};

// ln(sufficiency) of a cofactor or precursor from a lab (`sign` < 0: a marker that rises in
// deficiency). Where the case has a decision limit on the lab's side, it is the bound, so the model
// calls deficient exactly what `lab ID is below_limit` (`above_limit`) calls so; else the reference.
double SufficiencyState(int sign, const casefile::LabResult& lab) {
  double v = *lab.value;
  std::optional<double> low = lab.reference_low, high = lab.reference_high;
  if (lab.decision) {
    const bool below = lab.decision->side == knowledge::LimitSide::kBelow;
    if (sign > 0 && below) low = lab.decision->limit;
    if (sign < 0 && !below) high = lab.decision->limit;
  }
  if (sign > 0 && low && *low > 0 && v < *low) return std::log(CofactorSufficiency(v / *low));
  if (sign < 0 && high && v > *high && v > 0) return std::log(CofactorSufficiency(*high / v));
  return 0;
}

// The log state a lab result gives the node it measures (`sign` < 0: a marker that rises in
// deficiency): ln(sufficiency) for a cofactor or precursor, the clamped deviation from the range
// for a hormone, only the raised direction for a stressor.
double LabState(NodeKind kind, int sign, const casefile::LabResult& lab) {
  if (IsSufficiencyKind(kind)) return SufficiencyState(sign, lab);
  double v = *lab.value;
  std::optional<double> low = lab.reference_low, high = lab.reference_high;
  double dev = 0;
  if (high && *high > 0 && v > *high) dev = std::log(v / *high);
  if (low && *low > 0 && v < *low && v > 0) dev = std::log(v / *low);
  dev *= sign;
  if (kind == NodeKind::kHormone) return std::clamp(dev, -kHormoneClamp, kHormoneClamp);
  return std::clamp(dev, 0.0, 1.0);  // a stressor: only its raised direction
}

// "ferritin 18 ng/mL below the iron-deficiency limit 30: iron sufficiency 0.857".
std::string LabText(const knowledge::Node& node, const std::string& lab_id, const casefile::LabResult& lab,
                    double state) {
  bool sufficiency = IsSufficiencyKind(node.kind);
  std::string where;
  if (state < 0 && sufficiency)
    where = lab.decision && lab.decision->beyond ? " " + std::string(knowledge::LimitSideName(lab.decision->side)) +
                                                       " the " + lab.decision->label + " " + Num(lab.decision->limit, 4)
                                                 : " low";
  return lab_id + " " + Num(*lab.value, 4) + " " + lab.unit + where + ": " + node.id +
         (sufficiency ? " sufficiency " + Num(std::exp(state)) : " state " + Num(state));
}

// The case's result in use (Case::Lab) of each lab the model reads, by lab number; null when none.
std::vector<const casefile::LabResult*> CaseLabs(const Impl& m, const casefile::Case& c) {
  std::vector<const casefile::LabResult*> out(m.lab_numbers.size(), nullptr);
  for (const auto& lab : c.labs) {
    if (!lab.used || !lab.value) continue;
    auto it = m.lab_numbers.find(lab.test);
    if (it == m.lab_numbers.end()) continue;
    // The first usable entry of a test is the one in use unless another follows; only then ask
    // the case which one wins.
    const casefile::LabResult*& in_use = out[static_cast<size_t>(it->second)];
    in_use = in_use ? c.Lab(lab.test) : &lab;
  }
  return out;
}

// One source per node that a used lab of the case measures: the lab that moves it most. Marks the
// measured nodes in `measured`.
std::vector<Source> LabSources(const Impl& m, const casefile::Case& c, std::vector<char>* measured) {
  const std::vector<const casefile::LabResult*> labs = CaseLabs(m, c);
  std::vector<Source> sources;
  for (int i : m.lab_nodes) {
    const knowledge::Node& node = *m.nodes[static_cast<size_t>(i)];
    const auto& edges = m.measured_by[static_cast<size_t>(i)];
    const auto& numbers = m.measured_by_lab[static_cast<size_t>(i)];
    double best = 0;
    size_t best_edge = 0;
    for (size_t k = 0; k < edges.size(); ++k) {
      const casefile::LabResult* lab = labs[static_cast<size_t>(numbers[k])];
      if (!lab) continue;
      (*measured)[static_cast<size_t>(i)] = 1;
      double state = LabState(node.kind, edges[k]->sign, *lab);
      if (std::fabs(state) > std::fabs(best)) best = state, best_edge = k;
    }
    if (best == 0) continue;
    const std::string& lab_id = edges[best_edge]->to;
    const casefile::LabResult& lab = *labs[static_cast<size_t>(numbers[best_edge])];
    sources.push_back({{"lab:" + lab_id, node.id, best, LabText(node, lab_id, lab, best)}, i, best});
  }
  return sources;
}

// Stressor scores 0-3; a mild score (1) is within the healthy reference.
void AddStressorSources(const Impl& m, const casefile::Case& c, std::vector<Source>* sources) {
  for (const auto& [id, entry] : c.stressors) {
    const int score = entry.value;
    int i = m.Find(id);
    if (i < 0 || score <= 1) continue;
    double value = (score - 1) / 2.0;
    Input input{"stressor:" + id, id, value, id + " " + std::to_string(score) + "/3"};
    bool replaced = false;
    for (Source& source : *sources)
      if (source.node == i) {  // measured too: the stronger of the two speaks
        if (value > source.value) source.input = input, source.value = value;
        replaced = true;
      }
    if (!replaced) sources->push_back({std::move(input), i, value});
  }
}

// Medications (by id and by class) and conditions with an influence edge, at intensity 1.
void AddMedicationAndConditionSources(const Impl& m, const casefile::Case& c, std::vector<Source>* sources) {
  for (const auto& med : c.medications) {
    std::set<std::string> ids(med.classes.begin(), med.classes.end());
    ids.insert(med.id);
    for (const auto& id : ids) {
      int i = m.Find(id);
      if (i < 0 || m.links[static_cast<size_t>(i)].empty()) continue;
      sources->push_back({{"medication:" + med.id, id, 1.0, med.id + (id == med.id ? "" : " (" + id + ")")}, i, 1.0});
    }
  }
  for (const auto& condition : c.conditions) {
    int i = m.Find(condition.id);
    if (i < 0 || m.links[static_cast<size_t>(i)].empty()) continue;
    sources->push_back({{"condition:" + condition.id, condition.id, 1.0, condition.id}, i, 1.0});
  }
}

// One state vector over the nodes per input id (linear in log space; sources of one input add
// up), and their sum.
struct InputStates {
  std::vector<std::string> ids;
  std::map<std::string, size_t> index;
  std::vector<std::vector<double>> state;
  std::vector<double> total;

  std::vector<double>& Slot(const std::string& id) {
    auto [it, inserted] = index.emplace(id, ids.size());
    if (inserted) {
      ids.push_back(id);
      state.emplace_back(total.size(), 0.0);
    }
    return state[it->second];
  }
};

// A state over the model's nodes that a few propagations reach, kept per thread by its user rather
// than allocated and cleared over every node for each use: zero except where `reached` lists.
struct SparseState {
  std::vector<double> values;
  std::vector<int> reached;  // the nodes added to since the last Clear (some more than once)

  // All zero over `nodes` nodes, whatever an earlier use (even one cut short) left.
  void Start(size_t nodes) {
    Clear();
    if (values.size() != nodes) values.assign(nodes, 0.0);
  }
  void Clear() {
    for (int node : reached) values[static_cast<size_t>(node)] = 0;
    reached.clear();
  }
};

// Carries each source along the influence links (into its own node even when measured). With
// `per_input` a state per input id (what contributions split); without, only their total.
InputStates PropagateSources(const Impl& m, const std::vector<Source>& sources, const std::vector<char>& measured,
                             std::vector<Input>* inputs, bool per_input) {
  InputStates states;
  states.total.assign(m.nodes.size(), 0.0);
  for (const Source& source : sources) inputs->push_back(source.input);
  if (per_input) {
    for (const Source& source : sources) m.Propagate(source.node, source.value, measured, states.Slot(source.input.id));
    for (const auto& s : states.state)
      for (size_t i = 0; i < s.size(); ++i) states.total[i] += s[i];
    return states;
  }
  // The same sums in the same order: an input's sources, in their order, into a state of its own,
  // added to the total in the order the inputs first come. Adding an input's zeros changes no
  // total, so only the nodes it reached are added.
  thread_local SparseState state;
  state.Start(m.nodes.size());
  std::vector<char> done(sources.size(), 0);
  for (size_t first = 0; first < sources.size(); ++first) {
    if (done[first]) continue;
    for (size_t k = first; k < sources.size(); ++k) {
      if (done[k] || sources[k].input.id != sources[first].input.id) continue;
      done[k] = 1;
      m.Propagate(sources[k].node, sources[k].value, measured, state.values, &state.reached);
    }
    std::sort(state.reached.begin(), state.reached.end());
    state.reached.erase(std::unique(state.reached.begin(), state.reached.end()), state.reached.end());
    for (int node : state.reached) states.total[static_cast<size_t>(node)] += state.values[static_cast<size_t>(node)];
    state.Clear();
  }
  return states;
}

// The log change a strategy's `targets` edge (weight w, sign) makes at a node of `kind` whose
// state is `now`.
double TargetDelta(NodeKind kind, int sign, double w, double now) {
  switch (kind) {
    case NodeKind::kPrecursor: return sign > 0 ? std::log(1 + w) : std::log(1 - w);
    case NodeKind::kCofactor:
      if (sign > 0) return now < 0 ? -w * now : 0.0;  // closes w of the gap; no effect when replete
      return std::log(1 - w);
    case NodeKind::kStressor:
    case NodeKind::kHormone:
      if ((sign < 0 && now > 0) || (sign > 0 && now < 0)) return -w * now;
      return 0;
    case NodeKind::kEnzyme:
    case NodeKind::kTransporter:
    case NodeKind::kNeurotransmitter:
    case NodeKind::kPathway: return sign > 0 ? std::log(1 + w) : std::log(1 - w);
    default: return 0;
  }
}

const std::vector<Impl::Target>* TargetsOf(const Impl& m, std::string_view strategy) {
  auto it = m.strategies.find(strategy);
  return it == m.strategies.end() ? nullptr : &it->second;
}

// Adds the change a strategy makes to the nodes' log states to `delta`, `total` the states before
// it: each of its `targets` edges moves its node, then propagates like a source. With `inputs`,
// each move is listed; with `touched`, every node it reached.
void AddStrategyDelta(const Impl& m, std::string_view strategy, const std::vector<Impl::Target>& targets,
                      const std::vector<char>& measured, const std::vector<double>& total, std::vector<Input>* inputs,
                      std::vector<double>& delta, std::vector<int>* touched) {
  for (const Impl::Target& target : targets) {
    const auto i = static_cast<size_t>(target.node);
    double d = TargetDelta(m.nodes[i]->kind, target.edge->sign, target.w, total[i]);
    if (d == 0) continue;
    m.Propagate(target.node, d, measured, delta, touched);
    if (inputs)
      inputs->push_back({"strategy:" + std::string(strategy), target.edge->to, d,
                         std::string(strategy) + " -> " + target.edge->to});
  }
}

// What-if: the strategy's change added to the states, as an input of its own.
Status ApplyStrategy(const Impl& m, const std::string& strategy, const std::vector<char>& measured,
                     InputStates* states, std::vector<Input>* inputs) {
  const auto* targets = TargetsOf(m, strategy);
  if (!targets) return Status::InvalidArgument("unknown strategy '" + strategy + "'");
  const size_t n = m.nodes.size();
  std::vector<double> delta(n, 0.0);
  AddStrategyDelta(m, strategy, *targets, measured, states->total, inputs, delta, nullptr);
  auto& s = states->Slot("strategy:" + strategy);
  for (size_t i = 0; i < n; ++i) {
    s[i] += delta[i];
    states->total[i] += delta[i];
  }
  return Status::Ok();
}

// A pathway's channel log factors for a state vector over the nodes (`state` plus `added`, when
// given, node by node): drive nodes add up, the nodes of any other channel are averaged.
Channels ChannelsOf(const Impl::CompiledPathway& p, const std::vector<double>& state,
                    const std::vector<double>* added = nullptr) {
  Channels l{};
  for (int ch = 0; ch < kMaxChannels; ++ch) {
    const auto& list = p.nodes[static_cast<size_t>(ch)];
    if (list.empty()) continue;
    double scale = ch == kDrive ? 1.0 : 1.0 / static_cast<double>(list.size());
    for (int node : list) {
      const auto i = static_cast<size_t>(node);
      l[static_cast<size_t>(ch)] += scale * (added ? state[i] + (*added)[i] : state[i]);
    }
  }
  return l;
}

// Melatonin: serotonin synthesis is its precursor supply, shared between the inputs as they
// share serotonin's synthesis.
void SetUpstreamSupply(const PathwayFlux& up, const InputStates& states, Channels* l, std::vector<Channels>* share) {
  (*l)[kSupply] = std::log(up.index[kSynthesis]);
  double sum = 0;
  for (const auto& contribution : up.contributions[kSynthesis]) sum += contribution.log_change;
  for (const auto& contribution : up.contributions[kSynthesis]) {
    auto it = states.index.find(contribution.input);
    if (it != states.index.end() && sum != 0) (*share)[it->second][kSupply] = (*l)[kSupply] * contribution.log_change / sum;
  }
}

// Each channel's part of ln(index), split between the inputs by their share of the channel
// (propagation is linear in log space); ranked by magnitude, then by input.
void SetContributions(const Kinetics& kinetics, const Channels& l, const std::vector<Channels>& share,
                      const std::vector<std::string>& ids, PathwayFlux* out) {
  PerChannel per_unit = IntegratedGradients(kinetics, l);  // then per unit of channel state
  for (auto& channels : per_unit)
    for (size_t c = 0; c < channels.size(); ++c) channels[c] = l[c] != 0 ? channels[c] / l[c] : 0.0;
  for (size_t x = 0; x < static_cast<size_t>(kIndexCount); ++x) {
    std::vector<Contribution> list;
    double sum = 0;
    for (size_t k = 0; k < ids.size(); ++k) {
      double v = 0;
      for (size_t c = 0; c < per_unit[x].size(); ++c) v += per_unit[x][c] * share[k][c];
      sum += v;
      if (std::fabs(v) > 1e-9) list.push_back({ids[k], v});
    }
    // Inputs are unique within a list, so this order is total and std::sort is deterministic.
    std::sort(list.begin(), list.end(), [](const Contribution& a, const Contribution& b) {
      if (std::fabs(a.log_change) != std::fabs(b.log_change)) return std::fabs(a.log_change) > std::fabs(b.log_change);
      return a.input < b.input;
    });
    out->contributions[x] = std::move(list);
    out->residual = std::max(out->residual, std::fabs(std::log(out->index[x]) - sum));
  }
}

// The labs the pathway would read that the case did not measure, and whether a synthesis
// cofactor is among them.
void SetAssumptions(const Impl::CompiledPathway& p, const std::vector<char>& measured, PathwayFlux* out) {
  for (const auto& [lab, nodes] : p.assumable_labs)
    for (int node : nodes)
      if (!measured[static_cast<size_t>(node)]) {
        out->assumed.push_back(lab);
        break;
      }
  for (int node : p.primary) out->rests_on_assumption = out->rests_on_assumption || !measured[static_cast<size_t>(node)];
}

// A pathway's indices for its channel log factors (an index that is not positive: 1e-9).
IndexArray IndicesAt(const Impl::CompiledPathway& p, const Channels& l) {
  IndexArray index = Indices(SteadyState(p.kinetics, l), p.kinetics.ref);
  for (double& value : index)
    if (!(value > 0)) value = 1e-9;
  return index;
}

// One pathway's indices (and contributions); `done` holds the pathways before it, for its upstream.
PathwayFlux ComputePathway(const Impl::CompiledPathway& p, const InputStates& states,
                           const std::vector<char>& measured, const std::vector<PathwayFlux>& done,
                           bool contributions) {
  PathwayFlux out;
  out.pathway = p.spec().name;
  Channels l = ChannelsOf(p, states.total);
  std::vector<Channels> share;  // per input, its part of each channel; only contributions read it
  if (contributions) {
    share.reserve(states.state.size());
    for (const auto& state : states.state) share.push_back(ChannelsOf(p, state));
  }
  if (p.upstream >= 0) SetUpstreamSupply(done[static_cast<size_t>(p.upstream)], states, &l, &share);
  out.index = IndicesAt(p, l);
  if (contributions) SetContributions(p.kinetics, l, share, states.ids, &out);
  SetAssumptions(p, measured, &out);
  return out;
}

}  // namespace

Result<FluxResult> Model::Compute(const casefile::Case& c, const ComputeOptions& options) const {
  CaseState state;
  return Compute(c, options, &state);
}

Result<FluxResult> Model::Compute(const casefile::Case& c, const ComputeOptions& options, CaseState* state) const {
  const Impl& m = *impl_;
  FluxResult result;
  std::vector<char>& measured = state->measured;
  measured.assign(m.nodes.size(), 0);
  std::vector<Source> sources = LabSources(m, c, &measured);
  AddStressorSources(m, c, &sources);
  AddMedicationAndConditionSources(m, c, &sources);
  // A state per input only where something reads it: contributions, or a strategy applied.
  const bool per_input = options.contributions || !options.apply_strategies.empty();
  InputStates states = PropagateSources(m, sources, measured, &result.inputs, per_input);
  for (const auto& strategy : options.apply_strategies)
    if (auto st = ApplyStrategy(m, strategy, measured, &states, &result.inputs); !st.ok()) return st;
  result.pathways.reserve(m.pathways.size());
  for (const auto& p : m.pathways)
    result.pathways.push_back(ComputePathway(p, states, measured, result.pathways, options.contributions));
  state->total = std::move(states.total);
  state->indices.clear();
  for (const auto& pathway : result.pathways) state->indices.push_back(pathway.index);
  return result;
}

Result<std::vector<IndexArray>> Model::IndicesWith(const CaseState& state, std::string_view strategy) const {
  const Impl& m = *impl_;
  const auto* targets = TargetsOf(m, strategy);
  if (!targets) return Status::InvalidArgument("unknown strategy '" + std::string(strategy) + "'");
  // The same sums, in the same order, as Compute() applying the strategy after the case's inputs:
  // the state is the case's total plus the strategy's change, added where a pathway reads it.
  thread_local SparseState change;
  change.Start(m.nodes.size());
  AddStrategyDelta(m, strategy, *targets, state.measured, state.total, nullptr, change.values, &change.reached);
  const std::vector<double>& total = state.total;
  const std::vector<double>& delta = change.values;
  std::vector<IndexArray> out;
  out.reserve(m.pathways.size());
  std::vector<char> moved;  // per pathway: its indices differ from the case's
  moved.reserve(m.pathways.size());
  const bool kept = state.indices.size() == m.pathways.size();  // Compute() kept the case's indices
  for (const auto& p : m.pathways) {
    // A pathway the strategy reaches neither directly nor through its upstream keeps the case's
    // indices: the same sums (x + 0.0 is x) would solve the same steady state again.
    bool reached = p.upstream >= 0 && moved[static_cast<size_t>(p.upstream)];
    for (const auto& list : p.nodes)
      for (int node : list) reached = reached || delta[static_cast<size_t>(node)] != 0;
    const size_t k = out.size();
    if (!reached && kept) {
      out.push_back(state.indices[k]);
      moved.push_back(false);
      continue;
    }
    Channels l = ChannelsOf(p, total, &delta);
    if (p.upstream >= 0) l[kSupply] = std::log(out[static_cast<size_t>(p.upstream)][kSynthesis]);
    out.push_back(IndicesAt(p, l));
    moved.push_back(!kept || out.back() != state.indices[k]);
  }
  return out;
}

std::vector<StrategyEffect> Model::RankStrategies(const casefile::Case& c, const FluxResult& before,
                                                  std::vector<std::string> deficits) const {
  if (deficits.empty())
    for (const auto& p : before.pathways)
      for (int idx : {kSynthesis, kLevel})
        if (p.index[static_cast<size_t>(idx)] < 0.95) deficits.push_back(IndexKey(p.pathway, idx));
  std::vector<StrategyEffect> out;
  CaseState state;
  ComputeOptions plain;
  plain.contributions = false;
  if (!Compute(c, plain, &state).ok()) return out;
  for (const auto& node : kb_->nodes()) {
    if (node.kind != NodeKind::kStrategy) continue;
    bool targets = false;
    for (const Edge* edge : kb_->OutEdges(node.id)) targets = targets || edge->type == EdgeType::kTargets;
    if (!targets) continue;
    auto after = IndicesWith(state, node.id);
    if (!after.ok()) continue;
    StrategyEffect effect;
    effect.strategy = node.id;
    for (size_t k = 0; k < after->size(); ++k)
      for (int idx = 0; idx < kIndexCount; ++idx) {
        const double now = (*after)[k][static_cast<size_t>(idx)];
        double d = now - before.pathways[k].index[static_cast<size_t>(idx)];
        std::string key = IndexKey(Pathways()[k], idx);
        if (std::fabs(d) > 1e-4) effect.changes.emplace_back(key, d);
        // A deficit improves up to the reference; overshooting it earns nothing.
        if (std::find(deficits.begin(), deficits.end(), key) != deficits.end())
          effect.improvement += std::min(now, 1.0) - std::min(before.pathways[k].index[static_cast<size_t>(idx)], 1.0);
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
    Channels l = ChannelsOf(p, total);
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

std::optional<double> FluxResult::Value(std::string_view key) const {
  auto parsed = ParseIndexKey(key);
  if (!parsed) return std::nullopt;
  const PathwayFlux* p = Find(std::string(parsed->first));
  if (!p) return std::nullopt;
  return p->index[static_cast<size_t>(parsed->second)];
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
      auto x = static_cast<size_t>(idx);
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
