// Internal: evaluation of compiled conditions against one case, three-valued (unknown for
// unmeasured data), reading the working memory's slots. Each family of leaf tests (symptoms,
// questionnaires, labs, ...) has its own function. Cheap to construct; one per evaluation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "case/case.h"
#include "inference/compile.h"
#include "inference/inference.h"
#include "inference/working_memory.h"

namespace nflux::inference {

class Evaluator {
 public:
  // `record_actual`: a traced test records what it found (TestTrace::Actual()); without, only its
  // truth and input (next-best-data's question needs no more).
  Evaluator(const casefile::Case& c, const FluxValues& flux, const std::vector<Slot>& slots, uint32_t generation,
            const std::vector<CompiledNode>& nodes, bool record_actual = true)
      : case_(c), flux_(flux), slots_(slots), generation_(generation), nodes_(nodes), record_actual_(record_actual) {}

  // The truth of one leaf test alone, untraced: the agenda's filter.
  Truth EvaluateLeaf(const CompiledNode& leaf) const;

  // Returns the truth of node `index`; *strength gets the certainty of the conclusions it read.
  // With `trace`, every leaf's evaluation is recorded (in the order met).
  Truth Evaluate(int index, double* strength, std::vector<TestTrace>* trace) const;

  // REQUIRES: node `index` is true on the case. Whether it holds through clinical evidence: a
  // true leaf (not under `not`, and in a true branch) that reads a present symptom, a
  // questionnaire, a lab or a derived index, or a fact, driver or deficit that is itself
  // clinical. Medications, conditions, lifestyle, stressors, patient data, supplements, alerts,
  // data quality and flux indices are not (docs/rule-language.md, "Calibration").
  bool Clinical(int index) const;

 private:
  Truth EvaluateAnd(const CompiledNode& node, double* strength, std::vector<TestTrace>* trace) const;
  Truth EvaluateAtLeast(const CompiledNode& node, double* strength, std::vector<TestTrace>* trace) const;
  const Slot* SlotFor(const CompiledNode& node) const;
  bool ClinicalLeaf(const CompiledNode& node) const;

  // One leaf test: dispatches to its family. `trace` (may be null) gets the input and actual value.
  Truth EvaluateTest(const CompiledNode& node, double* strength, TestTrace* trace) const;
  Truth SymptomTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth QuestionnaireTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth QuestionnaireItemTest(const CompiledNode& node, const casefile::QuestionnaireResult& q, TestTrace* trace) const;
  Truth QuestionnaireResultTest(const CompiledNode& node, const casefile::QuestionnaireResult& q, TestTrace* trace) const;
  Truth LabTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth DerivedTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth FluxTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth MedicationTest(const Slot* slot, TestTrace* trace) const;
  Truth ConditionTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth SupplementTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth PatientTest(const CompiledNode& node, TestTrace* trace) const;
  Truth PregnantOrLactatingTest(const CompiledNode& node, TestTrace* trace) const;
  Truth LifestyleTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth StressorTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const;
  Truth ConclusionTest(const CompiledNode& node, const Slot* slot, double* strength, TestTrace* trace) const;
  Truth DataQualityTest(const CompiledNode& node, TestTrace* trace) const;
  // A lab's trace text ("ferritin 18 ng/mL (low; ...)"), formatted when first read: several rules
  // read each lab.
  const std::string& LabTextOf(const std::string& id, const casefile::LabResult& lab) const;

  const casefile::Case& case_;
  const FluxValues& flux_;
  const std::vector<Slot>& slots_;
  uint32_t generation_;
  const std::vector<CompiledNode>& nodes_;
  bool record_actual_;
  struct LabTextEntry {
    const casefile::LabResult* lab;
    std::string_view id;
    std::string text;
  };
  mutable std::vector<LabTextEntry> lab_texts_;  // LabTextOf's, a few a case: looked up in turn
};

}  // namespace nflux::inference
