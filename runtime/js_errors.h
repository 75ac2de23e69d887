#pragma once
// Small V8 helpers shared by the script runtime: compiling a module with
// its file name, and turning a caught exception into "FILE:LINE:COL: message".

#include <v8.h>

#include <string>

namespace isogate {

v8::MaybeLocal<v8::Module> compileModule(v8::Isolate* isolate, const std::string& name,
                                         const std::string& source);
// "FILE:LINE:COL: SyntaxError: ..." from the exception's message; falls back
// to "fallback_file: message" when V8 gives no position.
std::string formatException(v8::Isolate* isolate, const v8::TryCatch& try_catch,
                            const std::string& fallback_file);
// The exception's stack (or message) for logs.
std::string exceptionStack(v8::Isolate* isolate, v8::Local<v8::Context> context,
                           v8::Local<v8::Value> exception);
std::string toUtf8(v8::Isolate* isolate, v8::Local<v8::Value> value);
v8::Local<v8::String> v8Str(v8::Isolate* isolate, std::string_view s);

}  // namespace isogate
