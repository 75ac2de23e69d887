#include "runtime/chunked_scanner.h"

#include <algorithm>

namespace isogate {

namespace {
int hexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// chunk-ext: ";" name ["=" value], with optional whitespace; values may be
// quoted strings. Any visible ASCII, SP and HTAB; never CTL bytes.
bool isExtensionByte(uint8_t c) { return c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e); }
bool isFieldByte(uint8_t c) { return c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e) || c >= 0x80; }
}  // namespace

void ChunkedScanner::reset() {
  state_ = State::kSize;
  remaining_ = 0;
  size_digits_ = 0;
  last_chunk_ = false;
  error_ = "";
}

ChunkedScanner::Result ChunkedScanner::fail(const char* message) {
  error_ = message;
  return Result::kError;
}

ChunkedScanner::Result ChunkedScanner::scan(const char* data, size_t len, size_t* consumed) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  size_t i = 0;
  while (i < len) {
    const uint8_t c = p[i];
    switch (state_) {
      case State::kSize:
      case State::kSizeMore: {
        int v = hexValue(c);
        if (v >= 0) {
          if (++size_digits_ > 15) return fail("chunk size too large");
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
          state_ = State::kSizeMore;
        } else if (state_ == State::kSize) {
          return fail("invalid chunk size");
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExtension;
        } else if (c == '\r') {
          state_ = State::kSizeLF;
        } else {
          return fail("invalid chunk size");
        }
        ++i;
        break;
      }
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLF;
        } else if (!isExtensionByte(c)) {
          return fail("invalid chunk extension");
        }
        ++i;
        break;
      case State::kSizeLF:
        if (c != '\n') return fail("chunk size line must end with CRLF");
        ++i;
        size_digits_ = 0;
        if (remaining_ == 0) {
          last_chunk_ = true;
          state_ = State::kTrailerStart;
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, len - i));
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) state_ = State::kDataCR;
        break;
      }
      case State::kDataCR:
        if (c != '\r') return fail("chunk data must be followed by CRLF");
        state_ = State::kDataLF;
        ++i;
        break;
      case State::kDataLF:
        if (c != '\n') return fail("chunk data must be followed by CRLF");
        state_ = State::kSize;
        ++i;
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kFinalLF;
        } else if (c == ' ' || c == '\t' || c == ':' || !isFieldByte(c)) {
          return fail("invalid trailer field");
        } else {
          state_ = State::kTrailer;
        }
        ++i;
        break;
      case State::kTrailer:
        if (c == '\r') {
          state_ = State::kTrailerLF;
        } else if (!isFieldByte(c)) {
          return fail("invalid trailer field");
        }
        ++i;
        break;
      case State::kTrailerLF:
        if (c != '\n') return fail("trailer line must end with CRLF");
        state_ = State::kTrailerStart;
        ++i;
        break;
      case State::kFinalLF:
        if (c != '\n') return fail("chunked body must end with CRLF");
        state_ = State::kDone;
        *consumed = i + 1;
        return Result::kComplete;
      case State::kDone:
        *consumed = i;
        return Result::kComplete;
    }
  }
  *consumed = len;
  return Result::kNeedMore;
}

}  // namespace isogate
