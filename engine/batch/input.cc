// The inputs of a batch: a JSON Lines stream read line by line, and a folder of case files.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "base/limits.h"
#include "base/text.h"
#include "batch/batch.h"

namespace nflux::batch {
namespace {

bool Blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// Lines read in blocks from the stream's buffer; a line longer than the input limit is not held:
// it becomes a case with a problem (the batch reports it and goes on), its bytes skipped up to the
// next newline, so memory stays bounded whatever the stream holds (/dev/zero has no newline).
class JsonLinesReader final : public CaseReader {
 public:
  JsonLinesReader(std::istream& in, std::string name) : in_(in), name_(std::move(name)) {}

  Result<std::optional<CaseText>> Next() override {
    for (;;) {
      std::optional<std::string> line;
      bool too_long = false;
      if (Status status = ReadLine(line, too_long); !status.ok()) return status;
      if (!line) return std::optional<CaseText>();
      ++line_;
      CaseText item{name_ + ":" + std::to_string(line_), line_, "", {}, {}};
      if (too_long) {
        item.problem = item.source + ": the line is longer than the limit of " +
                       std::to_string(limits::kMaxInputBytes >> 20) + " MiB for one case";
        return std::optional<CaseText>(std::move(item));
      }
      if (Blank(*line)) continue;
      if (!line->empty() && line->back() == '\r') line->pop_back();
      item.text = std::move(*line);
      return std::optional<CaseText>(std::move(item));
    }
  }

 private:
  // The next line without its newline, nullopt at the end; past the limit only `too_long` is kept.
  Status ReadLine(std::optional<std::string>& line, bool& too_long) {
    std::string text;
    for (;;) {
      if (start_ == buffer_.size()) {
        buffer_.resize(kBlock);
        std::streamsize got = in_.rdbuf()->sgetn(buffer_.data(), kBlock);
        buffer_.resize(got > 0 ? static_cast<size_t>(got) : 0);
        start_ = 0;
        if (buffer_.empty()) {
          if (in_.bad()) return Status::IOError(name_ + ": read error after line " + std::to_string(line_));
          if (!text.empty() || too_long || partial_) line = std::move(text);
          partial_ = false;
          return Status::Ok();
        }
      }
      const char* begin = buffer_.data() + start_;
      const size_t available = buffer_.size() - start_;
      // NOLINTNEXTLINE(bugprone-not-null-terminated-result): a search in a byte buffer, no string copy
      const void* newline = std::memchr(begin, '\n', available);
      const size_t length = newline ? static_cast<size_t>(static_cast<const char*>(newline) - begin) : available;
      if (!too_long && text.size() + length <= limits::kMaxInputBytes) text.append(begin, length);
      else {
        if (!too_long) skipped_ = 0;
        too_long = true;
        text.clear();
        text.shrink_to_fit();
        // A line's end is looked for only so far: an endless stream (/dev/zero) has none.
        if ((skipped_ += length) > kMaxSkipped)
          return Status::InvalidArgument(name_ + ":" + std::to_string(line_ + 1) + ": no end of line within " +
                                         std::to_string((limits::kMaxInputBytes + kMaxSkipped) >> 20) +
                                         " MiB; stopped reading");
      }
      start_ += length + (newline ? 1 : 0);
      partial_ = !newline;
      if (newline) {
        line = std::move(text);
        return Status::Ok();
      }
    }
  }

  static constexpr size_t kBlock = 1 << 16;
  static constexpr size_t kMaxSkipped = size_t{128} << 20;  // bytes skipped past a line over the limit
  size_t skipped_ = 0;
  std::istream& in_;
  std::string name_;
  int64_t line_ = 0;
  std::string buffer_;
  size_t start_ = 0;
  bool partial_ = false;  // bytes of a line without its newline were read
};

// A JSON Lines file the reader owns.
class FileReader final : public CaseReader {
 public:
  FileReader(std::unique_ptr<std::ifstream> file, const std::string& name)
      : file_(std::move(file)), lines_(*file_, name) {}
  Result<std::optional<CaseText>> Next() override { return lines_.Next(); }

 private:
  std::unique_ptr<std::ifstream> file_;
  JsonLinesReader lines_;
};

// Every *.json file of a folder, by name; only the names are held, each file is read when its turn comes.
class FolderReader final : public CaseReader {
 public:
  explicit FolderReader(std::vector<std::string> files) : files_(std::move(files)) {}
  Result<std::optional<CaseText>> Next() override {
    if (next_ == files_.size()) return std::optional<CaseText>();
    const std::string& path = files_[next_++];
    auto text = ReadFileToString(path);
    // One unreadable file (too large, a link to itself) is that case's problem; the batch goes on.
    if (!text.ok()) return std::optional<CaseText>(CaseText{path, 0, path, {}, text.status().message()});
    return std::optional<CaseText>(CaseText{path, 0, path, std::move(text).value(), {}});
  }

 private:
  std::vector<std::string> files_;
  size_t next_ = 0;
};

Result<std::vector<std::string>> CaseFilesIn(const std::string& folder) {
  std::error_code error;
  std::vector<std::string> files;
  for (std::filesystem::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const auto& path = it->path();
    std::error_code kind;  // a link to itself is listed, and read as that case's problem
    if (path.extension() == ".json" && (it->is_regular_file(kind) || kind)) files.push_back(path.string());
  }
  if (error) return Status::IOError(folder + ": " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::unique_ptr<CaseReader> ReadJsonLines(std::istream& in, std::string name) {
  return std::make_unique<JsonLinesReader>(in, std::move(name));
}

Result<std::unique_ptr<CaseReader>> OpenInput(const std::string& path) {
  if (path == "-") return ReadJsonLines(std::cin, "stdin");
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    auto files = CaseFilesIn(path);
    if (!files.ok()) return files.status();
    return std::unique_ptr<CaseReader>(std::make_unique<FolderReader>(std::move(files).value()));
  }
  if (!std::filesystem::exists(path, error)) return Status::NotFound(path + ": no such file or folder");
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) return Status::IOError(path + ": cannot be read: " + std::strerror(errno));
  return std::unique_ptr<CaseReader>(std::make_unique<FileReader>(std::move(file), path));
}

std::optional<int64_t> CountCases(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    auto files = CaseFilesIn(path);
    return files.ok() ? std::optional<int64_t>(static_cast<int64_t>(files->size())) : std::nullopt;
  }
  if (path == "-" || !std::filesystem::is_regular_file(path, error)) return std::nullopt;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return std::nullopt;
  // Counts lines with something on them, in 1 MiB blocks: about a gigabyte a second.
  std::vector<char> block(1 << 20);
  int64_t count = 0;
  bool content = false;  // the current line has a character other than blank space
  for (size_t n; (n = std::fread(block.data(), 1, block.size(), file)) > 0;)
    for (size_t i = 0; i < n; ++i) {
      char c = block[i];
      if (c == '\n') {
        count += content;
        content = false;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        content = true;
      }
    }
  std::fclose(file);
  return count + (content ? 1 : 0);
}

}  // namespace nflux::batch
