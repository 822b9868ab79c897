#include "rules/lexer.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "base/text.h"

namespace nflux::rules {
namespace {

// Plain ASCII tests: the <cctype> ones consult the locale on every call.
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentifierStart(char c) { return IsLetter(c) || c == '_'; }
bool IsIdentifierChar(char c) { return IsLetter(c) || IsDigit(c) || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// The message for text the lexer cannot read: one character, or a run of non-ASCII bytes (such as
// one UTF-8 character), shown in hex so that a message never carries broken text.
std::string Unexpected(std::string_view text) {
  auto first = static_cast<unsigned char>(text[0]);
  if (first >= 0x20 && first < 0x7f) return "unexpected character '" + std::string(text) + "'";
  std::string message = IsAscii(text[0]) ? "unexpected control byte" : "unexpected non-ASCII bytes";
  for (size_t i = 0; i < text.size() && i < 8; ++i) {
    char hex[8];
    std::snprintf(hex, sizeof hex, " %02x", static_cast<unsigned char>(text[i]));
    message += hex;
  }
  if (text.size() > 8) message += " ...";
  if (!IsAscii(text[0])) message += ": outside strings and comments write ASCII, e.g. '>=' for a greater-or-equal sign";
  return message;
}

// The value of a number token. from_chars rounds exactly as strtod does and needs no NUL-terminated
// copy; strtod still decides what from_chars rejects (values too large or too small for a double).
double NumberValue(std::string_view digits) {
  double value = 0;
  const char* end = digits.data() + digits.size();
  auto [stop, error] = std::from_chars(digits.data(), end, value);
  if (error == std::errc() && stop == end) return value;
  return std::strtod(std::string(digits).c_str(), nullptr);
}

}  // namespace

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case Token::Kind::kEndOfFile:
      return "end of file";
    case Token::Kind::kString:
      return "\"" + token.value + "\"";
    case Token::Kind::kError:
      return "'" + token.value + "'";
    case Token::Kind::kUnit:
      if (token.text.empty()) return "nothing";
      break;
    default:
      break;
  }
  // Built in steps: GCC 12 falsely warns (-Wrestrict) on "'" + std::string(token.text) + "'".
  std::string described = "'";
  described += token.text;
  described += '\'';
  return described;
}

void Lexer::Advance() {
  if (pos_ >= text_.size()) return;
  if (text_[pos_] == '\n') {
    ++line_;
    column_ = 1;
  } else {
    ++column_;
  }
  ++pos_;
}

template <typename Accept>
void Lexer::AdvanceWhile(Accept accept) {
  size_t end = pos_;
  while (end < text_.size() && accept(text_[end])) ++end;
  column_ += static_cast<int>(end - pos_);
  pos_ = end;
}

void Lexer::SkipSpaceAndComments() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (IsSpace(c)) {
      Advance();
    } else if (c == '#') {
      AdvanceWhile([](char byte) { return byte != '\n'; });
    } else {
      break;
    }
  }
}

std::string_view Lexer::Since(size_t start) const { return text_.substr(start, pos_ - start); }

void Lexer::LexString(Token* token) {
  Advance();  // the opening quote
  std::string value;
  size_t run = pos_;  // where the text not yet copied into value starts: runs are copied whole
  while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') {
    if (text_[pos_] == '\\' && pos_ + 1 < text_.size() && (text_[pos_ + 1] == '"' || text_[pos_ + 1] == '\\')) {
      value += Since(run);
      Advance();  // the backslash; the escaped character starts the next run
      run = pos_;
    }
    Advance();
  }
  value += Since(run);
  if (pos_ >= text_.size() || text_[pos_] != '"') {
    token->kind = Token::Kind::kError;
    token->value = "unterminated string: add the closing '\"' on the same line";
    return;
  }
  Advance();  // the closing quote
  if (!IsValidUtf8(value)) {  // titles and messages reach the JSON reports, which need UTF-8
    token->kind = Token::Kind::kError;
    token->value = "the string is not valid UTF-8: save the file as UTF-8";
    return;
  }
  token->kind = Token::Kind::kString;
  token->value = std::move(value);
}

// Fills one token in place rather than building one per branch and moving it.
Token Lexer::Next() {
  SkipSpaceAndComments();
  Token token;
  if (pos_ >= text_.size()) {
    token.kind = Token::Kind::kEndOfFile;
    token.line = end_line_;
    token.column = end_column_;
    return token;
  }
  token.line = line_;
  token.column = column_;
  const size_t start = pos_;
  const char c = text_[pos_];
  const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
  if (IsIdentifierStart(c)) {
    AdvanceWhile(IsIdentifierChar);
    token.kind = Token::Kind::kIdentifier;
  } else if (IsDigit(c) || (c == '-' && IsDigit(next))) {
    Advance();
    AdvanceWhile(IsDigit);
    if (pos_ + 1 < text_.size() && text_[pos_] == '.' && IsDigit(text_[pos_ + 1])) {
      Advance();
      AdvanceWhile(IsDigit);
    }
    token.kind = Token::Kind::kNumber;
    token.number = NumberValue(Since(start));
    if (!std::isfinite(token.number)) {
      token.kind = Token::Kind::kError;
      token.value = "number out of range (larger than a double holds)";
    }
  } else if (c == '"') {
    LexString(&token);
  } else {
    Token::Kind kind = Token::Kind::kError;
    size_t length = 1;
    switch (c) {
      case '(': kind = Token::Kind::kLeftParen; break;
      case ')': kind = Token::Kind::kRightParen; break;
      case ',': kind = Token::Kind::kComma; break;
      case '.': kind = Token::Kind::kDot; break;
      case '=': kind = Token::Kind::kEqual; break;
      case '<':
        kind = next == '=' ? Token::Kind::kLessEqual : Token::Kind::kLess;
        length = next == '=' ? 2 : 1;
        break;
      case '>':
        kind = next == '=' ? Token::Kind::kGreaterEqual : Token::Kind::kGreater;
        length = next == '=' ? 2 : 1;
        break;
      case '!':
        if (next == '=') {
          kind = Token::Kind::kNotEqual;
          length = 2;
        }
        break;
      default:
        break;
    }
    for (size_t i = 0; i < length; ++i) Advance();
    while (!IsAscii(c) && pos_ < text_.size() && !IsAscii(text_[pos_])) Advance();
    token.kind = kind;
    if (kind == Token::Kind::kError) token.value = Unexpected(Since(start));
  }
  token.text = Since(start);
  end_line_ = line_;
  end_column_ = column_;
  return token;
}

Token Lexer::NextUnit() {
  SkipSpaceAndComments();
  const int line = line_;
  const int column = column_;
  const size_t start = pos_;
  size_t stop = pos_;
  int open = 0;
  int close = 0;
  while (stop < text_.size() && !IsSpace(text_[stop]) && text_[stop] != ',' && text_[stop] != '#') {
    open += text_[stop] == '(';
    close += text_[stop] == ')';
    ++stop;
  }
  while (stop > start && text_[stop - 1] == ')' && close > open) {
    --stop;
    --close;
  }
  while (pos_ < stop) Advance();
  Token token;
  token.kind = Token::Kind::kUnit;
  token.text = Since(start);
  token.line = line;
  token.column = column;
  if (pos_ > start) {
    end_line_ = line_;
    end_column_ = column_;
  }
  return token;
}

}  // namespace nflux::rules
