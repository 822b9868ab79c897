#include "base/text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>

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

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  auto nearest = NearestIds(word, candidates);
  if (nearest.empty()) return "";
  std::string text = " (did you mean ";
  for (size_t i = 0; i < nearest.size(); ++i) text += (i ? ", '" : "'") + nearest[i] + "'";
  return text + "?)";
}

Result<std::string> ReadFileToString(const std::string& path) {
  // A missing file is bad input (NotFound); one that exists but cannot be read is an I/O error.
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return Status::NotFound(path + ": cannot open file: no such file");
  if (std::filesystem::is_directory(path, error)) return Status::IOError(path + ": cannot read: it is a folder");
  // read(2) into a string sized from fstat: no stream buffers copied (every process reads ~2 MB of
  // knowledge and rules). A file that grows while read is read to its end.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": cannot open file");
  struct stat info{};
  std::string text;
  if (fstat(fd, &info) == 0 && info.st_size > 0) text.resize(static_cast<size_t>(info.st_size));
  size_t done = 0;
  char more[4096];  // past the size fstat gave (a pipe, a file still growing)
  for (;;) {
    const bool within = done < text.size();
    ssize_t n = within ? ::read(fd, text.data() + done, text.size() - done) : ::read(fd, more, sizeof more);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Status::IOError(path + ": read failed");
    }
    if (n == 0) break;
    if (!within) text.append(more, static_cast<size_t>(n));
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(done);
  return text;
}

std::string FormatNumber(double value, int significant) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
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

}  // namespace nflux
