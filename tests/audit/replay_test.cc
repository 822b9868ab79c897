// Replay's pure core: a run "stored" by the test replays identical; a tampered one shows exactly
// what was changed.
#include <fstream>

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_support.h"
#include "golden/golden.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::audit {
namespace {

using nlohmann::ordered_json;
using testing::ShippedPipeline;

struct StoredRun {
  store::RunRecord run;
  store::CaseVersion version;
};

// A run as EvaluateAndStore would store it, built by hand (no store needed).
StoredRun Store(const std::string& golden, const pipeline::EvaluationOptions& options) {
  StoredRun out;
  out.version.case_id = golden;
  out.version.version = 1;
  out.version.submitted = testing::GoldenCaseText(golden);
  auto stored = testing::EvaluateForStore(ShippedPipeline(), out.version.submitted, options, "run-7");
  out.run.summary.id = 7;
  out.run.options = OptionsToJson(options);
  out.run.evaluation = stored.evaluation;
  out.run.trace = stored.trace;
  return out;
}

// The given flux values of a golden case (its expectation's "flux"), as `rules test` evaluates it.
inference::FluxValues GivenFlux(const std::string& golden) {
  std::ifstream in(std::string(NFLUX_SOURCE_DIR "/rules/tests/") + golden + ".expect.json");
  nlohmann::json expect = nlohmann::json::parse(in, nullptr, false);
  if (!expect.is_object() || !expect.contains("flux")) return {};
  auto flux = pipeline::FluxFromJson(expect["flux"], golden);
  EXPECT_TRUE(flux.ok()) << flux.status().message();
  return flux.ok() ? *flux : inference::FluxValues{};
}

TEST(AuditReplay, EveryGoldenCaseReplaysIdentical) {
  auto names = golden::FindCases(NFLUX_SOURCE_DIR "/rules/tests");
  ASSERT_OK(names);
  ASSERT_GT(names->size(), 100u);
  for (const auto& golden : *names) {
    SCOPED_TRACE(golden);
    pipeline::EvaluationOptions options;
    options.source_name = golden + ".case.json";
    options.given_flux = GivenFlux(golden);
    StoredRun stored = Store(golden, options);
    auto diff = ReplayRun(ShippedPipeline(), stored.run, stored.version);
    ASSERT_OK(diff);
    EXPECT_TRUE(diff->identical()) << DiffToText(*diff);
  }
}

TEST(AuditReplay, TamperedEvaluationShowsExactlyTheEdit) {
  StoredRun stored = Store("flux_model_iron_b6_serotonin", {});
  ordered_json& deficit = stored.run.evaluation["deficits"][0];
  ordered_json real = deficit["certainty"];
  deficit["certainty"] = 0.123;
  auto diff = ReplayRun(ShippedPipeline(), stored.run, stored.version);
  ASSERT_OK(diff);
  EXPECT_EQ(DiffToText(*diff),
            "run-7 -> replay: 1 difference(s)\ndeficits\n  ~ " + deficit["id"].get<std::string>() +
                " certainty: 0.123 -> " + real.dump() + "\n");
}

TEST(AuditReplay, GivenFluxValuesAreReplayedFromTheStoredOptions) {
  pipeline::EvaluationOptions options;
  options.given_flux.values["serotonin.synthesis"] = 0.4;
  options.given_flux.assumed["dopamine.synthesis"] = true;
  StoredRun stored = Store("alcohol_low_b6", options);
  EXPECT_EQ(stored.run.options.dump(),
            R"({"strict":false,"source_name":"","predicted_effects":true,"run_limit":100000,)"
            R"("flux":{"serotonin.synthesis":0.4,"assumed":["dopamine.synthesis"]}})");
  auto diff = ReplayRun(ShippedPipeline(), stored.run, stored.version);
  ASSERT_OK(diff);
  EXPECT_TRUE(diff->identical()) << DiffToText(*diff);

  stored.run.options.erase("flux");  // replayed without them, the evaluation differs
  diff = ReplayRun(ShippedPipeline(), stored.run, stored.version);
  ASSERT_OK(diff);
  EXPECT_FALSE(diff->identical());
  EXPECT_FALSE(diff->other.empty());  // at least the overrides
}

TEST(AuditReplay, OptionsRoundTrip) {
  pipeline::EvaluationOptions options;
  options.strict = true;
  options.source_name = "a.json";
  options.predicted_effects = false;
  options.engine.run_limit = 50;
  options.given_flux.values["gaba.level"] = 0.7;
  auto back = OptionsFromJson(OptionsToJson(options), "run-1");
  ASSERT_OK(back);
  EXPECT_EQ(OptionsToJson(*back), OptionsToJson(options));
  EXPECT_TRUE(back->engine.trace);

  auto bad = OptionsFromJson(ordered_json{{"flux", {{"serotonin.synth", 1}}}}, "run-1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "run-1: options /flux: /serotonin.synth: not a flux index (PATHWAY.INDEX, e.g. serotonin.synthesis)");
}

TEST(AuditReplay, ACaseThatNoLongerParsesIsAnErrorNamingTheRun) {
  StoredRun stored = Store("alcohol_low_b6", {});
  stored.version.submitted = "{";
  auto diff = ReplayRun(ShippedPipeline(), stored.run, stored.version);
  ASSERT_FALSE(diff.ok());
  EXPECT_TRUE(diff.status().message().starts_with("run-7: the stored case no longer evaluates: ")) << diff.status().message();
}

}  // namespace
}  // namespace nflux::audit
