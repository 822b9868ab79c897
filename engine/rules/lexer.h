// Internal to engine/rules: splits rule text into tokens with their line and column.
// Tokens view the text; the caller keeps the text alive while it uses them.
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
    kString,      // "text", with \" and \\ escapes; value holds the unescaped text
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
    kError,  // value holds the message
  };
  Kind kind = Kind::kEndOfFile;
  // The token as written: a view into the lexed text, which must outlive the token. Most tokens
  // are used only for their kind and text, so they own no memory.
  std::string_view text;
  std::string value;  // kString: the unescaped text; kError: the message; otherwise empty
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
  std::string_view Since(size_t start) const;  // the text from `start` to the current position
  void LexString(Token* token);
  void Advance();  // one byte, keeping line and column
  // Past the run of bytes that `accept`, none of which may be a newline: only the column moves.
  template <typename Accept>
  void AdvanceWhile(Accept accept);

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  // Just after the last significant character: where "end of file" is reported.
  int end_line_ = 1;
  int end_column_ = 1;
};

}  // namespace nflux::rules
