#include <gtest/gtest.h>
#include <lmdb.h>

#include <cerrno>

#include "kv/lmdb_status.h"

namespace isogate::kv {
namespace {

using Code = Status::Code;

TEST(StatusTest, LmdbCodesMapToOneStatusType) {
  EXPECT_TRUE(statusFromLmdb(0, "x").isOk());
  EXPECT_EQ(statusFromLmdb(MDB_NOTFOUND, "get").code(), Code::kNotFound);
  EXPECT_EQ(statusFromLmdb(MDB_MAP_FULL, "write").code(), Code::kStoreFull);
  EXPECT_EQ(statusFromLmdb(ENOSPC, "write").code(), Code::kStoreFull);
  EXPECT_EQ(statusFromLmdb(MDB_CORRUPTED, "read").code(), Code::kCorrupted);
  EXPECT_EQ(statusFromLmdb(MDB_PAGE_NOTFOUND, "read").code(), Code::kCorrupted);
  EXPECT_EQ(statusFromLmdb(MDB_INVALID, "open").code(), Code::kCorrupted);
  EXPECT_EQ(statusFromLmdb(MDB_VERSION_MISMATCH, "open").code(), Code::kCorrupted);
  EXPECT_EQ(statusFromLmdb(MDB_PANIC, "write").code(), Code::kCorrupted);
  EXPECT_EQ(statusFromLmdb(MDB_READERS_FULL, "read").code(), Code::kUnavailable);
  EXPECT_EQ(statusFromLmdb(MDB_DBS_FULL, "write").code(), Code::kUnavailable);
  EXPECT_EQ(statusFromLmdb(EACCES, "open").code(), Code::kPermissionDenied);
  EXPECT_EQ(statusFromLmdb(EROFS, "open").code(), Code::kPermissionDenied);
  EXPECT_EQ(statusFromLmdb(ENOTDIR, "open").code(), Code::kInvalidArgument);
  EXPECT_EQ(statusFromLmdb(EIO, "read").code(), Code::kIoError);
  EXPECT_EQ(statusFromLmdb(MDB_BAD_DBI, "read").code(), Code::kInternal);
  EXPECT_EQ(statusFromLmdb(EINVAL, "read").code(), Code::kInternal);
}

TEST(StatusTest, MessagesNameWhatFailed) {
  EXPECT_EQ(statusFromLmdb(MDB_MAP_FULL, "write").message(), "write: the store is full (map size limit reached)");
  EXPECT_EQ(statusFromLmdb(EACCES, "open /srv/kv").message(), "open /srv/kv: Permission denied");
  EXPECT_EQ(statusFromLmdb(MDB_INVALID, "open /x").message(),
            "open /x: not an LMDB store (bad or truncated data file)");
}

TEST(StatusTest, CodeNames) {
  EXPECT_STREQ(codeName(Code::kOk), "ok");
  EXPECT_STREQ(codeName(Code::kNotFound), "not_found");
  EXPECT_STREQ(codeName(Code::kTooLarge), "too_large");
  EXPECT_STREQ(codeName(Code::kStoreFull), "store_full");
}

}  // namespace
}  // namespace isogate::kv
