#pragma once
// Request ids: a client's X-Request-ID is kept when it is 1..128 visible ASCII
// characters; otherwise a random UUIDv4 is generated. Generation uses a
// per-thread generator seeded from the OS, so it is cheap and lock-free.

#include <string>
#include <string_view>

namespace isogate {

bool isAcceptableRequestId(std::string_view id);
std::string generateRequestId();

}  // namespace isogate
