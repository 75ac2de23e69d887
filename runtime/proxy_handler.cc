#include "runtime/proxy_handler.h"

#include "runtime/worker.h"

namespace isogate {

namespace {

// Hits are written in slices of this size, straight from the shared entry
// (the connection copies only what the socket does not take at once).
constexpr size_t kHitSlice = 256 * 1024;

void addCacheStatus(HeaderList& headers, std::string value) {
  headers.push_back(Header{"Cache-Status", std::move(value)});
}

}  // namespace

std::string rewriteTarget(const std::string& normalized_path, const std::string& query,
                          const std::string& strip_prefix, const std::string& base_path) {
  std::string_view path = normalized_path;
  if (!strip_prefix.empty() && path.substr(0, strip_prefix.size()) == strip_prefix &&
      (path.size() == strip_prefix.size() || path[strip_prefix.size()] == '/')) {
    path.remove_prefix(strip_prefix.size());
  }
  std::string out = base_path;
  if (path.empty()) {
    out.push_back('/');
  } else {
    out.append(path);
  }
  out.append(query);
  return out;
}

ProxyHandler::ProxyHandler(Exchange& exchange, std::shared_ptr<DeploymentInstance> instance,
                           const RouteConfig& route, OriginPool& pool)
    : exchange_(exchange), instance_(std::move(instance)), route_(route), pool_(pool) {}

ProxyHandler::~ProxyHandler() = default;

UpstreamRequestHead ProxyHandler::buildRequestHead() const {
  const RequestHead& req = exchange_.request();
  const OriginUrl& origin = pool_.origin().parsed;
  std::string connection;
  if (const Header* c = findHeader(req.headers, "connection")) connection = c->value;

  UpstreamRequestHead out;
  out.method = req.method;
  std::string& h = out.head;
  h.reserve(512);
  h.append(req.method).append(" ");
  h.append(rewriteTarget(exchange_.normalizedPath(), req.query, route_.proxy->strip_prefix,
                         origin.base_path));
  h.append(" HTTP/1.1\r\n");
  appendHeader(h, "Host", origin.authority());

  std::string forwarded_for;
  for (const Header& field : req.headers) {
    const std::string& n = field.name;
    if (isHopByHop(n, connection) || equalsIgnoreCase(n, "host") ||
        equalsIgnoreCase(n, "content-length") || equalsIgnoreCase(n, "expect") ||
        equalsIgnoreCase(n, "x-request-id") || equalsIgnoreCase(n, "x-forwarded-proto") ||
        equalsIgnoreCase(n, "x-forwarded-host")) {
      continue;
    }
    // A response we may store must be a full one: the client's own
    // validators are checked against it here instead (see onUpstreamHead).
    if (strip_conditionals_ && (equalsIgnoreCase(n, "if-none-match") || equalsIgnoreCase(n, "if-modified-since"))) {
      continue;
    }
    if (equalsIgnoreCase(n, "x-forwarded-for")) {
      if (!forwarded_for.empty()) forwarded_for.append(", ");
      forwarded_for.append(field.value);
      continue;
    }
    appendHeader(h, n, field.value);
  }
  if (!forwarded_for.empty()) forwarded_for.append(", ");
  forwarded_for.append(exchange_.remoteAddress());
  appendHeader(h, "X-Forwarded-For", forwarded_for);
  appendHeader(h, "X-Forwarded-Proto", exchange_.secure() ? "https" : "http");
  if (!req.host.empty()) appendHeader(h, "X-Forwarded-Host", req.host);
  appendHeader(h, "X-Request-ID", exchange_.requestId());

  if (req.chunked) {
    appendHeader(h, "Transfer-Encoding", "chunked");
    out.body_framing = BodyFraming::kChunked;
  } else if (req.content_length) {
    appendHeader(h, "Content-Length", std::to_string(*req.content_length));
    out.body_framing = *req.content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  }
  h.append("\r\n");
  out.replayable = !req.hasBody() && isIdempotentMethod(req.method);
  return out;
}

void ProxyHandler::start() {
  exchange_.logEntry().route = route_.name;
  if (route_.cache) cache_ = instance_->worker().responseCache();
  if (cache_ && startCached()) return;
  startUpstream();
}

void ProxyHandler::startUpstream() {
  upstream_ = std::make_unique<UpstreamRequest>(pool_, buildRequestHead(), *this);
  if (!upstream_->start()) {
    upstream_.reset();  // a client body that follows is discarded
    leader_.finish(cache::FillOutcome::kNotStored);
    exchange_.sendError(503, "origin_unavailable",
                        "origin \"" + pool_.origin().name + "\" is unavailable (circuit breaker open)");
    return;
  }
  if (upstream_ && !exchange_.request().hasBody()) upstream_->finishBody();
}

bool ProxyHandler::startCached() {
  const RequestHead& req = exchange_.request();
  AccessLogEntry& log = exchange_.logEntry();
  facts_ = cache::requestFacts(req.method, req.headers);
  url_ = cache::requestUrl(exchange_.secure() ? "https" : "http", req.host, exchange_.normalizedPath() + req.query);
  key_ = cache::makeKey("", url_);
  switch (cache::requestUse(facts_)) {
    case cache::RequestUse::kBypassMethod:
      forward_ = cache::Forward::kMethod;
      invalidate_ = true;
      log.cache = CacheUse::kBypass;
      return false;
    case cache::RequestUse::kBypassRequest:
      forward_ = cache::Forward::kRequest;
      may_store_ = !req.hasBody();
      log.cache = CacheUse::kBypass;
      return false;
    case cache::RequestUse::kLookup:
      break;
  }
  if (req.hasBody()) {  // a GET with a body: not something to share
    forward_ = cache::Forward::kBypass;
    log.cache = CacheUse::kBypass;
    return false;
  }
  cache::Lookup found = cache_->lookup(key_, req.headers, cache::wallClockMs());
  if (found.result == cache::LookupResult::kHit) {
    log.cache = CacheUse::kHit;
    serveEntry(std::move(found.entry), cache::cacheStatusHit());
    return true;
  }
  log.cache = CacheUse::kMiss;
  forward_ = cache::forwardFor(found.result);
  if (facts_.cache_control.only_if_cached) {  // RFC 9111 5.2.1.7
    exchange_.sendError(504, "not_cached", "no stored response for this request (only-if-cached)",
                        {{"Cache-Status", cache::cacheStatusForward(forward_, false)}});
    return true;
  }
  may_store_ = true;
  strip_conditionals_ = req.method == "GET" && (facts_.if_none_match || facts_.if_modified_since);
  // HEAD misses are forwarded as HEAD (never stored), and a Range request
  // would lead with a 206 nobody else can use: neither is shared.
  if (req.method != "GET" || findHeader(req.headers, "range")) return false;
  cache::Join join = cache_->join(key_);
  if (join.leader) {
    leader_ = std::move(join.leader);
    return false;
  }
  wait_ = std::make_unique<CacheWait>(instance_->worker().loop(), instance_->worker().mailbox(), join.wait,
                                      cacheWaitMs(pool_.origin().timeout_ms),
                                      [this](CacheWait::Result result) { onFillDone(result); });
  return true;
}

void ProxyHandler::onFillDone(CacheWait::Result result) {
  wait_.reset();
  if (result == CacheWait::Result::kStored) {
    const RequestHead& req = exchange_.request();
    cache::Lookup found = cache_->lookup(key_, req.headers, cache::wallClockMs());
    if (found.result == cache::LookupResult::kHit) {
      // Served from the entry the leader just stored: the origin never saw us.
      exchange_.logEntry().cache = CacheUse::kHit;
      serveEntry(std::move(found.entry), cache::cacheStatusForward(forward_, false, {}, 0, /*collapsed=*/true));
      return;
    }
    forward_ = cache::forwardFor(found.result);
  }
  startUpstream();  // on our own, without joining again
}

void ProxyHandler::serveEntry(std::shared_ptr<const cache::CachedResponse> entry, std::string cache_status) {
  const int64_t now = cache::wallClockMs();
  ResponseHead head;
  if (cache::notModified(*entry, facts_)) {
    head.status = 304;
    for (cache::Field& f : cache::notModifiedFields(*entry)) head.headers.push_back(Header{std::move(f.name), std::move(f.value)});
    head.headers.push_back(Header{"Age", std::to_string(entry->ageSeconds(now))});
    addCacheStatus(head.headers, std::move(cache_status));
    exchange_.sendResponseHead(std::move(head), BodyFraming::kNone, 0);
    exchange_.finishResponse();  // retires this handler
    return;
  }
  head.status = entry->status;
  head.reason = entry->reason;
  head.headers.reserve(entry->headers.size() + 2);
  for (const cache::Field& f : entry->headers) head.headers.push_back(Header{f.name, f.value});
  head.headers.push_back(Header{"Age", std::to_string(entry->ageSeconds(now))});
  addCacheStatus(head.headers, std::move(cache_status));
  exchange_.sendResponseHead(std::move(head), BodyFraming::kContentLength, entry->body.size());
  serving_ = std::move(entry);
  serving_offset_ = 0;
  sendEntryBody();
}

void ProxyHandler::sendEntryBody() {
  const std::string& body = serving_->body;
  if (exchange_.request().method == "HEAD") serving_offset_ = body.size();
  while (serving_offset_ < body.size() && !exchange_.responseBackedUp()) {
    size_t n = std::min(kHitSlice, body.size() - serving_offset_);
    exchange_.sendResponseBody(body.data() + serving_offset_, n);
    serving_offset_ += n;
  }
  if (serving_offset_ >= body.size()) {
    serving_.reset();
    exchange_.finishResponse();  // retires this handler
  }
}

void ProxyHandler::onRequestBody(const char* data, size_t len) {
  if (!upstream_) return;
  upstream_->sendBody(data, len);
  if (upstream_ && upstream_->bodyBackedUp()) exchange_.pauseRequestBody();
}

void ProxyHandler::onRequestEnd() {
  if (upstream_) upstream_->finishBody();
}

void ProxyHandler::onUpstreamRequestDrained() { exchange_.resumeRequestBody(); }

void ProxyHandler::onUpstreamInputProcessed() { exchange_.flushResponse(); }

void ProxyHandler::onResponseDrained() {
  if (serving_) {
    sendEntryBody();
    return;
  }
  if (upstream_) upstream_->resumeResponse();
}

void ProxyHandler::onExchangeAborted() {
  // Closing the origin connection mid-request: the origin sees an aborted
  // request, never a complete one.
  recordUpstreamTime();
  upstream_.reset();
  wait_.reset();
  builder_.reset();
  serving_.reset();
  leader_.finish(cache::FillOutcome::kNotStored);
}

void ProxyHandler::recordUpstreamTime() {
  if (upstream_ && upstream_->upstreamMs() >= 0) exchange_.logEntry().upstream_ms = upstream_->upstreamMs();
}

void ProxyHandler::onUpstreamHead(ResponseHead&& head, BodyFraming framing, uint64_t content_length) {
  recordUpstreamTime();
  std::string connection;
  if (const Header* c = findHeader(head.headers, "connection")) connection = c->value;
  HeaderList kept;
  kept.reserve(head.headers.size());
  for (Header& h : head.headers) {
    if (!isHopByHop(h.name, connection)) kept.push_back(std::move(h));
  }
  head.headers = std::move(kept);
  if (cache_) {
    if (invalidate_ && head.status < 400) cache_->eraseKey(key_);
    bool stored = false;
    std::string detail;
    if (may_store_) {
      const int64_t now = cache::wallClockMs();
      std::optional<int64_t> ttl;
      if (route_.cache->ttl_s > 0) ttl = route_.cache->ttl_s;
      cache::StoreDecision decision = cache::decideStore(facts_, head.status, head.headers, ttl, now);
      detail = decision.detail;
      if (decision.store) {
        std::optional<uint64_t> expected;
        if (framing == BodyFraming::kContentLength) expected = capture_left_ = content_length;
        if (framing == BodyFraming::kNone) expected = 0;
        builder_.emplace(cache::EntryBuilder::from(
            "", url_, head.status, head.reason, head.headers, decision,
            cache::varyValues(decision.vary_names, cache::fieldReader(exchange_.request().headers)),
            cache_->maxEntryBytes(), now, expected));
        if (builder_->overflowed()) {
          builder_.reset();
          detail = "too-large";
        } else {
          stored = true;
        }
      }
    }
    if (!builder_) leader_.finish(cache::FillOutcome::kNotStored);  // waiters go to the origin now
    if (builder_ && strip_conditionals_ && cache::notModified(*builder_->pending(), facts_)) {
      // The client's validators match the response being stored: 304, and
      // the body only goes into the cache.
      const cache::CachedResponse& pending = *builder_->pending();
      ResponseHead not_modified;
      not_modified.status = 304;
      for (cache::Field& f : cache::notModifiedFields(pending)) {
        not_modified.headers.push_back(Header{std::move(f.name), std::move(f.value)});
      }
      addCacheStatus(not_modified.headers, cache::cacheStatusForward(forward_, stored, detail));
      body_to_client_ = false;
      exchange_.sendResponseHead(std::move(not_modified), BodyFraming::kNone, 0);
      return;
    }
    addCacheStatus(head.headers, cache::cacheStatusForward(forward_, stored, detail));
  }
  exchange_.sendResponseHead(std::move(head), framing, content_length);
}

void ProxyHandler::onUpstreamBody(const char* data, size_t len) {
  if (builder_) {
    if (!builder_->append(data, len)) {
      builder_.reset();  // over the entry cap: passes through uncached
      leader_.finish(cache::FillOutcome::kNotStored);
    } else if (capture_left_ && (*capture_left_ -= std::min<uint64_t>(len, *capture_left_)) == 0) {
      // The whole Content-Length is here: store before the client sees the
      // last byte, so its next request finds the entry.
      commitEntry();
    }
  }
  if (!body_to_client_) return;
  exchange_.sendResponseBody(data, len);
  if (upstream_ && exchange_.responseBackedUp()) upstream_->pauseResponse();
}

void ProxyHandler::onUpstreamComplete() {
  recordUpstreamTime();
  commitEntry();
  leader_.finish(cache::FillOutcome::kNotStored);
  exchange_.finishResponse();  // retires this handler
}

void ProxyHandler::commitEntry() {
  if (!builder_) return;
  std::shared_ptr<const cache::CachedResponse> entry = builder_->finish();
  builder_.reset();
  bool stored = entry && cache_->insert(std::move(entry), cache::wallClockMs());
  leader_.finish(stored ? cache::FillOutcome::kStored : cache::FillOutcome::kNotStored);
}

void ProxyHandler::onUpstreamError(UpstreamError error) {
  recordUpstreamTime();
  builder_.reset();  // an error or abort never stores
  leader_.finish(cache::FillOutcome::kNotStored);
  if (exchange_.responseStarted()) {
    exchange_.abortResponse();  // truncated body, closed connection
    return;
  }
  const std::string& origin = pool_.origin().name;
  switch (error) {
    case UpstreamError::kConnectFailed:
    case UpstreamError::kReset:
      exchange_.sendError(502, "origin_unreachable", "origin \"" + origin + "\" refused or reset the connection");
      break;
    case UpstreamError::kConnectTimeout:
    case UpstreamError::kResponseTimeout:
      exchange_.sendError(504, "origin_timeout", "origin \"" + origin + "\" did not respond in time");
      break;
    case UpstreamError::kBadResponse:
      exchange_.sendError(502, "origin_bad_response", "origin \"" + origin + "\" sent a malformed response");
      break;
  }
}

}  // namespace isogate
