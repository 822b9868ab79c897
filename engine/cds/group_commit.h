// Internal: group commit of the service's store writes. The writes that arrive while one transaction
// is being written go into the next one together, as leveldb's DBImpl::Write batches concurrent
// writers: the first waiting writer leads, runs every queued write inside one store batch (each
// still all or nothing: a savepoint), commits once, and wakes the others with their own status.
// A transaction per hook call was most of what storing cost the service.
//
// Thread-safety: Write() may be called from many threads; only the leader touches the store, on a
// connection it leases from the pool for its group.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "base/status.h"
#include "store/store.h"

namespace nflux::cds {

class GroupCommit {
 public:
  // Borrows the pool; it must outlive this. `max_group`: writes per transaction at most.
  explicit GroupCommit(store::StorePool& stores, size_t max_group = 64);

  // Runs `write` on the store inside a transaction shared with the writes queued beside it and
  // returns once that transaction is committed: `write`'s own error, or the commit's.
  Status Write(const std::function<Status(store::Store&)>& write);

  // Transactions committed or attempted so far, and writes queued now (the leader's included).
  size_t transactions() const;
  size_t waiting() const;

 private:
  struct Writer;
  // The leader's work: one batch for `group`, each write's status set.
  void WriteGroup(const std::vector<Writer*>& group);

  store::StorePool& stores_;
  const size_t max_group_;
  mutable std::mutex queue_mutex_;
  std::deque<Writer*> queue_;  // the front writer leads
  size_t transactions_ = 0;    // under queue_mutex_
};

}  // namespace nflux::cds
