// Proves the V8 from libnode108 links and runs: isolate, context, script.
#include <gtest/gtest.h>
#include <libplatform/libplatform.h>
#include <v8.h>

#include <memory>
#include <string>

TEST(V8Smoke, RunsAScriptInAFreshIsolate) {
  std::unique_ptr<v8::Platform> platform = v8::platform::NewDefaultPlatform();
  v8::V8::InitializePlatform(platform.get());
  ASSERT_TRUE(v8::V8::Initialize());

  v8::Isolate::CreateParams params;
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator(
      v8::ArrayBuffer::Allocator::NewDefaultAllocator());
  params.array_buffer_allocator = allocator.get();
  v8::Isolate* isolate = v8::Isolate::New(params);
  {
    v8::Isolate::Scope isolate_scope(isolate);
    v8::HandleScope handle_scope(isolate);
    v8::Local<v8::Context> context = v8::Context::New(isolate);
    v8::Context::Scope context_scope(context);
    v8::Local<v8::String> source =
        v8::String::NewFromUtf8Literal(isolate, "[1, 2, 3].map(x => x * 2).join('-') + ' ' + typeof WebAssembly");
    v8::Local<v8::Script> script = v8::Script::Compile(context, source).ToLocalChecked();
    v8::Local<v8::Value> result = script->Run(context).ToLocalChecked();
    v8::String::Utf8Value text(isolate, result);
    EXPECT_EQ(std::string(*text), "2-4-6 object");
    EXPECT_EQ(std::string(v8::V8::GetVersion()).rfind("10.2.", 0), 0u) << v8::V8::GetVersion();
  }
  isolate->Dispose();
  v8::V8::Dispose();
  v8::V8::DisposePlatform();
}
