// A small evaluated case shared by the explain and report tests: the fixture knowledge base, a
// fixture rule base written here (lab -> driver -> deficit -> strategy, a rule left undecided by a
// missing lab, alerts of three severities) and a case that also requests a blocked supplement.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "case/case.h"
#include "inference/inference.h"
#include "knowledge/knowledge.h"
#include "rules/rules.h"
#include "testutil.h"

namespace nflux::fixture {

inline std::shared_ptr<const knowledge::KnowledgeBase> Knowledge() { return testing::FixtureKnowledge(); }

inline const char* kRules = R"(
rule ferritin_low_iron "Low ferritin means iron deficiency"
  cites who_2020_ferritin
  when lab ferritin < 30 ng/mL
  then conclude driver iron_deficiency weight 0.8
end

rule iron_limits_serotonin "Iron deficiency limits TPH"
  cites felger_miller_2012
  when driver iron_deficiency and symptom low_mood >= 2
  then suggest deficit serotonin_synthesis certainty 0.5 drivers iron_deficiency
       suggest strategy cofactor_iron for serotonin_synthesis
end

rule b6_limits_serotonin "Low vitamin B6 limits serotonin synthesis"
  cites reactome_r_hsa_209931
  when lab vitamin_b6_plp is low and symptom low_mood >= 2
  then suggest deficit serotonin_synthesis certainty 0.4 drivers b6_deficiency
end

rule b6_with_anhedonia "Low B6 with marked anhedonia"
  cites best_2010_serotonin_model
  when lab vitamin_b6_plp is low and symptom fatigue >= 2 and symptom anhedonia >= 3
  then suggest deficit serotonin_synthesis certainty 0.3 drivers b6_deficiency
end

rule normal_tsh_against "A normal TSH argues against a thyroid cause"
  cites bauer_2002_thyroid_mood
  when lab tsh is normal
  then oppose deficit serotonin_synthesis certainty 0.1
end

rule mood_info "Low mood is worth a clinician's review"
  cites kroenke_2001_phq9
  when symptom low_mood >= 1
  then raise alert medical_referral_recommended severity info message "Low mood: clinician review."
end

rule mood_caution "Fixture caution alert"
  cites kroenke_2001_phq9
  when symptom fatigue >= 1
  then raise alert pregnancy_caution severity caution message "Fixture caution."
end
)";

inline const char* kCase = R"({
  "case_id": "fixture-1",
  "patient": {"sex": "female", "age_years": 35},
  "symptoms": {"low_mood": 2, "fatigue": 2, "anhedonia": 1},
  "labs": [ {"test": "ferritin", "value": 18, "unit": "ng/mL"}, {"test": "tsh", "value": 2.0, "unit": "mIU/L"} ],
  "medications": [ {"id": "sertraline"} ],
  "supplements": {"current": [], "requested": ["precursor_5htp"]}
})";

struct Evaluated {
  std::unique_ptr<inference::Engine> engine;
  casefile::Case c;
  inference::Evaluation evaluation;
};

inline const Evaluated& Evaluate() {
  static Evaluated evaluated = [] {
    Evaluated out;
    auto loaded = rules::LoadRules({{"fixture.rules", kRules}}, *Knowledge());
    std::string errors;
    for (const auto& error : loaded.errors) errors += error.ToString() + "\n";
    EXPECT_TRUE(loaded.errors.empty()) << errors;
    out.engine = std::make_unique<inference::Engine>(loaded.rules, Knowledge());
    auto parsed = casefile::ParseCase(kCase, *Knowledge(), {});
    EXPECT_OK(parsed);
    if (parsed.ok()) out.c = *parsed;
    out.evaluation = out.engine->Evaluate(out.c, {});
    return out;
  }();
  return evaluated;
}

}  // namespace nflux::fixture
