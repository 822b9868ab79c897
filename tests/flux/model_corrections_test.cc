// The flux-model corrections of issue 10 (docs/flux-model.md, "Model corrections"), each on the
// shipped knowledge and rules: every test states the clinical fact and fails on the old model.
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flux/flux.h"
#include "flux/flux_index.h"
#include "knowledge/knowledge.h"
#include "pipeline/pipeline.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::flux {
namespace {

using knowledge::EdgeType;

const pipeline::Pipeline& Shipped() { return testing::ShippedPipeline(); }

// A case of a 45-year-old woman with these labs {test, value, unit}, medications and stressors.
struct CaseSpec {
  std::vector<std::tuple<std::string, double, std::string>> labs;
  std::vector<std::string> medications;
  std::map<std::string, int> stressors;
};
CaseSpec Labs(std::vector<std::tuple<std::string, double, std::string>> labs) { return {std::move(labs), {}, {}}; }
CaseSpec Meds(std::vector<std::string> medications) { return {{}, std::move(medications), {}}; }

std::string CaseText(const CaseSpec& spec) {
  nlohmann::json doc = {{"case_id", "model-corrections"}, {"patient", {{"sex", "female"}, {"age_years", 45}}}};
  doc["labs"] = nlohmann::json::array();
  for (const auto& [test, value, unit] : spec.labs) doc["labs"].push_back({{"test", test}, {"value", value}, {"unit", unit}});
  doc["medications"] = nlohmann::json::array();
  for (const auto& id : spec.medications) doc["medications"].push_back({{"id", id}});
  doc["stressors"] = spec.stressors;
  return doc.dump();
}

FluxResult Flux(const CaseSpec& spec) {
  auto parsed = Shipped().ParseCase(CaseText(spec), "case.json");
  EXPECT_OK(parsed);
  if (!parsed.ok()) return {};
  auto result = Shipped().ComputeFlux(*parsed);
  EXPECT_OK(result);
  return result.ok() ? *result : FluxResult{};
}

inference::Evaluation Evaluate(const CaseSpec& spec, inference::FluxValues given = {}) {
  pipeline::EvaluationOptions options;
  options.given_flux = std::move(given);
  options.predicted_effects = false;
  auto result = Shipped().Evaluate(CaseText(spec), options);
  EXPECT_OK(result);
  return result.ok() ? result->evaluation : inference::Evaluation{};
}

// The state an input gave `node`, or nullopt when no input set it.
std::optional<double> InputState(const FluxResult& r, const std::string& node) {
  for (const Input& input : r.inputs)
    if (input.node == node) return input.value;
  return std::nullopt;
}

bool HasEdge(const std::string& from, EdgeType type, const std::string& to) {
  for (const knowledge::Edge* edge : Shipped().knowledge().OutEdges(from))
    if (edge->type == type && edge->to == to) return true;
  return false;
}

double Certainty(const std::map<std::string, inference::Conclusion>& conclusions, const std::string& id) {
  auto it = conclusions.find(id);
  return it == conclusions.end() ? 0.0 : it->second.certainty;
}

// 1. Carbidopa does not cross the blood-brain barrier: it blocks peripheral AADC only, so with
// levodopa it adds nothing to brain synthesis, and levodopa raises brain dopamine synthesis.
TEST(ModelCorrections, CarbidopaIsPeripheralAndLevodopaRaisesBrainDopamine) {
  FluxResult with_carbidopa = Flux(Meds({"carbidopa_levodopa"}));
  FluxResult levodopa_alone = Flux(Meds({"levodopa"}));
  EXPECT_GT(Index(with_carbidopa, "dopamine.synthesis"), 1.0);
  EXPECT_GT(Index(levodopa_alone, "dopamine.synthesis"), 1.0);
  // No brain-AADC term from carbidopa: every index that reads AADC is the same with and without it.
  for (const char* key : {"dopamine.synthesis", "noradrenaline.synthesis", "serotonin.synthesis"})
    EXPECT_NEAR(Index(with_carbidopa, key), Index(levodopa_alone, key), 1e-12) << key;
  EXPECT_FALSE(HasEdge("decarboxylase_inhibitor", EdgeType::kInhibits, "aadc"));
  EXPECT_TRUE(HasEdge("decarboxylase_inhibitor", EdgeType::kInhibits, "aadc_peripheral"));
}

// 2. Selegiline, rasagiline and safinamide inhibit MAO-B at their usual doses, not MAO-A: serotonin
// (cleared by MAO-A only) keeps its breakdown; the non-selective and MAO-A inhibitors lower it.
TEST(ModelCorrections, MaoAInhibitionSparesSelectiveMaoBInhibitors) {
  for (const char* id : {"selegiline", "rasagiline", "safinamide"}) {
    FluxResult r = Flux(Meds({id}));
    EXPECT_NEAR(Index(r, "serotonin.breakdown"), 1.0, 1e-12) << id;
    EXPECT_LT(Index(r, "dopamine.breakdown"), 0.95) << id << ": MAO-B still degrades dopamine";
    auto parsed = Shipped().ParseCase(CaseText(Meds({id})), "case.json");
    ASSERT_OK(parsed);
    for (const auto& klass : parsed->medications.front().classes)
      EXPECT_FALSE(HasEdge(klass, EdgeType::kInhibits, "mao_a")) << id << " inherits MAO-A from class " << klass;
  }
  for (const char* id : {"phenelzine", "tranylcypromine", "isocarboxazid", "moclobemide", "linezolid", "methylene_blue"})
    EXPECT_LT(Index(Flux(Meds({id})), "serotonin.breakdown"), 0.8) << id;
}

// 3. An MAOI slows serotonin clearance (breakdown down, level up); the extra reuptake flux it causes
// is mass action on a raised level, not "excess clearance".
TEST(ModelCorrections, MaoiIsNotExcessSerotoninClearance) {
  for (const char* id : {"phenelzine", "moclobemide", "tranylcypromine"}) {
    FluxResult r = Flux(Meds({id}));
    EXPECT_LT(Index(r, "serotonin.breakdown"), 1.0) << id;
    EXPECT_GT(Index(r, "serotonin.level"), 1.0) << id;
    EXPECT_EQ(Certainty(Evaluate(Meds({id})).deficits, "serotonin_clearance"), 0.0) << id;
  }
  // The rule still reads faster clearance: breakdown outpacing release (MAO-A up), or a level that
  // falls while synthesis is not lowered (SERT up); not a synthesis deficit, not an MAOI.
  auto clearance = [](decltype(inference::FluxValues::values) values) {
    inference::FluxValues given;
    given.values = std::move(values);
    return Certainty(Evaluate(CaseSpec{}, given).deficits, "serotonin_clearance");
  };
  EXPECT_GT(clearance({{"serotonin.turnover", 1.35}, {"serotonin.level", 0.6}, {"serotonin.synthesis", 0.86}}), 0.0);
  EXPECT_GT(clearance({{"serotonin.level", 0.8}, {"serotonin.synthesis", 1.05}}), 0.0);
  EXPECT_EQ(clearance({{"serotonin.level", 0.8}, {"serotonin.synthesis", 0.8}}), 0.0);
  EXPECT_EQ(clearance({{"serotonin.breakdown", 0.6}, {"serotonin.reuptake", 1.26}, {"serotonin.level", 1.5},
                       {"serotonin.turnover", 0.5}, {"serotonin.synthesis", 0.87}}),
            0.0);
}

// 4. Ferritin is an acute-phase reactant, but a high ferritin alone is not inflammation (nor is a
// low albumin alone, nor a high GGT alone harmful drinking); hs-CRP is.
TEST(ModelCorrections, HighFerritinAloneIsNotInflammation) {
  CaseSpec ferritin_only = Labs({{"ferritin", 400, "ng/mL"}});
  FluxResult r = Flux(ferritin_only);
  EXPECT_FALSE(InputState(r, "inflammation").has_value());
  EXPECT_NEAR(Index(r, "serotonin.synthesis"), 1.0, 1e-12);
  EXPECT_NEAR(Index(r, "dopamine.synthesis"), 1.0, 1e-12);
  EXPECT_EQ(Certainty(Evaluate(ferritin_only).drivers, "inflammation"), 0.0);

  CaseSpec with_crp = Labs({{"ferritin", 400, "ng/mL"}, {"hs_crp", 12, "mg/L"}});
  FluxResult crp = Flux(with_crp);
  ASSERT_TRUE(InputState(crp, "inflammation").has_value());
  EXPECT_GT(*InputState(crp, "inflammation"), 0.0);
  EXPECT_LT(Index(crp, "serotonin.synthesis"), 1.0);
  EXPECT_GE(Certainty(Evaluate(with_crp).drivers, "inflammation"), 0.5);

  EXPECT_FALSE(InputState(Flux(Labs({{"albumin", 2.8, "g/dL"}})), "inflammation").has_value());
  EXPECT_FALSE(InputState(Flux(Labs({{"ggt", 150, "U/L"}})), "alcohol").has_value());
}

// 5. High zinc intake lowers copper absorption; low zinc status does not raise copper. Measuring a
// normal copper (which blocks any inferred copper change) must then change nothing.
TEST(ModelCorrections, LowZincDoesNotRaiseCopper) {
  FluxResult low_zinc = Flux(Labs({{"zinc", 40, "ug/dL"}}));
  FluxResult copper_measured = Flux(Labs({{"zinc", 40, "ug/dL"}, {"copper", 100, "ug/dL"}}));
  for (const char* key : {"noradrenaline.synthesis", "noradrenaline.level", "adrenaline.synthesis"})
    EXPECT_NEAR(Index(low_zinc, key), Index(copper_measured, key), 1e-12) << key;
  EXPECT_FALSE(HasEdge("zinc_cofactor", EdgeType::kDownregulates, "copper_cofactor"));
  for (const auto& p : low_zinc.pathways)
    for (const auto& c : p.contributions[0]) {
      if (c.input != "lab:zinc") continue;
      EXPECT_LE(c.log_change, 0.0) << p.pathway << ": low zinc raised synthesis";
    }
}

// 6. The alcohol node is chronic harmful use: GABA-A down-regulated and NMDA up-regulated
// (withdrawal is glutamatergic), cofactors depleted; not the acute intoxication signs.
TEST(ModelCorrections, AlcoholNodeIsChronicHarmfulUse) {
  EXPECT_FALSE(HasEdge("alcohol", EdgeType::kUpregulates, "gaba_a_receptor"));
  EXPECT_FALSE(HasEdge("alcohol", EdgeType::kInhibits, "nmda_receptor"));
  EXPECT_TRUE(HasEdge("alcohol", EdgeType::kDownregulates, "gaba_a_receptor"));
  EXPECT_TRUE(HasEdge("alcohol", EdgeType::kUpregulates, "nmda_receptor"));
  for (const char* cofactor : {"thiamine", "folate", "vitamin_b6", "magnesium", "zinc_cofactor"})
    EXPECT_TRUE(HasEdge("alcohol", EdgeType::kDepletes, cofactor)) << cofactor;
  FluxResult r = Flux(CaseSpec{{}, {}, {{"alcohol", 3}}});
  EXPECT_LT(Index(r, "gaba.level"), 1.0);
  EXPECT_GT(Index(r, "glutamate.level"), 1.0);
}

// 7. TSH is the pituitary's feedback response: a high TSH is primary hypothyroidism (less thyroid
// hormone action), a suppressed TSH the opposite; free T4 keeps its direct sign.
TEST(ModelCorrections, TshReadsAsInverseThyroidHormone) {
  FluxResult high_tsh = Flux(Labs({{"tsh", 12, "mIU/L"}}));
  FluxResult low_tsh = Flux(Labs({{"tsh", 0.05, "mIU/L"}}));
  ASSERT_TRUE(InputState(high_tsh, "thyroxine").has_value());
  ASSERT_TRUE(InputState(low_tsh, "thyroxine").has_value());
  EXPECT_LT(*InputState(high_tsh, "thyroxine"), 0.0);
  EXPECT_GT(*InputState(low_tsh, "thyroxine"), 0.0);
  EXPECT_LT(Index(high_tsh, "serotonin.synthesis"), 1.0);
  EXPECT_GT(Index(low_tsh, "serotonin.synthesis"), 1.0);

  EXPECT_LT(Index(Flux(Labs({{"free_t4", 0.5, "ng/dL"}})), "serotonin.synthesis"), 1.0);
  EXPECT_GT(Index(Flux(Labs({{"free_t4", 3.0, "ng/dL"}})), "serotonin.synthesis"), 1.0);
  // Levothyroxine also lowers TSH; that feedback must not cancel its own effect.
  EXPECT_GT(Index(Flux(Meds({"levothyroxine"})), "serotonin.synthesis"), 1.0);
}

// 8. A medication alone moves the model only as far as its edges' evidence allows: long-term PPI
// depletion, the pill's small PLP effect and carbidopa's PLP binding stay inside the thresholds of
// the flux rules (synthesis or level < 0.85, glutamate level > 1.15, catecholamine breakdown < 0.8),
// and phenelzine raises GABA (GABA transaminase inhibition) instead of reading as a GABA deficit.
TEST(ModelCorrections, SingleMedicationsDoNotReadAsFluxDeficits) {
  for (const char* id : {"omeprazole", "combined_oral_contraceptive", "carbidopa_levodopa", "levodopa"}) {
    FluxResult r = Flux(Meds({id}));
    for (const char* pathway : {"serotonin", "dopamine", "noradrenaline", "gaba"})
      for (const char* index : {".synthesis", ".level"})
        EXPECT_GE(Index(r, std::string(pathway) + index), 0.85) << id << ": " << pathway << index;
    EXPECT_LE(Index(r, "glutamate.level"), 1.15) << id;
    EXPECT_GE(Index(r, "noradrenaline.breakdown"), 0.8) << id;
  }
  // Levodopa raises the dopamine node; TH end-product feedback is the kinetic model's own, so it
  // must not spill over into noradrenaline synthesis through the shared TH node.
  EXPECT_GE(Index(Flux(Meds({"levodopa"})), "noradrenaline.synthesis"), 0.95);
  EXPECT_GT(Index(Flux(Meds({"phenelzine"})), "gaba.level"), 1.0);
}

}  // namespace
}  // namespace nflux::flux
