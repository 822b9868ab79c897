#include "base/json_writer.h"

namespace nflux {

std::string IndentJson(std::string_view compact, int indent) {
  std::string out;
  out.reserve(compact.size() * 2);
  size_t level = 0;
  auto new_line = [&] {
    out += '\n';
    out.append(level * static_cast<size_t>(indent), ' ');
  };
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    switch (c) {
      case '"': {  // a string, escapes and all, copied whole
        const size_t start = i;
        for (++i; i < compact.size() && compact[i] != '"'; ++i)
          if (compact[i] == '\\') ++i;
        out.append(compact, start, i - start + 1);
        break;
      }
      case '{':
      case '[':
        out += c;
        if (i + 1 < compact.size() && compact[i + 1] == (c == '{' ? '}' : ']')) {
          out += compact[++i];
          break;
        }
        ++level;
        new_line();
        break;
      case '}':
      case ']':
        --level;
        new_line();
        out += c;
        break;
      case ',':
        out += ',';
        new_line();
        break;
      case ':':
        out += ": ";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace nflux
