#include "base/text.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/limits.h"
#include "base/status.h"

namespace nflux {

bool IsSnakeCaseId(std::string_view id) {
  if (id.empty() || !(id[0] >= 'a' && id[0] <= 'z')) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

std::string UpperCase(std::string text) {
  for (auto& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

std::string CodeKey(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string WithoutParentheticals(std::string_view label) {
  std::string out;
  out.reserve(label.size());
  size_t at = 0;
  for (size_t open = label.find(" ("); open != std::string_view::npos; open = label.find(" (", at)) {
    size_t close = open + 1;
    for (int depth = 0; close < label.size(); ++close) {
      if (label[close] == '(') ++depth;
      else if (label[close] == ')' && --depth == 0) break;
    }
    if (close == label.size()) return std::string(label);  // unbalanced: not a group to drop
    out.append(label, at, open - at);
    at = close + 1;
  }
  out.append(label, at);
  return out.empty() ? std::string(label) : out;
}

// Built piece by piece: GCC 12 warns falsely on "'" + std::string(...) + "'".
std::string SingleQuoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> NearestIds(std::string_view word, const std::vector<std::string>& candidates,
                                    size_t max_results) {
  // Bounded work: a long word is compared with every candidate in O(length x length).
  if (word.size() > limits::kMaxSuggestedWord) return {};
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    bool contains = word.size() >= 3 && (candidate.find(word) != std::string::npos ||
                                         word.find(candidate) != std::string_view::npos);
    if (distance <= limit || contains) scored.emplace_back(contains ? std::min(distance, limit) : distance, candidate);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> result;
  for (size_t i = 0; i < scored.size() && i < max_results; ++i) result.push_back(scored[i].second);
  return result;
}

bool IsCalendarDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return false;
  int parts[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    const char* begin = text.data() + starts[i];
    auto [end, error] = std::from_chars(begin, begin + lengths[i], parts[i]);
    if (error != std::errc() || end != begin + lengths[i]) return false;
  }
  const std::chrono::year_month_day date{std::chrono::year(parts[0]), std::chrono::month(static_cast<unsigned>(parts[1])),
                                         std::chrono::day(static_cast<unsigned>(parts[2]))};
  return date.ok();
}

namespace {

// The length of the well-formed UTF-8 character at `text[i]`, 0 when the bytes there are not one.
size_t Utf8CharLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  else if (lead == 0xE0) length = 3, low = 0xA0;
  else if (lead == 0xED) length = 3, high = 0x9F;  // no UTF-16 surrogates
  else if (lead >= 0xE1 && lead <= 0xEF) length = 3;
  else if (lead == 0xF0) length = 4, low = 0x90;
  else if (lead == 0xF4) length = 4, high = 0x8F;  // nothing past U+10FFFF
  else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
  else return 0;
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0, length = 0; i < text.size(); i += length) {
    // Eight ASCII bytes at a time: the texts checked (JSON, stored runs) are mostly ASCII.
    for (uint64_t word = 0; i + 8 <= text.size(); i += 8) {
      std::memcpy(&word, text.data() + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
    }
    if (i >= text.size()) break;
    if ((length = Utf8CharLength(text, i)) == 0) return false;
  }
  return true;
}

std::string Utf8Safe(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string safe;
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8CharLength(text, i);
    if (length > 0) {
      safe.append(text, i, length);
      i += length;
      continue;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned char>(text[i++]));
    safe += hex;
  }
  return safe;
}

std::string_view Utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  auto nearest = NearestIds(word, candidates);
  if (nearest.empty()) return "";
  std::string text = " (did you mean ";
  for (size_t i = 0; i < nearest.size(); ++i) text += (i ? ", '" : "'") + nearest[i] + "'";
  return text + "?)";
}

namespace {

std::string Mebibytes(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// read(2) into a string sized from fstat: no stream buffers copied (every process reads ~2 MB of
// knowledge and rules). A file that grows while read is read to its end; reading stops past
// `max_bytes`, so a device or an endless pipe is refused after a bounded read.
Result<std::string> ReadAll(int fd, const std::string& name, size_t max_bytes) {
  struct stat info{};
  std::string text;
  if (fstat(fd, &info) == 0 && info.st_size > 0) {
    if (static_cast<size_t>(info.st_size) > max_bytes)
      return Status::InvalidArgument(name + ": larger than the limit of " + Mebibytes(max_bytes) + " (" +
                                     std::to_string(info.st_size) + " bytes)");
    text.resize(static_cast<size_t>(info.st_size));
  }
  size_t done = 0;
  char more[4096];  // past the size fstat gave (a pipe, a device, a file still growing)
  for (;;) {
    const bool within = done < text.size();
    ssize_t n = within ? ::read(fd, text.data() + done, text.size() - done) : ::read(fd, more, sizeof more);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(name + ": read failed: " + std::strerror(errno));
    if (n == 0) break;
    if (!within) {
      if (done + static_cast<size_t>(n) > max_bytes)
        return Status::InvalidArgument(name + ": larger than the limit of " + Mebibytes(max_bytes) +
                                       " (stopped reading there)");
      text.append(more, static_cast<size_t>(n));
    }
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

// Opens `path` for reading. A missing file is bad input (NotFound); one that exists but cannot be
// read is an I/O error.
Result<int> OpenToRead(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error == std::errc::too_many_symbolic_link_levels)
    return Status::InvalidArgument(path + ": cannot open file: a symbolic link that leads to itself");
  if (!std::filesystem::exists(status)) return Status::NotFound(path + ": cannot open file: no such file");
  if (std::filesystem::is_directory(status)) return Status::IOError(path + ": cannot read: it is a folder");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": cannot open file: " + std::strerror(errno));
  return fd;
}

}  // namespace

Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  auto fd = OpenToRead(path);
  if (!fd.ok()) return fd.status();
  Result<std::string> text = ReadAll(*fd, path, max_bytes);
  ::close(*fd);
  return text;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : mapped_(std::exchange(other.mapped_, nullptr)), size_(std::exchange(other.size_, 0)),
      read_(std::move(other.read_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  // Swapped: `other` unmaps what this held when it goes.
  std::swap(mapped_, other.mapped_);
  std::swap(size_, other.size_);
  std::swap(read_, other.read_);
  return *this;
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<char*>(mapped_), size_);
}

Result<MappedFile> MapFile(const std::string& path, size_t max_bytes) {
  auto fd = OpenToRead(path);
  if (!fd.ok()) return fd.status();
  MappedFile file;
  struct stat info{};
  if (fstat(*fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0 &&
      static_cast<size_t>(info.st_size) <= max_bytes) {
    void* mapped = ::mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, *fd, 0);
    if (mapped != MAP_FAILED) {
      file.mapped_ = static_cast<const char*>(mapped);
      file.size_ = static_cast<size_t>(info.st_size);
    }
  }
  if (!file.mapped_) {
    auto text = ReadAll(*fd, path, max_bytes);
    if (!text.ok()) {
      ::close(*fd);
      return text.status();
    }
    file.read_ = std::move(text).value();
  }
  ::close(*fd);
  return file;
}

Result<std::string> ReadStdinToString(size_t max_bytes) { return ReadAll(STDIN_FILENO, "stdin", max_bytes); }

Result<std::vector<std::string>> ListSourceFiles(const std::string& dir, std::string_view extension,
                                                 std::string_view skip_folder) {
  namespace fs = std::filesystem;
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::vector<std::string> relative;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(dir, error); !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    // Lexically: the iterator's paths start with `base`; fs::relative would resolve every link (syscalls).
    fs::path path = it->path().lexically_relative(base);
    std::error_code kind;
    if (!skip_folder.empty() && it->is_directory(kind) && path.filename() == skip_folder) {
      it.disable_recursion_pending();
      continue;
    }
    if (path.extension() != extension) continue;
    const bool regular = it->is_regular_file(kind);
    if (kind == std::errc::too_many_symbolic_link_levels)
      return Status::InvalidArgument(base + "/" + path.generic_string() + ": a symbolic link that leads to itself");
    if (kind) return Status::IOError(base + "/" + path.generic_string() + ": " + kind.message());
    if (!regular) continue;
    if (relative.size() == limits::kMaxSourceFiles)
      return Status::InvalidArgument(dir + ": more than " + std::to_string(limits::kMaxSourceFiles) + " " +
                                     std::string(extension) + " files (the limit)");
    relative.push_back(path.generic_string());
  }
  if (error) return Status::IOError(dir + ": " + error.message());
  std::sort(relative.begin(), relative.end());
  return relative;
}

namespace {

// FormatNumber's common cases without to_chars' precision path (a report and a trace format
// thousands of numbers): an integer, and a number whose shortest decimal form has at most
// `significant` digits and a decimal exponent in [-4, significant), where "%.*g" prints exactly
// those digits (the double is within half an ulp of them, far from any rounding boundary at
// `significant` <= 15 digits) in positional form. False: take the general path.
bool FormatShortNumber(double value, int significant, std::string& out) {
  const double magnitude = std::fabs(value);
  if (significant < 1 || significant > 15 || !(magnitude >= 1e-4) || magnitude >= 1e15) return false;
  char buffer[64];
  if (value == std::trunc(value)) {
    // %g prints an integer whole below 10^significant; above, FormatNumber's fixed branch does too.
    char* end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(value)).ptr;
    out.assign(buffer, end);
    return true;
  }
  // The shortest positional form: no trailing zeros, so every digit from the first nonzero one
  // is significant.
  char* end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed).ptr;
  const char* first = buffer + (value < 0);
  const char* point = std::find(first, static_cast<const char*>(end), '.');
  const char* leading = std::find_if(first, static_cast<const char*>(end), [](char c) { return c != '0' && c != '.'; });
  const int digits = static_cast<int>(end - leading) - (leading < point ? 1 : 0);
  // The decimal exponent of the first significant digit.
  const int exponent = leading < point ? static_cast<int>(point - leading) - 1 : -static_cast<int>(leading - point);
  if (digits > significant || exponent < -4 || exponent >= significant) return false;
  out.assign(buffer, end);
  return true;
}

// FormatNumber's most common case, a measured value with more digits than are shown, without
// to_chars' precision path (about 1,400 instructions a number): "%.*g" prints the value's
// `significant` leading digits rounded, and below 10^9 these are the value scaled by a power of
// ten (exact up to 10^22, so the product is rounded once: off by under 1.2e-7) rounded to an
// integer. Near a half, where that error could decide the rounding, and outside the positional
// range (a decimal exponent in [-4, significant)): false, and the exact paths decide.
bool FormatScaled(double value, int significant, std::string& out) {
  static constexpr double kPowers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
  static constexpr uint64_t kWhole[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
  const double magnitude = std::fabs(value);
  if (significant < 1 || significant > 9 || !(magnitude >= 1e-4) || magnitude >= 1e9) return false;
  // The decimal exponent of the first digit: a guess from the powers of ten, corrected below when
  // the rounding carries into a new digit (9.9996 -> 10.00) or the guess was one too high.
  int exponent = 0;
  if (magnitude >= 1) {
    while (exponent < 8 && magnitude >= kPowers[exponent + 1]) ++exponent;
  } else {
    exponent = -1;
    while (exponent > -4 && magnitude * kPowers[-exponent] < 1) --exponent;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (exponent < -4 || exponent >= significant) return false;
    const double scaled = magnitude * kPowers[significant - 1 - exponent];
    const double whole = std::floor(scaled);
    const double fraction = scaled - whole;
    if (std::fabs(fraction - 0.5) < 1e-6) return false;
    uint64_t digits = static_cast<uint64_t>(whole) + (fraction > 0.5 ? 1 : 0);
    if (digits >= kWhole[significant]) {
      ++exponent;
      continue;
    }
    if (digits < kWhole[significant - 1]) {
      --exponent;
      continue;
    }
    while (digits % 10 == 0) digits /= 10;  // %g drops trailing zeros
    char text[16];
    const auto length = static_cast<size_t>(std::to_chars(text, text + sizeof text, digits).ptr - text);
    out.clear();
    if (value < 0) out.push_back('-');
    if (exponent < 0) {
      out.append("0.").append(static_cast<size_t>(-exponent) - 1, '0').append(text, length);
      return true;
    }
    const size_t before_point = static_cast<size_t>(exponent) + 1;  // digits of the integer part
    if (length <= before_point) out.append(text, length).append(before_point - length, '0');
    else out.append(text, before_point).append(1, '.').append(text + before_point, length - before_point);
    return true;
  }
  return false;
}

}  // namespace

std::string FormatNumber(double value, int significant) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  if (std::string text; FormatScaled(value, significant, text) || FormatShortNumber(value, significant, text))
    return text;
  // std::to_chars with a precision is specified as printf's "%.*g" / "%.*f", without its locale
  // and format-string parsing (a report formats thousands of numbers).
  char buffer[400];
  char* end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, significant).ptr;
  std::string_view general(buffer, static_cast<size_t>(end - buffer));
  if (general.find('e') == std::string_view::npos || std::fabs(value) < 1e-4 || std::fabs(value) >= 1e15)
    return std::string(general);
  end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, significant).ptr;
  std::string text(buffer, end);
  if (text.find('.') != std::string::npos) {
    while (!text.empty() && text.back() == '0') text.pop_back();
    if (!text.empty() && text.back() == '.') text.pop_back();
  }
  return text;
}

double RoundToSignificant(double value, int significant) {
  if (value == 0 || !std::isfinite(value)) return value;
  char buffer[400];
  char* end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, significant).ptr;
  if (std::find(buffer, end, 'e') != end && std::fabs(value) >= 1e-4 && std::fabs(value) < 1e15)
    end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, significant).ptr;
  double rounded = value;
  std::from_chars(buffer, end, rounded);
  return rounded;
}

}  // namespace nflux
