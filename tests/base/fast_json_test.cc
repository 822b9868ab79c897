// The fast JSON reader gives exactly nlohmann's document, or leaves the text to the strict reader.
#include "base/fast_json.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace nflux {
namespace {

// Same value types throughout (unsigned, signed and double compare equal when their values do).
bool SameTypes(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
      if (ia.key() != ib.key() || !SameTypes(*ia, *ib)) return false;
  } else if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (!SameTypes(a[i], b[i])) return false;
  }
  return true;
}

void ExpectNlohmannsDocument(const std::string& text) {
  std::optional<nlohmann::json> fast = FastParseJson(text);
  ASSERT_TRUE(fast.has_value()) << text;
  const nlohmann::json strict = nlohmann::json::parse(text);
  EXPECT_EQ(*fast, strict) << text;
  EXPECT_TRUE(SameTypes(*fast, strict)) << text;
  EXPECT_EQ(fast->dump(), strict.dump()) << text;
  // The ordered document keeps the members as written, as nlohmann's ordered_json does.
  std::optional<nlohmann::ordered_json> ordered = FastParseOrderedJson(text);
  ASSERT_TRUE(ordered.has_value()) << text;
  EXPECT_EQ(ordered->dump(), nlohmann::ordered_json::parse(text).dump()) << text;
}

TEST(FastJson, GivesNlohmannsDocument) {
  const std::string good[] = {
      R"({})", R"([])", R"(  {"a" : 1 , "b":[true,false,null]}  )", "{}\n\t\r ", R"("text")", R"(7)",
      R"({"u":0,"i":-12,"big":999999999999999999})",
      R"({"f":45.000000000000001,"e":1.5e2,"E":0.1E+1,"neg":-2.5e-3,"z":-0.0})",
      R"({"one":1.0,"hundred":1e2,"tenth":0.1,"tiny":1e-400,"denormal":4.9e-324,"max":1.7976931348623157e308})",
      R"({"neg":-0.5,"date":"2024-01-05","zero":0,"e":-0e1})",  // "-0" that is no integer keeps 0 unsigned
      R"({"a":1234567890123456789,"b":9223372036854775807,"c":9223372036854775808})",  // 19 digits
      R"({"d":18446744073709551615,"e":-9223372036854775808,"f":-1234567890123456789})",  // 20 digits, int64 min
      R"({"esc":"b\"c\\d\/e\b\f\n\r\t","u":"\u00e9\u0041\ud83d\ude00\u0000\uFFFF"})",
      "{\"caf\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \x7f\"}",  // raw UTF-8, DEL
      R"({"labs":[{"test":"ferritin","value":85,"unit":"ng/mL"}],"x":{"b":1,"a":2},"y":{"a":{"a":1}}})",
      std::string(kMaxFastJsonDepth, '[') + std::string(kMaxFastJsonDepth, ']')};
  for (const std::string& text : good) ExpectNlohmannsDocument(text);
}

// A string or key over the string limit, and a text over kMaxFastJsonText, are the strict reader's,
// which enforces the limits; the thread's parser then reads the next text as before. A longer text
// of short strings is read here, except by ParseFastDocument, whose callers read its strings
// unchecked.
TEST(FastJson, LeavesLongStringsAndVeryLongTextsToTheStrictReader) {
  std::string numbers = "[";
  while (numbers.size() <= limits::kMaxJsonString) numbers += "1.25,\"x\",";
  numbers += "-1]";
  ExpectNlohmannsDocument(numbers);
  EXPECT_EQ(std::nullopt, ParseFastDocument(numbers));
  const std::string longest(limits::kMaxJsonString, 'a'), over(limits::kMaxJsonString + 1, 'a');
  ExpectNlohmannsDocument("[\"" + longest + "\"]");
  ExpectNlohmannsDocument("{\"" + longest + "\":1}");
  EXPECT_EQ(std::nullopt, FastParseJson("[\"" + over + "\"]"));
  EXPECT_EQ(std::nullopt, FastParseJson("{\"" + over + "\":1}"));
  EXPECT_EQ(std::nullopt, FastParseOrderedJson("[\"" + over + "\"]"));
  std::string huge = "[";
  while (huge.size() <= kMaxFastJsonText) huge += "12345678,";
  huge += "0]";
  EXPECT_EQ(std::nullopt, FastParseJson(huge));
  ExpectNlohmannsDocument(R"({"after":"the large text"})");
}

// Text the program wrote is read by either reader with the members in their written order; a
// syntax error there is a bug and throws.
TEST(FastJson, WrittenJsonKeepsTheOrderOnBothPaths) {
  const std::string small = R"({"z":1,"a":[{"y":"-0","b":-0}],"m":0.5})";  // -0: nlohmann's reader
  std::string large = R"({"z":[)";
  while (large.size() <= kMaxFastJsonText) large += R"({"k":"v","b":2},)";
  large += R"(0],"a":1})";
  for (const std::string& text : {small, large, std::string(R"({"z":1,"a":2})")})
    EXPECT_EQ(nlohmann::ordered_json::parse(text).dump(), ParseWrittenJson(text).dump());
  EXPECT_EQ(R"({"z":1,"a":2})", ParseWrittenJson(R"({"z":1,"a":2})").dump());
  EXPECT_THROW(ParseWrittenJson(R"({"z":)"), nlohmann::json::parse_error);
}

TEST(FastJson, EachThreadReadsWithItsOwnParser) {
  auto read = [](int seed, bool& same) {
    std::string numbers;
    for (int k = 0; k < 50; ++k) numbers += std::to_string(seed * 1000 + k) + ",";
    for (int i = 0; i < 2000; ++i) {
      const std::string text = R"({"seed":)" + std::to_string(seed) + R"(,"i":[)" + numbers + std::to_string(i) + "]}";
      std::optional<nlohmann::json> fast = FastParseJson(text);
      same = same && fast && *fast == nlohmann::json::parse(text);
    }
  };
  std::vector<char> same(4, true);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] {
    bool ok = true;
    read(t, ok);
    same[static_cast<size_t>(t)] = ok;
  });
  for (std::thread& thread : threads) thread.join();
  for (char ok : same) EXPECT_TRUE(ok);
}

TEST(FastJson, LeavesEverythingElseToTheStrictReader) {
  const std::string left[] = {"",
                              " ",
                              "{",
                              R"({"a":1,})",
                              R"({"a":1} x)",
                              R"([1] [2])",
                              std::string("{}\0", 3),
                              R"({"a":1,"a":2})",                 // a key twice
                              R"({"x":{"b":[{"k":1,"k":1}]}})",  // a key twice, deeper
                              "{\"a\":\"a\tb\"}",                 // a control character
                              std::string("[\"a\0b\"]", 7),       // a raw NUL
                              R"(["\ud800"])",                    // a lone surrogate
                              R"(["\udc00\ud800"])",              // surrogates the wrong way round
                              R"(["\x"])",                        // an unknown escape
                              "[\"\xc3\x28\"]",                   // invalid UTF-8
                              "[\"\xc0\xaf\"]",                   // overlong
                              "[\"\xed\xa0\x80\"]",               // an encoded surrogate
                              "[\"\xf4\x90\x80\x80\"]",           // beyond U+10FFFF
                              "\xef\xbb\xbf{}",                   // a byte order mark (nlohmann skips it)
                              R"({"a":01})",
                              R"({"a":1.})",
                              R"({"a":.5})",
                              R"({"a":+1})",
                              R"({"a":-})",
                              R"({"a":NaN})",
                              R"({"a":1e999})",                   // out of range
                              R"({"a":18446744073709551616})",    // beyond uint64: a double in nlohmann
                              R"({"a":-9223372036854775809})",    // beyond int64: a double in nlohmann
                              R"({"a":123456789012345678901234})",
                              R"(-0)",                            // signed zero: simdjson gives "0"
                              R"({"b":[0],"n":-0})",
                              R"({"a":tru})",
                              std::string(kMaxFastJsonDepth + 1, '[') + std::string(kMaxFastJsonDepth + 1, ']'),
                              std::string(100000, '[') + std::string(100000, ']')};
  for (const std::string& text : left) {
    EXPECT_FALSE(FastParseJson(text).has_value()) << text;
    EXPECT_FALSE(FastParseOrderedJson(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace nflux

namespace nflux {
namespace {

// A JSON object with `count` distinct keys "k0", "k1"..., and `then` appended as further members.
std::string ObjectOfKeys(int count, const std::string& then = "") {
  std::string text = "{";
  for (int i = 0; i < count; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  return text + then + "}";
}

bool DuplicatesIn(const std::string& text) {
  std::optional<simdjson::dom::element> root = ParseFastDocument(text);
  EXPECT_TRUE(root.has_value()) << text;
  return root && HasDuplicateKeys(*root);
}

// Small objects compare each key with the earlier ones; beyond 32 keys they are sorted: both ways
// find a key given twice, at any depth, and nothing in distinct keys.
TEST(FastJson, FindsAKeyGivenTwiceInSmallAndLargeObjectsAtAnyDepth) {
  EXPECT_FALSE(DuplicatesIn(ObjectOfKeys(5)));
  EXPECT_TRUE(DuplicatesIn(ObjectOfKeys(5, ",\"k3\":0")));
  EXPECT_FALSE(DuplicatesIn(ObjectOfKeys(40)));
  EXPECT_TRUE(DuplicatesIn(ObjectOfKeys(40, ",\"k35\":0")));  // both past the compared ones
  EXPECT_TRUE(DuplicatesIn(ObjectOfKeys(40, ",\"k2\":0")));   // one among them, one past them
  EXPECT_FALSE(DuplicatesIn("[" + ObjectOfKeys(3) + "," + ObjectOfKeys(40) + "]"));  // the same keys in two objects
  EXPECT_TRUE(DuplicatesIn(R"({"a": [1, {"b": {"c": 1, "c": 2}}]})"));
  EXPECT_TRUE(DuplicatesIn("{\"a\": " + ObjectOfKeys(40, ",\"k39\":1") + "}"));
  EXPECT_FALSE(DuplicatesIn(R"({"ab": 1, "ba": 2, "a": {"ab": 3}})"));
}

}  // namespace
}  // namespace nflux
