#include "runtime/proxy_handler.h"

namespace isogate {

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
  upstream_ = std::make_unique<UpstreamRequest>(pool_, buildRequestHead(), *this);
  if (!upstream_->start()) {
    upstream_.reset();  // a client body that follows is discarded
    exchange_.sendError(503, "origin_unavailable",
                        "origin \"" + pool_.origin().name + "\" is unavailable (circuit breaker open)");
    return;
  }
  if (upstream_ && !exchange_.request().hasBody()) upstream_->finishBody();
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
  if (upstream_) upstream_->resumeResponse();
}

void ProxyHandler::onExchangeAborted() {
  // Closing the origin connection mid-request: the origin sees an aborted
  // request, never a complete one.
  recordUpstreamTime();
  upstream_.reset();
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
  exchange_.sendResponseHead(std::move(head), framing, content_length);
}

void ProxyHandler::onUpstreamBody(const char* data, size_t len) {
  exchange_.sendResponseBody(data, len);
  if (upstream_ && exchange_.responseBackedUp()) upstream_->pauseResponse();
}

void ProxyHandler::onUpstreamComplete() {
  recordUpstreamTime();
  exchange_.finishResponse();  // retires this handler
}

void ProxyHandler::onUpstreamError(UpstreamError error) {
  recordUpstreamTime();
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
