// The strict JSON reader: pointer paths, typed field readers and their exact messages.
#include <gtest/gtest.h>

#include "base/json.h"
#include "knowledge/vocabulary.h"
#include "testutil.h"

namespace nflux {
namespace {

using nlohmann::json;

TEST(JsonPointer, EscapesAndUnescapesTokens) {
  EXPECT_EQ("/labs/0", JsonChild("/labs", 0));
  EXPECT_EQ("/a~1b/c~0d", JsonChild(JsonChild("", "a/b"), "c~d"));
  EXPECT_EQ("/symptoms/low_mood", JsonChild("/symptoms", "low_mood"));
  EXPECT_EQ("/x/~0~1~0", JsonChild("/x", "~/~"));
  EXPECT_EQ("/", JsonChild("", ""));
  EXPECT_EQ("/labs/18446744073709551615", JsonChild("/labs", size_t{18446744073709551615u}));
  EXPECT_EQ("c~d", JsonLastKey("/a~1b/c~0d"));
  EXPECT_EQ("a/b", JsonLastKey("/a~1b"));
  EXPECT_EQ("", JsonLastKey(""));
}

TEST(JsonInteger, AcceptsWholeNumbersOnly) {
  EXPECT_EQ(3, JsonInteger(json(3)));
  EXPECT_EQ(3, JsonInteger(json(3.0)));
  EXPECT_FALSE(JsonInteger(json(3.5)));
  EXPECT_FALSE(JsonInteger(json("3")));
  EXPECT_FALSE(JsonInteger(json(18446744073709551615ull)));
}

// One row: a document, what to read from it, and the problems expected (exact).
struct ReadCase {
  const char* name;
  const char* document;
  std::function<void(const ObjectReader&)> read;
  std::vector<std::string> problems;
};

std::vector<std::string> ProblemsOf(const ReadCase& row) {
  std::vector<JsonProblem> problems;
  JsonReader reader(&problems);
  json document = json::parse(row.document);
  row.read(ObjectReader(reader, document, "/x"));
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.ToString());
  return out;
}

TEST(JsonReader, ReportsExactProblems) {
  const std::vector<ReadCase> rows = {
      {"good string", R"({"a": "b"})", [](const ObjectReader& r) { EXPECT_EQ("b", r.RequiredString("a")); }, {}},
      {"missing", R"({})", [](const ObjectReader& r) { EXPECT_FALSE(r.RequiredString("a")); },
       {"/x: missing required field 'a'"}},
      {"null is missing", R"({"a": null})", [](const ObjectReader& r) { EXPECT_FALSE(r.RequiredNumber("a")); },
       {"/x: missing required field 'a'"}},
      {"optional absent", R"({})", [](const ObjectReader& r) { EXPECT_FALSE(r.OptionalNumber("a")); }, {}},
      {"wrong type", R"({"a": 1})", [](const ObjectReader& r) { EXPECT_FALSE(r.OptionalString("a")); },
       {"/x/a: expected a string, got a number"}},
      {"not an integer", R"({"a": 1.5})", [](const ObjectReader& r) { EXPECT_FALSE(r.OptionalInteger("a")); },
       {"/x/a: expected an integer, got a number"}},
      {"bool", R"({"a": "yes"})", [](const ObjectReader& r) { EXPECT_FALSE(r.OptionalBool("a")); },
       {"/x/a: expected true or false, got a string"}},
      {"string array", R"({"a": ["p", 2, "q", {}]})",
       [](const ObjectReader& r) { EXPECT_FALSE(r.OptionalStringArray("a")); },
       {"/x/a/1: expected a string, got a number", "/x/a/3: expected a string, got an object"}},
      {"good array", R"({"a": ["p", "q"]})",
       [](const ObjectReader& r) { EXPECT_EQ((std::vector<std::string>{"p", "q"}), r.OptionalStringArray("a")); }, {}},
      {"two words", R"({"a": "f"})",
       [](const ObjectReader& r) { EXPECT_FALSE(r.OptionalOneOf("a", {"female", "male"})); },
       {"/x/a: expected 'female' or 'male', got 'f'"}},
      {"many words", R"({"a": "cation"})",
       [](const ObjectReader& r) { EXPECT_FALSE(r.OptionalOneOf("a", {"absolute", "relative", "caution"})); },
       {"/x/a: expected one of absolute, relative, caution, got 'cation' (did you mean 'caution'?)"}},
      {"enum", R"({"a": "caution"})",
       [](const ObjectReader& r) {
         EXPECT_EQ(ContraindicationSeverity::kCaution, r.OptionalEnum<ContraindicationSeverity>("a"));
       },
       {}},
      {"bad enum", R"({"a": "urgnt"})",
       [](const ObjectReader& r) { EXPECT_FALSE(r.RequiredEnum<AlertSeverity>("a")); },
       {"/x/a: expected one of urgent, high, caution, info, got 'urgnt' (did you mean 'urgent'?)"}},
      {"missing enum", R"({})", [](const ObjectReader& r) { EXPECT_FALSE(r.RequiredEnum<Sex>("sex")); },
       {"/x: missing required field 'sex'"}},
      {"unknown fields", R"({"id": 1, "idd": 2, "_comment": 3})",
       [](const ObjectReader& r) { r.RejectUnknownFields({"id"}, true, "; see the docs"); },
       {"/x/idd: unknown field 'idd' (did you mean 'id'?); see the docs"}},
      {"comments not allowed", R"({"_comment": 3})", [](const ObjectReader& r) { r.RejectUnknownFields({"id"}); },
       {"/x/_comment: unknown field '_comment'"}},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(row.problems, ProblemsOf(row));
  }
}

TEST(JsonReader, RangesNameTheValueAndTheLimits) {
  std::vector<JsonProblem> problems;
  JsonReader reader(&problems);
  EXPECT_EQ(2, reader.IntegerInRange(json(2), "/s", 0, 3, "score"));
  EXPECT_FALSE(reader.IntegerInRange(json(5), "/s", 0, 3, "score"));
  EXPECT_EQ(0.5, reader.NumberInRange(json(0.5), "/e/weight", 0, 1));
  EXPECT_FALSE(reader.NumberInRange(json(2), "/e/weight", 0, 1));
  ASSERT_EQ(2u, problems.size());
  EXPECT_EQ("/s: score 5 is out of range 0-3", problems[0].ToString());
  EXPECT_EQ("/e/weight: 'weight' 2 is out of range 0-1", problems[1].ToString());
}

TEST(JsonReader, ObjectAndArrayReportTheirType) {
  std::vector<JsonProblem> problems;
  JsonReader reader(&problems);
  EXPECT_EQ(nullptr, reader.Object(json::array(), "/p"));
  EXPECT_EQ(nullptr, reader.Array(json::object(), "/l"));
  ASSERT_EQ(2u, problems.size());
  EXPECT_EQ("/p: expected an object, got an array", problems[0].ToString());
  EXPECT_EQ("/l: expected an array, got an object", problems[1].ToString());
}

TEST(StrictJson, ReportsDuplicateKeysByPath) {
  StrictJson parsed = ParseJsonStrict(R"({"a": [{"b": 1, "b": 2}], "a": 3})");
  EXPECT_FALSE(parsed.syntax_error);
  EXPECT_EQ((std::vector<std::string>{"/a/0/b", "/a"}), parsed.duplicate_keys);
}

TEST(ParseJsonDocument, NamesTheSourceAndEveryDuplicateKey) {
  auto parsed = ParseJsonDocument(R"({"a": {"b": 1, "b": 2}, "a": 3})", "f.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, parsed.status().code());
  EXPECT_EQ("f.json: /a/b: duplicate key 'b': the earlier value would be lost\n"
            "f.json: /a: duplicate key 'a': the earlier value would be lost",
            parsed.status().message());
}

TEST(ParseJsonDocument, SyntaxErrorNamesLineAndColumn) {
  auto parsed = ParseJsonDocument("{\n  \"a\": x}", "f.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(0u, parsed.status().message().rfind("f.json:2:8: not valid JSON: syntax error", 0))
      << parsed.status().message();
}

TEST(ParseJsonDocument, ReturnsTheValue) {
  auto parsed = ParseJsonDocument(R"({"a": [1, 2]})", "f.json");
  ASSERT_OK(parsed);
  EXPECT_EQ(2, (*parsed)["a"][1].get<int>());
}

}  // namespace
}  // namespace nflux
