#pragma once
// Process-wide V8 set-up: one platform, initialised once, never torn down
// while workers run. Also owns a small "checker" isolate used on the main
// thread to compile and link script bundles at load time (`isogate check`,
// reloads), so that workers never see a bundle that does not compile.

#include <v8.h>

namespace isogate {

class JsEngine {
 public:
  // Idempotent; thread-safe.
  static void initialize();
  static v8::Platform* platform();
  // Main thread only.
  static v8::Isolate* checkerIsolate();
  // An allocator shared by all isolates (it is stateless and thread-safe).
  static v8::ArrayBuffer::Allocator* allocator();
};

}  // namespace isogate
