#include "bindings/js_installer.h"

#include <map>
#include <mutex>
#include <string>

#include "runtime/js_errors.h"
#include "runtime/script_instance.h"

namespace isogate {

namespace {

// V8 code caches of the embedded scripts, shared by all isolates of the
// process: every new isolate would otherwise parse and compile ~150 KB of
// JavaScript again, the larger part of a cold start.
std::mutex g_cache_mutex;
std::map<std::string, std::string> g_code_cache;

v8::MaybeLocal<v8::Script> compileCached(v8::Local<v8::Context> context, const char* name, const char* source,
                                         bool* cache_missing) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::ScriptOrigin origin(isolate, v8Str(isolate, std::string("isogate:") + name));
  std::string cached;
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    auto it = g_code_cache.find(name);
    if (it != g_code_cache.end()) cached = it->second;
  }
  *cache_missing = cached.empty();
  if (cached.empty()) {
    v8::ScriptCompiler::Source src(v8Str(isolate, source), origin);
    return v8::ScriptCompiler::Compile(context, &src);
  }
  // The cached data must outlive compilation only; V8 copies what it keeps.
  auto* data = new v8::ScriptCompiler::CachedData(reinterpret_cast<const uint8_t*>(cached.data()),
                                                  static_cast<int>(cached.size()));
  v8::ScriptCompiler::Source src(v8Str(isolate, source), origin, data);
  v8::MaybeLocal<v8::Script> script =
      v8::ScriptCompiler::Compile(context, &src, v8::ScriptCompiler::kConsumeCodeCache);
  if (data->rejected) *cache_missing = true;  // a V8 flag mismatch: rebuild it
  return script;
}

void storeCodeCache(const char* name, v8::Local<v8::Script> script) {
  std::unique_ptr<v8::ScriptCompiler::CachedData> data(
      v8::ScriptCompiler::CreateCodeCache(script->GetUnboundScript()));
  if (!data) return;
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  g_code_cache[name] = std::string(reinterpret_cast<const char*>(data->data), static_cast<size_t>(data->length));
}

}  // namespace

v8::MaybeLocal<v8::Value> runJsInstaller(ScriptInstance& instance, const char* name, const char* source,
                                         v8::Local<v8::Object> native) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Context> context = instance.context();
  bool cache_missing = false;
  v8::Local<v8::Script> script;
  if (!compileCached(context, name, source, &cache_missing).ToLocal(&script)) return {};
  v8::Local<v8::Value> fn;
  if (!script->Run(context).ToLocal(&fn) || !fn->IsFunction()) return {};
  v8::Local<v8::Value> args[2] = {context->Global(), native};
  v8::MaybeLocal<v8::Value> result = fn.As<v8::Function>()->Call(context, v8::Undefined(isolate), 2, args);
  // After the installer ran, the cache also holds the functions it compiled.
  if (cache_missing) storeCodeCache(name, script);
  return result;
}

v8::MaybeLocal<v8::Object> lazyJsModule(ScriptInstance& instance, const char* name, const char* source,
                                        AddNatives add_natives) {
  v8::Isolate* isolate = instance.isolate();
  auto& modules = instance.internals().lazy_modules;
  auto it = modules.find(name);
  if (it != modules.end()) return it->second.Get(isolate);
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> native = v8::Object::New(isolate);
  add_natives(context, native);
  v8::Local<v8::Value> result;
  if (!runJsInstaller(instance, name, source, native).ToLocal(&result)) return {};
  if (!result->IsObject()) {
    throwTypeError(isolate, "internal error: an env binding's JavaScript part returned no internals");
    return {};
  }
  modules[name].Reset(isolate, result.As<v8::Object>());
  return result.As<v8::Object>();
}

v8::MaybeLocal<v8::Value> callModule(v8::Local<v8::Context> context, v8::Local<v8::Object> module,
                                     const char* function, int argc, v8::Local<v8::Value>* argv) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Value> fn;
  if (!module->Get(context, v8Str(isolate, function)).ToLocal(&fn)) return {};
  if (!fn->IsFunction()) {
    throwTypeError(isolate, "internal error: an env binding's JavaScript part lacks a function");
    return {};
  }
  return fn.As<v8::Function>()->Call(context, module, argc, argv);
}

void setMethod(v8::Local<v8::Context> context, v8::Local<v8::Object> target, const char* name,
               v8::FunctionCallback callback, v8::Local<v8::Value> data) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::String> key = v8::String::NewFromUtf8(isolate, name, v8::NewStringType::kInternalized).ToLocalChecked();
  v8::Local<v8::Function> fn = v8::Function::New(context, callback, data, 0, v8::ConstructorBehavior::kThrow).ToLocalChecked();
  fn->SetName(key);
  target->DefineOwnProperty(context, key, fn, v8::DontEnum).Check();
}

void throwTypeError(v8::Isolate* isolate, const char* message) {
  isolate->ThrowException(v8::Exception::TypeError(v8Str(isolate, message)));
}

void throwDomException(v8::Isolate* isolate, v8::Local<v8::String> message, const char* name) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> ctor;
  if (context->Global()->Get(context, v8Str(isolate, "DOMException")).ToLocal(&ctor) && ctor->IsFunction()) {
    v8::Local<v8::Value> args[2] = {message, v8Str(isolate, name)};
    v8::Local<v8::Object> error;
    if (ctor.As<v8::Function>()->NewInstance(context, 2, args).ToLocal(&error)) {
      isolate->ThrowException(error);
      return;
    }
  }
  isolate->ThrowException(v8::Exception::Error(message));
}

}  // namespace isogate
