// setTimeout, setInterval, clearTimeout, clearInterval on the worker's uv
// loop. As in Workers, delays are not clamped, and timers belong to the
// request that set them: they are cancelled when its work is over.
#include <memory>
#include <vector>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/timer.h"

namespace isogate {

namespace {

struct TimerResource : HostResource {
  std::unique_ptr<Timer> timer;
  v8::Global<v8::Function> callback;
  std::vector<v8::Global<v8::Value>> args;
  std::shared_ptr<RequestContext> request;
  bool repeat = false;
};

void fire(ScriptInstance* instance, uint64_t id) {
  auto* timer = dynamic_cast<TimerResource*>(instance->resource(id));
  if (!timer) return;
  std::shared_ptr<RequestContext> request = timer->request;
  instance->runFromHost(request, [&] {
    v8::Isolate* isolate = instance->isolate();
    v8::Local<v8::Context> context = instance->context();
    std::vector<v8::Local<v8::Value>> args;
    for (auto& a : timer->args) args.push_back(a.Get(isolate));
    v8::Local<v8::Function> callback = timer->callback.Get(isolate);
    if (!timer->repeat) instance->removeResource(id);  // `timer` is gone after this
    v8::TryCatch try_catch(isolate);
    if (callback->Call(context, v8::Undefined(isolate), static_cast<int>(args.size()), args.data()).IsEmpty() &&
        try_catch.HasCaught() && !try_catch.HasTerminated()) {
      instance->reportException(try_catch.Exception());
    }
  });
}

void schedule(const v8::FunctionCallbackInfo<v8::Value>& info, bool repeat) {
  v8::Isolate* isolate = info.GetIsolate();
  ScriptInstance* instance = ScriptInstance::fromContext(isolate->GetCurrentContext());
  if (!info[0]->IsFunction()) {
    throwTypeError(isolate, "The callback provided as parameter 1 is not a function.");
    return;
  }
  double delay = info.Length() > 1 ? info[1]->NumberValue(isolate->GetCurrentContext()).FromMaybe(0) : 0;
  if (!(delay > 0)) delay = 0;  // NaN and negatives mean 0
  if (delay > 2147483647.0) delay = 2147483647.0;  // as browsers: the largest 32-bit delay
  auto timer = std::make_unique<TimerResource>();
  timer->callback.Reset(isolate, info[0].As<v8::Function>());
  for (int i = 2; i < info.Length(); ++i) timer->args.emplace_back(isolate, info[i]);
  timer->request = instance->requestForHostWork();
  timer->repeat = repeat;
  TimerResource* raw = timer.get();
  uint64_t id = instance->addResource(std::move(timer), raw->request->id);
  raw->timer = std::make_unique<Timer>(instance->loop(), [instance, id] { fire(instance, id); });
  const uint64_t ms = static_cast<uint64_t>(delay);
  // The loop's cached time may be stale after a long callback; a timer must
  // never fire before its delay has passed.
  uv_update_time(instance->loop());
  raw->timer->start(ms, repeat ? (ms == 0 ? 1 : ms) : 0);
  info.GetReturnValue().Set(v8::Number::New(isolate, static_cast<double>(id)));
}

void setTimeoutCallback(const v8::FunctionCallbackInfo<v8::Value>& info) { schedule(info, false); }
void setIntervalCallback(const v8::FunctionCallbackInfo<v8::Value>& info) { schedule(info, true); }

void clearTimerCallback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  ScriptInstance* instance = ScriptInstance::fromContext(isolate->GetCurrentContext());
  if (!info[0]->IsNumber()) return;
  double id = info[0].As<v8::Number>()->Value();
  if (!(id >= 1)) return;
  if (dynamic_cast<TimerResource*>(instance->resource(static_cast<uint64_t>(id)))) {
    instance->removeResource(static_cast<uint64_t>(id));
  }
}

}  // namespace

void installTimers(ScriptInstance&, v8::Local<v8::Context> context, v8::Local<v8::Object> global) {
  setMethod(context, global, "setTimeout", setTimeoutCallback);
  setMethod(context, global, "setInterval", setIntervalCallback);
  setMethod(context, global, "clearTimeout", clearTimerCallback);
  setMethod(context, global, "clearInterval", clearTimerCallback);
}

}  // namespace isogate
