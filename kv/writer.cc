#include "kv/writer.h"

#include "kv/lmdb_status.h"
#include "kv/namespace_db.h"

namespace isogate::kv {
namespace {

// Bounds one transaction's dirty pages and the latency of its callbacks.
constexpr size_t kMaxBatchOps = 8192;
constexpr size_t kMaxBatchBytes = 64 << 20;

}  // namespace

Writer::Writer(std::shared_ptr<LmdbEnv> env, std::chrono::milliseconds flush_interval)
    : env_(std::move(env)), flush_interval_(flush_interval), thread_([this] { run(); }) {}

Writer::~Writer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

bool Writer::enqueue(WriteOp op) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(op));
    wake = waiting_;
    waiting_ = false;
  }
  if (wake) cv_.notify_one();
  return true;
}

void Writer::run() {
  using Clock = std::chrono::steady_clock;
  bool unflushed = false;
  Clock::time_point last_flush = Clock::now();
  std::vector<WriteOp> batch;
  for (;;) {
    bool stop = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (queue_.empty() && !stopping_) {
        waiting_ = true;
        if (unflushed) {
          if (!cv_.wait_until(lock, last_flush + flush_interval_, [this] { return !waiting_ || stopping_; })) {
            waiting_ = false;
            break;  // time to flush
          }
        } else {
          cv_.wait(lock, [this] { return !waiting_ || stopping_; });
        }
        waiting_ = false;
      }
      stop = stopping_ && queue_.empty();
      size_t bytes = 0;
      while (!queue_.empty() && batch.size() < kMaxBatchOps && bytes < kMaxBatchBytes) {
        bytes += queue_.front().value.size() + queue_.front().key.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) {
      commit(batch);
      batch.clear();
      unflushed = flush_interval_.count() > 0;
    }
    if (unflushed && (stop || Clock::now() - last_flush >= flush_interval_)) {
      env_->sync();  // a failure here only delays durability; the next flush retries
      unflushed = false;
      last_flush = Clock::now();
    }
    if (stop) return;
  }
}

int Writer::apply(MDB_txn* txn, const WriteOp& op) {
  switch (op.kind) {
    case WriteOp::Kind::kPut:
      return putRecord(*env_, txn, op.ns, op.key, op.expiration,
                       op.metadata ? std::optional<std::string_view>(*op.metadata) : std::nullopt, op.value);
    case WriteOp::Kind::kRemove:
      return removeRecord(*env_, txn, op.ns, op.key, std::nullopt);
    case WriteOp::Kind::kRemoveIfExpired:
      return removeRecord(*env_, txn, op.ns, op.key, op.expiration);
  }
  return EINVAL;
}

Status Writer::failure(int rc) const {
  if (rc == MDB_MAP_FULL) {
    return Status(Status::Code::kStoreFull,
                  "write: the store is full: its map reached the cap of " +
                      std::to_string(env_->mapSize() >> 20) + " MiB");
  }
  return statusFromLmdb(rc, "write");
}

void Writer::commit(std::vector<WriteOp>& batch) {
  int rc = env_->write([&](MDB_txn* txn) {
    for (const WriteOp& op : batch) {
      int op_rc = apply(txn, op);
      if (op_rc != 0) return op_rc;
    }
    return 0;
  });
  if (rc == 0 || batch.size() == 1) {
    Status status = rc == 0 ? Status() : failure(rc);
    for (WriteOp& op : batch) {
      if (op.done) op.done(status);
    }
    return;
  }
  // Something in the batch cannot be applied: one transaction per op, so
  // the others still commit.
  for (WriteOp& op : batch) {
    int op_rc = env_->write([&](MDB_txn* txn) { return apply(txn, op); });
    if (op.done) op.done(op_rc == 0 ? Status() : failure(op_rc));
  }
}

}  // namespace isogate::kv
