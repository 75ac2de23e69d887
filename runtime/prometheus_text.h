#pragma once
// Writes the Prometheus text exposition format 0.0.4: a `# HELP` and a
// `# TYPE` line per family, then its samples `name{label="value",...} value`.
// Label values are escaped as the format requires (\\, \", \n). The caller
// orders families and samples; this class only formats. A plain value type:
// one writer per thread, the text it returns belongs to the caller.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isogate {

// The Content-Type of a /metrics response in this format.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

class PrometheusWriter {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // Starts a family: `type` is "counter", "gauge" or "histogram". For a
  // counter, `name` is the full sample name (with `_total`); for a histogram
  // the base name of its _bucket/_sum/_count samples.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  void sample(std::string_view name, const Labels& labels, int64_t value);

  std::string take() { return std::move(out_); }

 private:
  void appendName(std::string_view name, const Labels& labels);
  std::string out_;
};

// Appends `value` escaped for a label value (no quotes).
void appendLabelValue(std::string& out, std::string_view value);
// Appends `value` as the format writes numbers: shortest round-trip digits
// in %g style, "+Inf", "-Inf" or "NaN".
void appendPrometheusNumber(std::string& out, double value);

}  // namespace isogate
