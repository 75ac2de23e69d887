#include "runtime/http_message.h"

#include <cstring>

#include "runtime/access_log.h"

namespace isogate {

namespace {
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }
inline bool isOws(char c) { return c == ' ' || c == '\t'; }
}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const Header* findHeader(const HeaderList& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return &h;
  }
  return nullptr;
}

bool headerHasToken(std::string_view value, std::string_view token) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(pos, comma - pos);
    while (!item.empty() && isOws(item.front())) item.remove_prefix(1);
    while (!item.empty() && isOws(item.back())) item.remove_suffix(1);
    if (equalsIgnoreCase(item, token)) return true;
    pos = comma + 1;
  }
  return false;
}

bool isHopByHop(std::string_view name, std::string_view connection) {
  static constexpr std::string_view kHopByHop[] = {
      "connection", "keep-alive", "proxy-connection", "te", "trailer",
      "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization"};
  for (std::string_view h : kHopByHop) {
    if (equalsIgnoreCase(name, h)) return true;
  }
  return !connection.empty() && headerHasToken(connection, name);
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

void appendStatusLine(std::string& out, int status, std::string_view reason) {
  char code[4] = {char('0' + status / 100 % 10), char('0' + status / 10 % 10),
                  char('0' + status % 10), 0};
  out.append("HTTP/1.1 ");
  out.append(code, 3);
  out.push_back(' ');
  if (reason.empty()) reason = reasonPhrase(status);
  out.append(reason);
  out.append("\r\n");
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

std::string jsonErrorBody(std::string_view code, std::string_view message, std::string_view request_id) {
  std::string body = "{\"error\":";
  appendJsonString(body, code);
  body.append(",\"message\":");
  appendJsonString(body, message);
  body.append(",\"request_id\":");
  appendJsonString(body, request_id);
  body.append("}");
  return body;
}

}  // namespace isogate
