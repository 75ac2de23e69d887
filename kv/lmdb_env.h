#pragma once
// Internal to kv/ (includes lmdb.h): one LMDB environment, opened at most
// once per process per directory, as LMDB requires (a second open of the
// same files would drop the first one's POSIX locks). Any thread may use it.
// Store and RateCounters share one of these each (shared_ptr); the env is
// closed when the last owner lets go, after every thread's cached read
// transaction for it has been aborted.
//
// What it adds to a raw MDB_env:
//  - a process-wide registry keyed by canonical path (open() returns the
//    existing env);
//  - per-thread read transactions, reset and renewed (MDB_NOTLS), so a read
//    costs no malloc and no reader-table search;
//  - map growth: write() grows the map (doubling, up to a cap) when a write
//    transaction hits MDB_MAP_FULL and retries; a transaction that begins
//    with MDB_MAP_RESIZED (another process grew it) adopts the new size.
//    mdb_env_set_mapsize needs no live transaction in this process: a
//    "resize gate" guarantees it. Every transaction runs with the calling
//    thread's gate flag set; a resizer announces itself and waits until no
//    flag is set. Threads never block on anything else while their flag is
//    set, except LMDB's own write lock and dbi_mu_ (held only briefly).
//  - named-database handles opened once, serialized, and cached.

#include <lmdb.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "kv/status.h"

namespace isogate::kv {

// mkdir -p, then checks that `path` is a directory.
Status createDirectories(const std::string& path);

struct LmdbEnvOptions {
  std::string path;           // a directory; created with its parents
  uint64_t map_size = 0;      // initial map size, bytes
  uint64_t max_map_size = 0;  // growth cap, bytes (at least map_size)
  unsigned flags = 0;         // MDB_NOSYNC, MDB_WRITEMAP, ...; MDB_NOTLS is always added
  unsigned max_dbs = 0;       // named databases
};

class LmdbEnv {
 public:
  // Opens options.path, or returns this process's env for the same
  // canonical path (kInvalidArgument if it was opened with other flags).
  static Status open(const LmdbEnvOptions& options, std::shared_ptr<LmdbEnv>* out);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  MDB_env* raw() const { return env_; }
  const std::string& path() const { return path_; }
  unsigned flags() const { return flags_; }
  uint64_t mapSize();

  // The calling thread's read transaction, live between a successful begin()
  // and destruction. One at a time per thread and env; never nest it inside
  // write() on the same env. Data it points to is valid until destruction.
  class ReadTxn {
   public:
    explicit ReadTxn(LmdbEnv& env) : env_(env) {}
    ~ReadTxn();
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;
    int begin();  // 0 or an LMDB error
    MDB_txn* txn() const { return txn_; }

   private:
    LmdbEnv& env_;
    struct ThreadSlot* slot_ = nullptr;
    MDB_txn* txn_ = nullptr;
  };

  // Runs fn in a write transaction and commits it. fn returns 0 or an LMDB
  // error (which aborts). On MDB_MAP_FULL (from fn or the commit) the map
  // grows and fn runs again from scratch, so fn must be repeatable; at the
  // cap MDB_MAP_FULL is returned. Write transactions of this process are
  // serialized (other processes: by LMDB's lock). fn must not start other
  // transactions on this env.
  template <class Fn>
  int write(Fn&& fn) {
    return writeWith([](MDB_txn* txn, void* f) { return (*static_cast<std::remove_reference_t<Fn>*>(f))(txn); },
                     &fn);
  }

  // Handle of an existing named database, opened once and cached. Returns
  // MDB_NOTFOUND if it does not exist (yet). Any thread, outside a txn.
  int findDbi(const std::string& name, MDB_dbi* dbi);
  // Inside write()'s fn: opens (and with `create`, creates) a named
  // database. A new handle becomes visible to findDbi() once committed.
  int openDbiInWrite(MDB_txn* txn, const std::string& name, bool create, MDB_dbi* dbi);

  // Flushes to disk (mdb_env_sync(force=1)); any thread, outside a txn.
  int sync();
  // Clears reader-table slots of dead processes; returns how many.
  int clearStaleReaders();

 private:
  LmdbEnv() = default;
  int writeWith(int (*fn)(MDB_txn*, void*), void* context);  // write(), without std::function
  friend struct ThreadSlot;
  ThreadSlot* threadSlot();
  bool tryEnterGate(ThreadSlot* slot);
  void enterGate(ThreadSlot* slot);
  void leaveGate(ThreadSlot* slot);
  void waitForResize();
  // Runs fn with no transaction of this process live (the resize gate).
  int exclusive(const std::function<int()>& fn);
  int adoptMapSize();
  int grow(uint64_t failed_at);
  void finishWriteDbis(bool committed);

  MDB_env* env_ = nullptr;
  std::string path_;
  unsigned flags_ = 0;
  uint64_t max_map_size_ = 0;
  uint64_t id_ = 0;  // never reused: keys the per-thread slots

  // Resize gate.
  std::mutex resize_mu_;  // one resizer at a time
  std::atomic<bool> resize_pending_{false};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  std::mutex slots_mu_;
  std::vector<std::shared_ptr<ThreadSlot>> slots_;

  // Write transactions of this process, one at a time.
  std::mutex write_mu_;

  // Named-database handles. dbi_mu_ serializes every mdb_dbi_open; the
  // writer holds it from opening a new handle until its commit or abort.
  std::mutex dbi_mu_;
  std::unordered_map<std::string, MDB_dbi> dbis_;
  std::unordered_map<std::string, uint64_t> absent_;  // name -> txnid it was missing at
  std::vector<std::pair<std::string, MDB_dbi>> pending_dbis_;  // under write_mu_
  bool write_holds_dbi_mu_ = false;                            // under write_mu_
};

}  // namespace isogate::kv
