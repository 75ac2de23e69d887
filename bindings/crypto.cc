// crypto.getRandomValues and crypto.randomUUID from OpenSSL's CSPRNG.
// crypto.subtle is added to this object by subtle_crypto.cc, installed
// right after it (see registry.cc).
#include <openssl/rand.h>

#include <cstdio>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/js_errors.h"

namespace isogate {

namespace {

constexpr size_t kMaxRandomBytes = 65536;  // Web Crypto's quota

void throwDomException(v8::Isolate* isolate, const char* name, const char* message) {
  isogate::throwDomException(isolate, v8Str(isolate, message), name);
}

void getRandomValues(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Value> arg = info[0];
  if (!arg->IsTypedArray() || arg->IsFloat32Array() || arg->IsFloat64Array()) {
    throwDomException(isolate, "TypeMismatchError", "getRandomValues() needs an integer typed array");
    return;
  }
  v8::Local<v8::TypedArray> array = arg.As<v8::TypedArray>();
  size_t length = array->ByteLength();
  if (length > kMaxRandomBytes) {
    throwDomException(isolate, "QuotaExceededError", "getRandomValues() is limited to 65536 bytes");
    return;
  }
  auto* data = static_cast<unsigned char*>(array->Buffer()->GetBackingStore()->Data()) + array->ByteOffset();
  if (length && RAND_bytes(data, static_cast<int>(length)) != 1) {
    throwDomException(isolate, "OperationError", "the random number generator failed");
    return;
  }
  info.GetReturnValue().Set(arg);
}

void randomUUID(const v8::FunctionCallbackInfo<v8::Value>& info) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    throwDomException(info.GetIsolate(), "OperationError", "the random number generator failed");
    return;
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  info.GetReturnValue().Set(v8Str(info.GetIsolate(), out));
}

}  // namespace

void installCrypto(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Object> crypto = v8::Object::New(isolate);
  setMethod(context, crypto, "getRandomValues", getRandomValues);
  setMethod(context, crypto, "randomUUID", randomUUID);
  global->DefineOwnProperty(context, v8Str(isolate, "crypto"), crypto, v8::DontEnum).Check();
}

}  // namespace isogate
