// Trend charts of a patient's course over the visits: inline SVG drawn here (no chart library, no
// network), one small chart per measure, each with a text alternative that lists its values.
#include <algorithm>
#include <cmath>

#include "base/text.h"
#include "report/view.h"
#include "webapp/pages.h"

namespace nflux::webapp {
namespace {

using report::view::HtmlEscape;

// SVG user units; the chart scales with its box (viewBox), so it stays sharp at any zoom.
constexpr double kWidth = 320, kHeight = 140, kLeft = 52, kRight = 14, kTop = 12, kBottom = 30;

std::string Coordinate(double v) { return FormatNumber(std::round(v * 10) / 10, 6); }

// The vertical range: deficit certainties on 0..1; flux indices always show the reference 1; a flat
// series gets a band around its value.
std::pair<double, double> Range(const audit::HistoryRow& row) {
  if (row.kind == "deficit") return {0.0, 1.0};
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& cell : row.cells)
    if (cell.present) lo = std::min(lo, cell.value), hi = std::max(hi, cell.value);
  if (row.kind == "flux") lo = std::min(lo, 1.0), hi = std::max(hi, 1.0);
  const double pad = hi - lo < 1e-9 ? std::max(std::fabs(hi) * 0.1, 0.1) : (hi - lo) * 0.1;
  return {lo - pad, hi + pad};
}

std::string Chart(const audit::HistoryRow& row, const std::vector<audit::Visit>& visits, int number) {
  const std::string name = row.kind + " " + row.id + (row.unit.empty() ? "" : " (" + row.unit + ")");
  const auto range = Range(row);
  const double lo = range.first, hi = range.second;
  const size_t n = visits.size();
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x = [&](size_t i) { return kLeft + (n < 2 ? plot_w / 2 : plot_w * static_cast<double>(i) / static_cast<double>(n - 1)); };
  auto y = [&](double v) { return kTop + (hi - v) / (hi - lo) * plot_h; };
  const std::string id = "chart-" + std::to_string(number);

  std::string description;  // the values in words, for a screen reader and the figure's caption
  std::string last;
  for (size_t i = 0; i < n; ++i) {
    const auto& cell = row.cells[i];
    description += (i ? "; " : "") + std::string("visit ") + std::to_string(visits[i].version) + ": " +
                   (cell.present ? cell.shown : std::string("not measured"));
    if (cell.present) last = cell.shown + (cell.change.empty() ? "" : " (" + cell.change + ")");
  }
  std::string svg = "<figure class='chart'><svg viewBox='0 0 " + Coordinate(kWidth) + " " + Coordinate(kHeight) +
                    "' role='img' aria-labelledby='" + id + "-title " + id + "-desc'><title id='" + id + "-title'>" +
                    HtmlEscape(name) + "</title><desc id='" + id + "-desc'>" + HtmlEscape(description) + "</desc>";
  // Axes, the range's ends, the visits.
  svg += "<path class='axis' d='M" + Coordinate(kLeft) + " " + Coordinate(kTop) + "V" + Coordinate(kTop + plot_h) + "H" +
         Coordinate(kLeft + plot_w) + "'/>";
  svg += "<text class='tick' x='" + Coordinate(kLeft - 4) + "' y='" + Coordinate(kTop + 4) + "' text-anchor='end'>" +
         FormatNumber(hi, 3) + "</text><text class='tick' x='" + Coordinate(kLeft - 4) + "' y='" +
         Coordinate(kTop + plot_h) + "' text-anchor='end'>" + FormatNumber(lo, 3) + "</text>";
  for (size_t i = 0; i < n; ++i)
    svg += "<text class='tick' x='" + Coordinate(x(i)) + "' y='" + Coordinate(kHeight - 10) + "' text-anchor='middle'>v" +
           std::to_string(visits[i].version) + "</text>";
  if (row.kind == "flux")  // the healthy reference
    svg += "<path class='reference' d='M" + Coordinate(kLeft) + " " + Coordinate(y(1.0)) + "H" +
           Coordinate(kLeft + plot_w) + "'/>";
  // The line through consecutive measured visits (a gap where a visit has no value), and the points.
  std::string line;
  bool drawing = false;
  for (size_t i = 0; i < n; ++i) {
    if (!row.cells[i].present) {
      drawing = false;
      continue;
    }
    line += (drawing ? "L" : "M") + Coordinate(x(i)) + " " + Coordinate(y(row.cells[i].value));
    drawing = true;
  }
  if (!line.empty()) svg += "<path class='series' d='" + line + "'/>";
  for (size_t i = 0; i < n; ++i) {
    const auto& cell = row.cells[i];
    if (!cell.present) continue;
    svg += "<circle class='point' cx='" + Coordinate(x(i)) + "' cy='" + Coordinate(y(cell.value)) + "' r='3.5'><title>visit " +
           std::to_string(visits[i].version) + (visits[i].visit_date.empty() ? "" : " (" + HtmlEscape(visits[i].visit_date) + ")") +
           ": " + HtmlEscape(cell.shown) + (cell.entered.empty() ? "" : ", entered as " + HtmlEscape(cell.entered)) +
           "</title></circle>";
  }
  svg += "</svg><figcaption>" + HtmlEscape(row.id) + (row.unit.empty() ? "" : " (" + HtmlEscape(row.unit) + ")") +
         ": " + HtmlEscape(last.empty() ? "not measured" : last) + "</figcaption></figure>";
  return svg;
}

// A flux index is worth a chart when it stands away from the reference or moves between visits.
bool FluxWorthShowing(const audit::HistoryRow& row) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& cell : row.cells)
    if (cell.present) lo = std::min(lo, cell.value), hi = std::max(hi, cell.value);
  return hi >= lo && (std::fabs(lo - 1) >= 0.05 || std::fabs(hi - 1) >= 0.05 || hi - lo >= 0.01);
}

}  // namespace

std::string TrendCharts(const audit::CaseCourse& course) {
  if (course.visits.size() < 2)
    return "<p class='hint'>Trends are drawn from the second visit on; this patient has one.</p>";
  const std::pair<const char*, const char*> groups[] = {
      {"lab", "Labs"}, {"questionnaire", "Questionnaire totals"}, {"deficit", "Deficit certainty"}, {"flux", "Flux indices"}};
  std::string out;
  int number = 0;
  for (const auto& [kind, title] : groups) {
    std::string charts;
    for (const auto& row : course.rows)
      if (row.kind == kind && (row.kind != "flux" || FluxWorthShowing(row))) charts += Chart(row, course.visits, ++number);
    if (charts.empty()) continue;
    out += "<h3>" + std::string(title) + "</h3>";
    if (std::string_view(kind) == "flux")
      out += "<p class='hint'>The indices that stand away from the healthy reference (1, dashed) or move; the others stay near it.</p>";
    out += "<div class='charts'>" + charts + "</div>";
  }
  std::string notes;
  for (size_t v = 1; v < course.notes.size() && v < course.visits.size(); ++v)
    if (!course.notes[v].empty())
      notes += "<li>Visit " + std::to_string(course.visits[v].version) + ": " + HtmlEscape(Join(course.notes[v], "; ")) + "</li>";
  if (!notes.empty()) out += "<h3>What appeared and went</h3><ul>" + notes + "</ul>";
  return out;
}

}  // namespace nflux::webapp
