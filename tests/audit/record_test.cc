// Recording through a real store on each backend (SQLite in memory; a fresh PostgreSQL schema):
// case versions, runs, and a replay of a stored run.
#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_support.h"
#include "base/sha256.h"
#include "base/text.h"
#include "safety/safety_test_support.h"
#include "store/store_backend.h"
#include "testutil.h"

namespace nflux::audit {
namespace {

using testing::ShippedPipeline;

// Tests that store: each gets an empty store of its own on its backend (store_backend.h).
class AuditRecord : public store::testing::BackendTest {
 protected:
  std::unique_ptr<store::Store> OpenEmptyStore() const {
    return store::testing::OpenOrFail(backend() == store::testing::Backend::kSqlite ? ":memory:" : location());
  }
};
NFLUX_ON_EVERY_BACKEND(AuditRecord);

CaseStoreOptions With(StoreMode mode, const std::string& id, const std::string& source = "") {
  CaseStoreOptions options;
  options.mode = mode;
  options.case_id = id;
  options.source_name = source;
  return options;
}

RecordOptions RecordAs(const std::string& id) {
  RecordOptions options;
  options.case_id = id;
  return options;
}

const std::string kCase = R"({"patient": {"sex": "female", "age_years": 40}, "symptoms": {"low_mood": 2}})";
const std::string kCaseEdited = R"({"patient": {"sex": "female", "age_years": 40}, "symptoms": {"low_mood": 3}})";

TEST(AuditCaseIds, ExplicitOwnOrHashed) {
  auto parsed = ShippedPipeline().ParseCase(kCase, "c.json");
  ASSERT_OK(parsed);
  EXPECT_EQ(CaseIdFor(*parsed, kCase, "given"), "given");
  EXPECT_EQ(CaseIdFor(*parsed, kCase, ""), "case-" + Sha256Hex(kCase).substr(0, 12));
  parsed->case_id = "own";
  EXPECT_EQ(CaseIdFor(*parsed, kCase, ""), "own");
}

TEST_P(AuditRecord, AddEditAndVisitModes) {
  auto store = OpenEmptyStore();
  ASSERT_NE(store, nullptr);
  auto added = StoreCase(ShippedPipeline(), *store, kCase, With(StoreMode::kAdd, "c-1"));
  ASSERT_OK(added);
  EXPECT_TRUE(added->added);
  EXPECT_EQ(added->version.version, 1);
  EXPECT_EQ(added->version.submitted, kCase);
  auto parsed = ShippedPipeline().ParseCase(kCase, "");
  ASSERT_OK(parsed);
  EXPECT_EQ(added->version.normalised, casefile::CaseToJson(*parsed).dump());

  auto again = StoreCase(ShippedPipeline(), *store, kCase, With(StoreMode::kAdd, "c-1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kInvalidArgument);
  auto missing = StoreCase(ShippedPipeline(), *store, kCase, With(StoreMode::kEdit, "c-2"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);

  auto edited = StoreCase(ShippedPipeline(), *store, kCaseEdited, With(StoreMode::kEdit, "c-1"));
  ASSERT_OK(edited);
  EXPECT_EQ(edited->version.version, 2);
  auto unchanged = StoreCase(ShippedPipeline(), *store, kCaseEdited, With(StoreMode::kEdit, "c-1"));
  ASSERT_OK(unchanged);
  EXPECT_FALSE(unchanged->added);  // `case edit` with the latest text again: still version 2
  EXPECT_EQ(unchanged->version.version, 2);
  auto same = StoreCase(ShippedPipeline(), *store, kCaseEdited, With(StoreMode::kVisit, "c-1"));
  ASSERT_OK(same);
  EXPECT_FALSE(same->added);  // the latest text again: no new version
  EXPECT_EQ(same->version.version, 2);
  auto visit = StoreCase(ShippedPipeline(), *store, kCase, With(StoreMode::kVisit, "c-1"));
  ASSERT_OK(visit);
  EXPECT_EQ(visit->version.version, 3);
  ASSERT_OK(StoreCase(ShippedPipeline(), *store, kCase, With(StoreMode::kAdd, "a-0")));

  auto latest = LatestCaseVersions(*store);
  ASSERT_OK(latest);
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0].case_id, "a-0");
  EXPECT_EQ((*latest)[1].case_id, "c-1");
  EXPECT_EQ((*latest)[1].version, 3);
}

TEST_P(AuditRecord, ABadCaseIsRefusedAsEvaluateRefusesItAndNothingIsStored) {
  auto store = OpenEmptyStore();
  ASSERT_NE(store, nullptr);
  const std::string bad = R"({"patient": {"sex": "female", "age_years": 40}, "labs": [{"test": "ferritin", "value": 5, "unit": "mg/dq"}]})";
  auto stored = StoreCase(ShippedPipeline(), *store, bad, With(StoreMode::kAdd, "c-1", "bad.json"));
  ASSERT_FALSE(stored.ok());
  pipeline::EvaluationOptions evaluate_options;
  evaluate_options.source_name = "bad.json";
  auto evaluate = ShippedPipeline().Evaluate(bad, evaluate_options);
  ASSERT_FALSE(evaluate.ok());
  EXPECT_EQ(stored.status().message(), evaluate.status().message());
  EXPECT_TRUE(stored.status().message().starts_with("bad.json: /labs/0/unit: ")) << stored.status().message();
  auto recorded = EvaluateAndStore(ShippedPipeline(), *store, bad, RecordAs("c-1"));
  ASSERT_FALSE(recorded.ok());
  auto cases = store->ListCases();
  ASSERT_OK(cases);
  EXPECT_TRUE(cases->empty());
}

TEST_P(AuditRecord, EvaluateAndStoreThenReplayIsIdentical) {
  auto store = OpenEmptyStore();
  ASSERT_NE(store, nullptr);
  RecordOptions options;
  options.origin = "evaluate --save";
  options.actor = "tester";
  options.evaluation.source_name = "golden.case.json";
  options.evaluation.given_flux.values["serotonin.synthesis"] = 0.5;
  std::string text = testing::GoldenCaseText("flux_model_iron_b6_serotonin");
  auto recorded = EvaluateAndStore(ShippedPipeline(), *store, text, options);
  ASSERT_OK(recorded);
  EXPECT_EQ(recorded->case_version.case_id, "golden-flux-model-iron-b6-serotonin");
  EXPECT_EQ(recorded->report["trace_id"], store::RunName(recorded->run_id));

  auto run = store->GetRun(recorded->run_id);
  ASSERT_OK(run);
  EXPECT_EQ(run->summary.origin, "evaluate --save");
  EXPECT_EQ(run->summary.rules_version, ShippedPipeline().rule_base().version);
  EXPECT_EQ(run->summary.knowledge_version, ShippedPipeline().knowledge().version());
  EXPECT_EQ(run->evaluation.dump(), recorded->report.dump());
  EXPECT_EQ(run->trace.dump(), nlohmann::ordered_json(recorded->result.evaluation.trace.ToJson()).dump());
  EXPECT_EQ(run->options["flux"]["serotonin.synthesis"], 0.5);

  // The same text again: the same case version, a second run.
  auto second = EvaluateAndStore(ShippedPipeline(), *store, text, options);
  ASSERT_OK(second);
  EXPECT_EQ(second->case_version.version, recorded->case_version.version);
  EXPECT_NE(second->run_id, recorded->run_id);

  auto replay = Replay(*store, recorded->run_id);
  ASSERT_OK(replay);
  EXPECT_TRUE(replay->identical()) << DiffToText(replay->diff);
}

TEST_P(AuditRecord, AStoredVersionEvaluatedAgainIsANewRunOfThatVersion) {
  auto store = OpenEmptyStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(StoreCase(ShippedPipeline(), *store, kCase, With(StoreMode::kAdd, "c-1")));
  ASSERT_OK(StoreCase(ShippedPipeline(), *store, kCaseEdited, With(StoreMode::kEdit, "c-1")));
  auto first = store->GetCaseVersion("c-1", 1);
  ASSERT_OK(first);
  RecordOptions options;
  options.origin = "run";
  options.evaluation.source_name = "case c-1 version 1";
  auto recorded = EvaluateStoredAndStore(ShippedPipeline(), *store, *first, options);
  ASSERT_OK(recorded);
  EXPECT_EQ(recorded->case_version.version, 1);
  auto run = store->GetRun(recorded->run_id);
  ASSERT_OK(run);
  EXPECT_EQ(run->summary.case_version, 1);
  auto versions = store->ListCaseVersions("c-1");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 2u);  // no new version
  auto replay = Replay(*store, recorded->run_id);
  ASSERT_OK(replay);
  EXPECT_TRUE(replay->identical()) << DiffToText(replay->diff);
}

TEST_P(AuditRecord, ARunWhoseStoredRulesNoLongerLoadIsAnErrorNamingIt) {
  auto store = OpenEmptyStore();
  ASSERT_NE(store, nullptr);
  auto version = StoreCase(ShippedPipeline(), *store, kCase, With(StoreMode::kVisit, "c-1"));
  ASSERT_OK(version);
  RunBundles bundles = BundlesOf(ShippedPipeline());
  bundles.rules.version = "sha256:an-old-build";
  bundles.rules.files = {{"old.rules", "rule from_an_old_build \"x\"\n  when nonsense\nend\n"}};
  store::RunToStore run{"c-1", 1, "tester", "run", "0.0.1", bundles.knowledge, bundles.rules,
                        nlohmann::ordered_json::object(), "{}", store::CompressText("{}", "the trace").value()};
  auto id = store->SaveRun(run);
  ASSERT_OK(id);
  auto replay = Replay(*store, *id);
  ASSERT_FALSE(replay.ok());
  EXPECT_TRUE(replay.status().message().starts_with(store::RunName(*id) + ": the stored knowledge or rules no longer load: "))
      << replay.status().message();
}

}  // namespace
}  // namespace nflux::audit
