// Tests of the practitioner's reports (text, Markdown, HTML) over every golden case of rules/tests
// evaluated through the pipeline with the shipped knowledge and rules: the summary fits the first
// screen, no line is wider than 100 columns, citations are numbered once and every reference
// resolves, labels replace ids, no colour when not asked, the HTML is self-contained and escapes
// what it shows, one-sided ranges and units read as a practitioner writes them.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "base/text.h"
#include "pipeline/pipeline.h"
#include "report/report.h"
#include "report/view.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::report {
namespace {

using nflux::testing::ShippedPipeline;

struct GoldenReport {
  std::string name;
  nlohmann::ordered_json json;
  std::string text;
};

// Every golden case's evaluation JSON and text report (without colour), evaluated once.
const std::vector<GoldenReport>& GoldenReports() {
  static const std::vector<GoldenReport> reports = [] {
    std::vector<GoldenReport> out;
    for (const auto& path : nflux::testing::GoldenCaseFiles()) {
      auto text = ReadFileToString(path.string());
      EXPECT_OK(text);
      if (!text.ok()) continue;
      auto result = ShippedPipeline().Evaluate(*text, {});
      if (!result.ok()) continue;  // a golden case that expects an error
      auto json = ShippedPipeline().ReportJson(*result);
      out.push_back({path.filename().string(), json, EvaluationToText(json, ShippedPipeline().knowledge())});
    }
    return out;
  }();
  return reports;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The summary: every line before the DETAILS rule.
std::vector<std::string> SummaryLines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : Lines(text)) {
    if (line.find("= DETAILS") != std::string::npos) return out;
    out.push_back(line);
  }
  ADD_FAILURE() << "no DETAILS line in\n" << text;
  return out;
}

TEST(RenderGolden, ThereAreGoldenCases) { EXPECT_GT(GoldenReports().size(), 50u); }

TEST(RenderGolden, SummaryFitsTheFirstScreen) {
  for (const auto& report : GoldenReports()) {
    auto summary = SummaryLines(report.text);
    EXPECT_LE(summary.size(), 40u) << report.name << "\n" << report.text.substr(0, 6000);
  }
}

TEST(RenderGolden, ASummaryIsCutBelowItsDefaultsOnlyWhenTheScreenIsFull) {
  const view::SummaryLimits defaults;
  const std::map<std::string, size_t> limit_of = {{"ROOT CAUSES FOUND", defaults.drivers},
                                                  {"TOP DEFICITS", defaults.deficits},
                                                  {"TOP STRATEGIES", defaults.strategies},
                                                  {"REQUESTED OR TAKEN", defaults.requested}};
  static const std::regex kCounted(R"(^([A-Z ]+) \((?:(\d+) of )?(\d+)\)$)");
  int cut_summaries = 0;
  for (const auto& report : GoldenReports()) {
    const auto summary = SummaryLines(report.text);
    bool cut = false;
    for (size_t i = 0; i < summary.size(); ++i) {
      std::smatch match;
      if (!std::regex_match(summary[i], match, kCounted) || !limit_of.count(match[1])) continue;
      const size_t total = std::stoul(match[3]), shown = match[2].matched ? std::stoul(match[2]) : total;
      if (match[1] == "ROOT CAUSES FOUND") {  // one line each: the count says how many follow
        size_t listed = 0;
        while (i + 1 + listed < summary.size() && summary[i + 1 + listed].starts_with("  ")) ++listed;
        EXPECT_EQ(listed, shown) << report.name;
      }
      cut |= shown < std::min(total, limit_of.at(match[1]));
    }
    if (!cut) continue;
    ++cut_summaries;
    // Cut below its defaults: the screen is nearly full (an alert counted at two lines may take one).
    EXPECT_GE(summary.size(), 34u) << report.name << "\n" << report.text.substr(0, 4000);
  }
  EXPECT_GT(cut_summaries, 0);
}

TEST(RenderGolden, NoLineIsWiderThan100Columns) {
  for (const auto& report : GoldenReports())
    for (const auto& line : Lines(report.text)) EXPECT_LE(line.size(), 100u) << report.name << ": " << line;
}

// The citation list: "  [n] text" entries with continuation lines joined.
std::map<int, std::string> CitationList(const std::string& text) {
  std::map<int, std::string> entries;
  bool in_list = false;
  int current = 0;
  static const std::regex kEntry(R"(^  \[(\d+)\] (.*)$)");
  for (const auto& line : Lines(text)) {
    if (line == "CITATIONS") in_list = true;
    if (!in_list || line == "CITATIONS") continue;
    std::smatch match;
    if (std::regex_match(line, match, kEntry)) {
      current = std::stoi(match[1]);
      entries[current] = match[2];
    } else if (current && line.rfind("       ", 0) == 0) {
      entries[current].append(" ").append(line, 7);  // not " " + ...: a GCC 12 -Wrestrict false positive
    } else if (!line.empty()) {
      current = 0;
    }
  }
  return entries;
}

TEST(RenderGolden, EveryCitationIsListedOnceAndEveryReferenceResolves) {
  static const std::regex kRefs(R"(\[(\d+(?:, \d+)*)\])");
  for (const auto& report : GoldenReports()) {
    auto list = CitationList(report.text);
    std::set<std::string> texts;
    int expected = 1;
    for (const auto& [number, citation] : list) {
      EXPECT_EQ(number, expected++) << report.name << ": numbers run 1, 2, 3...";
      EXPECT_TRUE(texts.insert(citation).second) << report.name << ": listed twice: " << citation;
    }
    // Every citation the JSON names is in the list.
    std::set<std::string> cited;
    for (const auto& alert : report.json["alerts"])
      for (const auto& c : alert["citations"]) cited.insert(c.get<std::string>());
    for (const char* section : {"drivers", "deficits"})
      for (const auto& item : report.json[section])
        for (const auto& e : item["evidence_for"]) cited.insert(e["citation"].get<std::string>());
    cited.erase("");
    for (const auto& citation : cited) EXPECT_TRUE(texts.count(citation)) << report.name << ": not listed: " << citation;
    // Every [n] before the list resolves.
    const std::string body = report.text.substr(0, report.text.find("\nCITATIONS\n"));
    for (auto it = std::sregex_iterator(body.begin(), body.end(), kRefs); it != std::sregex_iterator(); ++it) {
      std::string numbers = (*it)[1];
      for (size_t at = 0; at < numbers.size();) {
        const int n = std::stoi(numbers.substr(at));
        EXPECT_TRUE(list.count(n)) << report.name << ": [" << n << "] does not resolve";
        at = numbers.find(", ", at);
        at = at == std::string::npos ? numbers.size() : at + 2;
      }
    }
  }
}

TEST(RenderGolden, SummaryUsesLabelsNotIds) {
  const auto& kb = ShippedPipeline().knowledge();
  static const std::regex kId(R"([a-z][a-z0-9]*(?:_[a-z0-9]+)+)");
  for (const auto& report : GoldenReports()) {
    std::string summary;
    for (const auto& line : SummaryLines(report.text)) summary += line + "\n";
    for (auto it = std::sregex_iterator(summary.begin(), summary.end(), kId); it != std::sregex_iterator(); ++it) {
      const knowledge::Node* node = kb.Find(it->str());
      EXPECT_TRUE(node == nullptr || node->label.empty()) << report.name << ": id in the summary: " << it->str();
    }
    for (const auto& deficit : report.json["deficits"])
      if (deficit["rank"].get<int>() <= 2) {
        const std::string label = WithoutParentheticals(kb.Find(deficit["id"].get<std::string>())->label);
        EXPECT_NE(summary.find(label), std::string::npos) << report.name << ": " << label;
      }
  }
}

TEST(RenderGolden, NoIdOrUnitJargonAnywhere) {
  for (const auto& report : GoldenReports()) {
    for (const char* jargon : {"(unlikely, 0)", "reference -", "m[IU]", "[IU]", "{1.73", "- reference"})
      EXPECT_EQ(report.text.find(jargon), std::string::npos) << report.name << ": " << jargon;
    EXPECT_FALSE(std::regex_search(report.text, std::regex(R"(\d-\))"))) << report.name << ": open range";
    // A one-word lab id before its value is shown by its label ("from Ferritin, serum 18 ng/mL").
    for (const auto& lab : report.json["labs"]) {
      const std::string id = lab["test"].get<std::string>();
      if (id.find('_') != std::string::npos) continue;
      EXPECT_FALSE(std::regex_search(report.text, std::regex("from " + id + " [0-9]"))) << report.name << ": " << id;
    }
    // A lab on the safe side of a decision limit: "within" it could be read as inside the deficient range.
    EXPECT_FALSE(std::regex_search(report.text, std::regex(R"(within the [^;\n]*limit)"))) << report.name;
  }
}

// A golden case with alerts, for the tests that need a red flag.
const GoldenReport& WithAlerts() {
  for (const auto& report : GoldenReports())
    if (!report.json["alerts"].empty() && !report.json["deficits"].empty()) return report;
  ADD_FAILURE() << "no golden case with alerts";
  return GoldenReports().front();
}

TEST(RenderText, ColourOnlyWhenAsked) {
  const auto& report = WithAlerts();
  EXPECT_EQ(report.text.find('\033'), std::string::npos);
  const std::string coloured = EvaluationToText(report.json, ShippedPipeline().knowledge(), {.color = true});
  EXPECT_NE(coloured.find("\033["), std::string::npos);
  EXPECT_EQ(EvaluationToMarkdown(report.json, ShippedPipeline().knowledge()).find('\033'), std::string::npos);
}

TEST(RenderText, OneSidedRangesAndUnitsReadAsWritten) {
  auto json = WithAlerts().json;
  json["labs"] = nlohmann::ordered_json::array();
  json["labs"].push_back({{"test", "hs_crp"}, {"input", {{"value", 4.2}, {"unit", "mg/L"}}}, {"value", 4.2},
                          {"unit", "mg/L"}, {"status", "high"}, {"reference", {{"low", nullptr}, {"high", 3}}},
                          {"used", true}});
  json["labs"].push_back({{"test", "vitamin_d_25oh"}, {"input", {{"value", 40}, {"unit", "nmol/L"}}}, {"value", 16},
                          {"unit", "ng/mL"}, {"status", "low"}, {"reference", {{"low", 30}, {"high", nullptr}}},
                          {"used", true}});
  json["labs"].push_back({{"test", "tsh"}, {"input", {{"value", 2.1}, {"unit", "m[IU]/L"}}}, {"value", 2.1},
                          {"unit", "m[IU]/L"}, {"status", "normal"}, {"reference", {{"low", 0.4}, {"high", 4.5}}},
                          {"used", true}});
  json["derived"] = nlohmann::ordered_json::array();
  json["derived"].push_back({{"id", "homa_ir"}, {"value", 4.88}, {"unit", "1"}, {"from", {"glucose_fasting"}}, {"status", "high"}});
  const auto& kb = ShippedPipeline().knowledge();
  for (const std::string& text : {EvaluationToText(json, kb), EvaluationToMarkdown(json, kb), EvaluationToHtml(json, kb)}) {
    EXPECT_NE(text.find("&lt; 3") == std::string::npos ? text.find("< 3") : 0, std::string::npos);
    EXPECT_TRUE(text.find("> 30") != std::string::npos || text.find("&gt; 30") != std::string::npos);
    EXPECT_EQ(text.find("-3 "), std::string::npos);
    EXPECT_NE(text.find("mIU/L"), std::string::npos);
    EXPECT_EQ(text.find("m[IU]/L"), std::string::npos);
    EXPECT_NE(text.find("40 nmol/L"), std::string::npos) << "the unit as entered, beside the canonical one";
    EXPECT_NE(text.find("HOMA-IR"), std::string::npos);
    EXPECT_EQ(text.find("4.88 1"), std::string::npos);
  }
}

TEST(RenderText, ALabOnTheSafeSideOfALimitSaysWhichSide) {
  auto json = WithAlerts().json;
  json["labs"] = nlohmann::ordered_json::array();
  json["labs"].push_back({{"test", "vitamin_b12"}, {"input", {{"value", 235}, {"unit", "pg/mL"}}}, {"value", 235},
                          {"unit", "pg/mL"}, {"status", "normal"}, {"reference", {{"low", 200}, {"high", 900}}},
                          {"used", true},
                          {"decision", {{"label", "B12-deficiency limit"}, {"limit", 200}, {"side", "below"},
                                        {"status", "within"}, {"citation", "devalia_2014_b12"}}}});
  json["labs"].push_back({{"test", "homocysteine"}, {"input", {{"value", 21}, {"unit", "umol/L"}}}, {"value", 21},
                          {"unit", "umol/L"}, {"status", "high"}, {"reference", {{"low", 5}, {"high", 15}}},
                          {"used", true},
                          {"decision", {{"label", "hyperhomocysteinaemia limit"}, {"limit", 15}, {"side", "above"},
                                        {"status", "above"}, {"citation", "refsum_2004_homocysteine"}}}});
  const auto& kb = ShippedPipeline().knowledge();
  for (const std::string& text : {EvaluationToText(json, kb), EvaluationToMarkdown(json, kb), EvaluationToHtml(json, kb)}) {
    EXPECT_NE(text.find("not below the B12-deficiency limit 200"), std::string::npos);
    EXPECT_NE(text.find("above the hyperhomocysteinaemia limit 15"), std::string::npos);
    EXPECT_EQ(text.find("within the B12"), std::string::npos);
  }
}

TEST(RenderText, ALabelKeepsTheWordsAfterItsGloss) {
  auto json = WithAlerts().json;
  json["drivers"] = nlohmann::ordered_json::array();
  json["drivers"].push_back({{"id", "b6_deficiency"}, {"certainty", 0.85}, {"level", "likely"},
                             {"feeds", nlohmann::ordered_json::array()}, {"evidence_for", nlohmann::ordered_json::array()}});
  const auto& kb = ShippedPipeline().knowledge();
  ASSERT_EQ(kb.Find("b6_deficiency")->label, "Vitamin B6 (PLP) deficiency");
  for (const std::string& text : {EvaluationToText(json, kb), EvaluationToMarkdown(json, kb), EvaluationToHtml(json, kb)})
    EXPECT_NE(text.find("Vitamin B6 deficiency"), std::string::npos);
}

TEST(RenderGolden, TheSummaryAnswersEveryRequestWithACaution) {
  const auto& kb = ShippedPipeline().knowledge();
  int cases_with_a_caution = 0;
  for (const auto& report : GoldenReports()) {
    std::string summary;
    for (const auto& line : SummaryLines(report.text)) summary += line + "\n";
    for (const auto& item : report.json["requested_supplements"]) {
      if (item["verdict"] != "acceptable_with_caution") continue;
      ++cases_with_a_caution;
      EXPECT_NE(summary.find(WithoutParentheticals(kb.Find(item["id"].get<std::string>())->label)), std::string::npos)
          << report.name << ": " << item["id"];
      break;  // the first caution at least: a long list may be cut, never before its cautions
    }
  }
  EXPECT_GT(cases_with_a_caution, 0);
}

TEST(RenderText, RequestedAndTakenSupplementsCautionsFirstBlockedOnlyOnce) {
  auto json = WithAlerts().json;
  json["blocked_strategies"] = nlohmann::ordered_json::array();
  json["blocked_strategies"].push_back(
      {{"id", "precursor_5htp"}, {"requested", true},
       {"reasons", {{{"alert", "serotonin_syndrome_risk"}, {"with", "escitalopram"}, {"severity", "absolute"}}}}});
  json["requested_supplements"] = nlohmann::ordered_json::array();
  json["requested_supplements"].push_back({{"id", "cofactor_magnesium"}, {"verdict", "acceptable"}, {"requested", true},
                                           {"current", false}, {"reasons", nlohmann::ordered_json::array()}});
  json["requested_supplements"].push_back({{"id", "precursor_5htp"}, {"verdict", "blocked"}, {"requested", true},
                                           {"current", false}, {"reasons", json["blocked_strategies"][0]["reasons"]}});
  json["requested_supplements"].push_back(
      {{"id", "melatonin_supplement"}, {"verdict", "acceptable_with_caution"}, {"requested", false}, {"current", true},
       {"reasons", {{{"alert", "pregnancy_caution"}, {"with", "pregnancy"}, {"severity", "caution"}, {"detail", "Pregnancy"}}}}});
  const auto& kb = ShippedPipeline().knowledge();
  const std::string text = EvaluationToText(json, kb);
  std::string summary;
  for (const auto& line : SummaryLines(text)) summary += line + "\n";
  const size_t section = summary.find("REQUESTED OR TAKEN (2 of 2)");
  ASSERT_NE(section, std::string::npos) << summary;
  const size_t melatonin = summary.find("Melatonin (taken)", section), magnesium = summary.find("Magnesium (requested)", section);
  ASSERT_NE(melatonin, std::string::npos) << summary;
  ASSERT_NE(magnesium, std::string::npos) << summary;
  EXPECT_LT(melatonin, magnesium) << "the caution first";
  EXPECT_NE(summary.find("why: Pregnancy / lactation restriction with Pregnancy", melatonin), std::string::npos);
  EXPECT_EQ(summary.find("5-hydroxytryptophan", section), std::string::npos) << "blocked: listed under BLOCKED only";
  const std::string markdown = EvaluationToMarkdown(json, kb), html = EvaluationToHtml(json, kb);
  EXPECT_NE(markdown.find("- Melatonin (taken): acceptable with caution: Pregnancy / lactation restriction"), std::string::npos);
  EXPECT_NE(html.find("Requested or taken"), std::string::npos);
  EXPECT_NE(html.find("Melatonin (taken): "), std::string::npos);
}

TEST(RenderText, ALifestyleNumberKeepsItsUnit) {
  auto json = WithAlerts().json;
  json["deficits"][0]["evidence_for"] = nlohmann::ordered_json::array();
  json["deficits"][0]["evidence_for"].push_back({{"kind", "lifestyle"}, {"id", "protein_g_per_day"},
                                                 {"text", "protein_g_per_day 45"}, {"rule", "protein_low"}});
  const auto& kb = ShippedPipeline().knowledge();
  ASSERT_EQ(kb.Find("protein_g_per_day")->label, "Protein intake (g/day)");  // the unit only in the gloss
  for (const std::string& text : {EvaluationToText(json, kb), EvaluationToMarkdown(json, kb), EvaluationToHtml(json, kb)})
    EXPECT_NE(text.find("Protein intake 45 g/d"), std::string::npos);
}

TEST(RenderHtml, IsSelfContained) {
  for (const auto& report : GoldenReports()) {
    const std::string html = EvaluationToHtml(report.json, ShippedPipeline().knowledge());
    for (const char* external : {"<script src", "<link", "@import", "<img", "<iframe", "src=\"", "href="})
      EXPECT_EQ(html.find(external), std::string::npos) << report.name << ": " << external;
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(url\(\s*[^#\s])"))) << report.name << ": url() to outside the page";
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(=\s*"https?:)"))) << report.name;
    EXPECT_NE(html.find("@media print"), std::string::npos);
    EXPECT_NE(html.find("@page"), std::string::npos);
  }
}

TEST(RenderHtml, EscapesHostileText) {
  auto json = WithAlerts().json;
  json["case_id"] = "<script>alert(1)</script>\"'&";
  json["data_quality"] = {{{"path", "/labs/0/<b>"}, {"severity", "warning"}, {"code", "x"}, {"message", "<img src=x>"}}};
  const auto& kb = ShippedPipeline().knowledge();
  const std::string html = EvaluationToHtml(json, kb);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  const std::string markdown = EvaluationToMarkdown(json, kb);
  EXPECT_EQ(markdown.find("<script>"), std::string::npos);
  EXPECT_NE(markdown.find("\\<script\\>"), std::string::npos);
}

TEST(RenderHtml, SummaryFirstThenTheMapWithTheDriversMarked) {
  // A golden case with iron deficiency found: iron is a cofactor on the map (TPH, TH).
  for (const auto& report : GoldenReports()) {
    bool iron = false;
    for (const auto& driver : report.json["drivers"]) iron |= driver["id"] == "iron_deficiency";
    if (!iron || report.json["deficits"].empty()) continue;
    const std::string html = EvaluationToHtml(report.json, ShippedPipeline().knowledge());
    const size_t summary = html.find("id=\"summary\""), map = html.find("<svg class=\"pathway-map\"");
    ASSERT_NE(summary, std::string::npos);
    ASSERT_NE(map, std::string::npos);
    EXPECT_LT(summary, map);
    EXPECT_NE(html.find("driver-target"), std::string::npos) << report.name;
    EXPECT_NE(html.find("Iron deficiency (likely): marked on Iron"), std::string::npos) << report.name;
    EXPECT_NE(html.find("<svg class=\"flux-bars\""), std::string::npos);
    for (const char* molecule : {"L-Tryptophan", "Serotonin", "TPH2", "AADC"})
      EXPECT_NE(html.find(molecule), std::string::npos) << molecule;
    EXPECT_NE(html.find("<details class=\"deficit\""), std::string::npos);
    // A cofactor too long for its box shows the abbreviation of its gloss, titled with its label.
    EXPECT_NE(html.find("<title>Tetrahydrobiopterin</title>"), std::string::npos);
    EXPECT_NE(html.find(">BH4</text>"), std::string::npos);
    EXPECT_EQ(html.find(">Tetrahydrobi...</text>"), std::string::npos);
    return;
  }
  FAIL() << "no golden case finds iron deficiency";
}

}  // namespace
}  // namespace nflux::report
