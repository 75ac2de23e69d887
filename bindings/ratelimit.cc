// The `ratelimit` env binding: env.NAME.limit({ key }) over kv::RateCounters
// (bindings/js/ratelimit.js builds the result). Counters are shared by every
// worker and process on kv.path; when they cannot be used the limiter fails
// open: the request is allowed, the failure is logged at most once a minute
// and counted (isogate_ratelimit_fail_open_total). Refusals are counted per
// route (isogate_ratelimit_rejected_total).
#include <openssl/evp.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/deployment.h"
#include "runtime/js_errors.h"
#include "runtime/metrics.h"
#include "runtime/script_instance.h"

namespace isogate {

extern const char kJs_ratelimit[];

namespace {

constexpr int64_t kFailOpenLogIntervalS = 60;

std::atomic<int64_t> g_last_fail_open_log_s{0};

uint64_t nowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// The counter key: the binding's name scopes the script's key, so two
// limiters never share counts unless they have the same name. Long keys are
// hashed to fit LMDB's key size. Written into a per-thread buffer (no
// allocation per limit() call).
std::string_view counterKey(const std::string& binding, std::string_view key) {
  thread_local std::string full;
  full.assign(binding);
  full.push_back(':');
  full.append(key);
  if (full.size() <= kv::kMaxRateKeyBytes) return full;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(full.data(), full.size(), digest, &length, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  full.assign(binding);
  full.append(":#");
  for (unsigned int i = 0; i < length; ++i) {
    full.push_back(kHex[digest[i] >> 4]);
    full.push_back(kHex[digest[i] & 15]);
  }
  return full;
}

class RateLimiter final : public BindingState {
 public:
  RateLimiter(std::shared_ptr<kv::RateCounters> counters, std::string store_error, const BindingConfig& binding,
              std::string route)
      : counters_(std::move(counters)), store_error_(std::move(store_error)), name_(binding.name),
        route_(std::move(route)) {
    rule_.limit = binding.ratelimit.limit;
    rule_.period_s = binding.ratelimit.period_s;
    rule_.algorithm = binding.ratelimit.algorithm == "fixed" ? kv::RateAlgorithm::kFixed
                                                              : kv::RateAlgorithm::kSliding;
  }

  const kv::RateRule& rule() const { return rule_; }

  kv::RateDecision limit(std::string_view key) {
    kv::RateDecision decision;
    kv::Status status = counters_ ? counters_->hit(counterKey(name_, key), rule_, nowMs(), &decision)
                                  : kv::Status(kv::Status::Code::kUnavailable, store_error_);
    if (status.isOk()) {
      if (!decision.success) metrics::recordRateLimitRejected(route_);
      return decision;
    }
    failOpen(status);
    decision.success = true;
    decision.limit = rule_.limit;
    decision.remaining = rule_.limit;  // nothing could be counted
    decision.reset_s = rule_.period_s;
    return decision;
  }

 private:
  void failOpen(const kv::Status& status) {
    metrics::recordRateLimitFailOpen();
    int64_t now = static_cast<int64_t>(time(nullptr));
    int64_t last = g_last_fail_open_log_s.load(std::memory_order_relaxed);
    if (now - last >= kFailOpenLogIntervalS &&
        g_last_fail_open_log_s.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      fprintf(stderr, "isogate: ratelimit binding %s: the counter store failed (%s); allowing requests\n",
              name_.c_str(), status.message().c_str());
    }
  }

  std::shared_ptr<kv::RateCounters> counters_;
  std::string store_error_;
  std::string name_;
  std::string route_;  // for the metrics
  kv::RateRule rule_;
};

void rateLimit(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsExternal() || !info[1]->IsString()) {
    throwTypeError(isolate, "limit() needs a string key");
    return;
  }
  auto* limiter = static_cast<RateLimiter*>(info[0].As<v8::External>()->Value());
  v8::Local<v8::String> key = info[1].As<v8::String>();
  thread_local std::string utf8;
  utf8.resize(static_cast<size_t>(key->Utf8Length(isolate)));
  key->WriteUtf8(isolate, utf8.data(), static_cast<int>(utf8.size()), nullptr,
                 v8::String::NO_NULL_TERMINATION | v8::String::REPLACE_INVALID_UTF8);
  kv::RateDecision decision = limiter->limit(utf8);
  v8::Local<v8::Value> parts[3] = {v8::Boolean::New(isolate, decision.success),
                                   v8::Number::New(isolate, static_cast<double>(decision.remaining)),
                                   v8::Integer::NewFromUnsigned(isolate, decision.reset_s)};
  info.GetReturnValue().Set(v8::Array::New(isolate, parts, 3));
}

void addNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> native) {
  setMethod(context, native, "rateLimit", rateLimit);
}

}  // namespace

v8::MaybeLocal<v8::Value> makeRateLimitBinding(ScriptInstance& instance, v8::Local<v8::Context> context,
                                               const BindingConfig& binding) {
  v8::Isolate* isolate = instance.isolate();
  DeploymentInstance& deployment = *instance.services().deployment;
  const std::string key = "ratelimit/" + std::to_string(instance.services().route_index) + "/" + binding.name;
  auto* limiter = static_cast<RateLimiter*>(deployment.bindingState(key));
  if (!limiter) {
    const Deployment& loaded = deployment.deployment();
    limiter = static_cast<RateLimiter*>(deployment.setBindingState(
        key, std::make_unique<RateLimiter>(loaded.rateCounters(), loaded.rateCountersError(), binding,
                                           instance.services().route->name)));
  }
  v8::Local<v8::Object> module;
  if (!lazyJsModule(instance, "ratelimit.js", kJs_ratelimit, addNatives).ToLocal(&module)) return {};
  v8::Local<v8::Value> args[3] = {v8::External::New(isolate, limiter),
                                  v8::Number::New(isolate, static_cast<double>(limiter->rule().limit)),
                                  v8::Integer::NewFromUnsigned(isolate, limiter->rule().period_s)};
  return callModule(context, module, "makeRateLimiter", 3, args);
}

}  // namespace isogate
