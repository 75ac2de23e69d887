#include "bindings/js_installer.h"

#include "runtime/js_errors.h"
#include "runtime/script_instance.h"

namespace isogate {

v8::MaybeLocal<v8::Value> runJsInstaller(ScriptInstance& instance, const char* name, const char* source,
                                         v8::Local<v8::Object> native) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Context> context = instance.context();
  v8::ScriptOrigin origin(isolate, v8Str(isolate, std::string("isogate:") + name));
  v8::Local<v8::Script> script;
  if (!v8::Script::Compile(context, v8Str(isolate, source), &origin).ToLocal(&script)) return {};
  v8::Local<v8::Value> fn;
  if (!script->Run(context).ToLocal(&fn) || !fn->IsFunction()) return {};
  v8::Local<v8::Value> args[2] = {context->Global(), native};
  return fn.As<v8::Function>()->Call(context, v8::Undefined(isolate), 2, args);
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

}  // namespace isogate
