#pragma once
// Internal to kv/: the single place where LMDB return codes (MDB_* values
// and errno values, as mdb_* functions return them) become a kv::Status.

#include <string_view>

#include "kv/status.h"

namespace isogate::kv {

// `context` says what was being done ("open /srv/kv", "commit"); the message
// reads "context: reason". rc == 0 gives an ok Status.
Status statusFromLmdb(int rc, std::string_view context);

}  // namespace isogate::kv
