#include "runtime/health_checker.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "runtime/circuit_breaker.h"
#include "runtime/deployment.h"
#include "runtime/origin_health.h"
#include "runtime/timer.h"
#include "runtime/upstream.h"

namespace isogate {

namespace {
// The origin's settings narrowed to one address, for a pool that only
// carries checks: a check must end before the next one is due.
OriginConfig checkPoolConfig(const OriginConfig& origin, size_t index) {
  OriginConfig out = origin;
  const uint32_t interval = origin.health_check->interval_ms;
  out.addresses = {origin.addresses.empty() ? origin.parsed : origin.addresses[index]};
  out.connect_timeout_ms = std::min(origin.connect_timeout_ms, interval);
  out.timeout_ms = std::min(origin.timeout_ms, interval);
  out.max_connections = 2;  // the current check, and one still closing
  out.retries = 0;          // a failed check is a result, not something to hide
  out.circuit_breaker.reset();
  return out;
}
}  // namespace

class HealthChecker::Target final : public UpstreamResponseHandler {
 public:
  Target(uv_loop_t* loop, const OriginConfig& origin, size_t index, const Limits& limits, OriginHealth& health,
         const std::function<bool()>& stale)
      : health_(health),
        index_(index),
        config_(*origin.health_check),
        stale_(stale),
        pool_(loop, checkPoolConfig(origin, index), limits) {
    const OriginUrl& address = pool_.origin().addresses.front();
    display_ = "origin " + origin.name + ": " + address.scheme + "://" + address.authority();
    request_head_ = "GET " + config_.path + " HTTP/1.1\r\n";
    // The Host proxied requests carry, so virtual hosting answers alike.
    appendHeader(request_head_, "Host", origin.parsed.authority());
    appendHeader(request_head_, "User-Agent", "isogate-health-check");
    appendHeader(request_head_, "Connection", "close");
    request_head_ += "\r\n";
    timer_ = std::make_unique<Timer>(loop, [this] { check(); });
    timer_->start(0, config_.interval_ms);
    timer_->unref();  // checks never keep a draining worker alive
  }

 private:
  void check() {
    if (stale_()) {
      timer_->stop();
      request_.reset();
      return;
    }
    // Connect and response timeouts together may exceed the interval: let
    // the check in flight finish rather than pile up.
    if (awaiting_) return;
    request_.reset();  // the previous check, if it is still reading its body
    awaiting_ = true;
    UpstreamRequestHead head;
    head.method = "GET";
    head.head = request_head_;
    request_ = std::make_unique<UpstreamRequest>(pool_, std::move(head), *this);
    request_->start();  // no OriginHealth, no breaker: always starts
    request_->finishBody();
  }

  // Callbacks may run inside check(): they record, and never destroy request_.
  void onUpstreamHead(ResponseHead&& head, BodyFraming, uint64_t) override {
    finish(head.status >= 200 && head.status < 300, "status " + std::to_string(head.status));
  }
  void onUpstreamBody(const char*, size_t) override {}
  void onUpstreamComplete() override {}
  void onUpstreamError(UpstreamError error) override { finish(false, upstreamErrorName(error)); }
  void onUpstreamRequestDrained() override {}

  void finish(bool pass, const std::string& detail) {
    if (!awaiting_) return;
    awaiting_ = false;
    if (!pass) {
      passes_ = 0;
      ++failures_;
      if (health_.addressUp(index_) && failures_ >= config_.unhealthy_threshold) {
        fprintf(stderr, "isogate: %s is down (%u failed health checks, last: %s)\n", display_.c_str(), failures_,
                detail.c_str());
        health_.markAddressDown(index_);
      }
      return;
    }
    failures_ = 0;
    ++passes_;
    if (!health_.addressUp(index_)) {
      if (passes_ >= config_.healthy_threshold) {
        fprintf(stderr, "isogate: %s is up (%u passed health checks)\n", display_.c_str(), passes_);
        health_.markAddressUp(index_);
      }
      return;
    }
    CircuitBreaker* breaker = health_.breaker();
    if (!breaker || breaker->state() == CircuitBreaker::State::kClosed) return;
    // Only passes after the latest opening count: the ones before it did not
    // stop the failures that opened it.
    if (breaker->openings() != seen_openings_) {
      seen_openings_ = breaker->openings();
      passes_since_open_ = 0;
    }
    if (++passes_since_open_ >= config_.healthy_threshold) {
      fprintf(stderr, "isogate: %s passed %u health checks since its circuit opened\n", display_.c_str(),
              passes_since_open_);
      breaker->forceClose();
    }
  }

  OriginHealth& health_;
  const size_t index_;
  const HealthCheckConfig config_;
  const std::function<bool()>& stale_;
  OriginPool pool_;
  std::string display_;
  std::string request_head_;
  std::unique_ptr<Timer> timer_;
  std::unique_ptr<UpstreamRequest> request_;
  bool awaiting_ = false;  // the current check has no result yet
  uint32_t passes_ = 0;
  uint32_t failures_ = 0;
  uint64_t seen_openings_ = 0;
  uint32_t passes_since_open_ = 0;
};

HealthChecker::HealthChecker(uv_loop_t* loop, const Deployment& deployment, std::function<bool()> stale)
    : stale_(std::move(stale)) {
  const Config& config = deployment.config();
  for (const auto& [name, origin] : config.origins) {
    OriginHealth* health = deployment.originHealth(name);
    if (!origin.health_check || !health) continue;
    for (size_t i = 0; i < health->addressCount(); ++i) {
      targets_.push_back(std::make_unique<Target>(loop, origin, i, config.limits, *health, stale_));
    }
  }
}

HealthChecker::~HealthChecker() = default;

bool HealthChecker::wanted(const Deployment& deployment) {
  for (const auto& [name, origin] : deployment.config().origins) {
    if (origin.health_check) return true;
  }
  return false;
}

}  // namespace isogate
