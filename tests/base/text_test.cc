// base/: reading a whole file and SHA-256.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "base/sha256.h"
#include "base/text.h"
#include "testutil.h"

namespace nflux {
namespace {

TEST(ReadFileToString, ReadsTheWholeFileByteForByte) {
  nflux::testing::TempDir dir("text");
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes += static_cast<char>(i * 7 % 256);  // NULs included
  const std::string path = dir.str() + "/bytes.bin";
  std::ofstream(path, std::ios::binary) << bytes;
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(bytes, *text);
  std::ofstream(dir.str() + "/empty.json");
  EXPECT_EQ("", *ReadFileToString(dir.str() + "/empty.json"));
}

TEST(ReadFileToString, ReadsPastTheSizeTheFileSystemGives) {
  // /proc files report a size of 0 and still have content.
  auto text = ReadFileToString("/proc/self/status");
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_NE(std::string::npos, text->find("Name:"));
  EXPECT_EQ('\n', text->back());
}

TEST(ReadFileToString, NamesThePathOfWhatItCannotRead) {
  nflux::testing::TempDir dir("text");
  auto missing = ReadFileToString(dir.str() + "/none.json");
  EXPECT_EQ(Status::Code::kNotFound, missing.status().code());
  EXPECT_EQ(dir.str() + "/none.json: cannot open file: no such file", missing.status().message());
  auto folder = ReadFileToString(dir.str());
  EXPECT_EQ(Status::Code::kIOError, folder.status().code());
  EXPECT_EQ(dir.str() + ": cannot read: it is a folder", folder.status().message());
}

// MapFile gives what ReadFileToString reads, for a mapped file and for one read instead (no size,
// a device), with the same messages; the bytes stay valid when moved and when the file is removed.
TEST(MapFile, GivesWhatReadFileToStringReads) {
  nflux::testing::TempDir dir("text");
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes += static_cast<char>(i * 7 % 256);
  const std::string path = dir.str() + "/bytes.bin";
  std::ofstream(path, std::ios::binary) << bytes;
  auto mapped = MapFile(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status().message();
  MappedFile moved = std::move(mapped).value();
  std::filesystem::remove(path);
  EXPECT_EQ(bytes, moved.bytes());
  MappedFile assigned;
  assigned = std::move(moved);
  EXPECT_EQ(bytes, assigned.bytes());

  std::ofstream(dir.str() + "/empty.json");
  EXPECT_EQ("", MapFile(dir.str() + "/empty.json")->bytes());
  EXPECT_TRUE(MapFile("/proc/self/status")->bytes().starts_with("Name:"));  // size 0: read, not mapped

  for (const std::string& bad : {dir.str() + "/none.json", dir.str()}) {
    auto read = ReadFileToString(bad);
    auto map = MapFile(bad);
    ASSERT_FALSE(map.ok());
    EXPECT_EQ(read.status().code(), map.status().code());
    EXPECT_EQ(read.status().message(), map.status().message());
  }
  const std::string big = dir.str() + "/big.json";
  std::ofstream(big) << std::string((1u << 20) + 1, ' ');
  EXPECT_EQ(ReadFileToString(big, 1u << 20).status().message(), MapFile(big, 1u << 20).status().message());
  EXPECT_EQ(ReadFileToString("/dev/zero", 1u << 20).status().message(), MapFile("/dev/zero", 1u << 20).status().message());
}

// What printf's "%.4g" (or "%.4f" where that would write an exponent for a number from 1e-4 to
// 1e15) prints, read back by strtod: how reports rounded numbers before RoundToSignificant.
double PrintedAndReadBack(double value) {
  char buffer[400];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  if (std::strchr(buffer, 'e') != nullptr && std::fabs(value) >= 1e-4 && std::fabs(value) < 1e15)
    std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return std::strtod(buffer, nullptr);
}

TEST(RoundToSignificant, IsTheNumberFormatNumberPrintsReadBack) {
  EXPECT_EQ(176.2, RoundToSignificant(176.20198, 4));
  EXPECT_EQ(0.0001235, RoundToSignificant(0.00012345678, 4));
  EXPECT_EQ(12345678.9, RoundToSignificant(12345678.9, 4));  // "%.4f" where "%.4g" would write 1.235e+07
  EXPECT_EQ(-2.5, RoundToSignificant(-2.5, 4));
  EXPECT_EQ(0.0, RoundToSignificant(0.0, 4));
  EXPECT_TRUE(std::isnan(RoundToSignificant(std::nan(""), 4)));
  std::mt19937_64 random(11);
  std::uniform_real_distribution<double> mantissa(-10, 10);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (int i = 0; i < 20000; ++i) {
    const double value = mantissa(random) * std::pow(10.0, exponent(random));
    EXPECT_EQ(std::strtod(FormatNumber(value, 4).c_str(), nullptr), RoundToSignificant(value, 4)) << value;
    EXPECT_EQ(PrintedAndReadBack(value), RoundToSignificant(value, 4)) << value;
  }
}

TEST(Sha256, GivesTheStandardDigests) {
  // FIPS 180-2 appendix B's examples, and the empty text.
  EXPECT_EQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256Hex("abc"));
  EXPECT_EQ("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
  EXPECT_EQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256Hex(""));
  EXPECT_EQ("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Sha256Hex(std::string(1000000, 'a')));
}

TEST(Sha256, FedInPartsEqualsTheWhole) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::to_string(i) + ",";
  for (size_t part : {1u, 3u, 63u, 64u, 65u, 1000u}) {
    Sha256 sha;
    for (size_t at = 0; at < text.size(); at += part) sha.Update(std::string_view(text).substr(at, part));
    EXPECT_EQ(Sha256Hex(text), sha.HexDigest()) << "parts of " << part;
  }
}

TEST(WithoutParentheticals, DropsEachGlossWhereItStands) {
  EXPECT_EQ(WithoutParentheticals("PHQ-9 (Patient Health Questionnaire-9)"), "PHQ-9");
  EXPECT_EQ(WithoutParentheticals("Vitamin B6 (PLP) deficiency"), "Vitamin B6 deficiency");
  EXPECT_EQ(WithoutParentheticals("Vitamin B12 (cobalamin), serum"), "Vitamin B12, serum");
  EXPECT_EQ(WithoutParentheticals("Niacin (vitamin B3; NAD(P)+/NAD(P)H)"), "Niacin");
  EXPECT_EQ(WithoutParentheticals("Ferritin, serum"), "Ferritin, serum");
  EXPECT_EQ(WithoutParentheticals("NAD(P)H oxidase"), "NAD(P)H oxidase");  // no space before: part of a word
  EXPECT_EQ(WithoutParentheticals("Open (never closed"), "Open (never closed");
  EXPECT_EQ(WithoutParentheticals(" (only a gloss)"), " (only a gloss)");
  EXPECT_EQ(WithoutParentheticals(""), "");
}

}  // namespace
}  // namespace nflux
