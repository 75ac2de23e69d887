#pragma once
// A strict checker of the Prometheus text exposition format 0.0.4 for the
// tests (metrics_test.cc on the writer, e2e/admin_test.cc on the real
// /metrics): stricter than Prometheus itself, so that whatever passes here
// any scraper reads. Header-only; no dependency on the code under test.
//
// Rules checked: every line ends with \n; `# HELP name text` then
// `# TYPE name type` open a family, once per family, before its samples;
// sample names belong to the open family (for a histogram: _bucket, _sum,
// _count); label names are identifiers, unique within a sample; label
// values use only the escapes \\ \" \n; values are decimal floats, +Inf,
// -Inf or NaN; no timestamps; no series twice; histogram buckets have
// increasing `le`, non-decreasing counts, and a +Inf bucket equal to _count.

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace isogate::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

namespace prom_detail {

inline bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
inline bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

inline bool parseName(const std::string& s, size_t* i, std::string* out, bool allow_colon = true) {
  size_t start = *i;
  if (*i >= s.size() || !isNameStart(s[*i]) || (!allow_colon && s[*i] == ':')) return false;
  while (*i < s.size() && isNameChar(s[*i]) && (allow_colon || s[*i] != ':')) ++*i;
  *out = s.substr(start, *i - start);
  return true;
}

inline bool parseValue(const std::string& text, double* out) {
  if (text == "+Inf") {
    *out = INFINITY;
    return true;
  }
  if (text == "-Inf") {
    *out = -INFINITY;
    return true;
  }
  if (text == "NaN") {
    *out = NAN;
    return true;
  }
  if (text.empty()) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return false;
  }
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno == 0;
}

}  // namespace prom_detail

// Returns "" when `text` passes, else "line N: problem". Samples go to
// *samples when given.
inline std::string checkPrometheusText(const std::string& text, std::vector<PromSample>* samples = nullptr) {
  using namespace prom_detail;
  if (!text.empty() && text.back() != '\n') return "the text does not end with a newline";
  std::set<std::string> families_seen;
  std::set<std::string> series_seen;
  std::string family, type, pending_help;
  // Histogram state per label set (without le): last le, last count.
  std::map<std::string, std::pair<double, double>> buckets;
  std::map<std::string, double> inf_bucket;
  std::map<std::string, double> counts;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    auto problem = [&](const std::string& what) { return "line " + std::to_string(line_no) + ": " + what + ": " + line; };
    if (line.empty()) return problem("empty line");
    if (line[0] == '#') {
      if (line.rfind("# HELP ", 0) == 0) {
        size_t i = 7;
        std::string name;
        if (!parseName(line, &i, &name) || i >= line.size() || line[i] != ' ') return problem("bad HELP");
        for (size_t k = i + 1; k < line.size(); ++k) {
          if (line[k] == '\\' && (k + 1 >= line.size() || (line[k + 1] != '\\' && line[k + 1] != 'n'))) {
            return problem("bad escape in HELP");
          }
          if (line[k] == '\\') ++k;
        }
        if (families_seen.count(name)) return problem("family repeated");
        pending_help = name;
        continue;
      }
      if (line.rfind("# TYPE ", 0) == 0) {
        size_t i = 7;
        std::string name;
        if (!parseName(line, &i, &name) || i >= line.size() || line[i] != ' ') return problem("bad TYPE");
        std::string t = line.substr(i + 1);
        if (t != "counter" && t != "gauge" && t != "histogram" && t != "summary" && t != "untyped") {
          return problem("unknown type");
        }
        if (pending_help != name) return problem("TYPE without a HELP for the same family just before");
        if (!families_seen.insert(name).second) return problem("family repeated");
        // Histograms of the previous family are complete now.
        for (const auto& [key, inf] : inf_bucket) {
          if (!counts.count(key) || counts[key] != inf) return problem("histogram " + key + ": +Inf bucket != _count");
        }
        if (type == "histogram") {
          for (const auto& [key, last] : buckets) {
            if (!inf_bucket.count(key)) return problem("histogram " + key + " has no +Inf bucket");
          }
        }
        buckets.clear();
        inf_bucket.clear();
        counts.clear();
        family = name;
        type = t;
        pending_help.clear();
        continue;
      }
      return problem("comment that is neither HELP nor TYPE");
    }
    if (!pending_help.empty()) return problem("sample between HELP and TYPE");
    size_t i = 0;
    PromSample sample;
    if (!parseName(line, &i, &sample.name)) return problem("bad metric name");
    if (family.empty()) return problem("sample before any TYPE");
    std::string suffix;
    if (sample.name != family) {
      if (type != "histogram" && type != "summary") return problem("sample of another family");
      for (const char* s : {"_bucket", "_sum", "_count"}) {
        if (sample.name == family + s) suffix = s;
      }
      if (suffix.empty()) return problem("sample of another family");
    } else if (type == "histogram") {
      return problem("histogram sample without _bucket/_sum/_count");
    }
    std::string series_key = sample.name + "{";
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        std::string label;
        if (!parseName(line, &i, &label, false)) return problem("bad label name");
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return problem("expected =\"");
        i += 2;
        std::string value;
        while (true) {
          if (i >= line.size()) return problem("unterminated label value");
          char c = line[i++];
          if (c == '"') break;
          if (c == '\\') {
            if (i >= line.size()) return problem("dangling backslash");
            char e = line[i++];
            if (e == 'n') {
              value.push_back('\n');
            } else if (e == '\\' || e == '"') {
              value.push_back(e);
            } else {
              return problem("bad escape in label value");
            }
            continue;
          }
          value.push_back(c);
        }
        if (!sample.labels.emplace(label, value).second) return problem("label repeated");
        if (i < line.size() && line[i] == ',') {
          ++i;
          if (i < line.size() && line[i] == '}') return problem("trailing comma");
          continue;
        }
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        return problem("expected , or }");
      }
    }
    if (i >= line.size() || line[i] != ' ') return problem("expected one space before the value");
    std::string value_text = line.substr(i + 1);
    if (value_text.find(' ') != std::string::npos) return problem("timestamps are not expected");
    if (!parseValue(value_text, &sample.value)) return problem("bad value");
    for (const auto& [k, v] : sample.labels) series_key += k + "=" + v + ",";
    if (!series_seen.insert(series_key).second) return problem("series repeated");

    if (type == "histogram") {
      std::map<std::string, std::string> without_le = sample.labels;
      without_le.erase("le");
      std::string key;
      for (const auto& [k, v] : without_le) key += k + "=" + v + ",";
      if (suffix == "_bucket") {
        auto le = sample.labels.find("le");
        double bound;
        if (le == sample.labels.end() || !parseValue(le->second, &bound)) return problem("bucket without a valid le");
        auto it = buckets.find(key);
        if (it != buckets.end()) {
          if (!(bound > it->second.first)) return problem("le not increasing");
          if (sample.value < it->second.second) return problem("bucket counts decrease");
        }
        buckets[key] = {bound, sample.value};
        if (std::isinf(bound)) inf_bucket[key] = sample.value;
      } else if (suffix == "_count") {
        counts[key] = sample.value;
      }
    } else if (type == "counter" && !(sample.value >= 0)) {
      return problem("negative or NaN counter");
    }
    if (samples) samples->push_back(std::move(sample));
  }
  for (const auto& [key, inf] : inf_bucket) {
    if (!counts.count(key) || counts[key] != inf) return "histogram " + key + ": +Inf bucket != _count";
  }
  for (const auto& [key, last] : buckets) {
    if (!inf_bucket.count(key)) return "histogram " + key + " has no +Inf bucket";
  }
  if (!pending_help.empty()) return "HELP without TYPE at the end";
  return "";
}

// The value of the sample with exactly these labels, if present.
inline std::optional<double> findSample(const std::vector<PromSample>& samples, const std::string& name,
                                        const std::map<std::string, std::string>& labels) {
  for (const PromSample& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

}  // namespace isogate::testing
