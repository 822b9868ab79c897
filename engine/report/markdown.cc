// The Markdown report: the same view as the text report, compact enough to paste into a clinical
// note: the summary first, then the details, citations numbered once at the end.
#include <algorithm>
#include <cctype>
#include <sstream>
#include <string_view>

#include "base/text.h"
#include "report/report.h"
#include "report/view.h"

namespace nflux::report {
namespace {

using view::View;

// Text from the case or the knowledge base, with Markdown's active characters escaped (a case id
// "<script>" stays text).
std::string Md(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (std::string_view("\\`*_<>[]|#").find(ch) != std::string_view::npos) out += '\\';
    out += ch;
  }
  return out;
}

std::string Refs(const std::vector<int>& numbers) {
  std::string refs = view::CitationRefs(numbers);
  if (refs.empty()) return refs;
  std::string out = " ";
  out += Md(refs);
  return out;
}


void Summary(const View& v, std::ostream& out) {
  out << "# NeuroFlux report: " << Md(v.case_id) << "\n\n";
  out << "*Decision support for a qualified practitioner; not a diagnosis.* " << Md(v.versions) << "\n\n";
  for (const auto& item : v.overrides) out << "- **Override** (not from the case or the models): " << Md(item) << "\n";
  out << "**Red flags:**" << (v.alerts.empty() ? " none raised" : "") << "\n";
  for (const auto& a : v.alerts)
    out << "- **" << UpperCase(a.severity) << "** " << Md(a.label) << ": " << Md(a.message) << Refs(a.citations) << "\n";
  if (!v.quality.empty()) out << "\n**Data quality:**\n";
  for (const auto& q : v.quality) out << "- " << Md(q.severity) << " `" << q.path << "`: " << Md(q.message) << "\n";
  out << "\n**Root causes found:**" << (v.drivers.empty() ? " none" : "") << "\n";
  for (size_t i = 0; i < v.drivers.size() && i < v.limits.drivers; ++i)
    out << "- " << Md(v.drivers[i].label) << ", " << v.drivers[i].level << " " << view::Number(v.drivers[i].certainty) << "\n";
  out << "\n**Top deficits:**" << (v.deficits.empty() ? " none concluded" : "") << "\n";
  for (size_t i = 0; i < v.deficits.size() && i < v.limits.deficits; ++i) {
    const auto& d = v.deficits[i];
    out << d.rank << ". " << Md(d.label) << ", " << d.level << " " << view::Number(d.certainty) << ": " << Md(d.why) << "\n";
  }
  out << "\n**Top strategies:**" << (v.strategies.empty() ? " none suggested" : "") << "\n";
  for (size_t i = 0; i < v.strategies.size() && i < v.limits.strategies; ++i) {
    const auto& s = v.strategies[i];
    out << s.rank << ". " << Md(s.label) << " (" << s.kind << "), " << s.verdict << ": " << Md(s.why) << "\n";
  }
  if (!v.blocked.empty()) out << "\n**Blocked by safety:**\n";
  for (const auto& b : v.blocked)
    out << "- " << Md(b.label) << (b.how.empty() ? "" : " (" + b.how + ")") << ": " << Md(b.summary) << "\n";
  const auto requested = view::NotBlocked(v.requested);
  if (!requested.empty()) out << "\n**Requested or taken:**\n";
  for (size_t i = 0; i < requested.size() && i < v.limits.requested; ++i)
    out << "- " << Md(requested[i]->label) << " (" << requested[i]->how << "): " << requested[i]->verdict
        << (requested[i]->summary.empty() ? "" : ": " + Md(requested[i]->summary)) << "\n";
  if (!v.next_tests.empty()) out << "\n**Next tests to order:**\n";
  for (size_t i = 0; i < v.next_tests.size() && i < v.limits.next_tests; ++i)
    out << "- " << Md(v.next_tests[i].label) << (v.next_tests[i].basic ? " (basic work-up)" : "") << ": "
        << Md(v.next_tests[i].why) << "\n";
}

void Evidence(const std::vector<view::Evidence>& evidence, std::ostream& out) {
  for (const auto& e : evidence)
    out << "  - " << (e.against ? "against: " : "") << Md(e.text) << " (rule `" << e.rule << "`"
        << (e.grade.empty() ? "" : ", grade " + e.grade) << ")" << Refs({e.citation}) << "\n";
}

void DetailConclusions(const View& v, std::ostream& out) {
  if (!v.questionnaires.empty()) out << "\n### Questionnaires\n\n";
  for (const auto& q : v.questionnaires) out << "- " << Md(q.label) << " " << Md(q.text) << "\n";
  if (!v.drivers.empty()) out << "\n### Root causes\n\n";
  for (const auto& d : v.drivers) {
    out << "- **" << Md(d.label) << "** (`" << d.id << "`), " << d.level << " " << view::Number(d.certainty) << "\n";
    Evidence(d.evidence, out);
  }
  if (!v.deficits.empty()) out << "\n### Deficits\n\n";
  for (const auto& d : v.deficits) {
    out << d.rank << ". **" << Md(d.label) << "** (`" << d.id << "`), " << d.level << " " << view::Number(d.certainty);
    for (size_t i = 0; i < d.drivers.size(); ++i)
      out << (i ? ", " : "; drivers: ") << Md(d.drivers[i].first) << " " << view::Number(d.drivers[i].second);
    out << (d.calibration.empty() ? "" : "; *" + Md(d.calibration) + "*") << "\n";
    Evidence(d.evidence, out);
  }
}

void DetailStrategies(const View& v, std::ostream& out) {
  if (!v.strategies.empty()) out << "\n### Strategies\n\n";
  for (const auto& s : v.strategies) {
    out << s.rank << ". **" << Md(s.label) << "** (`" << s.id << "`, " << s.kind << "), " << s.verdict << ", score "
        << view::Number(s.score) << Refs(s.citations) << "\n";
    out << "  - ranking: " << Md(s.rank_reason) << "\n";
    for (size_t i = 0; i < s.effects.size(); ++i) out << (i ? ", " : "  - predicted: ") << Md(s.effects[i]);
    if (!s.effects.empty()) out << "\n";
    for (const auto& caution : s.cautions) out << "  - **Caution:** " << Md(caution) << "\n";
  }
  if (!v.blocked.empty()) out << "\n### Blocked by safety\n\n";
  for (const auto& b : v.blocked) {
    out << "- **" << Md(b.label) << "** (`" << b.id << "`)" << (b.how.empty() ? "" : " " + b.how) << "\n";
    for (const auto& r : b.reasons) out << "  - " << r.severity << ": " << Md(r.text) << Refs({r.citation}) << "\n";
  }
  if (!v.requested.empty()) out << "\n### Requested supplements\n\n";
  for (const auto& r : v.requested) out << "- " << Md(r.label) << ": " << r.verdict << "\n";
}

void DetailData(const View& v, std::ostream& out) {
  if (!v.labs.empty() || !v.derived.empty())
    out << "\n### Labs\n\n| test | value | as entered | status | reference | optimal | decision |\n|---|---|---|---|---|---|---|\n";
  for (const auto& l : v.labs)
    out << "| " << Md(l.label) << " | " << Md(l.value) << " | " << Md(l.entered) << " | " << l.status << " | "
        << l.reference << " | " << l.optimal << " | " << Md(l.decision) << " |\n";
  for (const auto& d : v.derived)
    out << "| " << Md(d.label) << " (derived) | " << Md(d.value) << " | | " << d.status << " | | | |\n";
  if (!v.flux.empty()) {
    out << "\n### Flux indices (healthy reference 1.0)\n\n| transmitter |";
    for (const auto& index : view::kFluxIndices) out << " " << index << " |";
    out << "\n|---|---|---|---|---|---|---|\n";
  }
  for (const auto& row : v.flux) {
    out << "| " << Md(row.label) << " |";
    for (const auto& index : view::kFluxIndices)
      out << " " << (row.values.count(index) ? view::Number(row.values.at(index)) : "") << " |";
    out << "\n";
  }
  if (!v.next_tests.empty()) out << "\n### Next tests\n\n";
  for (const auto& t : v.next_tests)
    out << "- " << Md(t.label) << " (`" << t.input << "`, impact " << view::Number(t.impact) << "): " << Md(t.why) << "\n";
  if (!v.citations.empty()) out << "\n### Citations\n\n";
  for (size_t i = 0; i < v.citations.size(); ++i) out << "\\[" << i + 1 << "\\] " << Md(v.citations[i]) << "  \n";
  out << "\ntrace `" << v.trace_id << "`\n";
}

}  // namespace

std::string EvaluationToMarkdown(const nlohmann::ordered_json& evaluation, const knowledge::KnowledgeBase& kb) {
  const View v = view::BuildView(evaluation, kb);
  std::ostringstream out;
  Summary(v, out);
  out << "\n## Details\n";
  DetailConclusions(v, out);
  DetailStrategies(v, out);
  DetailData(v, out);
  return out.str();
}

}  // namespace nflux::report
