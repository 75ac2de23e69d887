#include "runtime/request_parser.h"

#include <charconv>
#include <string_view>

namespace isogate {

namespace {

RequestParser* self(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits an absolute-form or origin-form target into authority, path and query.
void splitTarget(const std::string& target, std::string* authority, std::string* path,
                 std::string* query) {
  std::string_view rest = target;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (rest.size() >= scheme.size() && equalsIgnoreCase(rest.substr(0, scheme.size()), scheme)) {
      rest.remove_prefix(scheme.size());
      size_t slash = rest.find_first_of("/?");
      *authority = std::string(rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      break;
    }
  }
  size_t q = rest.find('?');
  if (q == std::string_view::npos) {
    *path = std::string(rest);
    query->clear();
  } else {
    *path = std::string(rest.substr(0, q));
    *query = std::string(rest.substr(q));
  }
  if (path->empty()) *path = "/";
}

}  // namespace

RequestParser::RequestParser(RequestParserDelegate& delegate, size_t max_head_bytes,
                             uint64_t max_body_bytes)
    : delegate_(delegate),
      max_body_bytes_(max_body_bytes),
      scanner_(HeadScanner::Kind::kRequest, max_head_bytes) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = onMessageBegin;
  settings_.on_url = onUrl;
  settings_.on_header_field = onHeaderField;
  settings_.on_header_value = onHeaderValue;
  settings_.on_headers_complete = onHeadersComplete;
  settings_.on_body = onBody;
  settings_.on_message_complete = onMessageComplete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

void RequestParser::beginMessage() {
  in_head_ = true;
  body_bytes_ = 0;
  chunked_ = false;
  chunked_scanner_.reset();
  last_was_value_ = false;
  head_ = RequestHead{};
  scanner_.reset();
}

RequestParser::Status RequestParser::feed(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
    beginMessage();
  }
  size_t offset = 0;
  if (in_head_) {
    size_t head_part = 0;
    HeadScanner::Result r = scanner_.scan(data, len, &head_part);
    if (r == HeadScanner::Result::kError) {
      error_ = Error{scanner_.errorStatus(), scanner_.errorMessage()};
      return Status::kError;
    }
    if (r == HeadScanner::Result::kNeedMore) return execute(data, data, len, consumed);
    // Parse the head alone first, so that the body framing is known before
    // any body byte reaches llhttp.
    Status status = execute(data, data, head_part, consumed);
    if (status != Status::kNeedMore) return status;
    offset = head_part;
  }
  if (chunked_ && offset < len) {
    size_t body_part = 0;
    if (chunked_scanner_.scan(data + offset, len - offset, &body_part) ==
        ChunkedScanner::Result::kError) {
      fail(400, chunked_scanner_.errorMessage());
      return Status::kError;
    }
  }
  return execute(data, data + offset, len - offset, consumed);
}

RequestParser::Status RequestParser::execute(const char* base, const char* data, size_t len,
                                             size_t* consumed) {
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    *consumed = static_cast<size_t>(data + len - base);
    return Status::kNeedMore;
  }
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    // Stopped after a complete message. Upgrade is not supported: the request
    // was handled as plain HTTP (Upgrade is hop-by-hop and never forwarded).
    *consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - base);
    if (err == HPE_PAUSED_UPGRADE) {
      llhttp_resume_after_upgrade(&parser_);
      llhttp_pause(&parser_);
    }
    paused_ = true;
    return Status::kMessageComplete;
  }
  if (failed_) return Status::kError;  // error_ set by one of our callbacks
  if (err == HPE_INVALID_VERSION || err == HPE_PAUSED_H2_UPGRADE) {
    error_ = Error{505, "HTTP version not supported"};
  } else {
    const char* reason = llhttp_get_error_reason(&parser_);
    error_ = Error{400, reason ? reason : llhttp_errno_name(err)};
  }
  return Status::kError;
}

int RequestParser::fail(int status, std::string message) {
  error_ = Error{status, std::move(message)};
  failed_ = true;
  return HPE_USER;
}

int RequestParser::onMessageBegin(llhttp_t* p) {
  self(p)->in_head_ = true;
  return 0;
}

int RequestParser::onUrl(llhttp_t* p, const char* at, size_t len) {
  self(p)->head_.target.append(at, len);
  return 0;
}

int RequestParser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  if (s->last_was_value_ || s->head_.headers.empty()) {
    if (s->head_.headers.capacity() == 0) s->head_.headers.reserve(16);
    s->head_.headers.emplace_back();
    s->last_was_value_ = false;
  }
  s->head_.headers.back().name.append(at, len);
  return 0;
}

int RequestParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  s->last_was_value_ = true;
  s->head_.headers.back().value.append(at, len);
  return 0;
}

int RequestParser::onHeadersComplete(llhttp_t* p) { return self(p)->finishHead(); }

int RequestParser::finishHead() {
  RequestHead& h = head_;
  if (llhttp_get_http_major(&parser_) != 1) return fail(505, "HTTP version not supported");
  h.version_minor = llhttp_get_http_minor(&parser_);
  h.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&parser_)));

  int host_count = 0;
  std::string transfer_encoding;
  bool has_te = false;
  for (Header& field : h.headers) {
    std::string_view v = trim(field.value);
    if (v.size() != field.value.size()) field.value = std::string(v);
    if (equalsIgnoreCase(field.name, "host")) {
      ++host_count;
      h.host = field.value;
    } else if (equalsIgnoreCase(field.name, "transfer-encoding")) {
      if (has_te) transfer_encoding.append(",");
      transfer_encoding.append(field.value);
      has_te = true;
    } else if (equalsIgnoreCase(field.name, "content-length")) {
      uint64_t n = 0;
      const char* end = field.value.data() + field.value.size();
      auto [ptr, ec] = std::from_chars(field.value.data(), end, n);
      if (ec != std::errc() || ptr != end || field.value.empty()) {
        return fail(400, "invalid Content-Length");
      }
      if (h.content_length && *h.content_length != n) return fail(400, "conflicting Content-Length");
      if (h.content_length) return fail(400, "repeated Content-Length");
      h.content_length = n;
    } else if (equalsIgnoreCase(field.name, "expect")) {
      if (!equalsIgnoreCase(field.value, "100-continue")) return fail(417, "unsupported expectation");
      h.expect_continue = true;
    }
  }
  if (host_count > 1) return fail(400, "repeated Host header");
  if (host_count == 0 && h.version_minor >= 1) return fail(400, "missing Host header");

  if (has_te) {
    if (h.content_length) return fail(400, "both Content-Length and Transfer-Encoding");
    if (h.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    // RFC 9112 6.1: chunked must be the final coding, applied once.
    int chunked_count = 0;
    bool last_chunked = false, unknown = false;
    size_t pos = 0;
    while (pos <= transfer_encoding.size()) {
      size_t comma = transfer_encoding.find(',', pos);
      if (comma == std::string::npos) comma = transfer_encoding.size();
      std::string_view coding = trim(std::string_view(transfer_encoding).substr(pos, comma - pos));
      pos = comma + 1;
      if (coding.empty()) continue;
      last_chunked = equalsIgnoreCase(coding, "chunked");
      if (last_chunked) {
        ++chunked_count;
      } else {
        unknown = true;
      }
    }
    if (!last_chunked || chunked_count != 1) return fail(400, "invalid Transfer-Encoding");
    if (unknown) return fail(501, "unsupported transfer coding");
    h.chunked = true;
    chunked_ = true;
  }
  if (h.content_length && *h.content_length > max_body_bytes_) {
    return fail(413, "request body too large");
  }

  std::string authority;
  splitTarget(h.target, &authority, &h.path, &h.query);
  if (!authority.empty()) h.host = authority;
  h.keep_alive = llhttp_should_keep_alive(&parser_);
  in_head_ = false;
  delegate_.onRequestHead(std::move(h));
  return 0;
}

int RequestParser::onBody(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  s->body_bytes_ += len;
  if (s->body_bytes_ > s->max_body_bytes_) return s->fail(413, "request body too large");
  s->delegate_.onRequestBody(at, len);
  return 0;
}

int RequestParser::onMessageComplete(llhttp_t* p) {
  RequestParser* s = self(p);
  // Between messages nothing of the next one has arrived yet.
  s->in_head_ = true;
  s->scanner_.reset();
  s->delegate_.onRequestComplete();
  return HPE_PAUSED;
}

}  // namespace isogate
