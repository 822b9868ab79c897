// Every bundle of tests/fhir/bundles evaluated through the pipeline gives the same conclusions as
// its case: examples/NAME.json for an example's bundle, bundles/NAME.case.json for a messy one,
// whose notes must also be exactly bundles/NAME.notes.json ("path | severity | code | message").
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "base/text.h"
#include "pipeline/pipeline.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using nflux::testing::ShippedPipeline;

const fs::path kBundles = fs::path(NFLUX_SOURCE_DIR) / "tests" / "fhir" / "bundles";

std::string Read(const fs::path& path) {
  auto text = ReadFileToString(path.string());
  EXPECT_OK(text);
  return text.ok() ? *text : "";
}

// What a clinician acts on: alerts, drivers and deficits with certainty, strategies, blocked
// strategies and supplement verdicts; with the labs and questionnaires as scored.
ordered_json Conclusions(const ordered_json& report) {
  ordered_json out;
  auto pick = [&](const char* list, std::vector<const char*> keys) {
    out[list] = ordered_json::array();
    for (const auto& item : report[list]) {
      ordered_json kept;
      for (const char* key : keys)
        if (item.contains(key)) kept[key] = item[key];
      out[list].push_back(kept);
    }
  };
  pick("alerts", {"id", "severity"});
  pick("drivers", {"id", "certainty"});
  pick("deficits", {"id", "certainty"});
  pick("strategies", {"id", "kind", "verdict"});
  pick("blocked_strategies", {"id"});
  pick("requested_supplements", {"id", "verdict"});
  pick("questionnaires", {"id", "total", "band"});
  pick("labs", {"test", "value", "unit", "status", "used"});
  pick("derived", {"id", "value", "status"});
  return out;
}

ordered_json Evaluate(const std::string& text, const std::string& name) {
  pipeline::EvaluationOptions options;
  options.source_name = name;
  auto result = ShippedPipeline().Evaluate(text, options);
  EXPECT_OK(result);
  return result.ok() ? ShippedPipeline().ReportJson(*result) : ordered_json();
}

// The FHIR notes of a report: data_quality entries whose path is a FHIR path.
std::vector<std::string> FhirNotes(const ordered_json& report) {
  std::vector<std::string> notes;
  for (const auto& issue : report["data_quality"]) {
    const std::string path = issue["path"];
    if (path.empty() || path[0] == '/') continue;
    notes.push_back(path + " | " + issue["severity"].get<std::string>() + " | " + issue["code"].get<std::string>() +
                    " | " + issue["message"].get<std::string>());
  }
  return notes;
}

// The bundles (NAME.json), or with `pinned` only those with a NAME.notes.json.
std::vector<std::string> Bundles(bool pinned = false) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kBundles)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".json") || name.ends_with(".case.json") || name.ends_with(".notes.json")) continue;
    const std::string stem = name.substr(0, name.size() - 5);
    if (!pinned || fs::exists(kBundles / (stem + ".notes.json"))) names.push_back(stem);
  }
  std::sort(names.begin(), names.end());
  return names;
}

class FhirBundle : public ::testing::TestWithParam<std::string> {};

TEST_P(FhirBundle, SameConclusionsAsItsCase) {
  const std::string name = GetParam();
  const fs::path example = fs::path(NFLUX_SOURCE_DIR) / "examples" / (name + ".json");
  const fs::path own_case = kBundles / (name + ".case.json");
  const fs::path case_path = fs::exists(own_case) ? own_case : example;
  ASSERT_TRUE(fs::exists(case_path)) << "no case for bundle " << name << ": add " << own_case;
  const ordered_json from_bundle = Evaluate(Read(kBundles / (name + ".json")), name + ".json");
  const ordered_json from_case = Evaluate(Read(case_path), case_path.filename().string());
  EXPECT_EQ(Conclusions(from_bundle).dump(1), Conclusions(from_case).dump(1));
}

INSTANTIATE_TEST_SUITE_P(Bundles, FhirBundle, ::testing::ValuesIn(Bundles()),
                         [](const auto& info) { return info.param; });

class MessyFhirBundle : public ::testing::TestWithParam<std::string> {};

TEST_P(MessyFhirBundle, NotesAreTheExpectedOnes) {
  const std::string name = GetParam();
  const fs::path expected_path = kBundles / (name + ".notes.json");
  const ordered_json report = Evaluate(Read(kBundles / (name + ".json")), name + ".json");
  const auto expected = nlohmann::json::parse(Read(expected_path)).get<std::vector<std::string>>();
  EXPECT_EQ(Join(FhirNotes(report), "\n"), Join(expected, "\n"));
}

INSTANTIATE_TEST_SUITE_P(Messy, MessyFhirBundle, ::testing::ValuesIn(Bundles(true)),
                         [](const auto& info) { return info.param; });

TEST(FhirBundles, OneForEveryExampleAndMessyOnes) {
  EXPECT_GE(Bundles(true).size(), 3u);
  for (const auto& entry : fs::directory_iterator(fs::path(NFLUX_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".json") continue;
    EXPECT_TRUE(fs::exists(kBundles / entry.path().filename())) << "no bundle for " << entry.path().filename();
  }
}

}  // namespace
}  // namespace nflux
