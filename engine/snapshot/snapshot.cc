#include "snapshot/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "base/text.h"
#include "snapshot/codec.h"

namespace nflux::snapshot {
namespace {

constexpr char kMagic[8] = {'N', 'F', 'L', 'X', 'S', 'N', 'A', 'P'};
// magic, format version, reserved, key, payload size, payload checksum.
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 8 + 8;

uint64_t Mix(uint64_t h) {
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 32);
}

// The running build: a rebuilt nflux (any struct may have changed) never reads an older image.
uint64_t BuildId() {
  struct stat info{};
  if (stat("/proc/self/exe", &info) != 0) return 0;
  return Mix(static_cast<uint64_t>(info.st_size) ^ Mix(static_cast<uint64_t>(info.st_mtim.tv_sec)) ^
             Mix(static_cast<uint64_t>(info.st_mtim.tv_nsec) + 1));
}

uint64_t HashText(std::string_view text, uint64_t h) { return Hash(text, Mix(h ^ text.size())); }

}  // namespace

uint64_t Hash(std::string_view bytes, uint64_t seed) {
  // Four lanes, each a chain of steps that is a bijection of the lane's state for a given word (so
  // changing one word changes the result); independent chains let the CPU overlap their multiplies.
  constexpr uint64_t kMultiplier = 0xff51afd7ed558ccdULL;
  auto step = [](uint64_t state, const char* at) {
    uint64_t word;
    std::memcpy(&word, at, 8);
    state = (state ^ word) * kMultiplier;
    return state ^ (state >> 31);
  };
  uint64_t lanes[4] = {seed ^ 0x9e3779b97f4a7c15ULL, seed ^ 0xc2b2ae3d27d4eb4fULL, seed ^ 0x165667b19e3779f9ULL,
                       seed ^ 0x27d4eb2f165667c5ULL};
  size_t i = 0;
  for (; i + 32 <= bytes.size(); i += 32)
    for (size_t lane = 0; lane < 4; ++lane) lanes[lane] = step(lanes[lane], bytes.data() + i + 8 * lane);
  uint64_t h = Mix(Mix(Mix(lanes[0]) ^ lanes[1]) ^ lanes[2]) ^ lanes[3];
  for (; i + 8 <= bytes.size(); i += 8) h = step(h, bytes.data() + i);
  uint64_t tail = 0;
  if (i < bytes.size()) std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  return Mix(h ^ tail ^ (static_cast<uint64_t>(bytes.size()) << 56));
}

uint64_t KeyOf(const std::vector<knowledge::SourceFile>& knowledge, const std::vector<rules::RuleSource>& rules) {
  uint64_t h = Mix(kFormatVersion ^ Mix(BuildId()));
  for (const auto& file : knowledge) h = HashText(file.text, HashText(file.path, h));
  h = Mix(h ^ knowledge.size());
  for (const auto& file : rules) h = HashText(file.text, HashText(file.name, HashText(file.path, h)));
  return Mix(h ^ rules.size());
}

std::string DefaultCacheDir() {
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  if (env("NFLUX_SNAPSHOT") == "off") return "";
  if (!env("NFLUX_CACHE").empty()) return env("NFLUX_CACHE");
  if (!env("XDG_CACHE_HOME").empty()) return env("XDG_CACHE_HOME") + "/nflux";
  if (!env("HOME").empty()) return env("HOME") + "/.cache/nflux";
  return "";
}

std::string PathFor(const std::string& cache_dir, const std::string& knowledge_dir, const std::string& rules_dir) {
  std::error_code error;
  // The executable too: build/nflux and build/nflux-serve each keep their own image rather than
  // overwrite each other's (each image is keyed by the build that wrote it).
  std::string folders = std::filesystem::absolute(knowledge_dir, error).string() + "\n" +
                        std::filesystem::absolute(rules_dir, error).string() + "\n" +
                        std::filesystem::read_symlink("/proc/self/exe", error).string();
  char name[40];
  std::snprintf(name, sizeof name, "pipeline-%016llx.snap", static_cast<unsigned long long>(Hash(folders, 0)));
  return cache_dir + "/" + name;
}

std::string Encode(uint64_t key, const knowledge::KnowledgeBase& kb, const rules::RuleBase& rule_base) {
  Writer payload;
  EncodeKnowledge(kb, payload);
  EncodeRules(rule_base, payload);
  Writer out;
  out.bytes().append(kMagic, sizeof kMagic);
  out.U32(kFormatVersion);
  out.U32(0);
  out.U64(key);
  out.U64(payload.bytes().size());
  out.U64(Hash(payload.bytes(), key));
  out.bytes() += payload.bytes();
  return std::move(out.bytes());
}

Result<Image> Decode(std::string_view bytes, uint64_t key) {
  if (bytes.size() < kHeaderSize || bytes.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic))
    return Status::Corruption("snapshot: not a snapshot");
  Reader header(bytes.substr(sizeof kMagic, kHeaderSize - sizeof kMagic));
  uint32_t version = header.U32();
  header.U32();
  uint64_t stored_key = header.U64(), size = header.U64(), checksum = header.U64();
  if (version != kFormatVersion) return Status::Corruption("snapshot: format version " + std::to_string(version));
  if (stored_key != key) return Status::Corruption("snapshot: stale (the sources or nflux changed)");
  std::string_view payload = bytes.substr(kHeaderSize);
  if (size != payload.size()) return Status::Corruption("snapshot: truncated");
  if (Hash(payload, key) != checksum) return Status::Corruption("snapshot: checksum mismatch");
  Reader in(payload);
  Image image;
  image.kb = DecodeKnowledge(in);
  if (image.kb) image.rules = DecodeRules(in);
  if (!image.kb || !image.rules || !in.AtEnd()) return Status::Corruption("snapshot: undecodable content");
  return image;
}

Result<Image> Load(const std::string& path, uint64_t key) {
  auto bytes = MapFile(path, limits::kMaxSnapshotBytes);  // NotFound when there is no image
  if (!bytes.ok()) return bytes.status();
  return Decode(bytes->bytes(), key);
}

Status Save(const std::string& path, uint64_t key, const knowledge::KnowledgeBase& kb,
            const rules::RuleBase& rule_base) {
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  std::string bytes = Encode(key, kb, rule_base);
  // A name no other process uses, so that concurrent writers never mix their bytes.
  std::string temp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(std::random_device{}());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(temp + ": cannot create");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = ::close(fd) == 0 && done == bytes.size();
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return Status::IOError(path + ": cannot write the snapshot");
  }
  return Status::Ok();
}

}  // namespace nflux::snapshot
