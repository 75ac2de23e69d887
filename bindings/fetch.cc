// fetch(), Request, Response, Headers (bindings/js/fetch_api.js) and the
// natives behind them: fetch to origins and the egress allow-list over the
// worker's pooled HTTP client, and host bodies (the client's request body, an
// origin's response body) that stream unless JavaScript reads them.
#include <algorithm>
#include <memory>
#include <string>

#include "bindings/cache.h"
#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "cache/policy.h"
#include "cache/store.h"
#include "runtime/cache_wait.h"
#include "runtime/deployment.h"
#include "runtime/js_errors.h"
#include "runtime/js_headers.h"
#include "runtime/script_handler.h"
#include "runtime/upstream.h"
#include "runtime/worker.h"

namespace isogate {

extern const char kJs_fetch_api[];

namespace {

struct FetchUrl {
  std::string scheme, host, target;  // target: path + query
  uint16_t port = 0;
  bool explicit_port = false;
};

bool parseFetchUrl(const std::string& url, FetchUrl* out) {
  size_t colon = url.find("://");
  if (colon == std::string::npos) return false;
  out->scheme = url.substr(0, colon);
  if (out->scheme != "http" && out->scheme != "https") return false;
  size_t start = colon + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.find('@') != std::string::npos) authority = authority.substr(authority.rfind('@') + 1);
  size_t port_sep = authority.rfind(':');
  if (port_sep != std::string::npos && authority.find(']', port_sep) == std::string::npos) {
    out->port = static_cast<uint16_t>(std::stoi(authority.substr(port_sep + 1)));
    out->explicit_port = true;
    authority = authority.substr(0, port_sep);
  } else {
    out->port = out->scheme == "https" ? 443 : 80;
  }
  if (authority.size() > 1 && authority.front() == '[') authority = authority.substr(1, authority.size() - 2);
  out->host = authority;
  std::string rest = end == std::string::npos ? "/" : url.substr(end);
  size_t hash = rest.find('#');
  if (hash != std::string::npos) rest = rest.substr(0, hash);
  if (rest.empty() || rest[0] != '/') rest = "/" + rest;
  out->target = rest;
  return !out->host.empty();
}

void reject(v8::Isolate* isolate, v8::Local<v8::Promise::Resolver> resolver, v8::Local<v8::Value> error) {
  resolver->Reject(isolate->GetCurrentContext(), error).Check();
}

// What the response cache does for one fetch() with cacheTtl.
struct FetchCachePlan {
  cache::Store* store = nullptr;
  std::string url;             // the URL actually fetched, as cache keys spell it
  std::string key;             // cache::makeKey("", url): the HTTP cache, shared with caches.default
  HeaderList request_headers;  // for the response's Vary
  cache::RequestFacts facts;
  int64_t ttl_s = 0;           // cacheTtl: wins over the origin's freshness
  cache::Forward forward = cache::Forward::kMiss;  // why the origin is asked
  bool lookup = false;         // GET or HEAD the request allows a stored answer for
  bool may_store = false;      // a GET without a body
  cache::FillLeader leader;    // set while this fetch fills the key for waiters
};

// One fetch: the pending promise until the response head arrives, then the
// response body as a host body. Owned by a PendingFetch resource while the
// promise is pending, then by the body handle (or whoever took it).
//
// With a FetchCachePlan (cacheTtl), a fresh stored response answers without
// contacting the origin; on a miss the first request for the key fetches
// while concurrent ones (on any worker) wait for it, and the response is
// captured into the store as its body passes (up to the per-entry cap),
// whether JavaScript reads it or it streams to the client.
class UpstreamFetch final : public HostBody, public UpstreamResponseHandler, public BodySink {
 public:
  UpstreamFetch(ScriptInstance& instance, std::shared_ptr<RequestContext> request, std::string url,
                std::unique_ptr<FetchCachePlan> cache_plan = nullptr)
      : instance_(instance), request_(std::move(request)), url_(std::move(url)), cache_(std::move(cache_plan)) {}

  // Returns false, having touched neither the promise nor the origin, when
  // the origin's circuit breaker is open; the caller then rejects and drops us.
  bool start(OriginPool& pool, UpstreamRequestHead head, std::unique_ptr<HostBody> request_body,
             std::string body_bytes, v8::Local<v8::Promise::Resolver> resolver, uint64_t pending_id) {
    pending_id_ = pending_id;
    resolver_.Reset(instance_.isolate(), resolver);
    // A failure inside start() must not destroy us before we return.
    starting_ = true;
    if (!answerFromCache(pool, head) && !sendUpstream(pool, std::move(head), std::move(request_body), body_bytes)) {
      resolver_.Reset();
      starting_ = false;
      return false;
    }
    starting_ = false;
    if (finished_ && pending_id_) instance_.removeResource(pending_id_);  // destroys this
    return true;
  }

  // HostBody (the response body)
  void pause() override {
    if (upstream_) upstream_->pauseResponse();
  }
  void resume() override {
    if (upstream_) upstream_->resumeResponse();
  }
  void cancel() override {
    upstream_.reset();
    builder_.reset();  // an incomplete response is never stored
    endFill(false);
  }
  std::optional<uint64_t> knownLength() const override { return length_; }
  bool deliveringSoon() const override { return in_input_; }

 private:
  void onBufferFull() override { pause(); }
  void onBufferDrained() override { resume(); }

  bool sendUpstream(OriginPool& pool, UpstreamRequestHead head, std::unique_ptr<HostBody> request_body,
                    const std::string& body_bytes) {
    upstream_ = std::make_unique<UpstreamRequest>(pool, std::move(head), *this);
    if (!upstream_->start()) {
      upstream_.reset();
      return false;
    }
    if (upstream_ && request_body) {
      request_body_ = std::move(request_body);
      request_body_->start(this);
    } else if (upstream_) {
      if (!body_bytes.empty()) upstream_->sendBody(body_bytes.data(), body_bytes.size());
      if (upstream_) upstream_->finishBody();
    }
    return true;
  }

  // Looks the key up: true when the fetch is answered (a hit) or parked
  // (waiting for another request's fill); false: go to the origin.
  bool answerFromCache(OriginPool& pool, UpstreamRequestHead& head) {
    if (!cache_ || !cache_->lookup) return false;
    const int64_t now = cache::wallClockMs();
    cache::Lookup found = cache_->store->lookup(cache_->key, cache_->request_headers, now);
    if (found.result == cache::LookupResult::kHit) {
      resolveFromEntry(found.entry, now, cache::cacheStatusHit());
      return true;
    }
    cache_->forward = cache::forwardFor(found.result);
    setCacheUse(*request_, CacheUse::kMiss);
    if (!cache_->may_store) return false;
    cache::Join join = cache_->store->join(cache_->key);
    if (join.leader) {
      cache_->leader = std::move(join.leader);
      return false;
    }
    // Another request is fetching this key: wait for it (bounded), then look
    // again or go to the origin ourselves (without joining again).
    pool_ = &pool;
    deferred_head_ = std::move(head);
    Worker* worker = instance_.services().worker;
    wait_ = std::make_unique<CacheWait>(instance_.loop(), worker->mailbox(), std::move(join.wait),
                                        cacheWaitMs(pool.origin().timeout_ms),
                                        [this](CacheWait::Result result) { onWaitDone(result); });
    return true;
  }

  void onWaitDone(CacheWait::Result result) {
    wait_.reset();  // allowed inside its own callback
    if (result == CacheWait::Result::kStored) {
      const int64_t now = cache::wallClockMs();
      cache::Lookup found = cache_->store->lookup(cache_->key, cache_->request_headers, now);
      if (found.result == cache::LookupResult::kHit) {
        // Answered by the request we waited for: the origin was not contacted.
        resolveFromEntry(found.entry, now,
                         cache::cacheStatusForward(cache::Forward::kMiss, false, {}, 0, /*collapsed=*/true));
        if (pending_id_) release();  // destroys this
        return;
      }
      cache_->forward = cache::forwardFor(found.result);
    }
    starting_ = true;
    const bool sent = sendUpstream(*pool_, std::move(deferred_head_), nullptr, std::string());
    starting_ = false;
    if (!sent) {
      failPending("fetch to " + url_ + " failed: origin \"" + pool_->origin().name +
                  "\" is unavailable (circuit breaker open)");
      return;
    }
    if (finished_ && pending_id_) instance_.removeResource(pending_id_);  // destroys this
  }

  // Resolves the promise with a stored response (the body shares the
  // stored bytes); the caller then drops this fetch.
  void resolveFromEntry(const std::shared_ptr<const cache::CachedResponse>& entry, int64_t now,
                        const std::string& cache_status) {
    setCacheUse(*request_, CacheUse::kHit);
    finished_ = true;
    if (resolver_.IsEmpty()) return;
    v8::Isolate* isolate = instance_.isolate();
    std::shared_ptr<RequestContext> request = request_;
    const bool not_modified = cache::notModified(*entry, cache_->facts);
    const bool head = cache_->facts.method == "HEAD";
    instance_.runFromHost(request, [&] {
      v8::Local<v8::Context> context = instance_.context();
      v8::Local<v8::Promise::Resolver> resolver = resolver_.Get(isolate);
      resolver_.Reset();
      v8::Local<v8::Array> parts =
          storedResponseParts(instance_, request->id, entry, not_modified, head, cache_status, now);
      v8::Local<v8::Value> all[5] = {parts->Get(context, 0).ToLocalChecked(), parts->Get(context, 1).ToLocalChecked(),
                                     parts->Get(context, 2).ToLocalChecked(), parts->Get(context, 3).ToLocalChecked(),
                                     v8Str(isolate, url_)};
      resolver->Resolve(context, v8::Array::New(isolate, all, 5)).Check();
    });
  }

  // At the response head: whether to capture it, and its Cache-Status.
  void planCapture(ResponseHead& head, BodyFraming framing, uint64_t content_length) {
    const int64_t now = cache::wallClockMs();
    cache::StoreDecision decision = cache::decideStore(cache_->facts, head.status, head.headers, cache_->ttl_s, now);
    bool stored = decision.store && cache_->may_store;
    if (stored) {
      std::optional<uint64_t> length;
      if (framing == BodyFraming::kContentLength) length = content_length;
      builder_.emplace(cache::EntryBuilder::from(
          "", cache_->url, head.status, head.reason, head.headers, decision,
          cache::varyValues(decision.vary_names, cache::fieldReader(cache_->request_headers)),
          cache_->store->maxEntryBytes(), now, length));
      if (builder_->overflowed()) {
        builder_.reset();
        stored = false;
        decision.detail = "too-large";
      }
    }
    if (!builder_) endFill(false);
    head.headers.push_back(
        {"Cache-Status", cache::cacheStatusForward(cache_->forward, stored,
                                                   stored || cache_->forward == cache::Forward::kMethod
                                                       ? std::string()
                                                       : decision.detail)});
  }

  // The captured response is complete: store it before the client (or a
  // waiter on another worker) can see the response end.
  void storeCapture() {
    if (!builder_) return;
    std::shared_ptr<const cache::CachedResponse> entry = builder_->finish();
    builder_.reset();
    endFill(entry && cache_->store->insert(std::move(entry), cache::wallClockMs()));
  }

  void endFill(bool stored) {
    if (cache_ && cache_->leader) {
      cache_->leader.finish(stored ? cache::FillOutcome::kStored : cache::FillOutcome::kNotStored);
    }
  }

  // BodySink (the request body streamed to the origin)
  void onBodyData(const char* data, size_t len) override {
    if (!upstream_) return;
    upstream_->sendBody(data, len);
    if (upstream_ && upstream_->bodyBackedUp() && request_body_) request_body_->pause();
  }
  void onBodyEnd() override {
    if (upstream_) upstream_->finishBody();
  }
  void onBodyError() override {
    // The client went away mid-upload: the origin must not see a complete request.
    upstream_.reset();
    failPending("Network connection lost.");
  }

  // UpstreamResponseHandler
  void onUpstreamRequestDrained() override {
    if (request_body_) request_body_->resume();
  }

  void onUpstreamHead(ResponseHead&& head, BodyFraming framing, uint64_t content_length) override {
    head_received_ = true;
    if (cache_) planCapture(head, framing, content_length);
    in_input_ = true;  // the rest of this read (body bytes) follows; see onUpstreamInputProcessed
    if (framing == BodyFraming::kContentLength) length_ = content_length;
    const bool has_body = framing != BodyFraming::kNone;
    v8::Isolate* isolate = instance_.isolate();
    std::shared_ptr<RequestContext> request = request_;
    instance_.runFromHost(request, [&] {
      v8::Local<v8::Context> context = instance_.context();
      v8::Local<v8::Promise::Resolver> resolver = resolver_.Get(isolate);
      resolver_.Reset();
      v8::Local<v8::Array> headers = toFlatHeaders(isolate, context, head.headers);
      v8::Local<v8::Value> body = v8::Null(isolate);
      if (has_body) {
        // From now on the body handle owns this fetch.
        std::unique_ptr<HostResource> pending = instance_.takeResource(pending_id_);
        pending_id_ = 0;
        std::unique_ptr<UpstreamFetch> self = std::move(static_cast<Owner*>(pending.get())->fetch);
        // The host keeps the origin's header list with the body: a handler
        // that returns this response as it came is answered from it.
        body = survivesFlatRoundTrip(head.headers)
                   ? instance_.wrapBody(std::move(self), request->id, headers, std::move(head.headers))
                   : instance_.wrapBody(std::move(self), request->id);
      }
      std::string reason = head.reason.empty() ? reasonPhrase(head.status) : head.reason;
      v8::Local<v8::Value> parts[5] = {v8::Integer::New(isolate, head.status), v8Str(isolate, reason), headers,
                                       body, v8Str(isolate, url_)};
      resolver->Resolve(context, v8::Array::New(isolate, parts, 5)).Check();
    });
  }

  void onUpstreamBody(const char* data, size_t len) override {
    if (builder_) {
      captured_ += len;
      if (!builder_->append(data, len)) {
        builder_.reset();  // over the per-entry cap: passes through uncached
        endFill(false);
      } else if (length_ && captured_ == *length_) {
        storeCapture();  // the last bytes: stored before the client has them all
      }
    }
    push(data, len);
  }

  void onUpstreamInputProcessed() override {
    in_input_ = false;
    inputProcessed();
  }

  void onUpstreamComplete() override {
    in_input_ = false;
    storeCapture();
    end();
    if (pending_id_) release();  // a bodiless response: we are done
  }

  // Drops the pending-fetch resource that owns us (now, or after start()).
  void release() {
    finished_ = true;
    if (starting_) return;
    uint64_t id = pending_id_;
    pending_id_ = 0;
    instance_.removeResource(id);  // destroys this
  }

  void onUpstreamError(UpstreamError error) override {
    builder_.reset();
    endFill(false);
    if (head_received_) {
      fail();
      return;
    }
    std::string message = error == UpstreamError::kConnectTimeout || error == UpstreamError::kResponseTimeout
                              ? "fetch to " + url_ + " timed out"
                              : "fetch to " + url_ + " failed: " + upstreamErrorName(error);
    failPending(message);
  }

  void failPending(const std::string& message) {
    if (resolver_.IsEmpty()) return;
    v8::Isolate* isolate = instance_.isolate();
    std::shared_ptr<RequestContext> request = request_;
    // Rejecting may finish the request and destroy its resources, this
    // fetch's owner among them, inside runFromHost.
    ScriptInstance& instance = instance_;
    const uint64_t id = pending_id_;
    instance_.runFromHost(request, [&] {
      v8::Local<v8::Promise::Resolver> resolver = resolver_.Get(isolate);
      resolver_.Reset();
      reject(isolate, resolver, v8::Exception::TypeError(v8Str(isolate, message)));
    });
    if (id != 0 && instance.resource(id) == nullptr) return;  // destroyed with the request
    if (pending_id_) release();
  }

 public:
  struct Owner : HostResource {
    std::unique_ptr<UpstreamFetch> fetch;
  };

 private:
  ScriptInstance& instance_;
  std::shared_ptr<RequestContext> request_;
  std::string url_;
  uint64_t pending_id_ = 0;
  v8::Global<v8::Promise::Resolver> resolver_;
  std::unique_ptr<UpstreamRequest> upstream_;
  std::unique_ptr<HostBody> request_body_;
  std::optional<uint64_t> length_;
  bool head_received_ = false;
  bool starting_ = false;
  bool finished_ = false;
  bool in_input_ = false;  // inside the upstream read that brought the head
  // The response cache (fetch() with cacheTtl).
  std::unique_ptr<FetchCachePlan> cache_;
  std::optional<cache::EntryBuilder> builder_;  // capturing the response into the store
  uint64_t captured_ = 0;
  std::unique_ptr<CacheWait> wait_;             // waiting for another request's fill
  OriginPool* pool_ = nullptr;                  // for the request sent after waiting
  UpstreamRequestHead deferred_head_;
};

// Reads a host body completely for text()/json()/arrayBuffer().
class BodyReader final : public HostResource, public BodySink {
 public:
  BodyReader(ScriptInstance& instance, std::shared_ptr<RequestContext> request, size_t limit)
      : instance_(instance), request_(std::move(request)), limit_(limit) {}
  void start(HostBody* body, uint64_t id, v8::Local<v8::Promise::Resolver> resolver) {
    id_ = id;
    body_ = body;
    resolver_.Reset(instance_.isolate(), resolver);
    body->start(this);
  }

 private:
  void onBodyData(const char* data, size_t len) override {
    if (data_.size() + len > limit_) {
      finish(false, "the body is larger than limits.memory_mb allows to read into memory");
      return;
    }
    data_.append(data, len);
  }
  void onBodyEnd() override { finish(true, nullptr); }
  void onBodyError() override { finish(false, "the body could not be read completely (connection lost)"); }

  void finish(bool ok, const char* error) {
    if (resolver_.IsEmpty()) return;
    if (!ok && body_) body_->abandon();
    body_ = nullptr;
    v8::Isolate* isolate = instance_.isolate();
    std::shared_ptr<RequestContext> request = request_;
    // Settling the promise may finish the request, whose resources (this
    // reader among them) are then destroyed inside runFromHost.
    ScriptInstance& instance = instance_;
    const uint64_t id = id_;
    instance_.runFromHost(request, [&] {
      v8::Local<v8::Context> context = instance_.context();
      v8::Local<v8::Promise::Resolver> resolver = resolver_.Get(isolate);
      resolver_.Reset();
      if (!ok) {
        reject(isolate, resolver, v8::Exception::TypeError(v8Str(isolate, error)));
        return;
      }
      std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(isolate, data_.size());
      if (!data_.empty()) std::copy(data_.begin(), data_.end(), static_cast<char*>(store->Data()));
      data_.clear();
      resolver->Resolve(context, v8::ArrayBuffer::New(isolate, std::move(store))).Check();
    });
    instance.removeResource(id);  // destroys this, unless the request's end already did
  }

  ScriptInstance& instance_;
  std::shared_ptr<RequestContext> request_;
  size_t limit_;
  uint64_t id_ = 0;
  HostBody* body_ = nullptr;
  std::string data_;
  v8::Global<v8::Promise::Resolver> resolver_;
};

void readBody(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  ScriptInstance* instance = ScriptInstance::fromContext(context);
  v8::Local<v8::Promise::Resolver> resolver = v8::Promise::Resolver::New(context).ToLocalChecked();
  info.GetReturnValue().Set(resolver->GetPromise());
  HostBody* body = instance->bodyFromHandle(info[0]);
  if (!body || body->started()) {
    reject(isolate, resolver, v8::Exception::TypeError(v8Str(isolate, "Body has already been used.")));
    return;
  }
  std::shared_ptr<RequestContext> request = instance->requestForHostWork();
  size_t limit = static_cast<size_t>(instance->services().config->limits.memory_mb) << 20;
  auto reader = std::make_unique<BodyReader>(*instance, request, limit);
  BodyReader* raw = reader.get();
  uint64_t id = instance->addResource(std::move(reader), request->id);
  raw->start(body, id, resolver);
}

void isBodyHandle(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ScriptInstance* instance = ScriptInstance::fromContext(info.GetIsolate()->GetCurrentContext());
  info.GetReturnValue().Set(instance->isBodyHandle(info[0]));
}

// Picks the pool for a URL: a configured origin (by URL or by name), or a host
// on the egress allow-list. Returns nullptr with *error set otherwise.
OriginPool* selectPool(ScriptInstance& instance, const std::string& url, const FetchUrl& parsed,
                       const std::string& origin_name, std::string* error, std::string* host_header) {
  DeploymentInstance& deployment = *instance.services().deployment;
  const Config& config = deployment.deployment().config();
  if (!origin_name.empty()) {
    OriginPool* pool = deployment.pool(origin_name);
    if (pool) *host_header = pool->origin().parsed.authority();
    return pool;
  }
  std::string host = parsed.host;
  std::transform(host.begin(), host.end(), host.begin(), ::tolower);
  for (const auto& [name, origin] : config.origins) {
    std::string lower_name = name;
    std::transform(lower_name.begin(), lower_name.end(), lower_name.begin(), ::tolower);
    // Any of the origin's addresses reaches it (and is balanced like the rest).
    const bool by_url = std::any_of(origin.addresses.begin(), origin.addresses.end(), [&](const OriginUrl& o) {
      return o.scheme == parsed.scheme && o.host == host && o.port == parsed.port;
    });
    const bool by_name = host == lower_name && !parsed.explicit_port;
    if (by_url || by_name) {
      *host_header = origin.parsed.authority();
      return deployment.pool(name);
    }
  }
  for (const std::string& prefix : config.egress) {
    if (url.compare(0, prefix.size(), prefix) == 0) {
      *host_header = parsed.explicit_port ? host + ":" + std::to_string(parsed.port) : host;
      return deployment.egressPool(parsed.scheme, host, parsed.port);
    }
  }
  *error = "fetch to " + url + " is not allowed: scripts may reach configured origins and the \"egress\" allow-list only";
  return nullptr;
}

// The response cache's plan for a fetch() with cacheTtl `ttl` (seconds), or
// null when the cache is not consulted (cacheTtl 0 or negative, as in
// Workers, or caching is off). `url` is what is actually fetched.
std::unique_ptr<FetchCachePlan> planCache(ScriptInstance& instance, const RequestContext& request,
                                          const std::string& method, const std::string& url,
                                          const HeaderList& headers, double ttl, bool has_body) {
  cache::Store* store = responseStore(instance);
  if (!store || !(ttl > 0)) {
    setCacheUse(request, CacheUse::kBypass);
    return nullptr;
  }
  auto plan = std::make_unique<FetchCachePlan>();
  plan->store = store;
  plan->url = url;
  plan->key = cache::makeKey("", url);
  plan->request_headers = headers;
  plan->facts = cache::requestFacts(method, headers);
  plan->ttl_s = static_cast<int64_t>(std::min(ttl, 10.0 * 365 * 86400));
  const bool storable_request = method == "GET" && !has_body;
  switch (cache::requestUse(plan->facts)) {
    case cache::RequestUse::kLookup:
      plan->lookup = true;
      plan->may_store = storable_request;
      break;
    case cache::RequestUse::kBypassMethod:
      plan->forward = cache::Forward::kMethod;
      setCacheUse(request, CacheUse::kBypass);
      break;
    case cache::RequestUse::kBypassRequest:
      // The request's Cache-Control forbids a stored answer; what comes back
      // may still be stored (decideStore honours a request no-store).
      plan->forward = cache::Forward::kRequest;
      plan->may_store = storable_request;
      setCacheUse(request, CacheUse::kBypass);
      break;
  }
  return plan;
}

void nativeFetch(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  ScriptInstance* instance = ScriptInstance::fromContext(context);
  v8::Local<v8::Promise::Resolver> resolver = v8::Promise::Resolver::New(context).ToLocalChecked();
  info.GetReturnValue().Set(resolver->GetPromise());
  auto fail = [&](const std::string& message) {
    reject(isolate, resolver, v8::Exception::TypeError(v8Str(isolate, message)));
  };

  const std::string method = toUtf8(isolate, info[0]);
  const std::string url = toUtf8(isolate, info[1]);
  const std::string origin_name = info[4]->IsString() ? toUtf8(isolate, info[4]) : "";
  FetchUrl parsed;
  if (!parseFetchUrl(url, &parsed)) return fail("fetch: unsupported URL " + url);
  std::string error, host_header;
  OriginPool* pool = selectPool(*instance, url, parsed, origin_name, &error, &host_header);
  if (!pool) return fail(error.empty() ? "unknown origin " + origin_name : error);
  std::shared_ptr<RequestContext> request = instance->requestForHostWork();
  const uint32_t max_subrequests = instance->services().config->limits.subrequests;
  if (++request->subrequests > max_subrequests) {
    return fail("Too many subrequests: limits.subrequests is " + std::to_string(max_subrequests));
  }

  UpstreamRequestHead head;
  head.method = method;
  std::string target = pool->origin().parsed.base_path + parsed.target;
  head.head.reserve(256);
  head.head.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  appendHeader(head.head, "Host", host_header);
  bool has_request_id = false;
  // The client's request passed on as it came: its headers from the parsed
  // request rather than back out of JavaScript.
  HeaderList headers;
  if (!request->handler || !request->handler->clientHeadersFor(info[2], &headers)) {
    headers = fromFlatHeaders(isolate, context, info[2]);
  }

  std::unique_ptr<FetchCachePlan> cache_plan;
  if (info.Length() > 5 && info[5]->IsNumber()) {
    const bool has_body = instance->isBodyHandle(info[3]) ||
                          (info[3]->IsUint8Array() && info[3].As<v8::Uint8Array>()->ByteLength() > 0);
    cache_plan = planCache(*instance, *request, method,
                           cache::requestUrl(pool->origin().parsed.scheme, host_header, target), headers,
                           info[5].As<v8::Number>()->Value(), has_body);
  }
  // A miss that may be stored asks for the whole response: a 304 could not
  // fill the cache. (A 200 answers a conditional request correctly; later
  // hits answer it with a 304.)
  const bool drop_validators = cache_plan && cache_plan->lookup && cache_plan->may_store;

  std::string connection;
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, "connection")) connection = h.value;
  }
  for (const Header& h : headers) {
    if (isHopByHop(h.name, connection) || equalsIgnoreCase(h.name, "host") ||
        equalsIgnoreCase(h.name, "content-length")) {
      continue;
    }
    if (drop_validators &&
        (equalsIgnoreCase(h.name, "if-none-match") || equalsIgnoreCase(h.name, "if-modified-since"))) {
      continue;
    }
    has_request_id = has_request_id || equalsIgnoreCase(h.name, "x-request-id");
    appendHeader(head.head, h.name, h.value);
  }
  if (!has_request_id && !request->request_id.empty()) appendHeader(head.head, "X-Request-ID", request->request_id);

  std::unique_ptr<HostBody> stream;
  std::string bytes;
  if (instance->isBodyHandle(info[3])) {
    if (HostBody* body = instance->bodyFromHandle(info[3]); !body || body->started()) {
      return fail("Body has already been used.");
    }
    stream = instance->takeBodyFromHandle(info[3]);
  } else if (info[3]->IsUint8Array()) {
    v8::Local<v8::Uint8Array> array = info[3].As<v8::Uint8Array>();
    bytes.resize(array->ByteLength());
    if (!bytes.empty()) array->CopyContents(bytes.data(), bytes.size());
  }
  if (stream && !stream->knownLength()) {
    appendHeader(head.head, "Transfer-Encoding", "chunked");
    head.body_framing = BodyFraming::kChunked;
  } else {
    uint64_t length = stream ? *stream->knownLength() : bytes.size();
    if (length > 0 || (method != "GET" && method != "HEAD" && method != "OPTIONS" && method != "DELETE")) {
      appendHeader(head.head, "Content-Length", std::to_string(length));
    }
    head.body_framing = length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  }
  head.head.append("\r\n");
  head.replayable = !stream && bytes.empty() && isIdempotentMethod(method);

  auto owner = std::make_unique<UpstreamFetch::Owner>();
  owner->fetch = std::make_unique<UpstreamFetch>(*instance, request, url, std::move(cache_plan));
  UpstreamFetch* fetch = owner->fetch.get();
  uint64_t id = instance->addResource(std::move(owner), request->id);
  if (!fetch->start(*pool, std::move(head), std::move(stream), std::move(bytes), resolver, id)) {
    instance->removeResource(id);  // destroys fetch
    fail("fetch to " + url + " failed: origin \"" + pool->origin().name +
         "\" is unavailable (circuit breaker open)");
  }
}

}  // namespace

void installFetch(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object>) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Object> native = v8::Object::New(isolate);
  setMethod(context, native, "readBody", readBody);
  setMethod(context, native, "fetch", nativeFetch);
  setMethod(context, native, "isBodyHandle", isBodyHandle);
  v8::Local<v8::Value> result;
  if (!runJsInstaller(instance, "fetch_api.js", kJs_fetch_api, native).ToLocal(&result) || !result->IsObject()) {
    return;
  }
  v8::Local<v8::Object> internals = result.As<v8::Object>();
  // For the parts built on Request and Response (cache.js).
  instance.internals().lazy_modules["fetch_api.js"].Reset(isolate, internals);
  auto function = [&](const char* name, v8::Global<v8::Function>* out) {
    v8::Local<v8::Value> fn;
    if (internals->Get(context, v8Str(isolate, name)).ToLocal(&fn) && fn->IsFunction()) {
      out->Reset(isolate, fn.As<v8::Function>());
    }
  };
  function("makeRequest", &instance.internals().make_request);
  function("responseParts", &instance.internals().response_parts);
  function("makeOriginBinding", &instance.internals().make_origin_binding);
}

}  // namespace isogate
