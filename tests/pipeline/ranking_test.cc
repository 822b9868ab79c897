// End-to-end tests of the ranking by cause and of next_best_data (docs/ranking.md) with the shipped
// knowledge and rules: realistic cases through Pipeline::Evaluate and the JSON report.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/text.h"
#include "pipeline/pipeline.h"
#include "report/report.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::pipeline {
namespace {

using nflux::testing::ShippedPipeline;

// A premenopausal woman with ferritin 12, fatigue, low mood, insomnia and five coffees a day.
constexpr const char* kIronDeficient = R"({
  "case_id": "ranking-iron",
  "patient": {"sex": "female", "age_years": 32, "pregnant": false, "menopausal_status": "premenopausal"},
  "symptoms": {"fatigue": 3, "low_mood": 2, "low_motivation": 2, "insomnia_onset": 2, "anxiety": 2,
               "poor_concentration": 2, "restless_legs": 2},
  "labs": [{"test": "ferritin", "value": 12, "unit": "ng/mL"}, {"test": "hs_crp", "value": 0.6, "unit": "mg/L"}],
  "medications": [],
  "lifestyle": {"caffeine_cups_per_day": 5, "exercise_min_per_week": 60}
})";

// A vegan man with serum B12 150 pg/mL and homocysteine 22 umol/L.
constexpr const char* kVeganB12 = R"({
  "case_id": "ranking-vegan-b12",
  "patient": {"sex": "male", "age_years": 34},
  "symptoms": {"fatigue": 2, "low_mood": 2, "poor_concentration": 2, "paresthesia": 1},
  "labs": [{"test": "vitamin_b12", "value": 150, "unit": "pg/mL"},
           {"test": "homocysteine", "value": 22, "unit": "umol/L"},
           {"test": "folate_serum", "value": 12, "unit": "ng/mL"}],
  "medications": [],
  "lifestyle": {"diet": "vegan"}
})";

// Symptoms only: tired, low, poor sleep; no labs at all.
constexpr const char* kNoLabs = R"({
  "case_id": "ranking-no-labs",
  "patient": {"sex": "female", "age_years": 41, "pregnant": false, "menopausal_status": "premenopausal"},
  "symptoms": {"fatigue": 3, "low_mood": 2, "low_motivation": 2, "poor_concentration": 2, "cold_intolerance": 2,
               "weight_gain": 1, "hair_thinning": 1},
  "conditions": [{"id": "heavy_menstrual_bleeding"}, {"id": "obesity"}],
  "medications": [],
  "lifestyle": {"diet": "vegetarian"}
})";

std::vector<std::string> StrategyIds(const CaseEvaluation& result) {
  std::vector<std::string> ids;
  for (const auto& strategy : result.evaluation.strategies) ids.push_back(strategy.id);
  return ids;
}

size_t Position(const std::vector<std::string>& ids, const std::string& id) {
  auto it = std::find(ids.begin(), ids.end(), id);
  EXPECT_NE(it, ids.end()) << id << " not suggested";
  return static_cast<size_t>(it - ids.begin());
}

CaseEvaluation Evaluated(const char* text, bool predicted_effects = true) {
  EvaluationOptions options;
  options.predicted_effects = predicted_effects;
  auto result = ShippedPipeline().Evaluate(text, options);
  EXPECT_OK(result);
  return result.ok() ? std::move(result).value() : CaseEvaluation{};
}

TEST(RankingByCause, IronRanksAboveCaffeineReductionWhenFerritinConfirmsIronDeficiency) {
  CaseEvaluation result = Evaluated(kIronDeficient);
  std::vector<std::string> ids = StrategyIds(result);
  EXPECT_LT(Position(ids, "cofactor_iron"), Position(ids, "lifestyle_caffeine_reduction"));
  EXPECT_EQ("cofactor_iron", ids.front());
  auto json = ShippedPipeline().ReportJson(result);
  const auto& iron = json["strategies"][0];
  EXPECT_EQ("cofactor_iron", iron["id"]);
  EXPECT_GT(iron["score"].get<double>(), 0.5);
  EXPECT_EQ(0u, iron["rank_reason"].get<std::string>().rfind("corrects iron_deficiency (likely 0.85, from ferritin 12 ng/mL)", 0))
      << iron["rank_reason"];
  for (const auto& strategy : json["strategies"]) {
    EXPECT_TRUE(strategy["score"].is_number()) << strategy["id"];
    EXPECT_FALSE(strategy["rank_reason"].get<std::string>().empty()) << strategy["id"];
  }
}

TEST(RankingByCause, TextAndMarkdownShowTheScoreAndTheReason) {
  auto json = ShippedPipeline().ReportJson(Evaluated(kIronDeficient));
  const std::string score = FormatNumber(json["strategies"][0]["score"].get<double>(), 4);
  std::string text = report::EvaluationToText(json, ShippedPipeline().knowledge());
  std::string markdown = report::EvaluationToMarkdown(json, ShippedPipeline().knowledge());
  // The reason is shown with labels: "corrects Iron deficiency (likely 0.85, ...)".
  EXPECT_NE(text.find("score " + score), std::string::npos) << text;
  EXPECT_NE(text.find("ranking: corrects Iron deficiency (likely 0.85"), std::string::npos) << text;
  EXPECT_NE(markdown.find("score " + score), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("  - ranking: corrects Iron deficiency (likely 0.85"), std::string::npos) << markdown;
}

TEST(RankingByCause, B12RanksAboveRiboflavinInAB12DeficientVegan) {
  std::vector<std::string> ids = StrategyIds(Evaluated(kVeganB12));
  EXPECT_LT(Position(ids, "cofactor_b12"), Position(ids, "cofactor_riboflavin"));
}

// The golden harness and `explain` evaluate without showing predicted effects; they see the order
// `evaluate` shows.
TEST(RankingByCause, EveryFrontEndSeesOneOrder) {
  for (const char* text : {kIronDeficient, kVeganB12, kNoLabs}) {
    CaseEvaluation shown = Evaluated(text, true), hidden = Evaluated(text, false);
    EXPECT_EQ(StrategyIds(shown), StrategyIds(hidden));
    for (size_t i = 0; i < shown.evaluation.strategies.size() && i < hidden.evaluation.strategies.size(); ++i)
      EXPECT_EQ(shown.evaluation.strategies[i].rank_reason, hidden.evaluation.strategies[i].rank_reason);
  }
}

TEST(NextBestData, WithNoLabsTheBasicWorkUpComesFirst) {
  auto json = ShippedPipeline().ReportJson(Evaluated(kNoLabs));
  const auto& next = json["next_best_data"];
  ASSERT_FALSE(next.empty());
  EXPECT_TRUE(next[0]["first_line"].get<bool>()) << next.dump(1);
  std::vector<std::string> inputs;
  bool second_line_seen = false;
  for (const auto& entry : next) {
    inputs.push_back(entry["input"]);
    // The basic work-up is one block at the top.
    if (!entry["first_line"].get<bool>()) second_line_seen = true;
    else EXPECT_FALSE(second_line_seen) << next.dump(1);
  }
  EXPECT_NE(std::find(inputs.begin(), inputs.end(), "lab:ferritin"), inputs.end()) << next.dump(1);
  EXPECT_NE(std::find(inputs.begin(), inputs.end(), "lab:tsh"), inputs.end()) << next.dump(1);
}

TEST(NextBestData, ADerivedIndexIsNeverSuggestedOnlyItsMissingInputs) {
  for (const char* text : {kIronDeficient, kVeganB12, kNoLabs}) {
    const auto report = ShippedPipeline().ReportJson(Evaluated(text));  // kept: a range-for over a temporary's member dangles
    for (const auto& entry : report["next_best_data"])
      EXPECT_NE(0u, entry["input"].get<std::string>().rfind("derived:", 0)) << entry.dump();
  }
  // Without labs, HOMA-IR would decide insulin resistance: its input labs stand for it.
  bool homa_inputs = false;
  const auto next = ShippedPipeline().ReportJson(Evaluated(kNoLabs))["next_best_data"];
  for (const auto& entry : next)
    homa_inputs = homa_inputs || (entry["input"].get<std::string>().rfind("lab:", 0) == 0 &&
                                  entry["why"].get<std::string>().find("an input of homa_ir") != std::string::npos);
  EXPECT_TRUE(homa_inputs) << next.dump(1);
}

}  // namespace
}  // namespace nflux::pipeline
