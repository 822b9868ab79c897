// The compiled snapshot: a pipeline opened from it behaves exactly as one opened from the sources,
// and a stale, truncated or damaged image is never used.
#include "snapshot/snapshot.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "base/text.h"
#include "pipeline/pipeline.h"
#include "snapshot/codec.h"
#include "testutil.h"

namespace nflux::snapshot {
namespace {

namespace fs = std::filesystem;

pipeline::Options Shipped(const std::string& snapshot_dir) {
  pipeline::Options options;
  options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
  options.rules_dir = NFLUX_SOURCE_DIR "/rules";
  options.snapshot_dir = snapshot_dir;
  return options;
}

std::unique_ptr<pipeline::Pipeline> Open(const pipeline::Options& options) {
  auto opened = pipeline::Pipeline::Open(options);
  EXPECT_OK(opened);
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::string SnapshotPath(const pipeline::Options& options) {
  return PathFor(options.snapshot_dir, options.knowledge_dir, options.rules_dir);
}

uint64_t KeyOfOptions(const pipeline::Options& options) {
  auto sources = pipeline::ReadSources(options);
  EXPECT_OK(sources);
  return KeyOf(sources->knowledge, sources->rules);
}

// Every golden case and example, as (name, text).
std::vector<std::pair<std::string, std::string>> AllCases() {
  std::vector<std::pair<std::string, std::string>> cases;
  for (const char* dir : {NFLUX_SOURCE_DIR "/rules/tests", NFLUX_SOURCE_DIR "/examples"})
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::string name = entry.path().filename().string();
      if (entry.path().extension() != ".json" || name.find(".expect.") != std::string::npos) continue;
      auto text = ReadFileToString(entry.path().string());
      EXPECT_OK(text);
      cases.emplace_back(name, text.ok() ? *text : "");
    }
  std::sort(cases.begin(), cases.end());
  return cases;
}

// The evaluation JSON of every case, or its error.
std::vector<std::string> Outputs(const pipeline::Pipeline& pipeline) {
  std::vector<std::string> out;
  for (const auto& [name, text] : AllCases()) {
    pipeline::EvaluationOptions options;
    options.source_name = name;
    auto result = pipeline.Evaluate(text, options);
    out.push_back(name + "\n" + (result.ok() ? pipeline.ReportJson(*result).dump(2) : result.status().message()));
  }
  return out;
}

void ExpectSamePipeline(const pipeline::Pipeline& a, const pipeline::Pipeline& b) {
  EXPECT_EQ(a.knowledge().version(), b.knowledge().version());
  EXPECT_EQ(a.rule_base().version, b.rule_base().version);
  EXPECT_EQ(a.knowledge().ToJson().dump(), b.knowledge().ToJson().dump());
  EXPECT_EQ(a.knowledge().ToDot(), b.knowledge().ToDot());
  EXPECT_EQ(a.rule_base().rules.size(), b.rule_base().rules.size());
  ASSERT_EQ(a.sources().knowledge.size(), b.sources().knowledge.size());
  for (size_t i = 0; i < a.sources().knowledge.size(); ++i) {
    EXPECT_EQ(a.sources().knowledge[i].path, b.sources().knowledge[i].path);
    EXPECT_EQ(a.sources().knowledge[i].text, b.sources().knowledge[i].text);
  }
  ASSERT_EQ(a.sources().rules.size(), b.sources().rules.size());
  for (size_t i = 0; i < a.sources().rules.size(); ++i) {
    EXPECT_EQ(a.sources().rules[i].name, b.sources().rules[i].name);
    EXPECT_EQ(a.sources().rules[i].text, b.sources().rules[i].text);
  }
}

TEST(Snapshot, EveryCaseEvaluatesTheSameFromTheSnapshotAsFromTheSources) {
  nflux::testing::TempDir cache("snapshot_same");
  auto from_sources = Open(Shipped(""));
  auto writing = Open(Shipped(cache.str()));  // no image yet: opens the sources, writes one
  ASSERT_TRUE(from_sources && writing);
  ASSERT_OK(Load(SnapshotPath(Shipped(cache.str())), KeyOfOptions(Shipped(cache.str()))));
  auto from_snapshot = Open(Shipped(cache.str()));
  ASSERT_TRUE(from_snapshot);
  ExpectSamePipeline(*from_sources, *from_snapshot);
  std::vector<std::string> expected = Outputs(*from_sources), actual = Outputs(*from_snapshot);
  ASSERT_EQ(expected.size(), actual.size());
  EXPECT_GT(expected.size(), 20u);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(expected[i], actual[i]);
}

// Encoding what was decoded gives the same bytes: every encoded field survives the round trip.
TEST(Snapshot, RoundTripKeepsEveryField) {
  auto opened = Open(Shipped(""));
  ASSERT_TRUE(opened);
  std::string image = Encode(42, opened->knowledge(), opened->rule_base());
  auto decoded = Decode(image, 42);
  ASSERT_OK(decoded);
  EXPECT_EQ(image, Encode(42, *decoded->kb, *decoded->rules));
  EXPECT_EQ(decoded->kb->first_line_labs(), opened->knowledge().first_line_labs());
  for (const auto& node : decoded->kb->nodes())
    if (node.lab) {
      EXPECT_TRUE(node.lab->to_canonical) << node.id;
    }
  // The kind index is rebuilt alike: NodesOfKind lists the nodes IdsOfKind names, in its order,
  // every node under one kind.
  for (const knowledge::KnowledgeBase* kb : {&opened->knowledge(), decoded->kb.get()}) {
    size_t indexed = 0;
    for (auto kind = knowledge::NodeKind::kNeurotransmitter; kind <= knowledge::NodeKind::kDerivedIndex;
         kind = static_cast<knowledge::NodeKind>(static_cast<int>(kind) + 1)) {
      std::vector<std::string> listed;
      for (const knowledge::Node* node : kb->NodesOfKind(kind)) listed.push_back(node->id);
      EXPECT_EQ(kb->IdsOfKind(kind), listed) << knowledge::KindName(kind);
      indexed += listed.size();
    }
    EXPECT_EQ(kb->nodes().size(), indexed);
  }
}

TEST(Snapshot, DamagedImagesAreRefused) {
  auto opened = Open(Shipped(""));
  ASSERT_TRUE(opened);
  const std::string image = Encode(7, opened->knowledge(), opened->rule_base());
  EXPECT_EQ(Decode(image, 8).status().code(), Status::Code::kCorruption);  // another key
  for (size_t size : {size_t{0}, size_t{7}, size_t{39}, size_t{40}, image.size() / 2, image.size() - 1})
    EXPECT_EQ(Decode(std::string_view(image).substr(0, size), 7).status().code(), Status::Code::kCorruption) << size;
  for (size_t at : {size_t{0}, size_t{9}, size_t{20}, size_t{35}, size_t{41}, image.size() / 3, image.size() - 1}) {
    std::string flipped = image;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    EXPECT_EQ(Decode(flipped, 7).status().code(), Status::Code::kCorruption) << at;
  }
  EXPECT_EQ(Decode(image + "x", 7).status().code(), Status::Code::kCorruption);
}

// The key and checksum hash: any one byte changed, at any place of any length (every lane, the
// words after the lanes, the tail), changes it; so do the seed and the length.
TEST(Snapshot, HashChangesWithEveryByte) {
  std::mt19937_64 random(5);
  for (size_t size = 0; size < 200; ++size) {
    std::string bytes(size, '\0');
    for (char& byte : bytes) byte = static_cast<char>(random());
    const uint64_t hash = Hash(bytes, 3);
    EXPECT_NE(hash, Hash(bytes, 4)) << size;
    EXPECT_NE(hash, Hash(bytes + '\0', 3)) << size;
    for (size_t at = 0; at < size; ++at) {
      std::string changed = bytes;
      changed[at] = static_cast<char>(changed[at] ^ (1 << (random() % 8)));
      EXPECT_NE(hash, Hash(changed, 3)) << size << " " << at;
    }
  }
}

// Past the checksum, the decoder itself never reads out of bounds: every cut of the content fails.
TEST(Snapshot, DecoderRefusesTruncatedContent) {
  auto opened = Open(Shipped(""));
  ASSERT_TRUE(opened);
  Writer out;
  EncodeKnowledge(opened->knowledge(), out);
  EncodeRules(opened->rule_base(), out);
  const std::string payload = out.bytes();
  for (size_t size = 0; size < payload.size(); size += 1 + payload.size() / 97) {
    Reader in(std::string_view(payload).substr(0, size));
    auto kb = DecodeKnowledge(in);
    bool whole = kb && DecodeRules(in) && in.AtEnd();
    EXPECT_FALSE(whole) << size;
  }
  Reader in(payload);
  EXPECT_TRUE(DecodeKnowledge(in) && DecodeRules(in) && in.AtEnd());
}

// A damaged file on disk: the pipeline opens from the sources, answers the same, and writes a good image.
TEST(Snapshot, DamagedFileFallsBackToTheSourcesAndIsRewritten) {
  nflux::testing::TempDir cache("snapshot_damaged");
  const pipeline::Options options = Shipped(cache.str());
  auto from_sources = Open(Shipped(""));
  ASSERT_TRUE(Open(options));
  const std::string path = SnapshotPath(options);
  const uint64_t key = KeyOfOptions(options);
  auto bytes = ReadFileToString(path);
  ASSERT_OK(bytes);
  for (int damage = 0; damage < 2; ++damage) {
    std::string broken = *bytes;
    if (damage == 0) broken.resize(broken.size() / 2);
    else broken[broken.size() - 100] ^= 0x01;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << broken;
    EXPECT_FALSE(Load(path, key).ok());
    auto reopened = Open(options);
    ASSERT_TRUE(reopened);
    ExpectSamePipeline(*from_sources, *reopened);
    EXPECT_TRUE(Load(path, key).ok()) << "not rewritten";
  }
}

// One changed byte in one source: a new key, the image rebuilt from the changed sources.
TEST(Snapshot, ChangedSourceRebuildsTheImage) {
  nflux::testing::TempDir cache("snapshot_changed"), copy("snapshot_changed_sources");
  fs::copy(NFLUX_SOURCE_DIR "/knowledge", copy.str() + "/knowledge", fs::copy_options::recursive);
  fs::copy(NFLUX_SOURCE_DIR "/rules", copy.str() + "/rules", fs::copy_options::recursive);
  pipeline::Options options = Shipped(cache.str());
  options.knowledge_dir = copy.str() + "/knowledge";
  options.rules_dir = copy.str() + "/rules";
  auto before = Open(options);
  ASSERT_TRUE(before);
  const uint64_t old_key = KeyOfOptions(options);
  const std::string labs = options.knowledge_dir + "/labs.json";
  auto text = ReadFileToString(labs);
  ASSERT_OK(text);
  size_t at = text->find("\"label\": \"");
  ASSERT_NE(at, std::string::npos);
  at += 10;
  std::string changed = *text;
  changed[at] = changed[at] == 'X' ? 'Y' : 'X';
  std::ofstream(labs, std::ios::binary | std::ios::trunc) << changed;
  const uint64_t new_key = KeyOfOptions(options);
  EXPECT_NE(old_key, new_key);
  EXPECT_FALSE(Load(SnapshotPath(options), new_key).ok()) << "stale image taken";
  auto after = Open(options);
  ASSERT_TRUE(after);
  EXPECT_NE(before->knowledge().version(), after->knowledge().version());
  pipeline::Options plain = options;
  plain.snapshot_dir.clear();
  auto fresh = Open(plain);
  ASSERT_TRUE(fresh);
  ExpectSamePipeline(*fresh, *after);
  auto image = Load(SnapshotPath(options), new_key);
  ASSERT_OK(image);
  EXPECT_EQ(image->kb->version(), after->knowledge().version());
}

TEST(Snapshot, CacheFolderFollowsTheEnvironment) {
  ::setenv("NFLUX_CACHE", "/tmp/x", 1);
  EXPECT_EQ(DefaultCacheDir(), "/tmp/x");
  ::setenv("NFLUX_SNAPSHOT", "off", 1);
  EXPECT_EQ(DefaultCacheDir(), "");
  ::unsetenv("NFLUX_SNAPSHOT");
  ::unsetenv("NFLUX_CACHE");
  EXPECT_NE(DefaultCacheDir(), "/tmp/x");
}

}  // namespace
}  // namespace nflux::snapshot
