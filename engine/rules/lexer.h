// Internal to engine/rules: splits rule text into tokens with their line and column.
//
// The lexer never fails: a character it cannot read, or a string without its closing quote,
// becomes a kError token carrying the message, and lexing goes on after it. Units are not ordinary
// tokens (they contain '/', '[', '.', '(' ...); after `lab ID CMP NUMBER` the parser asks for one
// with NextUnit(). Not thread-safe; one lexer per text, which it does not own.
#pragma once

#include <string>
#include <string_view>

namespace nflux::rules {

struct Token {
  enum class Kind {
    kIdentifier,  // [A-Za-z_][A-Za-z0-9_]*
    kNumber,      // 30, 0.35, -2
    kString,      // "text", with \" and \\ escapes; text holds the unescaped value
    kUnit,        // only from NextUnit(): the text up to the next space, ',' or '#'
    kLeftParen,
    kRightParen,
    kComma,
    kDot,
    kLess,
    kLessEqual,
    kGreater,
    kGreaterEqual,
    kEqual,
    kNotEqual,
    kEndOfFile,
    kError,  // text holds the message
  };
  Kind kind = Kind::kEndOfFile;
  std::string text;  // as written (unescaped for strings; the message for errors)
  double number = 0;
  int line = 1;
  int column = 1;
};

// How a token is shown in a message: 'and', '<=', "text", end of file.
std::string DescribeToken(const Token& token);

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token; kEndOfFile forever once the text is used up.
  Token Next();

  // The unit written after a number: skips whitespace and comments (layout is free), then takes
  // the text up to the next whitespace, ',' or '#', dropping trailing ')' that close no '(' inside it
  // (so "(lab ferritin < 30 ng/mL)" leaves the ')' for Next()). Empty text when none is there.
  Token NextUnit();

 private:
  void SkipSpaceAndComments();
  Token Make(Token::Kind kind, size_t start, int line, int column) const;
  Token LexString(int line, int column);
  void Advance();  // one byte, keeping line and column

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  // Just after the last significant character: where "end of file" is reported.
  int end_line_ = 1;
  int end_column_ = 1;
};

}  // namespace nflux::rules
