// ParseUnit: a recursive-descent parser for the UCUM subset lab units use.
//
//   term      := ['/'] component (('.' | '/') component)*
//   component := '(' term ')' | annotation | factor | symbol [exponent] [annotation]
//   factor    := digits | '10' ('*' | '^') exponent
//   symbol    := [prefix] atom | '%'
//   exponent  := ['+' | '-'] digits
//   annotation:= '{' text '}'          (dimensionless, factor 1, as UCUM says)

#include <charconv>
#include <optional>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/text.h"
#include "units/units.h"

namespace nflux::units {
namespace {

struct Atom {
  std::string_view symbol;
  double mantissa;
  int decimal_exponent;
  std::optional<BaseQuantity> quantity;  // None for dimensionless atoms.
  bool takes_prefix;
};

// UCUM atoms the engine accepts. "l" is UCUM's alternative spelling of the litre.
constexpr Atom kAtoms[] = {
    {"g", 1, 0, BaseQuantity::kMass, true},
    {"mol", 1, 0, BaseQuantity::kAmount, true},
    {"L", 1, 0, BaseQuantity::kVolume, true},
    {"l", 1, 0, BaseQuantity::kVolume, true},
    {"[IU]", 1, 0, BaseQuantity::kInternationalUnit, true},
    {"[iU]", 1, 0, BaseQuantity::kInternationalUnit, true},
    {"U", 1, 0, BaseQuantity::kEnzymeUnit, true},
    {"eq", 1, 0, BaseQuantity::kEquivalent, true},
    {"m", 1, 0, BaseQuantity::kLength, true},
    {"s", 1, 0, BaseQuantity::kTime, false},
    {"min", 60, 0, BaseQuantity::kTime, false},
    {"h", 3600, 0, BaseQuantity::kTime, false},
    {"d", 86400, 0, BaseQuantity::kTime, false},
    {"%", 1, -2, std::nullopt, false},
};

struct Prefix {
  char symbol;
  int decimal_exponent;
};

constexpr Prefix kPrefixes[] = {
    {'k', 3}, {'d', -1}, {'c', -2}, {'m', -3}, {'u', -6}, {'n', -9}, {'p', -12}, {'f', -15},
};
constexpr std::string_view kPrefixList = "k, d, c, m, u, n, p, f";

// Exponents and factors beyond these are typos; bounding them keeps the arithmetic far from
// overflow whatever the text.
constexpr int kMaxExponent = 99;
constexpr size_t kMaxFactorDigits = 15;
constexpr int kMaxDecimalExponent = 300;

const Atom* FindAtom(std::string_view symbol) {
  for (const Atom& atom : kAtoms) {
    if (atom.symbol == symbol) return &atom;
  }
  return nullptr;
}

const Prefix* FindPrefix(char symbol) {
  for (const Prefix& prefix : kPrefixes) {
    if (prefix.symbol == symbol) return &prefix;
  }
  return nullptr;
}

// Candidates for "did you mean": the multi-letter atoms and prefixed forms labs use. One-letter
// atoms are left out: they sit within typo distance of every short word.
const std::vector<std::string>& SuggestionCandidates() {
  static const std::vector<std::string> kCandidates = {
      "mg",   "ug",    "ng",    "pg",  "mol", "mmol", "umol", "nmol", "pmol", "dL", "mL", "uL",
      "fL",   "[IU]",  "m[IU]", "u[IU]", "mU", "eq",  "meq",  "min",
  };
  return kCandidates;
}

// "'text'". Built by appending: GCC 12 at -O2 warns falsely (-Wrestrict) on "'" + temporary.
std::string Quote(std::string_view text) {
  std::string quoted = "'";
  quoted += text;
  quoted += '\'';
  return quoted;
}

}  // namespace

// Builds Units; the only class allowed to construct one.
class UnitParser {
 public:
  UnitParser(std::string_view original, std::string normalised)
      : original_(original), text_(std::move(normalised)) {}

  Result<Unit> Parse() {
    if (text_.empty()) return Status::InvalidArgument("unit is empty");
    Result<Unit> unit = ParseTerm();
    if (!unit.ok()) return unit;
    if (position_ < text_.size()) return Unexpected();
    unit->text_ = text_;
    return unit;
  }

 private:
  static Unit Dimensionless() { return Unit(); }

  static void Combine(Unit& into, const Unit& other, bool divide) {
    const int sign = divide ? -1 : 1;
    into.mantissa_ = divide ? into.mantissa_ / other.mantissa_ : into.mantissa_ * other.mantissa_;
    into.decimal_exponent_ += sign * other.decimal_exponent_;
    for (size_t i = 0; i < kBaseQuantityCount; ++i) into.dimension_[i] += sign * other.dimension_[i];
  }

  bool AtEnd() const { return position_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[position_]; }

  // "'mcg/dq' (read as 'ug/dq')" when normalising changed the text, so the user recognises theirs.
  std::string Quoted() const {
    std::string quoted = Quote(original_);
    if (original_ != text_) {
      quoted += " (read as ";
      quoted += Quote(text_);
      quoted += ')';
    }
    return quoted;
  }
  std::string Column() const { return "column " + std::to_string(position_ + 1); }

  // The character at the current position, whole even when it is a multi-byte UTF-8 sequence.
  std::string CurrentCharacter() const {
    size_t end = position_ + 1;
    while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
    return text_.substr(position_, end - position_);
  }

  Status Unexpected() const {
    return Status::InvalidArgument("unit " + Quoted() + ": unexpected '" + CurrentCharacter() + "' at " +
                                   Column());
  }
  Status Missing(char closing) const {
    return Status::InvalidArgument("unit " + Quoted() + " is missing '" + std::string(1, closing) + "'");
  }

  Result<Unit> ParseTerm() {
    Unit unit = Dimensionless();
    bool divide = false;
    if (Peek() == '/') {  // A leading '/' means "per", as in "/min".
      divide = true;
      ++position_;
    }
    while (true) {
      Result<Unit> component = ParseComponent();
      if (!component.ok()) return component;
      Combine(unit, *component, divide);
      if (std::abs(unit.decimal_exponent_) > kMaxDecimalExponent) {
        return Status::InvalidArgument("unit " + Quoted() + " is out of range (its scale exceeds 10^" +
                                       std::to_string(kMaxDecimalExponent) + ")");
      }
      if (Peek() != '.' && Peek() != '/') return unit;
      divide = Peek() == '/';
      ++position_;
    }
  }

  Result<Unit> ParseComponent() {
    const char c = Peek();
    if (AtEnd() || c == '.' || c == '/' || c == ')') {
      std::string got = AtEnd() ? "the end" : Quote(std::string_view(&c, 1));
      return Status::InvalidArgument("unit " + Quoted() + ": expected a unit at " + Column() + ", got " + got);
    }
    if (c == '(') {
      if (++nesting_ > limits::kMaxUnitNesting)
        return Status::InvalidArgument("unit " + Quoted() + ": parentheses nested deeper than " +
                                       std::to_string(limits::kMaxUnitNesting) + " (the limit)");
      ++position_;
      Result<Unit> inner = ParseTerm();
      if (!inner.ok()) return inner;
      --nesting_;
      if (Peek() != ')') return AtEnd() ? Missing(')') : Unexpected();
      ++position_;
      return inner;
    }
    if (c == '{') {
      Status status = SkipAnnotation();
      if (!status.ok()) return status;
      return Dimensionless();
    }
    if (IsAsciiDigit(c)) return ParseFactor();
    if (IsAsciiLetter(c) || c == '[' || c == '%') return ParseSymbol();
    return Unexpected();
  }

  Status SkipAnnotation() {
    size_t close = text_.find('}', position_);
    if (close == std::string::npos) return Missing('}');
    position_ = close + 1;
    return Status::Ok();
  }

  // Reads ['+' | '-'] digits at the current position; nullopt (consuming nothing) when there are none.
  Result<std::optional<int>> ParseExponent() {
    const size_t start = position_;
    size_t digits = start;
    if (Peek() == '+' || Peek() == '-') ++digits;
    if (digits >= text_.size() || !IsAsciiDigit(text_[digits])) return std::optional<int>();
    size_t end = digits;
    while (end < text_.size() && IsAsciiDigit(text_[end])) ++end;
    int magnitude = 0;
    auto [unused, error] = std::from_chars(text_.data() + digits, text_.data() + end, magnitude);
    (void)unused;
    if (error != std::errc() || magnitude > kMaxExponent) {
      return Status::InvalidArgument("unit " + Quoted() + ": exponent " + text_.substr(start, end - start) +
                                     " at " + Column() + " is out of range");
    }
    position_ = end;
    return std::optional<int>(text_[start] == '-' ? -magnitude : magnitude);
  }

  Result<Unit> ParseFactor() {
    const size_t start = position_;
    while (IsAsciiDigit(Peek())) ++position_;
    const std::string digits = text_.substr(start, position_ - start);
    if (digits.size() > kMaxFactorDigits) {
      return Status::InvalidArgument("unit " + Quoted() + ": factor " + digits + " at column " +
                                     std::to_string(start + 1) + " is out of range");
    }
    Unit factor = Dimensionless();
    if (digits == "10" && (Peek() == '*' || Peek() == '^')) {
      ++position_;
      Result<std::optional<int>> exponent = ParseExponent();
      if (!exponent.ok()) return exponent.status();
      if (!exponent->has_value()) {
        return Status::InvalidArgument("unit " + Quoted() + ": expected an exponent after '10" +
                                       text_[position_ - 1] + "' at " + Column());
      }
      factor.decimal_exponent_ = **exponent;
      return factor;
    }
    // Keep trailing zeros in the power of ten so "1000" cancels exactly against prefixes.
    size_t significant = digits.find_last_not_of('0');
    if (significant == std::string::npos) {
      return Status::InvalidArgument("unit " + Quoted() + ": factor 0 at column " + std::to_string(start + 1) +
                                     " would make every value 0");
    }
    std::string mantissa_digits = digits.substr(0, significant + 1);
    double mantissa = 0;
    std::from_chars(mantissa_digits.data(), mantissa_digits.data() + mantissa_digits.size(), mantissa);
    factor.mantissa_ = mantissa;
    factor.decimal_exponent_ = static_cast<int>(digits.size() - mantissa_digits.size());
    return factor;
  }

  Result<Unit> ParseSymbol() {
    const size_t start = position_;
    if (Peek() == '%') {
      ++position_;
    } else {
      while (IsAsciiLetter(Peek()) || Peek() == '[') {
        if (Peek() == '[') {
          size_t close = text_.find(']', position_);
          if (close == std::string::npos) return Missing(']');
          position_ = close + 1;
        } else {
          ++position_;
        }
      }
    }
    const std::string symbol = text_.substr(start, position_ - start);
    Result<Unit> unit = ResolveSymbol(symbol);
    if (!unit.ok()) return unit;

    Result<std::optional<int>> found = ParseExponent();
    if (!found.ok()) return found.status();
    const int exponent = found->value_or(1);
    if (exponent != 1) {
      unit->mantissa_ = std::pow(unit->mantissa_, exponent);
      unit->decimal_exponent_ *= exponent;
      for (int& power : unit->dimension_) power *= exponent;
    }
    if (Peek() == '{') {  // "mL{total}": an annotation on a unit leaves the unit as it is.
      Status status = SkipAnnotation();
      if (!status.ok()) return status;
    }
    return unit;
  }

  Result<Unit> ResolveSymbol(const std::string& symbol) const {
    const Atom* atom = FindAtom(symbol);
    const Prefix* prefix = nullptr;
    if (atom == nullptr && symbol.size() > 1) {
      const Atom* rest = FindAtom(std::string_view(symbol).substr(1));
      if (rest != nullptr) {
        prefix = FindPrefix(symbol[0]);
        if (prefix == nullptr && rest->takes_prefix) {
          return Unknown(Quote(symbol.substr(0, 1)) + " is not a supported prefix (use " +
                         std::string(kPrefixList) + ")");
        }
        if (prefix != nullptr && !rest->takes_prefix) {
          return Unknown("'" + symbol + "' is not a unit ('" + std::string(rest->symbol) + "' takes no prefix)");
        }
        atom = prefix != nullptr ? rest : nullptr;
      }
    }
    if (atom == nullptr) {
      // Short symbols are within typo distance of nearly every atom; suggestions would be noise.
      std::string hint = symbol.size() >= 3 ? DidYouMean(symbol, SuggestionCandidates()) : "";
      return Unknown("'" + symbol + "' is not a unit" + hint);
    }
    Unit unit = Dimensionless();
    unit.mantissa_ = atom->mantissa;
    unit.decimal_exponent_ = atom->decimal_exponent + (prefix != nullptr ? prefix->decimal_exponent : 0);
    if (atom->quantity) unit.dimension_[static_cast<size_t>(*atom->quantity)] = 1;
    return unit;
  }

  Status Unknown(const std::string& why) const {
    return Status::InvalidArgument("unknown unit " + Quoted() + ": " + why);
  }

  std::string_view original_;
  std::string text_;
  size_t position_ = 0;
  int nesting_ = 0;  // open parentheses: ParseTerm and ParseComponent recurse through them
};

Result<Unit> ParseUnit(std::string_view text) {
  // Trim for the message only; normalising drops the spaces anyway.
  size_t first = text.find_first_not_of(" \t\r\n");
  size_t last = text.find_last_not_of(" \t\r\n");
  std::string_view trimmed = first == std::string_view::npos ? "" : text.substr(first, last - first + 1);
  if (trimmed.size() > limits::kMaxUnitLength)
    return Status::InvalidArgument("unit '" + std::string(Utf8Prefix(trimmed, 24)) + "...' is longer than " +
                                   std::to_string(limits::kMaxUnitLength) + " characters (the limit)");
  return UnitParser(trimmed, NormaliseUnitText(trimmed)).Parse();
}

}  // namespace nflux::units
