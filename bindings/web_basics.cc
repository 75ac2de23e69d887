// TextEncoder/TextDecoder, atob/btoa, DOMException, Event/EventTarget,
// AbortController/AbortSignal, queueMicrotask, performance
// (bindings/js/web_basics.js) and the natives they need.
#include <uv.h>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/js_errors.h"

namespace isogate {

extern const char kJs_web_basics[];

namespace {

uint64_t g_process_start_ns = uv_hrtime();

void now(const v8::FunctionCallbackInfo<v8::Value>& info) {
  // Milliseconds since the process started, as a monotonic clock. (Workers
  // freezes time during execution to blunt timing attacks; a gateway's
  // operators want real durations in logs.)
  info.GetReturnValue().Set(static_cast<double>(uv_hrtime() - g_process_start_ns) / 1e6);
}

void reportError(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ScriptInstance* instance = ScriptInstance::fromContext(info.GetIsolate()->GetCurrentContext());
  instance->reportException(info[0]);
}

void nativeSetTimeout(const v8::FunctionCallbackInfo<v8::Value>& info) {
  // Reuses the global setTimeout so AbortSignal.timeout() timers belong to the request.
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> set_timeout;
  if (!context->Global()->Get(context, v8Str(isolate, "setTimeout")).ToLocal(&set_timeout) ||
      !set_timeout->IsFunction()) {
    return;
  }
  v8::Local<v8::Value> args[2] = {info[0], info[1]};
  v8::Local<v8::Value> id;
  if (set_timeout.As<v8::Function>()->Call(context, v8::Undefined(isolate), 2, args).ToLocal(&id)) {
    info.GetReturnValue().Set(id);
  }
}

}  // namespace

void installWebBasics(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object>) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Object> native = v8::Object::New(isolate);
  setMethod(context, native, "now", now);
  setMethod(context, native, "reportError", reportError);
  setMethod(context, native, "setTimeout", nativeSetTimeout);
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  double time_origin = static_cast<double>(tv.tv_sec) * 1000 + static_cast<double>(tv.tv_usec) / 1000 -
                       static_cast<double>(uv_hrtime() - g_process_start_ns) / 1e6;
  native->Set(context, v8Str(isolate, "timeOrigin"), v8::Number::New(isolate, time_origin)).Check();
  runJsInstaller(instance, "web_basics.js", kJs_web_basics, native);
}

}  // namespace isogate
