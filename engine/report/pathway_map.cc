// The HTML report's pictures, drawn from the knowledge graph and the case's flux indices: the
// pathway map and the flux bar chart, as inline SVG (no script, no external resource).
#include <algorithm>
#include <set>
#include <sstream>

#include "report/view.h"

namespace nflux::report::view {
namespace {

using knowledge::EdgeType;
using knowledge::KnowledgeBase;
using knowledge::NodeKind;

// One pathway step as the graph states it: substrate_of, produces and catalyzes edges.
struct Step {
  std::string id;
  std::vector<std::string> substrates, products, enzymes;
  bool Converts(const std::string& from, const std::string& to) const {
    return from != to && std::count(substrates.begin(), substrates.end(), from) &&
           std::count(products.begin(), products.end(), to);
  }
};

std::vector<std::string> Ends(std::span<const knowledge::Edge* const> edges, EdgeType type, bool from) {
  std::vector<std::string> out;
  for (const auto* edge : edges)
    if (edge->type == type) out.push_back(from ? edge->from : edge->to);
  return out;
}

std::vector<Step> StepsOf(const KnowledgeBase& kb, const std::string& pathway) {
  std::vector<Step> steps;
  for (const auto* edge : kb.InEdges(pathway)) {
    const knowledge::Node* node = kb.Find(edge->from);
    if (edge->type != EdgeType::kPartOf || !node || node->kind != NodeKind::kPathwayStep) continue;
    steps.push_back({edge->from, Ends(kb.InEdges(edge->from), EdgeType::kSubstrateOf, true),
                     Ends(kb.OutEdges(edge->from), EdgeType::kProduces, false),
                     Ends(kb.InEdges(edge->from), EdgeType::kCatalyzes, true)});
  }
  return steps;
}

// A row of the map: the molecules from precursor to metabolite and the step between each two.
struct Row {
  std::string transmitter;
  std::vector<std::string> molecules;  // precursor ... transmitter [metabolite]
  std::vector<const Step*> steps;      // steps[i] converts molecules[i] to molecules[i + 1]
  size_t transmitter_at = 0;
  std::vector<Step> storage;           // owns the steps pointed to
};

// The pathway whose synthesis ends in `transmitter`: a step of it makes the transmitter from
// something else, and no step of it turns the transmitter into another transmitter.
std::vector<Step> PathwayEndingIn(const KnowledgeBase& kb, const std::string& transmitter) {
  std::vector<Step> fallback;
  for (const auto& pathway : kb.IdsOfKind(NodeKind::kPathway)) {
    std::vector<Step> steps = StepsOf(kb, pathway);
    bool makes = false, passes_on = false;
    for (const auto& step : steps) {
      for (const auto& substrate : step.substrates) makes |= step.Converts(substrate, transmitter);
      for (const auto& product : step.products) {
        const knowledge::Node* node = kb.Find(product);
        passes_on |= step.Converts(transmitter, product) && node && node->kind == NodeKind::kNeurotransmitter;
      }
    }
    if (makes && !passes_on) return steps;
    if (makes && fallback.empty()) fallback = std::move(steps);
  }
  return fallback;
}

Row RowFor(const KnowledgeBase& kb, const std::string& transmitter) {
  Row row;
  row.transmitter = transmitter;
  row.storage = PathwayEndingIn(kb, transmitter);
  std::vector<std::string> chain = {transmitter};
  std::vector<const Step*> steps;
  for (int depth = 0; depth < 5; ++depth) {  // back to the precursor
    const Step* found = nullptr;
    for (const auto& step : row.storage)
      for (const auto& substrate : step.substrates)
        if (!found && step.Converts(substrate, chain.front()) && !std::count(chain.begin(), chain.end(), substrate)) {
          found = &step;
          chain.insert(chain.begin(), substrate);
        }
    if (!found) break;
    steps.insert(steps.begin(), found);
  }
  row.transmitter_at = chain.size() - 1;
  for (const auto& step : row.storage)  // on to the first metabolite
    for (const auto& product : step.products)
      if (chain.size() == row.transmitter_at + 1 && step.Converts(transmitter, product)) {
        chain.push_back(product);
        steps.push_back(&step);
      }
  row.molecules = std::move(chain);
  row.steps = std::move(steps);
  return row;
}

// Where each driver found acts on the graph: node id -> the drivers' labels.
std::map<std::string, std::vector<std::string>> DriverMarks(const View& view, const KnowledgeBase& kb) {
  std::map<std::string, std::vector<std::string>> marks;
  for (const auto& driver : view.drivers)
    for (const auto* edge : kb.OutEdges(driver.id))
      if (edge->type != EdgeType::kIndicates) marks[edge->to].push_back(driver.label + " (" + driver.level + ")");
  return marks;
}

// "TPH2" for tph2, "MAO-A" for mao_a: the enzyme names a reader knows.
std::string EnzymeName(std::string id) {
  for (auto& ch : id) ch = ch == '_' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return id;
}

// What a box of `chars` columns shows of a node: its label when it fits, else the abbreviation its
// label's closing gloss gives ("BH4" for "Tetrahydrobiopterin (BH4)"), else the label (cut by the
// box). The box's title keeps the whole label.
std::string FittingName(const KnowledgeBase& kb, const std::string& id, size_t chars) {
  std::string label = Label(kb, id);
  const knowledge::Node* node = kb.Find(id);
  if (label.size() <= chars || !node) return label;
  const std::string& full = node->label;
  const size_t open = full.rfind(" (");
  if (open == std::string::npos || !full.ends_with(')')) return label;
  std::string gloss = full.substr(open + 2, full.size() - open - 3);
  return !gloss.empty() && gloss.size() <= chars && gloss.find('(') == std::string::npos ? gloss : label;
}

std::string Title(const std::string& text) { return "<title>" + HtmlEscape(text) + "</title>"; }

constexpr int kCharWidth = 7;  // an average character of the map's font, in pixels

struct Canvas {
  explicit Canvas(const std::map<std::string, std::vector<std::string>>& driver_marks) : marks(driver_marks) {}
  std::ostringstream svg;
  const std::map<std::string, std::vector<std::string>>& marks;
  std::set<std::string> marked;  // drivers' targets drawn

  std::string MarkTitle(const std::string& id, const std::string& label) {
    auto it = marks.find(id);
    if (it == marks.end()) return Title(label);
    marked.insert(id);
    std::string text = label + ": driver found: ";
    for (size_t i = 0; i < it->second.size(); ++i) text += (i ? ", " : "") + it->second[i];
    return Title(text);
  }
  // A box showing `shown` (cut to fit), titled with its label; a driver's target gets a red border
  // and a "!" badge.
  void Box(const std::string& id, const std::string& label, const std::string& shown, const std::string& fill, int x,
           int y, int w, int h, const std::string& cls) {
    const bool mark = marks.count(id) > 0;
    svg << "<g class=\"" << cls << (mark ? " driver-target" : "") << "\">" << MarkTitle(id, label) << "<rect x=\"" << x
        << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << h << R"(" rx="6" fill=")" << fill
        << "\" stroke=\"" << (mark ? "#b00020" : "#555") << "\" stroke-width=\"" << (mark ? 3 : 1) << "\"/>"
        << "<text x=\"" << x + w / 2 << "\" y=\"" << y + h / 2 + 4 << R"(" text-anchor="middle">)"
        << HtmlEscape(Clip(shown, static_cast<size_t>(w / kCharWidth))) << "</text>";
    if (mark)
      svg << "<circle cx=\"" << x + w - 2 << "\" cy=\"" << y + 2 << R"(" r="8" fill="#b00020"/><text x=")" << x + w - 2
          << "\" y=\"" << y + 6 << R"(" text-anchor="middle" fill="#fff" font-weight="bold">!</text>)";
    svg << "</g>";
  }
};

constexpr int kColumn = 250, kBoxWidth = 120, kRowHeight = 150;

double IndexOf(const FluxRow* flux, const char* index) {
  if (!flux || !flux->values.count(index)) return 1.0;
  return flux->values.at(index);
}

// The arrow of one step with its enzymes above and their cofactors below, coloured by `index`.
void DrawStep(Canvas& c, const KnowledgeBase& kb, const Step& step, int x, int y, double index) {
  const int x1 = x + kBoxWidth, x2 = x + kColumn;
  c.svg << "<line x1=\"" << x1 << "\" y1=\"" << y + 18 << "\" x2=\"" << x2 - 4 << "\" y2=\"" << y + 18
        << "\" stroke=\"#444\" stroke-width=\"2\" marker-end=\"url(#arrow)\"/>";
  std::vector<std::string> cofactors;
  for (size_t i = 0; i < step.enzymes.size() && i < 2; ++i) {
    c.Box(step.enzymes[i], EnzymeName(step.enzymes[i]), EnzymeName(step.enzymes[i]), FluxColor(index),
          x1 + 8 + static_cast<int>(i) * 58, y - 12, 52, 22, "enzyme");
    for (const auto& cofactor : Ends(kb.InEdges(step.enzymes[i]), EdgeType::kCofactorOf, true))
      if (!std::count(cofactors.begin(), cofactors.end(), cofactor)) cofactors.push_back(cofactor);
  }
  for (size_t i = 0; i < cofactors.size() && i < 3; ++i)
    c.Box(cofactors[i], Label(kb, cofactors[i]), FittingName(kb, cofactors[i], 110 / kCharWidth), "#eef", x1 + 8,
          y + 28 + static_cast<int>(i) * 20, 110, 17, "cofactor");
}

void DrawRow(Canvas& c, const KnowledgeBase& kb, const Row& row, const FluxRow* flux, int top) {
  c.svg << R"(<text class="row-title" x="8" y=")" << top + 14 << "\">"
        << HtmlEscape(Label(kb, row.transmitter) + ": level " + Number(IndexOf(flux, "level")) + ", synthesis " +
                      Number(IndexOf(flux, "synthesis")) + ", breakdown " + Number(IndexOf(flux, "breakdown")))
        << "</text>";
  const int y = top + 52;
  for (size_t i = 0; i < row.molecules.size(); ++i) {
    const int x = 8 + static_cast<int>(i) * kColumn;
    const char* index = i < row.transmitter_at ? "synthesis" : i == row.transmitter_at ? "level" : "breakdown";
    c.Box(row.molecules[i], Label(kb, row.molecules[i]), FittingName(kb, row.molecules[i], kBoxWidth / kCharWidth),
          FluxColor(IndexOf(flux, index)), x, y, kBoxWidth, 36, i == row.transmitter_at ? "transmitter" : "molecule");
    if (i < row.steps.size())
      DrawStep(c, kb, *row.steps[i], x, y, IndexOf(flux, i < row.transmitter_at ? "synthesis" : "breakdown"));
  }
}

// Every driver found, and where on the map it acts (or that it acts elsewhere).
std::string Legend(const View& view, const std::map<std::string, std::vector<std::string>>& marks,
                   const std::set<std::string>& marked, const KnowledgeBase& kb) {
  std::ostringstream out;
  out << "<ul class=\"legend\">";
  for (const auto& driver : view.drivers) {
    std::vector<std::string> targets;
    for (const auto* edge : kb.OutEdges(driver.id))
      if (marked.count(edge->to) && !std::count(targets.begin(), targets.end(), Label(kb, edge->to)))
        targets.push_back(Label(kb, edge->to));
    std::string where;
    for (size_t i = 0; i < targets.size(); ++i) where += (i ? ", " : "") + targets[i];
    out << "<li><span class=\"badge\">!</span> " << HtmlEscape(driver.label) << " (" << HtmlEscape(driver.level)
        << "): " << (where.empty() ? "acts outside the pathways drawn" : "marked on " + HtmlEscape(where)) << "</li>";
  }
  out << R"(<li><span class="swatch" style="background:)" << FluxColor(0.7) << "\"></span> below 0.8 "
      << R"(<span class="swatch" style="background:)" << FluxColor(0.9) << "\"></span> 0.8-0.95 "
      << R"(<span class="swatch" style="background:)" << FluxColor(1.0) << "\"></span> 0.95-1.05 "
      << R"(<span class="swatch" style="background:)" << FluxColor(1.2) << "\"></span> above 1.05 "
      << "(precursors by synthesis, transmitter by level, metabolite by breakdown)</li></ul>";
  (void)marks;
  return out.str();
}

}  // namespace

std::string FluxColor(double value) {
  if (value < 0.8) return "#f4a6a6";
  if (value < 0.95) return "#fbd38d";
  if (value <= 1.05) return "#b7e4c7";
  return "#a8d0f0";
}

std::string PathwayMapHtml(const View& view, const KnowledgeBase& kb) {
  const auto marks = DriverMarks(view, kb);
  Canvas canvas(marks);
  int top = 0, width = 0;
  for (const auto& flux : view.flux) {
    Row row = RowFor(kb, flux.id);
    if (row.molecules.size() < 2) continue;
    DrawRow(canvas, kb, row, &flux, top);
    width = std::max(width, 16 + static_cast<int>(row.molecules.size() - 1) * kColumn + kBoxWidth);
    top += kRowHeight;
  }
  if (top == 0) return "<p>No pathway of the knowledge base matches the case's flux indices.</p>";
  std::ostringstream out;
  out << R"(<svg class="pathway-map" viewBox="0 0 )" << width << " " << top
      << "\" role=\"img\" aria-label=\"Pathway map\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" "
         "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
         "fill=\"#444\"/></marker></defs>"
      << canvas.svg.str() << "</svg>" << Legend(view, marks, canvas.marked, kb);
  return out.str();
}

std::string FluxBarsSvg(const View& view) {
  constexpr int kLabel = 150, kScale = 300, kBar = 22;  // 1.0 is kScale px; bars stop at 1.5
  std::ostringstream svg;
  const int height = static_cast<int>(view.flux.size()) * kBar + 24;
  svg << R"(<svg class="flux-bars" viewBox="0 0 )" << kLabel + kScale * 3 / 2 + 60
      << " " << height << R"(" role="img" aria-label="Flux level per transmitter">)";
  int y = 4;
  for (const auto& row : view.flux) {
    const double level = row.values.count("level") ? row.values.at("level") : 1.0;
    const int w = static_cast<int>(std::clamp(level, 0.0, 1.5) * kScale);
    svg << "<text x=\"" << kLabel - 6 << "\" y=\"" << y + 14 << R"(" text-anchor="end">)" << HtmlEscape(row.label)
        << "</text><rect x=\"" << kLabel << "\" y=\"" << y + 3 << "\" width=\"" << w << "\" height=\"" << kBar - 6
        << "\" fill=\"" << FluxColor(level) << R"(" stroke="#555"/><text x=")" << kLabel + w + 4 << "\" y=\"" << y + 14
        << "\">" << Number(level) << "</text>";
    y += kBar;
  }
  svg << "<line x1=\"" << kLabel + kScale << R"(" y1="0" x2=")" << kLabel + kScale << "\" y2=\"" << y
      << R"(" stroke="#000" stroke-dasharray="4 3"/><text x=")" << kLabel + kScale << "\" y=\"" << y + 14
      << R"(" text-anchor="middle">1.0 (healthy reference)</text></svg>)";
  return svg.str();
}

}  // namespace nflux::report::view
