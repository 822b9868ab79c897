#include "inference/working_memory.h"

#include <algorithm>

#include "inference/certainty.h"

namespace nflux::inference {
namespace {

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// The generation of a new evaluation on this thread. A stamp equal to it marks a slot or rule
// state as current, and 0 means "never stamped"; so when the counter wraps (after 2^32
// evaluations on one thread) every stamp is cleared before it restarts at 1, or stale stamps
// from 2^32 evaluations ago would read as current (and never-stamped ones as present).
uint32_t NextGeneration(Scratch& scratch) {
  if (++scratch.generation != 0) return scratch.generation;
  for (Slot& slot : scratch.slots) slot.generation = 0;
  for (RuleState& state : scratch.rules) state.generation = 0;
  scratch.generation = 1;
  return scratch.generation;
}

}  // namespace

uint32_t BeginEvaluation(const CompiledRules& compiled, Scratch*& scratch) {
  scratch = &ThreadScratch();
  if (scratch->slots.size() < compiled.symbol_count()) scratch->slots.resize(compiled.symbol_count());
  if (scratch->rules.size() < compiled.rules.size()) scratch->rules.resize(compiled.rules.size());
  scratch->agenda.clear();
  scratch->concluded.clear();
  scratch->evidence.clear();
  return NextGeneration(*scratch);
}

namespace {

// Every index key of the model in key order, with its pathway and index: a full model result
// goes into the maps in that order, each key at the end, with no key comparisons.
struct IndexKeyAt {
  std::string key;
  size_t pathway = 0, index = 0;
};

const std::vector<IndexKeyAt>& SortedIndexKeys() {
  static const std::vector<IndexKeyAt> keys = [] {
    std::vector<IndexKeyAt> out;
    const auto& pathways = flux::Model::Pathways();
    for (size_t k = 0; k < pathways.size(); ++k)
      for (size_t i = 0; i < static_cast<size_t>(flux::kIndexCount); ++i)
        out.push_back({flux::IndexKey(pathways[k], static_cast<int>(i)), k, i});
    std::sort(out.begin(), out.end(), [](const IndexKeyAt& a, const IndexKeyAt& b) { return a.key < b.key; });
    return out;
  }();
  return keys;
}

bool HasEveryPathway(const flux::FluxResult& result) {
  const auto& pathways = flux::Model::Pathways();
  if (result.pathways.size() != pathways.size()) return false;
  for (size_t k = 0; k < pathways.size(); ++k)
    if (result.pathways[k].pathway != pathways[k]) return false;
  return true;
}

}  // namespace

FluxValues FluxValues::From(const flux::FluxResult& result) {
  FluxValues out;
  if (HasEveryPathway(result)) {
    out.values.reserve(SortedIndexKeys().size());
    for (const auto& at : SortedIndexKeys()) {
      const flux::PathwayFlux& pathway = result.pathways[at.pathway];
      out.values.emplace_hint(out.values.end(), at.key, pathway.index[at.index]);
      if (pathway.rests_on_assumption) out.assumed.emplace_hint(out.assumed.end(), at.key, true);
    }
    return out;
  }
  for (const auto& pathway : result.pathways)
    for (int i = 0; i < static_cast<int>(pathway.index.size()); ++i) {
      std::string key = flux::IndexKey(pathway.pathway, i);
      out.values[key] = pathway.index[static_cast<size_t>(i)];
      if (pathway.rests_on_assumption) out.assumed[key] = true;
    }
  return out;
}

std::vector<int> FluxSymbolsInKeyOrder(const CompiledRules& compiled) {
  std::vector<int> symbols;
  for (const auto& at : SortedIndexKeys()) symbols.push_back(compiled.Find(kFlux, at.key));
  return symbols;
}

uint32_t LabTruths(const casefile::LabResult& lab) {
  using casefile::LabStatus;
  using casefile::OptimalStatus;
  static_assert(static_cast<int>(LabCheck::kAboveLimit) < 16, "two bits per check in 32");
  uint32_t truths = 0;
  auto set = [&truths](LabCheck check, Truth truth) {
    truths |= static_cast<uint32_t>(truth) << (2 * static_cast<unsigned>(check));
  };
  set(LabCheck::kNone, Truth::kUnknown);
  // Against the laboratory range: unknown when no range applies (or the lab is not used).
  const bool ranged = lab.status != LabStatus::kUnknown;
  auto ranged_truth = [ranged](bool holds) { return ranged ? FromBool(holds) : Truth::kUnknown; };
  set(LabCheck::kLow, ranged_truth(lab.status == LabStatus::kLow));
  set(LabCheck::kNormal, ranged_truth(lab.status == LabStatus::kNormal));
  set(LabCheck::kHigh, ranged_truth(lab.status == LabStatus::kHigh));
  set(LabCheck::kAbnormal, ranged_truth(lab.status != LabStatus::kNormal));
  set(LabCheck::kCritical, FromBool(lab.critical));
  // Against the cited optimal range: unknown when the knowledge base has none for this patient.
  auto optimal_truth = [&lab](OptimalStatus wanted) {
    return lab.has_optimal ? FromBool(lab.optimal_status == wanted) : Truth::kUnknown;
  };
  set(LabCheck::kBelowOptimal, optimal_truth(OptimalStatus::kLow));
  set(LabCheck::kOptimal, optimal_truth(OptimalStatus::kOptimal));
  set(LabCheck::kAboveOptimal, optimal_truth(OptimalStatus::kHigh));
  // Beyond a decision limit: no limit applies to this patient, the value is beyond none.
  auto beyond = [&lab](knowledge::LimitSide side) {
    return FromBool(lab.decision && lab.decision->beyond && lab.decision->side == side);
  };
  set(LabCheck::kBelowLimit, beyond(knowledge::LimitSide::kBelow));
  set(LabCheck::kAboveLimit, beyond(knowledge::LimitSide::kAbove));
  return truths;
}

void SetThreadGenerationForTesting(uint32_t generation) { ThreadScratch().generation = generation; }

namespace {

// Writes one datum into its slot; a symbol's first write this generation makes it present.
struct SlotWriter {
  std::vector<Slot>& slots;
  uint32_t generation;
  std::vector<int>& present;
  void operator()(int symbol, double value, const void* data, uint32_t lab_truths = 0) const {
    Slot& slot = slots[static_cast<size_t>(symbol)];
    if (slot.generation != generation) present.push_back(symbol);
    slot.generation = generation;
    slot.lab_truths = lab_truths;
    slot.value = value;
    slot.data = data;
    slot.support = slot.against = 0;
    slot.clinical = false;
  }
};

// The flux values into the working memory. Flux keys are the model's index keys, in the same
// order as SortedIndexKeys(): a walk along both finds each one's symbol with one comparison; any
// other key is looked up.
void LoadFlux(const FluxValues& flux, const CompiledRules& compiled, const SlotWriter& write) {
  const auto& keys = SortedIndexKeys();
  const bool walk = compiled.flux_symbols.size() == keys.size();
  size_t at = 0;
  for (const auto& [id, value] : flux.values) {
    int order = walk ? -1 : 1;
    while (at < keys.size() && walk && (order = keys[at].key.compare(id)) < 0) ++at;
    const int symbol = order == 0 ? compiled.flux_symbols[at] : compiled.Find(kFlux, id);
    if (symbol >= 0) write(symbol, value, nullptr);
  }
}

}  // namespace

void LoadWorkingMemory(const casefile::Case& c, const FluxValues& flux, const CompiledRules& compiled,
                       std::vector<Slot>& slots, uint32_t generation, std::vector<int>& present,
                       CaseLoads* record) {
  present.clear();
  const SlotWriter write{slots, generation, present};
  auto set_symbol = [&](int symbol, double value, const void* data, uint32_t lab_truths = 0) {
    write(symbol, value, data, lab_truths);
    if (record) record->loads.push_back({symbol, lab_truths, value, data});
  };
  // Ids come with the knowledge positions the parser found them at (CompiledRules::FindAt).
  auto set = [&](Family family, knowledge::NodePosition node, std::string_view id, double value, const void* data) {
    if (int symbol = compiled.FindAt(family, node, id); symbol >= 0) set_symbol(symbol, value, data);
  };
  for (const auto& [id, score] : c.symptoms) set(kSymptom, score.node, id, score.value, nullptr);
  for (const auto& [id, q] : c.questionnaires) set(kQuestionnaire, q.node, id, 0, &q);
  for (const auto& lab : c.labs) {
    if (!lab.used || !lab.value) continue;
    const int symbol = compiled.FindAt(kLab, lab.node, lab.test);
    if (symbol < 0) continue;
    // The first usable entry of a test is the one in use unless another follows; only then ask
    // the case which one wins (Case::Lab), rather than asking for every lab.
    const casefile::LabResult* used = &lab;
    if (slots[static_cast<size_t>(symbol)].generation == generation) used = c.Lab(lab.test);
    set_symbol(symbol, *used->value, used, LabTruths(*used));
  }
  for (const auto& derived : c.derived) set(kDerived, derived.node, derived.id, derived.value, &derived);
  if (record) record->flux_at = record->loads.size();
  LoadFlux(flux, compiled, write);
  for (const auto& medication : c.medications) {
    set(kMedication, medication.node, medication.id, 1, &medication);
    // A medication is also a member of itself used as a class ("levodopa": products containing it).
    set(kMedicationClass, medication.node, medication.id, 1, &medication);
    // Resolved to a node, it has that node's classes: their positions are the hints.
    const std::span<const knowledge::NodePosition> hints = compiled.ClassPositionsAt(medication.node);
    for (size_t i = 0; i < medication.classes.size(); ++i)
      set(kMedicationClass, i < hints.size() ? hints[i] : knowledge::kNoPosition, medication.classes[i], 1, &medication);
  }
  for (const auto& condition : c.conditions) set(kCondition, condition.node, condition.id, 1, &condition);
  for (const auto& id : c.supplements_current) set(kSupplementCurrent, knowledge::kNoPosition, id, 1, nullptr);
  for (const auto& id : c.supplements_requested) set(kSupplementRequested, knowledge::kNoPosition, id, 1, nullptr);
  for (const auto& [id, value] : c.lifestyle) set(kLifestyle, value.node, id, value.number.value_or(0), &value);
  for (const auto& [id, score] : c.stressors) set(kStressor, score.node, id, score.value, nullptr);
}

void ReplayWorkingMemory(const CaseLoads& recorded, const FluxValues& flux,
                         const CompiledRules& compiled, std::vector<Slot>& slots, uint32_t generation,
                         std::vector<int>& present) {
  present.clear();
  const SlotWriter write{slots, generation, present};
  const std::span<const CaseLoads::Load> loads = recorded.loads;
  for (const auto& load : loads.first(recorded.flux_at)) write(load.symbol, load.value, load.data, load.lab_truths);
  LoadFlux(flux, compiled, write);
  for (const auto& load : loads.subspan(recorded.flux_at)) write(load.symbol, load.value, load.data, load.lab_truths);
}

double CalibratedCertainty(const Slot& slot, Family family) {
  double certainty = CombineForAgainst(slot.support, slot.against);
  if (family == kDeficit && !slot.clinical) certainty = std::min(certainty, kNonClinicalDeficitCap);
  return certainty;
}

void LoadConclusions(const Evaluation& evaluation, const CompiledRules& compiled, std::vector<Slot>& slots,
                     uint32_t generation) {
  // Whole slots are written: `slots` may be reused scratch holding an older evaluation's values.
  auto load = [&](Family family, const std::map<std::string, Conclusion>& conclusions) {
    for (const auto& [id, conclusion] : conclusions) {
      int symbol = compiled.Find(family, id);
      if (symbol < 0) continue;
      slots[static_cast<size_t>(symbol)] =
          Slot{generation, 0, 0, nullptr, conclusion.support, conclusion.against, conclusion.clinical};
    }
  };
  load(kFact, evaluation.facts);
  load(kDriver, evaluation.drivers);
  load(kDeficit, evaluation.deficits);
  for (const auto& alert : evaluation.alerts) {
    int symbol = compiled.Find(kAlert, alert.id);
    if (symbol >= 0) slots[static_cast<size_t>(symbol)] = Slot{generation, 0, 0, nullptr, 1, 0, false};
  }
}

}  // namespace nflux::inference
