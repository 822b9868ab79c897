// The fast JSON reader gives exactly nlohmann's document, or leaves the text to the strict reader.
#include "case/fast_json.h"

#include <gtest/gtest.h>

#include <string>

namespace nflux::casefile {
namespace {

TEST(FastJson, GivesNlohmannsDocument) {
  const std::string good[] = {
      R"({})", R"([])", R"(  {"a" : 1 , "b":[true,false,null]}  )", R"({"n":-0,"u":0,"i":-12,"big":999999999999999999})",
      R"({"f":45.000000000000001,"e":1.5e2,"E":0.1E+1,"neg":-2.5e-3,"z":-0.0})", R"("text")", R"(7)",
      R"({"labs":[{"test":"ferritin","value":85,"unit":"ng/mL"}],"x":{"b":1,"a":2}})"};
  for (const std::string& text : good) {
    std::optional<nlohmann::json> fast = FastParseJson(text);
    ASSERT_TRUE(fast.has_value()) << text;
    const nlohmann::json strict = nlohmann::json::parse(text);
    EXPECT_EQ(*fast, strict) << text;
    EXPECT_EQ(fast->dump(), strict.dump()) << text;  // same number types (unsigned, signed, double)
  }
}

TEST(FastJson, LeavesEverythingElseToTheStrictReader) {
  const std::string left[] = {"",
                              "{",
                              R"({"a":1,})",
                              R"({"a":1} x)",
                              R"({"a":1,"a":2})",            // a key twice
                              R"({"a":"b\"c"})",             // an escape
                              "{\"a\":\"caf\xc3\xa9\"}",     // outside ASCII
                              "{\"a\":\"a\tb\"}",            // a control character
                              "\xef\xbb\xbf{}",              // a byte order mark
                              R"({"a":01})",
                              R"({"a":1.})",
                              R"({"a":-})",
                              R"({"a":1e999})",              // out of range
                              R"({"a":1234567890123456789})",  // 19 digits
                              R"({"a":tru})",
                              std::string(100, '[') + std::string(100, ']')};
  for (const std::string& text : left) EXPECT_FALSE(FastParseJson(text).has_value()) << text;
}

}  // namespace
}  // namespace nflux::casefile
