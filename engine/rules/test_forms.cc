// The test-kind table (test_forms.h) and the per-keyword grammar the parser reads from it.
#include "rules/test_forms.h"

#include <algorithm>
#include <iterator>

#include "base/text.h"
#include "knowledge/vocabulary.h"

namespace nflux::rules {
namespace {

using K = TestKind;

std::vector<TestForm> BuildForms() {
  const std::string_view fact = Name(ConclusionKind::kFact), driver = Name(ConclusionKind::kDriver);
  const std::string_view deficit = Name(ConclusionKind::kDeficit), alert = Name(ConclusionKind::kAlert);
  const std::string female(Name(Sex::kFemale)), male(Name(Sex::kMale));
  constexpr std::string_view kIsOrComparison = "'is' or a comparison";
  // kind, keyword, before_id, id, id_noun, words, operand, choices, noun, expected
  return {
      {K::kSymptomPresent, "symptom", "", TestId::kId, "a symptom id", "present", Operand::kNone, {}, "", ""},
      {K::kSymptomAbsent, "symptom", "", TestId::kId, "a symptom id", "absent", Operand::kNone, {}, "", ""},
      {K::kSymptomCompare, "symptom", "", TestId::kId, "a symptom id", "", Operand::kComparison, {}, "",
       "a comparison, 'present' or 'absent'"},
      {K::kQuestionnaireTotal, "questionnaire", "", TestId::kId, "a questionnaire id", "total",
       Operand::kTotalComparison, {}, "", ""},
      {K::kQuestionnaireItem, "questionnaire", "", TestId::kId, "a questionnaire id", "item", Operand::kItemComparison,
       {}, "", ""},
      {K::kQuestionnaireBand, "questionnaire", "", TestId::kId, "a questionnaire id", "band is", Operand::kWord, {},
       "a band label", ""},
      {K::kQuestionnairePositive, "questionnaire", "", TestId::kId, "a questionnaire id", "is positive",
       Operand::kNone, {}, "questionnaire result", ""},
      {K::kQuestionnaireNegative, "questionnaire", "", TestId::kId, "a questionnaire id", "is negative",
       Operand::kNone, {}, "questionnaire result", ""},
      {K::kLabStatus, "lab", "", TestId::kId, "a lab id", "is", Operand::kChoice,
       {"low", "normal", "high", "abnormal", "critical", "below_optimal", "optimal", "above_optimal", "below_limit",
        "above_limit"},
       "lab status",
       ""},
      {K::kLabMeasured, "lab", "", TestId::kId, "a lab id", "is measured", Operand::kNone, {}, "lab status", ""},
      {K::kLabMissing, "lab", "", TestId::kId, "a lab id", "is missing", Operand::kNone, {}, "lab status", ""},
      {K::kLabValue, "lab", "", TestId::kId, "a lab id", "", Operand::kComparisonAndUnit, {}, "", kIsOrComparison},
      {K::kDerivedStatus, "derived", "", TestId::kId, "a derived index", "is", Operand::kChoice,
       {"low", "normal", "high"}, "derived status", ""},
      {K::kDerivedCompare, "derived", "", TestId::kId, "a derived index", "", Operand::kComparison, {}, "",
       kIsOrComparison},
      {K::kFluxAssumed, "flux", "", TestId::kFluxIndex, "a flux index such as serotonin.synthesis", "is assumed",
       Operand::kNone, {}, "flux status", ""},
      {K::kFluxCompare, "flux", "", TestId::kFluxIndex, "a flux index such as serotonin.synthesis", "",
       Operand::kComparison, {}, "", "'is assumed' or a comparison"},
      {K::kMedicationClass, "medication", "class", TestId::kId, "a medication class id", "", Operand::kNone, {}, "",
       ""},
      {K::kMedication, "medication", "", TestId::kId, "a medication id or 'class'", "", Operand::kNone, {}, "", ""},
      {K::kCondition, "condition", "", TestId::kId, "a condition id", "", Operand::kNone, {}, "", ""},
      {K::kSupplementCurrent, "supplement", "current", TestId::kId, "a strategy id", "", Operand::kNone, {},
       "supplement status", ""},
      {K::kSupplementRequested, "supplement", "requested", TestId::kId, "a strategy id", "", Operand::kNone, {},
       "supplement status", ""},
      {K::kSex, "sex", "", TestId::kNone, "", "is", Operand::kChoice, {female, male}, "sex", ""},
      {K::kAge, "age", "", TestId::kNone, "", "", Operand::kComparison, {}, "", kComparisonText},
      {K::kPregnant, "pregnant", "", TestId::kNone, "", "", Operand::kNone, {}, "", ""},
      {K::kLactating, "lactating", "", TestId::kNone, "", "", Operand::kNone, {}, "", ""},
      {K::kMenopausalStatus, "menopausal_status", "", TestId::kNone, "", "is", Operand::kChoice,
       {"premenopausal", "perimenopausal", "postmenopausal"}, "menopausal status", ""},
      {K::kLifestyleIs, "lifestyle", "", TestId::kId, "a lifestyle factor", "is", Operand::kWord, {},
       "a value (true, false or an enum value)", ""},
      {K::kLifestyleCompare, "lifestyle", "", TestId::kId, "a lifestyle factor", "", Operand::kComparison, {}, "",
       kIsOrComparison},
      {K::kStressorCompare, "stressor", "", TestId::kId, "a stressor id", "", Operand::kComparison, {}, "",
       kComparisonText},
      {K::kFact, fact, "", TestId::kId, "a fact id", "", Operand::kOptionalComparison, {}, "", ""},
      {K::kDriver, driver, "", TestId::kId, "a driver id", "", Operand::kOptionalComparison, {}, "", ""},
      {K::kDeficit, deficit, "", TestId::kId, "a deficit id", "", Operand::kOptionalComparison, {}, "", ""},
      {K::kAlert, alert, "", TestId::kId, "an alert id", "", Operand::kNone, {}, "", ""},
      {K::kDataQuality, "data_quality", "", TestId::kNone, "", "", Operand::kChoice, {"error", "warning"},
       "data-quality severity", ""},
  };
}

std::string_view FirstWord(std::string_view words) { return words.substr(0, words.find(' ')); }

std::string_view SecondWord(std::string_view words) {
  size_t space = words.find(' ');
  return space == std::string_view::npos ? std::string_view() : words.substr(space + 1);
}

// Sorts one row into its keyword's grammar: by a word before the id, by words after it, or as
// the row taken when no word matches.
void AddRow(const TestForm& form, KeywordGrammar* grammar) {
  if (!grammar->first) grammar->first = &form;
  if (!form.before_id.empty()) {
    grammar->before.emplace_back(form.before_id, &form);
    grammar->before_choices.emplace_back(form.before_id);
    return;
  }
  if (form.words.empty()) {
    (grammar->before.empty() ? grammar->fallback : grammar->no_before) = &form;
    return;
  }
  std::string_view first = FirstWord(form.words);
  auto group = std::find_if(grammar->groups.begin(), grammar->groups.end(),
                            [&](const KeywordGrammar::WordGroup& g) { return g.word == first; });
  if (group == grammar->groups.end()) {
    grammar->groups.emplace_back().word = first;
    group = std::prev(grammar->groups.end());
  }
  if (SecondWord(form.words).empty()) group->single = &form;
  else group->seconds.emplace_back(SecondWord(form.words), &form);
}

// What a group chooses between once all its rows are in.
void FinishGroup(KeywordGrammar::WordGroup* group) {
  group->fixed = !group->single && group->seconds.size() == 1 && group->seconds[0].second->operand != Operand::kNone;
  if (group->single) group->choices = group->single->choices;
  for (const auto& [second, form] : group->seconds) group->choices.emplace_back(second);
  group->noun = group->single ? group->single->noun : group->seconds.front().second->noun;
  group->quoted = SingleQuoted(group->word);
}

std::vector<KeywordGrammar> BuildGrammars() {
  std::vector<KeywordGrammar> grammars;
  for (const TestForm& form : TestForms()) {
    if (grammars.empty() || grammars.back().keyword != form.keyword) grammars.emplace_back().keyword = form.keyword;
    AddRow(form, &grammars.back());
  }
  for (KeywordGrammar& grammar : grammars) {
    for (size_t i = 0; i < grammar.groups.size(); ++i) {
      FinishGroup(&grammar.groups[i]);
      if (i > 0) grammar.expected_words += i + 1 == grammar.groups.size() ? " or " : ", ";
      grammar.expected_words += grammar.groups[i].quoted;
    }
  }
  return grammars;
}

}  // namespace

const std::vector<TestForm>& TestForms() {
  static const std::vector<TestForm> forms = [] {
    std::vector<TestForm> out = BuildForms();
    for (TestForm& form : out) form.quoted_words = SingleQuoted(form.words);
    return out;
  }();
  return forms;
}

const TestForm& FormOf(TestKind kind) {
  for (const TestForm& form : TestForms())
    if (form.kind == kind) return form;
  return TestForms().front();  // unreachable: the table has every kind (tested)
}

const std::vector<std::string>& TestKeywords() {
  static const std::vector<std::string> keywords = [] {
    std::vector<std::string> out;
    for (const TestForm& form : TestForms())
      if (out.empty() || out.back() != form.keyword) out.emplace_back(form.keyword);
    return out;
  }();
  return keywords;
}

const KeywordGrammar* GrammarOf(std::string_view keyword) {
  static const std::vector<KeywordGrammar> grammars = BuildGrammars();
  for (const KeywordGrammar& grammar : grammars)
    if (grammar.keyword == keyword) return &grammar;
  return nullptr;
}

}  // namespace nflux::rules
