#include "rules/checker.h"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "base/text.h"
#include "flux/flux.h"
#include "knowledge/vocabulary.h"
#include "units/units.h"

namespace nflux::rules {
namespace {

using knowledge::Node;
using knowledge::NodeKind;

// The derived indices the inference engine computes from labs.
std::string Quote(std::string_view text) {
  std::string quoted = "'";
  quoted += text;
  quoted += "'";
  return quoted;
}

// "a lab", "an alert", "a medication class".
std::string WithArticle(std::string_view noun) {
  std::string text = noun.empty() || std::string_view("aeiou").find(noun[0]) == std::string_view::npos ? "a " : "an ";
  text += noun;
  return text;
}

std::string Readable(NodeKind kind) {
  std::string name(knowledge::KindName(kind));
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

std::string List(const std::vector<std::string>& words) {
  std::string text;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text += ", ";
    text += words[i];
  }
  return text;
}

// " (did you mean ...?)" when something is close, else " (one of: a, b, c)".
std::string HintOrChoices(std::string_view word, const std::vector<std::string>& choices) {
  std::string hint = DidYouMean(word, choices);
  if (!hint.empty() || choices.empty()) return hint;
  return " (one of: " + List(choices) + ")";
}

class Checker {
 public:
  Checker(const knowledge::KnowledgeBase& kb, std::vector<RuleError>* errors) : kb_(kb), errors_(errors) {}

  void CheckAll(std::vector<Rule>* rules) {
    std::unordered_map<std::string_view, const Rule*> first_definition;
    first_definition.reserve(rules->size());
    for (Rule& rule : *rules) {
      auto [it, inserted] = first_definition.emplace(rule.id, &rule);
      if (!inserted) {
        const SourceLocation& first = it->second->id_at;
        Error(rule.id_at, "duplicate rule id " + Quote(rule.id) + " (first defined at " + first.file.str() + ":" +
                              std::to_string(first.line) + ")");
      }
      CheckRule(&rule);
    }
  }

 private:
  void Error(const SourceLocation& at, std::string message) {
    errors_->push_back(RuleError{at, std::move(message), ""});
  }

  // The node `id` names when it is one of `kinds`; otherwise reports it and returns null.
  // `what` names the expected kind in messages ("lab", "driver or stressor").
  const Node* Resolve(const std::string& id, const SourceLocation& at, std::initializer_list<NodeKind> kinds,
                      std::string_view what) {
    const Node* node = kb_.Find(id);
    if (node != nullptr && std::find(kinds.begin(), kinds.end(), node->kind) != kinds.end()) return node;
    // Only an error pays for the list of candidates ("did you mean").
    std::vector<std::string> candidates;
    for (NodeKind kind : kinds) {
      auto ids = kb_.IdsOfKind(kind);
      candidates.insert(candidates.end(), ids.begin(), ids.end());
    }
    if (node == nullptr) {
      Error(at, "unknown " + std::string(what) + " " + Quote(id) + DidYouMean(id, candidates));
    } else {
      Error(at, Quote(id) + " is " + WithArticle(Readable(node->kind)) + ", not " + WithArticle(what) +
                    DidYouMean(id, candidates));
    }
    return nullptr;
  }

  void CheckRule(Rule* rule) {
    if (!IsSnakeCaseId(rule->id)) Error(rule->id_at, "rule id " + Quote(rule->id) + " is not snake_case");
    if (rule->citations.empty()) {
      Error(rule->at, "rule " + Quote(rule->id) + " cites no source: add 'cites KEY' after its title");
    }
    for (size_t i = 0; i < rule->citations.size(); ++i) {
      if (kb_.FindCitation(rule->citations[i]) == nullptr) {
        std::vector<std::string> keys;
        for (const auto& [key, citation] : kb_.citations()) keys.push_back(key);
        const SourceLocation& at = i < rule->citations_at.size() ? rule->citations_at[i] : rule->at;
        Error(at, "unknown citation " + Quote(rule->citations[i]) + DidYouMean(rule->citations[i], keys));
      }
    }
    CheckCondition(&rule->when);
    for (Action& action : rule->actions) CheckAction(&action);
  }

  void CheckCondition(Condition* condition) {
    if (condition->op == Condition::Op::kTest) {
      CheckTest(&condition->test);
      return;
    }
    if (condition->op == Condition::Op::kAtLeast && condition->at_least > static_cast<int>(condition->children.size())) {
      Error(condition->at, "'at least " + std::to_string(condition->at_least) + " of' " +
                       std::to_string(condition->children.size()) + " conditions can never be true");
    }
    for (Condition& child : condition->children) CheckCondition(&child);
  }

  void CheckTest(Test* test) {
    switch (test->kind) {
      case TestKind::kSymptomCompare:
      case TestKind::kSymptomPresent:
      case TestKind::kSymptomAbsent:
        Resolve(test->id, test->id_at, {NodeKind::kSymptom}, "symptom");
        return;
      case TestKind::kQuestionnaireTotal:
      case TestKind::kQuestionnaireItem:
      case TestKind::kQuestionnaireBand:
      case TestKind::kQuestionnairePositive:
      case TestKind::kQuestionnaireNegative:
        CheckQuestionnaire(*test);
        return;
      case TestKind::kLabStatus:
      case TestKind::kLabValue:
      case TestKind::kLabMeasured:
      case TestKind::kLabMissing:
        CheckLab(test);
        return;
      case TestKind::kDerivedCompare:
      case TestKind::kDerivedStatus:
        // The derived indices are the knowledge base's derived_index nodes.
        if (const Node* index = kb_.Find(test->id); index == nullptr || index->kind != NodeKind::kDerivedIndex) {
          const std::vector<std::string> indices = kb_.IdsOfKind(NodeKind::kDerivedIndex);
          Error(test->id_at, "unknown derived index " + Quote(test->id) + HintOrChoices(test->id, indices));
        }
        return;
      case TestKind::kFluxCompare:
      case TestKind::kFluxAssumed:
        if (!IsFluxIndex(test->id)) {
          Error(test->id_at, "unknown flux index " + Quote(test->id) + DidYouMean(test->id, flux::AllIndexKeys()));
        }
        return;
      case TestKind::kMedication:
        Resolve(test->id, test->id_at, {NodeKind::kMedication}, "medication");
        return;
      case TestKind::kMedicationClass:
        Resolve(test->id, test->id_at, {NodeKind::kMedicationClass, NodeKind::kMedication}, "medication class");
        return;
      case TestKind::kCondition:
        Resolve(test->id, test->id_at, {NodeKind::kCondition}, "condition");
        return;
      case TestKind::kSupplementCurrent:
      case TestKind::kSupplementRequested:
        Resolve(test->id, test->id_at, {NodeKind::kStrategy}, Name(ConclusionKind::kStrategy));
        return;
      case TestKind::kLifestyleCompare:
      case TestKind::kLifestyleIs:
        CheckLifestyle(*test);
        return;
      case TestKind::kStressorCompare:
        CheckStressor(*test);
        return;
      case TestKind::kDriver:
        Resolve(test->id, test->id_at, {NodeKind::kDriver, NodeKind::kStressor}, Name(ConclusionKind::kDriver));
        return;
      case TestKind::kDeficit:
        Resolve(test->id, test->id_at, {NodeKind::kDeficit}, Name(ConclusionKind::kDeficit));
        return;
      case TestKind::kAlert:
        Resolve(test->id, test->id_at, {NodeKind::kAlert}, Name(ConclusionKind::kAlert));
        return;
      case TestKind::kFact:  // Facts are made by rules; Stratify checks that one derives it.
      case TestKind::kSex:
      case TestKind::kAge:
      case TestKind::kPregnant:
      case TestKind::kLactating:
      case TestKind::kMenopausalStatus:
      case TestKind::kDataQuality:
        return;
    }
  }

  void CheckQuestionnaire(const Test& test) {
    const Node* node = Resolve(test.id, test.id_at, {NodeKind::kQuestionnaire}, "questionnaire");
    if (node == nullptr || !node->questionnaire) return;
    const knowledge::Questionnaire& questionnaire = *node->questionnaire;
    const std::string name = "questionnaire " + Quote(test.id);
    switch (test.kind) {
      case TestKind::kQuestionnaireTotal:
        if (questionnaire.result_only)
          Error(test.id_at, name + " gives only a result: test it with 'is positive' or 'is negative'");
        return;
      case TestKind::kQuestionnaireItem:
        if (test.item < 1 || test.item > questionnaire.items)
          Error(test.value_at, name + " has items 1 to " + std::to_string(questionnaire.items) + ", not " +
                                   std::to_string(test.item));
        return;
      case TestKind::kQuestionnaireBand: {
        std::vector<std::string> labels;
        for (const auto& band : questionnaire.bands) labels.push_back(band.label);
        if (std::find(labels.begin(), labels.end(), test.text) == labels.end())
          Error(test.value_at, name + " has no band " + Quote(test.text) + HintOrChoices(test.text, labels));
        return;
      }
      default:  // positive / negative
        if (!questionnaire.PositiveAt(Sex::kFemale) && !questionnaire.PositiveAt(Sex::kMale) && !questionnaire.result_only)
          Error(test.value_at, name + " has no positive cut-off in the knowledge base");
        return;
    }
  }

  void CheckLab(Test* test) {
    const Node* node = Resolve(test->id, test->id_at, {NodeKind::kLab}, "lab");
    if (node == nullptr || !node->lab) return;
    const knowledge::Lab& lab = *node->lab;
    if (test->kind == TestKind::kLabValue) {
      Result<double> converted = ConverterFor(*node, test->unit).Convert(test->written_number);
      if (!converted.ok()) {
        Error(test->unit_at, "unit " + Quote(test->unit) + " does not fit lab " + Quote(test->id) + ": " +
                                 converted.status().message());
        return;
      }
      test->number = *converted;
      return;
    }
    if (test->kind != TestKind::kLabStatus) return;
    const std::string name = "lab " + Quote(test->id);
    const bool optimal = test->text == "below_optimal" || test->text == "optimal" || test->text == "above_optimal";
    if (optimal && lab.optimal.empty())
      Error(test->value_at, name + " has no optimal range in the knowledge base, so " + Quote(test->text) +
                                " is never decided");
    if (test->text == "below_limit" || test->text == "above_limit") CheckLimitSide(*test, lab);
    if (test->text == "critical" && !lab.critical_low && !lab.critical_high)
      Error(test->value_at, name + " has no critical limits in the knowledge base, so 'critical' is never decided");
  }

  // `is below_limit` / `is above_limit` needs a decision limit on that side.
  void CheckLimitSide(const Test& test, const knowledge::Lab& lab) {
    const knowledge::LimitSide side =
        test.text == "below_limit" ? knowledge::LimitSide::kBelow : knowledge::LimitSide::kAbove;
    const std::string name = "lab " + Quote(test.id);
    if (lab.decision_limits.empty()) {
      Error(test.value_at, name + " has no decision limit in the knowledge base, so " + Quote(test.text) +
                               " is never decided");
    } else if (lab.decision_limits.front().side != side) {
      Error(test.value_at, name + "'s decision limits are '" +
                               std::string(knowledge::LimitSideName(lab.decision_limits.front().side)) + "' limits; write '" +
                               std::string(knowledge::LimitSideName(lab.decision_limits.front().side)) + "_limit'");
    }
  }

  // Parsing the units is most of a conversion, and a rule base writes the same few units for
  // each lab again and again.
  const units::Converter& ConverterFor(const Node& lab_node, const std::string& unit) {
    auto key = std::make_pair(&lab_node, std::string_view(unit));
    auto it = converters_.find(key);
    if (it == converters_.end()) {
      const units::Analyte& analyte = lab_node.lab->analyte;
      it = converters_.emplace(key, units::Converter(unit, analyte.canonical_unit, &analyte)).first;
    }
    return it->second;
  }

  void CheckLifestyle(const Test& test) {
    const Node* node = Resolve(test.id, test.id_at, {NodeKind::kLifestyleFactor}, "lifestyle factor");
    if (node == nullptr) return;
    if (!node->lifestyle) return;
    const std::string type(Name(node->lifestyle->value_type));
    const std::string name = "lifestyle factor " + Quote(test.id);
    const bool numeric = node->lifestyle->value_type == LifestyleValueType::kNumber ||
                         node->lifestyle->value_type == LifestyleValueType::kScale;
    if (test.kind == TestKind::kLifestyleCompare) {
      if (!numeric)
        Error(test.id_at, name + " is " + WithArticle(type) + ", not a number: test it with 'lifestyle " + test.id +
                              " is VALUE'");
      return;
    }
    if (numeric) {
      Error(test.value_at, name + " is a " + type + ": compare it, e.g. 'lifestyle " + test.id + " >= 1'");
      return;
    }
    std::vector<std::string> values = node->lifestyle->values;
    if (node->lifestyle->value_type == LifestyleValueType::kBoolean) values = {"true", "false"};
    if (std::find(values.begin(), values.end(), test.text) == values.end())
      Error(test.value_at, name + " has no value " + Quote(test.text) + HintOrChoices(test.text, values));
  }

  void CheckStressor(const Test& test) {
    // Conditions a case may score as stressors (0-3) are marked case_stressor in the knowledge base.
    const Node* node = kb_.Find(test.id);
    if (node != nullptr && node->condition && node->condition->case_stressor) return;
    Resolve(test.id, test.id_at, {NodeKind::kStressor}, "stressor");
  }

  void CheckCertainty(const Action& action, const char* word) {
    if (action.certainty > 0 && action.certainty <= 1) return;
    Error(action.certainty_at, std::string(word) + " " + FormatNumber(action.certainty) + " is outside (0, 1]");
  }

  void CheckAction(Action* action) {
    switch (action->kind) {
      case ActionKind::kDeriveFact:
        if (!IsSnakeCaseId(action->id)) Error(action->id_at, "fact id " + Quote(action->id) + " is not snake_case");
        CheckCertainty(*action, "certainty");
        return;
      case ActionKind::kConcludeDriver:
        Resolve(action->id, action->id_at, {NodeKind::kDriver, NodeKind::kStressor}, Name(ConclusionKind::kDriver));
        CheckCertainty(*action, "weight");
        return;
      case ActionKind::kSuggestDeficit:
      case ActionKind::kOpposeDeficit:
        Resolve(action->id, action->id_at, {NodeKind::kDeficit}, Name(ConclusionKind::kDeficit));
        CheckCertainty(*action, "certainty");
        for (size_t i = 0; i < action->ids.size(); ++i)
          Resolve(action->ids[i], i < action->ids_at.size() ? action->ids_at[i] : action->at, {NodeKind::kDriver, NodeKind::kStressor}, Name(ConclusionKind::kDriver));
        return;
      case ActionKind::kSuggestStrategy:
        Resolve(action->id, action->id_at, {NodeKind::kStrategy}, Name(ConclusionKind::kStrategy));
        for (size_t i = 0; i < action->ids.size(); ++i)
          Resolve(action->ids[i], i < action->ids_at.size() ? action->ids_at[i] : action->at, {NodeKind::kDeficit}, Name(ConclusionKind::kDeficit));
        return;
      case ActionKind::kRaiseAlert:
        Resolve(action->id, action->id_at, {NodeKind::kAlert}, Name(ConclusionKind::kAlert));
        return;
      case ActionKind::kNoteDataQuality:
        return;
    }
  }

  const knowledge::KnowledgeBase& kb_;
  std::vector<RuleError>* errors_;
  // Keyed by the lab and the unit as written; the views point into the rules, which stay put
  // while they are checked.
  std::map<std::pair<const Node*, std::string_view>, units::Converter> converters_;
};

}  // namespace

void CheckRules(std::vector<Rule>* rules, const knowledge::KnowledgeBase& kb, std::vector<RuleError>* errors) {
  Checker(kb, errors).CheckAll(rules);
}

}  // namespace nflux::rules
