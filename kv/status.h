#pragma once
// kv::Status: the one error type of kv/. LMDB's MDB_* codes and errno values
// are mapped to it where they leave LMDB (kv/lmdb_status.h); nothing outside
// kv/ sees them. A Status is a plain value: copy it, keep it, pass it to any
// thread. isOk() statuses carry no message.

#include <cstdint>
#include <string>
#include <utility>

namespace isogate::kv {

class Status {
 public:
  enum class Code : uint8_t {
    kOk,
    kNotFound,          // no such key (or it expired)
    kInvalidArgument,   // bad key, namespace, cursor, limit, rule, options
    kTooLarge,          // a Workers size limit: key, value or metadata
    kStoreFull,         // the map reached its cap, or the disk is full
    kPermissionDenied,  // the path cannot be created, opened or written
    kCorrupted,         // the files are not a valid LMDB environment
    kUnavailable,       // closed store, too many readers, resource limits
    kIoError,           // any other operating-system failure
    kInternal,          // a kv/ bug or an LMDB misuse; should not happen
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  bool isOk() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // One line, no trailing period, no "kv:" prefix (callers add their own).
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// "ok", "not_found", "invalid_argument", ...: stable names for logs and tests.
const char* codeName(Status::Code code);

}  // namespace isogate::kv
