// Strict JSON reading for files people edit by hand: nlohmann/json keeps the last of two equal
// keys without a word, which would silently drop data; this reports them instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nflux {

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

// Parses `text`; never throws.
StrictJson ParseJsonStrict(std::string_view text);

}  // namespace nflux
