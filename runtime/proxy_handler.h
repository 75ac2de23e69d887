#pragma once
// Native proxy route: forwards the exchange to an origin with no JavaScript
// on the path. Builds a canonical request (never relays raw client bytes),
// streams bodies both ways with backpressure, and maps origin failures to
// 502/504 JSON errors (503 origin_unavailable, without contacting the origin,
// while its circuit breaker is open). One per exchange, on the worker's loop
// thread.

#include <memory>

#include "runtime/deployment.h"
#include "runtime/exchange.h"
#include "runtime/upstream.h"

namespace isogate {

class ProxyHandler final : public ExchangeHandler, public UpstreamResponseHandler {
 public:
  ProxyHandler(Exchange& exchange, std::shared_ptr<DeploymentInstance> instance,
               const RouteConfig& route, OriginPool& pool);
  ~ProxyHandler() override;

  void start() override;
  void onRequestBody(const char* data, size_t len) override;
  void onRequestEnd() override;
  void onResponseDrained() override;
  void onExchangeAborted() override;

 private:
  // UpstreamResponseHandler
  void onUpstreamHead(ResponseHead&& head, BodyFraming framing, uint64_t content_length) override;
  void onUpstreamBody(const char* data, size_t len) override;
  void onUpstreamComplete() override;
  void onUpstreamError(UpstreamError error) override;
  void onUpstreamRequestDrained() override;
  void onUpstreamInputProcessed() override;

  std::string forwardedTarget() const;
  UpstreamRequestHead buildRequestHead() const;
  void recordUpstreamTime();

  Exchange& exchange_;
  std::shared_ptr<DeploymentInstance> instance_;  // keeps the pool alive across reloads
  const RouteConfig& route_;
  OriginPool& pool_;
  std::unique_ptr<UpstreamRequest> upstream_;
};

// Builds the request-target sent to an origin: strip_prefix applied to the
// normalised path, the origin's base path prepended, the query kept.
std::string rewriteTarget(const std::string& normalized_path, const std::string& query,
                          const std::string& strip_prefix, const std::string& base_path);

}  // namespace isogate
