#include "case/fast_json.h"

#include <charconv>
#include <string>
#include <utility>

namespace nflux::casefile {
namespace {

using nlohmann::json;

// A recursive-descent reader over the text. Every method returns false to give up (the strict
// reader then decides); it never reports.
class FastReader {
 public:
  explicit FastReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool Document(json& out) {
    SkipSpace();
    if (!Value(out, 0)) return false;
    SkipSpace();
    return p_ == end_;
  }

 private:
  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Value(json& out, int depth) {
    if (p_ == end_ || depth > kMaxFastJsonDepth) return false;
    switch (*p_) {
      case '{': return Object(out, depth);
      case '[': return Array(out, depth);
      case '"': {
        std::string_view text;
        if (!String(text)) return false;
        out = std::string(text);
        return true;
      }
      case 't': return Literal("true", json(true), out);
      case 'f': return Literal("false", json(false), out);
      case 'n': return Literal("null", json(nullptr), out);
      default: return Number(out);
    }
  }

  bool Literal(std::string_view word, json value, json& out) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    out = std::move(value);
    return true;
  }

  // Plain strings only: no escape, no control character, no byte outside ASCII (nlohmann checks
  // UTF-8; the strict reader does that for us).
  bool String(std::string_view& text) {
    const char* start = ++p_;
    while (p_ < end_) {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        text = std::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p_;
    }
    return false;
  }

  bool Object(json& out, int depth) {
    ++p_;
    out = json::object();
    json::object_t& members = out.get_ref<json::object_t&>();
    SkipSpace();
    if (p_ < end_ && *p_ == '}') return ++p_, true;
    while (true) {
      SkipSpace();
      std::string_view key;
      if (p_ == end_ || *p_ != '"' || !String(key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      SkipSpace();
      auto [slot, inserted] = members.try_emplace(std::string(key));
      if (!inserted || !Value(slot->second, depth + 1)) return false;  // a key twice: strict reader
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == '}') return ++p_, true;
      if (*p_++ != ',') return false;
    }
  }

  bool Array(json& out, int depth) {
    ++p_;
    out = json::array();
    json::array_t& elements = out.get_ref<json::array_t&>();
    SkipSpace();
    if (p_ < end_ && *p_ == ']') return ++p_, true;
    while (true) {
      SkipSpace();
      if (!Value(elements.emplace_back(), depth + 1)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ']') return ++p_, true;
      if (*p_++ != ',') return false;
    }
  }

  // JSON's number grammar; typed as nlohmann types it.
  bool Number(json& out) {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    const char* digits = p_;
    if (p_ == end_ || !IsDigit(*p_)) return false;
    if (*p_ == '0') ++p_;
    else SkipDigits();
    bool integer = true;
    if (p_ < end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      SkipDigits();
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      SkipDigits();
    }
    if (integer) return Integer(start, digits, out);
    double value = 0;
    // Correctly rounded, as nlohmann's strtod; out of range (1e999) is left to the strict reader.
    const auto [ptr, error] = std::from_chars(start, p_, value);
    if (error != std::errc() || ptr != p_) return false;
    out = value;
    return true;
  }

  // Up to 18 digits always fit; longer ones may overflow into a double, left to the strict reader.
  bool Integer(const char* start, const char* digits, json& out) {
    constexpr long kMaxDigits = 18;
    if (p_ - digits > kMaxDigits) return false;
    unsigned long long magnitude = 0;
    for (const char* d = digits; d < p_; ++d) magnitude = magnitude * 10 + static_cast<unsigned>(*d - '0');
    if (*start == '-') out = json::number_integer_t(-static_cast<long long>(magnitude));
    else out = json::number_unsigned_t(magnitude);
    return true;
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  void SkipDigits() {
    while (p_ < end_ && IsDigit(*p_)) ++p_;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

std::optional<nlohmann::json> FastParseJson(std::string_view text) {
  json out;
  if (!FastReader(text).Document(out)) return std::nullopt;
  return out;
}

}  // namespace nflux::casefile
