// Internal to engine/rules: the one table of test kinds. Each row is one TestKind and how it is
// written: the condition keyword, the words that pick the kind, the id it takes and the operand
// that follows. The parser reads conditions through it (no per-keyword code), and messages that
// name a kind or its words read them here.
//
// Constant data; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/rules.h"

namespace nflux::rules {

// What a test takes after its keyword (and after the words before the id).
enum class TestId {
  kNone,       // `sex is female`
  kId,         // a knowledge or rule id: `lab ferritin ...`
  kFluxIndex,  // PATHWAY.INDEX: `flux serotonin.synthesis ...`
};

// What follows the words that pick the kind.
enum class Operand {
  kNone,                // `symptom fatigue present`
  kComparison,          // CMP NUMBER
  kOptionalComparison,  // [CMP NUMBER] (on a conclusion's certainty)
  kComparisonAndUnit,   // CMP NUMBER UNIT (lab values)
  kTotalComparison,     // CMP NUMBER after `questionnaire ID total`
  kItemComparison,      // WHOLE_NUMBER CMP NUMBER (questionnaire items)
  kWord,                // any identifier: a band label, a lifestyle value
  kChoice,              // one of `choices`: a status word
};

struct TestForm {
  TestKind kind;
  std::string_view keyword;  // the condition keyword: "lab"
  // Words between the keyword and the id that pick this kind ("class" in `medication class ID`);
  // empty when none.
  std::string_view before_id;
  TestId id;
  // How a missing id is asked for: "a lab id" (the message adds " after 'lab'").
  std::string_view id_noun;
  // Words after the id (or after the keyword when there is no id) that pick this kind: "present",
  // "is measured", "band is". Empty for the kind taken when no word matches (a comparison).
  std::string_view words;
  Operand operand;
  std::vector<std::string> choices;  // kChoice: the allowed words
  // kWord: how a missing word is asked for ("a band label"); kChoice, and a row picked by a second
  // word ("is measured"): what the choice is called in messages ("lab status").
  std::string_view noun;
  // kComparison, when nothing else matched: what else could have stood there.
  std::string_view expected;
  std::string quoted_words = {};  // "'is'", "'band is'": `words` as messages quote them (set by TestForms())
};

// Every test kind, once, grouped by keyword in the order conditions list them.
const std::vector<TestForm>& TestForms();

// The row of `kind`.
const TestForm& FormOf(TestKind kind);

// The condition keywords, in table order ("symptom", "questionnaire", ...), without repeats.
const std::vector<std::string>& TestKeywords();

// The rows of one keyword, arranged for the parser (built once from TestForms()).
struct KeywordGrammar {
  // The rows that share a first word after the id ("is" for `lab ID is low`, `lab ID is measured`).
  struct WordGroup {
    std::string_view word;
    const TestForm* single = nullptr;  // the row whose words are just `word` (its operand follows)
    std::vector<std::pair<std::string_view, const TestForm*>> seconds;  // "measured" -> its row
    // Exactly one two-word row with an operand of its own: its second word is plain syntax
    // (`band is LABEL`), expected rather than chosen.
    bool fixed = false;
    std::vector<std::string> choices;  // what may follow `word`: single's choices, then the seconds
    std::string_view noun;             // what that choice is called
    std::string quoted;                // "'is'", for messages
  };

  std::string_view keyword;
  const TestForm* first = nullptr;  // the keyword's first row: its id and id noun
  // Rows picked by a word before the id ("class" -> kMedicationClass), and the row taken when none
  // of them is written (nullptr: one is required).
  std::vector<std::pair<std::string_view, const TestForm*>> before;
  const TestForm* no_before = nullptr;
  std::vector<std::string> before_choices;
  std::vector<WordGroup> groups;      // table order
  const TestForm* fallback = nullptr;  // the row with no words (a comparison, a bare keyword)
  std::string expected_words;         // the groups' words for messages: "'total', 'item', 'band' or 'is'"
};

// The grammar of a condition keyword; nullptr for a word that is not one.
const KeywordGrammar* GrammarOf(std::string_view keyword);

// The text the parser puts after a comparison's "expected ... after": the comparison operators.
inline constexpr std::string_view kComparisonText = "a comparison (<, <=, >, >=, =, !=)";

}  // namespace nflux::rules
