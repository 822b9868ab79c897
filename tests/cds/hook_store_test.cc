// The store's CDS Hooks part (schema 3): a hook run found by its hookInstance, its cards, feedback
// stored with the card's run and chained, tampering and deletion found by Verify().
#include <gtest/gtest.h>

#include "store/store.h"
#include "store/store_test_support.h"
#include "testutil.h"

namespace nflux::store {
namespace {

using testing::OpenOrFail;
using testing::RawConnection;
using testing::SampleRun;
using testing::TempDatabase;

int64_t StoreHookRun(Store& store, const std::string& hook_instance, std::vector<std::string> cards) {
  RunToStore run = SampleRun("c-1", 1);
  run.origin = "hook neuroflux-patient-view " + hook_instance;
  run.hook_instance = hook_instance;
  run.hook_cards = std::move(cards);
  auto id = store.SaveRun(std::move(run));
  EXPECT_OK(id);
  return id.ok() ? *id : 0;
}

Feedback Outcome(const std::string& card, const std::string& outcome) {
  Feedback feedback;
  feedback.card = card;
  feedback.outcome = outcome;
  feedback.outcome_timestamp = "2026-11-29T10:00:00Z";
  feedback.detail = R"({"card":")" + card + R"(","outcome":")" + outcome + R"("})";
  feedback.actor = "nflux serve (tester)";
  return feedback;
}

TEST(StoreHooks, RunsAreFoundByHookInstanceAndFeedbackByCard) {
  TempDatabase temp;
  auto store = OpenOrFail(temp.path());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddCaseVersion({.case_id = "c-1", .submitted = "{}", .normalised = "{}"}, {}));
  int64_t first = StoreHookRun(*store, "hook-a", {"card-1", "card-2"});
  int64_t second = StoreHookRun(*store, "hook-b", {"card-3"});
  auto found = store->FindHookRun("hook-b");
  ASSERT_OK(found);
  EXPECT_EQ(*found, std::optional<int64_t>(second));
  auto none = store->FindHookRun("hook-z");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  auto plain = store->SaveRun(SampleRun("c-1", 1));  // not a hook run: never found by an empty instance
  ASSERT_OK(plain);
  EXPECT_FALSE(store->FindHookRun("")->has_value());

  auto saved = store->SaveFeedback(Outcome("card-2", "overridden"));
  ASSERT_OK(saved);
  EXPECT_EQ(saved->run_id, first);
  EXPECT_EQ(saved->id, 1);
  EXPECT_EQ(saved->content_hash.rfind("sha256:", 0), 0u);
  ASSERT_OK(store->SaveFeedback(Outcome("card-3", "accepted")));
  auto listed = store->ListFeedback(first);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].card, "card-2");
  EXPECT_EQ((*listed)[0].outcome, "overridden");
  EXPECT_EQ((*listed)[0].detail, R"({"card":"card-2","outcome":"overridden"})");

  auto entries_before = store->AuditEntries();
  auto unknown = store->SaveFeedback(Outcome("card-9", "accepted"));
  EXPECT_EQ(unknown.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(unknown.status().message(), "card card-9: no stored hook run answered it");
  EXPECT_EQ(store->AuditEntries()->size(), entries_before->size());

  auto audit = store->AuditEntries();
  ASSERT_OK(audit);
  EXPECT_EQ(audit->back().kind, "feedback");
  EXPECT_EQ(audit->back().subject, "run-2 feedback 2");
  auto report = store->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->problems[0];
  EXPECT_EQ(report->feedback, 2);
}

TEST(StoreHooks, ACardUuidTakenTwiceStoresNothing) {
  TempDatabase temp;
  auto store = OpenOrFail(temp.path());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddCaseVersion({.case_id = "c-1", .submitted = "{}", .normalised = "{}"}, {}));
  StoreHookRun(*store, "hook-a", {"card-1"});
  RunToStore again = SampleRun("c-1", 1);
  again.hook_instance = "hook-b";
  again.hook_cards = {"card-1"};
  EXPECT_FALSE(store->SaveRun(std::move(again)).ok());
  EXPECT_EQ(store->ListRuns(std::nullopt)->size(), 1u);  // the run went with its cards
  EXPECT_TRUE(store->Verify()->ok());
}

TEST(StoreHooks, VerifyFindsChangedAndDeletedFeedback) {
  TempDatabase temp;
  {
    auto store = OpenOrFail(temp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->AddCaseVersion({.case_id = "c-1", .submitted = "{}", .normalised = "{}"}, {}));
    StoreHookRun(*store, "hook-a", {"card-1", "card-2"});
    ASSERT_OK(store->SaveFeedback(Outcome("card-1", "overridden")));
    ASSERT_OK(store->SaveFeedback(Outcome("card-2", "accepted")));
  }
  RawConnection raw(temp.path());
  raw.Exec("UPDATE hook_feedback SET outcome = 'accepted' WHERE id = 1");
  raw.Exec("DELETE FROM hook_feedback WHERE id = 2");
  auto store = OpenOrFail(temp.path(), Mode::kReadOnly);
  ASSERT_NE(store, nullptr);
  auto report = store->Verify();
  ASSERT_OK(report);
  ASSERT_EQ(report->problems.size(), 2u);
  EXPECT_EQ(report->problems[0], "run-1 feedback 2: deleted (audit entry 4 records it with content hash " +
                                     store->AuditEntries()->at(3).content_hash + ")");
  EXPECT_NE(report->problems[1].find("run-1 feedback 1: content hash sha256:"), std::string::npos) << report->problems[1];
  EXPECT_NE(report->problems[1].find("does not match the stored feedback"), std::string::npos);
}

}  // namespace
}  // namespace nflux::store
