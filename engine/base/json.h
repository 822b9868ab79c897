// Strict JSON reading for files people edit by hand (knowledge files, cases, CLI inputs).
//
// ParseJsonStrict(): nlohmann/json keeps the last of two equal keys without a word, which would
// silently drop data; this reports them instead.
// JsonReader / ObjectReader: typed field readers at JSON pointer paths (RFC 6901). Every problem
// (wrong type, missing field, unknown field, out of range, unknown word) goes to a sink as
// "/path" + message, so a loader collects all of them instead of stopping at the first.
//
// Pure functions and small value types; a reader is not thread-safe, the functions are.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/text.h"

namespace nflux {

// The name table of a domain enum, specialised in knowledge/vocabulary.h.
template <typename E>
struct EnumNames;

struct JsonSyntaxError {
  int line = 0;
  int column = 0;
  std::string message;  // "syntax error while parsing value - invalid literal; last read: 'x'"
};

struct StrictJson {
  nlohmann::json value;                      // discarded on a syntax error
  std::optional<JsonSyntaxError> syntax_error;
  std::vector<std::string> duplicate_keys;   // JSON paths of keys given twice ("/nodes/3/label")
};

// Parses `text`; never throws. Plain JSON is read by simdjson (base/fast_json.h), the rest (errors,
// keys given twice, limits) by nlohmann's lexer, which also places the errors.
StrictJson ParseJsonStrict(std::string_view text);

// A whole document read from `source` (a file name, "-" for stdin), parsed strictly for callers
// that stop at the first problem (CLI inputs, golden expectations). InvalidArgument on a syntax
// error ("f.json:3:7: not valid JSON: syntax error ...") or on every key given twice, one per line
// ("f.json: /a: duplicate key 'a': the earlier value would be lost").
Result<nlohmann::json> ParseJsonDocument(std::string_view text, const std::string& source);

// ---- JSON pointer paths ------------------------------------------------------------------------

// "/labs/0/value": `path` + "/" + the key with "~" and "/" escaped (RFC 6901).
std::string JsonChild(std::string_view path, std::string_view key);
std::string JsonChild(std::string_view path, size_t index);
// The last token of a path, unescaped ("/a/b~1c" -> "b/c"); "" for "".
std::string JsonLastKey(std::string_view path);

// The string at `key` of `object`; "" when `object` is not an object or that value is missing or not
// a string (where nlohmann's value() would throw on a value of another type: bad input, not a bug).
std::string JsonStringAt(const nlohmann::json& object, std::string_view key);

// "a string", "an array", "null"... for "expected X, got Y" messages.
std::string JsonTypeWithArticle(const nlohmann::json& value);
// The value as an integer when it is a JSON number without a fractional part (3 and 3.0).
std::optional<long long> JsonInteger(const nlohmann::json& value);

// ---- Typed readers with a problem sink -----------------------------------------------------------

struct JsonProblem {
  std::string path;     // JSON pointer, "" for the document
  std::string message;  // "expected a string, got a number"
  std::string ToString() const { return path.empty() ? message : path + ": " + message; }
};

// Receives every problem a reader finds.
using JsonProblemSink = std::function<void(const std::string& path, const std::string& message)>;

// Reads values at paths, reporting to the sink. Each reader returns nullopt (or nullptr) after
// reporting; it never throws.
class JsonReader {
 public:
  explicit JsonReader(JsonProblemSink sink) : sink_(std::move(sink)) {}
  // A reader that appends to `problems`.
  explicit JsonReader(std::vector<JsonProblem>* problems);

  void Report(const std::string& path, const std::string& message) const { sink_(path, message); }
  // "expected <expected>, got <type of got>".
  void WrongType(const std::string& path, std::string_view expected, const nlohmann::json& got) const;

  // A field of an object: nullptr when absent or null (a null field means "not known").
  static const nlohmann::json* Field(const nlohmann::json& object, std::string_view key);
  // Keys of `object` not in `allowed`; keys starting with '_' are comments when `comments_allowed`.
  static std::vector<std::string> UnknownFields(const nlohmann::json& object, const std::vector<std::string>& allowed,
                                                bool comments_allowed = false);

  const nlohmann::json* Object(const nlohmann::json& value, const std::string& path) const;
  const nlohmann::json* Array(const nlohmann::json& value, const std::string& path) const;
  std::optional<std::string> String(const nlohmann::json& value, const std::string& path) const;
  std::optional<double> Number(const nlohmann::json& value, const std::string& path) const;
  std::optional<long long> Integer(const nlohmann::json& value, const std::string& path) const;
  std::optional<bool> Bool(const nlohmann::json& value, const std::string& path) const;
  // An array of strings; one problem per bad element ("/x/2: expected a string, got a number").
  std::optional<std::vector<std::string>> StringArray(const nlohmann::json& value, const std::string& path) const;
  // An integer within [low, high]; `what` names it ("answer 5 is out of range 0-3").
  std::optional<int> IntegerInRange(const nlohmann::json& value, const std::string& path, int low, int high,
                                    std::string_view what) const;
  // A number within [low, high] ("'weight' 2 is out of range 0-1").
  std::optional<double> NumberInRange(const nlohmann::json& value, const std::string& path, double low, double high) const;
  // A string that is one of `words`: "expected 'a' or 'b', got 'x'" for two words, else
  // "expected one of a, b, c, got 'x'" plus a did-you-mean hint.
  std::optional<std::string> OneOf(const nlohmann::json& value, const std::string& path,
                                   const std::vector<std::string>& words) const;
  // A word of an enum with an EnumNames<E> table (knowledge/vocabulary.h), reported like OneOf.
  template <typename E>
  std::optional<E> Enum(const nlohmann::json& value, const std::string& path) const {
    std::vector<std::string> words;
    words.reserve(EnumNames<E>::kNames.size());
    for (const auto& [e, name] : EnumNames<E>::kNames) words.emplace_back(name);
    std::optional<std::string> word = OneOf(value, path, words);
    if (!word) return std::nullopt;
    for (const auto& [e, name] : EnumNames<E>::kNames)
      if (name == *word) return e;
    return std::nullopt;
  }

  // The message OneOf() reports for `got`.
  static std::string NotOneOf(const std::string& got, const std::vector<std::string>& words);

 private:
  JsonProblemSink sink_;
};

// Reads the fields of one object at `path`. Optional*() return nullopt when the field is absent
// or null, and report (then return nullopt) when it has the wrong type; Required*() also report
// "missing required field 'x'" at the object's path.
class ObjectReader {
 public:
  ObjectReader(const JsonReader& reader, const nlohmann::json& object, std::string path)
      : reader_(reader), object_(object), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const { return JsonChild(path_, key); }
  const nlohmann::json* Field(std::string_view key) const { return JsonReader::Field(object_, key); }
  bool Has(std::string_view key) const { return Field(key) != nullptr; }
  // Reports "unknown field 'x'" (with a did-you-mean hint and `suffix`) for every other key.
  void RejectUnknownFields(const std::vector<std::string>& allowed, bool comments_allowed = false,
                           const std::string& suffix = "") const;

  std::optional<std::string> OptionalString(std::string_view key) const;
  std::optional<double> OptionalNumber(std::string_view key) const;
  std::optional<long long> OptionalInteger(std::string_view key) const;
  std::optional<bool> OptionalBool(std::string_view key) const;
  std::optional<std::vector<std::string>> OptionalStringArray(std::string_view key) const;
  std::optional<std::string> OptionalOneOf(std::string_view key, const std::vector<std::string>& words) const;
  template <typename E>
  std::optional<E> OptionalEnum(std::string_view key) const {
    const nlohmann::json* value = Field(key);
    return value ? reader_.Enum<E>(*value, PathOf(key)) : std::nullopt;
  }

  std::optional<std::string> RequiredString(std::string_view key) const;
  std::optional<double> RequiredNumber(std::string_view key) const;
  template <typename E>
  std::optional<E> RequiredEnum(std::string_view key) const {
    if (!Missing(key)) return OptionalEnum<E>(key);
    return std::nullopt;
  }

 private:
  bool Missing(std::string_view key) const;  // reports when absent or null
  const JsonReader& reader_;
  const nlohmann::json& object_;
  std::string path_;
};

}  // namespace nflux
