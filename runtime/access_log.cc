#include "runtime/access_log.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace isogate {

namespace {
constexpr size_t kFlushBytes = 64 * 1024;
constexpr uint64_t kFlushIntervalMs = 100;
}  // namespace

void LogOutput::write(const std::string& data) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stdout closed: logs are lost, requests are not
    }
    off += static_cast<size_t>(n);
  }
}

AccessLog::AccessLog(uv_loop_t* loop, Format format, LogOutput& output)
    : format_(format), output_(output) {
  flush_timer_ = std::make_unique<Timer>(loop, [this] { flush(); });
  flush_timer_->start(kFlushIntervalMs, kFlushIntervalMs);
  flush_timer_->unref();
}

AccessLog::~AccessLog() { flush(); }

void AccessLog::write(const AccessLogEntry& entry, double latency_ms) {
  if (format_ == Format::kJson) {
    appendJson(entry, latency_ms);
  } else {
    appendPretty(entry, latency_ms);
  }
  if (buffer_.size() >= kFlushBytes || format_ == Format::kPretty) flush();
}

void AccessLog::flush() {
  if (buffer_.empty()) return;
  output_.write(buffer_);
  buffer_.clear();
}

void appendJsonString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        // Control bytes, DEL and bytes >= 0x80: header bytes are not
        // guaranteed UTF-8, so the log stays valid JSON either way.
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

namespace {
// Appends a non-negative number with three decimals (no locale, no printf).
void appendMillis(std::string& out, double ms) {
  if (!(ms >= 0)) ms = 0;
  const uint64_t micros = static_cast<uint64_t>(ms * 1000.0 + 0.5);
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, micros / 1000);
  out.append(buf, end);
  const unsigned frac = static_cast<unsigned>(micros % 1000);
  const char digits[4] = {'.', char('0' + frac / 100), char('0' + frac / 10 % 10), char('0' + frac % 10)};
  out.append(digits, 4);
}

void appendUint(std::string& out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}
}  // namespace

std::string formatTimestamp(int64_t unix_ms) {
  // The date and time to the second change once a second: format them once
  // per thread and second, and append the milliseconds.
  thread_local int64_t cached_second = -1;
  thread_local char cached[24];
  const int64_t second = unix_ms / 1000;
  if (second != cached_second) {
    time_t secs = static_cast<time_t>(second);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  const int ms = static_cast<int>(unix_ms % 1000);
  std::string out(cached);
  const char tail[6] = {'.', char('0' + ms / 100), char('0' + ms / 10 % 10), char('0' + ms % 10), 'Z', 0};
  out.append(tail, 5);
  return out;
}

const char* cacheUseName(CacheUse use) {
  switch (use) {
    case CacheUse::kNone: return "none";
    case CacheUse::kHit: return "hit";
    case CacheUse::kMiss: return "miss";
    case CacheUse::kBypass: return "bypass";
  }
  return "none";
}

void AccessLog::appendJson(const AccessLogEntry& e, double latency_ms) {
  std::string& out = buffer_;
  out.append("{\"timestamp\":\"").append(formatTimestamp(e.start_unix_ms)).append("\"");
  out.append(",\"request_id\":");
  appendJsonString(out, e.request_id);
  out.append(",\"method\":");
  appendJsonString(out, e.method);
  out.append(",\"path\":");
  appendJsonString(out, e.path);
  out.append(",\"route\":");
  if (e.route.empty()) {
    out.append("null");
  } else {
    appendJsonString(out, e.route);
  }
  out.append(",\"status\":");
  appendUint(out, static_cast<uint64_t>(e.status));
  out.append(",\"latency_ms\":");
  appendMillis(out, latency_ms);
  out.append(",\"upstream_ms\":");
  if (e.upstream_ms >= 0) {
    appendMillis(out, e.upstream_ms);
  } else {
    out.append("null");
  }
  if (e.cpu_ms >= 0) {
    out.append(",\"cpu_ms\":");
    appendMillis(out, e.cpu_ms);
  }
  out.append(",\"bytes_in\":");
  appendUint(out, e.bytes_in);
  out.append(",\"bytes_out\":");
  appendUint(out, e.bytes_out);
  out.append(",\"user_agent\":");
  appendJsonString(out, e.user_agent);
  out.append(",\"remote_addr\":");
  appendJsonString(out, e.remote_addr);
  out.append(",\"cache\":\"").append(cacheUseName(e.cache)).append("\"");
  if (!e.extra_json.empty()) out.append(",").append(e.extra_json);
  out.append("}\n");
}

void AccessLog::appendPretty(const AccessLogEntry& e, double latency_ms) {
  char line[128];
  snprintf(line, sizeof line, " %d %.1fms", e.status, latency_ms);
  std::string& out = buffer_;
  out.append(formatTimestamp(e.start_unix_ms).substr(11, 12));
  out.append(" ").append(e.method).append(" ").append(e.path).append(line);
  if (!e.route.empty()) out.append(" [").append(e.route).append("]");
  if (e.cache != CacheUse::kNone) out.append(" cache=").append(cacheUseName(e.cache));
  out.append("\n");
}

}  // namespace isogate
