#pragma once
// Strict byte-level check of an HTTP/1.1 message head (RFC 9112), run before
// llhttp sees the bytes. llhttp 8 tolerates some framing that lets a proxy
// desync from its origin (bare LF, obs-fold); this scanner refuses it and
// measures the head against `header_bytes`. Incremental: feed chunks as they
// arrive. One scanner per connection; not thread-safe.

#include <cstddef>
#include <cstdint>

namespace isogate {

class HeadScanner {
 public:
  enum class Kind { kRequest, kResponse };
  enum class Result { kNeedMore, kComplete, kError };

  HeadScanner(Kind kind, size_t max_bytes) : kind_(kind), max_bytes_(max_bytes) {}

  // Starts a new message head.
  void reset();

  // Scans `len` bytes. kComplete: *consumed is the number of bytes of `data`
  // up to and including the blank line. kNeedMore: all of `data` belongs to
  // the head. kError: see errorStatus()/errorMessage().
  Result scan(const char* data, size_t len, size_t* consumed);

  // Whether any byte of the head (beyond leading blank lines) has arrived.
  bool started() const { return state_ != State::kStart; }
  // Bytes of the head scanned so far (leading blank lines excluded).
  size_t bytes() const { return bytes_; }
  // 400, 414 (request line too long) or 431 (head too large).
  int errorStatus() const { return error_status_; }
  const char* errorMessage() const { return error_message_; }

 private:
  enum class State : uint8_t {
    kStart,          // before the first line; blank lines are skipped
    kStartLF,        // CR of a leading blank line seen
    kFirstLine,
    kFirstLineLF,
    kFieldStart,     // at the start of a field line or the final blank line
    kFieldName,
    kFieldValue,
    kFieldValueLF,
    kFinalLF,
  };
  Result fail(int status, const char* message);

  Kind kind_;
  size_t max_bytes_;
  State state_ = State::kStart;
  size_t bytes_ = 0;
  int error_status_ = 0;
  const char* error_message_ = "";
};

}  // namespace isogate
