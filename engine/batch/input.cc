// The inputs of a batch: a JSON Lines stream read line by line, and a folder of case files.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "base/text.h"
#include "batch/batch.h"

namespace nflux::batch {
namespace {

bool Blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

class JsonLinesReader final : public CaseReader {
 public:
  JsonLinesReader(std::istream& in, std::string name) : in_(in), name_(std::move(name)) {}

  Result<std::optional<CaseText>> Next() override {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_;
      if (Blank(line)) continue;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return std::optional<CaseText>(CaseText{name_ + ":" + std::to_string(line_), line_, "", std::move(line)});
    }
    if (in_.bad()) return Status::IOError(name_ + ": read error after line " + std::to_string(line_));
    return std::optional<CaseText>();
  }

 private:
  std::istream& in_;
  std::string name_;
  int64_t line_ = 0;
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
    if (!text.ok()) return text.status();
    return std::optional<CaseText>(CaseText{path, 0, path, std::move(text).value()});
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
    if (path.extension() == ".json" && it->is_regular_file(error)) files.push_back(path.string());
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
