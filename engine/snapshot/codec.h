// Internal: the snapshot's binary encoding. A Writer appends fixed-width little-endian values and
// length-prefixed strings; a Reader reads them back, bounds-checked: past the end or on a value out
// of range it fails (ok() false) and returns zeros from then on, so a damaged image is refused,
// never read out of bounds. Encode/Decode of the knowledge base and the rule base sit in
// knowledge_codec.cc and rules_codec.cc.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "knowledge/knowledge.h"
#include "rules/rules.h"

namespace nflux::snapshot {

class Writer {
 public:
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U32(uint32_t value) { Raw(&value, sizeof value); }
  void U64(uint64_t value) { Raw(&value, sizeof value); }
  void I32(int value) { Raw(&value, sizeof value); }
  void F64(double value) { Raw(&value, sizeof value); }
  void Bool(bool value) { U8(value ? 1 : 0); }
  void Str(std::string_view text) {
    U32(static_cast<uint32_t>(text.size()));
    out_.append(text);
  }
  template <typename E>
  void Enum(E value) { U8(static_cast<uint8_t>(value)); }
  template <typename T, typename F>
  void Vec(const std::vector<T>& items, F write) {
    U32(static_cast<uint32_t>(items.size()));
    for (const T& item : items) write(item);
  }
  void Strs(const std::vector<std::string>& items) { Vec(items, [this](const std::string& s) { Str(s); }); }
  template <typename Optional, typename F>  // std::optional or Boxed
  void Opt(const Optional& value, F write) {
    Bool(value.has_value());
    if (value) write(*value);
  }
  void OptF64(const std::optional<double>& value) { Opt(value, [this](double v) { F64(v); }); }
  void OptI32(const std::optional<int>& value) { Opt(value, [this](int v) { I32(v); }); }
  // A rule file name, written once and then by its index (rules name the same files thousands of times).
  void File(const std::string& name);

  std::string& bytes() { return out_; }

 private:
  void Raw(const void* data, size_t size) { out_.append(static_cast<const char*>(data), size); }
  std::string out_;
  std::unordered_map<std::string, uint32_t> files_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : in_(bytes) {}

  bool ok() const { return ok_; }
  bool AtEnd() const { return ok_ && pos_ == in_.size(); }
  void Fail() { ok_ = false; pos_ = in_.size(); }

  uint8_t U8() {
    uint8_t value = 0;
    Raw(&value, 1);
    return value;
  }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int I32() { return Fixed<int>(); }
  double F64() { return Fixed<double>(); }
  bool Bool() {
    uint8_t value = U8();
    if (value > 1) Fail();
    return value == 1;
  }
  std::string Str() {
    uint32_t size = U32();
    if (size > in_.size() - pos_) {
      Fail();
      return {};
    }
    std::string text(in_.substr(pos_, size));
    pos_ += size;
    return text;
  }
  // An enum written by Writer::Enum; `last` is its last enumerator (beyond it: damaged).
  template <typename E>
  E Enum(E last) {
    uint8_t value = U8();
    if (value > static_cast<uint8_t>(last)) Fail();
    return ok_ ? static_cast<E>(value) : E{};
  }
  template <typename T, typename F>
  void Vec(std::vector<T>& items, F read) {
    uint32_t size = U32();
    if (size > in_.size() - pos_) return Fail();  // every item takes at least a byte
    items.clear();
    items.reserve(size);
    for (uint32_t i = 0; i < size && ok_; ++i) items.push_back(read());
  }
  void Strs(std::vector<std::string>& items) { Vec(items, [this] { return Str(); }); }
  template <typename Optional, typename F>  // std::optional or Boxed
  void Opt(Optional& value, F read) {
    if (Bool()) value = read();
    else value.reset();
  }
  void OptF64(std::optional<double>& value) { Opt(value, [this] { return F64(); }); }
  void OptI32(std::optional<int>& value) { Opt(value, [this] { return I32(); }); }
  rules::FileName File();

 private:
  template <typename T>
  T Fixed() {
    T value{};
    Raw(&value, sizeof value);
    return value;
  }
  void Raw(void* data, size_t size) {
    if (size > in_.size() - pos_) return Fail();
    std::memcpy(data, in_.data() + pos_, size);
    pos_ += size;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
  std::vector<rules::FileName> files_;
};

// knowledge_codec.cc: every field of the knowledge base's structures.
void EncodeKnowledge(const knowledge::KnowledgeBase& kb, Writer& out);
std::shared_ptr<const knowledge::KnowledgeBase> DecodeKnowledge(Reader& in);  // null when damaged

// rules_codec.cc: every field of the rule base's structures.
void EncodeRules(const rules::RuleBase& rule_base, Writer& out);
std::shared_ptr<const rules::RuleBase> DecodeRules(Reader& in);  // null when damaged

// A fast 64-bit hash (not cryptographic): the snapshot's key and checksum. Any change confined to
// one 8-byte word of `bytes` changes it.
uint64_t Hash(std::string_view bytes, uint64_t seed);

}  // namespace nflux::snapshot
