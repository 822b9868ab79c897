// Tests of base/json_writer.h: what it writes is byte for byte nlohmann's dump() of the same
// values (the evaluation JSON must not change when it is written without the DOM), and of
// FormatNumber, which reports use for every number they show.
#include "base/json_writer.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/text.h"

namespace nflux {
namespace {

using nlohmann::ordered_json;

std::string Written(const ordered_json& value) {
  std::string out;
  JsonWriter(out).Value(value);
  return out;
}

TEST(JsonWriterTest, WritesWhatDumpWrites) {
  const std::vector<ordered_json> table = {
      ordered_json::parse(R"({"b":1,"a":[true,false,null],"c":{},"d":[],"e":{"x":[{}]}})"),
      "plain", "quote \" backslash \\ slash /", std::string("\b\f\n\r\t\x01\x1f\x7f", 8),
      "ferritin 18 µmol/L ≥ 5 — ok", -0.0, 0.0, 1.0, 0.5, 0.1, 1e-5, 1e300, 123456789.125, 1e15, 1e16,
      std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), 42, -7,
      static_cast<uint64_t>(18446744073709551615ull), static_cast<int64_t>(-9223372036854775807ll),
      ordered_json::array({0.738, 176.2, 10000.0, -3})};
  for (const auto& value : table) EXPECT_EQ(Written(value), value.dump()) << value.dump();
}

// Plain runs are skipped eight or sixteen bytes at a time: every special byte, and its neighbours
// that are plain, at every position of strings around both sizes and a few blocks long.
TEST(JsonWriterTest, EveryByteAtEveryPositionIsEscapedAsDumpEscapesIt) {
  const std::vector<std::string> specials = {"\"", "\\", std::string(1, '\0'), "\x01", "\x1f", " ", "!",
                                             "#",  "[",    "\\",             "]",    "\x7f", "\xC3\xA9"};
  for (size_t length = 0; length <= 50; ++length)
    for (size_t at = 0; at <= length; ++at)
      for (const auto& special : specials) {
        std::string text(length, 'a');
        text.insert(at, special);
        EXPECT_EQ(Written(ordered_json(text)), ordered_json(text).dump()) << length << " " << at;
      }
}

TEST(JsonWriterTest, RandomDoublesAreWrittenAsDumpWritesThem) {
  std::mt19937_64 random(12);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 20000; ++i) {
    const double value = unit(random) * std::pow(10.0, static_cast<int>(random() % 40) - 20);
    EXPECT_EQ(Written(ordered_json(value)), ordered_json(value).dump());
    const double rounded = std::round(value * 1000.0) / 1000.0;
    EXPECT_EQ(Written(ordered_json(rounded)), ordered_json(rounded).dump());
  }
}

// Whole numbers take their own path ("3.0" from the integer's digits) below 10^15: both sides of
// that limit, both signs, every magnitude.
TEST(JsonWriterTest, WholeNumbersAreWrittenAsDumpWritesThem) {
  std::mt19937_64 random(15);
  std::vector<double> values = {1e15, -1e15, 999999999999999.0, -999999999999999.0, 1e15 + 2, 9007199254740992.0,
                                1.0, -1.0, 2.0, 10.0, 100.0};
  for (int digits = 1; digits <= 18; ++digits)
    for (int i = 0; i < 200; ++i) {
      const double value = std::round(static_cast<double>(random() % 1000000) * std::pow(10.0, digits - 6));
      values.push_back(value);
      values.push_back(-value);
    }
  for (double value : values) EXPECT_EQ(Written(ordered_json(value)), ordered_json(value).dump()) << value;
}

// Numbers of at most four decimals (k / 10^4) take their own path (k's digits with the point put
// in) below 10^4: every k near zero, random ones of every magnitude up to the limit and past it
// (where dump() may write more digits: 65536.05530000001), both signs, as dump() writes them.
TEST(JsonWriterTest, NumbersOfFourDecimalsAreWrittenAsDumpWritesThem) {
  auto written = [](double value) {
    std::string out;
    JsonWriter(out).Double(value);
    return out;
  };
  for (int64_t k = -200000; k <= 200000; ++k) {
    const double value = static_cast<double>(k) / 1e4;
    ASSERT_EQ(written(value), ordered_json(value).dump()) << k;
  }
  std::mt19937_64 random(16);
  for (double value : {65536.0553, -65536.0553, 9999.9999, -9999.9999, 10000.0001})
    ASSERT_EQ(written(value), ordered_json(value).dump()) << value;
  for (int digits = 6; digits <= 17; ++digits)
    for (int i = 0; i < 2000; ++i) {
      const double k = static_cast<double>(random() % static_cast<uint64_t>(std::pow(10.0, digits)));
      for (double value : {k / 1e4, -k / 1e4, std::round(k * 0.37) / 1e4})
        ASSERT_EQ(written(value), ordered_json(value).dump()) << value;
    }
}

TEST(JsonWriterTest, KeysAndValuesNestInCallOrder) {
  std::string out;
  JsonWriter writer(out);
  writer.BeginObject().Key("z").Int(1).Key("a").BeginArray().String("x").Double(2.0).EndArray();
  const std::vector<std::string> strings = {"p", "q"};
  writer.Key("s").Strings(strings).Key("n").Null().Key("o").BeginObject().EndObject().EndObject();
  writer.Flush();
  EXPECT_EQ(out, R"({"z":1,"a":["x",2.0],"s":["p","q"],"n":null,"o":{}})");
  // Writing goes on after a flush, after what the string holds (also text put there meanwhile).
  out += " ";
  writer.String("tail\n");
  writer.Flush();
  EXPECT_EQ(out, R"({"z":1,"a":["x",2.0],"s":["p","q"],"n":null,"o":{}} ,"tail\n")");
  // The string's earlier text is kept; a long text grows the buffer.
  std::string appended = "so far: ";
  JsonWriter(appended).String(std::string(100000, 'y'));
  EXPECT_EQ(appended, "so far: \"" + std::string(100000, 'y') + "\"");
}

TEST(JsonWriterTest, InvalidUtf8FailsAsDumpDoes) {
  std::string out;
  EXPECT_THROW(JsonWriter(out).String("bad \xff byte"), nlohmann::json::type_error);
}

// IndentJson lays out compact text as dump(indent) lays out the DOM: strings holding brackets,
// commas, colons, escaped quotes and backslashes; empty and nested containers; scalars alone.
TEST(IndentJsonTest, LaysOutCompactTextAsDumpWithIndent) {
  const std::vector<ordered_json> table = {
      ordered_json::parse(R"({"b":1,"a":[true,false,null],"c":{},"d":[],"e":{"x":[{}]},"f":[[],[{}],{"y":[]}]})"),
      ordered_json::parse(R"({"s":"{[,:]} \" \\\" end \\","t":["a,b","c:d","\"{"],"u":{"k\"ey":"v"}})"),
      ordered_json::parse(R"([1,-2.5,1e-05,"x",{"a":{"b":{"c":[1,[2,[3]]]}}}])"),
      ordered_json::object(), ordered_json::array(), "plain", 3.25, nullptr, true,
      ordered_json::parse(R"({"unicode":"µmol/L ≥ 5 — ok","nul":"\u0000"})")};
  for (const auto& value : table) {
    for (int indent : {2, 4}) EXPECT_EQ(IndentJson(value.dump(), indent), value.dump(indent)) << value.dump();
  }
}

TEST(FormatNumberTest, Table) {
  struct Case {
    double value;
    int significant;
    const char* text;
  };
  const std::vector<Case> table = {
      {0.738, 3, "0.738"},       {176.2, 6, "176.2"},   {10000, 6, "10000"},     {1234567, 6, "1234567"},
      {0.0001234, 3, "0.000123"}, {0.00001234, 3, "1.23e-05"}, {1e15, 6, "1e+15"}, {-2.5, 6, "-2.5"},
      {0, 6, "0"},               {-0.0, 3, "-0"},       {0.0005, 3, "0.0005"},   {0.9995, 3, "1"},
      {2.675, 3, "2.67"},        {99.95, 3, "100"},     {9.99962, 4, "10"},      {0.000999951, 4, "0.001"},
      {37.48372, 4, "37.48"},    {-0.0123456, 3, "-0.0123"}, {123.456789, 9, "123.456789"}, {4.5e8 + 0.7, 9, "450000001"},
      // The double is above the half, but scaled by ten it rounds to the half exactly.
      {1.05, 2, "1.1"},          {2.45, 2, "2.5"},     {123456.5, 6, "123456"}, {1e300, 3, "1e+300"},
      {std::numeric_limits<double>::quiet_NaN(), 6, "nan"}, {-std::numeric_limits<double>::infinity(), 6, "-inf"}};
  for (const auto& [value, significant, text] : table) EXPECT_EQ(FormatNumber(value, significant), text) << value;
}

// FormatNumber as specified: printf's "%.*g"; where that takes an exponent for an ordinary
// magnitude (1e-4 <= |value| < 1e15), "%.*f" without trailing zeros.
std::string PrintfFormat(double value, int significant) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
  std::string general = buffer;
  if (general.find('e') == std::string::npos || std::fabs(value) < 1e-4 || std::fabs(value) >= 1e15) return general;
  std::snprintf(buffer, sizeof buffer, "%.*f", significant, value);
  std::string text = buffer;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text;
}

// FormatNumber takes shortcuts for integers, short decimals and values with more digits than it
// shows: on random values of every shape (short decimals at every scale, integers, values next to
// a rounding boundary, measured values with all their digits, any bit pattern), it prints what
// printf does.
TEST(FormatNumberTest, AgreesWithPrintfOnRandomValues) {
  std::mt19937_64 random(20261201);
  std::uniform_int_distribution<int> significant_of(1, 17), exponent_of(-8, 17), digits_of(1, 9), shape_of(0, 5);
  std::uniform_int_distribution<uint64_t> bits_of;
  for (int i = 0; i < 400000; ++i) {
    const int significant = significant_of(random);
    double value = 0;
    const int digits = digits_of(random);
    const auto mantissa = static_cast<double>(bits_of(random) % static_cast<uint64_t>(std::pow(10, digits)));
    switch (shape_of(random)) {
      case 0: value = mantissa * std::pow(10.0, exponent_of(random) - digits); break;  // a short decimal
      case 1: value = mantissa; break;                                                 // an integer
      case 2: value = (mantissa + 0.5) * std::pow(10.0, exponent_of(random) - digits); break;  // a boundary
      case 3: value = std::nextafter(mantissa * std::pow(10.0, -digits), bits_of(random) % 2 ? 1e300 : -1e300); break;
      case 4: value = std::uniform_real_distribution<double>(1, 10)(random) * std::pow(10.0, exponent_of(random) - 4); break;
      default: {
        uint64_t bits = bits_of(random);
        std::memcpy(&value, &bits, sizeof value);
        if (!std::isfinite(value)) continue;
      }
    }
    if (bits_of(random) % 2) value = -value;
    ASSERT_EQ(FormatNumber(value, significant), PrintfFormat(value, significant)) << value << " at " << significant;
  }
}

}  // namespace
}  // namespace nflux
