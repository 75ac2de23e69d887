#pragma once
// One script route running on one worker thread: a V8 isolate and context
// with the Web API bindings installed and the route's bundle evaluated.
// Created on the first request, reused by every request of that route on
// that thread, never shared with another thread. Discarded (and rebuilt on
// the next request) when a script exceeds cpu_ms or memory_mb.

#include <uv.h>
#include <v8.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/config.h"
#include "runtime/cpu_watchdog.h"
#include "runtime/host_body.h"
#include "runtime/http_message.h"
#include "runtime/script_bundle.h"

namespace isogate {

class DeploymentInstance;
class ScriptHandler;
class ScriptInstance;
class Worker;

// Installs one Web API or binding into a fresh context. The table of all of
// them lives in bindings/ and is handed to the runtime by the CLI.
using InstallBinding = void (*)(ScriptInstance& instance, v8::Local<v8::Context> context,
                                v8::Local<v8::Object> global);
struct BindingInstaller {
  const char* name;
  InstallBinding install;
};
void setScriptBindings(const std::vector<BindingInstaller>* table);

// Builds the env value of a configured binding whose type bindings/ owns
// (jwt, kv, ratelimit). Returns an empty handle with an exception pending
// when it cannot.
using MakeEnvBinding = v8::MaybeLocal<v8::Value> (*)(ScriptInstance& instance, v8::Local<v8::Context> context,
                                                     const BindingConfig& binding);
struct EnvBindingMaker {
  BindingConfig::Type type;
  MakeEnvBinding make;
};
void setEnvBindings(const std::vector<EnvBindingMaker>* table);
// Whether a maker for `type` was handed over (plain, secret and origin
// bindings are built by the runtime itself and always supported).
bool envBindingSupported(BindingConfig::Type type);

// Something the host holds for a script (a pending fetch, a body, a timer).
// Owned by the ScriptInstance, tied to the request that created it, and
// destroyed when that request's work is over or the instance goes away.
class HostResource {
 public:
  virtual ~HostResource() = default;
};

// The per-request state scripts act on through natives (subrequest count,
// ctx.log fields, waitUntil). Shared so that callbacks can outlive the HTTP
// exchange (waitUntil work continues after the response).
struct RequestContext {
  uint64_t id = 0;
  ScriptHandler* handler = nullptr;  // null once the exchange is over
  std::string request_id;
  int64_t cpu_used_ns = 0;
  uint32_t subrequests = 0;
  int wait_until_pending = 0;
  bool response_settled = false;
  bool cpu_exceeded = false;  // ran out of cpu_ms across short entries: nothing more runs
  // Extra access-log fields from ctx.log: name -> JSON text, in first-set order.
  std::vector<std::pair<std::string, std::string>> log_fields;
  // The flat header array the handler's Request was made with (see
  // ScriptHandler::clientHeadersFor); reset when the request leaves the
  // instance's live list, before the isolate can go.
  v8::Global<v8::Array> client_flat;
};

// JavaScript functions of the bindings that the host calls directly.
struct ScriptInternals {
  v8::Global<v8::Function> make_request;         // (method, url, flatHeaders, bodyHandle)
  v8::Global<v8::Function> response_parts;       // (response) -> [status, statusText, flatHeaders, body]
  v8::Global<v8::Function> make_origin_binding;  // (originName) -> { fetch }
  // Internals of the JS parts that load on first use (env bindings) or that
  // other parts reuse (fetch_api.js for the Cache API), by file name.
  std::map<std::string, v8::Global<v8::Object>> lazy_modules;
};

class ScriptInstance {
 public:
  struct Services {
    Worker* worker = nullptr;
    DeploymentInstance* deployment = nullptr;
    const Config* config = nullptr;
    const RouteConfig* route = nullptr;
    size_t route_index = 0;
    bool dev = false;
  };

  // Builds the isolate, installs bindings and evaluates the bundle. On
  // failure returns nullptr and sets *error (FILE:LINE:COL: message).
  static std::unique_ptr<ScriptInstance> create(const Services& services,
                                                std::shared_ptr<const ScriptBundle> bundle,
                                                std::string* error);
  // The expensive half of create(): isolate, context and bindings, with no
  // route yet (services.route is null). Workers keep one ready so that a
  // script's first request only pays for attach().
  static std::unique_ptr<ScriptInstance> createSpare(const Services& services, std::string* error);
  // The route half: env and the bundle's evaluation.
  bool attach(const Services& services, std::shared_ptr<const ScriptBundle> bundle, std::string* error);
  ~ScriptInstance();

  static ScriptInstance* fromContext(v8::Local<v8::Context> context);
  static ScriptInstance* fromIsolate(v8::Isolate* isolate);

  v8::Isolate* isolate() const { return isolate_; }
  v8::Local<v8::Context> context() const { return context_.Get(isolate_); }
  const Services& services() const { return services_; }
  uv_loop_t* loop() const;
  ScriptInternals& internals() { return internals_; }
  v8::Local<v8::Function> fetchHandler() const { return fetch_.Get(isolate_); }
  // The default export: `this` of fetch(), as in Workers.
  v8::Local<v8::Object> exported() const { return exported_.Get(isolate_); }
  v8::Local<v8::Object> env() const { return env_.Get(isolate_); }

  // The request whose JavaScript is running now (null at start-up).
  RequestContext* current() const { return current_.get(); }
  std::shared_ptr<RequestContext> currentShared() const { return current_; }

  // Runs `fn` inside the isolate on behalf of `request`, with the CPU
  // watchdog armed for what is left of the request's cpu_ms, then drains
  // microtasks. Returns false when the isolate was terminated (the instance
  // is then broken and must not run anything again).
  bool run(const std::shared_ptr<RequestContext>& request, const std::function<void()>& fn);
  // run() for host callbacks (timers, I/O completions): when the isolate is
  // terminated, the instance is discarded and its requests answered 503.
  void runFromHost(const std::shared_ptr<RequestContext>& request, const std::function<void()>& fn);
  // Reports an exception no script code caught (timer callbacks, listeners).
  void reportException(v8::Local<v8::Value> exception);
  // The request for host work started now: the current one, or a long-lived
  // context for work started at module evaluation.
  std::shared_ptr<RequestContext> requestForHostWork();

  // CPU time of the JavaScript entry running now, not yet added to its request.
  int64_t cpuInFlightNs() const;
  bool broken() const { return !broken_reason_.empty(); }
  // "exceeded_cpu" or "exceeded_memory".
  const std::string& brokenReason() const { return broken_reason_; }

  // Request bookkeeping.
  std::shared_ptr<RequestContext> beginRequest(ScriptHandler* handler, const std::string& request_id);
  // Called whenever a request's response settles or a waitUntil promise
  // settles; frees the request's resources once nothing is left.
  void maybeRetire(const std::shared_ptr<RequestContext>& request);
  // Waits for a handler's response promise without promise reactions: after
  // every entry into JavaScript, settled ones are handed to their handler.
  void watchResponse(v8::Local<v8::Promise> promise, std::shared_ptr<RequestContext> request);
  // Whether any request still has work here (a response or waitUntil).
  bool hasLiveRequests() const { return !live_requests_.empty(); }
  // A live request by id (null once retired).
  std::shared_ptr<RequestContext> liveRequest(uint64_t id) const;
  // Fails every live request's exchange (the instance broke).
  void failAll();
  // Ends a request's work now (wall time exceeded): its timers, fetches and
  // bodies are released even if its promises never settle.
  void abandonRequest(const std::shared_ptr<RequestContext>& request);

  // Resources (timers, fetches, bodies) by id, tied to a request.
  uint64_t addResource(std::unique_ptr<HostResource> resource, uint64_t request_id);
  HostResource* resource(uint64_t id) const;
  std::unique_ptr<HostResource> takeResource(uint64_t id);
  void removeResource(uint64_t id);

  // Body handles: opaque JS objects naming a HostBody resource.
  v8::Local<v8::Object> wrapBody(std::unique_ptr<HostBody> body, uint64_t request_id);
  // The same for a body that arrived with a head whose header list JavaScript
  // got as the flat array `flat` (made from `headers` by toFlatHeaders).
  v8::Local<v8::Object> wrapBody(std::unique_ptr<HostBody> body, uint64_t request_id, v8::Local<v8::Array> flat,
                                 HeaderList headers);
  // When `flat` is the very array that came with the body `handle` (so
  // JavaScript neither replaced nor edited those headers), moves the host's
  // own list into *out and returns true: answering with it saves converting
  // the array back. Otherwise returns false and leaves *out alone.
  bool takeHeadersOfBody(v8::Local<v8::Value> handle, v8::Local<v8::Value> flat, HeaderList* out);
  // The body a handle names (still owned by the instance), or nullptr.
  HostBody* bodyFromHandle(v8::Local<v8::Value> value) const;
  std::unique_ptr<HostBody> takeBodyFromHandle(v8::Local<v8::Value> value);
  bool isBodyHandle(v8::Local<v8::Value> value) const;

  // The template of ctx objects (owned here, built by the script handler).
  v8::Global<v8::ObjectTemplate>& ctxTemplate() { return ctx_template_; }

  // Lets work finishing on this thread later (a KV write acknowledged by the
  // writer thread) find out whether this instance still exists.
  std::weak_ptr<void> liveness() const { return liveness_; }

  // Cached internalized strings for hot property names.
  v8::Local<v8::String> name(const char* literal);

 private:
  explicit ScriptInstance(const Services& services);
  bool initialize(std::string* error);
  bool evaluateBundle(std::string* error);
  void buildEnv();
  static size_t onNearHeapLimit(void* data, size_t current, size_t initial);
  void settleResponses();
  v8::Local<v8::Object> bodyHandle(uint64_t resource_id);  // a new handle naming a BodyResource

  Services services_;
  std::shared_ptr<const ScriptBundle> bundle_;
  v8::Isolate* isolate_ = nullptr;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Function> fetch_;
  v8::Global<v8::Object> exported_;
  v8::Global<v8::Object> env_;
  v8::Global<v8::ObjectTemplate> body_handle_template_;
  v8::Global<v8::ObjectTemplate> ctx_template_;
  ScriptInternals internals_;
  std::map<std::string, v8::Global<v8::Module>> modules_;
  std::map<const char*, v8::Eternal<v8::String>> names_;
  CpuWatchdog::Slot* watchdog_ = nullptr;
  std::shared_ptr<RequestContext> current_;
  std::shared_ptr<RequestContext> global_request_;  // owns work started outside any request
  int run_depth_ = 0;
  std::string broken_reason_;
  bool out_of_memory_ = false;
  uint64_t next_request_id_ = 1;
  uint64_t next_resource_id_ = 1;
  std::map<uint64_t, std::shared_ptr<RequestContext>> live_requests_;
  struct PendingResponse {
    v8::Global<v8::Promise> promise;
    std::shared_ptr<RequestContext> request;
  };
  std::vector<PendingResponse> pending_responses_;
  struct ResourceEntry {
    std::unique_ptr<HostResource> resource;
    uint64_t request_id;
  };
  std::map<uint64_t, ResourceEntry> resources_;
  std::shared_ptr<void> liveness_ = std::make_shared<char>(0);
  // The route counted in isogate_isolates (set once attached), copied so
  // that the count is undone even if the Deployment is gone by then.
  std::optional<std::string> metrics_route_;
};

}  // namespace isogate
