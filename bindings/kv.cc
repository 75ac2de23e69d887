// The `kv` env binding: the Workers KV API (bindings/js/kv.js) over
// kv::Store. Reads run on the worker thread (LMDB reads take microseconds
// and never wait for writers); writes go to the store's writer thread and
// their promises settle when the worker hears back that they committed.
#include <algorithm>
#include <ctime>
#include <memory>
#include <string>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/deployment.h"
#include "runtime/js_errors.h"
#include "runtime/metrics.h"
#include "runtime/script_instance.h"
#include "runtime/worker.h"

namespace isogate {

extern const char kJs_kv[];

namespace {

uint64_t nowSeconds() { return static_cast<uint64_t>(time(nullptr)); }

// One binding's namespace on one worker. Null store: the store could not be
// opened and every operation fails with `error`.
class KvNamespaceBinding final : public BindingState {
 public:
  KvNamespaceBinding(std::shared_ptr<kv::Store> store, std::string error, const std::string& ns)
      : store_(std::move(store)), error_(std::move(error)) {
    if (!store_) return;
    kv::Status status = store_->openNamespace(ns, &namespace_);
    if (!status.isOk()) error_ = status.message();
  }
  kv::Store* store() const { return namespace_ ? store_.get() : nullptr; }
  const kv::Namespace& ns() const { return *namespace_; }
  const std::string& error() const { return error_; }

 private:
  std::shared_ptr<kv::Store> store_;
  const kv::Namespace* namespace_ = nullptr;
  std::string error_;
};

// A put or delete waiting for its commit. Owned by the script instance,
// tied to the request that started it.
struct PendingWrite final : HostResource {
  std::shared_ptr<RequestContext> request;
  v8::Global<v8::Promise::Resolver> resolver;
};

void throwError(v8::Isolate* isolate, const std::string& message) {
  isolate->ThrowException(v8::Exception::Error(v8Str(isolate, message)));
}

KvNamespaceBinding* bindingFrom(const v8::FunctionCallbackInfo<v8::Value>& info, const char* op) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsExternal() || !info[1]->IsString()) {
    throwTypeError(isolate, "internal error: bad arguments to a KV native");
    return nullptr;
  }
  auto* binding = static_cast<KvNamespaceBinding*>(info[0].As<v8::External>()->Value());
  if (!binding->store()) {
    throwError(isolate, std::string("KV ") + op + " failed: " + binding->error());
    return nullptr;
  }
  return binding;
}

// kvGet(handle, key, asText) -> undefined | [value, metadataJson | undefined, expiration]
void kvGet(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  KvNamespaceBinding* binding = bindingFrom(info, "GET");
  if (!binding) return;
  metrics::recordKvOperation("get");
  kv::Entry entry;
  kv::Status status = binding->store()->get(binding->ns(), toUtf8(isolate, info[1]), nowSeconds(), &entry);
  if (status.code() == kv::Status::Code::kNotFound) return;
  if (!status.isOk()) {
    throwError(isolate, "KV GET failed: " + status.message());
    return;
  }
  v8::Local<v8::Value> value;
  if (info[2]->IsTrue()) {
    value = v8Str(isolate, entry.value);
  } else {
    std::unique_ptr<v8::BackingStore> bytes = v8::ArrayBuffer::NewBackingStore(isolate, entry.value.size());
    std::copy(entry.value.begin(), entry.value.end(), static_cast<char*>(bytes->Data()));
    value = v8::ArrayBuffer::New(isolate, std::move(bytes));
  }
  v8::Local<v8::Value> parts[3] = {
      value,
      entry.metadata ? v8::Local<v8::Value>(v8Str(isolate, *entry.metadata))
                     : v8::Local<v8::Value>(v8::Undefined(isolate)),
      v8::Number::New(isolate, entry.expiration ? static_cast<double>(*entry.expiration) : 0)};
  info.GetReturnValue().Set(v8::Array::New(isolate, parts, 3));
}

// Starts a write; the returned promise settles on this thread after the
// writer thread committed it.
void startWrite(const v8::FunctionCallbackInfo<v8::Value>& info, const char* op,
                const std::function<kv::Status(kv::Store::Callback)>& enqueue) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  ScriptInstance* instance = ScriptInstance::fromContext(context);
  v8::Local<v8::Promise::Resolver> resolver;
  if (!v8::Promise::Resolver::New(context).ToLocal(&resolver)) return;

  auto pending = std::make_unique<PendingWrite>();
  pending->request = instance->requestForHostWork();
  pending->resolver.Reset(isolate, resolver);
  const uint64_t request_id = pending->request->id;
  const uint64_t id = instance->addResource(std::move(pending), request_id);

  std::shared_ptr<LoopMailbox> mailbox = instance->services().worker->mailbox();
  std::weak_ptr<void> liveness = instance->liveness();
  const std::string what = std::string("KV ") + op + " failed: ";
  kv::Status status = enqueue([mailbox, liveness, instance, id, what](kv::Status result) {
    // Writer thread: hand the outcome to the worker that asked.
    mailbox->post([liveness, instance, id, what, result = std::move(result)] {
      if (liveness.expired()) return;  // the isolate is gone
      std::unique_ptr<HostResource> resource = instance->takeResource(id);
      if (!resource) return;  // the request was abandoned
      auto* write = static_cast<PendingWrite*>(resource.get());
      instance->runFromHost(write->request, [&] {
        v8::Isolate* isolate = instance->isolate();
        v8::Local<v8::Context> context = instance->context();
        v8::Local<v8::Promise::Resolver> resolver = write->resolver.Get(isolate);
        if (result.isOk()) {
          resolver->Resolve(context, v8::Undefined(isolate)).Check();
        } else {
          resolver->Reject(context, v8::Exception::Error(v8Str(isolate, what + result.message()))).Check();
        }
      });
    });
  });
  if (!status.isOk()) {
    instance->removeResource(id);
    resolver->Reject(context, v8::Exception::Error(v8Str(isolate, what + status.message()))).Check();
  }
  info.GetReturnValue().Set(resolver->GetPromise());
}

// kvPut(handle, key, value (string | Uint8Array), expiration (0 = none), metadataJson | undefined)
void kvPut(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  KvNamespaceBinding* binding = bindingFrom(info, "PUT");
  if (!binding) return;
  metrics::recordKvOperation("put");
  std::string key = toUtf8(isolate, info[1]);
  std::string value;
  if (info[2]->IsUint8Array()) {
    v8::Local<v8::Uint8Array> bytes = info[2].As<v8::Uint8Array>();
    value.resize(bytes->ByteLength());
    if (!value.empty()) bytes->CopyContents(value.data(), value.size());
  } else {
    value = toUtf8(isolate, info[2]);
  }
  kv::PutOptions options;
  double expiration = info[3]->IsNumber() ? info[3].As<v8::Number>()->Value() : 0;
  if (expiration > 0) options.expiration = static_cast<uint64_t>(expiration);
  if (info[4]->IsString()) options.metadata = toUtf8(isolate, info[4]);
  startWrite(info, "PUT", [&](kv::Store::Callback done) {
    return binding->store()->put(binding->ns(), std::move(key), std::move(value), std::move(options),
                                 std::move(done));
  });
}

// kvDelete(handle, key)
void kvDelete(const v8::FunctionCallbackInfo<v8::Value>& info) {
  KvNamespaceBinding* binding = bindingFrom(info, "DELETE");
  if (!binding) return;
  metrics::recordKvOperation("delete");
  std::string key = toUtf8(info.GetIsolate(), info[1]);
  startWrite(info, "DELETE", [&](kv::Store::Callback done) {
    return binding->store()->remove(binding->ns(), std::move(key), std::move(done));
  });
}

// kvList(handle, prefix, limit, cursor) -> [names[], expirations[], metadataJsons[], complete, cursor]
void kvList(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  KvNamespaceBinding* binding = bindingFrom(info, "LIST");
  if (!binding) return;
  metrics::recordKvOperation("list");
  kv::ListOptions options;
  options.prefix = toUtf8(isolate, info[1]);
  double limit = info[2]->IsNumber() ? info[2].As<v8::Number>()->Value() : kv::kMaxListLimit;
  options.limit = static_cast<uint32_t>(std::clamp<double>(limit, 1, kv::kMaxListLimit));
  options.cursor = info[3]->IsString() ? toUtf8(isolate, info[3]) : "";
  kv::ListResult result;
  kv::Status status = binding->store()->list(binding->ns(), options, nowSeconds(), &result);
  if (!status.isOk()) {
    throwError(isolate, "KV LIST failed: " + status.message());
    return;
  }
  const int count = static_cast<int>(result.keys.size());
  v8::Local<v8::Array> names = v8::Array::New(isolate, count);
  v8::Local<v8::Array> expirations = v8::Array::New(isolate, count);
  v8::Local<v8::Array> metadatas = v8::Array::New(isolate, count);
  for (int i = 0; i < count; ++i) {
    const kv::ListedKey& key = result.keys[static_cast<size_t>(i)];
    names->Set(context, i, v8Str(isolate, key.name)).Check();
    expirations->Set(context, i, v8::Number::New(isolate, key.expiration ? static_cast<double>(*key.expiration) : 0))
        .Check();
    metadatas->Set(context, i, key.metadata ? v8::Local<v8::Value>(v8Str(isolate, *key.metadata))
                                            : v8::Local<v8::Value>(v8::Undefined(isolate)))
        .Check();
  }
  v8::Local<v8::Value> parts[5] = {names, expirations, metadatas, v8::Boolean::New(isolate, result.list_complete),
                                   v8Str(isolate, result.cursor)};
  info.GetReturnValue().Set(v8::Array::New(isolate, parts, 5));
}

void addNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> native) {
  setMethod(context, native, "kvGet", kvGet);
  setMethod(context, native, "kvPut", kvPut);
  setMethod(context, native, "kvDelete", kvDelete);
  setMethod(context, native, "kvList", kvList);
}

}  // namespace

v8::MaybeLocal<v8::Value> makeKvBinding(ScriptInstance& instance, v8::Local<v8::Context> context,
                                        const BindingConfig& binding) {
  v8::Isolate* isolate = instance.isolate();
  DeploymentInstance& deployment = *instance.services().deployment;
  const std::string key = "kv/" + binding.kv_namespace;
  auto* state = static_cast<KvNamespaceBinding*>(deployment.bindingState(key));
  if (!state) {
    const Deployment& loaded = deployment.deployment();
    state = static_cast<KvNamespaceBinding*>(deployment.setBindingState(
        key, std::make_unique<KvNamespaceBinding>(loaded.kvStore(), loaded.kvStoreError(), binding.kv_namespace)));
  }
  v8::Local<v8::Object> module;
  if (!lazyJsModule(instance, "kv.js", kJs_kv, addNatives).ToLocal(&module)) return {};
  v8::Local<v8::Value> handle = v8::External::New(isolate, state);
  return callModule(context, module, "makeKvNamespace", 1, &handle);
}

}  // namespace isogate
