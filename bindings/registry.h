#pragma once
// The table of every binding installed into a script's context, in install
// order (later ones may use globals of earlier ones). The CLI hands it to the
// runtime with setScriptBindings().

#include <vector>

#include "runtime/script_instance.h"

namespace isogate {

const std::vector<BindingInstaller>& allBindings();
// The env bindings whose types bindings/ owns (jwt, kv, ratelimit).
const std::vector<EnvBindingMaker>& allEnvBindings();

void installWebBasics(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installUrl(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installFetch(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installCache(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installConsole(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installTimers(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installCrypto(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installSubtleCrypto(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);
void installStructuredClone(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object> global);

v8::MaybeLocal<v8::Value> makeJwtBinding(ScriptInstance& instance, v8::Local<v8::Context> context,
                                         const BindingConfig& binding);
v8::MaybeLocal<v8::Value> makeKvBinding(ScriptInstance& instance, v8::Local<v8::Context> context,
                                        const BindingConfig& binding);
v8::MaybeLocal<v8::Value> makeRateLimitBinding(ScriptInstance& instance, v8::Local<v8::Context> context,
                                               const BindingConfig& binding);

}  // namespace isogate
