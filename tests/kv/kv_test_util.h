#pragma once
// Helpers for the kv/ tests: a temporary directory removed at scope end.

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace isogate::kv::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/isogate-kv-test-XXXXXX";
    const char* made = mkdtemp(tmpl);
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      nftw(
          path_.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return remove(p); }, 16,
          FTW_DEPTH | FTW_PHYS);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline uint64_t unixSeconds() {
  return uint64_t(std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

}  // namespace isogate::kv::testing
