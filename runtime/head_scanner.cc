#include "runtime/head_scanner.h"

#include <array>

namespace isogate {

namespace {

enum CharClass : uint8_t {
  kTchar = 1,       // token characters (field names, methods)
  kVchar = 2,       // visible ASCII
  kObsText = 4,     // 0x80-0xFF
};

constexpr std::array<uint8_t, 256> makeClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0x21; c <= 0x7e; ++c) t[c] |= kVchar;
  for (int c = 0x80; c <= 0xff; ++c) t[c] |= kObsText;
  const char* extra = "!#$%&'*+-.^_`|~";
  for (const char* p = extra; *p; ++p) t[static_cast<uint8_t>(*p)] |= kTchar;
  for (int c = '0'; c <= '9'; ++c) t[c] |= kTchar;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kTchar;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kTchar;
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = makeClasses();

}  // namespace

void HeadScanner::reset() {
  state_ = State::kStart;
  bytes_ = 0;
  error_status_ = 0;
  error_message_ = "";
}

HeadScanner::Result HeadScanner::fail(int status, const char* message) {
  error_status_ = status;
  error_message_ = message;
  return Result::kError;
}

HeadScanner::Result HeadScanner::scan(const char* data, size_t len, size_t* consumed) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  for (size_t i = 0; i < len; ++i) {
    const uint8_t c = p[i];
    if (state_ != State::kStart && state_ != State::kStartLF && ++bytes_ > max_bytes_) {
      const bool in_first_line = state_ == State::kFirstLine || state_ == State::kFirstLineLF;
      if (kind_ == Kind::kRequest && in_first_line) return fail(414, "request line too long");
      return fail(431, "request header fields too large");
    }
    switch (state_) {
      case State::kStart:
        // RFC 9112 2.2: a server SHOULD ignore empty lines before the request line.
        if (c == '\r') {
          state_ = State::kStartLF;
        } else if (c == '\n') {
          return fail(400, "bare LF");
        } else {
          state_ = State::kFirstLine;
          --i;  // rescan this byte as part of the first line
        }
        break;
      case State::kStartLF:
        if (c != '\n') return fail(400, "bare CR");
        state_ = State::kStart;
        break;
      case State::kFirstLine:
        if (c == '\r') {
          state_ = State::kFirstLineLF;
        } else if (c == '\n') {
          return fail(400, "bare LF in the start line");
        } else if (c == ' ' || (kClasses[c] & kVchar)) {
          // ok
        } else if (kind_ == Kind::kResponse && (c == '\t' || (kClasses[c] & kObsText))) {
          // reason-phrase may carry HTAB and obs-text
        } else {
          return fail(400, "invalid character in the start line");
        }
        break;
      case State::kFirstLineLF:
      case State::kFieldValueLF:
        if (c != '\n') return fail(400, "bare CR");
        state_ = State::kFieldStart;
        break;
      case State::kFieldStart:
        if (c == '\r') {
          state_ = State::kFinalLF;
        } else if (c == ' ' || c == '\t') {
          return fail(400, "obsolete line folding");
        } else if (kClasses[c] & kTchar) {
          state_ = State::kFieldName;
        } else if (c == '\n') {
          return fail(400, "bare LF");
        } else {
          return fail(400, "invalid character in a field name");
        }
        break;
      case State::kFieldName:
        if (c == ':') {
          state_ = State::kFieldValue;
        } else if (c == ' ' || c == '\t') {
          return fail(400, "whitespace before the colon");
        } else if (!(kClasses[c] & kTchar)) {
          return fail(400, "invalid character in a field name");
        }
        break;
      case State::kFieldValue:
        if (c == '\r') {
          state_ = State::kFieldValueLF;
        } else if (c == '\n') {
          return fail(400, "bare LF in a field value");
        } else if (!(c == ' ' || c == '\t' || (kClasses[c] & (kVchar | kObsText)))) {
          return fail(400, "invalid character in a field value");
        }
        break;
      case State::kFinalLF:
        if (c != '\n') return fail(400, "bare CR");
        *consumed = i + 1;
        return Result::kComplete;
    }
  }
  *consumed = len;
  return Result::kNeedMore;
}

}  // namespace isogate
