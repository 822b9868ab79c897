// The terminal report: the first screen is the summary a practitioner reads first, the details
// follow, the citations are listed once at the end. Every line fits kWidth columns.
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

constexpr size_t kWidth = 100;

// ANSI styles, only when asked for (a terminal without NO_COLOR).
struct Paint {
  bool on = false;
  std::string operator()(const char* code, const std::string& text) const {
    return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
  std::string Heading(const std::string& text) const { return (*this)("1", text); }
  std::string Severity(const std::string& severity, const std::string& text) const {
    if (severity == "urgent" || severity == "high" || severity == "error") return (*this)("1;31", text);
    if (severity == "caution" || severity == "warning") return (*this)("33", text);
    return text;
  }
};


std::string Pad(const std::string& text, size_t width) {
  std::string cell = view::Clip(text, width > 1 ? width - 1 : width);
  return cell + std::string(width - cell.size(), ' ');
}

// `text` wrapped to the width: the first line after `first`, the others after `rest` (as many
// spaces as `rest` is long); at most `max_lines` lines, the last clipped.
void Para(std::ostream& out, const std::string& first, size_t rest, const std::string& text, size_t max_lines = 99) {
  std::vector<std::string> lines = view::Wrap(text, kWidth - rest, kWidth - std::min(first.size(), kWidth - 20));
  for (size_t i = 0; i < lines.size() && i < max_lines; ++i) {
    std::string line = lines[i];
    if (i + 1 == max_lines && lines.size() > max_lines) line = view::Clip(line + " ...", kWidth - std::max(first.size(), rest));
    out << (i == 0 ? first : std::string(rest, ' ')) << line << "\n";
  }
}

std::string Certainty(const std::string& level, double certainty) { return level + " " + view::Number(certainty); }

// ---- The summary (first screen).

void SummaryHeader(const View& v, const Paint& paint, std::ostream& out) {
  out << paint.Heading("NeuroFlux report: " + view::Clip(v.case_id, kWidth - 18)) << "\n";
  out << "Decision support for a qualified practitioner; not a diagnosis.\n";
  out << v.versions << "\n";
  for (const auto& item : v.overrides) Para(out, "OVERRIDE (not from the case or the models): ", 4, item);
}

void SummaryAlerts(const View& v, const Paint& paint, std::ostream& out) {
  out << "\n";
  if (v.alerts.empty()) {
    out << paint.Heading("RED FLAGS: none raised") << "\n";
    return;
  }
  out << paint.Severity(v.alerts.front().severity, "RED FLAGS (" + std::to_string(v.alerts.size()) + ")") << "\n";
  for (const auto& alert : v.alerts) {
    const std::string tag = "  " + UpperCase(alert.severity);
    std::vector<std::string> lines = view::Wrap(alert.label + ": " + alert.message, kWidth - 11);
    out << paint.Severity(alert.severity, Pad(tag, 11)) << lines[0] << "\n";
    if (lines.size() > 1) out << std::string(11, ' ') << view::Clip(lines.size() > 2 ? lines[1] + " ..." : lines[1], kWidth - 11) << "\n";
  }
}

void SummaryQuality(const View& v, const Paint& paint, std::ostream& out) {
  if (v.quality.empty()) return;
  out << paint.Heading("DATA QUALITY (" + std::to_string(v.quality.size()) + ")") << "\n";
  for (size_t i = 0; i < v.quality.size() && i < v.limits.quality; ++i)
    out << "  " << paint.Severity(v.quality[i].severity, Pad(v.quality[i].severity, 9))
        << view::Clip(v.quality[i].path + ": " + v.quality[i].message, kWidth - 11) << "\n";
  if (v.quality.size() > v.limits.quality)
    out << "  ... " << v.quality.size() - v.limits.quality << " more in the details\n";
}

void SummaryDrivers(const View& v, const Paint& paint, std::ostream& out) {
  if (v.drivers.empty()) {
    out << paint.Heading("ROOT CAUSES FOUND: none") << "\n";
    return;
  }
  const size_t shown = std::min(v.drivers.size(), v.limits.drivers);
  out << paint.Heading("ROOT CAUSES FOUND (" + (shown < v.drivers.size() ? std::to_string(shown) + " of " : "") +
                       std::to_string(v.drivers.size()) + ")")
      << "\n";
  for (size_t i = 0; i < v.drivers.size() && i < v.limits.drivers; ++i) {
    const auto& d = v.drivers[i];
    std::string feeds;
    for (const auto& deficit : d.feeds) feeds += (feeds.empty() ? "-> " : ", ") + deficit;
    out << view::Clip("  " + Pad(d.label, 32) + Pad(Certainty(d.level, d.certainty), 16) + feeds, kWidth) << "\n";
  }
}

void SummaryDeficits(const View& v, const Paint& paint, std::ostream& out) {
  if (v.deficits.empty()) {
    out << paint.Heading("DEFICITS: none concluded") << "\n";
    return;
  }
  const size_t shown = std::min(v.deficits.size(), v.limits.deficits);
  out << paint.Heading("TOP DEFICITS (" + std::to_string(shown) + " of " + std::to_string(v.deficits.size()) + ")") << "\n";
  for (size_t i = 0; i < shown; ++i) {
    const auto& d = v.deficits[i];
    out << "  " << Pad(std::to_string(d.rank) + ". " + d.label, 44) << Certainty(d.level, d.certainty) << "\n";
    out << view::Clip("       why: " + d.why, kWidth) << "\n";
  }
}

void SummaryStrategies(const View& v, const Paint& paint, std::ostream& out) {
  if (v.strategies.empty()) {
    out << paint.Heading("STRATEGIES: none suggested") << "\n";
    return;
  }
  const size_t shown = std::min(v.strategies.size(), v.limits.strategies);
  out << paint.Heading("TOP STRATEGIES (" + std::to_string(shown) + " of " + std::to_string(v.strategies.size()) + ")")
      << "\n";
  for (size_t i = 0; i < shown; ++i) {
    const auto& s = v.strategies[i];
    out << "  " << Pad(std::to_string(s.rank) + ". " + s.label + " (" + s.kind + ")", 44)
        << paint.Severity(s.cautions.empty() ? "" : "caution", s.verdict) << "\n";
    out << view::Clip("       why: " + s.why, kWidth) << "\n";
  }
}

void SummaryBlockedAndNext(const View& v, const Paint& paint, std::ostream& out) {
  if (!v.blocked.empty()) {
    out << paint.Severity("high", "BLOCKED BY SAFETY (" + std::to_string(v.blocked.size()) + ")") << "\n";
    for (const auto& b : v.blocked)
      out << view::Clip("  " + b.label + (b.how.empty() ? "" : " (" + b.how + ")") + ": " + b.summary, kWidth) << "\n";
  }
  const auto requested = view::NotBlocked(v.requested);
  if (!requested.empty()) {
    const size_t shown = std::min(requested.size(), v.limits.requested);
    out << paint.Heading("REQUESTED OR TAKEN (" + std::to_string(shown) + " of " + std::to_string(requested.size()) + ")")
        << "\n";
    for (size_t i = 0; i < shown; ++i) {
      const auto& r = *requested[i];
      out << "  " << Pad(r.label + " (" + r.how + ")", 42) << paint.Severity(r.summary.empty() ? "" : "caution", r.verdict)
          << "\n";
      if (!r.summary.empty()) out << view::Clip("       why: " + r.summary, kWidth) << "\n";
    }
  }
  if (v.next_tests.empty()) return;
  out << paint.Heading("NEXT TESTS TO ORDER (basic: of the basic work-up)") << "\n";
  for (size_t i = 0; i < v.next_tests.size() && i < v.limits.next_tests; ++i) {
    const auto& t = v.next_tests[i];
    out << view::Clip("  " + Pad(t.basic ? "basic" : "", 7) + Pad(t.label, 34) + t.why, kWidth) << "\n";
  }
}

// ---- The details.

void Section(const Paint& paint, const std::string& title, std::ostream& out) {
  out << "\n" << paint.Heading(title) << "\n";
}

std::string EvidenceTail(const view::Evidence& e) {
  std::string tail = " [rule " + e.rule + (e.grade.empty() ? "" : ", grade " + e.grade) + "]";
  return tail + (e.citation ? " " + view::CitationRefs({e.citation}) : "");
}

void DetailEvidence(const std::vector<view::Evidence>& evidence, std::ostream& out) {
  for (const auto& e : evidence) Para(out, e.against ? "     - " : "     + ", 7, e.text + EvidenceTail(e));
}

void DetailAlertsAndQuality(const View& v, const Paint& paint, std::ostream& out) {
  if (!v.alerts.empty()) Section(paint, "RED FLAGS", out);
  for (const auto& a : v.alerts) {
    out << "  " << paint.Severity(a.severity, "[" + UpperCase(a.severity) + "]") << " " << a.label << " [" << a.id << "]\n";
    Para(out, "     ", 5, a.message);
    std::string because;
    for (const auto& item : a.because) because += (because.empty() ? "" : ", ") + item;
    if (!because.empty()) Para(out, "     because: ", 14, because);
    if (!a.citations.empty()) out << "     sources " << view::CitationRefs(a.citations) << "\n";
  }
  if (!v.quality.empty()) Section(paint, "DATA QUALITY", out);
  for (const auto& q : v.quality) Para(out, "  [" + q.severity + "] ", 6, q.path + ": " + q.message + " (" + q.code + ")");
  if (!v.questionnaires.empty()) Section(paint, "QUESTIONNAIRES", out);
  for (const auto& q : v.questionnaires) Para(out, "  ", 4, q.label + " " + q.text);
}

void DetailDrivers(const View& v, const Paint& paint, std::ostream& out) {
  Section(paint, "ROOT CAUSES FOUND (" + std::to_string(v.drivers.size()) + ")", out);
  if (v.drivers.empty()) out << "  none concluded\n";
  for (const auto& d : v.drivers) {
    std::string feeds;
    for (const auto& deficit : d.feeds) feeds += (feeds.empty() ? "; feeds " : ", ") + deficit;
    Para(out, "  ", 5, d.label + " [" + d.id + "] " + Certainty(d.level, d.certainty) + feeds);
    DetailEvidence(d.evidence, out);
  }
}

void DetailDeficits(const View& v, const Paint& paint, std::ostream& out) {
  Section(paint, "DEFICITS (" + std::to_string(v.deficits.size()) + ")", out);
  if (v.deficits.empty()) out << "  none concluded\n";
  for (const auto& d : v.deficits) {
    out << "  " << d.rank << ". " << d.label << " [" << d.id << "]  " << Certainty(d.level, d.certainty) << "\n";
    std::string drivers;
    for (const auto& [label, weight] : d.drivers) drivers += (drivers.empty() ? "" : ", ") + label + " " + view::Number(weight);
    if (!drivers.empty()) Para(out, "     drivers: ", 14, drivers);
    if (!d.calibration.empty()) Para(out, "     ", 5, d.calibration);
    DetailEvidence(d.evidence, out);
  }
}

void DetailStrategies(const View& v, const Paint& paint, std::ostream& out) {
  Section(paint, "STRATEGIES (" + std::to_string(v.strategies.size()) + ")", out);
  if (v.strategies.empty()) out << "  none suggested\n";
  for (const auto& s : v.strategies) {
    Para(out, "  ", 5, std::to_string(s.rank) + ". " + s.label + " [" + s.id + "] (" + s.kind + "), " + s.verdict +
                           ", score " + view::Number(s.score));
    Para(out, "     why: ", 10, s.why);
    Para(out, "     ranking: ", 14, s.rank_reason);
    std::string effects;
    for (const auto& effect : s.effects) effects += (effects.empty() ? "" : ", ") + effect;
    if (!effects.empty()) Para(out, "     predicted: ", 16, effects);
    for (const auto& caution : s.cautions) Para(out, "     " + paint.Severity("caution", "CAUTION:") + " ", 14, caution);
    if (!s.citations.empty()) out << "     sources " << view::CitationRefs(s.citations) << "\n";
  }
}

void DetailBlocked(const View& v, const Paint& paint, std::ostream& out) {
  if (!v.blocked.empty()) Section(paint, "BLOCKED BY SAFETY (" + std::to_string(v.blocked.size()) + ")", out);
  for (const auto& b : v.blocked) {
    out << "  " << b.label << " [" << b.id << "]" << (b.how.empty() ? "" : " (" + b.how + ")") << "\n";
    for (const auto& reason : b.reasons)
      Para(out, "     " + reason.severity + ": ", 9,
           reason.text + (reason.citation ? " " + view::CitationRefs({reason.citation}) : ""));
  }
  if (!v.requested.empty()) Section(paint, "REQUESTED SUPPLEMENTS", out);
  for (const auto& r : v.requested)
    out << "  " << Pad(r.label + (r.how.empty() ? "" : " (" + r.how + ")"), 44) << r.verdict << "\n";
  if (!v.next_tests.empty()) Section(paint, "NEXT TESTS", out);
  for (const auto& t : v.next_tests) {
    out << "  " << t.label << " [" << t.input << "]  impact " << view::Number(t.impact)
        << (t.basic ? ", basic work-up" : "") << "\n";
    Para(out, "     ", 5, t.why);
  }
}

void DetailFlux(const View& v, const Paint& paint, std::ostream& out) {
  if (v.flux.empty()) return;
  Section(paint, "FLUX INDICES (healthy reference 1.0)", out);
  out << "  " << Pad("transmitter", 22);
  for (const auto& index : view::kFluxIndices) out << Pad(index, 11);
  out << "\n";
  for (const auto& row : v.flux) {
    out << "  " << Pad(row.label, 22);
    for (const auto& index : view::kFluxIndices)
      out << Pad(row.values.count(index) ? view::Number(row.values.at(index)) : "", 11);
    out << "\n";
  }
  for (const auto& row : v.flux) {
    std::string assumed;
    for (const auto& input : row.assumed) assumed += (assumed.empty() ? "" : ", ") + input;
    if (!assumed.empty()) Para(out, "  " + row.label + " assumed normal: ", 6, assumed);
  }
}

void DetailLabs(const View& v, const Paint& paint, std::ostream& out) {
  if (v.labs.empty() && v.derived.empty()) return;
  Section(paint, "LABS (" + std::to_string(v.labs.size()) + ")", out);
  out << "  " << Pad("test", 26) << Pad("value", 16) << Pad("as entered", 13) << Pad("status", 11) << Pad("reference", 12)
      << "optimal\n";
  for (const auto& lab : v.labs) {
    out << view::Clip("  " + Pad(lab.label, 26) + Pad(lab.value, 16) + Pad(lab.entered, 13) + Pad(lab.status, 11) +
                          Pad(lab.reference, 12) + lab.optimal,
                      kWidth)
        << "\n";
    if (!lab.decision.empty()) Para(out, "      ", 6, lab.decision);
  }
  for (const auto& d : v.derived) {
    std::string from;
    for (const auto& input : d.from) from += (from.empty() ? "from " : ", ") + input;
    out << view::Clip("  " + Pad(d.label, 26) + Pad(d.value, 30) + Pad(d.status, 10) + from, kWidth) << "\n";
  }
}

void DetailCitations(const View& v, const Paint& paint, std::ostream& out) {
  if (!v.citations.empty()) Section(paint, "CITATIONS", out);
  for (size_t i = 0; i < v.citations.size(); ++i) Para(out, "  [" + std::to_string(i + 1) + "] ", 7, v.citations[i]);
  out << "\ntrace " << v.trace_id << "\n";
}

}  // namespace

std::string EvaluationToText(const nlohmann::ordered_json& evaluation, const knowledge::KnowledgeBase& kb,
                             const TextOptions& options) {
  const View v = view::BuildView(evaluation, kb);
  const Paint paint{options.color};
  std::ostringstream out;
  SummaryHeader(v, paint, out);
  SummaryAlerts(v, paint, out);
  SummaryQuality(v, paint, out);
  SummaryDrivers(v, paint, out);
  SummaryDeficits(v, paint, out);
  SummaryStrategies(v, paint, out);
  SummaryBlockedAndNext(v, paint, out);
  out << "\n" << paint.Heading(std::string(kWidth - 8, '=') + " DETAILS") << "\n";
  DetailAlertsAndQuality(v, paint, out);
  DetailDrivers(v, paint, out);
  DetailDeficits(v, paint, out);
  DetailStrategies(v, paint, out);
  DetailBlocked(v, paint, out);
  DetailFlux(v, paint, out);
  DetailLabs(v, paint, out);
  DetailCitations(v, paint, out);
  return out.str();
}

}  // namespace nflux::report
