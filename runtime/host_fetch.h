#pragma once
// A GET the host itself makes (a JWT binding's JWKS), on the worker's pooled
// HTTP client. Not subject to the scripts' egress policy. The whole body is
// collected up to a bound. Loop thread only; destroying a HostFetch cancels
// it and its callback never runs.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "runtime/upstream.h"

namespace isogate {

class DeploymentInstance;

struct HostFetchResult {
  bool ok = false;       // a complete response arrived (any status)
  int status = 0;
  HeaderList headers;
  std::string body;
  std::string error;     // why !ok: "connect_failed", "body over 1048576 bytes", ...
};

class HostFetch final : public UpstreamResponseHandler {
 public:
  using Callback = std::function<void(HostFetchResult&&)>;

  // Starts the GET now; `done` runs exactly once, on the loop thread, never
  // from inside start(). Returns nullptr (and runs nothing) for a URL that
  // is not http:// or https://. An https:// URL is verified against the
  // system store, or with the "ca"/tls_verify of a configured origin at the
  // same scheme, host and port.
  static std::unique_ptr<HostFetch> start(DeploymentInstance& deployment, const std::string& url,
                                          size_t max_body_bytes, Callback done);
  ~HostFetch() override;

 private:
  HostFetch(size_t max_body_bytes, Callback done);
  void finish();

  void onUpstreamHead(ResponseHead&& head, BodyFraming framing, uint64_t content_length) override;
  void onUpstreamBody(const char* data, size_t len) override;
  void onUpstreamComplete() override;
  void onUpstreamError(UpstreamError error) override;
  void onUpstreamRequestDrained() override {}

  size_t max_body_bytes_;
  Callback done_;
  HostFetchResult result_;
  std::unique_ptr<UpstreamRequest> request_;
  uv_loop_t* loop_ = nullptr;
  std::unique_ptr<Timer> deliver_;  // hands the result over outside upstream callbacks
};

}  // namespace isogate
