// CaseHistory: three visits of one patient, ferritin 12 -> 25 -> 60 ng/mL and PHQ-9 falling.
#include <gtest/gtest.h>

#include "audit/audit.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::audit {
namespace {

using testing::ShippedPipeline;

std::string Visit(const std::string& ferritin, const std::string& unit, const std::string& date, int phq9,
                  bool with_b12) {
  std::string labs = R"({"test": "ferritin", "value": )" + ferritin + R"(, "unit": ")" + unit + R"(", "date": ")" +
                     date + R"("})";
  if (with_b12) labs += R"(, {"test": "vitamin_b12", "value": 500, "unit": "pg/mL", "date": "2026-01-02"})";
  return R"({"case_id": "course-1", "patient": {"sex": "female", "age_years": 34},)"
         R"( "symptoms": {"low_mood": 2, "fatigue": 2},)"
         R"( "questionnaires": {"phq9": {"total": )" + std::to_string(phq9) + R"(}}, "labs": [)" + labs + "]}";
}

std::vector<store::CaseVersion> Versions() {
  return {{"course-1", 1, "2026-01-10T09:00:00Z", "", Visit("12", "ng/mL", "2026-01-09", 14, true), "", ""},
          {"course-1", 2, "2026-03-10T09:00:00Z", "", Visit("25", "ng/mL", "2026-03-08", 9, true), "", ""},
          {"course-1", 3, "2026-06-10T09:00:00Z", "", Visit("60", "ug/L", "2026-06-01", 4, false), "", ""}};
}

const HistoryRow* Row(const CaseCourse& course, const std::string& kind, const std::string& id) {
  for (const auto& row : course.rows)
    if (row.kind == kind && row.id == id) return &row;
  return nullptr;
}

struct Expected {
  bool present;
  double value;
  std::string shown, entered, change;
};

void ExpectCells(const HistoryRow* row, const std::vector<Expected>& expected) {
  ASSERT_NE(row, nullptr);
  ASSERT_EQ(row->cells.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(row->id + " visit " + std::to_string(i + 1));
    EXPECT_EQ(row->cells[i].present, expected[i].present);
    EXPECT_DOUBLE_EQ(row->cells[i].value, expected[i].value);
    EXPECT_EQ(row->cells[i].shown, expected[i].shown);
    EXPECT_EQ(row->cells[i].entered, expected[i].entered);
    EXPECT_EQ(row->cells[i].change, expected[i].change);
  }
}

TEST(AuditHistory, ThreeVisits) {
  auto course = CaseHistory(ShippedPipeline(), Versions());
  ASSERT_OK(course);
  EXPECT_EQ(course->case_id, "course-1");
  ASSERT_EQ(course->visits.size(), 3u);
  EXPECT_EQ(course->visits[0].visit_date, "2026-01-09");  // the latest lab date
  EXPECT_EQ(course->visits[2].visit_date, "2026-06-01");
  EXPECT_EQ(course->visits[1].stored_at, "2026-03-10T09:00:00Z");
  ASSERT_GE(course->rows.size(), 3u);
  EXPECT_EQ(course->rows[0].id, "ferritin");  // labs first, in the order first seen
  EXPECT_EQ(course->rows[1].id, "vitamin_b12");
  EXPECT_EQ(course->rows[2].id, "phq9");
  EXPECT_EQ(course->rows[0].unit, "ng/mL");
  ExpectCells(Row(*course, "lab", "ferritin"), {{true, 12, "12 ng/mL", "", ""},
                                                {true, 25, "25 ng/mL", "", "+13 ng/mL (+108%)"},
                                                {true, 60, "60 ng/mL", "60 ug/L", "+35 ng/mL (+140%)"}});
  ExpectCells(Row(*course, "lab", "vitamin_b12"), {{true, 500, "500 pg/mL", "", ""},
                                                   {true, 500, "500 pg/mL", "", "0"},
                                                   {false, 0, "", "", "gone"}});
  ExpectCells(Row(*course, "questionnaire", "phq9"), {{true, 14, "14 (moderate)", "", ""},
                                                      {true, 9, "9 (mild)", "", "-5"},
                                                      {true, 4, "4 (minimal)", "", "-5"}});
  // Iron repleted: the synthesis deficits are gone with the B12 result.
  EXPECT_EQ(course->notes[2], (std::vector<std::string>{"gone: lab vitamin_b12", "gone: deficit dopamine_synthesis",
                                                        "gone: deficit serotonin_synthesis"}));
}

TEST(AuditHistory, FluxAndDeficitsFollowTheEvaluations) {
  auto course = CaseHistory(ShippedPipeline(), Versions());
  ASSERT_OK(course);
  std::vector<store::CaseVersion> versions = Versions();
  for (size_t v = 0; v < versions.size(); ++v) {
    pipeline::EvaluationOptions options;
    auto evaluated = ShippedPipeline().Evaluate(versions[v].submitted, options);
    ASSERT_OK(evaluated);
    double synthesis = evaluated->flux.values.at("serotonin.synthesis");
    const HistoryRow* row = Row(*course, "flux", "serotonin.synthesis");
    ASSERT_NE(row, nullptr);
    EXPECT_NEAR(row->cells[v].value, synthesis, 5e-5);
  }
  // Iron repletion raises serotonin synthesis over the visits.
  const HistoryRow* row = Row(*course, "flux", "serotonin.synthesis");
  EXPECT_LT(row->cells[0].value, row->cells[2].value);
  EXPECT_TRUE(row->cells[1].change.starts_with("+")) << row->cells[1].change;
}

TEST(AuditHistory, Renderers) {
  auto course = CaseHistory(ShippedPipeline(), Versions());
  ASSERT_OK(course);
  std::string text = HistoryToText(*course);
  EXPECT_TRUE(text.starts_with("case course-1: 3 visit(s)\n"
                              "kind           measure                  v1 2026-01-09  v2 2026-03-08                v3 2026-06-01\n"
                              "lab            ferritin (ng/mL)         12 ng/mL       25 ng/mL, +13 ng/mL (+108%)  "
                              "60 ng/mL [60 ug/L], +35 ng/mL (+140%)\n"))
      << text;
  EXPECT_NE(text.find("60 ng/mL [60 ug/L], +35 ng/mL (+140%)"), std::string::npos) << text;
  EXPECT_NE(text.find("changes\n  v2: gone: deficit noradrenergic_tone\n  v3: gone: lab vitamin_b12; "), std::string::npos) << text;
  std::string markdown = HistoryToMarkdown(*course);
  EXPECT_NE(markdown.find("| kind | measure | v1 2026-01-09 | v2 2026-03-08 | v3 2026-06-01 |\n"
                          "| --- | --- | ---: | ---: | ---: |\n"
                          "| lab | ferritin (ng/mL) | 12 ng/mL | 25 ng/mL, +13 ng/mL (+108%) |"),
            std::string::npos)
      << markdown;
  auto json = HistoryToJson(*course);
  EXPECT_EQ(json["rows"][0]["cells"][2].dump(),
            R"j({"value":60.0,"shown":"60 ng/mL","entered":"60 ug/L","change":"+35 ng/mL (+140%)"})j");
  EXPECT_EQ(json["rows"][1]["cells"][2].dump(), R"({"change":"gone"})");
}

}  // namespace
}  // namespace nflux::audit
