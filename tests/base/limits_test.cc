// base/limits.h as base enforces it: bounded reads, the JSON shape, UTF-8, folder listings and the
// nearest-id search. Each input here once crashed, hung or exhausted the command (issue 14).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "base/json.h"
#include "base/limits.h"
#include "base/text.h"
#include "testutil.h"

namespace nflux {
namespace {

namespace fs = std::filesystem;

TEST(BoundedRead, AFileOverTheLimitIsBadInputNamingTheLimit) {
  nflux::testing::TempDir dir("limits");
  const std::string path = dir.str() + "/big.json";
  std::ofstream(path) << std::string((1u << 20) + 1, ' ');
  auto text = ReadFileToString(path, 1u << 20);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, text.status().code());
  EXPECT_EQ(path + ": larger than the limit of 1 MiB (1048577 bytes)", text.status().message());
  EXPECT_TRUE(ReadFileToString(path, 2u << 20).ok());
}

// A device has no size and no end: reading stops at the limit.
TEST(BoundedRead, AnEndlessDeviceIsReadOnlyToTheLimit) {
  auto text = ReadFileToString("/dev/zero", 1u << 20);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, text.status().code());
  EXPECT_EQ("/dev/zero: larger than the limit of 1 MiB (stopped reading there)", text.status().message());
}

TEST(BoundedRead, ALinkToItselfIsNamed) {
  nflux::testing::TempDir dir("limits");
  const std::string path = dir.str() + "/loop.json";
  fs::create_symlink("loop.json", path);
  auto text = ReadFileToString(path);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, text.status().code());
  EXPECT_EQ(path + ": cannot open file: a symbolic link that leads to itself", text.status().message());
}

TEST(ListSourceFiles, ListsSortedRelativePathsAndSkipsTheNamedFolder) {
  nflux::testing::TempDir dir("limits");
  fs::create_directories(dir.str() + "/b/tests");
  std::ofstream(dir.str() + "/z.rules");
  std::ofstream(dir.str() + "/b/a.rules");
  std::ofstream(dir.str() + "/b/tests/t.rules");
  std::ofstream(dir.str() + "/notes.txt");
  auto files = ListSourceFiles(dir.str() + "/", ".rules", "tests");
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_EQ((std::vector<std::string>{"b/a.rules", "z.rules"}), *files);
  auto all = ListSourceFiles(dir.path(), ".rules");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((std::vector<std::string>{"b/a.rules", "b/tests/t.rules", "z.rules"}), *all);
}

TEST(ListSourceFiles, ALinkToItselfIsBadInputNamingIt) {
  nflux::testing::TempDir dir("limits");
  std::ofstream(dir.str() + "/a.json");
  fs::create_symlink("self.json", dir.str() + "/self.json");
  auto files = ListSourceFiles(dir.path(), ".json");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, files.status().code());
  EXPECT_EQ(dir.str() + "/self.json: a symbolic link that leads to itself", files.status().message());
}

std::string Nested(int depth) { return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']'); }

TEST(JsonShape, NestingUpToTheLimitIsReadAndDeeperIsASyntaxErrorWithItsPlace) {
  EXPECT_FALSE(ParseJsonStrict(Nested(limits::kMaxJsonDepth)).syntax_error);
  StrictJson deeper = ParseJsonStrict("{\"a\":\n" + Nested(limits::kMaxJsonDepth));
  ASSERT_TRUE(deeper.syntax_error);
  EXPECT_EQ(2, deeper.syntax_error->line);
  EXPECT_EQ(limits::kMaxJsonDepth, deeper.syntax_error->column);  // the bracket that opens level 65
  EXPECT_EQ("nested deeper than 64 levels (the limit)", deeper.syntax_error->message);
}

// A million levels once overflowed the stack; now the reader stops at level 65.
TEST(JsonShape, AMillionLevelsAreRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  for (const char* open : {"[", "{\"a\":"}) {
    std::string text;
    for (int i = 0; i < 1000000; ++i) text += open;
    auto parsed = ParseJsonDocument(text, "deep.json");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ("deep.json:1:" + std::to_string(64 * std::string(open).size() + 1) +
                  ": not valid JSON: nested deeper than 64 levels (the limit)",
              parsed.status().message());
  }
  // Not a timing test: a guard against the quadratic or recursive paths coming back.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(JsonShape, AStringOverTheLimitIsRefusedWithItsPlace) {
  const std::string at_limit(limits::kMaxJsonString, 'x');
  EXPECT_FALSE(ParseJsonStrict("[\"" + at_limit + "\"]").syntax_error);
  StrictJson value = ParseJsonStrict("[1,\n \"" + at_limit + "y\"]");
  ASSERT_TRUE(value.syntax_error);
  EXPECT_EQ(2, value.syntax_error->line);
  EXPECT_EQ(2, value.syntax_error->column);  // its opening quote
  EXPECT_EQ("a string longer than 65536 bytes (the limit)", value.syntax_error->message);
  StrictJson key = ParseJsonStrict("{\"" + at_limit + "y\": 1}");
  ASSERT_TRUE(key.syntax_error);
  EXPECT_EQ("a string longer than 65536 bytes (the limit)", key.syntax_error->message);
}

TEST(JsonShape, ANumberPastADoubleIsASyntaxErrorSayingSo) {
  for (const char* number : {"1e400", "-1e400", "1e999"}) {
    auto parsed = ParseJsonDocument(std::string("{\"v\": ") + number + "}", "n.json");
    ASSERT_FALSE(parsed.ok()) << number;
    EXPECT_EQ("n.json:1:" + std::to_string(6 + std::string(number).size()) +  // its last character
                  ": not valid JSON: number overflow parsing '" + number + "'",
              parsed.status().message());
  }
  EXPECT_TRUE(ParseJsonDocument("[1.7976931348623157e308]", "n.json").ok());  // the largest double
}

TEST(Utf8, AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ferritin µg/L, 5-HTP ≥ 50 mg, 🧠"));
  for (const char* bad : {"\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "a\x80"})
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  EXPECT_EQ("ab", Utf8Prefix("abµ", 3));  // µ is two bytes: not cut in half
  EXPECT_EQ("abµ", Utf8Prefix("abµ", 4));
}

// The nearest-id search compares with every id in O(length x length): a long word gets none.
TEST(NearestIds, ALongWordGetsNoSuggestionAndNoSearch) {
  const std::vector<std::string> ids = {"ferritin", "folate"};
  EXPECT_EQ((std::vector<std::string>{"ferritin"}), NearestIds("feritin", ids));
  EXPECT_TRUE(NearestIds(std::string(limits::kMaxSuggestedWord + 1, 'f'), ids).empty());
  EXPECT_EQ("", DidYouMean(std::string(50u << 20, 'x'), ids));
}

}  // namespace
}  // namespace nflux

namespace nflux {
namespace {

TEST(Utf8Safe, WritesBytesThatAreNotUtf8AsHex) {
  EXPECT_EQ("µg ok", Utf8Safe("µg ok"));
  EXPECT_EQ("last read: '\\xFF\\xFE'", Utf8Safe("last read: '\xff\xfe'"));
  EXPECT_EQ("a\\xC3", Utf8Safe("a\xc3"));  // a character cut at its end
  EXPECT_TRUE(IsValidUtf8(Utf8Safe("\xed\xa0\x80 \xf4\x90\x80\x80")));
}

// nlohmann quotes the bytes it stopped at; the message goes into JSON (a batch's error line).
TEST(JsonShape, ASyntaxErrorMessageIsUtf8WhateverTheInput) {
  StrictJson parsed = ParseJsonStrict("{\"id\": \xff}");
  ASSERT_TRUE(parsed.syntax_error);
  EXPECT_TRUE(IsValidUtf8(parsed.syntax_error->message)) << parsed.syntax_error->message;
  EXPECT_NE(std::string::npos, parsed.syntax_error->message.find("\\xFF"));
}

TEST(IsCalendarDate, OnlyDaysOfTheCalendar) {
  for (const char* good : {"2026-11-30", "2024-02-29", "1900-01-01"}) EXPECT_TRUE(IsCalendarDate(good)) << good;
  for (const char* bad : {"2026-13-01", "2026-02-30", "2025-02-29", "2026-00-10", "2026-01-32", "-001-01-01",
                          "2026-1-01", "2026-01-01T", "20260101", "abcd-ef-gh", ""})
    EXPECT_FALSE(IsCalendarDate(bad)) << bad;
}

TEST(JsonStringAt, AStringOrNothingNeverAThrow) {
  const nlohmann::json value = nlohmann::json::parse(R"({"a": "x", "b": 5, "c": null})");
  EXPECT_EQ("x", JsonStringAt(value, "a"));
  EXPECT_EQ("", JsonStringAt(value, "b"));
  EXPECT_EQ("", JsonStringAt(value, "c"));
  EXPECT_EQ("", JsonStringAt(value, "missing"));
  EXPECT_EQ("", JsonStringAt(nlohmann::json::array({1}), "a"));
}

}  // namespace
}  // namespace nflux
