#pragma once
// Parses HTTP/1.1 requests from a byte stream: HeadScanner for strict head
// syntax and size, llhttp for structure and body framing, plus the RFC 9112
// rules llhttp leaves to its user (Host, Transfer-Encoding codings, versions,
// body limit). Stops after each complete message so that pipelined requests
// are handled one at a time. Owned by one connection; single-threaded.

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/chunked_scanner.h"
#include "runtime/head_scanner.h"
#include "runtime/http_message.h"

namespace isogate {

class RequestParserDelegate {
 public:
  virtual ~RequestParserDelegate() = default;
  // The head is complete and valid. The parser keeps ownership of nothing in it.
  virtual void onRequestHead(RequestHead&& head) = 0;
  virtual void onRequestBody(const char* data, size_t len) = 0;
  virtual void onRequestComplete() = 0;
};

class RequestParser {
 public:
  enum class Status { kNeedMore, kMessageComplete, kError };
  struct Error {
    int status = 400;
    std::string message;
  };

  RequestParser(RequestParserDelegate& delegate, size_t max_head_bytes, uint64_t max_body_bytes);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses up to `len` bytes; *consumed says how many were used. After
  // kMessageComplete the remaining bytes belong to the next request: call
  // feed() with them once the current response is done.
  Status feed(const char* data, size_t len, size_t* consumed);

  // The head as collected so far; after an error before the head was
  // complete, what arrived of it (for the log and the request id).
  const RequestHead& partialHead() const { return head_; }
  // Whether any byte of the current message has been received.
  bool messageStarted() const { return scanner_.started() || !in_head_; }
  bool inHead() const { return in_head_; }
  uint64_t bodyBytes() const { return body_bytes_; }
  // Size of the current message's head; complete once onRequestHead ran.
  size_t headBytes() const { return scanner_.bytes(); }
  const Error& error() const { return error_; }

 private:
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);

  Status execute(const char* base, const char* data, size_t len, size_t* consumed);
  int fail(int status, std::string message);
  int finishHead();
  void beginMessage();

  RequestParserDelegate& delegate_;
  uint64_t max_body_bytes_;
  HeadScanner scanner_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  ChunkedScanner chunked_scanner_;
  bool chunked_ = false;  // the current message has a chunked body
  bool in_head_ = true;
  bool paused_ = false;
  bool failed_ = false;
  bool last_was_value_ = false;
  uint64_t body_bytes_ = 0;
  RequestHead head_;
  Error error_;
};

}  // namespace isogate
