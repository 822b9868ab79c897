// The id hash's comparisons against std::string's, over every length the fixed-size loads treat
// differently (0-3, 4-7, 8-16, 17-24, longer) and texts that differ in a single byte anywhere.
#include "base/id_hash.h"

#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace nflux {
namespace {

std::string FewLetterText(std::mt19937& random, size_t size) {
  std::string text(size, ' ');
  for (char& c : text) c = static_cast<char>('a' + random() % 4);  // few letters: near misses are common
  return text;
}

TEST(IdHashTest, SameIdAgreesWithStringEquality) {
  std::mt19937 random(3);
  for (size_t size = 0; size <= 40; ++size)
    for (int round = 0; round < 300; ++round) {
      const std::string a = FewLetterText(random, size);
      std::string b = a;
      if (size > 0 && round % 2) b[random() % size] = static_cast<char>('a' + random() % 5);  // maybe one byte apart
      EXPECT_EQ(SameId(a, b), a == b) << a << " / " << b;
      EXPECT_EQ(SameBytes(a.data(), b.data(), size), a == b) << a << " / " << b;
      if (a == b) {
        EXPECT_EQ(HashId(a, 7), HashId(b, 7));
      }
    }
  EXPECT_FALSE(SameId("ferritin", "ferritin_"));
  EXPECT_FALSE(SameId("", "a"));
  EXPECT_TRUE(SameId("", ""));
}

TEST(IdHashTest, ShortWordsOfEqualSizeDifferUnlessTheTextsAreEqual) {
  for (size_t size = 0; size < 8; ++size) {
    std::mt19937 random(static_cast<unsigned>(size));
    for (int round = 0; round < 2000; ++round) {
      const std::string a = FewLetterText(random, size), b = FewLetterText(random, size);
      EXPECT_EQ(ShortWord(a.data(), size) == ShortWord(b.data(), size), a == b) << a << " / " << b;
    }
  }
}

TEST(IdHashTest, SpreadsIdsAndSeeds) {
  // The knowledge base's ids, roughly: no two of 20,000 distinct ids share a 64-bit hash, and the
  // same id under two seeds (symbol families) hashes apart.
  std::mt19937 random(5);
  std::set<std::string> ids;
  while (ids.size() < 20000) ids.insert(FewLetterText(random, 3 + random() % 30));
  std::set<uint64_t> hashes;
  for (const auto& id : ids) hashes.insert(HashId(id));
  EXPECT_EQ(hashes.size(), ids.size());
  EXPECT_NE(HashId("ferritin", 1), HashId("ferritin", 2));
  // The low bits index the tables: they must vary too.
  std::set<uint64_t> low;
  for (const auto& id : ids) low.insert(HashId(id) & 1023);
  EXPECT_GT(low.size(), 1000u);
}

}  // namespace
}  // namespace nflux
