// console.log/info/debug/warn/error/trace. Output goes to stderr (stdout
// carries only the access log): one JSON line in `serve`, a short line in
// `dev`, each tagged with the request id of the request that logged it.
#include <cstdio>
#include <string>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/access_log.h"
#include "runtime/js_errors.h"

namespace isogate {

namespace {

std::string formatValue(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Value> value) {
  if (value->IsString()) return toUtf8(isolate, value);
  if (value->IsNativeError()) return exceptionStack(isolate, context, value);
  if (value->IsObject() && !value->IsFunction()) {
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::String> json;
    if (v8::JSON::Stringify(context, value).ToLocal(&json)) return toUtf8(isolate, json);
  }
  return toUtf8(isolate, value);
}

template <const char* kLevel>
void log(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  ScriptInstance* instance = ScriptInstance::fromContext(context);
  std::string message;
  for (int i = 0; i < info.Length(); ++i) {
    if (i) message.push_back(' ');
    message += formatValue(isolate, context, info[i]);
  }
  const RequestContext* request = instance->current();
  const std::string request_id = request ? request->request_id : "";
  std::string line;
  if (instance->services().dev) {
    line = std::string("  console.") + kLevel + (request_id.empty() ? "" : " [" + request_id.substr(0, 8) + "]") +
           " " + message + "\n";
  } else {
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    line = "{\"timestamp\":\"" + formatTimestamp(tv.tv_sec * 1000 + tv.tv_usec / 1000) + "\",\"level\":\"" + kLevel +
           "\",\"request_id\":";
    appendJsonString(line, request_id);
    line += ",\"route\":";
    appendJsonString(line, instance->services().route ? instance->services().route->name : "");
    line += ",\"message\":";
    appendJsonString(line, message);
    line += "}\n";
  }
  fwrite(line.data(), 1, line.size(), stderr);
}

constexpr char kLog[] = "log";
constexpr char kInfo[] = "info";
constexpr char kDebug[] = "debug";
constexpr char kWarn[] = "warn";
constexpr char kError[] = "error";

}  // namespace

void installConsole(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global) {
  v8::Isolate* isolate = instance.isolate();
  v8::Local<v8::Object> console = v8::Object::New(isolate);
  setMethod(context, console, "log", log<kLog>);
  setMethod(context, console, "info", log<kInfo>);
  setMethod(context, console, "debug", log<kDebug>);
  setMethod(context, console, "warn", log<kWarn>);
  setMethod(context, console, "error", log<kError>);
  setMethod(context, console, "trace", log<kDebug>);
  global->DefineOwnProperty(context, v8Str(isolate, "console"), console, v8::DontEnum).Check();
}

}  // namespace isogate
