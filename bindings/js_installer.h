#pragma once
// Runs one of the embedded bindings/js/*.js files: each is a single function
// expression `(function (global, native) { ... })` evaluated once per context.
// Also small helpers for defining native functions on an object.

#include <v8.h>

namespace isogate {

class ScriptInstance;

// Evaluates `source` (named `name` in stack traces) and calls the function
// with (global, native). Returns its result (empty if it threw).
v8::MaybeLocal<v8::Value> runJsInstaller(ScriptInstance& instance, const char* name, const char* source,
                                         v8::Local<v8::Object> native);

// The internals of an embedded JS part that loads the first time an env
// binding needs it (once per context; later calls return the cached object).
// `add_natives` fills the `native` object the part is called with.
using AddNatives = void (*)(v8::Local<v8::Context> context, v8::Local<v8::Object> native);
v8::MaybeLocal<v8::Object> lazyJsModule(ScriptInstance& instance, const char* name, const char* source,
                                        AddNatives add_natives);
// Calls module[function](args...).
v8::MaybeLocal<v8::Value> callModule(v8::Local<v8::Context> context, v8::Local<v8::Object> module,
                                     const char* function, int argc, v8::Local<v8::Value>* argv);

// Sets a native function as a non-enumerable property.
void setMethod(v8::Local<v8::Context> context, v8::Local<v8::Object> target, const char* name,
               v8::FunctionCallback callback, v8::Local<v8::Value> data = v8::Local<v8::Value>());
// Throws a TypeError with `message` in the current isolate.
void throwTypeError(v8::Isolate* isolate, const char* message);
// Throws a DOMException named `name` (the context's DOMException; a plain
// Error if the context has none).
void throwDomException(v8::Isolate* isolate, v8::Local<v8::String> message, const char* name);

}  // namespace isogate
