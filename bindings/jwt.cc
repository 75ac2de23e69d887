// The `jwt` env binding: env.NAME.verify(requestOrToken) over the JWT core in
// crypto/ (bindings/js/jwt.js extracts the Bearer token). Each worker keeps,
// per binding, the key set, a JWKS fetcher and a cache of verified tokens
// (JwtKeys below); they live in the DeploymentInstance, so an isolate
// rebuilt after a limit keeps them.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "crypto/jwks.h"
#include "crypto/jwt.h"
#include "crypto/verification_cache.h"
#include "runtime/deployment.h"
#include "runtime/host_fetch.h"
#include "runtime/js_errors.h"
#include "runtime/script_instance.h"

namespace isogate {

extern const char kJs_jwt[];

namespace {

// JWKS caching: Cache-Control max-age clamped to [floor, ceiling]; a JWKS
// without one is kept for the default. A kid the set does not know triggers
// at most one refetch per kUnknownKidRefetchS; a failed fetch is retried
// after kRetryAfterFailureS while the old keys stay in use.
constexpr int64_t kJwksFloorS = 60;
constexpr int64_t kJwksCeilingS = 24 * 3600;
constexpr int64_t kJwksDefaultS = 600;
constexpr int64_t kUnknownKidRefetchS = 60;
constexpr int64_t kRetryAfterFailureS = 30;
constexpr size_t kCacheEntries = 4096;

int64_t nowSeconds() { return static_cast<int64_t>(time(nullptr)); }

// A verify() waiting for the key set (first use, or a refetch for an unknown
// kid). Owned by the script instance, tied to its request.
struct PendingVerify final : HostResource {
  std::shared_ptr<RequestContext> request;
  v8::Global<v8::Promise::Resolver> resolver;
  std::string token;
};

class JwtKeys final : public BindingState {
 public:
  JwtKeys(DeploymentInstance& deployment, const BindingConfig& binding)
      : deployment_(deployment), name_(binding.name), config_(binding.jwt), cache_(kCacheEntries) {
    std::string error;
    std::optional<crypto::JwtAlgorithmSet> algorithms = crypto::parseJwtAlgorithms(config_.algorithms, &error);
    if (algorithms) policy_.algorithms = *algorithms;  // the config loader already refused bad lists
    policy_.issuer = config_.issuer;
    policy_.audience = config_.audience;
    policy_.clock_skew_s = config_.clock_skew_s;
    policy_.required_claims = config_.required_claims;
    if (config_.secret_env) {
      const char* secret = getenv(config_.secret_env->c_str());
      if (secret && *secret) hmac_ = crypto::Key::fromSecret(secret);
    }
    if (config_.jwks_file) loadFile(*config_.jwks_file);
  }

  // Decides `token` now when the keys allow it (returns the outcome array);
  // otherwise parks it until the JWKS arrives and returns a promise of it.
  v8::Local<v8::Value> verify(ScriptInstance& instance, const std::string& token) {
    const int64_t now = nowSeconds();
    if (const crypto::JwtResult* hit = cache_.lookup(token, now)) return outcome(instance, *hit, now);
    if (config_.jwks_url) {
      if (!keys_) {
        startFetch();
        return park(instance, token);
      }
      if (now >= fresh_until_) startFetch();  // stale: refresh in the background
    }
    crypto::JwtResult result = crypto::verifyJwt(token, policy_, keys_.get(), hmac_.get(), now);
    if (result.error == crypto::JwtError::kUnknownKid && config_.jwks_url &&
        (fetch_ || now >= last_unknown_kid_fetch_ + kUnknownKidRefetchS)) {
      if (!fetch_) last_unknown_kid_fetch_ = now;
      startFetch();
      return park(instance, token);
    }
    if (result.valid()) cache_.insert(token, result, policy_.clock_skew_s, now);
    return outcome(instance, result, now);
  }

  // Bumped whenever the key set changes: results cached in JavaScript under
  // an older generation are not used again.
  uint32_t* generation() { return &generation_; }

 private:
  void loadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::string error;
    keys_ = crypto::KeySet::parse(text.str(), &error);
    if (!keys_) fprintf(stderr, "isogate: jwt binding %s: %s: %s\n", name_.c_str(), path.c_str(), error.c_str());
    logWarnings();
  }

  void logWarnings() {
    if (!keys_) return;
    for (const std::string& warning : keys_->warnings()) {
      fprintf(stderr, "isogate: jwt binding %s: JWKS key skipped: %s\n", name_.c_str(), warning.c_str());
    }
  }

  void startFetch() {
    if (fetch_) return;
    fetch_ = HostFetch::start(deployment_, *config_.jwks_url, crypto::kMaxJwksBytes,
                              [this](HostFetchResult&& result) { onFetched(std::move(result)); });
  }

  v8::Local<v8::Value> park(ScriptInstance& instance, const std::string& token) {
    v8::Local<v8::Promise::Resolver> resolver = v8::Promise::Resolver::New(instance.context()).ToLocalChecked();
    auto pending = std::make_unique<PendingVerify>();
    pending->request = instance.requestForHostWork();
    pending->resolver.Reset(instance.isolate(), resolver);
    pending->token = token;
    uint64_t request_id = pending->request->id;
    uint64_t id = instance.addResource(std::move(pending), request_id);
    waiters_.push_back({&instance, instance.liveness(), id});
    if (!fetch_) resumeWaiters();  // the fetch could not even start
    return resolver->GetPromise();
  }

  void onFetched(HostFetchResult&& fetched) {
    fetch_.reset();
    const int64_t now = nowSeconds();
    std::string problem;
    if (!fetched.ok) {
      problem = fetched.error;
    } else if (fetched.status != 200) {
      problem = "status " + std::to_string(fetched.status);
    } else {
      std::string error;
      std::shared_ptr<const crypto::KeySet> keys = crypto::KeySet::parse(fetched.body, &error);
      if (!keys) {
        problem = error;
      } else {
        std::string cache_control;
        for (const Header& h : fetched.headers) {
          if (equalsIgnoreCase(h.name, "cache-control")) cache_control = h.value;
        }
        keys_ = std::move(keys);
        cache_.clear();
        ++generation_;
        fresh_until_ = now + crypto::jwksMaxAge(cache_control, kJwksFloorS, kJwksCeilingS, kJwksDefaultS);
        logWarnings();
        failing_ = false;
      }
    }
    if (!problem.empty()) {
      // Keep whatever keys we have (an endpoint outage must not lock users out).
      fresh_until_ = now + kRetryAfterFailureS;
      if (!failing_) {
        fprintf(stderr, "isogate: jwt binding %s: JWKS fetch from %s failed (%s); %s\n", name_.c_str(),
                config_.jwks_url->c_str(), problem.c_str(),
                keys_ ? "using the cached keys" : "no keys yet, tokens fail with unknown_kid");
        failing_ = true;
      }
    }
    resumeWaiters();
  }

  void resumeWaiters() {
    std::vector<Waiter> waiters;
    waiters.swap(waiters_);
    const int64_t now = nowSeconds();
    for (const Waiter& waiter : waiters) {
      if (waiter.liveness.expired()) continue;  // the isolate went away
      std::unique_ptr<HostResource> resource = waiter.instance->takeResource(waiter.resource_id);
      if (!resource) continue;  // the request was abandoned
      auto* pending = static_cast<PendingVerify*>(resource.get());
      crypto::JwtResult result = crypto::verifyJwt(pending->token, policy_, keys_.get(), hmac_.get(), now);
      if (result.valid()) cache_.insert(pending->token, result, policy_.clock_skew_s, now);
      ScriptInstance& instance = *waiter.instance;
      instance.runFromHost(pending->request, [&] {
        pending->resolver.Get(instance.isolate())->Resolve(instance.context(), outcome(instance, result, now)).Check();
      });
    }
  }

  // [error code | null, claims JSON, header JSON, cacheable until (epoch ms, 0 = not cacheable),
  //  key-set generation] for bindings/js/jwt.js.
  v8::Local<v8::Value> outcome(ScriptInstance& instance, const crypto::JwtResult& result, int64_t now) {
    v8::Isolate* isolate = instance.isolate();
    if (!result.valid()) {
      v8::Local<v8::Value> parts[1] = {v8Str(isolate, crypto::jwtErrorCode(result.error))};
      return v8::Array::New(isolate, parts, 1);
    }
    int64_t until_s = now + crypto::VerificationCache::kMaxLifetimeWithoutExpS;
    if (result.exp) until_s = std::min(until_s, *result.exp + std::max<int64_t>(policy_.clock_skew_s, 0));
    v8::Local<v8::Value> parts[5] = {v8::Null(isolate), v8Str(isolate, result.claims_json),
                                     v8Str(isolate, result.header_json),
                                     v8::Number::New(isolate, static_cast<double>(until_s) * 1000),
                                     v8::Integer::NewFromUnsigned(isolate, generation_)};
    return v8::Array::New(isolate, parts, 5);
  }

  struct Waiter {
    ScriptInstance* instance;
    std::weak_ptr<void> liveness;
    uint64_t resource_id;
  };

  DeploymentInstance& deployment_;
  std::string name_;
  JwtBindingConfig config_;
  crypto::JwtPolicy policy_;
  std::shared_ptr<const crypto::Key> hmac_;
  std::shared_ptr<const crypto::KeySet> keys_;
  int64_t fresh_until_ = 0;
  // Refetches for unknown kids (key rotation) are at most one a minute, so
  // tokens with made-up kids cannot hammer the JWKS endpoint.
  int64_t last_unknown_kid_fetch_ = 0;
  bool failing_ = false;
  std::unique_ptr<HostFetch> fetch_;
  std::vector<Waiter> waiters_;
  crypto::VerificationCache cache_;
  uint32_t generation_ = 0;
};

// jwtVerify(handle, token) -> outcome array, or a promise of one.
void jwtVerify(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsExternal() || !info[1]->IsString()) {
    throwTypeError(isolate, "verify() expects a token string");
    return;
  }
  auto* keys = static_cast<JwtKeys*>(info[0].As<v8::External>()->Value());
  ScriptInstance* instance = ScriptInstance::fromContext(isolate->GetCurrentContext());
  info.GetReturnValue().Set(keys->verify(*instance, toUtf8(isolate, info[1])));
}

// jwtGeneration(handle) -> a Uint32Array whose element 0 is the binding's
// key-set generation (memory owned by the binding state, which outlives
// every isolate of its deployment).
void jwtGeneration(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsExternal()) return;
  auto* keys = static_cast<JwtKeys*>(info[0].As<v8::External>()->Value());
  std::unique_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(keys->generation(), sizeof(uint32_t), [](void*, size_t, void*) {}, nullptr);
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(store));
  info.GetReturnValue().Set(v8::Uint32Array::New(buffer, 0, 1));
}

void addNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> native) {
  setMethod(context, native, "jwtVerify", jwtVerify);
  setMethod(context, native, "jwtGeneration", jwtGeneration);
}

}  // namespace

v8::MaybeLocal<v8::Value> makeJwtBinding(ScriptInstance& instance, v8::Local<v8::Context> context,
                                         const BindingConfig& binding) {
  v8::Isolate* isolate = instance.isolate();
  DeploymentInstance& deployment = *instance.services().deployment;
  const std::string key = "jwt/" + std::to_string(instance.services().route_index) + "/" + binding.name;
  BindingState* state = deployment.bindingState(key);
  if (!state) state = deployment.setBindingState(key, std::make_unique<JwtKeys>(deployment, binding));
  v8::Local<v8::Object> module;
  if (!lazyJsModule(instance, "jwt.js", kJs_jwt, addNatives).ToLocal(&module)) return {};
  v8::Local<v8::Value> handle = v8::External::New(isolate, static_cast<JwtKeys*>(state));
  return callModule(context, module, "makeJwtVerifier", 1, &handle);
}

}  // namespace isogate
