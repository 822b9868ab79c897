// The ranking's inputs from an evaluation (safety::RankingInputs): concluded drivers with the
// measured value that confirms them, and deficit certainties. The ranking itself is the safety
// module's (engine/safety/ranking.cc), the one every front end shows.
#include <algorithm>
#include <string_view>

#include "base/text.h"
#include "inference/inference.h"

namespace nflux::inference {
namespace {

// "ferritin 12 ng/mL" for "lab:ferritin", "homa_ir 3.1" for "derived:homa_ir"; "" when the case
// has no such value.
std::string MeasuredText(std::string_view input, const casefile::Case& c) {
  auto id_after = [&](std::string_view prefix) {
    return input.starts_with(prefix) ? std::string(input.substr(prefix.size())) : std::string();
  };
  if (std::string id = id_after("lab:"); !id.empty())
    for (const auto& lab : c.labs)
      if (lab.test == id && lab.used && lab.value) return id + " " + FormatNumber(*lab.value, 4) + " " + lab.unit;
  if (std::string id = id_after("derived:"); !id.empty())
    for (const auto& derived : c.derived)
      if (derived.id == id) return id + " " + FormatNumber(derived.value, 3);
  return "";
}

safety::RankingInputs InputsOf(const Evaluation& evaluation, const casefile::Case& c) {
  safety::RankingInputs inputs;
  for (const auto& [id, driver] : evaluation.drivers) {
    safety::RankedDriver& ranked = inputs.drivers[id];
    ranked.certainty = driver.certainty;
    std::vector<std::string> measured = driver.measured;
    std::sort(measured.begin(), measured.end());  // the same text for any firing order
    for (const auto& input : measured) {
      std::string text = MeasuredText(input, c);
      if (text.empty()) continue;
      ranked.confirmed_by += (ranked.confirmed_by.empty() ? "" : ", ") + text;
    }
  }
  for (const auto& [id, deficit] : evaluation.deficits) inputs.deficits.emplace_hint(inputs.deficits.end(), id, deficit.certainty);
  return inputs;
}

}  // namespace

void RankStrategies(Evaluation& evaluation, const casefile::Case& c, const knowledge::KnowledgeBase& kb,
                    const std::map<std::string, safety::PredictedEffect>& effects) {
  if (evaluation.strategies.empty()) return;  // nothing to rank: no inputs gathered
  safety::RankingInputs inputs = InputsOf(evaluation, c);
  inputs.effects = effects;
  safety::RankStrategies(evaluation.strategies, evaluation.alerts, kb, inputs);
}

}  // namespace nflux::inference
