#include "inference/evaluator.h"

#include <algorithm>
#include <functional>
#include <string>

#include "base/text.h"
#include "inference/certainty.h"

namespace nflux::inference {
namespace {

using rules::TestKind;
using Op = rules::Condition::Op;

// Records what a test found, only when tracing (its input, CompiledNode::input, is set by
// Evaluate): writing these strings is most of the cost of a test, so an untraced evaluation must
// not pay for them, and most findings are kept as data (NFLUX_FOUND) and written only when read.
#define NFLUX_NOTE(actual_text)                                 \
  do {                                                          \
    if (trace && record_actual_) trace->text = (actual_text);   \
  } while (false)
// The same for what TestTrace::Actual() writes out when read: a kind of finding and its value.
#define NFLUX_FOUND(found_kind, value)                          \
  do {                                                          \
    if (trace && record_actual_) {                              \
      using enum Found;                                         \
      trace->found = (found_kind);                              \
      trace->number = (value);                                  \
    }                                                           \
  } while (false)

Truth Not(Truth truth) {
  return truth == Truth::kTrue ? Truth::kFalse : truth == Truth::kFalse ? Truth::kTrue : Truth::kUnknown;
}

// "ferritin 18 ng/mL: within the laboratory range 15-150, below the iron-deficiency limit 30
// [who_2020_ferritin]": a lab with a decision limit, both verdicts and the limit's source.
std::string LabDecisionText(const std::string& id, const casefile::LabResult& lab) {
  const casefile::LabDecision& decision = *lab.decision;
  std::string text = id + " " + FormatNumber(*lab.value, 4) + " " + lab.unit + ": ";
  if (lab.reference_low || lab.reference_high) {
    const std::string range = (lab.reference_low ? FormatNumber(*lab.reference_low) : std::string()) + "-" +
                              (lab.reference_high ? FormatNumber(*lab.reference_high) : std::string());
    text += lab.status == casefile::LabStatus::kLow    ? "below the laboratory range "
            : lab.status == casefile::LabStatus::kHigh ? "above the laboratory range "
                                                       : "within the laboratory range ";
    text += range + ", ";
  }
  text += decision.beyond ? std::string(knowledge::LimitSideName(decision.side)) + " the " : "within the ";
  text += decision.label + " " + FormatNumber(decision.limit, 4);
  if (!decision.citations.empty()) text += " [" + decision.citations.front() + "]";
  if (lab.critical) text += "; critical";
  return text;
}

// "ferritin 18 ng/mL (low; reference 30-400)": a lab as a trace shows it.
std::string LabText(const std::string& id, const casefile::LabResult& lab) {
  if (lab.decision) return LabDecisionText(id, lab);
  std::string text = id + " " + FormatNumber(*lab.value, 4) + " " + lab.unit + " (" +
                     std::string(casefile::LabStatusName(lab.status));
  if (lab.reference_low || lab.reference_high)
    text += "; reference " + (lab.reference_low ? FormatNumber(*lab.reference_low) : std::string()) + "-" +
            (lab.reference_high ? FormatNumber(*lab.reference_high) : std::string());
  if (lab.critical) text += "; critical";
  return text + ")";
}

}  // namespace

Truth Evaluator::EvaluateLeaf(const CompiledNode& leaf) const {
  // Most filters at agenda time are lab statuses of a present lab: decided here, without the
  // dispatch through EvaluateTest and LabTest (the same answer: LabTest's last step).
  if (leaf.kind == TestKind::kLabStatus)
    if (const Slot* slot = SlotFor(leaf); slot && slot->data) return LabTruthOf(*slot, leaf.lab_check);
  double strength = 1;
  return EvaluateTest(leaf, &strength, nullptr);
}

Truth Evaluator::Evaluate(int index, double* strength, std::vector<TestTrace>* trace) const {
  const CompiledNode& node = nodes_[index];
  switch (node.op) {
    case Op::kTest: {
      if (!trace) return EvaluateTest(node, strength, nullptr);
      TestTrace leaf;
      leaf.input = node.input;
      leaf.subject = node.test->id;
      leaf.truth = EvaluateTest(node, strength, &leaf);
      leaf.source = node.test->source;
      leaf.strength = *strength;
      leaf.reads_value = node.kind == TestKind::kLabValue || node.kind == TestKind::kLabStatus ||
                         node.kind == TestKind::kDerivedCompare || node.kind == TestKind::kDerivedStatus;
      const Truth truth = leaf.truth;
      trace->push_back(std::move(leaf));
      return truth;
    }
    case Op::kNot: {
      double ignored = 1;
      Truth truth = Evaluate(node.first_child, &ignored, trace);
      *strength = 1;
      return Not(truth);
    }
    case Op::kAnd:
      return EvaluateAnd(node, strength, trace);
    case Op::kOr:
    case Op::kAtLeast:
      return EvaluateAtLeast(node, strength, trace);
  }
  return Truth::kUnknown;
}

// True when every child holds; its strength is the weakest child's.
Truth Evaluator::EvaluateAnd(const CompiledNode& node, double* strength, std::vector<TestTrace>* trace) const {
  Truth result = Truth::kTrue;
  double weakest = 1;
  for (int child = node.first_child; child < node.first_child + node.child_count; ++child) {
    double child_strength = 1;
    Truth truth = Evaluate(child, &child_strength, trace);
    if (truth == Truth::kFalse) {
      result = Truth::kFalse;
      if (!trace) break;  // no need to look further unless the trace wants every leaf
    } else if (truth == Truth::kUnknown && result != Truth::kFalse) {
      result = Truth::kUnknown;
    }
    if (truth == Truth::kTrue) weakest = std::min(weakest, child_strength);
  }
  *strength = weakest;
  return result;
}

// `or` (at least one) and `at least N`.
Truth Evaluator::EvaluateAtLeast(const CompiledNode& node, double* strength, std::vector<TestTrace>* trace) const {
  const int needed = node.op == Op::kOr ? 1 : node.at_least;
  int held = 0, unknown = 0;
  // The strength of the N strongest parts that hold is the N-th largest; for `or` (N = 1) the
  // largest, kept without a vector on this hot path.
  double strongest = 0;
  std::vector<double> strengths;
  for (int child = node.first_child; child < node.first_child + node.child_count; ++child) {
    double child_strength = 1;
    Truth truth = Evaluate(child, &child_strength, trace);
    if (truth == Truth::kTrue) {
      ++held;
      strongest = std::max(strongest, child_strength);
      if (needed > 1) strengths.push_back(child_strength);
    } else if (truth == Truth::kUnknown) {
      ++unknown;
    }
  }
  if (held >= needed && needed > 1) {
    std::nth_element(strengths.begin(), strengths.begin() + (needed - 1), strengths.end(), std::greater<>());
    strongest = strengths[needed - 1];
  }
  *strength = held >= needed && needed > 0 ? strongest : 1;
  if (held >= needed) return Truth::kTrue;
  if (held + unknown < needed) return Truth::kFalse;
  return Truth::kUnknown;
}

const Slot* Evaluator::SlotFor(const CompiledNode& node) const {
  if (node.symbol < 0) return nullptr;
  const Slot& slot = slots_[node.symbol];
  return slot.generation == generation_ ? &slot : nullptr;
}

Truth Evaluator::EvaluateTest(const CompiledNode& node, double* strength, TestTrace* trace) const {
  const Slot* slot = SlotFor(node);
  *strength = 1;
  switch (node.kind) {
    case TestKind::kSymptomCompare:
    case TestKind::kSymptomPresent:
    case TestKind::kSymptomAbsent: return SymptomTest(node, slot, trace);
    case TestKind::kQuestionnaireTotal:
    case TestKind::kQuestionnaireItem:
    case TestKind::kQuestionnaireBand:
    case TestKind::kQuestionnairePositive:
    case TestKind::kQuestionnaireNegative: return QuestionnaireTest(node, slot, trace);
    case TestKind::kLabStatus:
    case TestKind::kLabValue:
    case TestKind::kLabMeasured:
    case TestKind::kLabMissing: return LabTest(node, slot, trace);
    case TestKind::kDerivedCompare:
    case TestKind::kDerivedStatus: return DerivedTest(node, slot, trace);
    case TestKind::kFluxCompare:
    case TestKind::kFluxAssumed: return FluxTest(node, slot, trace);
    case TestKind::kMedication:
    case TestKind::kMedicationClass: return MedicationTest(slot, trace);
    case TestKind::kCondition: return ConditionTest(node, slot, trace);
    case TestKind::kSupplementCurrent:
    case TestKind::kSupplementRequested: return SupplementTest(node, slot, trace);
    case TestKind::kLifestyleCompare:
    case TestKind::kLifestyleIs: return LifestyleTest(node, slot, trace);
    case TestKind::kStressorCompare: return StressorTest(node, slot, trace);
    case TestKind::kFact:
    case TestKind::kDriver:
    case TestKind::kDeficit:
    case TestKind::kAlert: return ConclusionTest(node, slot, strength, trace);
    case TestKind::kSex:
    case TestKind::kAge:
    case TestKind::kPregnant:
    case TestKind::kLactating:
    case TestKind::kMenopausalStatus: return PatientTest(node, trace);
    case TestKind::kDataQuality: return DataQualityTest(node, trace);
  }
  return Truth::kUnknown;
}

Truth Evaluator::SymptomTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  if (!slot) { NFLUX_FOUND(kSymptomNotEntered, 0); return Truth::kUnknown; }
  double v = slot->value;
  NFLUX_FOUND(kSymptomScore, v);
  if (node.kind == TestKind::kSymptomPresent) return FromBool(v >= 1);
  if (node.kind == TestKind::kSymptomAbsent) return FromBool(v == 0);
  return FromBool(rules::Holds(v, node.compare, node.number));
}

Truth Evaluator::QuestionnaireTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  const std::string& id = node.test->id;
  const auto* q = slot ? static_cast<const casefile::QuestionnaireResult*>(slot->data) : nullptr;
  if (!q) {
    // An item of a questionnaire not given: what would decide it is the questionnaire.
    if (trace && node.kind == TestKind::kQuestionnaireItem)
      trace->input = node.input.substr(0, node.input.rfind(".item"));
    NFLUX_NOTE(id + " not given");
    return Truth::kUnknown;
  }
  if (node.kind == TestKind::kQuestionnaireItem) return QuestionnaireItemTest(node, *q, trace);
  if (node.kind == TestKind::kQuestionnairePositive || node.kind == TestKind::kQuestionnaireNegative)
    return QuestionnaireResultTest(node, *q, trace);
  if (!q->total) { NFLUX_NOTE(id + " total not given"); return Truth::kUnknown; }
  NFLUX_NOTE(id + " total " + std::to_string(*q->total) + (q->band.empty() ? "" : " (" + q->band + ")"));
  if (node.kind == TestKind::kQuestionnaireBand) return FromBool(q->band == node.test->text);
  return FromBool(rules::Holds(*q->total, node.compare, node.number));
}

Truth Evaluator::QuestionnaireItemTest(const CompiledNode& node, const casefile::QuestionnaireResult& q,
                                       TestTrace* trace) const {
  const rules::Test& test = *node.test;
  auto answer = q.Item(test.item);
  auto item = [&] { return test.id + " item " + std::to_string(test.item); };
  if (!answer) { NFLUX_NOTE(item() + " not given"); return Truth::kUnknown; }
  NFLUX_NOTE(item() + " = " + std::to_string(*answer));
  return FromBool(rules::Holds(*answer, node.compare, node.number));
}

Truth Evaluator::QuestionnaireResultTest(const CompiledNode& node, const casefile::QuestionnaireResult& q,
                                         TestTrace* trace) const {
  const std::string& id = node.test->id;
  std::optional<bool> positive = q.positive;
  if (!positive && !q.result.empty()) positive = q.result == "positive";
  if (!positive) { NFLUX_NOTE(id + " has no result"); return Truth::kUnknown; }
  NFLUX_NOTE(id + (*positive ? " positive" : " negative"));
  return FromBool(*positive == (node.kind == TestKind::kQuestionnairePositive));
}

Truth Evaluator::LabTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  const std::string& id = node.test->id;
  const auto* lab = slot ? static_cast<const casefile::LabResult*>(slot->data) : nullptr;
  if (node.kind == TestKind::kLabMeasured || node.kind == TestKind::kLabMissing) {
    NFLUX_FOUND(lab ? Found::kLabMeasured : Found::kLabNotMeasured, 0);
    return FromBool((lab != nullptr) == (node.kind == TestKind::kLabMeasured));
  }
  if (!lab) { NFLUX_FOUND(kLabNotMeasured, 0); return Truth::kUnknown; }
  NFLUX_NOTE(LabTextOf(id, *lab));
  if (node.kind == TestKind::kLabValue) return FromBool(rules::Holds(slot->value, node.compare, node.number));
  return LabTruthOf(*slot, node.lab_check);
}

const std::string& Evaluator::LabTextOf(const std::string& id, const casefile::LabResult& lab) const {
  for (const auto& known : lab_texts_)
    if (known.lab == &lab && known.id == id) return known.text;
  return lab_texts_.emplace_back(LabTextEntry{&lab, id, LabText(id, lab)}).text;
}

Truth Evaluator::DerivedTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  const std::string& id = node.test->id;
  const auto* derived = slot ? static_cast<const casefile::DerivedIndex*>(slot->data) : nullptr;
  if (!derived) { NFLUX_NOTE(id + " not computable (inputs missing)"); return Truth::kUnknown; }
  NFLUX_NOTE(id + " " + FormatNumber(derived->value, 3) + " (" + derived->status + ")");
  if (node.kind == TestKind::kDerivedStatus) return FromBool(derived->status == node.test->text);
  return FromBool(rules::Holds(derived->value, node.compare, node.number));
}

Truth Evaluator::FluxTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  const std::string& id = node.test->id;
  if (!slot) { NFLUX_FOUND(kNoFluxIndex, 0); return Truth::kUnknown; }
  auto assumed = flux_.assumed.find(id);
  bool is_assumed = assumed != flux_.assumed.end() && assumed->second;
  NFLUX_FOUND(is_assumed ? Found::kFluxIndexAssumed : Found::kFluxIndex, slot->value);
  if (node.kind == TestKind::kFluxAssumed) return FromBool(is_assumed);
  return FromBool(rules::Holds(slot->value, node.compare, node.number));
}

Truth Evaluator::MedicationTest(const Slot* slot, TestTrace* trace) const {
  if (slot) { NFLUX_FOUND(kTakesMedication, 0); return Truth::kTrue; }
  if (!case_.medications_given) { NFLUX_FOUND(kNoMedicationList, 0); return Truth::kUnknown; }
  NFLUX_FOUND(kMedicationNotListed, 0);
  return Truth::kFalse;
}

Truth Evaluator::ConditionTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  const std::string& id = node.test->id;
  if (slot) { NFLUX_FOUND(kHasCondition, 0); return Truth::kTrue; }
  if (id == "pregnancy" && case_.patient.pregnant.value_or(false)) { NFLUX_NOTE("pregnant"); return Truth::kTrue; }
  if (!case_.conditions_given) { NFLUX_FOUND(kNoConditionList, 0); return Truth::kUnknown; }
  NFLUX_FOUND(kConditionNotListed, 0);
  return Truth::kFalse;
}

Truth Evaluator::SupplementTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  bool current = node.kind == TestKind::kSupplementCurrent;
  if (slot) { NFLUX_FOUND(current ? Found::kTakesSupplement : Found::kRequestsSupplement, 0); return Truth::kTrue; }
  if (!case_.supplements_given) { NFLUX_FOUND(kNoSupplementsSection, 0); return Truth::kUnknown; }
  NFLUX_FOUND(current ? Found::kSupplementNotTaken : Found::kSupplementNotRequested, 0);
  return Truth::kFalse;
}

Truth Evaluator::LifestyleTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  const std::string& id = node.test->id;
  const auto* value = slot ? static_cast<const casefile::LifestyleValue*>(slot->data) : nullptr;
  if (!value || !value->used) { NFLUX_NOTE(id + " not given"); return Truth::kUnknown; }
  if (node.kind == TestKind::kLifestyleCompare) {
    if (!value->number) { NFLUX_NOTE(id + " not a number"); return Truth::kUnknown; }
    NFLUX_NOTE(id + " " + FormatNumber(*value->number));
    return FromBool(rules::Holds(*value->number, node.compare, node.number));
  }
  if (value->boolean) {
    NFLUX_NOTE(id + (*value->boolean ? " true" : " false"));
    return FromBool((*value->boolean ? "true" : "false") == node.test->text);
  }
  NFLUX_NOTE(id + " " + value->text);
  return FromBool(value->text == node.test->text);
}

Truth Evaluator::StressorTest(const CompiledNode& node, const Slot* slot, TestTrace* trace) const {
  if (!slot) { NFLUX_FOUND(kStressorNotGiven, 0); return Truth::kUnknown; }
  NFLUX_FOUND(kStressorScore, slot->value);
  return FromBool(rules::Holds(slot->value, node.compare, node.number));
}

// A test of a conclusion (fact, driver, deficit, alert): true when concluded with any certainty
// (or the stated bound); its certainty becomes the test's strength.
Truth Evaluator::ConclusionTest(const CompiledNode& node, const Slot* slot, double* strength,
                                TestTrace* trace) const {
  double certainty = slot ? CalibratedCertainty(*slot, FamilyOf(node.kind)) : 0;
  if (certainty <= 0) { NFLUX_FOUND(kNotConcluded, 0); return Truth::kFalse; }
  NFLUX_FOUND(kConcluded, certainty);
  *strength = certainty;
  if (node.has_compare) return FromBool(rules::Holds(certainty, node.compare, node.number));
  if (FamilyOf(node.kind) == kDeficit && certainty < kPossibleDeficit) return Truth::kFalse;
  return Truth::kTrue;
}

// Patient fields: sex, age, pregnancy, lactation, menopausal status.
Truth Evaluator::PatientTest(const CompiledNode& node, TestTrace* trace) const {
  const rules::Test& test = *node.test;
  const casefile::PatientInfo& patient = case_.patient;
  switch (node.kind) {
    case TestKind::kSex:
      NFLUX_NOTE(std::string(Name(patient.sex)));
      return FromBool(Parse<Sex>(test.text) == patient.sex);
    case TestKind::kAge:
      if (!patient.Age()) {
        NFLUX_NOTE("age not known (an impossible age was excluded)");
        return Truth::kUnknown;
      }
      NFLUX_NOTE("age " + FormatNumber(*patient.Age()));
      return FromBool(rules::Holds(*patient.Age(), node.compare, node.number));
    case TestKind::kPregnant:
    case TestKind::kLactating:
      return PregnantOrLactatingTest(node, trace);
    case TestKind::kMenopausalStatus: {
      const auto& status = patient.menopausal_status;
      if (!status) { NFLUX_NOTE("menopausal status not stated"); return Truth::kUnknown; }
      NFLUX_NOTE(*status);
      return FromBool(*status == test.text);
    }
    default:
      return Truth::kUnknown;
  }
}

Truth Evaluator::PregnantOrLactatingTest(const CompiledNode& node, TestTrace* trace) const {
  bool pregnant = node.kind == TestKind::kPregnant;
  const auto& value = pregnant ? case_.patient.pregnant : case_.patient.lactating;
  if (case_.patient.sex == Sex::kMale) { NFLUX_NOTE("male"); return Truth::kFalse; }
  if (!value) { NFLUX_NOTE(std::string(pregnant ? "pregnancy" : "lactation") + " not stated"); return Truth::kUnknown; }
  NFLUX_NOTE(*value ? (pregnant ? "pregnant" : "lactating") : (pregnant ? "not pregnant" : "not lactating"));
  return FromBool(*value);
}

Truth Evaluator::DataQualityTest(const CompiledNode& node, TestTrace* trace) const {
  const std::string& text = node.test->text;
  bool error = text == "error";
  bool has = case_.HasDataQuality(error ? casefile::Severity::kError : casefile::Severity::kWarning);
  NFLUX_NOTE(has ? "data-quality " + text + " present" : "no data-quality " + text);
  return FromBool(has);
}

// ---- Calibration: whether a true condition rests on clinical evidence.

bool Evaluator::Clinical(int index) const {
  const CompiledNode& node = nodes_[index];
  switch (node.op) {
    case Op::kTest:
      return ClinicalLeaf(node);  // true, as the caller requires
    case Op::kNot:
      return false;  // the absence of something is not evidence for a deficit
    case Op::kAnd:
      // A true `and` has every child true: none is evaluated again.
      for (int child = node.first_child; child < node.first_child + node.child_count; ++child)
        if (Clinical(child)) return true;
      return false;
    case Op::kOr:
    case Op::kAtLeast:
      // Only the children that hold count. A leaf of a clinical kind is asked whether it holds;
      // any other is not evaluated at all.
      for (int child = node.first_child; child < node.first_child + node.child_count; ++child) {
        if (nodes_[child].op == Op::kTest) {
          if (ClinicalLeaf(nodes_[child]) && EvaluateLeaf(nodes_[child]) == Truth::kTrue) return true;
          continue;
        }
        double ignored = 1;
        if (Evaluate(child, &ignored, nullptr) == Truth::kTrue && Clinical(child)) return true;
      }
      return false;
  }
  return false;
}

bool Evaluator::ClinicalLeaf(const CompiledNode& node) const {
  const Slot* slot = SlotFor(node);
  switch (node.kind) {
    case TestKind::kSymptomCompare:
    case TestKind::kSymptomPresent: return slot && slot->value >= 1;  // a symptom the patient has
    case TestKind::kQuestionnaireTotal:
    case TestKind::kQuestionnaireItem:
    case TestKind::kQuestionnaireBand:
    case TestKind::kQuestionnairePositive:
    case TestKind::kLabStatus:
    case TestKind::kLabValue:
    case TestKind::kDerivedCompare:
    case TestKind::kDerivedStatus: return true;
    case TestKind::kFact:
    case TestKind::kDriver:
    case TestKind::kDeficit: return slot && slot->clinical;  // final when read: strata order the rules
    default: return false;
  }
}

}  // namespace nflux::inference
