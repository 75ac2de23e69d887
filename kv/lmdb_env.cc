#include "kv/lmdb_env.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "kv/lmdb_status.h"

namespace isogate::kv {

// One per (thread, env): the thread's cached read transaction and its flag
// in the resize gate.
struct alignas(64) ThreadSlot {  // its own cache line: in_use is written on every read
  std::atomic<int> in_use{0};
  bool active = false;     // owner thread: inside ReadTxn or write()
  MDB_txn* txn = nullptr;  // owner thread; thread exit and env close under mu
  std::mutex mu;
  bool env_closed = false;   // under mu
  bool thread_gone = false;  // under mu
};

namespace {

constexpr unsigned kMaxReaders = 1024;
constexpr unsigned kPersistentFlags = MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC;

std::atomic<uint64_t> g_next_env_id{1};

// The calling thread's slots, one per env it touched. Aborts the cached
// read transactions of still-open envs when the thread exits.
struct ThreadSlots {
  std::vector<std::pair<uint64_t, std::shared_ptr<ThreadSlot>>> slots;
  uint64_t last_id = 0;
  ThreadSlot* last = nullptr;

  ~ThreadSlots() {
    for (auto& entry : slots) {
      ThreadSlot& slot = *entry.second;
      std::lock_guard<std::mutex> lock(slot.mu);
      if (!slot.env_closed && slot.txn != nullptr) mdb_txn_abort(slot.txn);
      slot.txn = nullptr;
      slot.thread_gone = true;
    }
  }
};
thread_local ThreadSlots t_slots;

struct Registry {
  std::mutex mu;
  std::condition_variable cv;  // an entry was erased
  std::unordered_map<std::string, std::weak_ptr<LmdbEnv>> envs;
};
Registry& registry() {
  static Registry* registry = new Registry;  // never destroyed: envs may close during exit
  return *registry;
}

}  // namespace

Status createDirectories(const std::string& path) {
  if (path.empty()) return Status(Status::Code::kInvalidArgument, "kv path must not be empty");
  std::string prefix;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    prefix = path.substr(0, slash);
    pos = slash + 1;
    if (prefix.empty()) continue;  // leading '/'
    if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      return statusFromLmdb(errno, "create directory " + prefix);
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return statusFromLmdb(errno, "open " + path);
  if (!S_ISDIR(st.st_mode)) return statusFromLmdb(ENOTDIR, "open " + path);
  return Status();
}

namespace {

uint64_t roundToPage(uint64_t bytes) {
  uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  return std::max(page, (bytes + page - 1) / page * page);
}

}  // namespace

Status LmdbEnv::open(const LmdbEnvOptions& options, std::shared_ptr<LmdbEnv>* out) {
  Status made = createDirectories(options.path);
  if (!made.isOk()) return made;
  char resolved[PATH_MAX];
  if (realpath(options.path.c_str(), resolved) == nullptr) {
    return statusFromLmdb(errno, "open " + options.path);
  }
  std::string canonical(resolved);
  unsigned flags = (options.flags & kPersistentFlags) | MDB_NOTLS;

  std::shared_ptr<LmdbEnv> existing;
  {
    Registry& reg = registry();
    std::unique_lock<std::mutex> lock(reg.mu);
    for (;;) {
      auto it = reg.envs.find(canonical);
      if (it == reg.envs.end()) break;
      existing = it->second.lock();
      if (existing) break;
      reg.cv.wait(lock);  // its last owner is closing it
    }
    if (!existing) {
      MDB_env* env = nullptr;
      int rc = mdb_env_create(&env);
      uint64_t map_size = roundToPage(options.map_size);
      if (rc == 0) rc = mdb_env_set_maxdbs(env, options.max_dbs);
      if (rc == 0) rc = mdb_env_set_maxreaders(env, kMaxReaders);
      if (rc == 0) rc = mdb_env_set_mapsize(env, map_size);
      if (rc == 0) rc = mdb_env_open(env, canonical.c_str(), flags, 0666);
      if (rc != 0) {
        if (env != nullptr) mdb_env_close(env);
        return statusFromLmdb(rc, "open " + canonical);
      }
      int dead = 0;
      mdb_reader_check(env, &dead);
      std::shared_ptr<LmdbEnv> created(new LmdbEnv);
      created->env_ = env;
      created->path_ = canonical;
      created->flags_ = flags;
      created->max_map_size_ = std::max(roundToPage(options.max_map_size), map_size);
      created->id_ = g_next_env_id.fetch_add(1);
      reg.envs[canonical] = created;
      *out = std::move(created);
      return Status();
    }
  }
  // Outside the registry lock: dropping `existing` may close it.
  if (existing->flags_ != flags) {
    return Status(Status::Code::kInvalidArgument,
                  "open " + canonical + ": already open in this process with other settings");
  }
  *out = std::move(existing);
  return Status();
}

LmdbEnv::~LmdbEnv() {
  {
    std::lock_guard<std::mutex> lock(slots_mu_);
    for (auto& slot : slots_) {
      std::lock_guard<std::mutex> slot_lock(slot->mu);
      if (slot->txn != nullptr && !slot->thread_gone) mdb_txn_abort(slot->txn);
      slot->txn = nullptr;
      slot->env_closed = true;
    }
  }
  mdb_env_close(env_);
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  reg.envs.erase(path_);
  reg.cv.notify_all();
}

uint64_t LmdbEnv::mapSize() {
  // me_mapsize only changes inside exclusive(), which holds resize_mu_.
  std::lock_guard<std::mutex> lock(resize_mu_);
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

ThreadSlot* LmdbEnv::threadSlot() {
  ThreadSlots& mine = t_slots;
  if (mine.last_id == id_) return mine.last;
  for (auto& entry : mine.slots) {
    if (entry.first == id_) {
      mine.last_id = id_;
      mine.last = entry.second.get();
      return mine.last;
    }
  }
  // Forget slots of envs that were closed since.
  std::erase_if(mine.slots, [](auto& entry) {
    std::lock_guard<std::mutex> lock(entry.second->mu);
    return entry.second->env_closed;
  });
  auto slot = std::make_shared<ThreadSlot>();
  {
    std::lock_guard<std::mutex> lock(slots_mu_);
    std::erase_if(slots_, [](auto& other) {
      std::lock_guard<std::mutex> other_lock(other->mu);
      return other->thread_gone;
    });
    slots_.push_back(slot);
  }
  mine.slots.emplace_back(id_, slot);
  mine.last_id = id_;
  mine.last = slot.get();
  return mine.last;
}

bool LmdbEnv::tryEnterGate(ThreadSlot* slot) {
  // Dekker-style with exclusive(): both sides store, then load, seq_cst.
  slot->in_use.store(1, std::memory_order_seq_cst);
  if (!resize_pending_.load(std::memory_order_seq_cst)) return true;
  slot->in_use.store(0, std::memory_order_seq_cst);
  return false;
}

void LmdbEnv::enterGate(ThreadSlot* slot) {
  while (!tryEnterGate(slot)) waitForResize();
}

void LmdbEnv::leaveGate(ThreadSlot* slot) { slot->in_use.store(0, std::memory_order_release); }

void LmdbEnv::waitForResize() {
  std::unique_lock<std::mutex> lock(gate_mu_);
  gate_cv_.wait(lock, [this] { return !resize_pending_.load(std::memory_order_seq_cst); });
}

int LmdbEnv::exclusive(const std::function<int()>& fn) {
  std::lock_guard<std::mutex> resize_lock(resize_mu_);
  resize_pending_.store(true, std::memory_order_seq_cst);
  std::vector<std::shared_ptr<ThreadSlot>> slots;
  {
    std::lock_guard<std::mutex> lock(slots_mu_);
    slots = slots_;
  }
  // Slots registered after this snapshot see resize_pending_ and stay out.
  for (auto& slot : slots) {
    for (int spins = 0; slot->in_use.load(std::memory_order_seq_cst) != 0; ++spins) {
      if (spins < 100) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
  }
  int rc = fn();
  {
    std::lock_guard<std::mutex> lock(gate_mu_);
    resize_pending_.store(false, std::memory_order_seq_cst);
  }
  gate_cv_.notify_all();
  return rc;
}

int LmdbEnv::adoptMapSize() {
  return exclusive([this] { return mdb_env_set_mapsize(env_, 0); });
}

int LmdbEnv::grow(uint64_t failed_at) {
  return exclusive([this, failed_at] {
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    uint64_t current = info.me_mapsize;
    if (current > failed_at) return 0;  // another thread grew it meanwhile
    if (current >= max_map_size_) return int(MDB_MAP_FULL);
    return mdb_env_set_mapsize(env_, std::min(roundToPage(current * 2), max_map_size_));
  });
}

LmdbEnv::ReadTxn::~ReadTxn() {
  if (txn_ == nullptr) return;
  mdb_txn_reset(txn_);
  slot_->active = false;
  env_.leaveGate(slot_);
}

int LmdbEnv::ReadTxn::begin() {
  slot_ = env_.threadSlot();
  if (slot_->active) return EINVAL;  // nested on this thread
  for (;;) {
    env_.enterGate(slot_);
    int rc = slot_->txn != nullptr ? mdb_txn_renew(slot_->txn)
                                   : mdb_txn_begin(env_.env_, nullptr, MDB_RDONLY, &slot_->txn);
    if (rc == 0) {
      slot_->active = true;
      txn_ = slot_->txn;
      return 0;
    }
    if (slot_->txn != nullptr) {
      mdb_txn_abort(slot_->txn);
      slot_->txn = nullptr;
    }
    env_.leaveGate(slot_);
    if (rc == MDB_MAP_RESIZED) rc = env_.adoptMapSize();
    if (rc != 0) return rc;
  }
}

int LmdbEnv::writeWith(int (*fn)(MDB_txn*, void*), void* context) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  ThreadSlot* slot = threadSlot();
  if (slot->active) return EINVAL;
  for (;;) {
    enterGate(slot);
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) {
      leaveGate(slot);
      if (rc == MDB_MAP_RESIZED && (rc = adoptMapSize()) == 0) continue;
      return rc;
    }
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    slot->active = true;
    rc = fn(txn, context);
    if (rc == 0) {
      rc = mdb_txn_commit(txn);  // frees txn on failure too
    } else {
      mdb_txn_abort(txn);
    }
    finishWriteDbis(rc == 0);
    slot->active = false;
    leaveGate(slot);
    if (rc == MDB_MAP_FULL && (rc = grow(info.me_mapsize)) == 0) continue;
    return rc;
  }
}

void LmdbEnv::finishWriteDbis(bool committed) {
  if (!write_holds_dbi_mu_) return;
  if (committed) {
    for (auto& [name, dbi] : pending_dbis_) {
      dbis_[name] = dbi;
      absent_.erase(name);
    }
  }
  // On abort LMDB has closed the handles opened in the transaction.
  pending_dbis_.clear();
  write_holds_dbi_mu_ = false;
  dbi_mu_.unlock();
}

int LmdbEnv::openDbiInWrite(MDB_txn* txn, const std::string& name, bool create, MDB_dbi* dbi) {
  if (!write_holds_dbi_mu_) {
    std::unique_lock<std::mutex> lock(dbi_mu_);
    auto it = dbis_.find(name);
    if (it != dbis_.end()) {
      *dbi = it->second;
      return 0;
    }
    // Keep dbi_mu_ until commit or abort: a handle opened here is private to
    // this transaction, and a concurrent mdb_dbi_open could reuse its slot.
    lock.release();
    write_holds_dbi_mu_ = true;
  } else {
    auto it = dbis_.find(name);
    if (it != dbis_.end()) {
      *dbi = it->second;
      return 0;
    }
    for (auto& [pending_name, pending_dbi] : pending_dbis_) {
      if (pending_name == name) {
        *dbi = pending_dbi;
        return 0;
      }
    }
  }
  int rc = mdb_dbi_open(txn, name.c_str(), create ? MDB_CREATE : 0, dbi);
  if (rc == 0) pending_dbis_.emplace_back(name, *dbi);
  return rc;
}

int LmdbEnv::findDbi(const std::string& name, MDB_dbi* dbi) {
  ThreadSlot* slot = threadSlot();
  if (slot->active) return EINVAL;
  for (;;) {
    std::unique_lock<std::mutex> lock(dbi_mu_);
    auto it = dbis_.find(name);
    if (it != dbis_.end()) {
      *dbi = it->second;
      return 0;
    }
    // Never wait for a resize while holding dbi_mu_: the writer may be
    // waiting for it with its gate flag set.
    if (!tryEnterGate(slot)) {
      lock.unlock();
      waitForResize();
      continue;
    }
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    auto absent = absent_.find(name);
    if (absent != absent_.end() && absent->second == info.me_last_txnid) {
      leaveGate(slot);
      return MDB_NOTFOUND;  // nothing was committed since we last looked
    }
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) {
      leaveGate(slot);
      lock.unlock();
      if (rc == MDB_MAP_RESIZED && (rc = adoptMapSize()) == 0) continue;
      return rc;
    }
    uint64_t txnid = mdb_txn_id(txn);
    rc = mdb_dbi_open(txn, name.c_str(), 0, dbi);
    if (rc == 0) {
      rc = mdb_txn_commit(txn);  // keeps the handle open
      if (rc == 0) {
        dbis_[name] = *dbi;
        absent_.erase(name);
      }
    } else {
      mdb_txn_abort(txn);
      if (rc == MDB_NOTFOUND) absent_[name] = txnid;
    }
    leaveGate(slot);
    return rc;
  }
}

int LmdbEnv::sync() {
  ThreadSlot* slot = threadSlot();
  if (slot->active) return EINVAL;
  enterGate(slot);
  int rc = mdb_env_sync(env_, 1);
  leaveGate(slot);
  return rc;
}

int LmdbEnv::clearStaleReaders() {
  int dead = 0;
  mdb_reader_check(env_, &dead);
  return dead;
}

}  // namespace isogate::kv
