// The Workers Cache API (bindings/js/cache.js) over the process's response
// store (cache/), and the helpers fetch() with cacheTtl shares with it.
// Bodies are stored natively: put() takes bytes or a host body (read here,
// never through JavaScript), and a match hands the stored bytes out as a
// host body without copying them.
#include "bindings/cache.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "cache/policy.h"
#include "cache/store.h"
#include "runtime/js_errors.h"
#include "runtime/js_headers.h"
#include "runtime/script_handler.h"
#include "runtime/worker.h"

namespace isogate {

extern const char kJs_cache[];

cache::Store* responseStore(ScriptInstance& instance) {
  Worker* worker = instance.services().worker;
  return worker ? worker->responseCache() : nullptr;
}

std::string cacheKeyUrl(std::string_view url) {
  url = url.substr(0, url.find('#'));
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::string(url);
  std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string path;
  if (end == std::string_view::npos || rest[end] == '?') path.push_back('/');
  if (end != std::string_view::npos) path.append(rest.substr(end));
  return cache::requestUrl(scheme, authority, path);
}

v8::Local<v8::Array> storedResponseParts(ScriptInstance& instance, uint64_t request_id,
                                         const std::shared_ptr<const cache::CachedResponse>& entry,
                                         bool not_modified, bool head, const std::string& cache_status,
                                         int64_t now_ms) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Context> context = instance.context();
  const int status = not_modified ? 304 : entry->status;
  cache::Fields fields = not_modified ? cache::notModifiedFields(*entry) : cache::Fields{};
  const cache::Fields& headers = not_modified ? fields : entry->headers;
  v8::Local<v8::Array> flat = v8::Array::New(isolate, static_cast<int>(headers.size() * 2 + 4));
  uint32_t i = 0;
  auto add = [&](std::string_view name, std::string_view value) {
    flat->Set(context, i++, v8Str(isolate, std::string(name))).Check();
    flat->Set(context, i++, v8Str(isolate, std::string(value))).Check();
  };
  for (const cache::Field& f : headers) add(f.name, f.value);
  add("Age", std::to_string(entry->ageSeconds(now_ms)));
  add("Cache-Status", cache_status);

  v8::Local<v8::Value> body = v8::Null(isolate);
  const bool bodiless = not_modified || head || status == 204 || (status >= 100 && status < 200);
  if (!bodiless) {
    // The entry keeps its bytes alive for as long as the body is being sent.
    body = instance.wrapBody(std::make_unique<SharedBytesBody>(entry, entry->body), request_id);
  }
  const std::string reason = entry->reason.empty() || not_modified ? reasonPhrase(status) : entry->reason;
  v8::Local<v8::Value> parts[4] = {v8::Integer::New(isolate, status), v8Str(isolate, reason), flat, body};
  return v8::Array::New(isolate, parts, 4);
}

void setCacheUse(const RequestContext& request, CacheUse use) {
  if (!request.handler || !request.handler->exchange()) return;
  CacheUse& logged = request.handler->exchange()->logEntry().cache;
  if (use == CacheUse::kBypass && logged != CacheUse::kNone) return;
  logged = use;
}

namespace {

// The namespace of a Cache: null (caches.default) is the HTTP cache shared
// with proxy routes and fetch() with cacheTtl; caches.open(name) is `name`.
std::string namespaceOf(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  return value->IsString() ? toUtf8(isolate, value) : std::string();
}

// Whether a response states its own freshness: Cache-Control max-age or
// s-maxage, or Expires.
bool hasExplicitFreshness(const HeaderList& headers) {
  if (findHeader(headers, "expires")) return true;
  std::optional<std::string> cc = cache::joinedField(headers, "cache-control");
  if (!cc) return false;
  cache::CacheControl parsed = cache::parseCacheControl(*cc);
  return parsed.max_age.has_value() || parsed.s_maxage.has_value();
}

// Workers' default edge TTL for a response without Cache-Control max-age /
// s-maxage or Expires (Cloudflare's "Edge TTL" table); nullopt: not cached.
std::optional<int64_t> defaultEdgeTtl(int status) {
  switch (status) {
    case 200: case 206: case 301: return 7200;
    case 302: case 303: return 1200;
    case 404: case 410: return 180;
    default: return std::nullopt;
  }
}

// A put whose body is a host body: read natively into the entry, then
// stored. Resolves undefined whether or not the entry was stored (a body
// over the per-entry cap, or one that fails to arrive, is not), as Workers
// does. Owned by the script instance, tied to the request.
class PendingPut final : public HostResource, public BodySink {
 public:
  PendingPut(ScriptInstance& instance, std::shared_ptr<RequestContext> request, cache::Store& store,
             std::optional<cache::EntryBuilder> builder, HostBody* body)
      : instance_(instance), request_(std::move(request)), store_(store), builder_(std::move(builder)),
        body_(body) {}

  void start(uint64_t id, v8::Local<v8::Promise::Resolver> resolver) {
    id_ = id;
    resolver_.Reset(instance_.isolate(), resolver);
    body_->start(this);  // may deliver everything, finish and destroy this at once
  }

 private:
  void onBodyData(const char* data, size_t len) override {
    if (builder_ && !builder_->append(data, len)) builder_.reset();  // over the cap: read on, store nothing
  }
  void onBodyEnd() override {
    if (builder_) {
      if (std::shared_ptr<const cache::CachedResponse> entry = builder_->finish()) {
        store_.insert(std::move(entry), cache::wallClockMs());
      }
      builder_.reset();
    }
    finish();
  }
  void onBodyError() override {
    builder_.reset();
    finish();
  }

  void finish() {
    if (resolver_.IsEmpty()) return;
    v8::Isolate* isolate = instance_.isolate();
    std::shared_ptr<RequestContext> request = request_;
    instance_.runFromHost(request, [&] {
      v8::Local<v8::Promise::Resolver> resolver = resolver_.Get(isolate);
      resolver_.Reset();
      resolver->Resolve(instance_.context(), v8::Undefined(isolate)).Check();
    });
    instance_.removeResource(id_);  // destroys this (possibly inside start())
  }

  ScriptInstance& instance_;
  std::shared_ptr<RequestContext> request_;
  cache::Store& store_;
  std::optional<cache::EntryBuilder> builder_;
  HostBody* body_;  // owned by its handle's resource, which outlives this
  uint64_t id_ = 0;
  v8::Global<v8::Promise::Resolver> resolver_;
};

// match(ns, url, flatHeaders) -> undefined | [status, statusText, flatHeaders, bodyHandle | null]
void cacheMatch(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  ScriptInstance* instance = ScriptInstance::fromContext(context);
  std::shared_ptr<RequestContext> request = instance->requestForHostWork();
  cache::Store* store = responseStore(*instance);
  if (!store) return;
  const std::string url = cacheKeyUrl(toUtf8(isolate, info[1]));
  HeaderList headers = fromFlatHeaders(isolate, context, info[2]);
  const int64_t now = cache::wallClockMs();
  cache::Lookup found = store->lookup(cache::makeKey(namespaceOf(isolate, info[0]), url), headers, now);
  if (found.result != cache::LookupResult::kHit) {
    setCacheUse(*request, CacheUse::kMiss);
    return;
  }
  setCacheUse(*request, CacheUse::kHit);
  const bool not_modified = cache::notModified(*found.entry, cache::requestFacts("GET", headers));
  info.GetReturnValue().Set(storedResponseParts(*instance, request->id, found.entry, not_modified, false,
                                                cache::cacheStatusHit(), now));
}

// put(ns, url, reqFlat, status, statusText, respFlat, body) -> undefined | Promise<undefined>
void cachePut(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  ScriptInstance* instance = ScriptInstance::fromContext(context);
  std::shared_ptr<RequestContext> request = instance->requestForHostWork();
  v8::Local<v8::Value> body = info[6];
  // A host body stays with its handle (released when the request retires)
  // and is only read here, like text() reads it.
  HostBody* stream = nullptr;
  if (instance->isBodyHandle(body)) {
    stream = instance->bodyFromHandle(body);
    if (!stream || stream->started()) {
      throwTypeError(isolate, "Body has already been used. It can only be used once. Use clone() first if you need to read it twice.");
      return;
    }
  }
  cache::Store* store = responseStore(*instance);
  if (!store) return;  // caching is off: nothing is stored, as if evicted at once

  const std::string ns = namespaceOf(isolate, info[0]);
  const std::string url = cacheKeyUrl(toUtf8(isolate, info[1]));
  HeaderList request_headers = fromFlatHeaders(isolate, context, info[2]);
  const int status = info[3]->Int32Value(context).FromMaybe(200);
  std::string reason = toUtf8(isolate, info[4]);
  if (reason == reasonPhrase(status)) reason.clear();
  HeaderList response_headers = fromFlatHeaders(isolate, context, info[5]);

  const int64_t now = cache::wallClockMs();
  cache::RequestFacts facts = cache::requestFacts("GET", request_headers);
  // As in Workers, a response without freshness of its own is kept for the
  // default edge TTL of its status (no-store, private and Set-Cookie still win).
  std::optional<int64_t> ttl;
  if (!hasExplicitFreshness(response_headers)) ttl = defaultEdgeTtl(status);
  cache::StoreDecision decision = cache::decideStore(facts, status, response_headers, ttl, now);
  if (!decision.store) return;  // dropped silently; a host body is released unread

  std::optional<uint64_t> length = stream ? stream->knownLength() : std::nullopt;
  cache::EntryBuilder builder = cache::EntryBuilder::from(
      ns, url, status, std::move(reason), response_headers, decision,
      cache::varyValues(decision.vary_names, cache::fieldReader(request_headers)), store->maxEntryBytes(), now,
      length);
  if (!stream) {
    bool ok = true;
    if (body->IsString()) {
      v8::Local<v8::String> text = body.As<v8::String>();
      std::string bytes(static_cast<size_t>(text->Utf8Length(isolate)), '\0');
      text->WriteUtf8(isolate, bytes.data(), static_cast<int>(bytes.size()), nullptr,
                      v8::String::NO_NULL_TERMINATION | v8::String::REPLACE_INVALID_UTF8);
      ok = builder.append(bytes.data(), bytes.size());
    } else if (body->IsArrayBufferView()) {
      v8::Local<v8::ArrayBufferView> view = body.As<v8::ArrayBufferView>();
      std::shared_ptr<v8::BackingStore> backing = view->Buffer()->GetBackingStore();
      const char* data = static_cast<const char*>(backing->Data()) + view->ByteOffset();
      ok = builder.append(data, view->ByteLength());
    }
    if (!ok) return;
    if (std::shared_ptr<const cache::CachedResponse> entry = builder.finish()) store->insert(std::move(entry), now);
    return;
  }

  v8::Local<v8::Promise::Resolver> resolver;
  if (!v8::Promise::Resolver::New(context).ToLocal(&resolver)) return;
  info.GetReturnValue().Set(resolver->GetPromise());
  auto put = std::make_unique<PendingPut>(*instance, request, *store, std::move(builder), stream);
  PendingPut* raw = put.get();
  uint64_t id = instance->addResource(std::move(put), request->id);
  raw->start(id, resolver);  // may finish (and destroy it) at once
}

// delete(ns, url, flatHeaders) -> boolean
void cacheDelete(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  ScriptInstance* instance = ScriptInstance::fromContext(context);
  cache::Store* store = responseStore(*instance);
  bool deleted = false;
  if (store) {
    const std::string url = cacheKeyUrl(toUtf8(isolate, info[1]));
    HeaderList headers = fromFlatHeaders(isolate, context, info[2]);
    deleted = store->erase(cache::makeKey(namespaceOf(isolate, info[0]), url), headers) > 0;
  }
  info.GetReturnValue().Set(deleted);
}

}  // namespace

void installCache(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object>) {
  v8::Isolate* isolate = instance.isolate();
  auto& modules = instance.internals().lazy_modules;
  auto fetch_api = modules.find("fetch_api.js");
  if (fetch_api == modules.end()) return;  // fetch did not install: no Request/Response to build on
  v8::Local<v8::Object> native = v8::Object::New(isolate);
  native->Set(context, v8Str(isolate, "fetchApi"), fetch_api->second.Get(isolate)).Check();
  setMethod(context, native, "match", cacheMatch);
  setMethod(context, native, "put", cachePut);
  setMethod(context, native, "delete", cacheDelete);
  runJsInstaller(instance, "cache.js", kJs_cache, native);
}

}  // namespace isogate
