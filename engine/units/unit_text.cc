// NormaliseUnitText: rewrites the unit spellings found on lab reports into UCUM.

#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.h"
#include "units/units.h"

namespace nflux::units {
namespace {

std::string ToLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string replaced;
  size_t done = 0;
  for (size_t at = text.find(from); at != std::string_view::npos; at = text.find(from, done)) {
    replaced += text.substr(done, at - done);
    replaced += to;
    done = at + from.size();
  }
  replaced += text.substr(done);
  return replaced;
}

// Spaces carry no meaning in unit text ("mg / dL", "mg/24 h"), except inside an annotation.
std::string DropSpacesOutsideAnnotations(std::string_view text) {
  std::string kept;
  bool in_annotation = false;
  for (char c : text) {
    if (c == '{') in_annotation = true;
    if (c == '}') in_annotation = false;
    if (!in_annotation && std::isspace(static_cast<unsigned char>(c))) continue;
    kept += c;
  }
  return kept;
}

// "1.73m2" would parse as 1 x 73m2 in UCUM, so the body-surface-area divisor becomes the
// annotation UCUM uses for it before anything splits on '.'.
void AnnotateBodySurfaceArea(std::string& text) {
  for (std::string_view spelling : {"1.73m^2", "1.73m2"}) {
    for (size_t at = text.find(spelling); at != std::string::npos; at = text.find(spelling, at + 1)) {
      if (at > 0 && text[at - 1] == '{') continue;
      text.replace(at, spelling.size(), "{1.73_m2}");
    }
  }
}

// A run of letters, or a run of digits, or one other character; bracketed atoms ("[IU]") and
// annotations ("{cells}") are single pieces so nothing inside them is rewritten.
struct Piece {
  enum class Kind { kWord, kNumber, kOther };
  Kind kind;
  std::string text;
};

std::vector<Piece> SplitIntoPieces(const std::string& text) {
  std::vector<Piece> pieces;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    char c = text[i];
    if (IsAsciiLetter(c)) {
      while (i < text.size() && IsAsciiLetter(text[i])) ++i;
      pieces.push_back({Piece::Kind::kWord, text.substr(start, i - start)});
    } else if (IsAsciiDigit(c)) {
      while (i < text.size() && IsAsciiDigit(text[i])) ++i;
      pieces.push_back({Piece::Kind::kNumber, text.substr(start, i - start)});
    } else if (c == '[' || c == '{') {
      size_t close = text.find(c == '[' ? ']' : '}', i);
      i = close == std::string::npos ? text.size() : close + 1;
      std::string group = text.substr(start, i - start);
      if (group == "[iU]") group = "[IU]";
      pieces.push_back({Piece::Kind::kOther, group});
    } else {
      ++i;
      pieces.push_back({Piece::Kind::kOther, std::string(1, c)});
    }
  }
  return pieces;
}

bool IsOneOf(std::string_view text, std::initializer_list<std::string_view> options) {
  for (std::string_view option : options) {
    if (text == option) return true;
  }
  return false;
}

// Rewrites one run of letters; case-insensitive where lab systems are careless about case.
std::string NormaliseWord(const std::string& word) {
  const std::string lower = ToLower(word);
  if (lower == "mcg") return "ug";
  // IU with an optional prefix: "IU", "mIU", "uIU" (the micro sign is already 'u').
  if (lower.size() >= 2 && lower.size() <= 3 && lower.ends_with("iu")) {
    if (lower.size() == 2) return "[IU]";
    if (IsOneOf(lower.substr(0, 1), {"k", "m", "u", "n", "p"})) return lower.substr(0, 1) + "[IU]";
  }
  if (lower.size() >= 2 && lower.size() <= 3 && lower.ends_with("eq")) {
    if (lower.size() == 2) return "eq";
    if (IsOneOf(lower.substr(0, 1), {"k", "m", "u"})) return lower.substr(0, 1) + "eq";
  }
  if (IsOneOf(lower, {"l", "dl", "cl", "ml", "ul", "nl", "pl", "fl"})) {
    return lower.substr(0, lower.size() - 1) + "L";
  }
  if (IsOneOf(lower, {"hr", "hrs", "hour", "hours"})) return "h";
  if (IsOneOf(lower, {"day", "days"})) return "d";
  if (lower == "mins") return "min";
  if (IsOneOf(lower, {"sec", "secs"})) return "s";
  return word;
}

bool EndsComponent(const std::vector<Piece>& pieces, size_t i) {
  return i == pieces.size() || IsOneOf(pieces[i].text, {"/", ".", ")"});
}

}  // namespace

std::string NormaliseUnitText(std::string_view text) {
  std::string spaced = ReplaceAll(text, "\xC2\xB5", "u");  // U+00B5 MICRO SIGN
  spaced = ReplaceAll(spaced, "\xCE\xBC", "u");            // U+03BC GREEK SMALL LETTER MU
  spaced = ReplaceAll(spaced, "\xC2\xB2", "2");            // U+00B2 SUPERSCRIPT TWO
  spaced = ReplaceAll(spaced, "\xC2\xB3", "3");            // U+00B3 SUPERSCRIPT THREE
  std::string compact = DropSpacesOutsideAnnotations(spaced);
  AnnotateBodySurfaceArea(compact);

  std::vector<Piece> pieces = SplitIntoPieces(compact);
  for (Piece& piece : pieces) {
    if (piece.kind == Piece::Kind::kWord) piece.text = NormaliseWord(piece.text);
  }

  // A per-day denominator ("/d", "/24h") becomes "/(N.h)" so "mg/d" and "mg/24h" read the same
  // and neither parses as UCUM's "mg/24.h" (= mg.h/24).
  std::string normalised;
  for (size_t i = 0; i < pieces.size(); ++i) {
    normalised += pieces[i].text;
    if (pieces[i].text != "/") continue;
    if (i + 1 < pieces.size() && pieces[i + 1].text == "d" && EndsComponent(pieces, i + 2)) {
      normalised += "(24.h)";
      i += 1;
    } else if (i + 2 < pieces.size() && pieces[i + 1].kind == Piece::Kind::kNumber &&
               pieces[i + 2].text == "h" && EndsComponent(pieces, i + 3)) {
      normalised += "(" + pieces[i + 1].text + ".h)";
      i += 2;
    }
  }
  return normalised;
}

}  // namespace nflux::units
