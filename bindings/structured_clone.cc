// structuredClone(value) through V8's ValueSerializer, which implements the
// HTML structured serialisation algorithm. Errors are DataCloneError.
#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/js_errors.h"

namespace isogate {

namespace {

class CloneDelegate : public v8::ValueSerializer::Delegate {
 public:
  explicit CloneDelegate(v8::Isolate* isolate) : isolate_(isolate) {}
  void ThrowDataCloneError(v8::Local<v8::String> message) override {
    throwDomException(isolate_, message, "DataCloneError");
  }

 private:
  v8::Isolate* isolate_;
};

void structuredCloneCallback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (info.Length() == 0) {
    throwTypeError(isolate, "structuredClone requires 1 argument");
    return;
  }
  CloneDelegate delegate(isolate);
  v8::ValueSerializer serializer(isolate, &delegate);
  serializer.WriteHeader();
  if (!serializer.WriteValue(context, info[0]).FromMaybe(false)) return;
  std::pair<uint8_t*, size_t> data = serializer.Release();
  v8::ValueDeserializer deserializer(isolate, data.first, data.second);
  v8::Local<v8::Value> result;
  if (deserializer.ReadHeader(context).FromMaybe(false) && deserializer.ReadValue(context).ToLocal(&result)) {
    info.GetReturnValue().Set(result);
  }
  free(data.first);
}

}  // namespace

void installStructuredClone(ScriptInstance&, v8::Local<v8::Context> context, v8::Local<v8::Object> global) {
  setMethod(context, global, "structuredClone", structuredCloneCallback);
}

}  // namespace isogate
