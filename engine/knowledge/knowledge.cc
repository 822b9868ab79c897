#include "knowledge/knowledge.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <set>

#include <boost/graph/adjacency_list.hpp>

#include "base/id_hash.h"
#include "base/text.h"
#include "knowledge/builder.h"
#include "knowledge/schema.h"

namespace nflux::knowledge {

struct KnowledgeBase::Graph {
  // Vertex i is nodes_[i]; the edge property is the index into edges_.
  using Adjacency = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, boost::no_property,
                                          boost::property<boost::edge_index_t, size_t>>;
  Adjacency adjacency;
};

std::string Problem::ToString() const {
  if (line > 0) return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  if (json_path.empty()) return file + ": " + message;
  return file + ":" + json_path + ": " + message;
}

WrittenJson::WrittenJson(nlohmann::json json) : value_(std::make_shared<Value>()) {
  std::call_once(value_->decoded, [&] { value_->json = std::move(json); });
}

WrittenJson WrittenJson::FromCbor(std::string cbor) {
  WrittenJson out;
  out.value_ = std::make_shared<Value>();
  out.value_->cbor = std::move(cbor);
  return out;
}

const nlohmann::json& WrittenJson::json() const {
  static const nlohmann::json kNull;
  if (!value_) return kNull;
  // The snapshot's checksum vouches for the bytes; damaged ones would read as discarded.
  std::call_once(value_->decoded, [this] { value_->json = nlohmann::json::from_cbor(value_->cbor, true, false); });
  return value_->json;
}

std::string WrittenJson::Cbor() const {
  if (value_ && !value_->cbor.empty()) return value_->cbor;
  std::vector<std::uint8_t> bytes = nlohmann::json::to_cbor(json());
  return std::string(bytes.begin(), bytes.end());
}

std::string Node::Text(const char* field) const {
  const nlohmann::json& fields = data.json();
  if (!fields.contains(field) || !fields.at(field).is_string()) return "";
  return fields.at(field).get<std::string>();
}

nlohmann::json Edge::ToJson() const {
  nlohmann::json out = {{"from", from}, {"type", std::string(EdgeTypeName(type))}, {"to", to},
                        {"sign", sign > 0 ? "+" : "-"}};
  if (weight) out["weight"] = *weight;
  if (type == EdgeType::kContraindicatedWith) out["severity"] = std::string(Name(severity));
  for (auto [key, value] : {std::pair{"role", &role}, {"alert", &alert},
                            {"evidence", &evidence}, {"certainty", &certainty}, {"note", &note}})
    if (!value->empty()) out[key] = *value;
  if (!unless.empty()) out["unless"] = unless;
  out["citations"] = citations;
  if (generated) out["generated"] = true;
  return out;
}

std::optional<int> Questionnaire::PositiveAt(Sex sex) const {
  const std::optional<int>& specific = sex == Sex::kFemale ? positive_at_female : positive_at_male;
  return specific ? specific : positive_at;
}

bool Citation::HasIdentifier() const {
  const nlohmann::json& fields = data.json();
  for (const char* field : {"pmid", "pmcid", "doi", "reactome", "isbn"})
    if (fields.contains(field) && fields[field].is_string() && !fields[field].get<std::string>().empty()) return true;
  return false;
}

bool Lab::UnitsInterchangeable() const {
  for (const std::string& unit : units) {
    Result<double> one = to_canonical->FromUnit(unit, 1);
    if (!one.ok() || std::abs(*one - 1) > 1e-9) return false;
  }
  return !units.empty();
}

std::string Citation::FormatData(const nlohmann::json& data) {
  auto field = [&](const char* name) {
    return data.contains(name) && data[name].is_string() ? data[name].get<std::string>() : std::string();
  };
  std::string text;
  for (const char* part : {"authors", "title", "source"}) {
    std::string value = field(part);
    if (value.empty()) continue;
    if (!text.empty()) text += text.back() == '.' ? " " : ". ";
    text += value;
  }
  if (!field("pmid").empty()) text += ". PMID " + field("pmid");
  if (!field("doi").empty()) text += ". doi:" + field("doi");
  if (!field("reactome").empty() && field("source").find(field("reactome")) == std::string::npos)
    text += ". Reactome " + field("reactome");
  return text;
}

namespace {

bool Matches(const LabRange& range, const Patient& patient) {
  if (range.sex && *range.sex != patient.sex) return false;
  if (range.age_min && !(patient.age_years && *patient.age_years >= *range.age_min)) return false;
  if (range.age_max && !(patient.age_years && *patient.age_years < *range.age_max)) return false;
  if (range.pregnant && *range.pregnant != patient.pregnant) return false;
  return true;
}

// A range whose `when` criteria hold is more specific than any without them.
int Specificity(const LabRange& range) {
  return 8 * static_cast<int>(range.when.size()) + (range.sex ? 4 : 0) + (range.pregnant ? 2 : 0) +
         (range.age_min ? 1 : 0) + (range.age_max ? 1 : 0);
}

// Every criterion holds; an empty list always holds, a missing test never does.
bool AllHold(const std::vector<Criterion>& when, const Lab::CriterionTest& holds) {
  if (when.empty()) return true;
  if (!holds) return false;
  return std::all_of(when.begin(), when.end(), [&](const Criterion& c) { return holds(c); });
}

const LabRange* MostSpecific(const std::vector<LabRange>& ranges, const Patient& patient,
                             const Lab::CriterionTest& holds) {
  const LabRange* best = nullptr;
  for (const auto& range : ranges)
    if (Matches(range, patient) && AllHold(range.when, holds) && (!best || Specificity(range) > Specificity(*best)))
      best = &range;
  return best;
}

}  // namespace

std::string_view LimitSideName(LimitSide side) { return side == LimitSide::kBelow ? "below" : "above"; }

const LabRange* Lab::ReferenceFor(const Patient& patient) const { return MostSpecific(reference, patient, nullptr); }
const LabRange* Lab::OptimalFor(const Patient& patient, const CriterionTest& holds) const {
  return MostSpecific(optimal, patient, holds);
}

const DecisionLimit* Lab::LimitFor(const Patient& patient, const CriterionTest& holds) const {
  const DecisionLimit* best = nullptr;
  auto specificity = [](const DecisionLimit& limit) { return 2 * static_cast<int>(limit.when.size()) + (limit.sex ? 1 : 0); };
  for (const auto& limit : decision_limits) {
    if (limit.sex && *limit.sex != patient.sex) continue;
    if (!AllHold(limit.when, holds)) continue;
    if (!best || specificity(limit) > specificity(*best)) best = &limit;
  }
  return best;
}

KnowledgeBase::KnowledgeBase() : graph_(std::make_unique<Graph>()) {}
KnowledgeBase::~KnowledgeBase() = default;

void KnowledgeBase::BuildIndexes() {
  loinc_index_.clear();
  size_t capacity = 16;
  while (capacity < 2 * nodes_.size()) capacity *= 2;  // at most half full: short probes
  id_slots_.assign(capacity, IdSlot{});
  graph_->adjacency = Graph::Adjacency(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const size_t hash = HashId(nodes_[i].id);
    for (size_t slot = hash & (capacity - 1);; slot = (slot + 1) & (capacity - 1)) {
      IdSlot& entry = id_slots_[slot];
      if (entry.position != 0 && nodes_[entry.position - 1].id == nodes_[i].id) break;  // the first keeps the id
      if (entry.position != 0) continue;
      entry = IdSlot{static_cast<uint32_t>(hash), static_cast<uint32_t>(i + 1)};
      break;
    }
    if (nodes_[i].lab && !nodes_[i].lab->loinc.empty()) loinc_index_.emplace(nodes_[i].lab->loinc, i);
  }
  for (size_t i = 0; i < edges_.size(); ++i) {
    std::optional<size_t> from = PositionOf(edges_[i].from), to = PositionOf(edges_[i].to);
    if (!from || !to) continue;
    boost::add_edge(*from, *to, i, graph_->adjacency);
  }
  auto edge_index = boost::get(boost::edge_index, graph_->adjacency);
  out_edges_ = in_edges_ = EdgeLists{};
  for (size_t i = 0; i < nodes_.size(); ++i) {
    out_edges_.begin.push_back(static_cast<uint32_t>(out_edges_.edges.size()));
    for (auto [e, end] = boost::out_edges(i, graph_->adjacency); e != end; ++e)
      out_edges_.edges.push_back(&edges_[edge_index[*e]]);
    in_edges_.begin.push_back(static_cast<uint32_t>(in_edges_.edges.size()));
    for (auto [e, end] = boost::in_edges(i, graph_->adjacency); e != end; ++e)
      in_edges_.edges.push_back(&edges_[edge_index[*e]]);
  }
  out_edges_.begin.push_back(static_cast<uint32_t>(out_edges_.edges.size()));
  in_edges_.begin.push_back(static_cast<uint32_t>(in_edges_.edges.size()));
  citation_by_key_.clear();
  for (const auto& [key, citation] : citations_) citation_by_key_.emplace(key, &citation);
  of_kind_.assign(static_cast<size_t>(NodeKind::kDerivedIndex) + 1, {});
  for (const Node& node : nodes_) of_kind_[static_cast<size_t>(node.kind)].push_back(&node);
  classes_.assign(nodes_.size(), {});
  std::vector<bool> in_a_class(nodes_.size(), false);  // has a member_of edge of its own
  for (const Edge& edge : edges_)
    if (edge.type == EdgeType::kMemberOf)
      if (std::optional<size_t> from = PositionOf(edge.from)) in_a_class[*from] = true;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!in_a_class[i]) continue;
    std::set<std::string> classes;
    std::deque<std::string_view> pending{nodes_[i].id};
    while (!pending.empty()) {
      const std::string_view current = pending.front();
      pending.pop_front();
      for (const Edge* edge : OutEdges(current)) {
        if (edge->type != EdgeType::kMemberOf || edge->to == nodes_[i].id) continue;
        if (classes.insert(edge->to).second) pending.push_back(edge->to);
      }
    }
    classes_[i].assign(classes.begin(), classes.end());
  }
}

const std::vector<std::string>& KnowledgeBase::ClassesOf(std::string_view id) const {
  static const std::vector<std::string> kNone;
  std::optional<size_t> position = PositionOf(id);
  return position ? classes_[*position] : kNone;
}

const std::vector<std::string>& KnowledgeBase::ClassesOf(const Node& node) const {
  return classes_[static_cast<size_t>(PositionOf(node))];
}

std::optional<size_t> KnowledgeBase::PositionOf(std::string_view id) const {
  if (id_slots_.empty()) return std::nullopt;
  const size_t hash = HashId(id);
  const size_t mask = id_slots_.size() - 1;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const IdSlot& entry = id_slots_[slot];
    if (entry.position == 0) return std::nullopt;
    if (entry.hash == static_cast<uint32_t>(hash) && SameId(nodes_[entry.position - 1].id, id)) return entry.position - 1;
  }
}

const Node* KnowledgeBase::Find(std::string_view id) const {
  std::optional<size_t> position = PositionOf(id);
  return position ? &nodes_[*position] : nullptr;
}

const Node* KnowledgeBase::FindLabByLoinc(std::string_view loinc) const {
  auto it = loinc_index_.find(loinc);
  return it == loinc_index_.end() ? nullptr : &nodes_[it->second];
}

const Citation* KnowledgeBase::FindCitation(std::string_view key) const {
  auto it = citation_by_key_.find(key);
  return it == citation_by_key_.end() ? nullptr : it->second;
}

std::optional<EvidenceGrade> KnowledgeBase::BestGrade(std::span<const std::string> keys) const {
  std::optional<EvidenceGrade> best;
  for (const auto& key : keys)
    if (const Citation* citation = FindCitation(key); citation && (!best || citation->grade < *best))
      best = citation->grade;  // kA < kB < kC: the enum is ordered best first
  return best;
}

bool KnowledgeBase::RestsOnlyOnUncertain(const std::vector<std::string>& keys) const {
  if (keys.empty()) return false;
  for (const auto& key : keys) {
    const Citation* citation = FindCitation(key);
    if (!citation || citation->verified != Verification::kUncertain) return false;
  }
  return true;
}

std::vector<std::string> KnowledgeBase::Ids() const {
  std::vector<std::string> ids;
  for (const auto& node : nodes_) ids.push_back(node.id);
  return ids;
}

std::vector<std::string> KnowledgeBase::IdsOfKind(NodeKind kind) const {
  std::vector<std::string> ids;
  for (const Node* node : NodesOfKind(kind)) ids.push_back(node->id);
  return ids;
}

const std::vector<const Node*>& KnowledgeBase::NodesOfKind(NodeKind kind) const {
  return of_kind_[static_cast<size_t>(kind)];
}

std::span<const Edge* const> KnowledgeBase::OutEdges(std::string_view id) const {
  std::optional<size_t> position = PositionOf(id);
  return position ? out_edges_.Of(*position) : std::span<const Edge* const>();
}

std::span<const Edge* const> KnowledgeBase::InEdges(std::string_view id) const {
  std::optional<size_t> position = PositionOf(id);
  return position ? in_edges_.Of(*position) : std::span<const Edge* const>();
}

Result<std::vector<InfluencePath>> KnowledgeBase::FindPaths(std::string_view from, std::string_view to,
                                                            const PathOptions& options, bool* truncated) const {
  for (auto id : {from, to})
    if (!Find(id)) return Status::NotFound("unknown node '" + std::string(id) + "'" + DidYouMean(id, Ids()));
  if (options.max_depth < 1) return Status::InvalidArgument("--max-depth must be at least 1");
  const size_t source = *PositionOf(from);
  const size_t target = *PositionOf(to);
  auto edge_index = boost::get(boost::edge_index, graph_->adjacency);

  // Depth-first enumeration of simple paths; a budget bounds the work on dense graphs.
  std::vector<InfluencePath> found;
  std::vector<const Edge*> stack;
  std::vector<bool> on_path(nodes_.size(), false);
  // Both bounds keep a dense graph's paths (exponential in the depth) to a fraction of a second.
  size_t budget = 200'000;
  constexpr size_t kMaxFound = 20'000;
  bool cut = false;
  std::function<void(size_t)> visit = [&](size_t vertex) {
    if (budget == 0 || found.size() >= kMaxFound) {
      cut = true;
      return;
    }
    --budget;
    if (vertex == target && !stack.empty()) {
      InfluencePath path{stack, 1};
      for (const Edge* edge : stack) path.net_sign *= edge->sign;
      found.push_back(std::move(path));
      return;
    }
    if (static_cast<int>(stack.size()) >= options.max_depth) return;
    on_path[vertex] = true;
    for (auto [e, end] = boost::out_edges(vertex, graph_->adjacency); e != end; ++e) {
      const Edge& edge = edges_[edge_index[*e]];
      if (!RuleFor(edge.type).influence) continue;
      size_t next = boost::target(*e, graph_->adjacency);
      if (on_path[next]) continue;
      stack.push_back(&edge);
      visit(next);
      stack.pop_back();
    }
    on_path[vertex] = false;
  };
  visit(source);

  auto text = [](const InfluencePath& path) {
    std::string key;
    for (const Edge* edge : path.edges) key += edge->from + ">" + std::string(EdgeTypeName(edge->type)) + ">" + edge->to + "|";
    return key;
  };
  std::vector<std::pair<std::string, size_t>> order;  // each path's text built once, not per comparison
  order.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) order.emplace_back(text(found[i]), i);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    const size_t a_size = found[a.second].edges.size(), b_size = found[b.second].edges.size();
    return a_size != b_size ? a_size < b_size : a.first < b.first;
  });
  std::vector<InfluencePath> sorted;
  sorted.reserve(found.size());
  for (const auto& entry : order) sorted.push_back(std::move(found[entry.second]));
  found = std::move(sorted);
  if (found.size() > options.max_paths) {
    found.resize(options.max_paths);
    cut = true;
  }
  if (truncated) *truncated = cut;
  return found;
}

nlohmann::json KnowledgeBase::ToJson() const {
  nlohmann::json out = {{"version", version_}, {"nodes", nlohmann::json::array()},
                        {"edges", nlohmann::json::array()}, {"citations", nlohmann::json::object()}};
  for (const auto& node : nodes_) out["nodes"].push_back(node.data.json());
  for (const auto& edge : edges_) out["edges"].push_back(edge.ToJson());
  for (const auto& [key, citation] : citations_) out["citations"][key] = citation.data.json();
  return out;
}

std::string KnowledgeBase::ToDot() const {
  auto escape = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  auto style = [](NodeKind kind) -> std::pair<const char*, const char*> {
    switch (kind) {
      case NodeKind::kNeurotransmitter: return {"doubleoctagon", "#f4a261"};
      case NodeKind::kPathway: return {"folder", "#e9c46a"};
      case NodeKind::kPathwayStep: return {"box", "#f1faee"};
      case NodeKind::kEnzyme: return {"ellipse", "#a8dadc"};
      case NodeKind::kTransporter: return {"cds", "#a8dadc"};
      case NodeKind::kReceptor: return {"invhouse", "#a8dadc"};
      case NodeKind::kCofactor: return {"hexagon", "#b7e4c7"};
      case NodeKind::kHormone: return {"octagon", "#ffafcc"};
      case NodeKind::kStressor: return {"diamond", "#ffb4a2"};
      case NodeKind::kLab: return {"note", "#ddd"};
      case NodeKind::kMedication: case NodeKind::kMedicationClass: return {"component", "#cdb4db"};
      case NodeKind::kStrategy: return {"parallelogram", "#caffbf"};
      case NodeKind::kDeficit: case NodeKind::kDriver: case NodeKind::kAlert: return {"tripleoctagon", "#ffd6a5"};
      default: return {"ellipse", "#ffffff"};
    }
  };
  std::string dot = "digraph knowledge {\n  graph [rankdir=LR, label=\"NeuroFlux knowledge " + version_ + "\"];\n"
                    "  node [style=filled, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (const auto& node : nodes_) {
    auto [shape, colour] = style(node.kind);
    dot += "  \"" + node.id + "\" [label=\"" + escape(node.label) + "\\n(" + std::string(KindName(node.kind)) +
           ")\", shape=" + shape + ", fillcolor=\"" + colour + "\"];\n";
  }
  for (const auto& edge : edges_) {
    dot += "  \"" + edge.from + "\" -> \"" + edge.to + "\" [label=\"" + std::string(EdgeTypeName(edge.type)) +
           (edge.sign > 0 ? " +" : " -") + "\", color=\"" + (edge.sign > 0 ? "#2a9d8f" : "#e63946") + "\"" +
           (edge.generated ? ", style=dashed" : "") + "];\n";
  }
  return dot + "}\n";
}

Result<std::vector<SourceFile>> ReadKnowledgeDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) return Status::NotFound(dir + ": knowledge directory not found");
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  auto relative = ListSourceFiles(dir, ".json");
  if (!relative.ok()) return relative.status();
  std::vector<SourceFile> files;
  for (const auto& path : *relative) {
    auto text = ReadFileToString(base + "/" + path, limits::kMaxSourceFileBytes);
    if (!text.ok()) return text.status();
    files.push_back(SourceFile{base + "/" + path, std::move(*text)});
  }
  return files;
}

LoadOutcome LoadKnowledge(const std::vector<SourceFile>& files) {
  LoadOutcome outcome;
  Builder builder(&outcome.problems);
  std::vector<Problem> syntax_errors;
  for (const auto& file : files)
    if (!builder.AddFile(file)) syntax_errors.push_back(outcome.problems.back());
  outcome.kb = builder.Finish();
  // A file that is not JSON leaves everything it defines undefined, and every reference to it
  // elsewhere would be reported as well: then the syntax errors alone are the problems.
  if (!syntax_errors.empty()) outcome.problems = std::move(syntax_errors);
  return outcome;
}

}  // namespace nflux::knowledge
