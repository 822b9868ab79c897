// A compact JSON writer appending to a std::string, for the evaluation JSON and the rule trace.
// It writes exactly what nlohmann's dump() writes for the same values (numbers through nlohmann's own
// shortest-form to_chars, the same escapes), so a report written here is byte-identical to the
// DOM's dump, without building the DOM. Keys are written in call order; nothing is checked, the
// caller nests Begin/End pairs. Not thread-safe (one writer per string).
//
// The text is written into the writer's own buffer (every character a store, not a std::string
// call) and appended to the string by Flush() and at the writer's end: read the string only then.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <nlohmann/json.hpp>

#include "base/words.h"

namespace nflux {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  ~JsonWriter() { Flush(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Everything written so far appended to the string given; writing may go on.
  void Flush() {
    if (at_ == buffer_.get()) return;  // nothing written (buffer_ may not exist yet)
    out_.append(buffer_.get(), static_cast<size_t>(at_ - buffer_.get()));
    at_ = buffer_.get();
  }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // A key of the open object; the next call writes its value. Key, String and the plain path of
  // Escaped are inlined whatever the size of the unit including them (GCC's limit on a unit's
  // growth had dropped them when unrelated code joined a unity batch): a trace and a report write
  // thousands a case.
  [[gnu::always_inline]] JsonWriter& Key(std::string_view key) {
    Separate();
    Escaped(key);
    Put(':');
    first_ = true;
    return *this;
  }

  [[gnu::always_inline]] JsonWriter& String(std::string_view text) {
    Separate();
    Escaped(text);
    return *this;
  }
  JsonWriter& Int(int64_t value) { return Integer(value); }
  // As nlohmann dumps a double: null when not finite, else its shortest form ("0.5", "1.0", "1e-05").
  JsonWriter& Double(double value) {
    Separate();
    if (!std::isfinite(value)) {
      Put("null");
      return *this;
    }
    char* at = Room(64);
    // Whole numbers below 10^15 (nlohmann's fixed-point limit) print as their digits and ".0"
    // ("1.0", "-3.0"); the exact integer path saves the shortest-digits search for them.
    if (std::abs(value) < 1e15 && value == std::trunc(value) && value != 0) {
      at = std::to_chars(at, at + 24, static_cast<int64_t>(value)).ptr;
      at[0] = '.';
      at[1] = '0';
      at_ = at + 2;
      return *this;
    }
    // Most numbers of a report are rounded to four decimals: such a number (the double nearest
    // k / 10^4) prints as k's digits with the point put in and trailing zeros dropped. Below 10^4
    // that is the text nlohmann's digit search (Grisu2) gives, checked for every k below 10^8;
    // above, Grisu2 sometimes gives more digits ("65536.05530000001"), so it keeps them.
    if (std::abs(value) < 1e4) {
      const double k = std::round(value * 1e4);
      if (k != 0 && k / 1e4 == value) {
        at_ = FourDecimals(at, static_cast<int64_t>(k));
        return *this;
      }
    }
    at_ = nlohmann::detail::to_chars(at, at + 64, value);
    return *this;
  }
  JsonWriter& Bool(bool value) {
    Separate();
    Put(value ? std::string_view("true") : std::string_view("false"));
    return *this;
  }
  JsonWriter& Null() {
    Separate();
    Put("null");
    return *this;
  }
  JsonWriter& Strings(std::span<const std::string> items) {
    BeginArray();
    for (const auto& item : items) String(item);
    return EndArray();
  }
  // Any nlohmann value, objects in their own key order.
  template <typename Json>
  JsonWriter& Value(const Json& value) {
    if (value.is_object()) {
      BeginObject();
      for (auto it = value.begin(); it != value.end(); ++it) Key(it.key()).Value(it.value());
      return EndObject();
    }
    if (value.is_array()) {
      BeginArray();
      for (const auto& item : value) Value(item);
      return EndArray();
    }
    if (value.is_string()) return String(value.template get_ref<const std::string&>());
    if (value.is_number_float()) return Double(value.template get<double>());
    if (value.is_number_unsigned()) return Unsigned(value.template get<uint64_t>());
    if (value.is_number_integer()) return Int(value.template get<int64_t>());
    if (value.is_boolean()) return Bool(value.template get<bool>());
    return Null();  // null, and the binary values a report never holds
  }

 private:
  // Writes k / 10^4 (k not a multiple of 10^4) as decimal text at `at`; returns its end.
  static char* FourDecimals(char* at, int64_t k) {
    if (k < 0) {
      *at++ = '-';
      k = -k;
    }
    char digits[24];
    char* end = std::to_chars(digits, digits + sizeof digits, k).ptr;
    const ptrdiff_t length = end - digits;
    if (length > 4) {
      std::memcpy(at, digits, static_cast<size_t>(length - 4));
      at += length - 4;
    } else {
      *at++ = '0';
    }
    *at++ = '.';
    for (ptrdiff_t zeros = 4 - length; zeros > 0; --zeros) *at++ = '0';
    const char* fraction = length > 4 ? end - 4 : digits;
    while (end[-1] == '0') --end;  // k is not a multiple of 10^4: a digit of the fraction is not 0
    std::memcpy(at, fraction, static_cast<size_t>(end - fraction));
    return at + (end - fraction);
  }
  JsonWriter& Open(char bracket) {
    Separate();
    Put(bracket);
    first_ = true;
    return *this;
  }
  JsonWriter& Close(char bracket) {
    Put(bracket);
    first_ = false;
    return *this;
  }
  JsonWriter& Unsigned(uint64_t value) { return Integer(value); }
  template <typename Number>
  JsonWriter& Integer(Number value) {
    Separate();
    char* at = Room(24);
    at_ = std::to_chars(at, at + 24, value).ptr;
    return *this;
  }
  // The comma before every value but the first of a container or the one after a key.
  [[gnu::always_inline]] void Separate() {
    if (!first_) Put(',');
    first_ = false;
  }
  // ASCII as nlohmann escapes it; text with other bytes through nlohmann itself (its UTF-8 checks
  // and errors included). Most text needs no escape at all: checked a word at a time and copied whole.
  [[gnu::always_inline]] void Escaped(std::string_view text) {
    const size_t size = text.size();
    char* at = Room(size + 2);
    if (!AllPlain(text)) [[unlikely]] {
      EscapedSlowly(text);
      return;
    }
    at[0] = '"';
    CopyShortOrLong(at + 1, text.data(), size);
    at[size + 1] = '"';
    at_ = at + size + 2;
  }
  // Keys and most values are under 17 bytes: two overlapping fixed-size moves, not a libc call.
  static void CopyShortOrLong(char* to, const char* from, size_t size) {
    if (size > 16) {
      std::memcpy(to, from, size);
    } else if (size >= 8) {
      const uint64_t head = Load8(from), tail = Load8(from + size - 8);
      std::memcpy(to, &head, 8);
      std::memcpy(to + size - 8, &tail, 8);
    } else if (size >= 4) {
      const uint32_t head = Load4(from), tail = Load4(from + size - 4);
      std::memcpy(to, &head, 4);
      std::memcpy(to + size - 4, &tail, 4);
    } else {
      for (size_t i = 0; i < size; ++i) to[i] = from[i];
    }
  }
  // Runs of plain characters appended whole, the others escaped, in one pass.
  [[gnu::noinline]] void EscapedSlowly(std::string_view text) {
    const auto start = static_cast<size_t>(at_ - buffer_.get());
    Put('"');
    size_t plain = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (PlainByte(c)) continue;
      if (c >= 0x80) {
        at_ = buffer_.get() + start;
        Put(nlohmann::json(std::string(text)).dump());
        return;
      }
      Put(text.substr(plain, i - plain));
      EscapedAscii(static_cast<char>(c));
      plain = i + 1;
    }
    Put(text.substr(plain));
    Put('"');
  }
  static bool PlainByte(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }
  // No byte of `text` is a control character, '"', '\\' or beyond ASCII: whole words, the last one
  // overlapping the one before (text of 4-7 bytes as two overlapping halves of one word).
  static bool AllPlain(std::string_view text) {
    const char* bytes = text.data();
    const size_t size = text.size();
    if (size < 8) {
      if (size >= 4) return SpecialBytes(LoadOverlapping4(bytes, size)) == 0;
      for (size_t i = 0; i < size; ++i)
        if (!PlainByte(static_cast<unsigned char>(bytes[i]))) return false;
      return true;
    }
#ifdef __SSE2__
    // Longer text (evidence, citations, explanations) sixteen bytes at a time, the last block
    // overlapping the one before: a signed compare below 0x20 finds control characters and the
    // bytes beyond ASCII (negative) at once.
    if (size >= 16) {
      const __m128i below = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
      auto special = [&](const char* block) {
        const __m128i bytes16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
        return _mm_or_si128(_mm_cmplt_epi8(bytes16, below),
                            _mm_or_si128(_mm_cmpeq_epi8(bytes16, quote), _mm_cmpeq_epi8(bytes16, slash)));
      };
      __m128i found = special(bytes + size - 16);
      for (size_t i = 0; i + 16 <= size; i += 16) found = _mm_or_si128(found, special(bytes + i));
      return _mm_movemask_epi8(found) == 0;
    }
#endif
    uint64_t special = SpecialBytes(Load8(bytes + size - 8));
    for (size_t i = 0; i + 8 <= size; i += 8) special |= SpecialBytes(Load8(bytes + i));
    return special == 0;
  }
  // The high bit of each byte of `word` that is a control character, '"', '\\' or beyond ASCII
  // (the classic "has a byte less than n / equal to c" bit tricks; only whether the result is zero
  // is exact).
  static uint64_t SpecialBytes(uint64_t word) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
    const uint64_t control = (word - kOnes * 0x20) & ~word;       // a byte below 0x20
    const uint64_t quote = word ^ (kOnes * '"'), slash = word ^ (kOnes * '\\');
    const uint64_t special = ((quote - kOnes) & ~quote) | ((slash - kOnes) & ~slash);  // a zero byte
    return (control | special | word) & kHighs;
  }
  void EscapedAscii(char c) {
    switch (c) {
      case '"': Put("\\\""); return;
      case '\\': Put("\\\\"); return;
      case '\b': Put("\\b"); return;
      case '\f': Put("\\f"); return;
      case '\n': Put("\\n"); return;
      case '\r': Put("\\r"); return;
      case '\t': Put("\\t"); return;
      default: break;
    }
    if (static_cast<unsigned char>(c) >= 0x20) {
      Put(c);
      return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    Put("\\u00");
    Put(kHex[(c >> 4) & 0xF]);
    Put(kHex[c & 0xF]);
  }

  // At least `size` writable bytes at at_: the check inline, growing out of line.
  [[gnu::always_inline]] char* Room(size_t size) {
    if (static_cast<size_t>(limit_ - at_) < size) [[unlikely]] Grow(size);
    return at_;
  }
  [[gnu::noinline]] void Grow(size_t size) {
    const auto used = static_cast<size_t>(at_ - buffer_.get());
    const size_t capacity = std::max<size_t>(2 * static_cast<size_t>(limit_ - buffer_.get()), used + size + 16384);
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);  // no zero fill: all of it is written first
    if (used > 0) std::memcpy(grown.get(), buffer_.get(), used);
    buffer_ = std::move(grown);
    at_ = buffer_.get() + used;
    limit_ = buffer_.get() + capacity;
  }
  [[gnu::always_inline]] void Put(char c) {
    *Room(1) = c;
    ++at_;
  }
  [[gnu::always_inline]] void Put(std::string_view text) {
    if (text.empty()) return;
    std::memcpy(Room(text.size()), text.data(), text.size());
    at_ += text.size();
  }

  std::string& out_;
  std::unique_ptr<char[]> buffer_;  // what is written until the next Flush(), at [buffer_, at_)
  char* at_ = nullptr;
  char* limit_ = nullptr;  // the end of buffer_
  bool first_ = true;
};

// Compact JSON text (as JsonWriter or dump() writes it) laid out as nlohmann's dump(indent) lays
// out the same value: members and items one per line, `indent` spaces a level, ": " after keys,
// "{}" and "[]" when empty. REQUIRES: valid compact JSON (no whitespace outside strings).
std::string IndentJson(std::string_view compact, int indent);

}  // namespace nflux
