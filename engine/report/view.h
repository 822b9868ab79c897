// Internal: the report as the renderers see it. One View, built once from the evaluation JSON
// (output.md) and the knowledge base, holds what every format shows: labels resolved instead of
// ids, units and ranges made readable, one line of why per deficit and strategy, the summary's
// selection, and the citations numbered once in order of first use. The text, Markdown and HTML
// renderers only lay it out, so the three never differ in what they select or say.
// Pure values; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "knowledge/knowledge.h"

namespace nflux::report::view {

// One piece of evidence: its text with labels, the rule (an id, for a reviewer) and its source.
struct Evidence {
  bool against = false;
  std::string text;      // "Ferritin 16 ng/mL: low; reference 15-150"
  std::string rule;      // rule id
  std::string grade;     // "A" | "B" | "C" | ""
  int citation = 0;      // citation number, 0 for none
};

struct Alert {
  std::string id, severity, label, message;
  std::vector<std::string> because;  // labels
  std::vector<int> citations;
};

struct Quality {
  std::string severity, path, code, message;
};

struct Driver {
  std::string id, label, level;
  double certainty = 0;
  std::vector<std::string> feeds;  // deficit labels
  std::vector<Evidence> evidence;
};

struct Deficit {
  std::string id, label, level, calibration;
  int rank = 0;
  double certainty = 0;
  std::string why;                                        // one line
  std::vector<std::pair<std::string, double>> drivers;    // label, weight
  std::vector<Evidence> evidence;                         // for, then against
  std::vector<std::string> rules;
};

struct Strategy {
  std::string id, label, kind, verdict;  // verdict: "acceptable" | "acceptable with caution"
  int rank = 0;
  double score = 0;
  std::string why;          // one line: the deficits it addresses, by label with their level
  std::string rank_reason;  // labels instead of ids
  std::vector<std::string> cautions;
  std::vector<std::string> effects;  // "Serotonin synthesis +0.14", largest first
  std::vector<int> citations;
};

struct BlockReason {
  std::string severity, text;  // text: "serotonin syndrome risk with Escitalopram: ..."
  int citation = 0;
};

struct Blocked {
  std::string id, label, how;  // how: "requested" | "taken" | ""
  std::vector<BlockReason> reasons;
  std::string summary;  // one line
};

struct Requested {
  std::string id, label, verdict, how;
  bool blocked = false;  // also in View::blocked
  std::string summary;   // one line of what a caution rests on; empty when acceptable
};

struct NextTest {
  std::string input, label, why;  // why: one line
  double impact = 0;
  bool basic = false;  // part of the basic work-up
};

struct Lab {
  std::string id, label, value, entered, status, reference, optimal, decision;
  bool used = true;
};

struct Derived {
  std::string id, label, value, status;
  std::vector<std::string> from;  // labels
};

struct Questionnaire {
  std::string id, label, text;  // text: "15 (probable depression), item 10: 0"
};

// One transmitter's flux indices; the columns are kFluxIndices.
struct FluxRow {
  std::string id, label;
  std::map<std::string, double> values;
  std::vector<std::string> assumed;  // labels
};
inline const std::vector<std::string> kFluxIndices = {"synthesis", "release", "reuptake",
                                                      "breakdown", "level",   "turnover"};

// How much of each list the summary shows (the details show everything).
struct SummaryLimits {
  size_t drivers = 5, deficits = 5, strategies = 5, next_tests = 5, quality = 3, requested = 4;
};

// The requested and taken supplements a summary shows besides the blocked ones, with a caution
// first, in the evaluation's order otherwise.
std::vector<const Requested*> NotBlocked(const std::vector<Requested>& requested);

struct View {
  std::string case_id, versions, trace_id;
  std::vector<std::string> overrides;
  std::vector<Alert> alerts;
  std::vector<Quality> quality;
  std::vector<Driver> drivers;
  std::vector<Deficit> deficits;
  std::vector<Strategy> strategies;
  std::vector<Blocked> blocked;
  std::vector<Requested> requested;
  std::vector<NextTest> next_tests;
  std::vector<Lab> labs;
  std::vector<Derived> derived;
  std::vector<Questionnaire> questionnaires;
  std::vector<FluxRow> flux;
  std::vector<std::string> citations;  // citation n is citations[n - 1]
  SummaryLimits limits;
};

// The view of an evaluation JSON (output.md); ids the knowledge base lacks are shown as they are.
View BuildView(const nlohmann::ordered_json& evaluation, const knowledge::KnowledgeBase& kb);

// ---- Helpers shared by the renderers and the view.

// The node's label without its parenthesised glosses ("PHQ-9" for "PHQ-9 (Patient Health...)",
// "Vitamin B6 deficiency" for "Vitamin B6 (PLP) deficiency"), or the id when the knowledge base
// has no such node.
std::string Label(const knowledge::KnowledgeBase& kb, const std::string& id);
// A UCUM unit as a reader writes it: "mIU/L" for "m[IU]/L", "" for the unit "1".
std::string HumanUnit(const std::string& unit);
// "15-150", "< 3", "> 30", or "" for no range.
std::string RangeText(const nlohmann::ordered_json& range);
// A number as reports show it (4 significant digits).
std::string Number(double value);
// `text` cut into lines of at most `width` columns at spaces (a longer word is cut); the first
// line at most `first_width` when given (a hanging indent).
std::vector<std::string> Wrap(const std::string& text, size_t width, size_t first_width = 0);
// `text` cut to `width` columns, ending in "..." when cut.
std::string Clip(const std::string& text, size_t width);
// "probable depression" for "probable_depression".
std::string Words(std::string text);
// "[1, 3]" or "" for the citation numbers.
std::string CitationRefs(const std::vector<int>& numbers);

}  // namespace nflux::report::view

namespace nflux::report::view {

// `text` safe inside HTML text and attribute values (& < > " ').
std::string HtmlEscape(const std::string& text);
// The fill colour of a flux index: red below 0.8, amber below 0.95, green to 1.05, blue above.
std::string FluxColor(double value);
// The pathway map (inline SVG): per transmitter of the case's flux, precursor -> intermediate ->
// transmitter -> metabolite from the knowledge graph's pathway steps, each step's enzymes with
// their cofactors; coloured by the flux indices, the drivers found marked where they act; then a
// legend. (pathway_map.cc)
std::string PathwayMapHtml(const View& view, const knowledge::KnowledgeBase& kb);
// A small bar chart (inline SVG) of each transmitter's level and synthesis against 1.0.
std::string FluxBarsSvg(const View& view);

}  // namespace nflux::report::view
