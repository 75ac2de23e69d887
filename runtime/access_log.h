#pragma once
// Access log: one line per request. `serve` writes JSON lines to stdout,
// `dev` a short human line. Each worker owns an AccessLog that buffers lines
// and flushes at least every 100 ms (and when the buffer grows large) through
// a process-wide LogOutput, so lines from different threads never interleave.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/timer.h"

namespace isogate {

// What the response cache did for a request (the access log's `cache`
// field, the result label of isogate_cache_requests_total).
enum class CacheUse : uint8_t {
  kNone,    // the route does not use the cache ("none")
  kHit,     // answered from the cache, origin not contacted ("hit")
  kMiss,    // looked up, not found (or stale): forwarded ("miss")
  kBypass,  // the cache was skipped: method, request Cache-Control ("bypass")
};
const char* cacheUseName(CacheUse use);

struct AccessLogEntry {
  std::string request_id;
  std::string method;
  std::string path;   // client path before any rewrite, without the query
  std::string route;  // "" when no route matched
  std::string user_agent;
  std::string remote_addr;
  int status = 0;
  int64_t start_unix_ms = 0;  // wall clock at request start
  uint64_t start_ns = 0;      // uv_hrtime() at request start
  double upstream_ms = -1;    // < 0: no upstream contacted
  double cpu_ms = -1;         // < 0: no JavaScript ran
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  // Set by whoever consulted the response cache; counted in the metrics
  // (per route) when the entry is logged, unless kNone.
  CacheUse cache = CacheUse::kNone;
  // Extra top-level fields as a JSON object body without braces ("\"a\":1,\"b\":\"x\""),
  // e.g. from ctx.log(). The producer drops standard field names, so these never
  // replace a standard field.
  std::string extra_json;
};

// Serialises writes to one file descriptor from many threads.
class LogOutput {
 public:
  explicit LogOutput(int fd) : fd_(fd) {}
  void write(const std::string& data);

 private:
  std::mutex mutex_;
  int fd_;
};

class AccessLog {
 public:
  enum class Format { kJson, kPretty };
  AccessLog(uv_loop_t* loop, Format format, LogOutput& output);
  ~AccessLog();

  void write(const AccessLogEntry& entry, double latency_ms);
  void flush();

 private:
  void appendJson(const AccessLogEntry& entry, double latency_ms);
  void appendPretty(const AccessLogEntry& entry, double latency_ms);

  Format format_;
  LogOutput& output_;
  std::string buffer_;
  std::unique_ptr<Timer> flush_timer_;
};

// Appends `s` as a JSON string literal (with quotes).
void appendJsonString(std::string& out, std::string_view s);
// ISO 8601 UTC with milliseconds: 2026-11-27T21:03:04.123Z
std::string formatTimestamp(int64_t unix_ms);

}  // namespace isogate
