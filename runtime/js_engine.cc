#include "runtime/js_engine.h"

#include <libplatform/libplatform.h>

#include <cstring>
#include <memory>
#include <mutex>

namespace isogate {

namespace {
std::once_flag init_once;
std::unique_ptr<v8::Platform> g_platform;
std::unique_ptr<v8::ArrayBuffer::Allocator> g_allocator;
v8::Isolate* g_checker = nullptr;

v8::ModifyCodeGenerationFromStringsResult refuseCodeGeneration(v8::Local<v8::Context>,
                                                              v8::Local<v8::Value>, bool) {
  return {false, {}};
}
}  // namespace

void JsEngine::initialize() {
  std::call_once(init_once, [] {
    // Scripts must not generate code from strings; wasm compilation from
    // bytes is code generation too.
    const char flags[] = "--disallow-code-generation-from-strings";
    v8::V8::SetFlagsFromString(flags, strlen(flags));
    g_platform = v8::platform::NewDefaultPlatform();
    v8::V8::InitializePlatform(g_platform.get());
    v8::V8::Initialize();
    g_allocator.reset(v8::ArrayBuffer::Allocator::NewDefaultAllocator());
  });
}

v8::Platform* JsEngine::platform() { return g_platform.get(); }

v8::ArrayBuffer::Allocator* JsEngine::allocator() { return g_allocator.get(); }

v8::Isolate* JsEngine::checkerIsolate() {
  initialize();
  if (!g_checker) {
    v8::Isolate::CreateParams params;
    params.array_buffer_allocator = g_allocator.get();
    g_checker = v8::Isolate::New(params);
    g_checker->SetModifyCodeGenerationFromStringsCallback(refuseCodeGeneration);
  }
  return g_checker;
}

}  // namespace isogate
