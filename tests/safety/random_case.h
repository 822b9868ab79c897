// Random cases for the safety property tests: case JSON (shared/contracts/case.md) built from the
// WHOLE vocabulary of a loaded knowledge base, never from hard-coded id lists, so that every node
// the content helpers add is drawn too.
//
//   CaseVocabulary vocabulary = VocabularyOf(kb, extra_lab_anchors);
//   nlohmann::ordered_json c = RandomCase(vocabulary, seed);   // same seed, same case, every platform
//   nlohmann::ordered_json d = ShuffledCase(c, seed);          // the same case, lists in another order
//
// What a case holds: every strategy may be requested or current; medications by id, by the ATC code
// of a known medication, by a bare ATC code under a class's ATC group (no node of its own) or
// unknown to the knowledge base; conditions by id or ICD-10 code; ages 1-100; sex, pregnancy and
// lactation; labs in their canonical unit drawn from deficient to toxic (reference, optimal,
// plausible and critical limits of each lab, plus the thresholds of every contraindication);
// questionnaires as items, totals or safety items (PHQ-9 item 9, EPDS item 10), MDQ results;
// symptoms 0-3; lifestyle values; stressors. Each lab test appears at most once, so that the
// order of the labs never decides which value is used.
//
// Internal test helper. Thread-safety: the functions are pure; a CaseVocabulary is immutable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "knowledge/knowledge.h"

namespace nflux::testing {

// SplitMix64: tiny, fast, and the same sequence on every standard library (the <random>
// distributions are not), so a printed seed reproduces a failure anywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  size_t Below(size_t n);                  // uniform in [0, n); REQUIRES: n > 0
  int Between(int low, int high);          // uniform in [low, high]
  double Uniform(double low, double high);  // uniform in [low, high)
  bool Chance(double probability);
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }

 private:
  uint64_t state_;
};

struct LabDraw {
  std::string id;
  std::string unit;  // canonical
  double low = 0;    // the widest sensible span: plausible limits, else around the ranges
  double high = 0;
  double reference_low = 0, reference_high = 0;  // the span of every reference and optimal range
  std::vector<double> anchors;  // limits worth hitting exactly: ranges, critical, contraindications
  std::optional<double> impossible;  // a value beyond the plausible limits, if any
};

struct QuestionnaireDraw {
  std::string id;
  knowledge::Questionnaire questionnaire;
};

struct LifestyleDraw {
  std::string id;
  knowledge::LifestyleFactor factor;
};

struct CaseVocabulary {
  std::vector<std::string> strategies;
  std::vector<std::string> medications;
  std::vector<std::string> medication_atc;  // ATC codes of medication nodes
  std::vector<std::string> bare_atc;        // codes under a class's ATC group that no node has
  std::vector<std::string> conditions;
  std::vector<std::string> condition_icd10;  // one usable code per condition with one
  std::vector<std::string> symptoms;
  std::vector<std::string> stressors;  // stressor nodes and conditions a case may score
  std::vector<LabDraw> labs;
  std::vector<QuestionnaireDraw> questionnaires;
  std::vector<LifestyleDraw> lifestyle;
};

// Every id of `kb` a case may name, by kind. `extra_lab_anchors` adds values worth hitting per lab
// id (the `when` thresholds of contraindications).
CaseVocabulary VocabularyOf(const knowledge::KnowledgeBase& kb,
                            const std::map<std::string, std::vector<double>>& extra_lab_anchors = {});

// One random case; the same (vocabulary, seed) always gives the same case.
nlohmann::ordered_json RandomCase(const CaseVocabulary& vocabulary, uint64_t seed);

// The same case with medications, supplements (current and requested), labs, conditions, symptoms,
// questionnaires, lifestyle and stressors each in another order.
nlohmann::ordered_json ShuffledCase(const nlohmann::ordered_json& c, uint64_t seed);

}  // namespace nflux::testing
