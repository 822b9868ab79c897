// DiffEvaluations: one change made to a real evaluation shows as exactly that change.
#include <functional>

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_support.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::audit {
namespace {

using nlohmann::ordered_json;
using testing::ShippedPipeline;

const testing::StoredEvaluation& Base() {
  static const testing::StoredEvaluation base = testing::EvaluateForStore(
      ShippedPipeline(), testing::GoldenCaseText("flux_model_iron_b6_serotonin"), {}, "run-1");
  return base;
}

ordered_json Empty() { return {{"added", ordered_json::array()}, {"removed", ordered_json::array()}, {"changed", ordered_json::array()}}; }

// The diff as JSON with every section empty but `section`, which is `expected`.
ordered_json Only(const std::string& section, const ordered_json& expected) {
  ordered_json out = {{"identical", false}, {"a", "A"}, {"b", "B"}};
  for (const char* key : {"versions", "alerts", "deficits", "drivers", "strategies", "blocked_strategies",
                          "data_quality", "trace"})
    out[key] = key == section ? expected : Empty();
  out["other"] = section == "other" ? expected : ordered_json::array();
  return out;
}

ordered_json Changed(const std::string& id, const std::string& field, const ordered_json& before, const ordered_json& after) {
  ordered_json out = Empty();
  out["changed"].push_back({{"id", id}, {"field", field}, {"before", before}, {"after", after}});
  return out;
}

// The first rule of the trace that was considered but did not fire.
size_t FirstUnfired(const ordered_json& trace) {
  for (size_t i = 0; i < trace["rules"].size(); ++i)
    if (!trace["rules"][i]["fired"].get<bool>()) return i;
  ADD_FAILURE() << "every rule fired";
  return 0;
}

struct DiffCase {
  std::string name;
  std::function<void(ordered_json& evaluation, ordered_json& trace)> change;  // made to B
  std::function<ordered_json(const ordered_json& evaluation, const ordered_json& trace)> expected;  // DiffToJson, from A
};

const std::vector<DiffCase>& Cases() {
  static const std::vector<DiffCase> cases = {
      {"deficit certainty", [](ordered_json& e, ordered_json&) { e["deficits"][0]["certainty"] = 0.5; },
       [](const ordered_json& e, const ordered_json&) {
         return Only("deficits", Changed(e["deficits"][0]["id"], "certainty", e["deficits"][0]["certainty"], 0.5));
       }},
      {"alert added",
       [](ordered_json& e, ordered_json&) {
         e["alerts"].push_back({{"id", "serotonin_syndrome_risk"}, {"severity", "high"}, {"message", "m"}});
       },
       [](const ordered_json&, const ordered_json&) {
         ordered_json section = Empty();
         section["added"].push_back("serotonin_syndrome_risk");
         return Only("alerts", section);
       }},
      {"strategy verdict",
       [](ordered_json& e, ordered_json&) {
         ordered_json strategy = e["strategies"][0];
         e["strategies"].erase(0);
         e["blocked_strategies"].push_back({{"id", strategy["id"]}, {"requested", false}, {"current", false}, {"reasons", ordered_json::array()}});
       },
       [](const ordered_json& e, const ordered_json&) {
         return Only("strategies", Changed(e["strategies"][0]["id"], "verdict", "acceptable", "blocked"));
       }},
      {"rule fired only in B",
       [](ordered_json&, ordered_json& t) {
         size_t i = FirstUnfired(t);
         t["rules"][i]["fired"] = true;
         t["rules"][i]["order"] = 99;
       },
       [](const ordered_json&, const ordered_json& t) {
         ordered_json section = Empty();
         section["added"].push_back(t["rules"][FirstUnfired(t)]["rule"]);
         return Only("trace", section);
       }},
      {"rule strength",
       [](ordered_json&, ordered_json& t) { t["rules"][0]["strength"] = 0.01; },
       [](const ordered_json&, const ordered_json& t) {
         return Only("trace", Changed(t["rules"][0]["rule"], "strength", t["rules"][0]["strength"], 0.01));
       }},
      {"unrelated field",
       [](ordered_json& e, ordered_json&) { e["labs"][0]["input"]["value"] = 6; },
       [](const ordered_json& e, const ordered_json&) {
         return Only("other", ordered_json::array({{{"path", "/labs/ferritin/input/value"},
                                                     {"before", e["labs"][0]["input"]["value"]},
                                                     {"after", 6}}}));
       }},
      {"rules version",
       [](ordered_json& e, ordered_json&) { e["versions"]["rules"] = "sha256:other"; },
       [](const ordered_json& e, const ordered_json&) {
         return Only("versions", Changed("rules", "", e["versions"]["rules"], "sha256:other"));
       }},
  };
  return cases;
}

TEST(AuditDiff, IdenticalEvaluationsAreIdentical) {
  EvaluationDiff diff = DiffEvaluations(Base().evaluation, Base().trace, Base().evaluation, Base().trace);
  EXPECT_TRUE(diff.identical());
  EXPECT_EQ(DiffToText(diff), "identical\n");
  EXPECT_EQ(DiffToJson(diff), [] {
    ordered_json all = Only("", {});
    all["identical"] = true;
    all["other"] = ordered_json::array();
    return all;
  }());
}

TEST(AuditDiff, TraceIdIsIgnored) {
  ordered_json other = Base().evaluation;
  other["trace_id"] = "run-2";
  EXPECT_TRUE(DiffEvaluations(Base().evaluation, Base().trace, other, Base().trace).identical());
}

TEST(AuditDiff, OneChangeShowsAsExactlyThatChange) {
  ASSERT_FALSE(Base().evaluation["deficits"].empty());
  ASSERT_FALSE(Base().evaluation["strategies"].empty());
  ASSERT_TRUE(Base().evaluation["strategies"][0]["cautions"].empty());  // so its verdict is "acceptable"
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    ordered_json evaluation = Base().evaluation, trace = Base().trace;
    c.change(evaluation, trace);
    EvaluationDiff diff = DiffEvaluations(Base().evaluation, Base().trace, evaluation, trace);
    EXPECT_FALSE(diff.identical());
    EXPECT_EQ(DiffToJson(diff).dump(2), c.expected(Base().evaluation, Base().trace).dump(2));
  }
}

TEST(AuditDiff, TheSameContentInAnotherOrderIsNotIdentical) {
  ordered_json reordered = ordered_json::object();
  std::vector<std::string> keys;
  for (const auto& [key, value] : Base().evaluation.items()) keys.push_back(key);
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) reordered[*it] = Base().evaluation[*it];
  EvaluationDiff diff = DiffEvaluations(Base().evaluation, Base().trace, reordered, Base().trace);
  EXPECT_FALSE(diff.identical());
  ASSERT_EQ(diff.other.size(), 1u);
  EXPECT_EQ(diff.other[0].field, "order");
}

TEST(AuditDiff, RenderersNameEveryChange) {
  ordered_json evaluation = Base().evaluation;
  std::string deficit = evaluation["deficits"][0]["id"];
  std::string before = evaluation["deficits"][0]["certainty"].dump();
  evaluation["deficits"][0]["certainty"] = 0.5;
  evaluation["alerts"].push_back({{"id", "serotonin_syndrome_risk"}, {"severity", "high"}});
  EvaluationDiff diff = DiffEvaluations(Base().evaluation, Base().trace, evaluation, Base().trace, "run-1", "replay");
  EXPECT_EQ(DiffToText(diff),
            "run-1 -> replay: 2 difference(s)\n"
            "alerts\n"
            "  + serotonin_syndrome_risk (only in replay)\n"
            "deficits\n"
            "  ~ " + deficit + " certainty: " + before + " -> 0.5\n");
  EXPECT_EQ(DiffToMarkdown(diff),
            "## run-1 -> replay\n\n2 difference(s).\n"
            "\n### alerts\n\n- added `serotonin_syndrome_risk` (only in replay)\n"
            "\n### deficits\n\n- `" + deficit + "` certainty: `" + before + "` -> `0.5`\n");
}

TEST(AuditDiff, ConclusionsDifferAsTheGoldenCasesPinThem) {
  const inference::Evaluation evaluation = [] {
    auto evaluated = ShippedPipeline().Evaluate(testing::GoldenCaseText("flux_model_iron_b6_serotonin"), {});
    EXPECT_TRUE(evaluated.ok());
    return evaluated.ok() ? evaluated->evaluation : inference::Evaluation{};
  }();
  ordered_json base = ConclusionsJson(evaluation);
  ASSERT_GE(base["strategies"].size(), 2u);
  ASSERT_FALSE(base["drivers"].empty());
  struct Row {
    std::string name;
    std::function<void(ordered_json&)> change;
    bool differ;
  };
  const std::vector<Row> rows = {
      {"nothing", [](ordered_json&) {}, false},
      {"score", [](ordered_json& c) { c["strategies"][0]["score"] = 9; }, false},
      {"rank", [](ordered_json& c) { c["strategies"][0]["rank"] = 9; }, true},
      {"driver removed", [](ordered_json& c) { c["drivers"].erase(0); }, true},
      {"verdict", [](ordered_json& c) { c["strategies"][0]["verdict"] = "acceptable_with_caution"; }, true},
      {"strategy removed", [](ordered_json& c) { c["strategies"].erase(1); }, true},
      {"deficit certainty", [](ordered_json& c) { c["deficits"][0]["certainty"] = 0.01; }, true},
      {"alert severity", [](ordered_json& c) { c["alerts"][0]["severity"] = "urgent"; }, true},
      {"requested verdict",
       [](ordered_json& c) { c["requested_supplements"].push_back({{"id", "cofactor_iron"}, {"verdict", "blocked"}}); },
       true},
  };
  for (const auto& row : rows) {
    ordered_json changed = base;
    row.change(changed);
    EXPECT_EQ(DiffEvaluations(base, nullptr, changed, nullptr).ConclusionsDiffer(), row.differ) << row.name;
  }
}

}  // namespace
}  // namespace nflux::audit
