#include "base/json.h"

#include <set>

namespace nflux {

StrictJson ParseJsonStrict(std::string_view text) {
  StrictJson result;
  // One frame per open object or array, so a duplicate key can be named by its JSON path.
  struct Frame {
    bool array = false;
    int next_index = 0;
    std::string key;
    std::set<std::string> keys;
  };
  std::vector<Frame> frames;
  auto path = [&]() {
    std::string out;
    for (const auto& frame : frames) out += "/" + (frame.array ? std::to_string(frame.next_index - 1) : frame.key);
    return out;
  };
  auto element_starts = [&]() {
    if (!frames.empty() && frames.back().array) ++frames.back().next_index;
  };
  using Event = nlohmann::json::parse_event_t;
  nlohmann::json::parser_callback_t callback = [&](int, Event event, nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        element_starts();
        frames.push_back(Frame{event == Event::array_start, 0, "", {}});
        break;
      case Event::key: {
        std::string key = parsed.get<std::string>();
        Frame& top = frames.back();
        top.key = key;
        if (!top.keys.insert(key).second) result.duplicate_keys.push_back(path());
        break;
      }
      case Event::value:
        element_starts();
        break;
      case Event::object_end:
      case Event::array_end:
        if (!frames.empty()) frames.pop_back();
        break;
    }
    return true;
  };
  try {
    result.value = nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::parse_error& error) {
    JsonSyntaxError syntax{1, 1, error.what()};
    for (size_t i = 0; i + 1 < error.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++syntax.line;
        syntax.column = 1;
      } else {
        ++syntax.column;
      }
    }
    auto at = syntax.message.find("syntax error");
    if (at != std::string::npos) syntax.message = syntax.message.substr(at);
    result.syntax_error = syntax;
    result.value = nullptr;
  }
  return result;
}

}  // namespace nflux
