#pragma once
// The admin listener (admin.listen): a small HTTP/1.1 server on its own
// thread and uv loop, so health checks and scrapes are answered even while
// every worker is busy running scripts. Requests are parsed by the same
// strict RequestParser as client traffic (no bodies accepted, 8 KiB heads,
// keep-alive, pipelining answered in order) and answered by AdminApi.
//
// Threads: bind(), start() and stop() run on the main thread; everything
// else on the admin thread. The AdminApi must outlive the server.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "runtime/config.h"

namespace isogate {

class AdminApi;
class AdminConnection;
class LoopMailbox;

class AdminServer {
 public:
  // Binds and listens on `address` (port 0 picks a free one). Returns
  // nullptr and sets *error when it cannot.
  static std::unique_ptr<AdminServer> bind(const ListenAddress& address, AdminApi& api, std::string* error);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  uint16_t port() const { return port_; }
  // Starts serving on the admin thread.
  void start();
  // Closes the listener and every connection, then joins the thread.
  void stop();

  // Admin thread (connections).
  AdminApi& api() { return api_; }
  uv_loop_t* loop() { return &loop_; }
  char* readBuffer() { return read_buffer_.get(); }
  static constexpr size_t kReadBufferSize = 16 * 1024;
  void addConnection(AdminConnection* connection);
  void removeConnection(AdminConnection* connection);
  bool stopping() const { return stopping_; }

 private:
  explicit AdminServer(AdminApi& api);
  static void onConnection(uv_stream_t* server, int status);
  void closeAll();

  AdminApi& api_;
  uv_loop_t loop_;
  uv_tcp_t listener_;
  bool listener_open_ = false;
  std::shared_ptr<LoopMailbox> mailbox_;
  std::unique_ptr<char[]> read_buffer_;
  uint16_t port_ = 0;
  AdminConnection* connections_ = nullptr;  // intrusive list
  size_t connection_count_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace isogate
