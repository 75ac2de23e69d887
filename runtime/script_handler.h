#pragma once
// Script route: runs the route's `fetch(request, env, ctx)` in its
// ScriptInstance and writes the Response it returns. A Response whose body is
// a host body (an origin's response never read in JS) is piped to the client
// with backpressure, never buffered. One per exchange, on the worker thread.

#include <v8.h>

#include <memory>
#include <optional>

#include "runtime/deployment.h"
#include "runtime/exchange.h"
#include "runtime/host_body.h"
#include "runtime/script_instance.h"
#include "runtime/timer.h"

namespace isogate {

class RequestBodyStream;

class ScriptHandler final : public ExchangeHandler, private BodySink {
 public:
  ScriptHandler(Exchange& exchange, std::shared_ptr<DeploymentInstance> instance, size_t route_index);
  ~ScriptHandler() override;

  void start() override;
  void onRequestBody(const char* data, size_t len) override;
  void onRequestEnd() override;
  void onResponseDrained() override;
  void onExchangeAborted() override;

  // The isolate was terminated (cpu_ms, memory_mb): 503 for this request.
  void onInstanceBroken(const std::string& reason);
  // The handler's promise settled. Called inside the isolate.
  void onHandlerResult(ScriptInstance& instance, v8::Local<v8::Value> value);
  void onHandlerException(ScriptInstance& instance, v8::Local<v8::Value> exception);
  // The bytes of a body that responseParts() could only promise.
  void onBodyBytesReady(v8::Local<v8::Value> bytes);

  // The request-body stream forgets us when it is destroyed and vice versa.
  void detachRequestBody() { request_body_ = nullptr; }
  Exchange* exchange() { return exchange_; }
  // When `flat` is the very header array the handler's Request was made
  // with (JavaScript neither replaced nor edited it) and the client's request
  // is still at hand, fills *out with the list that array holds (the
  // client's headers and CF-Connecting-IP) from the parsed request, saving
  // the conversion back, and returns true.
  bool clientHeadersFor(v8::Local<v8::Value> flat, HeaderList* out) const;

 private:
  friend class RequestBodyStream;
  void onBodyData(const char* data, size_t len) override;
  void onBodyEnd() override;
  void onBodyError() override;
  void onBodyInputProcessed() override;

  void invoke(ScriptInstance& instance);
  void startWallTimer(ScriptInstance& instance);
  void sendBytes(ResponseHead&& head, v8::Local<v8::Uint8Array> bytes);
  void fail(int status, const char* code, const std::string& message);
  // Copies ctx.log fields and CPU time (plus `in_flight_ns` of the running
  // entry, not yet accounted) into the access-log entry.
  void finishLog(int64_t in_flight_ns = 0);
  void detach();
  // Ends our part in the exchange and returns it for a last write.
  Exchange* release();

  Exchange* exchange_;  // null once the exchange is over
  std::shared_ptr<DeploymentInstance> deployment_;
  size_t route_index_;
  std::shared_ptr<RequestContext> request_;
  RequestBodyStream* request_body_ = nullptr;
  std::unique_ptr<HostBody> response_body_;  // piped to the client
  std::unique_ptr<Timer> wall_timer_;
  std::optional<ResponseHead> pending_head_;  // waiting for promised body bytes
  bool logged_ = false;
  ScriptInstance* instance_ = nullptr;  // cleared when the instance breaks
};

}  // namespace isogate
