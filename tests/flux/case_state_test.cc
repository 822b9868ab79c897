// Model::IndicesWith: a strategy tried on a case's kept state gives bit for bit the indices of a
// full Compute() with the strategy applied, for every strategy on every golden case (the pipeline's
// predicted effects and the what-if ranking rest on this); Compute() without contributions gives
// those with them.
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/text.h"
#include "flux/flux.h"
#include "pipeline/pipeline.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::flux {
namespace {

std::vector<std::string> Strategies(const knowledge::KnowledgeBase& kb) {
  std::vector<std::string> ids;
  for (const auto& node : kb.nodes())
    if (node.kind == knowledge::NodeKind::kStrategy) ids.push_back(node.id);
  return ids;
}

// Every golden case that parses (those of bad input do not), with its path.
std::vector<std::pair<std::string, casefile::Case>> ParsedGoldenCases(const pipeline::Pipeline& shipped) {
  std::vector<std::pair<std::string, casefile::Case>> out;
  for (const auto& file : nflux::testing::GoldenCaseFiles()) {
    const std::string path = file.string();
    auto text = ReadFileToString(path);
    EXPECT_TRUE(text.ok()) << path;
    if (!text.ok()) continue;
    auto parsed = shipped.ParseCase(*text, path);
    if (parsed.ok()) out.emplace_back(path, std::move(parsed).value());
  }
  return out;
}

TEST(CaseState, IndicesWithAreComputeWithTheStrategyBitForBit) {
  const auto& shipped = testing::ShippedPipeline();
  const Model& model = shipped.flux_model();
  const auto strategies = Strategies(shipped.knowledge());
  ASSERT_FALSE(strategies.empty());
  int compared = 0, moved = 0;
  for (const auto& [path, parsed] : ParsedGoldenCases(shipped)) {
    ComputeOptions plain;
    plain.contributions = false;
    CaseState state;
    auto before = model.Compute(parsed, plain, &state);
    ASSERT_OK(before);
    for (const auto& strategy : strategies) {
      ComputeOptions with = plain;
      with.apply_strategies = {strategy};
      auto full = model.Compute(parsed, with);
      ASSERT_OK(full);
      auto fast = model.IndicesWith(state, strategy);
      ASSERT_OK(fast);
      ASSERT_EQ(fast->size(), full->pathways.size());
      for (size_t k = 0; k < fast->size(); ++k) {
        for (size_t x = 0; x < kIndexCount; ++x) {
          // Exact equality: the same sums in the same order, not merely close.
          EXPECT_EQ((*fast)[k][x], full->pathways[k].index[x]) << path << " " << strategy << " " << k << " " << x;
          moved += (*fast)[k][x] != before->pathways[k].index[x];
        }
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 100);
  EXPECT_GT(moved, 0);  // some strategy changes some index, so the comparison means something
}

// Without contributions the model keeps no state per input, only the total: the same sums in the
// same order, so the same indices bit for bit as with them, on every golden case.
TEST(CaseState, ComputeWithoutContributionsGivesTheSameIndicesBitForBit) {
  const auto& shipped = testing::ShippedPipeline();
  const Model& model = shipped.flux_model();
  int compared = 0;
  for (const auto& [path, parsed] : ParsedGoldenCases(shipped)) {
    ComputeOptions plain;
    plain.contributions = false;
    auto lean = model.Compute(parsed, plain);
    auto full = model.Compute(parsed, ComputeOptions{});
    ASSERT_OK(lean);
    ASSERT_OK(full);
    ASSERT_EQ(lean->pathways.size(), full->pathways.size());
    for (size_t k = 0; k < lean->pathways.size(); ++k)
      for (size_t x = 0; x < kIndexCount; ++x)
        EXPECT_EQ(lean->pathways[k].index[x], full->pathways[k].index[x]) << path << " " << k << " " << x;
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

TEST(CaseState, UnknownStrategyIsInvalidArgument) {
  const auto& shipped = testing::ShippedPipeline();
  auto parsed = shipped.ParseCase(R"({"case_id": "x", "patient": {"sex": "female", "age_years": 40}})", "x.json");
  ASSERT_OK(parsed);
  CaseState state;
  ASSERT_OK(shipped.flux_model().Compute(*parsed, {}, &state));
  auto result = shipped.flux_model().IndicesWith(state, "no_such_strategy");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "unknown strategy 'no_such_strategy'");
}

}  // namespace
}  // namespace nflux::flux
