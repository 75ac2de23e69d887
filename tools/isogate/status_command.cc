#include "status_command.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "runtime/config.h"

namespace isogate {

namespace {

constexpr int kExitFailure = 1;
constexpr int kTimeoutMs = 5000;
constexpr size_t kMaxResponseBytes = 16 * 1024 * 1024;

using json = nlohmann::json;

struct HttpResult {
  int status = 0;
  std::string body;
};

// Waits until `fd` is ready for `events`; false on timeout.
bool waitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = poll(&p, 1, kTimeoutMs);
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

// One GET over a fresh connection (Connection: close), read to the end.
// Returns false with *error set when the listener cannot be reached or the
// answer is not HTTP.
bool httpGet(const ListenAddress& address, const std::string& path, const std::string& token, HttpResult* out,
             std::string* error) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(sockaddr_in);
  if (uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0) {
    if (uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
      *error = "invalid address";
      return false;
    }
    len = sizeof(sockaddr_in6);
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = strerror(errno);
    return false;
  }
  auto fail = [&](const std::string& why) {
    *error = why;
    ::close(fd);
    return false;
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) return fail(strerror(errno));
  if (!waitFor(fd, POLLOUT)) return fail("connection timed out");
  int so_error = 0;
  socklen_t so_len = sizeof so_error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len);
  if (so_error != 0) return fail(strerror(so_error));

  std::string host = address.host.find(':') != std::string::npos ? "[" + address.host + "]" : address.host;
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(address.port) +
                        "\r\nAuthorization: Bearer " + token +
                        "\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!waitFor(fd, POLLOUT)) return fail("timed out sending the request");
    } else {
      return fail(strerror(errno));
    }
  }
  std::string response;
  char buf[16384];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      response.append(buf, static_cast<size_t>(n));
      if (response.size() > kMaxResponseBytes) return fail("the answer is too large");
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!waitFor(fd, POLLIN)) return fail("timed out waiting for the answer");
    } else {
      return fail(strerror(errno));
    }
  }
  ::close(fd);
  size_t head_end = response.find("\r\n\r\n");
  if (response.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos || response.size() < 12) {
    *error = "the answer is not HTTP (is this the admin listener?)";
    return false;
  }
  out->status = atoi(response.c_str() + 9);
  out->body = response.substr(head_end + 4);
  return true;
}

std::string cell(const json& value, int decimals) {
  if (!value.is_number()) return "-";
  char buf[32];
  snprintf(buf, sizeof buf, "%.*f", decimals, value.get<double>());
  return buf;
}

void printTable(const json& stats) {
  const std::vector<std::string> header = {"ROUTE", "RPS", "REQUESTS", "ERRORS", "P50 ms", "P95 ms", "P99 ms"};
  std::vector<std::vector<std::string>> rows;
  for (const json& r : stats.value("routes", json::array())) {
    std::string route = r.value("route", "");
    const double requests = r.value("requests", 0.0);
    const double errors = r.value("errors", 0.0);
    char error_pct[32];
    snprintf(error_pct, sizeof error_pct, "%.1f%%", requests > 0 ? 100.0 * errors / requests : 0.0);
    rows.push_back({route.empty() ? "(no route)" : route, cell(r.value("rps", json()), 1),
                    cell(r.value("requests", json()), 0), error_pct, cell(r.value("p50_ms", json()), 2),
                    cell(r.value("p95_ms", json()), 2), cell(r.value("p99_ms", json()), 2)});
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line.append("  ");
      const std::string pad(width[c] - row[c].size(), ' ');
      line.append(c == 0 ? row[c] + pad : pad + row[c]);  // names left, numbers right
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    printf("%s\n", line.c_str());
  };
  printf("last %.0f s\n", stats.value("window_seconds", 0.0));
  print(header);
  for (const auto& row : rows) print(row);
}

}  // namespace

std::unique_ptr<StatusCommand> addStatusCommand(CLI::App& app) {
  auto command = std::make_unique<StatusCommand>();
  command->app = app.add_subcommand("status", "Show per-route traffic of a running server (from its admin listener)");
  command->app->add_option("--admin", command->admin, "Admin listener address, e.g. 127.0.0.1:9090")->required();
  command->app->add_option("--token-env", command->token_env, "Environment variable holding the admin token")
      ->capture_default_str();
  return command;
}

int runStatusCommand(const StatusCommand& command) {
  std::string where = command.admin;
  if (where.rfind("http://", 0) == 0) where = where.substr(7);
  while (!where.empty() && where.back() == '/') where.pop_back();
  ListenAddress address;
  try {
    address = parseListenAddress(where);
  } catch (const std::invalid_argument& e) {
    fprintf(stderr, "isogate: --admin: invalid address \"%s\": %s\n", command.admin.c_str(), e.what());
    return kExitFailure;
  }
  const char* token = getenv(command.token_env.c_str());
  if (!token || !*token) {
    fprintf(stderr, "isogate: %s is not set; /admin/stats needs the admin token\n", command.token_env.c_str());
    return kExitFailure;
  }
  for (const char* c = token; *c; ++c) {
    if (static_cast<unsigned char>(*c) < 0x20 || *c == 0x7f) {
      fprintf(stderr, "isogate: %s holds control characters; it cannot be sent as a token\n",
              command.token_env.c_str());
      return kExitFailure;
    }
  }
  HttpResult result;
  std::string error;
  if (!httpGet(address, "/admin/stats", token, &result, &error)) {
    fprintf(stderr, "isogate: cannot reach the admin listener at %s: %s\n", where.c_str(), error.c_str());
    return kExitFailure;
  }
  if (result.status == 401) {
    fprintf(stderr, "isogate: the admin listener at %s refused the token (401 unauthorized); check %s\n",
            where.c_str(), command.token_env.c_str());
    return kExitFailure;
  }
  if (result.status == 404) {
    fprintf(stderr, "isogate: the admin API at %s is disabled (404): the server has no admin token configured\n",
            where.c_str());
    return kExitFailure;
  }
  json stats = json::parse(result.body, nullptr, false);
  if (result.status != 200 || !stats.is_object()) {
    fprintf(stderr, "isogate: unexpected answer from the admin listener at %s (HTTP %d)\n", where.c_str(),
            result.status);
    return kExitFailure;
  }
  try {
    printTable(stats);
  } catch (const json::exception&) {
    fprintf(stderr, "isogate: unexpected /admin/stats format from %s\n", where.c_str());
    return kExitFailure;
  }
  return 0;
}

}  // namespace isogate
