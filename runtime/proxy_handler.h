#pragma once
// Native proxy route: forwards the exchange to an origin with no JavaScript
// on the path. Builds a canonical request (never relays raw client bytes),
// streams bodies both ways with backpressure, and maps origin failures to
// 502/504 JSON errors (503 origin_unavailable, without contacting the origin,
// while its circuit breaker is open). One per exchange, on the worker's loop
// thread.
//
// On a route with "cache" (and cache.max_mb > 0) it first consults the
// process's response cache: a fresh entry is answered without the origin
// (304 for a matching conditional request, HEAD from the GET entry); a miss
// joins a concurrent fill of the same key (another request, any worker) or
// leads one: the origin's response is captured while it streams to the
// client and stored on completion if RFC 9111 allows. See docs/cache.md.

#include <memory>
#include <optional>

#include "cache/store.h"
#include "runtime/cache_wait.h"

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

  // Cache: returns true when the exchange is answered or waits on a fill.
  bool startCached();
  void startUpstream();
  void serveEntry(std::shared_ptr<const cache::CachedResponse> entry, std::string cache_status);
  void sendEntryBody();
  void onFillDone(CacheWait::Result result);
  // Stores the captured response (complete) and wakes the waiters.
  void commitEntry();
  std::string forwardedTarget() const;
  UpstreamRequestHead buildRequestHead() const;
  void recordUpstreamTime();

  Exchange& exchange_;
  std::shared_ptr<DeploymentInstance> instance_;  // keeps the pool alive across reloads
  const RouteConfig& route_;
  OriginPool& pool_;
  std::unique_ptr<UpstreamRequest> upstream_;

  // Response cache state (cache_ is null when the route does not cache).
  cache::Store* cache_ = nullptr;
  cache::RequestFacts facts_;
  std::string url_;
  std::string key_;
  cache::Forward forward_ = cache::Forward::kMiss;
  bool may_store_ = false;       // capture the origin's response for the store
  bool invalidate_ = false;      // an unsafe method: a success drops the stored URL
  bool strip_conditionals_ = false;  // ask the origin for a full response (it may be stored)
  bool body_to_client_ = true;   // false after answering 304 from the response being stored
  cache::FillLeader leader_;     // this request fetches for waiters
  std::unique_ptr<CacheWait> wait_;
  std::optional<cache::EntryBuilder> builder_;
  std::optional<uint64_t> capture_left_;  // Content-Length bytes still to come
  std::shared_ptr<const cache::CachedResponse> serving_;  // a hit being written
  size_t serving_offset_ = 0;
};

// Builds the request-target sent to an origin: strip_prefix applied to the
// normalised path, the origin's base path prepended, the query kept.
std::string rewriteTarget(const std::string& normalized_path, const std::string& query,
                          const std::string& strip_prefix, const std::string& base_path);

}  // namespace isogate
