#include "runtime/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace isogate {

void appendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '"': out.append("\\\""); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
}

void appendPrometheusNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("NaN");
  } else if (std::isinf(value)) {
    out.append(value > 0 ? "+Inf" : "-Inf");
  } else {
    // Shortest round-trip digits in %g style, as Go's FormatFloat(v, 'g', -1)
    // writes them in Prometheus' own clients ("0.0005", "60", "1e-05").
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general);
    out.append(buf, end);
  }
}

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).push_back(' ');
  // HELP text escapes only backslash and newline.
  for (char c : help) {
    if (c == '\\') {
      out_.append("\\\\");
    } else if (c == '\n') {
      out_.append("\\n");
    } else {
      out_.push_back(c);
    }
  }
  out_.append("\n# TYPE ").append(name).push_back(' ');
  out_.append(type).push_back('\n');
}

void PrometheusWriter::appendName(std::string_view name, const Labels& labels) {
  out_.append(name);
  if (labels.empty()) {
    out_.push_back(' ');
    return;
  }
  out_.push_back('{');
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(label).append("=\"");
    appendLabelValue(out_, value);
    out_.push_back('"');
  }
  out_.append("} ");
}

void PrometheusWriter::sample(std::string_view name, const Labels& labels, double value) {
  appendName(name, labels);
  appendPrometheusNumber(out_, value);
  out_.push_back('\n');
}

void PrometheusWriter::sample(std::string_view name, const Labels& labels, uint64_t value) {
  appendName(name, labels);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, end).push_back('\n');
}

void PrometheusWriter::sample(std::string_view name, const Labels& labels, int64_t value) {
  appendName(name, labels);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, end).push_back('\n');
}

}  // namespace isogate
