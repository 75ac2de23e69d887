// runtime/metrics.cc: per-thread cells merge exactly, histograms, the
// exposition format (checked by a strict parser), the api_key cap, and the
// per-route statistics of /admin/stats. Metrics are process-wide, so every
// test uses its own route and origin names.

#include "runtime/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "tests/runtime/prometheus_format_check.h"

namespace isogate::metrics {
namespace {

using testing::checkPrometheusText;
using testing::findSample;
using testing::PromSample;

std::vector<PromSample> scrape() {
  std::vector<PromSample> samples;
  std::string text = prometheusText();
  std::string problem = checkPrometheusText(text, &samples);
  EXPECT_EQ(problem, "") << text;
  return samples;
}

double valueOf(const std::vector<PromSample>& samples, const std::string& name,
               const std::map<std::string, std::string>& labels) {
  auto v = findSample(samples, name, labels);
  EXPECT_TRUE(v) << name << " with the given labels is missing";
  return v.value_or(-1);
}

TEST(MetricsTest, CountersFromManyThreadsMergeExactly) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) {
        recordRequest("merge", i % 10 == 0 ? 503 : 200, 0.002);
        recordKvOperation("get");
        recordRateLimitRejected("merge");
        recordScriptCpu("merge", 0.001);
      }
      recordUpstream("merge-origin", 0, 0.5);
      recordScriptError("merge", t % 2 ? "exception" : "exceeded_cpu");
    });
  }
  for (auto& th : threads) th.join();
  auto samples = scrape();
  EXPECT_EQ(valueOf(samples, "isogate_requests_total", {{"route", "merge"}, {"status", "200"}}),
            kThreads * kPerThread * 9 / 10);
  EXPECT_EQ(valueOf(samples, "isogate_requests_total", {{"route", "merge"}, {"status", "503"}}),
            kThreads * kPerThread / 10);
  EXPECT_EQ(valueOf(samples, "isogate_request_duration_seconds_count", {{"route", "merge"}}), kThreads * kPerThread);
  EXPECT_EQ(valueOf(samples, "isogate_ratelimit_rejected_total", {{"route", "merge"}}), kThreads * kPerThread);
  EXPECT_GE(valueOf(samples, "isogate_kv_operations_total", {{"op", "get"}}), kThreads * kPerThread);
  EXPECT_NEAR(valueOf(samples, "isogate_script_cpu_seconds_total", {{"route", "merge"}}),
              kThreads * kPerThread * 0.001, 1e-6);
  EXPECT_EQ(valueOf(samples, "isogate_upstream_requests_total", {{"origin", "merge-origin"}, {"status", "0"}}),
            kThreads);
  EXPECT_EQ(valueOf(samples, "isogate_script_errors_total", {{"route", "merge"}, {"kind", "exception"}}), 4);
  EXPECT_EQ(valueOf(samples, "isogate_script_errors_total", {{"route", "merge"}, {"kind", "exceeded_cpu"}}), 4);
}

TEST(MetricsTest, CountsOfEndedThreadsAreKeptAndTheirCellsReused) {
  // Waves of short-lived threads: a new thread adopts an ended thread's
  // cells, so nothing is lost (and memory does not grow per thread).
  for (int wave = 0; wave < 5; ++wave) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([] {
        for (int i = 0; i < 1000; ++i) recordRequest("waves", 200, 0.001);
      });
    }
    for (auto& th : threads) th.join();
  }
  auto samples = scrape();
  EXPECT_EQ(valueOf(samples, "isogate_requests_total", {{"route", "waves"}, {"status", "200"}}), 20000);
}

TEST(MetricsTest, ScrapingWhileRecordingSeesMonotonicCounts) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop.load()) recordRequest("concurrent", 200, 0.001);
  });
  double last = 0;
  for (int i = 0; i < 50; ++i) {
    auto samples = scrape();
    auto v = findSample(samples, "isogate_requests_total", {{"route", "concurrent"}, {"status", "200"}});
    if (v) {
      EXPECT_GE(*v, last);
      last = *v;
    }
  }
  stop = true;
  writer.join();
}

TEST(MetricsTest, HistogramBucketsSumAndCount) {
  for (double s : {0.0001, 0.0005, 0.003, 0.7, 100.0}) recordRequest("hist", 200, s);
  auto samples = scrape();
  auto bucket = [&](const std::string& le) {
    return valueOf(samples, "isogate_request_duration_seconds_bucket", {{"route", "hist"}, {"le", le}});
  };
  EXPECT_EQ(bucket("0.0005"), 2);  // le is inclusive
  EXPECT_EQ(bucket("0.001"), 2);
  EXPECT_EQ(bucket("0.005"), 3);
  EXPECT_EQ(bucket("0.5"), 3);
  EXPECT_EQ(bucket("1"), 4);
  EXPECT_EQ(bucket("60"), 4);
  EXPECT_EQ(bucket("+Inf"), 5);
  EXPECT_EQ(valueOf(samples, "isogate_request_duration_seconds_count", {{"route", "hist"}}), 5);
  EXPECT_NEAR(valueOf(samples, "isogate_request_duration_seconds_sum", {{"route", "hist"}}), 100.7036, 1e-9);
}

TEST(MetricsTest, ExpositionHasEveryFamilySortedWithHelpAndType) {
  recordRequest("families", 200, 0.01);
  std::string text = prometheusText();
  ASSERT_EQ(checkPrometheusText(text), "") << text;
  std::vector<std::string> families;
  size_t pos = 0;
  while ((pos = text.find("# TYPE ", pos)) != std::string::npos) {
    pos += 7;
    families.push_back(text.substr(pos, text.find(' ', pos) - pos));
  }
  const std::vector<std::string> expected = {
      "isogate_active_connections",       "isogate_cache_requests_total",
      "isogate_circuit_state",
      "isogate_isolates",                 "isogate_kv_operations_total",
      "isogate_ratelimit_fail_open_total", "isogate_ratelimit_rejected_total",
      "isogate_request_duration_seconds", "isogate_requests_by_key_total",
      "isogate_requests_total",           "isogate_script_cpu_seconds_total",
      "isogate_script_errors_total",      "isogate_tls_handshake_errors_total",
      "isogate_upstream_duration_seconds", "isogate_upstream_requests_total"};
  EXPECT_EQ(families, expected);
  EXPECT_NE(text.find("# TYPE isogate_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE isogate_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE isogate_active_connections gauge\n"), std::string::npos);
  // Stable: the same state gives the same text.
  EXPECT_EQ(text, prometheusText());
}

TEST(MetricsTest, CacheRequestsByRouteAndResult) {
  recordCacheRequest("cached", "hit");
  recordCacheRequest("cached", "hit");
  recordCacheRequest("cached", "miss");
  recordCacheRequest("cached", "bypass");
  recordCacheRequest("cached", "nonsense");  // ignored
  std::string text = prometheusText();
  ASSERT_EQ(checkPrometheusText(text), "") << text;
  EXPECT_NE(text.find("isogate_cache_requests_total{route=\"cached\",result=\"hit\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("isogate_cache_requests_total{route=\"cached\",result=\"miss\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("isogate_cache_requests_total{route=\"cached\",result=\"bypass\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("nonsense"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  const std::string route = "we\"ird\\route\nname";
  recordRequest(route, 404, 0.001);
  std::string text = prometheusText();
  EXPECT_NE(text.find("isogate_requests_total{route=\"we\\\"ird\\\\route\\nname\",status=\"404\"} 1\n"),
            std::string::npos)
      << text;
  std::vector<PromSample> samples;
  ASSERT_EQ(checkPrometheusText(text, &samples), "");
  EXPECT_EQ(valueOf(samples, "isogate_requests_total", {{"route", route}, {"status", "404"}}), 1);
}

TEST(MetricsTest, GaugesAddUpAcrossThreadsAndCircuitStateIsTheLatest) {
  auto before = scrape();
  const double connections = valueOf(before, "isogate_active_connections", {});
  std::thread a([] {
    addActiveConnections(1);
    addActiveConnections(1);
    addIsolates("gauge-route", 1);
  });
  a.join();
  std::thread b([] {
    addActiveConnections(-1);
    addIsolates("gauge-route", 1);
    addIsolates("gauge-route", -1);  // built on one thread, disposed on another: still sums
  });
  b.join();
  setCircuitState("gauge-origin", 1);
  std::thread c([] { setCircuitState("gauge-origin", 2); });
  c.join();
  auto samples = scrape();
  EXPECT_EQ(valueOf(samples, "isogate_active_connections", {}), connections + 1);
  EXPECT_EQ(valueOf(samples, "isogate_isolates", {{"route", "gauge-route"}}), 1);
  EXPECT_EQ(valueOf(samples, "isogate_circuit_state", {{"origin", "gauge-origin"}}), 2);
}

TEST(MetricsTest, FailOpenIsOneUnlabelledCounter) {
  auto before = scrape();
  const double start = valueOf(before, "isogate_ratelimit_fail_open_total", {});
  recordRateLimitFailOpen();
  recordRateLimitFailOpen();
  EXPECT_EQ(valueOf(scrape(), "isogate_ratelimit_fail_open_total", {}), start + 2);
}

TEST(MetricsTest, ApiKeysAreCappedPerRouteWithTheRestAsOther) {
  // 150 keys; key i has i+1 requests.
  uint64_t total = 0;
  for (int i = 0; i < 150; ++i) {
    for (int n = 0; n <= i; ++n) recordApiKey("keys", "key-" + std::to_string(i));
    total += static_cast<uint64_t>(i) + 1;
  }
  recordApiKey("keys", "");       // not a key: not counted
  recordApiKey("keys", "other");  // a key named like the aggregate counts in it
  total += 1;

  auto series = [](const std::vector<PromSample>& samples) {
    std::map<std::string, double> out;
    for (const auto& s : samples) {
      if (s.name == "isogate_requests_by_key_total" && s.labels.at("route") == "keys") out[s.labels.at("key")] = s.value;
    }
    return out;
  };
  auto first = series(scrape());
  EXPECT_EQ(first.size(), 101u) << "100 keys and other";
  double sum = 0;
  for (const auto& [key, value] : first) sum += value;
  EXPECT_EQ(sum, total);
  // The busiest 100 (key-50 .. key-149) are shown with their counts.
  EXPECT_EQ(first.count("key-49"), 0u);
  EXPECT_EQ(first["key-50"], 51);
  EXPECT_EQ(first["key-149"], 150);
  EXPECT_EQ(first["other"], 1275 + 1);  // keys 0..49, plus the key named "other"

  // key-0 becomes busy: with at least twice the requests of the least busy
  // shown key (key-50, 51) it takes that place, counting from the last scrape.
  for (int n = 0; n < 1000; ++n) recordApiKey("keys", "key-0");
  auto second = series(scrape());
  EXPECT_EQ(second.size(), 101u);
  EXPECT_EQ(second["key-0"], 1000);
  EXPECT_EQ(second.count("key-50"), 0u);
  EXPECT_EQ(second["other"], 1275 + 1 + 51) << "other never goes down";
  sum = 0;
  for (const auto& [key, value] : second) sum += value;
  EXPECT_EQ(sum, total + 1000);
}

TEST(MetricsTest, ApiKeysFromManyThreadsStayBounded) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 3000; ++i) recordApiKey("many-keys", "k" + std::to_string(t * 3000 + i));
    });
  }
  for (auto& th : threads) th.join();
  size_t count = 0;
  double sum = 0;
  for (const auto& s : scrape()) {
    if (s.name == "isogate_requests_by_key_total" && s.labels.at("route") == "many-keys") {
      ++count;
      sum += s.value;
    }
  }
  EXPECT_LE(count, 101u);
  EXPECT_EQ(sum, 12000) << "keys over the per-thread tracking cap still count, as other";
}

TEST(MetricsTest, RouteStatsCountErrorsAndPercentiles) {
  for (int i = 0; i < 90; ++i) recordRequest("stats", 200, 0.010);
  for (int i = 0; i < 10; ++i) recordRequest("stats", 502, 0.200);
  recordRequest("stats", 499, 0.010);
  const RouteStats* stats = nullptr;
  std::vector<RouteStats> all = routeStats();
  for (const auto& s : all) {
    if (s.route == "stats") stats = &s;
  }
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->requests_total, 101u);
  EXPECT_EQ(stats->errors_total, 10u);
  EXPECT_EQ(stats->window_requests, 101u);
  EXPECT_EQ(stats->window_errors, 10u);
  EXPECT_GT(stats->window_seconds, 0);
  EXPECT_LE(stats->window_seconds, 60);
  EXPECT_NEAR(stats->p50_seconds, 0.010, 0.010 * 0.07);
  EXPECT_NEAR(stats->p95_seconds, 0.200, 0.200 * 0.07);
  EXPECT_NEAR(stats->p99_seconds, 0.200, 0.200 * 0.07);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.route < b.route; }));
}

}  // namespace
}  // namespace isogate::metrics
