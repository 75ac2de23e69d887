#pragma once
// Internal to kv/: the one writer thread of a Store, with group commit.
// Any thread enqueues; the writer takes everything queued (up to a batch
// cap), applies it in ONE write transaction, commits once, and then runs
// each op's callback on the writer thread. So a callback means: committed.
// In sync mode LMDB's commit has reached the disk by then; otherwise the
// writer flushes the env about once a second (and when it stops).
//
// If a batch fails (e.g. the map reached its cap), the ops are retried one
// transaction each, so only the ones that cannot be applied report an error.
// Owned by the Store; the destructor commits what is still queued, runs the
// callbacks and joins.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kv/lmdb_env.h"
#include "kv/status.h"

namespace isogate::kv {

struct WriteOp {
  enum class Kind : uint8_t { kPut, kRemove, kRemoveIfExpired };
  Kind kind = Kind::kPut;
  std::string ns;  // namespace name
  std::string key;
  std::string value;                    // kPut
  std::optional<std::string> metadata;  // kPut
  std::optional<uint64_t> expiration;   // kPut: expiration; kRemoveIfExpired: now
  std::function<void(Status)> done;     // runs on the writer thread; must not throw
};

class Writer {
 public:
  // `flush_interval` > 0: call env->sync() that often while there are
  // unflushed commits (for envs opened with MDB_NOSYNC).
  Writer(std::shared_ptr<LmdbEnv> env, std::chrono::milliseconds flush_interval);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // False once the writer is stopping (op.done is then not called).
  bool enqueue(WriteOp op);
  bool onWriterThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void run();
  void commit(std::vector<WriteOp>& batch);
  int apply(MDB_txn* txn, const WriteOp& op);
  Status failure(int rc) const;

  std::shared_ptr<LmdbEnv> env_;
  std::chrono::milliseconds flush_interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteOp> queue_;
  bool stopping_ = false;
  bool waiting_ = false;  // the writer sleeps on cv_
  std::thread thread_;
};

}  // namespace isogate::kv
