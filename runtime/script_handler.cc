#include "runtime/script_handler.h"

#include <algorithm>
#include <cstdio>

#include "runtime/js_errors.h"
#include "runtime/js_headers.h"
#include "runtime/metrics.h"
#include "runtime/worker.h"

namespace isogate {

// The client's request body, as a host body handed to the script.
class RequestBodyStream final : public HostBody {
 public:
  RequestBodyStream(ScriptHandler* feeder, std::optional<uint64_t> length)
      : feeder_(feeder), length_(length) {}
  ~RequestBodyStream() override {
    if (feeder_) feeder_->detachRequestBody();
  }
  void detachFeeder() { feeder_ = nullptr; }

  void pause() override {
    if (feeder_ && feeder_->exchange()) feeder_->exchange()->pauseRequestBody();
  }
  void resume() override {
    if (feeder_ && feeder_->exchange()) feeder_->exchange()->resumeRequestBody();
  }
  void cancel() override {}
  std::optional<uint64_t> knownLength() const override { return length_; }

 protected:
  void onBufferFull() override { pause(); }
  void onBufferDrained() override { resume(); }

 private:
  ScriptHandler* feeder_;
  std::optional<uint64_t> length_;
};

namespace {

// As in Workers, the client's address arrives as CF-Connecting-IP, set by
// the host only (a client-sent one is dropped, so it cannot be spoofed).
constexpr std::string_view kConnectingIp = "CF-Connecting-IP";

constexpr const char* kStandardLogFields[] = {
    "timestamp", "request_id", "method", "path", "route", "status", "latency_ms",
    "upstream_ms", "cpu_ms", "bytes_in", "bytes_out", "user_agent", "remote_addr", "cache"};

ScriptHandler* handlerOf(const v8::FunctionCallbackInfo<v8::Value>& info, ScriptInstance** instance,
                         std::shared_ptr<RequestContext>* request) {
  *instance = ScriptInstance::fromContext(info.GetIsolate()->GetCurrentContext());
  uint64_t id = static_cast<uint64_t>(info.Data().As<v8::Number>()->Value());
  *request = (*instance)->liveRequest(id);
  return *request ? (*request)->handler : nullptr;
}

void onRejected(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ScriptInstance* instance;
  std::shared_ptr<RequestContext> request;
  ScriptHandler* handler = handlerOf(info, &instance, &request);
  if (!request) return;
  request->response_settled = true;
  if (handler) handler->onHandlerException(*instance, info[0]);
  instance->maybeRetire(request);
}

void onBodyBytes(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ScriptInstance* instance;
  std::shared_ptr<RequestContext> request;
  ScriptHandler* handler = handlerOf(info, &instance, &request);
  if (!request) return;
  request->response_settled = true;
  if (handler) handler->onBodyBytesReady(info[0]);
  instance->maybeRetire(request);
}

void waitUntilSettled(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ScriptInstance* instance;
  std::shared_ptr<RequestContext> request;
  handlerOf(info, &instance, &request);
  if (!request) return;
  --request->wait_until_pending;
  instance->maybeRetire(request);
}

// The request of a ctx method call, from `this` (a ctx object).
std::shared_ptr<RequestContext> ctxRequest(const v8::FunctionCallbackInfo<v8::Value>& info, ScriptInstance** instance) {
  v8::Isolate* isolate = info.GetIsolate();
  *instance = ScriptInstance::fromContext(isolate->GetCurrentContext());
  v8::Local<v8::Object> self = info.This();
  if (self->InternalFieldCount() != 1 || !self->GetInternalField(0)->IsNumber()) {
    isolate->ThrowException(v8::Exception::TypeError(v8Str(isolate, "Illegal invocation")));
    return nullptr;
  }
  return (*instance)->liveRequest(static_cast<uint64_t>(self->GetInternalField(0).As<v8::Number>()->Value()));
}

void ctxWaitUntil(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ScriptInstance* instance;
  std::shared_ptr<RequestContext> request = ctxRequest(info, &instance);
  if (!request) return;
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Promise::Resolver> resolver;
  if (!v8::Promise::Resolver::New(context).ToLocal(&resolver)) return;
  resolver->Resolve(context, info[0]).Check();
  v8::Local<v8::Function> done =
      v8::Function::New(context, waitUntilSettled, v8::Number::New(isolate, static_cast<double>(request->id)))
          .ToLocalChecked();
  ++request->wait_until_pending;
  resolver->GetPromise()->Then(context, done, done).ToLocalChecked();
}

void ctxLog(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ScriptInstance* instance;
  std::shared_ptr<RequestContext> request = ctxRequest(info, &instance);
  v8::Isolate* isolate = info.GetIsolate();
  if (!request || !info[0]->IsObject()) {
    if (!info[0]->IsObject()) {
      isolate->ThrowException(v8::Exception::TypeError(v8Str(isolate, "ctx.log() expects an object of fields")));
    }
    return;
  }
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> fields = info[0].As<v8::Object>();
  v8::Local<v8::Array> keys;
  if (!fields->GetOwnPropertyNames(context).ToLocal(&keys)) return;
  for (uint32_t i = 0; i < keys->Length(); ++i) {
    v8::Local<v8::Value> key = keys->Get(context, i).ToLocalChecked();
    std::string name = toUtf8(isolate, key);
    bool standard = false;
    for (const char* f : kStandardLogFields) standard = standard || name == f;
    if (standard) continue;  // standard fields are never replaced
    v8::Local<v8::Value> value;
    if (!fields->Get(context, key).ToLocal(&value)) return;
    v8::Local<v8::String> json;
    if (!v8::JSON::Stringify(context, value).ToLocal(&json)) return;
    std::string encoded = toUtf8(isolate, json);
    if (encoded == "undefined") continue;
    // A later ctx.log of the same field wins.
    auto& fields_out = request->log_fields;
    auto it = std::find_if(fields_out.begin(), fields_out.end(), [&](const auto& f) { return f.first == name; });
    if (it != fields_out.end()) {
      it->second = encoded;
    } else {
      fields_out.emplace_back(name, encoded);
    }
  }
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The api_key for the metrics from its ctx.log JSON text (as JSON.stringify
// wrote it): a string is unescaped, a number kept as written, anything else
// is not a key.
bool apiKeyFromJson(std::string_view json, std::string* key) {
  key->clear();
  if (!json.empty() && (json[0] == '-' || (json[0] >= '0' && json[0] <= '9'))) {
    key->assign(json);
    return true;
  }
  if (json.size() < 2 || json.front() != '"' || json.back() != '"') return false;
  json = json.substr(1, json.size() - 2);
  for (size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '\\') {
      key->push_back(json[i]);
      continue;
    }
    if (++i >= json.size()) return false;
    switch (json[i]) {
      case 'b': key->push_back('\b'); break;
      case 'f': key->push_back('\f'); break;
      case 'n': key->push_back('\n'); break;
      case 'r': key->push_back('\r'); break;
      case 't': key->push_back('\t'); break;
      case 'u': {
        // JSON.stringify escapes control characters and lone surrogates;
        // a lone surrogate becomes U+FFFD.
        if (i + 4 >= json.size()) return false;
        uint32_t cp = 0;
        for (size_t k = 1; k <= 4; ++k) {
          const char c = json[i + k];
          cp <<= 4;
          if (c >= '0' && c <= '9') cp |= static_cast<uint32_t>(c - '0');
          else if (c >= 'a' && c <= 'f') cp |= static_cast<uint32_t>(c - 'a' + 10);
          else if (c >= 'A' && c <= 'F') cp |= static_cast<uint32_t>(c - 'A' + 10);
          else return false;
        }
        i += 4;
        appendUtf8(*key, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
        break;
      }
      default: key->push_back(json[i]);  // \" \\ \/
    }
  }
  return true;
}

// Counts a request that ends in a script error (the route is in its log entry).
void countScriptError(Exchange* exchange, std::string_view kind) {
  if (exchange) metrics::recordScriptError(exchange->logEntry().route, kind);
}

// ctx objects come from one template per isolate; methods find their request
// through the object's internal field, so a request costs one allocation.
v8::Local<v8::Object> makeCtx(ScriptInstance& instance, uint64_t request_id) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Context> context = instance.context();
  v8::Global<v8::ObjectTemplate>& slot = instance.ctxTemplate();
  if (slot.IsEmpty()) {
    v8::Local<v8::ObjectTemplate> tmpl = v8::ObjectTemplate::New(isolate);
    tmpl->SetInternalFieldCount(1);
    tmpl->Set(isolate, "waitUntil", v8::FunctionTemplate::New(isolate, ctxWaitUntil));
    tmpl->Set(isolate, "log", v8::FunctionTemplate::New(isolate, ctxLog));
    slot.Reset(isolate, tmpl);
  }
  v8::Local<v8::Object> ctx = slot.Get(isolate)->NewInstance(context).ToLocalChecked();
  ctx->SetInternalField(0, v8::Number::New(isolate, static_cast<double>(request_id)));
  return ctx;
}

}  // namespace

ScriptHandler::ScriptHandler(Exchange& exchange, std::shared_ptr<DeploymentInstance> deployment,
                             size_t route_index)
    : exchange_(&exchange), deployment_(std::move(deployment)), route_index_(route_index) {}

ScriptHandler::~ScriptHandler() { detach(); }

void ScriptHandler::detach() {
  if (request_) request_->handler = nullptr;
  if (request_body_) {
    request_body_->detachFeeder();
    request_body_ = nullptr;
  }
  response_body_.reset();
  wall_timer_.reset();
}

void ScriptHandler::start() {
  const RouteConfig& route = deployment_->deployment().config().routes[route_index_];
  exchange_->logEntry().route = route.name;
  std::string error;
  ScriptInstance* instance = deployment_->scriptInstance(route_index_, &error);
  if (!instance) {
    fprintf(stderr, "isogate: route %s: %s\n", route.name.c_str(), error.c_str());
    metrics::recordScriptError(route.name, "load");
    fail(500, "script_error", "the script failed to load");
    return;
  }
  request_ = instance->beginRequest(this, exchange_->requestId());
  instance_ = instance;
  bool ok = instance->run(request_, [&] { invoke(*instance); });
  if (!ok) {
    deployment_->discardScriptInstance(route_index_);  // answers every request on it
    return;
  }
  // Most handlers have answered by now; only those still waiting need the
  // wall-time clock (counted from the request's start).
  if (exchange_ && !exchange_->responseStarted()) startWallTimer(*instance);
}

void ScriptHandler::startWallTimer(ScriptInstance& instance) {
  const uint64_t wall_ns = static_cast<uint64_t>(deployment_->deployment().config().limits.wall_ms) * 1000000;
  const uint64_t elapsed = uv_hrtime() - exchange_->logEntry().start_ns;
  wall_timer_ = std::make_unique<Timer>(instance.loop(), [this] {
    ScriptInstance* owner = instance_;
    std::shared_ptr<RequestContext> request = request_;
    countScriptError(exchange_, "exceeded_wall_time");
    fail(503, "exceeded_wall_time", "the script did not respond within limits.wall_ms");
    if (owner && request) owner->abandonRequest(request);  // its timers and fetches end too
  });
  wall_timer_->start(elapsed >= wall_ns ? 0 : (wall_ns - elapsed) / 1000000);
}

void ScriptHandler::invoke(ScriptInstance& instance) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Context> context = instance.context();
  const RequestHead& req = exchange_->request();

  std::string url = exchange_->secure() ? "https://" : "http://";
  url.append(req.host.empty() ? "localhost" : req.host);
  url.append(exchange_->normalizedPath());
  url.append(req.query);
  v8::Local<v8::Array> headers = toFlatHeadersWith(isolate, req.headers, kConnectingIp, exchange_->remoteAddress());
  if (survivesFlatRoundTrip(req.headers)) request_->client_flat.Reset(isolate, headers);
  v8::Local<v8::Value> body = v8::Null(isolate);
  if (req.hasBody()) {
    auto stream = std::make_unique<RequestBodyStream>(this, req.content_length);
    request_body_ = stream.get();
    body = instance.wrapBody(std::move(stream), request_->id);
  }
  v8::Local<v8::Value> args[4] = {v8Str(isolate, req.method), v8Str(isolate, url), headers, body};
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::Value> request;
  if (!instance.internals().make_request.Get(isolate)->Call(context, v8::Undefined(isolate), 4, args).ToLocal(&request)) {
    if (try_catch.HasTerminated()) return;
    request_->response_settled = true;
    onHandlerException(instance, try_catch.Exception());
    return;
  }
  v8::Local<v8::Value> call_args[3] = {request, instance.env(), makeCtx(instance, request_->id)};
  v8::Local<v8::Value> result;
  if (!instance.fetchHandler()->Call(context, instance.exported(), 3, call_args).ToLocal(&result)) {
    if (try_catch.HasTerminated()) return;
    request_->response_settled = true;
    onHandlerException(instance, try_catch.Exception());
    return;
  }
  // Most handlers settle without waiting for I/O: answer right away instead
  // of going through promise reactions.
  if (result->IsPromise() && result.As<v8::Promise>()->State() == v8::Promise::kPending) {
    isolate->PerformMicrotaskCheckpoint();
    if (try_catch.HasTerminated() || isolate->IsExecutionTerminating()) return;
  }
  std::shared_ptr<RequestContext> request_context = request_;
  v8::Local<v8::Promise> promise = result.As<v8::Promise>();
  if (!result->IsPromise() || promise->State() != v8::Promise::kPending) {
    const bool rejected = result->IsPromise() && promise->State() == v8::Promise::kRejected;
    v8::Local<v8::Value> value = result->IsPromise() ? promise->Result() : result;
    if (rejected) promise->MarkAsHandled();
    request_context->response_settled = true;
    if (rejected) {
      onHandlerException(instance, value);
    } else {
      onHandlerResult(instance, value);
    }
    instance.maybeRetire(request_context);
    return;
  }
  instance.watchResponse(promise, request_context);
}

bool ScriptHandler::clientHeadersFor(v8::Local<v8::Value> flat, HeaderList* out) const {
  if (!exchange_ || request_->client_flat.IsEmpty() || request_->client_flat != flat) return false;
  // What toFlatHeadersWith put in the array, in the same order.
  const HeaderList& headers = exchange_->request().headers;
  out->clear();
  out->reserve(headers.size() + 1);
  for (const Header& h : headers) {
    if (!equalsIgnoreCase(h.name, kConnectingIp)) out->push_back(h);
  }
  out->push_back({std::string(kConnectingIp), std::string(exchange_->remoteAddress())});
  return true;
}

void ScriptHandler::onHandlerResult(ScriptInstance& instance, v8::Local<v8::Value> value) {
  if (!exchange_) return;
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Context> context = instance.context();
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::Value> parts_value;
  if (!instance.internals().response_parts.Get(isolate)->Call(context, v8::Undefined(isolate), 1, &value).ToLocal(&parts_value) ||
      !parts_value->IsArray()) {
    if (try_catch.HasTerminated()) return;
    std::string why = try_catch.HasCaught() ? ": " + exceptionStack(isolate, context, try_catch.Exception()) : "";
    fprintf(stderr, "isogate: request %s: the handler did not return a Response%s\n", exchange_->requestId().c_str(),
            why.c_str());
    countScriptError(exchange_, "bad_response");
    fail(500, "script_error", "the handler did not return a Response");
    return;
  }
  v8::Local<v8::Array> parts = parts_value.As<v8::Array>();
  ResponseHead head;
  head.status = parts->Get(context, 0).ToLocalChecked()->Int32Value(context).FromMaybe(500);
  head.reason = toUtf8(isolate, parts->Get(context, 1).ToLocalChecked());
  v8::Local<v8::Value> flat = parts->Get(context, 2).ToLocalChecked();
  v8::Local<v8::Value> body = parts->Get(context, 3).ToLocalChecked();
  // A fetch() response returned with its headers untouched: send the
  // origin's list as the host received it.
  if (!instance.takeHeadersOfBody(body, flat, &head.headers)) {
    head.headers = fromFlatHeaders(isolate, context, flat);
  }
  if (head.status < 200 || head.status > 599) {
    // Response.error() (status 0) or anything else no client can be sent.
    fprintf(stderr, "isogate: request %s: the handler returned a network error response\n",
            exchange_->requestId().c_str());
    countScriptError(exchange_, "bad_response");
    fail(500, "script_error", "the handler returned an error response");
    return;
  }
  finishLog(instance.cpuInFlightNs());
  if (body->IsPromise()) {
    // A body shared with a clone arrives as a promise of its bytes; the
    // request's work is not over until they are here.
    request_->response_settled = false;
    pending_head_ = std::move(head);
    v8::Local<v8::Value> id = v8::Number::New(isolate, static_cast<double>(request_->id));
    body.As<v8::Promise>()
        ->Then(context, v8::Function::New(context, onBodyBytes, id).ToLocalChecked(),
               v8::Function::New(context, onRejected, id).ToLocalChecked())
        .ToLocalChecked();
    return;
  }
  wall_timer_.reset();
  if (body->IsUint8Array()) {
    sendBytes(std::move(head), body.As<v8::Uint8Array>());
    return;
  }
  if (body->IsString()) {
    v8::Local<v8::String> text = body.As<v8::String>();
    std::string bytes(static_cast<size_t>(text->Utf8Length(isolate)), '\0');
    text->WriteUtf8(isolate, bytes.data(), static_cast<int>(bytes.size()), nullptr,
                    v8::String::NO_NULL_TERMINATION | v8::String::REPLACE_INVALID_UTF8);
    Exchange* exchange = release();
    exchange->sendResponseHead(std::move(head), BodyFraming::kContentLength, bytes.size());
    exchange->sendResponseBody(bytes.data(), bytes.size());
    exchange->finishResponse();  // retires this handler
    return;
  }
  if (instance.isBodyHandle(body)) {
    response_body_ = instance.takeBodyFromHandle(body);
  }
  if (!response_body_) {
    Exchange* exchange = release();
    exchange->sendResponseHead(std::move(head), BodyFraming::kNone, 0);
    exchange->finishResponse();
    return;
  }
  std::optional<uint64_t> length = response_body_->knownLength();
  exchange_->sendResponseHead(std::move(head), length ? BodyFraming::kContentLength : BodyFraming::kChunked,
                              length.value_or(0));
  response_body_->start(this);
  // Without body bytes at hand, send the head now, unless they are coming in
  // this very read (then head and body leave in one write).
  if (exchange_ && response_body_ && !response_body_->deliveringSoon()) exchange_->flushResponse();
}

void ScriptHandler::onBodyInputProcessed() {
  if (exchange_) exchange_->flushResponse();
}

void ScriptHandler::sendBytes(ResponseHead&& head, v8::Local<v8::Uint8Array> bytes) {
  const size_t len = bytes->ByteLength();
  std::string copy(len, '\0');
  if (len) bytes->CopyContents(copy.data(), len);
  Exchange* exchange = release();
  exchange->sendResponseHead(std::move(head), BodyFraming::kContentLength, len);
  exchange->sendResponseBody(copy.data(), copy.size());
  exchange->finishResponse();  // retires this handler
}

void ScriptHandler::onBodyBytesReady(v8::Local<v8::Value> bytes) {
  if (!exchange_ || !pending_head_) return;
  wall_timer_.reset();
  ResponseHead head = std::move(*pending_head_);
  pending_head_.reset();
  if (!bytes->IsUint8Array()) {
    countScriptError(exchange_, "bad_response");
    fail(500, "script_error", "the response body could not be read");
    return;
  }
  sendBytes(std::move(head), bytes.As<v8::Uint8Array>());
}

void ScriptHandler::onHandlerException(ScriptInstance& instance, v8::Local<v8::Value> exception) {
  if (!exchange_) return;
  fprintf(stderr, "isogate: request %s: uncaught exception in route %s: %s\n", exchange_->requestId().c_str(),
          exchange_->logEntry().route.c_str(),
          exceptionStack(instance.isolate(), instance.context(), exception).c_str());
  finishLog(instance.cpuInFlightNs());
  countScriptError(exchange_, "exception");
  fail(500, "script_error", "the script threw an uncaught exception");
}

void ScriptHandler::onInstanceBroken(const std::string& reason) {
  instance_ = nullptr;
  if (!exchange_) return;
  countScriptError(exchange_, reason);
  fail(503, reason.c_str(),
       reason == "exceeded_memory" ? "the script exceeded limits.memory_mb" : "the script exceeded limits.cpu_ms");
}

void ScriptHandler::finishLog(int64_t in_flight_ns) {
  if (!exchange_ || !request_ || logged_) return;
  logged_ = true;
  AccessLogEntry& log = exchange_->logEntry();
  log.extra_json.clear();
  for (const auto& [name, json] : request_->log_fields) {
    if (!log.extra_json.empty()) log.extra_json += ",";
    appendJsonString(log.extra_json, name);
    log.extra_json += ":" + json;
    std::string key;
    if (name == "api_key" && apiKeyFromJson(json, &key)) metrics::recordApiKey(log.route, key);
  }
  log.cpu_ms = static_cast<double>(request_->cpu_used_ns + in_flight_ns) / 1e6;
  metrics::recordScriptCpu(log.route, log.cpu_ms / 1000.0);
}

Exchange* ScriptHandler::release() {
  Exchange* exchange = exchange_;
  detach();
  exchange_ = nullptr;
  return exchange;
}

void ScriptHandler::fail(int status, const char* code, const std::string& message) {
  if (!exchange_) return;
  finishLog();
  release()->sendError(status, code, message);  // retires this handler
}

void ScriptHandler::onRequestBody(const char* data, size_t len) {
  if (request_body_) request_body_->push(data, len);
}

void ScriptHandler::onRequestEnd() {
  if (request_body_) request_body_->end();
}

void ScriptHandler::onResponseDrained() {
  if (response_body_) response_body_->resume();
}

void ScriptHandler::onExchangeAborted() {
  exchange_ = nullptr;
  if (request_body_) request_body_->fail();
  detach();
}

void ScriptHandler::onBodyData(const char* data, size_t len) {
  if (!exchange_) return;
  exchange_->sendResponseBody(data, len);
  if (exchange_ && response_body_ && exchange_->responseBackedUp()) response_body_->pause();
}

void ScriptHandler::onBodyEnd() {
  if (!exchange_) return;
  Exchange* exchange = exchange_;
  exchange_ = nullptr;
  exchange->finishResponse();
}

void ScriptHandler::onBodyError() {
  if (!exchange_) return;
  Exchange* exchange = exchange_;
  exchange_ = nullptr;
  exchange->abortResponse();
}

}  // namespace isogate
