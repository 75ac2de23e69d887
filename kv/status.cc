#include "kv/status.h"

namespace isogate::kv {

const char* codeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kNotFound: return "not_found";
    case Status::Code::kInvalidArgument: return "invalid_argument";
    case Status::Code::kTooLarge: return "too_large";
    case Status::Code::kStoreFull: return "store_full";
    case Status::Code::kPermissionDenied: return "permission_denied";
    case Status::Code::kCorrupted: return "corrupted";
    case Status::Code::kUnavailable: return "unavailable";
    case Status::Code::kIoError: return "io_error";
    case Status::Code::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace isogate::kv
