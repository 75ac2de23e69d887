#include "runtime/script_instance.h"

#include <libplatform/libplatform.h>

#include <cstdio>
#include <cstdlib>

#include "runtime/deployment.h"
#include "runtime/js_engine.h"
#include "runtime/js_errors.h"
#include "runtime/metrics.h"
#include "runtime/script_handler.h"
#include "runtime/worker.h"

namespace isogate {

namespace {

const std::vector<BindingInstaller>* g_bindings = nullptr;
const std::vector<EnvBindingMaker>* g_env_bindings = nullptr;

constexpr int kContextInstanceSlot = 1;
constexpr int kIsolateInstanceSlot = 0;
constexpr size_t kHeapHeadroom = 32u << 20;  // lets V8 unwind after termination
char kBodyHandleTag;

v8::ModifyCodeGenerationFromStringsResult refuseCodeGeneration(v8::Local<v8::Context>,
                                                              v8::Local<v8::Value>, bool) {
  return {false, {}};
}
bool refuseWasmCodeGeneration(v8::Local<v8::Context>, v8::Local<v8::String>) { return false; }

}  // namespace

void setScriptBindings(const std::vector<BindingInstaller>* table) { g_bindings = table; }
void setEnvBindings(const std::vector<EnvBindingMaker>* table) { g_env_bindings = table; }

bool envBindingSupported(BindingConfig::Type type) {
  switch (type) {
    case BindingConfig::Type::kPlain:
    case BindingConfig::Type::kSecret:
    case BindingConfig::Type::kOrigin:
      return true;
    default:
      break;
  }
  if (!g_env_bindings) return false;
  for (const EnvBindingMaker& maker : *g_env_bindings) {
    if (maker.type == type) return true;
  }
  return false;
}

ScriptInstance::ScriptInstance(const Services& services) : services_(services) {}

std::unique_ptr<ScriptInstance> ScriptInstance::create(const Services& services,
                                                       std::shared_ptr<const ScriptBundle> bundle,
                                                       std::string* error) {
  std::unique_ptr<ScriptInstance> instance = createSpare(services, error);
  if (!instance || !instance->attach(services, std::move(bundle), error)) return nullptr;
  return instance;
}

std::unique_ptr<ScriptInstance> ScriptInstance::createSpare(const Services& services, std::string* error) {
  JsEngine::initialize();
  std::unique_ptr<ScriptInstance> instance(new ScriptInstance(services));
  if (!instance->initialize(error)) return nullptr;
  return instance;
}

bool ScriptInstance::attach(const Services& services, std::shared_ptr<const ScriptBundle> bundle,
                            std::string* error) {
  services_ = services;
  bundle_ = std::move(bundle);
  v8::Isolate::Scope isolate_scope(isolate_);
  v8::HandleScope handle_scope(isolate_);
  v8::Context::Scope context_scope(context());
  v8::TryCatch try_catch(isolate_);
  buildEnv();
  if (try_catch.HasCaught()) {
    *error = services_.config->file + ": " + toUtf8(isolate_, try_catch.Exception());
    return false;
  }
  if (!evaluateBundle(error)) return false;
  // Counted while it serves the route (spares are not counted).
  metrics_route_ = services_.route->name;
  metrics::addIsolates(*metrics_route_, 1);
  return true;
}

uv_loop_t* ScriptInstance::loop() const { return services_.worker->loop(); }

ScriptInstance* ScriptInstance::fromContext(v8::Local<v8::Context> context) {
  return static_cast<ScriptInstance*>(context->GetAlignedPointerFromEmbedderData(kContextInstanceSlot));
}

ScriptInstance* ScriptInstance::fromIsolate(v8::Isolate* isolate) {
  return static_cast<ScriptInstance*>(isolate->GetData(kIsolateInstanceSlot));
}

size_t ScriptInstance::onNearHeapLimit(void* data, size_t current, size_t) {
  auto* self = static_cast<ScriptInstance*>(data);
  self->out_of_memory_ = true;
  self->isolate_->TerminateExecution();
  return current + kHeapHeadroom;
}

bool ScriptInstance::initialize(std::string* error) {
  const Limits& limits = services_.config->limits;
  v8::Isolate::CreateParams params;
  params.array_buffer_allocator = JsEngine::allocator();
  params.constraints.ConfigureDefaultsFromHeapSize(0, static_cast<size_t>(limits.memory_mb) << 20);
  isolate_ = v8::Isolate::New(params);
  isolate_->SetData(kIsolateInstanceSlot, this);
  isolate_->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
  isolate_->SetModifyCodeGenerationFromStringsCallback(refuseCodeGeneration);
  isolate_->SetAllowWasmCodeGenerationCallback(refuseWasmCodeGeneration);
  isolate_->AddNearHeapLimitCallback(onNearHeapLimit, this);
  watchdog_ = services_.worker->cpuWatchdogSlot();

  v8::Isolate::Scope isolate_scope(isolate_);
  v8::HandleScope handle_scope(isolate_);
  v8::Local<v8::Context> context = v8::Context::New(isolate_);
  context->SetAlignedPointerInEmbedderData(kContextInstanceSlot, this);
  context->AllowCodeGenerationFromStrings(false);
  context_.Reset(isolate_, context);
  v8::Context::Scope context_scope(context);

  v8::Local<v8::ObjectTemplate> body_template = v8::ObjectTemplate::New(isolate_);
  body_template->SetInternalFieldCount(2);
  body_handle_template_.Reset(isolate_, body_template);

  v8::TryCatch try_catch(isolate_);
  if (g_bindings) {
    for (const BindingInstaller& binding : *g_bindings) {
      binding.install(*this, context, context->Global());
      if (try_catch.HasCaught()) {
        *error = std::string("internal error installing ") + binding.name + ": " +
                 exceptionStack(isolate_, context, try_catch.Exception());
        return false;
      }
    }
  }
  return true;
}

void ScriptInstance::buildEnv() {
  v8::Local<v8::Context> context = this->context();
  v8::Local<v8::Object> env = v8::Object::New(isolate_);
  for (const BindingConfig& binding : services_.route->bindings) {
    v8::Local<v8::Value> value = v8::Undefined(isolate_);
    switch (binding.type) {
      case BindingConfig::Type::kPlain:
        value = v8::JSON::Parse(context, v8Str(isolate_, binding.plain_json)).ToLocalChecked();
        break;
      case BindingConfig::Type::kSecret: {
        const char* secret = getenv(binding.secret_env.c_str());
        if (secret) value = v8Str(isolate_, secret);
        break;
      }
      case BindingConfig::Type::kOrigin: {
        v8::Local<v8::Value> arg = v8Str(isolate_, binding.origin);
        v8::Local<v8::Function> make = internals_.make_origin_binding.Get(isolate_);
        if (!make.IsEmpty() && !make->Call(context, v8::Undefined(isolate_), 1, &arg).ToLocal(&value)) {
          value = v8::Undefined(isolate_);
        }
        break;
      }
      default: {
        const EnvBindingMaker* maker = nullptr;
        for (size_t i = 0; g_env_bindings && i < g_env_bindings->size(); ++i) {
          if ((*g_env_bindings)[i].type == binding.type) maker = &(*g_env_bindings)[i];
        }
        if (!maker) break;  // Deployment refuses bindings nobody can build
        if (!maker->make(*this, context, binding).ToLocal(&value)) return;  // exception pending
        break;
      }
    }
    env->Set(context, v8Str(isolate_, binding.name), value).Check();
  }
  env_.Reset(isolate_, env);
}

bool ScriptInstance::evaluateBundle(std::string* error) {
  v8::Local<v8::Context> context = this->context();
  v8::TryCatch try_catch(isolate_);
  std::map<int, std::string> path_by_hash;
  for (const auto& [path, module] : bundle_->modules()) {
    v8::Local<v8::Module> compiled;
    if (!compileModule(isolate_, module.display_path, module.source).ToLocal(&compiled)) {
      *error = formatException(isolate_, try_catch, module.display_path);
      return false;
    }
    path_by_hash[compiled->GetIdentityHash()] = path;
    modules_[path].Reset(isolate_, compiled);
  }
  struct Linker {
    ScriptInstance* self;
    std::map<int, std::string>* path_by_hash;
  };
  static thread_local Linker* linker = nullptr;
  Linker state{this, &path_by_hash};
  linker = &state;
  v8::Local<v8::Module> entry = modules_[bundle_->entryPath()].Get(isolate_);
  bool linked = entry
                    ->InstantiateModule(context,
                                        [](v8::Local<v8::Context> ctx, v8::Local<v8::String> specifier,
                                           v8::Local<v8::FixedArray>, v8::Local<v8::Module> referrer)
                                            -> v8::MaybeLocal<v8::Module> {
                                          v8::Isolate* iso = ctx->GetIsolate();
                                          const std::string& from = (*linker->path_by_hash)[referrer->GetIdentityHash()];
                                          const ScriptModule* m = linker->self->bundle_->module(from);
                                          auto it = m->imports.find(toUtf8(iso, specifier));
                                          if (it == m->imports.end()) return {};
                                          return linker->self->modules_[it->second].Get(iso);
                                        })
                    .FromMaybe(false);
  linker = nullptr;
  const std::string entry_name = displayPath(bundle_->entryPath());
  if (!linked) {
    *error = formatException(isolate_, try_catch, entry_name);
    return false;
  }

  // Top-level code runs under limits.startup_ms, not the per-request cpu_ms.
  auto startup = std::make_shared<RequestContext>();
  startup->cpu_used_ns = (static_cast<int64_t>(services_.config->limits.cpu_ms) -
                          static_cast<int64_t>(services_.config->limits.startup_ms)) * 1000000;
  v8::Local<v8::Value> result;
  bool evaluated = false;
  bool ran = run(startup, [&] { evaluated = entry->Evaluate(context).ToLocal(&result); });
  if (!ran) {
    *error = entry_name + ": start-up exceeded " +
             (out_of_memory_ ? "memory_mb" : "startup_ms (" + std::to_string(services_.config->limits.startup_ms) + " ms)");
    return false;
  }
  if (!evaluated || entry->GetStatus() == v8::Module::kErrored) {
    v8::Local<v8::Value> exception = entry->GetStatus() == v8::Module::kErrored ? entry->GetException()
                                                                                : try_catch.Exception();
    *error = entry_name + ": uncaught exception at start-up: " + exceptionStack(isolate_, context, exception);
    return false;
  }
  if (result->IsPromise() && result.As<v8::Promise>()->State() == v8::Promise::kPending) {
    *error = entry_name + ": top-level await did not settle during start-up";
    return false;
  }

  v8::Local<v8::Value> exported;
  v8::Local<v8::Object> ns = entry->GetModuleNamespace().As<v8::Object>();
  if (!ns->Get(context, v8Str(isolate_, "default")).ToLocal(&exported) || !exported->IsObject()) {
    *error = entry_name + ": the module has no default export (expected export default { fetch(request, env, ctx) { ... } })";
    return false;
  }
  v8::Local<v8::Value> fetch;
  if (!exported.As<v8::Object>()->Get(context, v8Str(isolate_, "fetch")).ToLocal(&fetch) || !fetch->IsFunction()) {
    *error = entry_name + ": the default export has no fetch(request, env, ctx) handler";
    return false;
  }
  fetch_.Reset(isolate_, fetch.As<v8::Function>());
  exported_.Reset(isolate_, exported.As<v8::Object>());
  return true;
}

ScriptInstance::~ScriptInstance() {
  if (metrics_route_) metrics::addIsolates(*metrics_route_, -1);
  // Resources hold V8 handles and uv handles: release them before the isolate.
  pending_responses_.clear();
  resources_.clear();
  for (auto& [id, request] : live_requests_) request->client_flat.Reset();
  live_requests_.clear();
  current_.reset();
  global_request_.reset();
  modules_.clear();
  internals_.make_request.Reset();
  internals_.response_parts.Reset();
  internals_.make_origin_binding.Reset();
  internals_.lazy_modules.clear();
  fetch_.Reset();
  exported_.Reset();
  env_.Reset();
  body_handle_template_.Reset();
  ctx_template_.Reset();
  names_.clear();
  context_.Reset();
  if (isolate_) isolate_->Dispose();
}

bool ScriptInstance::run(const std::shared_ptr<RequestContext>& request, const std::function<void()>& fn) {
  if (broken()) return false;
  v8::Isolate::Scope isolate_scope(isolate_);
  v8::HandleScope handle_scope(isolate_);
  v8::Context::Scope context_scope(context());
  if (run_depth_ > 0) {
    // Already inside JavaScript (a native resolving synchronously).
    std::shared_ptr<RequestContext> previous = current_;
    current_ = request;
    fn();
    current_ = previous;
    return !broken();
  }
  int64_t budget = static_cast<int64_t>(services_.config->limits.cpu_ms) * 1000000 - request->cpu_used_ns;
  if (request->id != 0 && (budget <= 0 || request->cpu_exceeded)) {
    // Spent in many short entries: this request is over, the isolate is fine.
    if (!request->cpu_exceeded) {
      request->cpu_exceeded = true;
      if (request->handler) request->handler->onInstanceBroken("exceeded_cpu");
      abandonRequest(request);
    }
    return true;
  }
  std::shared_ptr<RequestContext> previous = current_;
  current_ = request;
  ++run_depth_;
  if (watchdog_) watchdog_->arm(isolate_, budget);
  fn();
  if (!isolate_->IsExecutionTerminating()) isolate_->PerformMicrotaskCheckpoint();
  if (!pending_responses_.empty()) settleResponses();
  if (watchdog_) request->cpu_used_ns += watchdog_->disarm();
  // Foreground tasks V8 posted (GC finalisation, compile jobs).
  while (v8::platform::PumpMessageLoop(JsEngine::platform(), isolate_)) {
  }
  --run_depth_;
  current_ = previous;
  if ((watchdog_ && watchdog_->fired()) || out_of_memory_ || isolate_->IsExecutionTerminating()) {
    broken_reason_ = out_of_memory_ ? "exceeded_memory" : "exceeded_cpu";
    return false;
  }
  return true;
}

int64_t ScriptInstance::cpuInFlightNs() const {
  return run_depth_ > 0 && watchdog_ ? watchdog_->elapsed() : 0;
}

void ScriptInstance::runFromHost(const std::shared_ptr<RequestContext>& request,
                                 const std::function<void()>& fn) {
  if (!run(request, fn)) services_.deployment->discardScriptInstance(services_.route_index);
}

void ScriptInstance::reportException(v8::Local<v8::Value> exception) {
  std::string request_id = current_ ? current_->request_id : "";
  fprintf(stderr, "isogate: %s%suncaught exception: %s\n", request_id.c_str(), request_id.empty() ? "" : ": ",
          exceptionStack(isolate_, context(), exception).c_str());
}

std::shared_ptr<RequestContext> ScriptInstance::requestForHostWork() {
  if (current_ && current_->id != 0) return current_;
  if (!global_request_) {
    global_request_ = std::make_shared<RequestContext>();
    global_request_->id = 0;
  }
  return global_request_;
}

std::shared_ptr<RequestContext> ScriptInstance::beginRequest(ScriptHandler* handler,
                                                             const std::string& request_id) {
  auto request = std::make_shared<RequestContext>();
  request->id = next_request_id_++;
  request->handler = handler;
  request->request_id = request_id;
  live_requests_[request->id] = request;
  return request;
}

void ScriptInstance::maybeRetire(const std::shared_ptr<RequestContext>& request) {
  if (!request->response_settled || request->wait_until_pending > 0) return;
  if (!live_requests_.erase(request->id)) return;
  request->client_flat.Reset();
  // Whatever the request still holds (timers, unread bodies, fetches nobody
  // awaits) ends with it, as in Workers.
  for (auto it = resources_.begin(); it != resources_.end();) {
    if (it->second.request_id == request->id) {
      it = resources_.erase(it);
    } else {
      ++it;
    }
  }
}

void ScriptInstance::watchResponse(v8::Local<v8::Promise> promise, std::shared_ptr<RequestContext> request) {
  pending_responses_.push_back(PendingResponse{v8::Global<v8::Promise>(isolate_, promise), std::move(request)});
}

void ScriptInstance::settleResponses() {
  // Handing a response over runs JavaScript (responseParts), which may settle
  // further promises: repeat until a pass finds nothing.
  bool progress = true;
  while (progress && !isolate_->IsExecutionTerminating()) {
    progress = false;
    for (size_t i = 0; i < pending_responses_.size();) {
      v8::Local<v8::Promise> promise = pending_responses_[i].promise.Get(isolate_);
      if (promise->State() == v8::Promise::kPending) {
        ++i;
        continue;
      }
      std::shared_ptr<RequestContext> request = std::move(pending_responses_[i].request);
      pending_responses_[i] = std::move(pending_responses_.back());
      pending_responses_.pop_back();
      const bool rejected = promise->State() == v8::Promise::kRejected;
      if (rejected) promise->MarkAsHandled();
      request->response_settled = true;
      if (ScriptHandler* handler = request->handler) {
        if (rejected) {
          handler->onHandlerException(*this, promise->Result());
        } else {
          handler->onHandlerResult(*this, promise->Result());
        }
      }
      maybeRetire(request);
      if (isolate_->IsExecutionTerminating()) return;
      isolate_->PerformMicrotaskCheckpoint();
      progress = true;
    }
  }
}

void ScriptInstance::abandonRequest(const std::shared_ptr<RequestContext>& request) {
  request->response_settled = true;
  request->wait_until_pending = 0;
  maybeRetire(request);
}

std::shared_ptr<RequestContext> ScriptInstance::liveRequest(uint64_t id) const {
  auto it = live_requests_.find(id);
  return it == live_requests_.end() ? nullptr : it->second;
}

void ScriptInstance::failAll() {
  auto live = live_requests_;
  for (auto& [id, request] : live) {
    if (request->handler) request->handler->onInstanceBroken(broken_reason_);
  }
  pending_responses_.clear();
  resources_.clear();
  for (auto& [id, request] : live) request->client_flat.Reset();
  live_requests_.clear();
}

uint64_t ScriptInstance::addResource(std::unique_ptr<HostResource> resource, uint64_t request_id) {
  uint64_t id = next_resource_id_++;
  resources_[id] = ResourceEntry{std::move(resource), request_id};
  return id;
}

HostResource* ScriptInstance::resource(uint64_t id) const {
  auto it = resources_.find(id);
  return it == resources_.end() ? nullptr : it->second.resource.get();
}

std::unique_ptr<HostResource> ScriptInstance::takeResource(uint64_t id) {
  auto it = resources_.find(id);
  if (it == resources_.end()) return nullptr;
  std::unique_ptr<HostResource> out = std::move(it->second.resource);
  resources_.erase(it);
  return out;
}

void ScriptInstance::removeResource(uint64_t id) { resources_.erase(id); }

namespace {
// HostBody as a resource.
struct BodyResource : HostResource {
  std::unique_ptr<HostBody> body;
  // The head that came with the body, as the host has it and as JavaScript
  // got it (see takeHeadersOfBody); empty when there is none.
  v8::Global<v8::Array> head_flat;
  HeaderList head_headers;
};
}  // namespace

v8::Local<v8::Object> ScriptInstance::wrapBody(std::unique_ptr<HostBody> body, uint64_t request_id,
                                               v8::Local<v8::Array> flat, HeaderList headers) {
  auto res = std::make_unique<BodyResource>();
  res->body = std::move(body);
  res->head_flat.Reset(isolate_, flat);
  res->head_headers = std::move(headers);
  return bodyHandle(addResource(std::move(res), request_id));
}

bool ScriptInstance::takeHeadersOfBody(v8::Local<v8::Value> handle, v8::Local<v8::Value> flat, HeaderList* out) {
  if (!isBodyHandle(handle)) return false;
  v8::Local<v8::Value> id = handle.As<v8::Object>()->GetInternalField(1);
  auto* res = static_cast<BodyResource*>(resource(static_cast<uint64_t>(id.As<v8::Number>()->Value())));
  if (!res || res->head_flat.IsEmpty() || res->head_flat != flat) return false;
  res->head_flat.Reset();
  *out = std::move(res->head_headers);
  return true;
}

v8::Local<v8::Object> ScriptInstance::wrapBody(std::unique_ptr<HostBody> body, uint64_t request_id) {
  auto res = std::make_unique<BodyResource>();
  res->body = std::move(body);
  return bodyHandle(addResource(std::move(res), request_id));
}

v8::Local<v8::Object> ScriptInstance::bodyHandle(uint64_t id) {
  v8::Local<v8::Object> handle =
      body_handle_template_.Get(isolate_)->NewInstance(context()).ToLocalChecked();
  handle->SetAlignedPointerInInternalField(0, &kBodyHandleTag);
  handle->SetInternalField(1, v8::Number::New(isolate_, static_cast<double>(id)));
  return handle;
}

bool ScriptInstance::isBodyHandle(v8::Local<v8::Value> value) const {
  if (!value->IsObject()) return false;
  v8::Local<v8::Object> object = value.As<v8::Object>();
  return object->InternalFieldCount() == 2 &&
         object->GetAlignedPointerFromInternalField(0) == &kBodyHandleTag;
}

HostBody* ScriptInstance::bodyFromHandle(v8::Local<v8::Value> value) const {
  if (!isBodyHandle(value)) return nullptr;
  v8::Local<v8::Value> id = value.As<v8::Object>()->GetInternalField(1);
  auto* res = static_cast<BodyResource*>(resource(static_cast<uint64_t>(id.As<v8::Number>()->Value())));
  return res ? res->body.get() : nullptr;
}

std::unique_ptr<HostBody> ScriptInstance::takeBodyFromHandle(v8::Local<v8::Value> value) {
  if (!isBodyHandle(value)) return nullptr;
  v8::Local<v8::Value> id = value.As<v8::Object>()->GetInternalField(1);
  std::unique_ptr<HostResource> res = takeResource(static_cast<uint64_t>(id.As<v8::Number>()->Value()));
  if (!res) return nullptr;
  return std::move(static_cast<BodyResource*>(res.get())->body);
}

v8::Local<v8::String> ScriptInstance::name(const char* literal) {
  auto it = names_.find(literal);
  if (it == names_.end()) {
    v8::Local<v8::String> s = v8::String::NewFromUtf8(isolate_, literal, v8::NewStringType::kInternalized).ToLocalChecked();
    it = names_.emplace(literal, v8::Eternal<v8::String>(isolate_, s)).first;
  }
  return it->second.Get(isolate_);
}

}  // namespace isogate
