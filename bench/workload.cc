#include "workload.h"

#include <algorithm>
#include <random>

#include "base/text.h"

namespace nflux::bench {
namespace {

struct LabChoice {
  std::string id;
  std::string unit;
  double low = 0, high = 0;
};

std::vector<LabChoice> Labs(const knowledge::KnowledgeBase& kb) {
  std::vector<LabChoice> labs;
  knowledge::Patient adult{Sex::kFemale, 40, false};
  for (const auto& node : kb.nodes()) {
    if (!node.lab) continue;
    const auto* range = node.lab->ReferenceFor(adult);
    if (!range || !range->low || !range->high) continue;
    labs.push_back(LabChoice{node.id, node.lab->analyte.canonical_unit, *range->low, *range->high});
  }
  return labs;
}

// The part of `ids` that `half` selects.
template <typename T>
std::vector<T> Half(std::vector<T> ids, IdHalf half) {
  size_t middle = ids.size() / 2;
  if (half == IdHalf::kFirst) ids.resize(middle);
  if (half == IdHalf::kSecond) ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(middle));
  return ids;
}

}  // namespace

double Fastest(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
}

std::shared_ptr<const knowledge::KnowledgeBase> RealKnowledge() {
  static auto kb = [] {
    auto files = knowledge::ReadKnowledgeDir(NFLUX_SOURCE_DIR "/knowledge");
    return knowledge::LoadKnowledge(*files).kb;
  }();
  return kb;
}

std::vector<rules::RuleSource> GenerateRules(const knowledge::KnowledgeBase& kb, int rule_count, unsigned seed,
                                             IdHalf half, const std::string& prefix) {
  std::mt19937 random(seed);
  auto pick = [&](const auto& list) -> const auto& { return list[random() % list.size()]; };
  auto symptoms = Half(kb.IdsOfKind(knowledge::NodeKind::kSymptom), half);
  auto deficits = kb.IdsOfKind(knowledge::NodeKind::kDeficit);
  auto classes = kb.IdsOfKind(knowledge::NodeKind::kMedicationClass);
  auto labs = Half(Labs(kb), half);
  const int kinds = half == IdHalf::kSecond ? 4 : 5;  // the fifth kind tests a medication class
  const char* statuses[] = {"low", "high", "normal"};
  // Facts per level: level-1 rules derive them from data, level-2 rules combine them, level-3
  // rules turn them into deficits.
  int level1_facts = std::max(4, rule_count / 10);
  int level2_facts = std::max(2, rule_count / 40);
  int level1_made = 0, level2_made = 0;
  auto data_test = [&]() -> std::string {
    switch (random() % kinds) {
      case 0: case 1: return "symptom " + pick(symptoms) + " >= " + std::to_string(1 + random() % 3);
      case 2: return "lab " + pick(labs).id + " is " + statuses[random() % 3];
      case 3: {
        const auto& lab = pick(labs);
        return "lab " + lab.id + " < " + FormatNumber(lab.low + (lab.high - lab.low) * (random() % 100) / 100.0, 4) + " " + lab.unit;
      }
      default: return "medication class " + pick(classes);
    }
  };
  std::vector<rules::RuleSource> files;
  std::string text;
  for (int i = 0; i < rule_count; ++i) {
    int level = i % 10 < 6 ? 1 : i % 10 < 9 ? 2 : 3;
    std::string conditions, action;
    if (level == 1) {
      conditions = data_test() + " and " + data_test();
      if (random() % 2) conditions += " and " + data_test();
      // Round-robin so every fact a later rule tests is derived by some rule.
      action = "derive fact " + prefix + "l1_" + std::to_string(level1_made++ % level1_facts) + " certainty 0." + std::to_string(3 + random() % 6);
    } else if (level == 2) {
      conditions = "fact " + prefix + "l1_" + std::to_string(random() % level1_facts) + " and " + data_test();
      action = "derive fact " + prefix + "l2_" + std::to_string(level2_made++ % level2_facts) + " certainty 0." + std::to_string(3 + random() % 6);
    } else {
      conditions = "(fact " + prefix + "l2_" + std::to_string(random() % level2_facts) + " or fact " + prefix + "l1_" +
                   std::to_string(random() % level1_facts) + ") and " + data_test();
      action = "suggest deficit " + pick(deficits) + " certainty 0." + std::to_string(2 + random() % 5);
    }
    text += "rule " + prefix + std::to_string(i) + " \"generated rule " + std::to_string(i) + "\"\n  cites cooper_bloom_roth\n  when " +
            conditions + "\n  then " + action + "\nend\n";
    if ((i + 1) % 200 == 0 || i + 1 == rule_count) {
      files.push_back({"generated/" + prefix + std::to_string(files.size()) + ".rules", text});
      text.clear();
    }
  }
  return files;
}

std::vector<std::string> GenerateCaseTexts(const knowledge::KnowledgeBase& kb, int case_count, unsigned seed,
                                           IdHalf half) {
  std::mt19937 random(seed);
  auto pick = [&](const auto& list) -> const auto& { return list[random() % list.size()]; };
  auto symptoms = Half(kb.IdsOfKind(knowledge::NodeKind::kSymptom), half);
  symptoms.erase(std::remove(symptoms.begin(), symptoms.end(), "suicidal_ideation"), symptoms.end());
  auto medications = kb.IdsOfKind(knowledge::NodeKind::kMedication);
  auto labs = Half(Labs(kb), half);
  std::vector<std::string> texts;
  for (int i = 0; i < case_count; ++i) {
    nlohmann::json json = {{"case_id", "bench-" + std::to_string(i)},
                           {"patient", {{"sex", random() % 2 ? "female" : "male"}, {"age_years", 20 + random() % 60}}}};
    for (int s = 0; s < 8; ++s) json["symptoms"][pick(symptoms)] = static_cast<int>(random() % 4);
    json["labs"] = nlohmann::json::array();
    for (int l = 0; l < 6; ++l) {
      const auto& lab = pick(labs);
      double value = lab.low * 0.5 + (lab.high * 1.3 - lab.low * 0.5) * (random() % 1000) / 1000.0;
      json["labs"].push_back({{"test", lab.id}, {"value", value}, {"unit", lab.unit}});
    }
    json["medications"] = nlohmann::json::array();
    for (int m = 0; m < 1 + static_cast<int>(random() % 2); ++m) json["medications"].push_back({{"id", pick(medications)}});
    json["questionnaires"]["phq9"]["total"] = static_cast<int>(random() % 28);
    texts.push_back(json.dump());
  }
  return texts;
}

std::vector<casefile::Case> GenerateCases(const knowledge::KnowledgeBase& kb, int case_count, unsigned seed,
                                          IdHalf half) {
  std::vector<casefile::Case> cases;
  for (const auto& text : GenerateCaseTexts(kb, case_count, seed, half)) {
    auto parsed = casefile::ParseCase(text, kb, {});
    if (parsed.ok()) cases.push_back(std::move(*parsed));
  }
  return cases;
}

}  // namespace nflux::bench
