// The HTML report: one self-contained page (inline CSS and SVG, one line of inline script that
// opens the explanations for printing, no network), the summary first, then the pathway map, the
// flux chart and the details; every string from the case or the knowledge base is escaped.
#include <sstream>

#include "report/report.h"
#include "report/view.h"

namespace nflux::report {
namespace {

using view::HtmlEscape;
using view::View;

constexpr const char* kStyle = R"css(
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; }
body { max-width: 1100px; margin: 0 auto; padding: 16px 24px; line-height: 1.4; }
h1 { font-size: 1.5em; margin: 0 0 4px; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
.meta { color: #555; font-size: .9em; margin: 0; }
.alert { border-left: 5px solid #888; padding: 4px 10px; margin: 6px 0; background: #f6f6f6; }
.sev-urgent, .sev-high { border-color: #b00020; background: #fdecee; } .sev-caution { border-color: #c77700; background: #fff6e5; }
.none { color: #2d6a4f; }
table { border-collapse: collapse; width: 100%; font-size: .92em; margin: 4px 0; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
.why { color: #444; } .id { color: #777; font-family: ui-monospace, monospace; font-size: .85em; }
.verdict-caution { color: #9a5b00; font-weight: 600; } .blocked { color: #b00020; font-weight: 600; }
details { border: 1px solid #ddd; border-radius: 4px; padding: 4px 10px; margin: 6px 0; }
summary { cursor: pointer; font-weight: 600; }
.against { color: #7a3e00; } .cite { color: #555; font-size: .85em; }
svg { width: 100%; height: auto; font-size: 11px; } svg .row-title { font-weight: 600; font-size: 12px; }
.legend { list-style: none; padding: 0; font-size: .9em; } .legend li { margin: 2px 0; }
.badge { display: inline-block; width: 16px; height: 16px; border-radius: 8px; background: #b00020; color: #fff;
  text-align: center; font-weight: bold; font-size: 12px; line-height: 16px; }
.swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid #555; vertical-align: middle; }
ol.citations { font-size: .88em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; } .alert, tr, details, li { break-inside: avoid; }
  details { border: none; padding: 0; } summary { list-style: none; }
  svg { max-height: 240mm; }
}
)css";

std::string Tag(const char* tag, const std::string& text, const std::string& cls = "") {
  return std::string("<") + tag + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + HtmlEscape(text) + "</" + tag + ">";
}

std::string Refs(const std::vector<int>& numbers) {
  std::string refs = view::CitationRefs(numbers);
  if (refs.empty()) return refs;
  std::string out = " <span class=\"cite\">";
  out += HtmlEscape(refs);
  out += "</span>";
  return out;
}

void Head(const View& v, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << R"(<meta name="viewport" content="width=device-width, initial-scale=1">)"
      << "<title>" << HtmlEscape("NeuroFlux report: " + v.case_id) << "</title><style>" << kStyle << "</style>"
      << "<script>window.addEventListener('beforeprint', function () {"
         " document.querySelectorAll('details').forEach(function (d) { d.open = true; }); });</script>"
      << "</head><body>\n<header>" << Tag("h1", "NeuroFlux report: " + v.case_id)
      << Tag("p", "Decision support for a qualified practitioner; not a diagnosis. " + v.versions, "meta");
  for (const auto& item : v.overrides) out << Tag("p", "Override (not from the case or the models): " + item, "alert sev-caution");
  out << "</header>\n";
}

void SummaryAlerts(const View& v, std::ostream& out) {
  out << "<section id=\"summary\"><h2>Summary</h2><h3>Red flags</h3>";
  if (v.alerts.empty()) out << Tag("p", "None raised.", "none");
  for (const auto& a : v.alerts)
    out << "<div class=\"alert sev-" << HtmlEscape(a.severity) << "\"><strong>" << HtmlEscape(a.severity) << ": "
        << HtmlEscape(a.label) << "</strong> " << HtmlEscape(a.message) << Refs(a.citations) << "</div>";
  if (!v.quality.empty()) out << "<h3>Data quality</h3><ul>";
  for (const auto& q : v.quality)
    out << "<li>" << Tag("strong", q.severity) << " " << Tag("span", q.path, "id") << " " << HtmlEscape(q.message) << "</li>";
  if (!v.quality.empty()) out << "</ul>";
  out << "<h3>Root causes found</h3>";
  if (v.drivers.empty()) out << Tag("p", "None.");
  else out << "<ul>";
  for (size_t i = 0; i < v.drivers.size() && i < v.limits.drivers; ++i)
    out << "<li>" << Tag("strong", v.drivers[i].label) << " " << HtmlEscape(v.drivers[i].level) << " "
        << view::Number(v.drivers[i].certainty) << "</li>";
  if (!v.drivers.empty()) out << "</ul>";
}

void SummaryConclusions(const View& v, std::ostream& out) {
  out << "<h3>Top deficits</h3>";
  if (v.deficits.empty()) out << Tag("p", "None concluded.", "none");
  else out << "<table class=\"deficits\"><tr><th>#</th><th>deficit</th><th>certainty</th><th>why</th></tr>";
  for (size_t i = 0; i < v.deficits.size() && i < v.limits.deficits; ++i) {
    const auto& d = v.deficits[i];
    out << "<tr><td>" << d.rank << "</td>" << Tag("td", d.label) << Tag("td", d.level + " " + view::Number(d.certainty))
        << Tag("td", d.why, "why") << "</tr>";
  }
  if (!v.deficits.empty()) out << "</table>";
  out << "<h3>Top strategies</h3>";
  if (v.strategies.empty()) out << Tag("p", "None suggested.");
  else out << "<table><tr><th>#</th><th>strategy</th><th>verdict</th><th>why</th></tr>";
  for (size_t i = 0; i < v.strategies.size() && i < v.limits.strategies; ++i) {
    const auto& s = v.strategies[i];
    out << "<tr><td>" << s.rank << "</td>" << Tag("td", s.label + " (" + s.kind + ")")
        << Tag("td", s.verdict, s.cautions.empty() ? "" : "verdict-caution") << Tag("td", s.why, "why") << "</tr>";
  }
  if (!v.strategies.empty()) out << "</table>";
  if (!v.blocked.empty()) out << "<h3>Blocked by safety</h3><ul>";
  for (const auto& b : v.blocked)
    out << "<li>" << Tag("span", b.label + (b.how.empty() ? "" : " (" + b.how + ")"), "blocked") << ": "
        << HtmlEscape(b.summary) << "</li>";
  if (!v.blocked.empty()) out << "</ul>";
  const auto requested = view::NotBlocked(v.requested);
  if (!requested.empty()) out << "<h3>Requested or taken</h3><ul>";
  for (size_t i = 0; i < requested.size() && i < v.limits.requested; ++i)
    out << "<li>" << HtmlEscape(requested[i]->label + " (" + requested[i]->how + "): ")
        << Tag("span", requested[i]->verdict, requested[i]->summary.empty() ? "" : "verdict-caution")
        << HtmlEscape(requested[i]->summary.empty() ? "" : ": " + requested[i]->summary) << "</li>";
  if (!requested.empty()) out << "</ul>";
  if (!v.next_tests.empty()) out << "<h3>Next tests to order</h3><ul>";
  for (size_t i = 0; i < v.next_tests.size() && i < v.limits.next_tests; ++i)
    out << "<li>" << Tag("strong", v.next_tests[i].label) << (v.next_tests[i].basic ? " (basic work-up)" : "") << ": "
        << HtmlEscape(v.next_tests[i].why) << "</li>";
  if (!v.next_tests.empty()) out << "</ul>";
  out << "</section>\n";
}

void Pictures(const View& v, const knowledge::KnowledgeBase& kb, std::ostream& out) {
  out << "<section id=\"map\"><h2>Pathway map</h2>" << view::PathwayMapHtml(v, kb) << "</section>\n";
  if (v.flux.empty()) return;
  out << "<section id=\"flux\"><h2>Flux level per transmitter</h2>" << view::FluxBarsSvg(v)
      << "<table><tr><th>transmitter</th>";
  for (const auto& index : view::kFluxIndices) out << Tag("th", index);
  out << "<th>assumed normal (not measured)</th></tr>";
  for (const auto& row : v.flux) {
    out << "<tr>" << Tag("td", row.label);
    for (const auto& index : view::kFluxIndices)
      out << Tag("td", row.values.count(index) ? view::Number(row.values.at(index)) : "");
    std::string assumed;
    for (const auto& input : row.assumed) assumed += (assumed.empty() ? "" : ", ") + input;
    out << Tag("td", assumed, "why") << "</tr>";
  }
  out << "</table></section>\n";
}

void EvidenceList(const std::vector<view::Evidence>& evidence, std::ostream& out) {
  out << "<ul>";
  for (const auto& e : evidence)
    out << "<li" << (e.against ? " class=\"against\"" : "") << ">" << (e.against ? "against: " : "") << HtmlEscape(e.text)
        << " " << Tag("span", "rule " + e.rule + (e.grade.empty() ? "" : ", grade " + e.grade), "id")
        << Refs({e.citation}) << "</li>";
  out << "</ul>";
}

void DetailConclusions(const View& v, std::ostream& out) {
  out << "<section id=\"details\"><h2>Deficits and their explanations</h2>";
  if (v.deficits.empty()) out << Tag("p", "None concluded.");
  for (const auto& d : v.deficits) {
    out << R"(<details class="deficit" data-id=")" << HtmlEscape(d.id) << "\"><summary>" << d.rank << ". "
        << HtmlEscape(d.label) << ": " << HtmlEscape(d.level) << " " << view::Number(d.certainty) << "</summary>";
    std::string drivers;
    for (const auto& [label, weight] : d.drivers) drivers += (drivers.empty() ? "" : ", ") + label + " " + view::Number(weight);
    if (!drivers.empty()) out << Tag("p", "Drivers: " + drivers);
    if (!d.calibration.empty()) out << Tag("p", d.calibration, "why");
    EvidenceList(d.evidence, out);
    out << Tag("p", "[" + d.id + "]", "id") << "</details>";
  }
  if (!v.drivers.empty()) out << "<h2>Root causes</h2>";
  for (const auto& d : v.drivers) {
    std::string feeds;
    for (const auto& deficit : d.feeds) feeds += (feeds.empty() ? "; feeds " : ", ") + deficit;
    out << "<details><summary>" << HtmlEscape(d.label + ": " + d.level + " " + view::Number(d.certainty) + feeds)
        << "</summary>";
    EvidenceList(d.evidence, out);
    out << "</details>";
  }
}

void DetailStrategies(const View& v, std::ostream& out) {
  if (!v.strategies.empty()) out << "<h2>Strategies</h2>";
  for (const auto& s : v.strategies) {
    out << "<details><summary>" << s.rank << ". " << HtmlEscape(s.label + " (" + s.kind + "): " + s.verdict)
        << "</summary>" << Tag("p", s.why) << Tag("p", "Ranking: score " + view::Number(s.score) + "; " + s.rank_reason, "why");
    std::string effects;
    for (const auto& effect : s.effects) effects += (effects.empty() ? "" : ", ") + effect;
    if (!effects.empty()) out << Tag("p", "Predicted: " + effects);
    for (const auto& caution : s.cautions) out << Tag("p", "Caution: " + caution, "verdict-caution");
    out << "<p class=\"cite\">" << HtmlEscape("[" + s.id + "]") << Refs(s.citations) << "</p></details>";
  }
  if (!v.blocked.empty()) out << "<h2>Blocked by safety</h2>";
  for (const auto& b : v.blocked) {
    out << "<h3>" << HtmlEscape(b.label + (b.how.empty() ? "" : " (" + b.how + ")")) << " "
        << Tag("span", "[" + b.id + "]", "id") << "</h3><ul>";
    for (const auto& r : b.reasons) out << "<li>" << HtmlEscape(r.severity + ": " + r.text) << Refs({r.citation}) << "</li>";
    out << "</ul>";
  }
  if (!v.requested.empty()) out << "<h2>Requested supplements</h2><ul>";
  for (const auto& r : v.requested) out << "<li>" << HtmlEscape(r.label + ": " + r.verdict) << "</li>";
  if (!v.requested.empty()) out << "</ul>";
}

void DetailData(const View& v, std::ostream& out) {
  if (!v.questionnaires.empty()) out << "<h2>Questionnaires</h2><ul>";
  for (const auto& q : v.questionnaires) out << "<li>" << Tag("strong", q.label) << " " << HtmlEscape(q.text) << "</li>";
  if (!v.questionnaires.empty()) out << "</ul>";
  if (!v.labs.empty() || !v.derived.empty())
    out << "<h2>Labs</h2><table><tr><th>test</th><th>value</th><th>as entered</th><th>status</th><th>reference</th>"
           "<th>optimal</th><th>decision limit</th></tr>";
  for (const auto& l : v.labs)
    out << "<tr>" << Tag("td", l.label) << Tag("td", l.value) << Tag("td", l.entered) << Tag("td", l.status)
        << Tag("td", l.reference) << Tag("td", l.optimal) << Tag("td", l.decision) << "</tr>";
  for (const auto& d : v.derived)
    out << "<tr>" << Tag("td", d.label + " (derived)") << Tag("td", d.value) << "<td></td>" << Tag("td", d.status)
        << "<td></td><td></td><td></td></tr>";
  if (!v.labs.empty() || !v.derived.empty()) out << "</table>";
  if (!v.next_tests.empty()) out << "<h2>Next tests</h2><ul>";
  for (const auto& t : v.next_tests)
    out << "<li>" << Tag("strong", t.label) << " " << Tag("span", "[" + t.input + "]", "id") << " impact "
        << view::Number(t.impact) << (t.basic ? ", basic work-up" : "") << ": " << HtmlEscape(t.why) << "</li>";
  if (!v.next_tests.empty()) out << "</ul>";
  if (!v.citations.empty()) out << "<h2>Citations</h2><ol class=\"citations\">";
  for (const auto& citation : v.citations) out << Tag("li", citation);
  if (!v.citations.empty()) out << "</ol>";
  out << "</section>\n<footer>" << Tag("p", "trace " + v.trace_id, "meta") << "</footer></body></html>\n";
}

}  // namespace

std::string EvaluationToHtml(const nlohmann::ordered_json& evaluation, const knowledge::KnowledgeBase& kb) {
  const View v = view::BuildView(evaluation, kb);
  std::ostringstream out;
  Head(v, out);
  SummaryAlerts(v, out);
  SummaryConclusions(v, out);
  Pictures(v, kb, out);
  DetailConclusions(v, out);
  DetailStrategies(v, out);
  DetailData(v, out);
  return out.str();
}

namespace view {

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

}  // namespace view
}  // namespace nflux::report
