#pragma once
// The source of one script route: its entry module and every module it
// imports (relative specifiers only, resolved inside the bundle root, the
// config file's directory). Read from disk once at load time and checked to
// compile and link, so workers compile from memory and a reload is atomic.
// Immutable after load; shared by all workers.

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace isogate {

// "FILE:LINE:COL: message" (or "FILE: message" without a position).
class ScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ScriptModule {
  std::string path;          // absolute
  std::string display_path;  // for messages: relative to the working directory when possible
  std::string source;
  std::map<std::string, std::string> imports;  // specifier -> absolute path
};

class ScriptBundle {
 public:
  // Loads and checks a bundle on the main thread. Throws ScriptError.
  static std::shared_ptr<const ScriptBundle> load(const std::string& entry_path,
                                                  const std::string& root_dir);

  const std::string& entryPath() const { return entry_; }
  const ScriptModule* module(const std::string& path) const;
  const std::map<std::string, ScriptModule>& modules() const { return modules_; }

 private:
  std::string entry_;
  std::map<std::string, ScriptModule> modules_;
};

// Resolves `specifier` imported by `referrer_path` inside `root_dir`.
// Returns "" with *error set when it is not allowed or not found.
std::string resolveImport(const std::string& specifier, const std::string& referrer_path,
                          const std::string& root_dir, std::string* error);

// Path for messages: relative to the working directory when below it.
std::string displayPath(const std::string& absolute_path);

}  // namespace isogate
