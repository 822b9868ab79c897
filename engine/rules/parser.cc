#include "rules/parser.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/limits.h"
#include "base/text.h"
#include "knowledge/vocabulary.h"
#include "rules/lexer.h"
#include "rules/test_forms.h"

namespace nflux::rules {
namespace {

using Kind = Token::Kind;

// The words a condition starts with: the test keywords (test_forms.h), `not` and `at least`.
const std::vector<std::string>& ConditionWords() {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> out = TestKeywords();
    out.insert(out.end(), {"not", "at"});
    return out;
  }();
  return words;
}
const std::vector<std::string> kActionWords = {"derive", "conclude", "suggest", "oppose", "raise", "note"};
const std::vector<std::string> kSuggestions = {std::string(Name(ConclusionKind::kDeficit)),
                                               std::string(Name(ConclusionKind::kStrategy))};
const std::vector<std::string> kAlertSeverities = [] {
  std::vector<std::string> out;
  for (AlertSeverity severity : AllValues<AlertSeverity>()) out.emplace_back(Name(severity));
  return out;
}();
const std::vector<std::string> kNoteSeverities = {"info", "warning", "error"};
// Words that end a condition or a rule: never a unit.
const std::vector<std::string> kReservedWords = {"and", "or", "not", "then", "end", "rule", "when", "cites"};

bool Contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text += i + 1 == words.size() ? " or " : ", ";
    text += words[i];
  }
  return text;
}

std::optional<Compare> CompareOf(Kind kind) {
  switch (kind) {
    case Kind::kLess: return Compare::kLess;
    case Kind::kLessEqual: return Compare::kLessEqual;
    case Kind::kGreater: return Compare::kGreater;
    case Kind::kGreaterEqual: return Compare::kGreaterEqual;
    case Kind::kEqual: return Compare::kEqual;
    case Kind::kNotEqual: return Compare::kNotEqual;
    default: return std::nullopt;
  }
}

// A string token as it reads in Test.source / Action.source: quoted, with its escapes.
std::string Quoted(std::string_view value) {
  std::string text = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') text += '\\';
    text += c;
  }
  text += '"';
  return text;
}

// Test.source / Action.source, built as the pieces are taken: single spaces between pieces, but
// none around '.' nor inside parentheses or before ','. One buffer serves every test and action.
class SourceText {
 public:
  void Clear() {
    text_.clear();
    last_start_ = 0;
    empty_ = true;
  }

  void Add(std::string_view piece) {
    const std::string_view last = Last();
    bool glue = empty_ || Is(piece, ',') || Is(piece, ')') || Is(piece, '.') || Is(last, '.') || Is(last, '(');
    if (!glue) text_ += ' ';
    last_start_ = text_.size();
    text_ += piece;
    empty_ = false;
  }

  const std::string& text() const { return text_; }
  // The piece added last; empty before the first.
  std::string_view Last() const { return std::string_view(text_).substr(last_start_); }

 private:
  static bool Is(std::string_view piece, char c) { return piece.size() == 1 && piece[0] == c; }

  std::string text_;
  size_t last_start_ = 0;
  bool empty_ = true;  // no piece yet: the first piece never takes a space
};

class Parser {
 public:
  static constexpr size_t kMaxFileErrors = 1000;

  Parser(const RuleSource& file, std::vector<RuleError>* errors)
      : file_(file), file_name_(file.path), lexer_(file.text), errors_(errors) {}

  std::vector<Rule> ParseFile() {
    std::vector<Rule> rules;
    const size_t errors_before = errors_->size();
    while (Peek().kind != Kind::kEndOfFile) {
      // A file that is not rules at all (a million broken lines) is not read to its end.
      if (errors_->size() - errors_before >= kMaxFileErrors) {
        Fail(Peek(), "more than " + std::to_string(kMaxFileErrors) + " errors: stopped reading the file here");
        break;
      }
      if (!IsWord(Peek(), "rule")) {
        Fail(Peek(), "expected 'rule', got " + DescribeToken(Peek()));
        SkipToNextRule();
        continue;
      }
      // Parsed in place: a Rule is large to move.
      if (!ParseRule(&rules.emplace_back())) {
        rules.pop_back();
        SkipToNextRule();
      }
    }
    return rules;
  }

 private:
  // ---- Tokens.

  const Token& Peek() {
    if (!has_peek_) {
      peek_ = lexer_.Next();
      has_peek_ = true;
      peek_reported_ = false;
    }
    return peek_;
  }

  Token Take() {
    Peek();
    has_peek_ = false;
    if (recording_) Record(peek_);
    return std::move(peek_);  // the peeked token is consumed: move, don't copy
  }

  void Record(const Token& token) {
    switch (token.kind) {
      case Kind::kString: source_.Add(Quoted(token.value)); break;
      case Kind::kError: source_.Add(token.value); break;
      default: source_.Add(token.text); break;
    }
  }

  static bool IsWord(const Token& token, std::string_view word) {
    return token.kind == Kind::kIdentifier && token.text == word;
  }

  bool TakeWord(std::string_view word) {
    if (!IsWord(Peek(), word)) return false;
    Take();
    return true;
  }

  SourceLocation At(const Token& token) const { return SourceLocation{file_name_, token.line, token.column}; }

  // Records an error at `token`. A lexer error token reports its own message instead: the text
  // there could not be read at all.
  bool Fail(const Token& token, std::string message) {
    if (token.kind == Kind::kError) {
      message = token.value;
      if (has_peek_ && peek_.kind == Kind::kError && peek_.line == token.line && peek_.column == token.column)
        peek_reported_ = true;
    }
    errors_->push_back(RuleError{At(token), std::move(message), ""});
    return false;
  }

  // After an error: skips to the next `rule` keyword, still reporting text that cannot be read.
  void SkipToNextRule() {
    recording_ = false;
    while (Peek().kind != Kind::kEndOfFile && !IsWord(Peek(), "rule")) {
      // One unreadable piece per line is enough to point at it.
      bool line_reported = !errors_->empty() && errors_->back().at.file.str() == file_.path &&
                           errors_->back().at.line == Peek().line;
      if (Peek().kind == Kind::kError && !peek_reported_ && !line_reported) Fail(Peek(), "");
      Take();
    }
  }

  bool ExpectWord(std::string_view word, std::string_view context) {
    if (TakeWord(word)) return true;
    return Fail(Peek(), "expected '" + std::string(word) + "' " + std::string(context) + ", got " + DescribeToken(Peek()));
  }

  bool ExpectIdentifier(std::string_view what, Token* out) {
    if (Peek().kind != Kind::kIdentifier) {
      return Fail(Peek(), "expected " + std::string(what) + ", got " + DescribeToken(Peek()));
    }
    *out = Take();
    return true;
  }

  // An identifier from a closed set: `what` names the set in messages ("lab status").
  bool ExpectChoice(const std::vector<std::string>& choices, std::string_view what, std::string_view after,
                    Token* out) {
    if (Peek().kind != Kind::kIdentifier) {
      return Fail(Peek(), "expected " + Join(choices) + " after " + std::string(after) + ", got " + DescribeToken(Peek()));
    }
    if (!Contains(choices, Peek().text)) {
      std::string hint = DidYouMean(Peek().text, choices);
      if (hint.empty()) hint = " (expected " + Join(choices) + ")";
      return Fail(Peek(), "unknown " + std::string(what) + " '" + std::string(Peek().text) + "'" + hint);
    }
    *out = Take();
    return true;
  }

  bool ExpectNumber(std::string_view after, Token* out) {
    if (Peek().kind != Kind::kNumber) {
      return Fail(Peek(), "expected a number after " + std::string(after) + ", got " + DescribeToken(Peek()));
    }
    *out = Take();
    return true;
  }

  bool ExpectWholeNumber(std::string_view after, int minimum, Token* out) {
    if (!ExpectNumber(after, out)) return false;
    if (out->number != std::floor(out->number) || out->number < minimum || out->number > 1e6) {
      return Fail(*out, "expected a whole number of at least " + std::to_string(minimum) + " after " + std::string(after) +
                            ", got " + std::string(out->text));
    }
    return true;
  }

  // CMP NUMBER into the test. `expected` lists what else could have stood there, for the message;
  // the message names what came before as `after`, by default the test as written so far
  // ("'lab ferritin'"), which only a failure pays to build.
  bool ParseComparison(Test* test, std::string_view expected, std::string_view after = {}) {
    std::optional<Compare> op = CompareOf(Peek().kind);
    if (!op) {
      std::string before = after.empty() ? "'" + source_.text() + "'" : std::string(after);
      return Fail(Peek(), "expected " + std::string(expected) + " after " + before + ", got " + DescribeToken(Peek()));
    }
    Token op_token = Take();
    Token number;
    if (!ExpectNumber("'" + std::string(op_token.text) + "'", &number)) return false;
    test->op = *op;
    test->number = number.number;
    test->written_number = number.number;
    test->has_compare = true;
    test->value_at = At(number);
    return true;
  }

  // ---- Rules.

  bool ParseRule(Rule* rule) {
    Token keyword = Take();
    rule->at = At(keyword);
    Token id;
    if (!ExpectIdentifier("a rule id after 'rule'", &id)) return false;
    rule->id = id.text;
    rule->id_at = At(id);
    if (Peek().kind != Kind::kString) {
      return Fail(Peek(), "expected a title in quotes after 'rule " + rule->id + "', got " + DescribeToken(Peek()));
    }
    rule->title = Take().value;

    std::string_view after = "the title";
    std::string_view expected = "'cites', 'salience' or 'when'";
    if (TakeWord("cites")) {
      do {
        Token key;
        if (!ExpectIdentifier("a citation key", &key)) return false;
        rule->citations.emplace_back(key.text);
        rule->citations_at.push_back(At(key));
      } while (TakeComma());
      after = "the citations";
      expected = "'salience' or 'when'";
    }
    if (TakeWord("salience")) {
      Token number;
      if (Peek().kind != Kind::kNumber || Peek().number != std::floor(Peek().number) ||
          std::fabs(Peek().number) > 1e6) {
        return Fail(Peek(), "expected a whole number after 'salience', got " + DescribeToken(Peek()));
      }
      rule->salience = static_cast<int>(Take().number);
      after = "the salience";
      expected = "'when'";
    }
    if (!IsWord(Peek(), "when")) {
      return Fail(Peek(), "expected " + std::string(expected) + " after " + std::string(after) + ", got " +
                              DescribeToken(Peek()));
    }
    Take();
    conditions_ = 0;
    if (!ParseOr(&rule->when, 0)) return false;
    if (!ExpectWord("then", "after the conditions")) return false;

    if (IsWord(Peek(), "end") || IsWord(Peek(), "rule") || Peek().kind == Kind::kEndOfFile) {
      return Fail(Peek(), "expected an action after 'then', got " + DescribeToken(Peek()));
    }
    while (!TakeWord("end")) {
      if (IsWord(Peek(), "rule") || Peek().kind == Kind::kEndOfFile) {
        return Fail(Peek(), "expected 'end' to close rule '" + rule->id + "' (line " + std::to_string(rule->at.line) +
                                "), got " + DescribeToken(Peek()));
      }
      Action action;
      if (!ParseAction(&action)) return false;
      rule->actions.push_back(std::move(action));
    }
    return true;
  }

  bool TakeComma() {
    if (Peek().kind != Kind::kComma) return false;
    Take();
    return true;
  }

  // ---- Conditions: or_expr := and_expr ('or' and_expr)*; and_expr := unary ('and' unary)*.

  bool ParseOr(Condition* out, int depth) { return ParseChain(out, depth, "or", Condition::Op::kOr); }

  bool ParseAnd(Condition* out, int depth) { return ParseChain(out, depth, "and", Condition::Op::kAnd); }

  // Each link is parsed in place (a Condition is large to move): the first into *out, which
  // becomes the first child once a second link shows there is a chain.
  bool ParseChain(Condition* out, int depth, std::string_view word, Condition::Op op) {
    if (!ParseLink(out, depth, op)) return false;
    if (!IsWord(Peek(), word)) return true;
    Condition first = std::move(*out);
    *out = Condition();
    out->op = op;
    out->at = first.at;
    out->children.reserve(4);  // most chains are this short: one allocation, no moves as they grow
    out->children.push_back(std::move(first));
    while (TakeWord(word)) {
      if (!ParseLink(&out->children.emplace_back(), depth, op)) return false;
    }
    return true;
  }

  bool ParseLink(Condition* out, int depth, Condition::Op op) {
    return op == Condition::Op::kOr ? ParseAnd(out, depth) : ParseUnary(out, depth);
  }

  bool ParseUnary(Condition* out, int depth) {
    if (depth >= limits::kMaxConditionDepth) {
      return Fail(Peek(),
                  "conditions nest too deeply (more than " + std::to_string(limits::kMaxConditionDepth) + " levels)");
    }
    if (++conditions_ > limits::kMaxRuleConditions) {
      return Fail(Peek(),
                  "more than " + std::to_string(limits::kMaxRuleConditions) + " conditions in one rule (the limit)");
    }
    out->at = At(Peek());
    if (TakeWord("not")) {
      out->op = Condition::Op::kNot;
      out->children.emplace_back();
      return ParseUnary(&out->children.back(), depth + 1);
    }
    if (Peek().kind == Kind::kLeftParen) {
      Token open = Take();
      if (!ParseOr(out, depth + 1)) return false;
      if (Peek().kind != Kind::kRightParen) {
        return Fail(Peek(), "expected ')' to close the '(' at line " + std::to_string(open.line) + " column " +
                                std::to_string(open.column) + ", got " + DescribeToken(Peek()));
      }
      Take();
      return true;
    }
    if (IsWord(Peek(), "at")) return ParseAtLeast(out, depth);
    out->op = Condition::Op::kTest;
    bool ok = ParseTest(&out->test);
    out->at = out->test.at;
    return ok;
  }

  bool ParseAtLeast(Condition* out, int depth) {
    Take();
    if (!ExpectWord("least", "after 'at'")) return false;
    Token count;
    if (!ExpectWholeNumber("'at least'", 1, &count)) return false;
    const std::string count_text(count.text);
    if (!ExpectWord("of", "after 'at least " + count_text + "'")) return false;
    if (Peek().kind != Kind::kLeftParen) {
      return Fail(Peek(), "expected '(' after 'at least " + count_text + " of', got " + DescribeToken(Peek()));
    }
    Take();
    out->op = Condition::Op::kAtLeast;
    out->at_least = static_cast<int>(count.number);
    do {
      out->children.emplace_back();
      if (!ParseOr(&out->children.back(), depth + 1)) return false;
    } while (TakeComma());
    if (Peek().kind != Kind::kRightParen) {
      return Fail(Peek(), "expected ',' or ')' in 'at least " + count_text + " of (...)', got " + DescribeToken(Peek()));
    }
    Take();
    return true;
  }

  // ---- Tests.

  bool ParseTest(Test* test) {
    const Token& first = Peek();
    if (first.kind != Kind::kIdentifier) return Fail(first, "expected a condition, got " + DescribeToken(first));
    if (!Contains(ConditionWords(), first.text)) {
      return Fail(first, "unknown condition '" + std::string(first.text) + "'" + DidYouMean(first.text, ConditionWords()));
    }
    recording_ = true;
    source_.Clear();
    Token keyword = Take();
    test->at = At(keyword);
    bool ok = ParseTestBody(keyword.text, test);
    recording_ = false;
    test->source = source_.text();
    return ok;
  }

  bool TakeValue(Test* test, const std::vector<std::string>& choices, std::string_view what, std::string_view after) {
    Token value;
    if (!ExpectChoice(choices, what, after, &value)) return false;
    test->text = value.text;
    test->value_at = At(value);
    return true;
  }

  // A test after its keyword, read through the keyword's grammar (test_forms.h): the word before
  // the id, the id, the words after it, then the operand of the kind they picked.
  bool ParseTestBody(std::string_view keyword, Test* test) {
    const KeywordGrammar& grammar = *GrammarOf(keyword);
    const TestForm* form = nullptr;
    if (!PickBeforeId(grammar, &form)) return false;
    if (!ParseTestId(form ? *form : *grammar.first, test)) return false;
    bool operand_taken = false;
    if (!form && !PickAfterId(grammar, test, &form, &operand_taken)) return false;
    test->kind = form->kind;
    return operand_taken || ParseOperand(*form, test);
  }

  // `medication class ID`, `supplement current ID`: a word before the id picks the kind.
  bool PickBeforeId(const KeywordGrammar& grammar, const TestForm** form) {
    if (grammar.before.empty()) return true;
    if (grammar.no_before) {
      *form = grammar.no_before;
      for (const auto& [word, row] : grammar.before)
        if (TakeWord(word)) *form = row;
      return true;
    }
    Token which;
    const std::string after = "'" + source_.text() + "'";
    if (!ExpectChoice(grammar.before_choices, grammar.before.front().second->noun, after, &which)) return false;
    for (const auto& [word, row] : grammar.before)
      if (word == which.text) *form = row;
    return true;
  }

  // An identifier, asked for as "WHAT after 'THE TEST SO FAR'" (or after `quoted`); the message
  // is built only on a failure.
  bool TakeIdentifierAfter(std::string_view what, std::string_view quoted, Token* out) {
    if (Peek().kind != Kind::kIdentifier) {
      std::string after = quoted.empty() ? "'" + source_.text() + "'" : std::string(quoted);
      return Fail(Peek(), "expected " + std::string(what) + " after " + after + ", got " + DescribeToken(Peek()));
    }
    *out = Take();
    return true;
  }

  bool ParseTestId(const TestForm& form, Test* test) {
    switch (form.id) {
      case TestId::kNone: return true;
      case TestId::kFluxIndex: return ParseFluxIndex(form, test);
      case TestId::kId: break;
    }
    Token id;
    if (!TakeIdentifierAfter(form.id_noun, {}, &id)) return false;
    test->id = id.text;
    test->id_at = At(id);
    return true;
  }

  bool ParseFluxIndex(const TestForm& form, Test* test) {
    Token pathway;
    if (!TakeIdentifierAfter(form.id_noun, {}, &pathway)) return false;
    if (Peek().kind != Kind::kDot) {
      return Fail(Peek(), "expected '.' after 'flux " + std::string(pathway.text) +
                              "' (flux indices read PATHWAY.INDEX, e.g. serotonin.synthesis), got " +
                              DescribeToken(Peek()));
    }
    Take();
    Token index;
    if (!ExpectIdentifier("an index name after '" + std::string(pathway.text) + ".'", &index)) return false;
    test->id = std::string(pathway.text) + "." + std::string(index.text);
    test->id_at = At(pathway);
    return true;
  }

  // The words after the id pick the kind: `present`, `is measured`, `band is`, or none (the
  // keyword's fallback row). A word that is chosen from a list ("is low") is its operand, taken here.
  bool PickAfterId(const KeywordGrammar& grammar, Test* test, const TestForm** form, bool* operand_taken) {
    for (const auto& group : grammar.groups) {
      if (!IsWord(Peek(), group.word)) continue;
      Take();
      if (group.fixed) {
        *form = group.seconds.front().second;
        return ExpectWord(group.seconds.front().first, "after '" + std::string(group.word) + "'");
      }
      if (group.seconds.empty()) {
        *form = group.single;
        return true;
      }
      Token word;
      if (!ExpectChoice(group.choices, group.noun, group.quoted, &word)) return false;
      test->value_at = At(word);
      *form = group.single;
      for (const auto& [second, row] : group.seconds)
        if (second == word.text) *form = row;
      if (*form == group.single) test->text = word.text;
      *operand_taken = true;
      return true;
    }
    if (grammar.fallback) {
      *form = grammar.fallback;
      return true;
    }
    return Fail(Peek(), "expected " + grammar.expected_words + " after '" + source_.text() + "', got " +
                            DescribeToken(Peek()));
  }

  bool ParseOperand(const TestForm& form, Test* test) {
    switch (form.operand) {
      case Operand::kNone: return true;
      case Operand::kComparison: return ParseComparison(test, form.expected);
      case Operand::kOptionalComparison: return !CompareOf(Peek().kind) || ParseComparison(test, kComparisonText);
      case Operand::kComparisonAndUnit: return ParseComparison(test, form.expected) && ParseUnit(test);
      case Operand::kTotalComparison:
        return ParseComparison(test, kComparisonText,
                               "'" + std::string(form.keyword) + " " + test->id + "' " + std::string(form.words));
      case Operand::kItemComparison: return ParseItemComparison(form, test);
      case Operand::kWord: {
        Token value;
        if (!TakeIdentifierAfter(form.noun, form.quoted_words, &value)) return false;
        test->text = value.text;
        test->value_at = At(value);
        return true;
      }
      case Operand::kChoice: {
        // After the id, the choice follows its word ("'is'"); without an id, the test so far ("'sex is'").
        if (form.id != TestId::kNone) return TakeValue(test, form.choices, form.noun, form.quoted_words);
        return TakeValue(test, form.choices, form.noun, "'" + source_.text() + "'");
      }
    }
    return false;
  }

  // `questionnaire ID item N CMP NUMBER`: the checker reports an item out of range at N.
  bool ParseItemComparison(const TestForm& form, Test* test) {
    Token item;
    if (!ExpectWholeNumber(form.quoted_words, 1, &item)) return false;
    test->item = static_cast<int>(item.number);
    SourceLocation item_at = At(item);
    if (!ParseComparison(test, kComparisonText, "'" + std::string(form.words) + " " + std::string(item.text) + "'"))
      return false;
    test->value_at = item_at;
    return true;
  }

  bool ParseUnit(Test* test) {
    Token unit = lexer_.NextUnit();
    if (unit.text.empty() || Contains(kReservedWords, unit.text)) {
      Token shown = unit;
      if (unit.text.empty()) {
        peek_ = lexer_.Next();
        has_peek_ = true;
        peek_reported_ = false;
        shown = peek_;
      }
      // The number is the piece taken last.
      return Fail(shown, "expected a unit after " + std::string(source_.Last()) + ", got " + DescribeToken(shown));
    }
    source_.Add(unit.text);
    test->unit = unit.text;
    test->unit_at = At(unit);
    return true;
  }

  // ---- Actions.

  bool ParseAction(Action* action) {
    const Token& first = Peek();
    if (first.kind != Kind::kIdentifier || !Contains(kActionWords, first.text)) {
      std::string hint = first.kind == Kind::kIdentifier ? DidYouMean(first.text, kActionWords) : "";
      if (!hint.empty()) return Fail(first, "unknown action '" + std::string(first.text) + "'" + hint);
      return Fail(first, "expected an action (" + Join(kActionWords) + ") or 'end', got " + DescribeToken(first));
    }
    recording_ = true;
    source_.Clear();
    Token verb = Take();
    action->at = At(verb);
    bool ok = ParseActionBody(verb.text, action);
    recording_ = false;
    action->source = source_.text();
    return ok;
  }

  bool TakeActionId(Action* action, std::string_view what) {
    Token id;
    if (!ExpectIdentifier(what, &id)) return false;
    action->id = id.text;
    action->id_at = At(id);
    return true;
  }

  bool TakeCertainty(Action* action, std::string_view word) {
    if (!TakeWord(word)) {  // The message is built only here: most actions have their certainty.
      // Every caller has just taken VERB WORD ID, so the action so far reads as those three.
      return Fail(Peek(), "expected '" + std::string(word) + "' after '" + source_.text() + "', got " +
                              DescribeToken(Peek()));
    }
    Token number;
    if (!ExpectNumber("'" + std::string(word) + "'", &number)) return false;
    action->certainty = number.number;
    action->certainty_at = At(number);
    return true;
  }

  bool TakeIdList(Action* action, std::string_view after) {
    do {
      Token id;
      if (!ExpectIdentifier("an id after " + std::string(after), &id)) return false;
      action->ids.emplace_back(id.text);
      action->ids_at.push_back(At(id));
    } while (TakeComma());
    return true;
  }

  bool ParseActionBody(std::string_view verb, Action* action) {
    if (verb == "derive") {
      if (!ExpectWord(Name(ConclusionKind::kFact), "after 'derive'")) return false;
      action->kind = ActionKind::kDeriveFact;
      if (!TakeActionId(action, "a fact id after 'derive fact'")) return false;
      if (IsWord(Peek(), "certainty")) return TakeCertainty(action, "certainty");
      return true;
    }
    if (verb == "conclude") {
      if (!ExpectWord(Name(ConclusionKind::kDriver), "after 'conclude'")) return false;
      action->kind = ActionKind::kConcludeDriver;
      if (!TakeActionId(action, "a driver id after 'conclude driver'")) return false;
      return TakeCertainty(action, "weight");
    }
    if (verb == "suggest") {
      Token what;
      if (!ExpectChoice(kSuggestions, "thing to suggest", "'suggest'", &what)) return false;
      if (Parse<ConclusionKind>(what.text) == ConclusionKind::kDeficit) {
        action->kind = ActionKind::kSuggestDeficit;
        if (!TakeActionId(action, "a deficit id after 'suggest deficit'")) return false;
        if (!TakeCertainty(action, "certainty")) return false;
        if (TakeWord("drivers")) return TakeIdList(action, "'drivers'");
        return true;
      }
      action->kind = ActionKind::kSuggestStrategy;
      if (!TakeActionId(action, "a strategy id after 'suggest strategy'")) return false;
      if (TakeWord("for")) return TakeIdList(action, "'for'");
      return true;
    }
    if (verb == "oppose") {
      if (!ExpectWord(Name(ConclusionKind::kDeficit), "after 'oppose'")) return false;
      action->kind = ActionKind::kOpposeDeficit;
      if (!TakeActionId(action, "a deficit id after 'oppose deficit'")) return false;
      return TakeCertainty(action, "certainty");
    }
    if (verb == "raise") {
      if (!ExpectWord(Name(ConclusionKind::kAlert), "after 'raise'")) return false;
      action->kind = ActionKind::kRaiseAlert;
      if (!TakeActionId(action, "an alert id after 'raise alert'")) return false;
      if (TakeWord("severity")) {
        Token severity;
        if (!ExpectChoice(kAlertSeverities, "alert severity", "'severity'", &severity)) return false;
        action->severity = severity.text;
      }
      if (TakeWord("message")) return TakeMessage(action, "'message'");
      return true;
    }
    // note
    if (!ExpectWord("data_quality", "after 'note'")) return false;
    action->kind = ActionKind::kNoteDataQuality;
    if (!TakeMessage(action, "'note data_quality'")) return false;
    action->severity = "warning";
    if (TakeWord("severity")) {
      Token severity;
      if (!ExpectChoice(kNoteSeverities, "data-quality severity", "'severity'", &severity)) return false;
      action->severity = severity.text;
    }
    return true;
  }

  bool TakeMessage(Action* action, std::string_view after) {
    if (Peek().kind != Kind::kString) {
      return Fail(Peek(), "expected a message in quotes after " + std::string(after) + ", got " + DescribeToken(Peek()));
    }
    action->message = Take().value;
    return true;
  }

  const RuleSource& file_;
  FileName file_name_;  // shared by every location in the file
  Lexer lexer_;
  std::vector<RuleError>* errors_;
  Token peek_;
  bool has_peek_ = false;
  bool peek_reported_ = false;
  bool recording_ = false;  // while a test or action is parsed: its pieces go to source_
  SourceText source_;
  size_t conditions_ = 0;  // in the rule being read: ParseUnary counts them against the limit
};

}  // namespace

std::vector<Rule> ParseRules(const RuleSource& file, std::vector<RuleError>* errors) {
  return Parser(file, errors).ParseFile();
}

}  // namespace nflux::rules
