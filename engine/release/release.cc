#include "release/release.h"

#include <pthread.h>

#include <csignal>
#include <filesystem>

#include "audit/audit.h"
#include "golden/golden.h"

namespace nflux::release {
namespace {

// Every golden case of `dir` run through `pipeline`; the failures as one InvalidArgument.
Result<size_t> RunGoldenCases(const pipeline::Pipeline& pipeline, const std::string& dir) {
  auto names = golden::FindCases(dir);
  if (!names.ok()) return names.status();
  std::string failures;
  size_t failed = 0;
  for (const auto& name : *names) {
    golden::CaseRun run = golden::RunCase(pipeline, dir, name);
    if (run.passed()) continue;
    ++failed;
    failures += "\n  " + dir + "/" + name + ".case.json: " + run.failures.front();
    if (run.failures.size() > 1) failures += " (and " + std::to_string(run.failures.size() - 1) + " more)";
  }
  if (failed > 0)
    return Status::InvalidArgument("release refused: " + std::to_string(failed) + " of " +
                                   std::to_string(names->size()) + " golden cases fail (run 'nflux rules test'):" +
                                   failures);
  return names->size();
}

}  // namespace

Result<Published> Publish(store::Store& store, const PublishOptions& options) {
  pipeline::Options sources = options.sources;
  sources.from_db = false;  // a release is made from folders, never from another build
  auto opened = pipeline::Pipeline::Open(sources);
  if (!opened.ok()) return opened.status().WithContext("release refused");
  std::string tests_dir = options.tests_dir;
  std::error_code error;
  if (tests_dir.empty() && std::filesystem::is_directory(sources.rules_dir + "/tests", error))
    tests_dir = sources.rules_dir + "/tests";
  Published out;
  if (!tests_dir.empty()) {
    auto passed = RunGoldenCases(**opened, tests_dir);
    if (!passed.ok()) return passed.status();
    out.cases_passed = *passed;
  }
  audit::RunBundles bundles = audit::BundlesOf(**opened);
  auto active = store.ActiveRelease();
  if (!active.ok()) return active.status();
  if (*active && (*active)->knowledge_version == bundles.knowledge.version &&
      (*active)->rules_version == bundles.rules.version)
    return Status::InvalidArgument("nothing to publish: the active " + store::ReleaseName((*active)->id) +
                                   " has this knowledge and these rules");
  auto published = store.PublishRelease({.actor = options.actor, .note = options.note}, bundles.knowledge,
                                        bundles.rules);
  if (!published.ok()) return published.status();
  out.release = std::move(published).value();
  return out;
}

Result<std::unique_ptr<pipeline::Pipeline>> OpenRelease(const store::Store& store, const store::Release& release,
                                                        const std::string& snapshot_dir) {
  auto knowledge = store.GetBundle(store::BundleKind::kKnowledge, release.knowledge_version);
  if (!knowledge.ok()) return knowledge.status();
  auto rules = store.GetBundle(store::BundleKind::kRules, release.rules_version);
  if (!rules.ok()) return rules.status();
  pipeline::Sources sources;
  sources.knowledge = pipeline::KnowledgeFilesOf(std::move(knowledge).value());
  sources.rules = pipeline::RuleFilesOf(std::move(rules).value());
  sources.rules_dir = store.Describe() + " (" + store::ReleaseName(release.id) + ")";
  sources.release_id = release.id;
  auto opened = pipeline::Pipeline::OpenFromSources(std::move(sources), snapshot_dir);
  if (!opened.ok()) return opened.status().WithContext(store::ReleaseName(release.id) + " does not open");
  return opened;
}

Result<store::Release> Activate(store::Store& store, int64_t release_id, const std::string& actor,
                                const std::string& snapshot_dir) {
  auto releases = store.ListReleases();
  if (!releases.ok()) return releases.status();
  const store::Release* wanted = nullptr;
  for (const auto& release : *releases)
    if (release.id == release_id) wanted = &release;
  if (!wanted) return Status::NotFound(store::ReleaseName(release_id) + ": no such release");
  if (auto opened = OpenRelease(store, *wanted, snapshot_dir); !opened.ok()) return opened.status();
  return store.ActivateRelease(release_id, actor);
}

Result<std::unique_ptr<Follower>> Follower::Start(Options options) {
  auto store = store::OpenStore(options.location, store::Mode::kReadOnly);
  if (!store.ok()) return store.status();
  auto active = (*store)->ActiveRelease();
  if (!active.ok()) return active.status();
  if (!*active)
    return Status::NotFound((*store)->Describe() + ": no release has been published (run 'nflux release publish')");
  auto opened = OpenRelease(**store, **active, options.snapshot_dir);
  if (!opened.ok()) return opened.status();
  auto handle = std::make_shared<pipeline::PipelineHandle>(std::shared_ptr<const pipeline::Pipeline>(std::move(*opened)));
  return std::unique_ptr<Follower>(
      new Follower(std::move(options), std::move(store).value(), (*active)->id, std::move(handle)));
}

Follower::Follower(Options options, std::unique_ptr<store::Store> store, int64_t active_id,
                   std::shared_ptr<pipeline::PipelineHandle> handle)
    : options_(std::move(options)), store_(std::move(store)), handle_(std::move(handle)), current_(active_id) {
  thread_ = std::thread([this] { Poll(); });
}

Follower::~Follower() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Follower::Poll() {
  // Signals are the service's (server::StopOnSignals waits for SIGTERM on a thread of its own): this
  // thread, started before that one, must never take them, else a SIGTERM would end the process
  // with requests in flight instead of stopping the server.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
    lock.unlock();
    auto active = store_->ActiveRelease();
    if (!active.ok()) {
      Log("release check failed (keeping " + store::ReleaseName(current_) + "): " + active.status().message());
    } else if (*active && (*active)->id != current_) {
      auto started = std::chrono::steady_clock::now();
      auto opened = OpenRelease(*store_, **active, options_.snapshot_dir);
      if (!opened.ok()) {
        Log("cannot switch to " + store::ReleaseName((*active)->id) + " (keeping " + store::ReleaseName(current_) +
            "): " + opened.status().message());
      } else {
        handle_->Set(std::shared_ptr<const pipeline::Pipeline>(std::move(*opened)));
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        Log("switched from " + store::ReleaseName(current_) + " to " + store::ReleaseName((*active)->id) + " (opened in " +
            std::to_string(took.count()) + " ms)");
        current_ = (*active)->id;
      }
    }
    lock.lock();
  }
}

}  // namespace nflux::release
