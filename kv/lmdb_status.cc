#include "kv/lmdb_status.h"

#include <lmdb.h>

#include <cerrno>
#include <string>

namespace isogate::kv {
namespace {

using Code = Status::Code;

Code codeFor(int rc) {
  switch (rc) {
    case MDB_NOTFOUND:
      return Code::kNotFound;
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
      return Code::kStoreFull;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_PANIC:
      return Code::kCorrupted;
    case MDB_READERS_FULL:
    case MDB_DBS_FULL:
    case MDB_MAP_RESIZED:
    case ENOMEM:
    case EAGAIN:
    case EMFILE:
    case ENFILE:
      return Code::kUnavailable;
    case EACCES:
    case EPERM:
    case EROFS:
      return Code::kPermissionDenied;
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
    case ELOOP:
      return Code::kInvalidArgument;
    case MDB_KEYEXIST:
    case MDB_TLS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:
    case MDB_BAD_VALSIZE:
    case MDB_BAD_DBI:
    case EINVAL:
      return Code::kInternal;
    default:
      return Code::kIoError;
  }
}

// Plainer words than mdb_strerror() for the codes users meet.
const char* reasonFor(int rc) {
  switch (rc) {
    case MDB_MAP_FULL: return "the store is full (map size limit reached)";
    case MDB_DBS_FULL: return "too many namespaces";
    case MDB_READERS_FULL: return "too many reader threads on this store (all processes)";
    case MDB_INVALID: return "not an LMDB store (bad or truncated data file)";
    case MDB_VERSION_MISMATCH: return "written by an incompatible LMDB version";
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND: return "the store is corrupted";
    case MDB_PANIC: return "fatal LMDB error; the store must be reopened";
    default: return nullptr;
  }
}

}  // namespace

Status statusFromLmdb(int rc, std::string_view context) {
  if (rc == 0) return Status();
  const char* reason = reasonFor(rc);
  std::string message(context);
  message += ": ";
  message += reason != nullptr ? reason : mdb_strerror(rc);
  return Status(codeFor(rc), std::move(message));
}

}  // namespace isogate::kv
