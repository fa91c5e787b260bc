#include "worker/worker_pool.h"

#include <algorithm>

namespace warden::worker {

WorkerPool::WorkerPool(Options options)
    : options_{std::max<size_t>(options.threads, 1),
               std::max<size_t>(options.max_jobs, 1)},
      jobs_(std::make_shared<std::atomic<size_t>>(0)),
      pool_(options_.threads) {}

WorkerPool::~WorkerPool() { pool_.join(); }

}  // namespace warden::worker
