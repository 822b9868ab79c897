#include "base/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "base/fast_json.h"
#include "base/limits.h"
#include "base/text.h"

namespace nflux {

namespace {

// Builds the document from nlohmann's SAX events, noting every key given twice in an object (the
// later value wins, as in nlohmann's own parser) by its JSON path. Faster than a parser callback:
// no std::function per event and no set of keys per object, the object itself is looked up.
class StrictDomBuilder {
 public:
  using json = nlohmann::json;
  explicit StrictDomBuilder(StrictJson& out) : out_(out) {}

  bool null() { return Put(nullptr); }
  bool boolean(bool value) { return Put(value); }
  bool number_integer(json::number_integer_t value) { return Put(value); }
  bool number_unsigned(json::number_unsigned_t value) { return Put(value); }
  bool number_float(json::number_float_t value, const json::string_t&) { return Put(value); }
  bool string(json::string_t& value) { return value.size() > limits::kMaxJsonString ? Over() : Put(std::move(value)); }
  bool binary(json::binary_t& value) { return Put(json::binary(std::move(value))); }
  bool start_object(std::size_t) { return Open(json::object()); }
  bool start_array(std::size_t) { return Open(json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(json::string_t& key) {
    if (key.size() > limits::kMaxJsonString) return Over();
    Frame& top = frames_.back();
    auto [slot, inserted] = top.value->get_ref<json::object_t&>().try_emplace(key);
    if (!inserted) {
      top.key = key;
      out_.duplicate_keys.push_back(Path());
      slot->second = nullptr;
    }
    top.key = std::move(key);
    top.slot = &slot->second;
    return true;
  }
  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& error) {
    error_byte_ = byte;
    error_message_ = error.what();
    return false;
  }

  // Parsing stopped at a limit (nesting, string length); where is found by LimitErrorAt.
  bool over_limit() const { return over_limit_; }
  std::size_t error_byte() const { return error_byte_; }
  const std::string& error_message() const { return error_message_; }

 private:
  struct Frame {
    json* value;         // the open object or array
    json* slot = nullptr;  // in an object: where the value of the last key goes
    std::string key;     // in an object: the last key (for paths)
  };

  // Where the next value goes: the root, the slot of the last key, or a new array element.
  json* Slot() {
    if (frames_.empty()) return &out_.value;
    Frame& top = frames_.back();
    if (top.value->is_array()) {
      top.value->get_ref<json::array_t&>().emplace_back();
      return &top.value->get_ref<json::array_t&>().back();
    }
    return top.slot;
  }
  template <typename T>
  bool Put(T&& value) {
    *Slot() = std::forward<T>(value);
    return true;
  }
  bool Open(json empty) {
    if (frames_.size() >= static_cast<size_t>(limits::kMaxJsonDepth)) return Over();
    json* slot = Slot();
    *slot = std::move(empty);
    frames_.push_back(Frame{slot, nullptr, {}});
    return true;
  }
  bool Close() {
    frames_.pop_back();
    return true;
  }
  bool Over() {
    over_limit_ = true;
    return false;
  }
  // The JSON path of the key being read ("/nodes/3/label").
  std::string Path() const {
    std::string path;
    for (const Frame& frame : frames_)
      path = frame.value->is_array() ? JsonChild(path, frame.value->size() - 1) : JsonChild(path, frame.key);
    return path;
  }

  StrictJson& out_;
  std::vector<Frame> frames_;
  std::size_t error_byte_ = 0;
  std::string error_message_;
  bool over_limit_ = false;
};

// Line and column (1-based) of the byte before `byte` (nlohmann counts one past the bad token).
JsonSyntaxError SyntaxErrorAt(std::string_view text, std::size_t byte, const std::string& what) {
  JsonSyntaxError syntax{1, 1, Utf8Safe(what)};  // nlohmann quotes the bytes it read, valid or not
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++syntax.line;
      syntax.column = 1;
    } else {
      ++syntax.column;
    }
  }
  // "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error ..." and
  // "[json.exception.out_of_range.406] number overflow parsing '1e400'": the part after the tag.
  auto at = syntax.message.find("syntax error");
  if (at == std::string::npos && syntax.message.starts_with("[json.exception.")) at = syntax.message.find("] ") + 2;
  if (at != std::string::npos) syntax.message = syntax.message.substr(at);
  return syntax;
}

// Where `text` first nests deeper than limits::kMaxJsonDepth or holds a string (its bytes as
// written) longer than limits::kMaxJsonString, with line and column: one pass, run only after the
// parser stopped at a limit, which its events cannot place.
JsonSyntaxError LimitErrorAt(std::string_view text) {
  JsonSyntaxError error{1, 1, "a limit was exceeded"};
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t string_start = 0;
  JsonSyntaxError string_at = error;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      if (in_string && i - string_start >= limits::kMaxJsonString) {  // a character past the limit
        string_at.message = "a string longer than " + std::to_string(limits::kMaxJsonString) + " bytes (the limit)";
        return string_at;
      }
    } else if (c == '"') {
      in_string = true;
      string_start = i + 1;
      string_at = error;
    } else if ((c == '[' || c == '{') && ++depth > limits::kMaxJsonDepth) {
      error.message = "nested deeper than " + std::to_string(limits::kMaxJsonDepth) + " levels (the limit)";
      return error;
    } else if (c == ']' || c == '}') {
      --depth;
    }
    if (c == '\n') {
      ++error.line;
      error.column = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {  // columns count characters
      ++error.column;
    }
  }
  return error;
}

}  // namespace

StrictJson ParseJsonStrict(std::string_view text) {
  StrictJson result;
  // Plain JSON is read by the fast reader; anything else (errors included) by the strict one.
  if (std::optional<nlohmann::json> fast = FastParseJson(text)) {
    result.value = std::move(*fast);
    return result;
  }
  StrictDomBuilder builder(result);
  if (!nlohmann::json::sax_parse(text.begin(), text.end(), &builder)) {
    result.syntax_error = builder.over_limit() ? LimitErrorAt(text)
                                               : SyntaxErrorAt(text, builder.error_byte(), builder.error_message());
    result.value = nullptr;
  }
  return result;
}

}  // namespace nflux

namespace nflux {


Result<nlohmann::json> ParseJsonDocument(std::string_view text, const std::string& source) {
  StrictJson parsed = ParseJsonStrict(text);
  if (parsed.syntax_error)
    return Status::InvalidArgument(source + ":" + std::to_string(parsed.syntax_error->line) + ":" +
                                   std::to_string(parsed.syntax_error->column) +
                                   ": not valid JSON: " + parsed.syntax_error->message);
  std::string message;
  for (const auto& path : parsed.duplicate_keys)
    message += (message.empty() ? "" : "\n") + source + ": " + path + ": duplicate key '" + JsonLastKey(path) +
               "': the earlier value would be lost";
  if (!message.empty()) return Status::InvalidArgument(message);
  return std::move(parsed.value);
}

std::string JsonChild(std::string_view path, std::string_view key) {
  // Paths are made for every lab and entry a case has: sized once, the key copied whole unless it
  // has a character to escape (ids never do).
  std::string out;
  out.reserve(path.size() + 1 + key.size());
  out.append(path);
  out += '/';
  // (A loop, not find_first_of: libstdc++'s calls memchr for every character of the key.)
  if (std::none_of(key.begin(), key.end(), [](char c) { return c == '~' || c == '/'; })) {
    out.append(key);
    return out;  // named: returning append()'s reference would copy
  }
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string JsonChild(std::string_view path, size_t index) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof digits, index).ptr;
  return JsonChild(path, std::string_view(digits, static_cast<size_t>(end - digits)));
}

std::string JsonStringAt(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string JsonLastKey(std::string_view path) {
  const size_t slash = path.rfind('/');
  std::string_view token = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

std::string JsonTypeWithArticle(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

std::optional<long long> JsonInteger(const nlohmann::json& value) {
  if (value.is_number_unsigned())
    return value.get<unsigned long long>() > static_cast<unsigned long long>(std::numeric_limits<long long>::max())
               ? std::nullopt
               : std::optional<long long>(value.get<long long>());
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::isfinite(number) && number == std::floor(number) && std::abs(number) < 1e15)
      return static_cast<long long>(number);
  }
  return std::nullopt;
}

namespace {

// Built with += : GCC 12 warns (-Wrestrict, falsely) on "'" + std::string&&.
std::string Quoted(std::string_view text) {
  std::string out = "'";
  out += text;
  out += '\'';
  return out;
}

}  // namespace

JsonReader::JsonReader(std::vector<JsonProblem>* problems)
    : sink_([problems](const std::string& path, const std::string& message) {
        problems->push_back(JsonProblem{path, message});
      }) {}

void JsonReader::WrongType(const std::string& path, std::string_view expected, const nlohmann::json& got) const {
  Report(path, "expected " + std::string(expected) + ", got " + JsonTypeWithArticle(got));
}

const nlohmann::json* JsonReader::Field(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::vector<std::string> JsonReader::UnknownFields(const nlohmann::json& object, const std::vector<std::string>& allowed,
                                                   bool comments_allowed) {
  std::vector<std::string> unknown;
  if (!object.is_object()) return unknown;
  for (const auto& [key, value] : object.items()) {
    if (comments_allowed && !key.empty() && key[0] == '_') continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) unknown.push_back(key);
  }
  return unknown;
}

const nlohmann::json* JsonReader::Object(const nlohmann::json& value, const std::string& path) const {
  if (value.is_object()) return &value;
  WrongType(path, "an object", value);
  return nullptr;
}

const nlohmann::json* JsonReader::Array(const nlohmann::json& value, const std::string& path) const {
  if (value.is_array()) return &value;
  WrongType(path, "an array", value);
  return nullptr;
}

std::optional<std::string> JsonReader::String(const nlohmann::json& value, const std::string& path) const {
  if (value.is_string()) return value.get<std::string>();
  WrongType(path, "a string", value);
  return std::nullopt;
}

std::optional<double> JsonReader::Number(const nlohmann::json& value, const std::string& path) const {
  if (value.is_number()) return value.get<double>();
  WrongType(path, "a number", value);
  return std::nullopt;
}

std::optional<long long> JsonReader::Integer(const nlohmann::json& value, const std::string& path) const {
  if (std::optional<long long> number = JsonInteger(value)) return number;
  WrongType(path, "an integer", value);
  return std::nullopt;
}

std::optional<bool> JsonReader::Bool(const nlohmann::json& value, const std::string& path) const {
  if (value.is_boolean()) return value.get<bool>();
  WrongType(path, "true or false", value);
  return std::nullopt;
}

std::optional<std::vector<std::string>> JsonReader::StringArray(const nlohmann::json& value,
                                                                const std::string& path) const {
  if (!Array(value, path)) return std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < value.size(); ++i) {
    std::optional<std::string> item = String(value[i], JsonChild(path, i));
    if (item) out.push_back(std::move(*item));
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<int> JsonReader::IntegerInRange(const nlohmann::json& value, const std::string& path, int low, int high,
                                              std::string_view what) const {
  std::optional<long long> number = Integer(value, path);
  if (!number) return std::nullopt;
  if (*number < low || *number > high) {
    Report(path, std::string(what) + " " + std::to_string(*number) + " is out of range " + std::to_string(low) + "-" +
                     std::to_string(high));
    return std::nullopt;
  }
  return static_cast<int>(*number);
}

std::optional<double> JsonReader::NumberInRange(const nlohmann::json& value, const std::string& path, double low,
                                                double high) const {
  std::optional<double> number = Number(value, path);
  if (!number) return std::nullopt;
  if (*number < low || *number > high) {
    Report(path, Quoted(JsonLastKey(path)) + " " + FormatNumber(*number) + " is out of range " + FormatNumber(low) + "-" +
                     FormatNumber(high));
    return std::nullopt;
  }
  return number;
}

std::string JsonReader::NotOneOf(const std::string& got, const std::vector<std::string>& words) {
  if (words.size() == 2) return "expected " + Quoted(words[0]) + " or " + Quoted(words[1]) + ", got " + Quoted(got);
  std::string list;
  for (const std::string& word : words) list += (list.empty() ? "" : ", ") + word;
  return "expected one of " + list + ", got " + Quoted(got) + DidYouMean(got, words);
}

std::optional<std::string> JsonReader::OneOf(const nlohmann::json& value, const std::string& path,
                                             const std::vector<std::string>& words) const {
  std::optional<std::string> text = String(value, path);
  if (!text) return std::nullopt;
  if (std::find(words.begin(), words.end(), *text) != words.end()) return text;
  Report(path, NotOneOf(*text, words));
  return std::nullopt;
}

// ---- ObjectReader ----------------------------------------------------------------------------

void ObjectReader::RejectUnknownFields(const std::vector<std::string>& allowed, bool comments_allowed,
                                       const std::string& suffix) const {
  for (const std::string& key : JsonReader::UnknownFields(object_, allowed, comments_allowed))
    reader_.Report(PathOf(key), "unknown field " + Quoted(key) + DidYouMean(key, allowed) + suffix);
}

bool ObjectReader::Missing(std::string_view key) const {
  if (Has(key)) return false;
  reader_.Report(path_, "missing required field " + Quoted(key));
  return true;
}

std::optional<std::string> ObjectReader::OptionalString(std::string_view key) const {
  const nlohmann::json* value = Field(key);
  return value ? reader_.String(*value, PathOf(key)) : std::nullopt;
}

std::optional<double> ObjectReader::OptionalNumber(std::string_view key) const {
  const nlohmann::json* value = Field(key);
  return value ? reader_.Number(*value, PathOf(key)) : std::nullopt;
}

std::optional<long long> ObjectReader::OptionalInteger(std::string_view key) const {
  const nlohmann::json* value = Field(key);
  return value ? reader_.Integer(*value, PathOf(key)) : std::nullopt;
}

std::optional<bool> ObjectReader::OptionalBool(std::string_view key) const {
  const nlohmann::json* value = Field(key);
  return value ? reader_.Bool(*value, PathOf(key)) : std::nullopt;
}

std::optional<std::vector<std::string>> ObjectReader::OptionalStringArray(std::string_view key) const {
  const nlohmann::json* value = Field(key);
  return value ? reader_.StringArray(*value, PathOf(key)) : std::nullopt;
}

std::optional<std::string> ObjectReader::OptionalOneOf(std::string_view key, const std::vector<std::string>& words) const {
  const nlohmann::json* value = Field(key);
  return value ? reader_.OneOf(*value, PathOf(key), words) : std::nullopt;
}

std::optional<std::string> ObjectReader::RequiredString(std::string_view key) const {
  if (Missing(key)) return std::nullopt;
  return OptionalString(key);
}

std::optional<double> ObjectReader::RequiredNumber(std::string_view key) const {
  if (Missing(key)) return std::nullopt;
  return OptionalNumber(key);
}

}  // namespace nflux
