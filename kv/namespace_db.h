#pragma once
// Internal to kv/ (includes lmdb.h): how a namespace's entries map onto
// LMDB named databases, hiding LMDB's 511-byte key limit from the 512 bytes
// Workers allows.
//
//  "kv:<ns>"      keys of up to 511 bytes, as themselves -> record (record.h)
//  "kvlong:<ns>"  512-byte keys K = S + c (S: the first 511 bytes), under S:
//                 a bucket of 9-byte slots [c][blob id, big-endian], sorted by c
//  "kvblob"       blob id (8 bytes, big-endian) -> record of a 512-byte key
//  "kvmeta"       "next_blob_id" -> 8 bytes, big-endian
//
// Every key S + c sorts right after S and before any other key, so merging
// the two databases by key gives the namespace in byte order.
//
// All functions run inside a transaction of the calling thread; string
// views they return point into the map and live as long as that txn.

#include <lmdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kv/lmdb_env.h"
#include "kv/record.h"

namespace isogate::kv {

inline constexpr size_t kMaxLmdbKeyBytes = 511;

std::string mainDbName(std::string_view ns);
std::string longDbName(std::string_view ns);
inline constexpr char kMainDbPrefix[] = "kv:";
inline constexpr char kLongDbPrefix[] = "kvlong:";
inline constexpr char kBlobDbName[] = "kvblob";

// Database handles of one namespace for reading; 0 = does not exist.
struct NamespaceDbs {
  MDB_dbi main = 0;
  MDB_dbi longkeys = 0;
  MDB_dbi blobs = 0;
};

// The record bytes stored for `key`, or MDB_NOTFOUND.
int readRecord(MDB_txn* txn, const NamespaceDbs& dbs, std::string_view key, std::string_view* record);

// Write side: inside LmdbEnv::write(). Databases are opened (put: created)
// through `env`.
int putRecord(LmdbEnv& env, MDB_txn* txn, std::string_view ns, std::string_view key,
              std::optional<uint64_t> expiration, std::optional<std::string_view> metadata,
              std::string_view value);
// Removes `key` if present (absent is not an error). With
// `only_if_expired_at`, removes it only if it expired at that time (the
// sweeper's delete, which must not remove a value put since it looked).
int removeRecord(LmdbEnv& env, MDB_txn* txn, std::string_view ns, std::string_view key,
                 std::optional<uint64_t> only_if_expired_at);

// Walks a namespace's keys in byte order (both databases merged), in a
// read transaction. key() and record() live until the next call or the
// end of the transaction.
class NamespaceScan {
 public:
  NamespaceScan(MDB_txn* txn, const NamespaceDbs& dbs) : txn_(txn), dbs_(dbs) {}
  ~NamespaceScan();
  NamespaceScan(const NamespaceScan&) = delete;
  NamespaceScan& operator=(const NamespaceScan&) = delete;

  // Positions at the first key >= start (> start if `exclusive`); an empty
  // start means the first key. 0 or an LMDB error.
  int seek(std::string_view start, bool exclusive);
  bool done() const { return !main_valid_ && !long_valid_; }
  std::string_view key() const;
  int record(std::string_view* out);
  int next();

 private:
  int mainStep(MDB_cursor_op op, MDB_val* key);
  int longStep(MDB_cursor_op op, MDB_val* key);
  int longLoadBucket();
  int longNext();
  bool currentIsLong() const;

  MDB_txn* txn_;
  NamespaceDbs dbs_;
  MDB_cursor* main_ = nullptr;
  MDB_cursor* long_ = nullptr;
  bool main_valid_ = false;
  std::string_view main_key_;
  std::string_view main_record_;
  bool long_valid_ = false;
  std::string_view bucket_;
  size_t slot_ = 0;
  std::string long_key_;  // stem + slot byte
};

}  // namespace isogate::kv
