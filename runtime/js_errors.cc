#include "runtime/js_errors.h"

namespace isogate {

v8::Local<v8::String> v8Str(v8::Isolate* isolate, std::string_view s) {
  return v8::String::NewFromUtf8(isolate, s.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(s.size()))
      .ToLocalChecked();
}

std::string toUtf8(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  v8::String::Utf8Value text(isolate, value);
  return *text ? std::string(*text, text.length()) : std::string();
}

v8::MaybeLocal<v8::Module> compileModule(v8::Isolate* isolate, const std::string& name,
                                         const std::string& source) {
  v8::ScriptOrigin origin(isolate, v8Str(isolate, name), 0, 0, false, -1, v8::Local<v8::Value>(),
                          false, false, /*is_module=*/true);
  v8::ScriptCompiler::Source src(v8Str(isolate, source), origin);
  return v8::ScriptCompiler::CompileModule(isolate, &src);
}

std::string formatException(v8::Isolate* isolate, const v8::TryCatch& try_catch,
                            const std::string& fallback_file) {
  v8::Local<v8::Message> message = try_catch.Message();
  std::string text = try_catch.HasCaught() ? toUtf8(isolate, try_catch.Exception()) : "unknown error";
  if (message.IsEmpty()) return fallback_file + ": " + text;
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  std::string file = toUtf8(isolate, message->GetScriptResourceName());
  if (file.empty() || file == "undefined") file = fallback_file;
  int line = message->GetLineNumber(context).FromMaybe(0);
  int column = message->GetStartColumn(context).FromMaybe(0) + 1;
  std::string what = toUtf8(isolate, message->Get());
  // V8 prefixes "Uncaught " in messages; a load error is not "uncaught".
  if (what.rfind("Uncaught ", 0) == 0) what = what.substr(9);
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what;
}

std::string exceptionStack(v8::Isolate* isolate, v8::Local<v8::Context> context,
                           v8::Local<v8::Value> exception) {
  if (exception->IsObject()) {
    v8::Local<v8::Value> stack;
    if (exception.As<v8::Object>()->Get(context, v8Str(isolate, "stack")).ToLocal(&stack) &&
        stack->IsString()) {
      return toUtf8(isolate, stack);
    }
  }
  return toUtf8(isolate, exception);
}

}  // namespace isogate
