#include "runtime/script_bundle.h"

#include <sys/stat.h>
#include <unistd.h>
#include <v8.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/js_engine.h"
#include "runtime/js_errors.h"

namespace isogate {

namespace {

bool isRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string dirName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

// Joins and removes "." and ".." segments of an absolute path.
std::string normalizeAbsolute(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  std::string part;
  while (std::getline(in, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool readFile(const std::string& path, std::string* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream buffer;
  buffer << file.rdbuf();
  *out = buffer.str();
  return true;
}

}  // namespace

std::string displayPath(const std::string& absolute_path) {
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) {
    std::string base = cwd;
    if (base != "/") base += "/";
    if (absolute_path.compare(0, base.size(), base) == 0) return absolute_path.substr(base.size());
  }
  return absolute_path;
}

std::string resolveImport(const std::string& specifier, const std::string& referrer_path,
                          const std::string& root_dir, std::string* error) {
  if (specifier.rfind("./", 0) != 0 && specifier.rfind("../", 0) != 0) {
    *error = "cannot import \"" + specifier +
             "\": only relative imports (\"./x.js\") inside the bundle are supported";
    return "";
  }
  std::string resolved = normalizeAbsolute(dirName(referrer_path) + "/" + specifier);
  std::string root = normalizeAbsolute(root_dir);
  if (root != "/" && resolved.compare(0, root.size() + 1, root + "/") != 0) {
    *error = "cannot import \"" + specifier + "\": it is outside the bundle directory " + displayPath(root);
    return "";
  }
  if (isRegularFile(resolved)) return resolved;
  if (isRegularFile(resolved + ".js")) return resolved + ".js";
  *error = "cannot import \"" + specifier + "\": " + displayPath(resolved) + " not found";
  return "";
}

const ScriptModule* ScriptBundle::module(const std::string& path) const {
  auto it = modules_.find(path);
  return it == modules_.end() ? nullptr : &it->second;
}

std::shared_ptr<const ScriptBundle> ScriptBundle::load(const std::string& entry_path,
                                                       const std::string& root_dir) {
  auto bundle = std::make_shared<ScriptBundle>();
  bundle->entry_ = entry_path;

  v8::Isolate* isolate = JsEngine::checkerIsolate();
  v8::Isolate::Scope isolate_scope(isolate);
  v8::HandleScope handle_scope(isolate);
  v8::Local<v8::Context> context = v8::Context::New(isolate);
  v8::Context::Scope context_scope(context);

  std::vector<std::string> pending{entry_path};
  std::map<std::string, v8::Local<v8::Module>> compiled;
  while (!pending.empty()) {
    std::string path = pending.back();
    pending.pop_back();
    if (bundle->modules_.count(path)) continue;
    ScriptModule module;
    module.path = path;
    module.display_path = displayPath(path);
    if (!readFile(path, &module.source)) {
      throw ScriptError(module.display_path + ": cannot read: " + strerror(errno));
    }
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Module> compiled_module;
    if (!compileModule(isolate, module.display_path, module.source).ToLocal(&compiled_module)) {
      throw ScriptError(formatException(isolate, try_catch, module.display_path));
    }
    v8::Local<v8::FixedArray> requests = compiled_module->GetModuleRequests();
    for (int i = 0; i < requests->Length(); ++i) {
      auto request = requests->Get(context, i).As<v8::ModuleRequest>();
      v8::String::Utf8Value specifier(isolate, request->GetSpecifier());
      std::string error;
      std::string resolved = resolveImport(*specifier, path, root_dir, &error);
      if (resolved.empty()) {
        int offset = request->GetSourceOffset();
        v8::Location loc = compiled_module->SourceOffsetToLocation(offset);
        throw ScriptError(module.display_path + ":" + std::to_string(loc.GetLineNumber() + 1) + ":" +
                          std::to_string(loc.GetColumnNumber() + 1) + ": " + error);
      }
      module.imports[*specifier] = resolved;
      pending.push_back(resolved);
    }
    compiled[path] = compiled_module;
    bundle->modules_.emplace(path, std::move(module));
  }

  // Link: every imported name must exist.
  struct LinkState {
    const ScriptBundle* bundle;
    std::map<std::string, v8::Local<v8::Module>>* compiled;
    std::map<int, std::string> path_by_hash;
  };
  static thread_local LinkState* link_state = nullptr;
  LinkState state{bundle.get(), &compiled, {}};
  for (auto& [path, m] : compiled) state.path_by_hash[m->GetIdentityHash()] = path;
  link_state = &state;
  v8::TryCatch try_catch(isolate);
  bool ok = compiled[entry_path]
                ->InstantiateModule(context,
                                    [](v8::Local<v8::Context> ctx, v8::Local<v8::String> specifier,
                                       v8::Local<v8::FixedArray>, v8::Local<v8::Module> referrer)
                                        -> v8::MaybeLocal<v8::Module> {
                                      v8::Isolate* iso = ctx->GetIsolate();
                                      const std::string& from = link_state->path_by_hash[referrer->GetIdentityHash()];
                                      const ScriptModule* m = link_state->bundle->module(from);
                                      v8::String::Utf8Value spec(iso, specifier);
                                      return (*link_state->compiled)[m->imports.at(*spec)];
                                    })
                .FromMaybe(false);
  link_state = nullptr;
  if (!ok) throw ScriptError(formatException(isolate, try_catch, displayPath(entry_path)));
  // Export names are known once linked, before any code runs.
  v8::Local<v8::Object> ns = compiled[entry_path]->GetModuleNamespace().As<v8::Object>();
  // Only the names: reading a binding before evaluation would throw.
  bool has_default = false;
  v8::Local<v8::Array> names;
  if (ns->GetOwnPropertyNames(context, v8::PropertyFilter::ALL_PROPERTIES).ToLocal(&names)) {
    for (uint32_t i = 0; i < names->Length() && !has_default; ++i) {
      v8::Local<v8::Value> name;
      has_default = names->Get(context, i).ToLocal(&name) && toUtf8(isolate, name) == "default";
    }
  }
  if (!has_default) {
    throw ScriptError(displayPath(entry_path) +
                      ": the module has no default export (expected export default { fetch(request, env, ctx) { ... } })");
  }
  return bundle;
}

}  // namespace isogate
