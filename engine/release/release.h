// Releases: one knowledge + rule version for every service replica (`nflux release`, `nflux serve
// --from-release`). The store keeps releases (store::Release); this module decides what may become
// one and keeps a running service on the active one.
//
//   auto published = release::Publish(*store, {.sources = options, .actor = "au_cy", .note = "..."});
//   auto follower = release::Follower::Start({.location = db_url});   // a replica
//   service.Handle(request) ... follower->handle().Get() ...          // the pipeline of this request
//
// Validation. A release is published only when its folders open without a knowledge problem or a
// rule error and every golden case of its rules (<rules>/tests) passes; an earlier release is
// activated again only when its stored content still opens. So a version that fails validation
// never becomes active, and a replica never has to refuse the active release.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nflux::release {

struct PublishOptions {
  pipeline::Options sources;  // the knowledge and rules folders (snapshot_dir honoured)
  std::string tests_dir = {};  // the golden cases it must pass; "": <rules_dir>/tests when it exists
  std::string actor = {};      // the account publishing
  std::string note = {};       // what changed
};

struct Published {
  store::Release release;
  size_t cases_passed = 0;  // golden cases run and passed
};

// Validates the folders (above) and publishes them as the new active release. Errors: the
// pipeline's for folders that do not open (every problem listed); InvalidArgument "release refused:
// N of M golden cases fail" with each failing case and its first failure; InvalidArgument "nothing
// to publish" when the active release has the same knowledge and rules; the store's.
Result<Published> Publish(store::Store& store, const PublishOptions& options);

// A pipeline on a stored release's knowledge and rules (Sources::release_id = its id), through the
// snapshot cache in `snapshot_dir` ("": none). Errors: the store's; the pipeline's when the stored
// content no longer opens.
Result<std::unique_ptr<pipeline::Pipeline>> OpenRelease(const store::Store& store, const store::Release& release,
                                                        const std::string& snapshot_dir);

// Makes an earlier release active again after checking that it opens. NotFound for an unknown id.
Result<store::Release> Activate(store::Store& store, int64_t release_id, const std::string& actor,
                                const std::string& snapshot_dir);

// Keeps a service on the active release. Start() opens the store and the active release (NotFound
// when none was published); a thread then polls the store every `interval`, and when another
// release is active it opens it there, off the request path, and swaps it into handle() whole.
// A release that cannot be opened (the store unreachable, content that no longer opens) is logged
// and the current one kept; the next poll tries again. Thread-safe.
class Follower {
 public:
  struct Options {
    std::string location;  // the store (a PostgreSQL URL for replicas; a SQLite path works too)
    std::chrono::milliseconds interval{1000};
    std::string snapshot_dir = {};
    std::function<void(const std::string&)> log = {};  // one line per switch or failure
  };
  static Result<std::unique_ptr<Follower>> Start(Options options);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  const std::shared_ptr<pipeline::PipelineHandle>& handle() const { return handle_; }
  int64_t current_release() const { return current_.load(); }

 private:
  Follower(Options options, std::unique_ptr<store::Store> store, int64_t active_id,
           std::shared_ptr<pipeline::PipelineHandle> handle);
  void Poll();  // the thread: until stopped, every interval
  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  Options options_;
  std::unique_ptr<store::Store> store_;  // the polling thread's own connection
  std::shared_ptr<pipeline::PipelineHandle> handle_;
  std::atomic<int64_t> current_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nflux::release
