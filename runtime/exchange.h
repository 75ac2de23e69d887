#pragma once
// One request/response exchange between a client and the gateway, seen from
// the code that produces the response (a proxy route now, a script later).
// The HTTP/1.1 connection implements Exchange; an HTTP/2 stream can later.
// Both sides live on one worker thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/access_log.h"
#include "runtime/http_message.h"

namespace isogate {

// Produces the response for one exchange. Created after routing, destroyed by
// the connection once the exchange is over (response finished or aborted).
class ExchangeHandler {
 public:
  virtual ~ExchangeHandler() = default;
  virtual void start() = 0;
  virtual void onRequestBody(const char* data, size_t len) = 0;
  virtual void onRequestEnd() = 0;
  // The response write queue drained below its low-water mark.
  virtual void onResponseDrained() = 0;
  // The client went away or the exchange failed; no further calls follow and
  // nothing more may be written.
  virtual void onExchangeAborted() = 0;
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const RequestHead& request() const = 0;
  virtual const std::string& requestId() const = 0;
  virtual const std::string& remoteAddress() const = 0;
  // The normalised path used for routing and forwarding (no query).
  virtual const std::string& normalizedPath() const = 0;
  virtual AccessLogEntry& logEntry() = 0;
  // Whether the client reached us over TLS (the request URL scripts see is
  // then https://).
  virtual bool secure() const { return false; }

  // Flow control of the request body towards the handler.
  virtual void pauseRequestBody() = 0;
  virtual void resumeRequestBody() = 0;

  // Response. `content_length` is used with BodyFraming::kContentLength. For
  // other framings the connection chooses the wire framing (chunked for
  // HTTP/1.1 clients, close-delimited for HTTP/1.0).
  virtual void sendResponseHead(ResponseHead&& head, BodyFraming framing,
                                uint64_t content_length) = 0;
  virtual void sendResponseBody(const char* data, size_t len) = 0;
  virtual void finishResponse() = 0;
  // Writes a response head held back to be sent together with the first
  // body bytes. Call when no body bytes are at hand yet.
  virtual void flushResponse() = 0;
  // Ends a response that cannot be completed: the client sees a truncated
  // body and a closed connection.
  virtual void abortResponse() = 0;
  // A complete JSON error response {"error", "message", "request_id"}.
  virtual void sendError(int status, std::string_view code, std::string_view message,
                         const HeaderList& extra_headers = {}) = 0;

  virtual bool responseStarted() const = 0;
  // Whether the handler should stop producing until onResponseDrained().
  virtual bool responseBackedUp() const = 0;
};

}  // namespace isogate
