// Releases: what may become active (validation), publishing and rolling back, the chain entries
// and Verify(), a run naming its release, and a Follower switching a service's pipeline whole.
#include "release/release.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "audit/audit.h"
#include "audit/audit_test_support.h"
#include "store/store.h"

namespace nflux::release {
namespace {

namespace fs = std::filesystem;

// A copy of the shipped knowledge and rules to change, and a store file, removed afterwards.
class ReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("nflux_release_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(NFLUX_SOURCE_DIR "/rules", dir_ / "rules", fs::copy_options::recursive);
    db_ = (dir_ / "nflux.db").string();
    auto opened = store::OpenStore(db_, store::Mode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  PublishOptions Options(const std::string& note) const {
    PublishOptions options;
    options.sources.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
    options.sources.rules_dir = (dir_ / "rules").string();
    options.actor = "au_cy";
    options.note = note;
    return options;
  }
  void AppendToRules(const std::string& file, const std::string& text) const {
    std::ofstream out(dir_ / "rules" / file, std::ios::app);
    out << text;
  }

  fs::path dir_;
  std::string db_;
  std::unique_ptr<store::Store> store_;
};

// A rule that suggests nothing new and fires on nothing any golden case has: a real change of the
// rule base (a new version) that every golden case still passes.
constexpr const char* kHarmlessRule = R"(
rule release_test_marker "Release test: a rule no case fires"
  cites stahl_2021_psychopharmacology
  when symptom low_mood >= 99
  then suggest deficit serotonin_synthesis certainty 0.1
end
)";

TEST_F(ReleaseTest, PublishValidatesStoresActivatesAndChains) {
  auto first = Publish(*store_, Options("first"));
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->release.id, 1);
  EXPECT_TRUE(first->release.active);
  EXPECT_GT(first->cases_passed, 100u);  // rules/tests: every golden case ran
  auto active = store_->ActiveRelease();
  ASSERT_TRUE(active.ok() && *active);
  EXPECT_EQ((*active)->id, 1);
  EXPECT_EQ((*active)->note, "first");
  EXPECT_EQ((*active)->actor, "au_cy");

  // The same content again is no new release.
  auto again = Publish(*store_, Options("again"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), "nothing to publish: the active release-1 has this knowledge and these rules");

  AppendToRules("serotonin.rules", kHarmlessRule);
  auto second = Publish(*store_, Options("second"));
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->release.id, 2);
  EXPECT_NE(second->release.rules_version, first->release.rules_version);
  EXPECT_EQ(second->release.knowledge_version, first->release.knowledge_version);

  auto list = store_->ListReleases();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_FALSE((*list)[0].active);
  EXPECT_TRUE((*list)[1].active);

  // Roll back: release-1 is active again; its publication is unchanged.
  auto rolled = Activate(*store_, 1, "adm_bo", "");
  ASSERT_TRUE(rolled.ok()) << rolled.status().message();
  active = store_->ActiveRelease();
  ASSERT_TRUE(active.ok() && *active);
  EXPECT_EQ((*active)->id, 1);
  EXPECT_EQ((*active)->published_at, first->release.published_at);

  auto entries = store_->AuditEntries();
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> subjects;
  for (const auto& e : *entries) subjects.push_back(e.kind + " " + e.subject + " by " + e.actor);
  EXPECT_EQ(subjects, (std::vector<std::string>{"release release-1 published by au_cy",
                                                "release release-1 activated by au_cy",
                                                "release release-2 published by au_cy",
                                                "release release-2 activated by au_cy",
                                                "release release-1 activated by adm_bo"}));
  auto report = store_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->releases, 5);  // two publications, three activations
}

TEST_F(ReleaseTest, ABrokenRuleBaseOrAFailingGoldenCaseIsNeverPublished) {
  AppendToRules("serotonin.rules", "\nrule broken \"no end\"\n  when symptom low_mood >= 2\n");
  auto broken = Publish(*store_, Options("broken"));
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(broken.status().message().starts_with("release refused: ")) << broken.status().message();
  EXPECT_NE(broken.status().message().find("serotonin.rules"), std::string::npos) << broken.status().message();

  // A rule that changes what the golden cases conclude: every failing case is named.
  fs::copy(NFLUX_SOURCE_DIR "/rules/serotonin.rules", dir_ / "rules" / "serotonin.rules",
           fs::copy_options::overwrite_existing);
  AppendToRules("serotonin.rules", R"(
rule release_test_everyone_low "Release test: a deficit for every case"
  cites stahl_2021_psychopharmacology
  when symptom low_mood >= 0
  then suggest deficit serotonin_synthesis certainty 0.9
end
)");
  auto failing = Publish(*store_, Options("failing"));
  ASSERT_FALSE(failing.ok());
  EXPECT_TRUE(failing.status().message().starts_with("release refused: ")) << failing.status().message();
  EXPECT_NE(failing.status().message().find("golden cases fail"), std::string::npos) << failing.status().message();

  auto list = store_->ListReleases();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  auto active = store_->ActiveRelease();
  ASSERT_TRUE(active.ok());
  EXPECT_FALSE(*active);
  EXPECT_FALSE(Activate(*store_, 1, "adm_bo", "").ok());
  EXPECT_EQ(Activate(*store_, 1, "adm_bo", "").status().message(), "release-1: no such release");
}

TEST_F(ReleaseTest, ARunOfAReleasePipelineNamesItsReleaseAndVerifyCoversIt) {
  ASSERT_TRUE(Publish(*store_, Options("first")).ok());
  auto active = store_->ActiveRelease();
  ASSERT_TRUE(active.ok() && *active);
  auto pipeline = OpenRelease(*store_, **active, "");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().message();
  EXPECT_EQ((*pipeline)->sources().release_id, 1);
  audit::RecordOptions record{.case_id = "c-1", .actor = "dr_lee", .origin = "test", .evaluation = {}};
  auto recorded = audit::EvaluateAndStore(**pipeline, *store_, nflux::testing::GoldenCaseText("linezolid_with_ssri"),
                                          record);
  ASSERT_TRUE(recorded.ok()) << recorded.status().message();
  auto run = store_->GetRun(recorded->run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->summary.release_id, 1);
  auto report = store_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems.front();

  // The release id is part of the run's hash, and a release's note part of the release's.
  store_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(raw, "UPDATE runs SET release_id = 2; UPDATE releases SET note = 'changed'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto reopened = store::OpenStore(db_, store::Mode::kReadOnly);
  ASSERT_TRUE(reopened.ok());
  report = (*reopened)->Verify();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 2u);
  EXPECT_TRUE(report->problems[0].starts_with("run-1: content hash")) << report->problems[0];
  EXPECT_TRUE(report->problems[1].starts_with("release-1: content hash")) << report->problems[1];
}

TEST_F(ReleaseTest, AFollowerSwitchesWholeAndARequestKeepsItsPipeline) {
  ASSERT_TRUE(Publish(*store_, Options("first")).ok());
  std::vector<std::string> log;
  std::mutex log_mutex;
  auto follower = Follower::Start({.location = db_,
                                   .interval = std::chrono::milliseconds(20),
                                   .log = [&](const std::string& line) {
                                     std::lock_guard lock(log_mutex);
                                     log.push_back(line);
                                   }});
  ASSERT_TRUE(follower.ok()) << follower.status().message();
  EXPECT_EQ((*follower)->current_release(), 1);
  std::shared_ptr<const pipeline::Pipeline> in_flight = (*follower)->handle()->Get();  // a request under way
  const std::string old_rules = in_flight->rule_base().version;

  AppendToRules("serotonin.rules", kHarmlessRule);
  ASSERT_TRUE(Publish(*store_, Options("second")).ok());
  for (int i = 0; i < 500 && (*follower)->current_release() != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ((*follower)->current_release(), 2);
  auto now = (*follower)->handle()->Get();
  EXPECT_EQ(now->sources().release_id, 2);
  EXPECT_NE(now->rule_base().version, old_rules);
  // The request that started before the switch still has the whole old pipeline.
  EXPECT_EQ(in_flight->sources().release_id, 1);
  EXPECT_EQ(in_flight->rule_base().version, old_rules);
  std::lock_guard lock(log_mutex);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].starts_with("switched from release-1 to release-2 (opened in ")) << log[0];
}

TEST_F(ReleaseTest, AFollowerNeedsAPublishedRelease) {
  auto follower = Follower::Start({.location = db_});
  ASSERT_FALSE(follower.ok());
  EXPECT_EQ(follower.status().message(), db_ + ": no release has been published (run 'nflux release publish')");
}

}  // namespace
}  // namespace nflux::release
