#include "base/fast_json.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace nflux {

bool MayHaveMinusZero(std::string_view text) {
  for (size_t at = text.find("-0"); at != std::string_view::npos; at = text.find("-0", at + 1)) {
    const char next = at + 2 < text.size() ? text[at + 2] : ' ';
    // "-0.5" and "-0e1" are doubles; "-01" can only be text ("2024-01-05").
    if (next != '.' && next != 'e' && next != 'E' && (next < '0' || next > '9')) return true;
  }
  return false;
}

namespace {

using nlohmann::json;
namespace dom = simdjson::dom;

// A thread's parser keeps its buffers for the next text. ParseFastDocument's callers read the
// document itself, so it takes only texts up to the string limit: only a longer text can hold a
// string over it. The copies into nlohmann's documents check each string instead.
constexpr size_t kInitialCapacity = size_t{1} << 12;
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Copies simdjson's document into nlohmann's (`Json`: json or ordered_json). Every method returns
// false to give up (the strict reader then decides); it never reports.
template <typename Json>
class DomToJson {
 public:
  explicit DomToJson(std::string_view text) : text_(text) {}

  bool Value(dom::element element, Json& out) {
    switch (element.type()) {
      case dom::element_type::OBJECT: return Object(element.get_object().value_unsafe(), out);
      case dom::element_type::ARRAY: return Array(element.get_array().value_unsafe(), out);
      case dom::element_type::STRING: return String(element.get_string().value_unsafe(), out);
      case dom::element_type::INT64: return Integer(element.get_int64().value_unsafe(), out);
      case dom::element_type::UINT64: out = typename Json::number_unsigned_t(element.get_uint64().value_unsafe()); return true;
      case dom::element_type::DOUBLE: out = element.get_double().value_unsafe(); return true;
      case dom::element_type::BOOL: out = element.get_bool().value_unsafe(); return true;
      case dom::element_type::NULL_VALUE: out = nullptr; return true;
    }
    return false;
  }

 private:
  bool Object(dom::object object, Json& out) {
    out = Json::object();
    auto& members = out.template get_ref<typename Json::object_t&>();
    for (dom::key_value_pair member : object) {
      if (member.key.size() > limits::kMaxJsonString) return false;
      auto [slot, inserted] = members.emplace(std::string(member.key), Json());
      if (!inserted || !Value(member.value, slot->second)) return false;  // a key twice: strict reader
    }
    return true;
  }

  bool String(std::string_view text, Json& out) {
    if (text.size() > limits::kMaxJsonString) return false;
    out = std::string(text);
    return true;
  }

  bool Array(dom::array array, Json& out) {
    out = Json::array();
    auto& elements = out.template get_ref<typename Json::array_t&>();
    elements.reserve(array.size());
    for (dom::element element : array) {
      if (!Value(element, elements.emplace_back())) return false;
    }
    return true;
  }

  // nlohmann types an integer by its sign as written: "-0" is signed, "0" unsigned. simdjson gives
  // 0 for both, so a zero is kept only when the text has no "-0" that could be a number.
  bool Integer(int64_t value, Json& out) {
    if (value < 0) out = typename Json::number_integer_t(value);
    else if (value > 0 || !MayHaveMinusZero()) out = typename Json::number_unsigned_t(static_cast<uint64_t>(value));
    else return false;
    return true;
  }

  bool MayHaveMinusZero() {
    if (minus_zero_ < 0) minus_zero_ = nflux::MayHaveMinusZero(text_) ? 1 : 0;
    return minus_zero_ == 1;
  }

  std::string_view text_;
  int minus_zero_ = -1;  // unknown until a zero is met
};

// The text copied with the zero padding simdjson reads past the end.
bool Parse(dom::parser& parser, std::string& padded, std::string_view text, dom::element& root) {
  padded.assign(text);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  return !parser.parse(padded.data(), text.size(), false).get(root);
}

// The depth limit set once holds when parse() allocates again for a longer text.
struct ThreadParser {
  dom::parser parser;
  bool ready = parser.allocate(kInitialCapacity, kMaxFastJsonDepth) == simdjson::SUCCESS;
  std::string padded;
};

ThreadParser& ThisThreadsParser() {
  thread_local ThreadParser reused;
  return reused;
}

template <typename Json>
std::optional<Json> Convert(std::string_view text) {
  if (text.size() > kMaxFastJsonText || text.starts_with(kByteOrderMark)) return std::nullopt;
  ThreadParser& reader = ThisThreadsParser();
  dom::element root;
  if (!reader.ready || !Parse(reader.parser, reader.padded, text, root)) return std::nullopt;
  Json out;
  if (!DomToJson<Json>(text).Value(root, out)) return std::nullopt;
  return out;
}

}  // namespace

std::optional<simdjson::dom::element> ParseFastDocument(std::string_view text) {
  if (text.size() > limits::kMaxJsonString || text.starts_with(kByteOrderMark)) return std::nullopt;
  ThreadParser& reused = ThisThreadsParser();
  dom::element root;
  if (!reused.ready || !Parse(reused.parser, reused.padded, text, root)) return std::nullopt;
  return root;
}

bool HasDuplicateKeys(simdjson::dom::element element) {
  if (element.is_array()) {
    const dom::array array = element.get_array().value_unsafe();
    for (dom::element child : array)
      if (HasDuplicateKeys(child)) return true;
    return false;
  }
  if (!element.is_object()) return false;
  // The keys are gathered in one walk of the object: walking its tape again for every key (each
  // step skips a whole value) cost more than the comparisons. A large object is sorted instead.
  constexpr size_t kCompared = 32;
  const dom::object object = element.get_object().value_unsafe();
  std::array<std::string_view, kCompared> few;
  std::vector<std::string_view> many;
  size_t count = 0;
  for (dom::key_value_pair member : object) {
    if (count < kCompared) {
      for (size_t i = 0; i < count; ++i)
        if (few[i] == member.key) return true;
      few[count] = member.key;
    } else {
      if (many.empty()) many.assign(few.begin(), few.end());
      many.push_back(member.key);
    }
    ++count;
    if (HasDuplicateKeys(member.value)) return true;
  }
  std::sort(many.begin(), many.end());
  return std::adjacent_find(many.begin(), many.end()) != many.end();
}

std::optional<nlohmann::json> FastToJson(simdjson::dom::element element, std::string_view text) {
  json out;
  if (!DomToJson<json>(text).Value(element, out)) return std::nullopt;
  return out;
}

std::optional<nlohmann::json> FastParseJson(std::string_view text) { return Convert<json>(text); }

std::optional<nlohmann::ordered_json> FastParseOrderedJson(std::string_view text) {
  return Convert<nlohmann::ordered_json>(text);
}

nlohmann::ordered_json ParseWrittenJson(std::string_view text) {
  std::optional<nlohmann::ordered_json> fast = FastParseOrderedJson(text);
  return fast ? std::move(*fast) : nlohmann::ordered_json::parse(text);
}

}  // namespace nflux
