#include "kv/namespace_db.h"

#include <cstring>

namespace isogate::kv {
namespace {

constexpr char kMetaDbName[] = "kvmeta";
constexpr char kNextBlobIdKey[] = "next_blob_id";
constexpr size_t kSlotBytes = 9;

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

std::string bigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = char(v & 0xff);
  return out;
}

uint64_t fromBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | uint8_t(c);
  return v;
}

// Index of the slot for suffix byte `c` in a bucket, or npos.
size_t findSlot(std::string_view bucket, uint8_t c) {
  for (size_t i = 0; i + kSlotBytes <= bucket.size(); i += kSlotBytes) {
    if (uint8_t(bucket[i]) == c) return i;
  }
  return std::string_view::npos;
}

int readBlob(MDB_txn* txn, MDB_dbi blobs, std::string_view slot, std::string_view* record) {
  if (blobs == 0) return MDB_CORRUPTED;  // a bucket without its blob database
  std::string id(slot.substr(1, 8));
  MDB_val k = val(id), v;
  int rc = mdb_get(txn, blobs, &k, &v);
  if (rc == MDB_NOTFOUND) return MDB_CORRUPTED;
  if (rc == 0) *record = view(v);
  return rc;
}

int writeRecordValue(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::optional<uint64_t> expiration,
                     std::optional<std::string_view> metadata, std::string_view value) {
  MDB_val k = val(key);
  MDB_val v{recordSize(metadata, value.size()), nullptr};
  int rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE);
  if (rc == 0) encodeRecord(expiration, metadata, value, static_cast<char*>(v.mv_data));
  return rc;
}

int nextBlobId(MDB_txn* txn, MDB_dbi meta, uint64_t* id) {
  MDB_val k = val(kNextBlobIdKey), v;
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    *id = 1;
  } else if (rc != 0) {
    return rc;
  } else if (v.mv_size != 8) {
    return MDB_CORRUPTED;
  } else {
    *id = fromBigEndian(view(v));
  }
  std::string next = bigEndian(*id + 1);
  MDB_val nv = val(next);
  return mdb_put(txn, meta, &k, &nv, 0);
}

}  // namespace

std::string mainDbName(std::string_view ns) { return std::string(kMainDbPrefix).append(ns); }
std::string longDbName(std::string_view ns) { return std::string(kLongDbPrefix).append(ns); }

int readRecord(MDB_txn* txn, const NamespaceDbs& dbs, std::string_view key, std::string_view* record) {
  if (key.size() <= kMaxLmdbKeyBytes) {
    if (dbs.main == 0) return MDB_NOTFOUND;
    MDB_val k = val(key), v;
    int rc = mdb_get(txn, dbs.main, &k, &v);
    if (rc == 0) *record = view(v);
    return rc;
  }
  if (dbs.longkeys == 0) return MDB_NOTFOUND;
  MDB_val k = val(key.substr(0, kMaxLmdbKeyBytes)), v;
  int rc = mdb_get(txn, dbs.longkeys, &k, &v);
  if (rc != 0) return rc;
  std::string_view bucket = view(v);
  size_t at = findSlot(bucket, uint8_t(key[kMaxLmdbKeyBytes]));
  if (at == std::string_view::npos) return MDB_NOTFOUND;
  return readBlob(txn, dbs.blobs, bucket.substr(at, kSlotBytes), record);
}

int putRecord(LmdbEnv& env, MDB_txn* txn, std::string_view ns, std::string_view key,
              std::optional<uint64_t> expiration, std::optional<std::string_view> metadata,
              std::string_view value) {
  if (key.size() <= kMaxLmdbKeyBytes) {
    MDB_dbi main;
    int rc = env.openDbiInWrite(txn, mainDbName(ns), true, &main);
    if (rc != 0) return rc;
    return writeRecordValue(txn, main, key, expiration, metadata, value);
  }
  MDB_dbi longkeys, blobs, meta;
  int rc = env.openDbiInWrite(txn, longDbName(ns), true, &longkeys);
  if (rc == 0) rc = env.openDbiInWrite(txn, kBlobDbName, true, &blobs);
  if (rc == 0) rc = env.openDbiInWrite(txn, kMetaDbName, true, &meta);
  if (rc != 0) return rc;

  std::string_view stem = key.substr(0, kMaxLmdbKeyBytes);
  uint8_t c = uint8_t(key[kMaxLmdbKeyBytes]);
  MDB_val k = val(stem), v;
  std::string bucket;
  rc = mdb_get(txn, longkeys, &k, &v);
  if (rc == 0) {
    bucket.assign(view(v));  // copy: the put below may move pages
  } else if (rc != MDB_NOTFOUND) {
    return rc;
  }
  if (bucket.size() % kSlotBytes != 0) return MDB_CORRUPTED;
  size_t at = findSlot(bucket, c);
  std::string id;
  if (at != std::string::npos) {
    id = bucket.substr(at + 1, 8);
  } else {
    uint64_t number;
    rc = nextBlobId(txn, meta, &number);
    if (rc != 0) return rc;
    id = bigEndian(number);
    size_t insert_at = 0;
    while (insert_at < bucket.size() && uint8_t(bucket[insert_at]) < c) insert_at += kSlotBytes;
    bucket.insert(insert_at, std::string(1, char(c)) + id);
    MDB_val bv = val(bucket);
    rc = mdb_put(txn, longkeys, &k, &bv, 0);
    if (rc != 0) return rc;
  }
  return writeRecordValue(txn, blobs, id, expiration, metadata, value);
}

int removeRecord(LmdbEnv& env, MDB_txn* txn, std::string_view ns, std::string_view key,
                 std::optional<uint64_t> only_if_expired_at) {
  auto expired = [&](std::string_view record) {
    if (!only_if_expired_at) return true;
    std::optional<RecordView> decoded = decodeRecord(record);
    return decoded && decoded->expiredAt(*only_if_expired_at);
  };
  if (key.size() <= kMaxLmdbKeyBytes) {
    MDB_dbi main;
    int rc = env.openDbiInWrite(txn, mainDbName(ns), false, &main);
    if (rc != 0) return rc == MDB_NOTFOUND ? 0 : rc;
    MDB_val k = val(key), v;
    rc = mdb_get(txn, main, &k, &v);
    if (rc != 0) return rc == MDB_NOTFOUND ? 0 : rc;
    if (!expired(view(v))) return 0;
    return mdb_del(txn, main, &k, nullptr);
  }
  MDB_dbi longkeys, blobs;
  int rc = env.openDbiInWrite(txn, longDbName(ns), false, &longkeys);
  if (rc != 0) return rc == MDB_NOTFOUND ? 0 : rc;
  rc = env.openDbiInWrite(txn, kBlobDbName, false, &blobs);
  if (rc != 0) return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
  MDB_val k = val(key.substr(0, kMaxLmdbKeyBytes)), v;
  rc = mdb_get(txn, longkeys, &k, &v);
  if (rc != 0) return rc == MDB_NOTFOUND ? 0 : rc;
  std::string bucket(view(v));
  size_t at = findSlot(bucket, uint8_t(key[kMaxLmdbKeyBytes]));
  if (at == std::string::npos) return 0;
  std::string id = bucket.substr(at + 1, 8);
  std::string_view record;
  rc = readBlob(txn, blobs, bucket.substr(at, kSlotBytes), &record);
  if (rc != 0) return rc;
  if (!expired(record)) return 0;
  MDB_val idv = val(id);
  rc = mdb_del(txn, blobs, &idv, nullptr);
  if (rc != 0) return rc;
  bucket.erase(at, kSlotBytes);
  if (bucket.empty()) return mdb_del(txn, longkeys, &k, nullptr);
  MDB_val bv = val(bucket);
  return mdb_put(txn, longkeys, &k, &bv, 0);
}

NamespaceScan::~NamespaceScan() {
  if (main_ != nullptr) mdb_cursor_close(main_);
  if (long_ != nullptr) mdb_cursor_close(long_);
}

int NamespaceScan::mainStep(MDB_cursor_op op, MDB_val* key) {
  MDB_val v;
  int rc = mdb_cursor_get(main_, key, &v, op);
  main_valid_ = rc == 0;
  if (rc == 0) {
    main_key_ = view(*key);
    main_record_ = view(v);
  }
  return rc == MDB_NOTFOUND ? 0 : rc;
}

int NamespaceScan::longLoadBucket() {
  if (bucket_.empty() || bucket_.size() % kSlotBytes != 0) return MDB_CORRUPTED;
  long_key_.resize(kMaxLmdbKeyBytes + 1);
  long_key_[kMaxLmdbKeyBytes] = bucket_[slot_];
  return 0;
}

int NamespaceScan::longStep(MDB_cursor_op op, MDB_val* key) {
  MDB_val v;
  int rc = mdb_cursor_get(long_, key, &v, op);
  long_valid_ = rc == 0;
  if (rc != 0) return rc == MDB_NOTFOUND ? 0 : rc;
  if (key->mv_size != kMaxLmdbKeyBytes) return MDB_CORRUPTED;
  long_key_.assign(static_cast<const char*>(key->mv_data), key->mv_size);
  bucket_ = view(v);
  slot_ = 0;
  return longLoadBucket();
}

int NamespaceScan::seek(std::string_view start, bool exclusive) {
  auto before = [&](std::string_view key) { return key < start || (exclusive && key == start); };
  std::string_view positioned = start.substr(0, kMaxLmdbKeyBytes);
  if (dbs_.main != 0) {
    int rc = mdb_cursor_open(txn_, dbs_.main, &main_);
    if (rc != 0) return rc;
    MDB_val k = val(positioned);
    rc = start.empty() ? mainStep(MDB_FIRST, &k) : mainStep(MDB_SET_RANGE, &k);
    while (rc == 0 && main_valid_ && before(main_key_)) rc = mainStep(MDB_NEXT, &k);
    if (rc != 0) return rc;
  }
  if (dbs_.longkeys != 0) {
    int rc = mdb_cursor_open(txn_, dbs_.longkeys, &long_);
    if (rc != 0) return rc;
    MDB_val k = val(positioned);
    rc = start.empty() ? longStep(MDB_FIRST, &k) : longStep(MDB_SET_RANGE, &k);
    if (rc != 0) return rc;
    while (rc == 0 && long_valid_ && before(long_key_)) rc = longNext();
    if (rc != 0) return rc;
  }
  return 0;
}

bool NamespaceScan::currentIsLong() const {
  if (!long_valid_) return false;
  if (!main_valid_) return true;
  return std::string_view(long_key_) < main_key_;
}

std::string_view NamespaceScan::key() const { return currentIsLong() ? std::string_view(long_key_) : main_key_; }

int NamespaceScan::record(std::string_view* out) {
  if (!currentIsLong()) {
    *out = main_record_;
    return 0;
  }
  return readBlob(txn_, dbs_.blobs, bucket_.substr(slot_, kSlotBytes), out);
}

int NamespaceScan::longNext() {
  slot_ += kSlotBytes;
  if (slot_ < bucket_.size()) return longLoadBucket();
  MDB_val k;
  return longStep(MDB_NEXT, &k);
}

int NamespaceScan::next() {
  if (currentIsLong()) return longNext();
  MDB_val k;
  return mainStep(MDB_NEXT, &k);
}

}  // namespace isogate::kv
