// Internal: the working memory of an evaluation. One slot per compiled symbol holds a datum of
// the case (a lab, a symptom score, ...) or a conclusion's evidence; one state per rule holds
// which of its required parts are active. Both live in per-thread scratch space reused across
// evaluations: instead of clearing it, each evaluation has a new generation, and a slot or state
// is current only when its stamp equals that generation.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "case/case.h"
#include "inference/compile.h"
#include "inference/inference.h"

namespace nflux::inference {

// What the working memory holds for one symbol during one evaluation.
struct Slot {
  uint32_t generation = 0;  // present iff equal to the evaluation's generation
  uint32_t lab_truths = 0;  // labs: every status check's truth (LabTruths), read by LabTruthOf
  double value = 0;         // numbers; conclusions: unused
  const void* data = nullptr;
  double support = 0, against = 0;  // conclusions
  // Conclusions: some supporting rule rested on clinical evidence (a symptom, questionnaire, lab,
  // derived index, or a clinical conclusion); see CalibratedCertainty.
  bool clinical = false;
};

// The certainty a rule reading `slot` sees, and the one reported: for a deficit without clinical
// support, capped at kNonClinicalDeficitCap (docs/rule-language.md, "Calibration").
double CalibratedCertainty(const Slot& slot, Family family);

inline Truth FromBool(bool value) { return value ? Truth::kTrue : Truth::kFalse; }

// A lab's status checks (`is low`, `is below_optimal`, `is critical`, ...) decided once as it is
// loaded, two bits (a Truth) per LabCheck: a status test then reads the slot it already holds
// rather than the case's lab record, which a prepared evaluation otherwise never touches.
uint32_t LabTruths(const casefile::LabResult& lab);
inline Truth LabTruthOf(const Slot& slot, LabCheck check) {
  return static_cast<Truth>((slot.lab_truths >> (2 * static_cast<unsigned>(check))) & 3u);
}

// Per rule and evaluation: which required parts have been activated, and the agenda bit.
struct RuleState {
  uint32_t generation = 0;
  uint32_t parts = 0;
};

// A rule's evidence for or against a conclusion symbol, as the engine logs it in firing order.
struct Evidence {
  int symbol;
  uint32_t order;  // its place in the log: firing order within a symbol, once sorted by symbol
  bool for_it;
  const std::string* rule_id;  // the rule base's
  static bool BySymbol(const Evidence& a, const Evidence& b) { return a.symbol < b.symbol; }
  static bool BySymbolInOrder(const Evidence& a, const Evidence& b) {
    return a.symbol != b.symbol ? a.symbol < b.symbol : a.order < b.order;
  }
};

// Per-thread scratch space reused across evaluations: slots and rule states are never cleared
// (generations mark validity); the lists below are emptied, their buffers kept.
struct Scratch {
  std::vector<Slot> slots;
  std::vector<RuleState> rules;
  std::vector<int> present;  // LoadWorkingMemory's answer, reused
  // An evaluation's agenda (a min-heap of rule positions), the conclusion symbols it touched and
  // its evidence log: emptied by BeginEvaluation.
  std::vector<int> agenda, concluded;
  std::vector<Evidence> evidence;
  uint32_t generation = 0;
};

// The calling thread's scratch, grown to hold `compiled`, with a new generation begun.
// Returns the generation.
uint32_t BeginEvaluation(const CompiledRules& compiled, Scratch*& scratch);

// Test hook: sets the calling thread's generation counter, so a test can run evaluations across
// its wrap-around without 2^32 evaluations first.
void SetThreadGenerationForTesting(uint32_t generation);

// CompiledRules::flux_symbols for `compiled`: the symbol (or -1) of every index key of the flux
// model, in key order.
std::vector<int> FluxSymbolsInKeyOrder(const CompiledRules& compiled);

// Fills the working memory from the case; `present` gets the present data symbols (cleared
// first, so a caller can reuse its buffer). With `record`, also records the case's writes in
// order, and where the flux values came between them (PreparedCase).
void LoadWorkingMemory(const casefile::Case& c, const FluxValues& flux, const CompiledRules& compiled,
                       std::vector<Slot>& slots, uint32_t generation, std::vector<int>& present,
                       CaseLoads* record = nullptr);

// The same working memory from a prepared case's recorded loads: the case's data replayed in its
// order, the flux values loaded where LoadWorkingMemory loads them.
void ReplayWorkingMemory(const CaseLoads& recorded, const FluxValues& flux,
                         const CompiledRules& compiled, std::vector<Slot>& slots, uint32_t generation,
                         std::vector<int>& present);

// Loads a finished evaluation's conclusions (facts, drivers, deficits, alerts) into `slots`.
void LoadConclusions(const Evaluation& evaluation, const CompiledRules& compiled, std::vector<Slot>& slots,
                     uint32_t generation);

}  // namespace nflux::inference
