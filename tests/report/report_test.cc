// Tests of engine/report: the evaluation JSON of shared/contracts/output.md (keys and order,
// ranking, evidence, blocked strategies, next best data) and the text, Markdown and HTML renderings
// (more of them in render_test.cc).
#include "report/report.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/sha256.h"
#include "base/text.h"
#include "explain/fixture.h"

namespace nflux::report {
namespace {

nlohmann::ordered_json Report() {
  const auto& fx = fixture::Evaluate();
  return EvaluationToJson(*fx.engine, fx.c, fx.evaluation, VersionsOf(*fx.engine));
}

TEST(ReportJsonTest, HasTheContractKeysInOrder) {
  auto json = Report();
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"case_id", "versions", "alerts", "data_quality", "labs", "derived",
                                            "questionnaires", "drivers", "deficits", "strategies", "blocked_strategies",
                                            "requested_supplements", "flux", "next_best_data", "overrides", "trace_id"}));
  EXPECT_EQ(json["case_id"], "fixture-1");
  EXPECT_EQ(json["versions"]["engine"], NFLUX_VERSION);
  EXPECT_EQ(json["versions"]["knowledge"], fixture::Knowledge()->version());
  EXPECT_EQ(json["trace_id"].get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_TRUE(json["flux"].is_object() && json["flux"].empty());
  std::vector<std::string> lab_keys;
  for (const auto& [key, value] : json["labs"][0].items()) lab_keys.push_back(key);
  ASSERT_GE(lab_keys.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(lab_keys.begin(), lab_keys.begin() + 4),
            (std::vector<std::string>{"test", "input", "value", "unit"}));
}

// The trace id names the reasoning: the same trace gives the same id, and any decision of any rule
// or test changed gives another.
TEST(TraceIdTest, ChangesWithEveryDecisionOfTheTraceAndOnlyThen) {
  const inference::Evaluation& evaluation = fixture::Evaluate().evaluation;
  ASSERT_FALSE(evaluation.trace.rules.empty());
  const Versions versions{NFLUX_VERSION, "sha256:k", "sha256:r"};
  const std::string id = TraceId(evaluation, versions);
  EXPECT_EQ(id, TraceId(inference::Evaluation(evaluation), versions));
  std::vector<std::function<void(inference::Trace&)>> changes = {
      [](inference::Trace& t) { t.rules.front().rule = "another rule"; },
      [](inference::Trace& t) { t.rules.front().fired = !t.rules.front().fired; },
      [](inference::Trace& t) { t.rules.front().strength += 0.001; },
      [](inference::Trace& t) { t.rules.back().order += 1; },
      [](inference::Trace& t) { t.rules.back().contributions.push_back({ConclusionKind::kDriver, "d", 0.5}); },
      [](inference::Trace& t) { t.rules.pop_back(); },
      [](inference::Trace& t) { t.considered += 1; },
      [](inference::Trace& t) { t.stopped = "run limit"; },
      // Moving text between neighbouring fields must not give the same bytes.
      [](inference::Trace& t) {
        t.stopped = std::string(t.rules.front().rule) + t.stopped;
        t.rules.front().rule = {};
      },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    inference::Evaluation changed = evaluation;
    changes[i](changed.trace);
    EXPECT_NE(TraceId(changed, versions), id) << "change " << i;
  }
  for (auto& rule : evaluation.trace.rules)
    if (!rule.tests.empty()) {
      inference::Evaluation changed = evaluation;
      auto& test = changed.trace.rules[&rule - evaluation.trace.rules.data()].tests.front();
      test.text = test.Actual() + ".";  // what it found, written as text and changed
      test.found = inference::Found::kText;
      EXPECT_NE(TraceId(changed, versions), id);
      break;
    }
}

TEST(ReportJsonTest, ListsEveryConcludedDriverWithTheDeficitsItFeeds) {
  const auto& fx = fixture::Evaluate();
  auto json = Report();
  size_t concluded = 0;
  for (const auto& [id, driver] : fx.evaluation.drivers) concluded += driver.certainty > 0;
  ASSERT_GT(concluded, 0u);
  ASSERT_EQ(concluded, json["drivers"].size());
  double previous = 1;
  for (const auto& driver : json["drivers"]) {
    const std::string id = driver["id"];
    const auto& conclusion = fx.evaluation.drivers.at(id);
    EXPECT_NEAR(conclusion.certainty, driver["certainty"].get<double>(), 0.0005);
    EXPECT_LE(driver["certainty"].get<double>(), previous) << id;  // highest certainty first
    previous = driver["certainty"];
    std::vector<std::string> feeds;
    for (const auto& [deficit_id, deficit] : fx.evaluation.deficits)
      if (deficit.certainty > 0 && deficit.drivers.count(id)) feeds.push_back(deficit_id);
    EXPECT_EQ(feeds, driver["feeds"].get<std::vector<std::string>>()) << id;
    EXPECT_EQ(conclusion.rules.empty(), driver["evidence_for"].empty()) << id;
  }
}

TEST(ReportJsonTest, OrdersAlertsBySeverity) {
  auto json = Report();
  const std::vector<std::string> kOrder = {"urgent", "high", "caution", "info"};
  std::vector<std::string> severities;
  for (const auto& alert : json["alerts"]) severities.push_back(alert["severity"]);
  ASSERT_GE(severities.size(), 3u);  // serotonin_syndrome_risk (high), caution, info
  for (size_t i = 1; i < severities.size(); ++i) {
    auto rank = [&](const std::string& s) { return std::find(kOrder.begin(), kOrder.end(), s) - kOrder.begin(); };
    EXPECT_LE(rank(severities[i - 1]), rank(severities[i])) << severities[i - 1] << " before " << severities[i];
  }
  EXPECT_EQ(severities.front(), "high");
  EXPECT_EQ(severities.back(), "info");
}

TEST(ReportJsonTest, DeficitEvidenceNamesTheLabAndRule) {
  auto json = Report();
  ASSERT_FALSE(json["deficits"].empty());
  const auto& deficit = json["deficits"][0];
  EXPECT_EQ(deficit["id"], "serotonin_synthesis");
  EXPECT_EQ(deficit["rank"], 1);
  EXPECT_DOUBLE_EQ(deficit["certainty"].get<double>(), 0.333);
  EXPECT_EQ(deficit["level"], "possible");
  EXPECT_EQ(deficit["drivers"][0]["id"], "iron_deficiency");
  bool found = false;
  for (const auto& evidence : deficit["evidence_for"])
    if (evidence["kind"] == "lab" && evidence["id"] == "ferritin") {
      found = true;
      EXPECT_EQ(evidence["rule"], "ferritin_low_iron");
      EXPECT_NE(evidence["text"].get<std::string>().find("18"), std::string::npos);
      EXPECT_FALSE(evidence["citation"].get<std::string>().empty());
    }
  EXPECT_TRUE(found) << deficit.dump(2);
  ASSERT_EQ(deficit["evidence_against"].size(), 1u);
  EXPECT_EQ(deficit["evidence_against"][0]["rule"], "normal_tsh_against");
}

TEST(ReportJsonTest, BlockedStrategyIsNeverSuggested) {
  auto json = Report();
  bool blocked = false;
  for (const auto& strategy : json["blocked_strategies"])
    if (strategy["id"] == "precursor_5htp") {
      blocked = true;
      EXPECT_EQ(strategy["requested"], true);
      ASSERT_FALSE(strategy["reasons"].empty());
      EXPECT_FALSE(strategy["reasons"][0]["with"].get<std::string>().empty());
    }
  EXPECT_TRUE(blocked) << json["blocked_strategies"].dump(2);
  for (const auto& strategy : json["strategies"]) EXPECT_NE(strategy["id"], "precursor_5htp");
  ASSERT_FALSE(json["strategies"].empty());
  EXPECT_EQ(json["strategies"][0]["id"], "cofactor_iron");
  EXPECT_TRUE(json["strategies"][0]["predicted_effect"].is_object());
  EXPECT_EQ(json["requested_supplements"][0]["verdict"], "blocked");
}

TEST(ReportJsonTest, NextBestDataNamesTheUnmeasuredLab) {
  auto json = Report();
  ASSERT_FALSE(json["next_best_data"].empty());
  EXPECT_EQ(json["next_best_data"][0]["input"], "lab:vitamin_b6_plp");
  EXPECT_GT(json["next_best_data"][0]["impact"].get<double>(), 0);
}

TEST(ReportJsonTest, GroupsGivenFluxPerPathway) {
  const auto& fx = fixture::Evaluate();
  ReportOptions options;
  options.flux.values = {{"serotonin.synthesis", 0.7}, {"dopamine.level", 0.9}};
  auto json = EvaluationToJson(*fx.engine, fx.c, fx.evaluation, VersionsOf(*fx.engine), options);
  EXPECT_DOUBLE_EQ(json["flux"]["serotonin"]["synthesis"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(json["flux"]["dopamine"]["level"].get<double>(), 0.9);
}

TEST(ReportTextTest, AlertsComeFirstAndContentMatches) {
  auto json = Report();
  const auto& kb = *fixture::Knowledge();
  struct Rendering {
    const char* name;
    std::string text;
  };
  const Rendering kRenderings[] = {{"text", EvaluationToText(json, kb)},
                                   {"markdown", EvaluationToMarkdown(json, kb)},
                                   {"html", EvaluationToHtml(json, kb)}};
  const std::string alert_label = kb.Find("serotonin_syndrome_risk")->label;
  const std::string deficit_label = kb.Find("serotonin_synthesis")->label;
  for (const auto& rendering : kRenderings) {
    const std::string& text = rendering.text;
    size_t alert = text.find(alert_label);
    size_t deficit = text.find(deficit_label);
    ASSERT_NE(alert, std::string::npos) << rendering.name << ": " << alert_label;
    ASSERT_NE(deficit, std::string::npos) << rendering.name << ": " << deficit_label;
    EXPECT_LT(alert, deficit) << rendering.name << ": alerts must come first";
    // Ids stay in the details, where a reviewer needs them.
    for (const char* expected : {"ferritin_low_iron", "cofactor_iron", "precursor_5htp", "lab:vitamin_b6_plp"})
      EXPECT_NE(text.find(expected), std::string::npos) << rendering.name << ": " << expected;
  }
}

TEST(ReportEvidenceGrade, EvidenceEntriesCarryTheRulesGradeInEveryRendering) {
  auto json = Report();
  bool found = false;
  for (const auto& deficit : json["deficits"])
    for (const auto& evidence : deficit["evidence_for"])
      if (evidence["rule"] == "ferritin_low_iron") {
        found = true;
        EXPECT_EQ(evidence["grade"], "A");  // who_2020_ferritin is a guideline
      }
  ASSERT_TRUE(found) << json["deficits"].dump(2);
  const auto& kb = *fixture::Knowledge();
  EXPECT_NE(EvaluationToText(json, kb).find("[rule ferritin_low_iron, grade A]"), std::string::npos);
  EXPECT_NE(EvaluationToMarkdown(json, kb).find("(rule `ferritin_low_iron`, grade A)"), std::string::npos);
  EXPECT_NE(EvaluationToHtml(json, kb).find("rule ferritin_low_iron, grade A"), std::string::npos);
}

// TraceId streams the trace through a fixed buffer into SHA-256: the id is still the hash of the
// length-prefixed fields, also when fields are longer than the buffer or cross its end.
TEST(TraceIdTest, HashesTheLengthPrefixedFieldsAcrossTheBuffer) {
  inference::Evaluation evaluation;
  evaluation.trace.firings = 2;
  evaluation.trace.considered = 3;
  inference::RuleTrace rule;
  rule.rule = "r";
  rule.truth = inference::Truth::kTrue;
  rule.fired = true;
  rule.strength = 0.5;
  rule.order = 1;
  rule.tests.push_back({.source = "s", .input = "lab:x", .text = std::string(10000, 'x')});  // > buffer
  // A finding kept as data is hashed as its kind and number, not as the text it would write.
  rule.tests.push_back({.source = "t", .truth = inference::Truth::kTrue, .found = inference::Found::kFluxIndex,
                        .input = "flux:y", .subject = "y", .number = 0.75});
  for (int i = 0; i < 2000; ++i)  // many small fields
    rule.contributions.push_back({ConclusionKind::kDriver, std::to_string(i), 0.25});
  evaluation.trace.rules.push_back(rule);
  const Versions versions{"1.0", "sha256:k", "sha256:r"};
  // Fixed-width little-endian numbers, a double as its bits, texts after their length.
  std::string bytes;
  auto integer = [&](uint64_t value) {
    for (int byte = 0; byte < 8; ++byte) bytes.push_back(static_cast<char>(value >> (8 * byte)));
  };
  auto byte = [&](int value) { bytes.push_back(static_cast<char>(value)); };
  auto real = [&](double value) { integer(std::bit_cast<uint64_t>(value)); };
  auto text = [&](const std::string& field) {
    integer(field.size());
    bytes.append(field);
  };
  text("1.0");
  text("sha256:k");
  text("sha256:r");
  integer(2);  // firings
  integer(3);  // considered
  text("");    // stopped
  integer(1);  // rules
  text("r");
  byte(static_cast<int>(inference::Truth::kTrue));
  byte(1);  // fired
  real(0.5);
  integer(1);  // order
  byte(0);     // clinical
  integer(2);  // tests
  byte(static_cast<int>(inference::Truth::kUnknown));
  byte(static_cast<int>(inference::Found::kText));
  text(std::string(10000, 'x'));
  real(1);  // strength
  byte(static_cast<int>(inference::Truth::kTrue));
  byte(static_cast<int>(inference::Found::kFluxIndex));
  real(0.75);
  real(1);
  integer(2000);
  for (int i = 0; i < 2000; ++i) {
    byte(static_cast<int>(ConclusionKind::kDriver));
    text(std::to_string(i));
    real(0.25);
  }
  EXPECT_EQ(TraceId(evaluation, versions), "sha256:" + Sha256Hex(bytes));
}

// A rule's text (title, file, line, citations, tests as written) is fixed by the rules version,
// which the id hashes; what the case decided is hashed rule by rule.
TEST(TraceIdTest, TheVersionsStandForTheRulesText) {
  inference::Evaluation evaluation;
  inference::RuleTrace rule;
  rule.rule = "r";
  rule.title = "a title";
  rule.tests.push_back({.source = "lab x is low", .truth = inference::Truth::kTrue, .input = "lab:x", .text = "12 ng/mL", .reads_value = true});
  evaluation.trace.rules.push_back(rule);
  const Versions versions{"1.0", "sha256:k", "sha256:r"};
  const std::string id = TraceId(evaluation, versions);
  inference::Evaluation retitled = evaluation;
  retitled.trace.rules[0].title = "another title";
  EXPECT_EQ(id, TraceId(retitled, versions));
  EXPECT_NE(id, TraceId(evaluation, {"1.0", "sha256:k", "sha256:r2"}));
  EXPECT_NE(id, TraceId(evaluation, {"1.0", "sha256:k2", "sha256:r"}));
  EXPECT_NE(id, TraceId(evaluation, {"1.1", "sha256:k", "sha256:r"}));
  inference::Evaluation other_value = evaluation;
  other_value.trace.rules[0].tests[0].text = "13 ng/mL";
  EXPECT_NE(id, TraceId(other_value, versions));
  inference::Evaluation other_outcome = evaluation;
  other_outcome.trace.rules[0].fired = true;
  EXPECT_NE(id, TraceId(other_outcome, versions));
}

// The labs, derived indices and data-quality findings are written straight from the case: the
// same bytes as the case module's JSON put in the contract's key order.
void InOrder(const nlohmann::json& value, const std::vector<std::string>& order, nlohmann::ordered_json& out) {
  if (value.is_array()) {
    out = nlohmann::ordered_json::array();
    for (const auto& item : value) InOrder(item, order, out.emplace_back());
    return;
  }
  if (!value.is_object()) {
    out = nlohmann::ordered_json::parse(value.dump());
    return;
  }
  out = nlohmann::ordered_json::object();
  for (const auto& key : order)
    if (value.contains(key)) InOrder(value[key], {"value", "unit", "low", "high"}, out[key]);
  for (const auto& [key, item] : value.items())
    if (std::find(order.begin(), order.end(), key) == order.end()) out[key] = nlohmann::ordered_json::parse(item.dump());
}

TEST(ReportJsonTest, WritesLabsDerivedAndDataQualityAsTheCaseModuleHoldsThem) {
  const auto& fx = fixture::Evaluate();
  casefile::Case c = fx.c;
  ASSERT_FALSE(c.labs.empty());
  casefile::LabResult lab = c.labs.front();
  lab.input_value = 130.123456;
  lab.input_unit = "";
  lab.value = 176.20198;
  lab.reference_low = 0.000123456;
  lab.reference_high.reset();
  lab.has_optimal = true;
  lab.optimal_status = casefile::OptimalStatus::kUnknown;
  lab.optimal_low = 1234567.0;
  lab.optimal_high = 1e20;
  lab.decision = casefile::LabDecision{knowledge::LimitSide::kBelow, 29.99999, true, "limit µ", "iron_deficiency",
                                       {"who_2020_ferritin", "other"}};
  lab.critical = true;
  lab.date = "2026-01-02";
  lab.collection_time = "08:30";
  c.labs.push_back(lab);
  lab.value.reset();
  lab.status = casefile::LabStatus::kUnknown;
  lab.has_optimal = false;
  lab.decision = casefile::LabDecision{};
  lab.used = false;
  lab.critical = false;
  lab.date.clear();
  c.labs.push_back(lab);
  c.derived.push_back({"homa_ir", 2.345678, "", {"glucose", "insulin"}, "high"});
  c.derived.push_back({"kyn_trp_ratio", 0, "µmol/mmol", {}, "normal"});
  c.data_quality.push_back({"/labs/0", casefile::Severity::kInfo, "assumed_unit", "quote \" and \\ and é"});
  auto json = EvaluationToJson(*fx.engine, c, fx.evaluation, VersionsOf(*fx.engine));
  nlohmann::ordered_json labs, derived, data_quality;
  InOrder(casefile::LabsToJson(c), {"test", "input", "value", "unit", "status", "reference", "optimal_status", "optimal",
                                    "decision", "used"}, labs);
  InOrder(casefile::DerivedToJson(c), {"id", "value", "unit", "from", "status"}, derived);
  InOrder(casefile::DataQualityToJson(c), {"path", "severity", "code", "message"}, data_quality);
  EXPECT_EQ(json["labs"].dump(), labs.dump());
  EXPECT_EQ(json["derived"].dump(), derived.dump());
  EXPECT_EQ(json["data_quality"].dump(), data_quality.dump());
}

// The flux object written without the DOM: pathways in the order their first key came, assumed
// inputs given per pathway, assumed indices listed under their pathway.
TEST(ReportJsonTest, WritesFluxPerPathwayWithWhatWasAssumed) {
  const auto& fx = fixture::Evaluate();
  ReportOptions options;
  options.flux.values = {{"serotonin.synthesis", 0.70004}, {"dopamine.level", 0.9}, {"gaba", 1.2}, {"x.y.z", 2}};
  options.flux.assumed = {{"serotonin.synthesis", true}, {"dopamine.level", true}, {"melatonin", true},
                          {"gaba", false}};
  options.flux_assumed_inputs = {{"dopamine", {"lab:ferritin"}}, {"absent", {"lab:tsh"}}};
  auto json = EvaluationToJson(*fx.engine, fx.c, fx.evaluation, VersionsOf(*fx.engine), options);
  EXPECT_EQ(json["flux"].dump(),
            R"({"dopamine":{"level":0.9,"assumed":["lab:ferritin"]},"gaba":{"value":1.2},)"
            R"("serotonin":{"synthesis":0.7,"assumed":["synthesis"]},"x":{"y.z":2.0},"melatonin":{"assumed":["melatonin"]}})");
}

}  // namespace
}  // namespace nflux::report
