#include "cds/group_commit.h"

#include <algorithm>

namespace nflux::cds {

struct GroupCommit::Writer {
  const std::function<Status(store::Store&)>* write;
  Status status = Status::Ok();
  bool done = false;
  std::condition_variable woken;
};

GroupCommit::GroupCommit(store::StorePool& stores, size_t max_group)
    : stores_(stores), max_group_(std::max<size_t>(1, max_group)) {}

Status GroupCommit::Write(const std::function<Status(store::Store&)>& write) {
  Writer self{&write, Status::Ok(), false, {}};
  std::unique_lock lock(queue_mutex_);
  queue_.push_back(&self);
  while (!self.done && &self != queue_.front()) self.woken.wait(lock);
  if (self.done) return self.status;  // a leader wrote it

  // Leader: take what is queued now; later arrivals wait for the next group.
  size_t count = std::min(queue_.size(), max_group_);
  std::vector<Writer*> group(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
  ++transactions_;
  lock.unlock();
  WriteGroup(group);
  lock.lock();
  for (size_t i = 0; i < count; ++i) {
    Writer* writer = queue_.front();
    queue_.pop_front();
    writer->done = true;
    if (writer != &self) writer->woken.notify_one();
  }
  if (!queue_.empty()) queue_.front()->woken.notify_one();  // the next leader
  return self.status;
}

size_t GroupCommit::transactions() const {
  std::lock_guard lock(queue_mutex_);
  return transactions_;
}

size_t GroupCommit::waiting() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

void GroupCommit::WriteGroup(const std::vector<Writer*>& group) {
  auto lease = stores_.Acquire();
  Status begun = lease.ok() ? (*lease)->BeginBatch() : lease.status();
  if (!begun.ok()) {
    for (Writer* writer : group) writer->status = begun;
    return;
  }
  store::Store& store = **lease;
  for (Writer* writer : group) writer->status = (*writer->write)(store);
  // A failed write left the batch as it was (its savepoint); the others commit.
  if (Status committed = store.CommitBatch(); !committed.ok())
    for (Writer* writer : group)
      if (writer->status.ok()) writer->status = committed;
}

}  // namespace nflux::cds
