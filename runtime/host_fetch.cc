#include "runtime/host_fetch.h"

#include "runtime/deployment.h"

namespace isogate {

std::unique_ptr<HostFetch> HostFetch::start(DeploymentInstance& deployment, const std::string& url,
                                            size_t max_body_bytes, Callback done) {
  OriginUrl parsed;
  std::string target;
  try {
    size_t query = url.find('?');
    parsed = parseOriginUrl(url.substr(0, query));
    target = parsed.base_path.empty() ? "/" : parsed.base_path;
    if (query != std::string::npos) target += url.substr(query);
  } catch (const std::invalid_argument&) {
    return nullptr;
  }

  OriginPool* pool = deployment.egressPool(parsed.scheme, parsed.host, parsed.port);
  std::unique_ptr<HostFetch> fetch(new HostFetch(max_body_bytes, std::move(done)));
  fetch->loop_ = pool->loop();
  UpstreamRequestHead head;
  head.method = "GET";
  head.head = "GET " + target + " HTTP/1.1\r\n";
  appendHeader(head.head, "Host", parsed.authority());
  appendHeader(head.head, "Accept", "application/json");
  appendHeader(head.head, "User-Agent", "isogate");
  head.head += "\r\n";
  head.replayable = true;
  fetch->request_ = std::make_unique<UpstreamRequest>(*pool, std::move(head), *fetch);
  fetch->request_->start();
  if (fetch->request_) fetch->request_->finishBody();
  return fetch;
}

HostFetch::HostFetch(size_t max_body_bytes, Callback done)
    : max_body_bytes_(max_body_bytes), done_(std::move(done)) {}

HostFetch::~HostFetch() = default;

void HostFetch::onUpstreamHead(ResponseHead&& head, BodyFraming, uint64_t) {
  result_.status = head.status;
  result_.headers = std::move(head.headers);
}

void HostFetch::onUpstreamBody(const char* data, size_t len) {
  if (!result_.error.empty()) return;
  if (result_.body.size() + len > max_body_bytes_) {
    result_.error = "body over " + std::to_string(max_body_bytes_) + " bytes";
    result_.body.clear();
    finish();
    return;
  }
  result_.body.append(data, len);
}

void HostFetch::onUpstreamComplete() {
  result_.ok = result_.error.empty();
  finish();
}

void HostFetch::onUpstreamError(UpstreamError error) {
  if (result_.error.empty()) result_.error = upstreamErrorName(error);
  finish();
}

// Upstream callbacks may run inside start() or inside the request's own
// stack: the result is handed over on a fresh loop turn.
void HostFetch::finish() {
  if (deliver_) return;
  deliver_ = std::make_unique<Timer>(loop_, [this] {
    request_.reset();
    Callback done = std::move(done_);
    HostFetchResult result = std::move(result_);
    done(std::move(result));  // may destroy this
  });
  deliver_->start(0);
}

}  // namespace isogate
