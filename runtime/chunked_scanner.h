#pragma once
// Strict check of a chunked message body's framing (RFC 9112 7.1), run on
// the raw bytes before llhttp sees them. llhttp 8 accepts chunk data that is
// not followed by CRLF and loose chunk extensions, which lets a front end and
// an origin disagree on where a message ends. Incremental; one per message.

#include <cstddef>
#include <cstdint>

namespace isogate {

class ChunkedScanner {
 public:
  enum class Result { kNeedMore, kComplete, kError };

  void reset();
  // kComplete: *consumed bytes end the body (last chunk and trailers done).
  Result scan(const char* data, size_t len, size_t* consumed);
  const char* errorMessage() const { return error_; }

 private:
  enum class State : uint8_t {
    kSize, kSizeMore, kExtension, kSizeLF,
    kData, kDataCR, kDataLF,
    kTrailerStart, kTrailer, kTrailerLF, kFinalLF, kDone,
  };
  Result fail(const char* message);

  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  int size_digits_ = 0;
  bool last_chunk_ = false;
  const char* error_ = "";
};

}  // namespace isogate
