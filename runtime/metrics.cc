// Per-thread metric cells and their merge (see metrics.h).
//
// Layout: every thread that records gets a ThreadCells, an append-only list
// of cells (one per label set it has used), linked into a process-wide
// append-only list of ThreadCells. Only the owning thread writes a cell's
// values (relaxed load + store, no read-modify-write) and appends cells
// (release); the scraper walks the lists (acquire) and sums. A thread finds
// its cells through a thread-local index (hash maps keyed by route/origin),
// so after a label set's first use no lock and no allocation is involved.
// Cells are never freed: when a thread ends, a new thread adopts its
// ThreadCells (and keeps counting into them), so thread churn does not grow
// memory and no count is lost.

#include "runtime/metrics.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "runtime/key_ranking.h"
#include "runtime/latency_window.h"
#include "runtime/prometheus_text.h"

#ifndef ISOGATE_METRICS
#define ISOGATE_METRICS 1
#endif

namespace isogate::metrics {

namespace {

constexpr bool kEnabled = ISOGATE_METRICS != 0;

// Request and upstream durations: from half a millisecond (a cached or
// trivial response) to a minute (beyond any sensible origin timeout).
constexpr double kDurationBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                       0.25,   0.5,   1,      2.5,   5,    10,   30,    60};
constexpr size_t kBucketCount = std::size(kDurationBuckets);

// api_key tracking per thread and route: beyond this many distinct keys
// (or for absurdly long keys) requests count as "other" without a cell.
constexpr size_t kMaxKeysPerThreadRoute = 1000;
constexpr size_t kMaxKeyBytes = 256;
constexpr std::string_view kOtherKey = "other";

uint64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO, no system call
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

const uint64_t g_start_ms = monotonicMs();

// Single writer per cell: load + store instead of fetch_add.
template <typename T, typename V>
void addTo(std::atomic<T>& cell, V delta) {
  cell.store(cell.load(std::memory_order_relaxed) + static_cast<T>(delta), std::memory_order_relaxed);
}

// Status labels are written by this file ("200", "0"), so they always parse.
int statusOf(const std::string& label) {
  int status = 0;
  std::from_chars(label.data(), label.data() + label.size(), status);
  return status;
}

enum class Kind : uint8_t {
  kRequests,                // route, status
  kRequestDuration,         // route
  kRequestWindow,           // route
  kUpstreamRequests,        // origin, status
  kUpstreamDuration,        // origin
  kActiveConnections,       // -
  kIsolates,                // route
  kScriptCpu,               // route
  kScriptErrors,            // route, kind
  kKvOperations,            // op
  kRateLimitRejected,       // route
  kRateLimitFailOpen,       // -
  kRequestsByKey,           // route, key
  kRequestsByKeyUntracked,  // route
  kCacheRequests,           // route, result
};

// A cell: one label set's values in one thread. Labels and `next` are set
// before the cell is published and never change.
struct Cell {
  Cell(Kind k, std::string_view a, std::string_view b) : kind(k), label1(a), label2(b) {}
  virtual ~Cell() = default;
  const Kind kind;
  const std::string label1;
  const std::string label2;
  Cell* next = nullptr;
};

struct CounterCell final : Cell {
  using Cell::Cell;
  std::atomic<uint64_t> value{0};
};

struct SumCell final : Cell {
  using Cell::Cell;
  std::atomic<double> value{0};
};

struct GaugeCell final : Cell {
  using Cell::Cell;
  std::atomic<int64_t> value{0};
};

struct HistogramCell final : Cell {
  using Cell::Cell;
  std::array<std::atomic<uint64_t>, kBucketCount + 1> buckets{};  // not cumulative; last is +Inf
  std::atomic<double> sum{0};

  void observe(double seconds) {
    size_t i = 0;
    while (i < kBucketCount && seconds > kDurationBuckets[i]) ++i;
    addTo(buckets[i], 1);
    addTo(sum, seconds);
  }
};

struct WindowCell final : Cell {
  using Cell::Cell;
  LatencyWindow window;
};

struct ThreadCells {
  std::atomic<Cell*> head{nullptr};
  std::atomic<bool> in_use{true};
  ThreadCells* next = nullptr;  // in g_threads; set before publication

  void publish(Cell* cell) {
    cell->next = head.load(std::memory_order_relaxed);
    head.store(cell, std::memory_order_release);
  }
};

std::atomic<ThreadCells*> g_threads{nullptr};

// Circuit states are set, not added, so they live in one process-wide cell
// per origin (created under a lock on first use by any thread).
struct CircuitCell {
  std::string origin;
  std::atomic<int> state{0};
  CircuitCell* next = nullptr;
};
std::mutex g_circuit_mutex;
std::atomic<CircuitCell*> g_circuits{nullptr};

CircuitCell* circuitCell(std::string_view origin) {
  std::lock_guard<std::mutex> lock(g_circuit_mutex);
  for (CircuitCell* c = g_circuits.load(std::memory_order_acquire); c; c = c->next) {
    if (c->origin == origin) return c;
  }
  auto* cell = new CircuitCell;
  cell->origin = std::string(origin);
  cell->next = g_circuits.load(std::memory_order_relaxed);
  g_circuits.store(cell, std::memory_order_release);
  return cell;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

template <typename V, typename Make>
V& findOrAdd(StringMap<V>& map, std::string_view key, Make&& make) {
  auto it = map.find(key);
  if (it != map.end()) return it->second;
  return map.emplace(std::string(key), make()).first->second;
}

// One thread's way to its cells. Thread-private.
struct RouteIndex {
  std::vector<std::pair<int, CounterCell*>> statuses;
  HistogramCell* duration = nullptr;
  WindowCell* window = nullptr;
  GaugeCell* isolates = nullptr;
  SumCell* cpu = nullptr;
  CounterCell* ratelimit_rejected = nullptr;
  std::vector<CounterCell*> errors;  // by kind (label2)
  StringMap<CounterCell*> keys;
  CounterCell* untracked_keys = nullptr;
  std::array<CounterCell*, 3> cache{};  // hit, miss, bypass
};

struct OriginIndex {
  std::vector<std::pair<int, CounterCell*>> statuses;
  HistogramCell* duration = nullptr;
  CircuitCell* circuit = nullptr;
};

class ThreadIndex {
 public:
  ThreadIndex() {
    // Adopt the cells of a thread that has ended, if any.
    for (ThreadCells* t = g_threads.load(std::memory_order_acquire); t; t = t->next) {
      bool expected = false;
      if (!t->in_use.load(std::memory_order_relaxed) &&
          t->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        cells_ = t;
        for (Cell* c = t->head.load(std::memory_order_acquire); c; c = c->next) file(c);
        return;
      }
    }
    cells_ = new ThreadCells;
    ThreadCells* head = g_threads.load(std::memory_order_relaxed);
    do {
      cells_->next = head;
    } while (!g_threads.compare_exchange_weak(head, cells_, std::memory_order_release, std::memory_order_relaxed));
  }
  ~ThreadIndex() { cells_->in_use.store(false, std::memory_order_release); }
  ThreadIndex(const ThreadIndex&) = delete;
  ThreadIndex& operator=(const ThreadIndex&) = delete;

  RouteIndex& route(std::string_view name) {
    // A request makes several calls for the same route in a row: remember
    // the last one (a short compare instead of a hash).
    if (last_route_ && last_route_->first == name) return last_route_->second;
    auto it = routes_.find(name);
    if (it == routes_.end()) it = routes_.emplace(std::string(name), RouteIndex{}).first;
    last_route_ = &*it;
    return it->second;
  }
  OriginIndex& origin(std::string_view name) {
    return findOrAdd(origins_, name, [] { return OriginIndex{}; });
  }

  template <typename C>
  C* make(Kind kind, std::string_view label1, std::string_view label2 = {}) {
    auto* cell = new C(kind, label1, label2);
    cells_->publish(cell);
    file(cell);
    return cell;
  }

  CounterCell* statusCell(std::vector<std::pair<int, CounterCell*>>& statuses, Kind kind, std::string_view label,
                          int status) {
    for (auto& [code, cell] : statuses) {
      if (code == status) return cell;
    }
    return make<CounterCell>(kind, label, std::to_string(status));
  }

  GaugeCell* connections() { return connections_ ? connections_ : make<GaugeCell>(Kind::kActiveConnections, {}); }
  CounterCell* failOpen() { return fail_open_ ? fail_open_ : make<CounterCell>(Kind::kRateLimitFailOpen, {}); }
  CounterCell* kvOperation(std::string_view op) {
    auto it = kv_ops_.find(op);
    return it != kv_ops_.end() ? it->second : make<CounterCell>(Kind::kKvOperations, op);
  }

 private:
  // Files a cell (new or adopted) into the index.
  void file(Cell* cell) {
    switch (cell->kind) {
      case Kind::kRequests:
        route(cell->label1).statuses.emplace_back(statusOf(cell->label2), static_cast<CounterCell*>(cell));
        break;
      case Kind::kRequestDuration:
        route(cell->label1).duration = static_cast<HistogramCell*>(cell);
        break;
      case Kind::kRequestWindow:
        route(cell->label1).window = static_cast<WindowCell*>(cell);
        break;
      case Kind::kUpstreamRequests:
        origin(cell->label1).statuses.emplace_back(statusOf(cell->label2), static_cast<CounterCell*>(cell));
        break;
      case Kind::kUpstreamDuration:
        origin(cell->label1).duration = static_cast<HistogramCell*>(cell);
        break;
      case Kind::kActiveConnections:
        connections_ = static_cast<GaugeCell*>(cell);
        break;
      case Kind::kIsolates:
        route(cell->label1).isolates = static_cast<GaugeCell*>(cell);
        break;
      case Kind::kScriptCpu:
        route(cell->label1).cpu = static_cast<SumCell*>(cell);
        break;
      case Kind::kScriptErrors:
        route(cell->label1).errors.push_back(static_cast<CounterCell*>(cell));
        break;
      case Kind::kKvOperations:
        kv_ops_[cell->label1] = static_cast<CounterCell*>(cell);
        break;
      case Kind::kRateLimitRejected:
        route(cell->label1).ratelimit_rejected = static_cast<CounterCell*>(cell);
        break;
      case Kind::kRateLimitFailOpen:
        fail_open_ = static_cast<CounterCell*>(cell);
        break;
      case Kind::kRequestsByKey:
        route(cell->label1).keys.emplace(cell->label2, static_cast<CounterCell*>(cell));
        break;
      case Kind::kRequestsByKeyUntracked:
        route(cell->label1).untracked_keys = static_cast<CounterCell*>(cell);
        break;
      case Kind::kCacheRequests: {
        size_t i = cell->label2 == "hit" ? 0 : cell->label2 == "miss" ? 1 : 2;
        route(cell->label1).cache[i] = static_cast<CounterCell*>(cell);
        break;
      }
    }
  }

  ThreadCells* cells_ = nullptr;
  StringMap<RouteIndex> routes_;
  StringMap<RouteIndex>::value_type* last_route_ = nullptr;  // nodes never move
  StringMap<OriginIndex> origins_;
  StringMap<CounterCell*> kv_ops_;
  GaugeCell* connections_ = nullptr;
  CounterCell* fail_open_ = nullptr;
};

ThreadIndex& local() {
  thread_local ThreadIndex index;
  return index;
}

// ---- merging (scrape side) ----

struct Aggregate {
  uint64_t count = 0;  // counters
  double sum = 0;      // SumCell, histogram sum
  int64_t gauge = 0;
  std::array<uint64_t, kBucketCount + 1> buckets{};
};

using MergeKey = std::tuple<Kind, std::string, std::string>;

std::map<MergeKey, Aggregate> mergeThreads() {
  std::map<MergeKey, Aggregate> merged;
  for (ThreadCells* t = g_threads.load(std::memory_order_acquire); t; t = t->next) {
    for (Cell* c = t->head.load(std::memory_order_acquire); c; c = c->next) {
      if (c->kind == Kind::kRequestWindow) continue;  // routeStats() only
      Aggregate& a = merged[MergeKey{c->kind, c->label1, c->label2}];
      if (auto* counter = dynamic_cast<CounterCell*>(c)) {
        a.count += counter->value.load(std::memory_order_relaxed);
      } else if (auto* sum = dynamic_cast<SumCell*>(c)) {
        a.sum += sum->value.load(std::memory_order_relaxed);
      } else if (auto* gauge = dynamic_cast<GaugeCell*>(c)) {
        a.gauge += gauge->value.load(std::memory_order_relaxed);
      } else if (auto* histogram = dynamic_cast<HistogramCell*>(c)) {
        for (size_t i = 0; i <= kBucketCount; ++i) a.buckets[i] += histogram->buckets[i].load(std::memory_order_relaxed);
        a.sum += histogram->sum.load(std::memory_order_relaxed);
      }
    }
  }
  return merged;
}

// The entries of one kind, in label order.
template <typename Fn>
void forKind(const std::map<MergeKey, Aggregate>& merged, Kind kind, Fn&& fn) {
  auto it = merged.lower_bound(MergeKey{kind, "", ""});
  for (; it != merged.end() && std::get<0>(it->first) == kind; ++it) {
    fn(std::get<1>(it->first), std::get<2>(it->first), it->second);
  }
}

void writeHistogram(PrometheusWriter& w, const std::map<MergeKey, Aggregate>& merged, Kind kind,
                    std::string_view name, std::string_view label, std::string_view help) {
  w.family(name, "histogram", help);
  const std::string bucket_name = std::string(name) + "_bucket";
  const std::string sum_name = std::string(name) + "_sum";
  const std::string count_name = std::string(name) + "_count";
  forKind(merged, kind, [&](const std::string& value, const std::string&, const Aggregate& a) {
    uint64_t cumulative = 0;
    std::string le;
    for (size_t i = 0; i <= kBucketCount; ++i) {
      cumulative += a.buckets[i];
      le.clear();
      appendPrometheusNumber(le, i < kBucketCount ? kDurationBuckets[i] : std::numeric_limits<double>::infinity());
      w.sample(bucket_name, {{label, value}, {"le", le}}, cumulative);
    }
    w.sample(sum_name, {{label, value}}, a.sum);
    w.sample(count_name, {{label, value}}, cumulative);
  });
}

void writeCounter(PrometheusWriter& w, const std::map<MergeKey, Aggregate>& merged, Kind kind,
                  std::string_view name, std::string_view label1, std::string_view label2, std::string_view help) {
  w.family(name, "counter", help);
  forKind(merged, kind, [&](const std::string& v1, const std::string& v2, const Aggregate& a) {
    if (label2.empty()) {
      w.sample(name, {{label1, v1}}, a.count);
    } else {
      w.sample(name, {{label1, v1}, {label2, v2}}, a.count);
    }
  });
}

std::mutex g_scrape_mutex;  // scrapes: the api_key rankings
std::map<std::string, KeyRanking>& rankings() {
  static auto* r = new std::map<std::string, KeyRanking>;  // never destroyed: scrapes may run during exit
  return *r;
}

}  // namespace

// ---- recording ----

void recordRequest(std::string_view route, int status, double seconds) {
  if constexpr (!kEnabled) return;
  ThreadIndex& t = local();
  RouteIndex& r = t.route(route);
  addTo(t.statusCell(r.statuses, Kind::kRequests, route, status)->value, 1);
  if (!r.duration) t.make<HistogramCell>(Kind::kRequestDuration, route);
  r.duration->observe(seconds);
  if (!r.window) t.make<WindowCell>(Kind::kRequestWindow, route);
  r.window->window.record(monotonicMs(), seconds, status >= 500);
}

void recordUpstream(std::string_view origin, int status, double seconds) {
  if constexpr (!kEnabled) return;
  ThreadIndex& t = local();
  OriginIndex& o = t.origin(origin);
  addTo(t.statusCell(o.statuses, Kind::kUpstreamRequests, origin, status)->value, 1);
  if (!o.duration) t.make<HistogramCell>(Kind::kUpstreamDuration, origin);
  o.duration->observe(seconds);
}

void setCircuitState(std::string_view origin, int state) {
  if constexpr (!kEnabled) return;
  OriginIndex& o = local().origin(origin);
  if (!o.circuit) o.circuit = circuitCell(origin);
  o.circuit->state.store(state, std::memory_order_relaxed);
}

void addActiveConnections(int delta) {
  if constexpr (!kEnabled) return;
  addTo(local().connections()->value, delta);
}

void addIsolates(std::string_view route, int delta) {
  if constexpr (!kEnabled) return;
  ThreadIndex& t = local();
  RouteIndex& r = t.route(route);
  if (!r.isolates) t.make<GaugeCell>(Kind::kIsolates, route);
  addTo(r.isolates->value, delta);
}

void recordScriptCpu(std::string_view route, double seconds) {
  if constexpr (!kEnabled) return;
  ThreadIndex& t = local();
  RouteIndex& r = t.route(route);
  if (!r.cpu) t.make<SumCell>(Kind::kScriptCpu, route);
  addTo(r.cpu->value, seconds);
}

void recordScriptError(std::string_view route, std::string_view kind) {
  if constexpr (!kEnabled) return;
  ThreadIndex& t = local();
  RouteIndex& r = t.route(route);
  for (CounterCell* cell : r.errors) {
    if (cell->label2 == kind) {
      addTo(cell->value, 1);
      return;
    }
  }
  addTo(t.make<CounterCell>(Kind::kScriptErrors, route, kind)->value, 1);
}

void recordApiKey(std::string_view route, std::string_view key) {
  if constexpr (!kEnabled) return;
  if (key.empty()) return;
  ThreadIndex& t = local();
  RouteIndex& r = t.route(route);
  auto it = r.keys.find(key);
  if (it != r.keys.end()) {
    addTo(it->second->value, 1);
    return;
  }
  // A real key named "other" would be confused with the aggregate: it counts there.
  if (r.keys.size() < kMaxKeysPerThreadRoute && key.size() <= kMaxKeyBytes && key != kOtherKey) {
    addTo(t.make<CounterCell>(Kind::kRequestsByKey, route, key)->value, 1);
    return;
  }
  if (!r.untracked_keys) t.make<CounterCell>(Kind::kRequestsByKeyUntracked, route);
  addTo(r.untracked_keys->value, 1);
}

void recordKvOperation(std::string_view op) {
  if constexpr (!kEnabled) return;
  addTo(local().kvOperation(op)->value, 1);
}

void recordRateLimitRejected(std::string_view route) {
  if constexpr (!kEnabled) return;
  ThreadIndex& t = local();
  RouteIndex& r = t.route(route);
  if (!r.ratelimit_rejected) t.make<CounterCell>(Kind::kRateLimitRejected, route);
  addTo(r.ratelimit_rejected->value, 1);
}

std::atomic<uint64_t> g_tls_handshake_failed{0};
std::atomic<uint64_t> g_tls_handshake_timeout{0};

void recordTlsHandshakeError(bool timeout) {
  if constexpr (!kEnabled) return;
  (timeout ? g_tls_handshake_timeout : g_tls_handshake_failed).fetch_add(1, std::memory_order_relaxed);
}

void recordCacheRequest(std::string_view route, std::string_view result) {
  if constexpr (!kEnabled) return;
  size_t i = result == "hit" ? 0 : result == "miss" ? 1 : result == "bypass" ? 2 : 3;
  if (i == 3) return;
  ThreadIndex& t = local();
  RouteIndex& r = t.route(route);
  if (!r.cache[i]) t.make<CounterCell>(Kind::kCacheRequests, route, result);
  addTo(r.cache[i]->value, 1);
}

void recordRateLimitFailOpen() {
  if constexpr (!kEnabled) return;
  addTo(local().failOpen()->value, 1);
}

// ---- exposition ----

std::string prometheusText() {
  std::lock_guard<std::mutex> lock(g_scrape_mutex);
  const std::map<MergeKey, Aggregate> merged = mergeThreads();
  PrometheusWriter w;

  int64_t connections = 0;
  forKind(merged, Kind::kActiveConnections, [&](auto&, auto&, const Aggregate& a) { connections += a.gauge; });
  w.family("isogate_active_connections", "gauge", "Open client connections.");
  w.sample("isogate_active_connections", {}, connections);

  writeCounter(w, merged, Kind::kCacheRequests, "isogate_cache_requests_total", "route", "result",
               "Requests on routes that use the response cache, by result (hit, miss, bypass).");

  w.family("isogate_circuit_state", "gauge", "Circuit breaker state of an origin: 0 closed, 1 open, 2 half-open.");
  std::map<std::string, int> circuits;
  for (CircuitCell* c = g_circuits.load(std::memory_order_acquire); c; c = c->next) {
    circuits[c->origin] = c->state.load(std::memory_order_relaxed);
  }
  for (const auto& [origin, state] : circuits) {
    w.sample("isogate_circuit_state", {{"origin", origin}}, static_cast<int64_t>(state));
  }

  w.family("isogate_isolates", "gauge", "V8 isolates serving a script route, across workers (spare isolates not counted).");
  forKind(merged, Kind::kIsolates, [&](const std::string& route, auto&, const Aggregate& a) {
    w.sample("isogate_isolates", {{"route", route}}, a.gauge);
  });

  writeCounter(w, merged, Kind::kKvOperations, "isogate_kv_operations_total", "op", "",
               "KV binding operations by kind (get, put, delete, list).");

  uint64_t fail_open = 0;
  forKind(merged, Kind::kRateLimitFailOpen, [&](auto&, auto&, const Aggregate& a) { fail_open += a.count; });
  w.family("isogate_ratelimit_fail_open_total", "counter",
           "Rate limiter checks allowed because the counter store failed.");
  w.sample("isogate_ratelimit_fail_open_total", {}, fail_open);

  writeCounter(w, merged, Kind::kRateLimitRejected, "isogate_ratelimit_rejected_total", "route", "",
               "Requests a ratelimit binding refused (limit() returned success: false).");

  writeHistogram(w, merged, Kind::kRequestDuration, "isogate_request_duration_seconds", "route",
                 "Time from the request's first byte to the end of its response.");

  // api_key series: merged per route, then ranked (see key_ranking.h).
  std::map<std::string, std::map<std::string, uint64_t>> key_counts;
  std::map<std::string, uint64_t> untracked;
  forKind(merged, Kind::kRequestsByKey, [&](const std::string& route, const std::string& key, const Aggregate& a) {
    key_counts[route][key] += a.count;
  });
  forKind(merged, Kind::kRequestsByKeyUntracked,
          [&](const std::string& route, auto&, const Aggregate& a) { untracked[route] += a.count; });
  for (const auto& [route, count] : untracked) key_counts[route];  // routes with untracked keys only
  w.family("isogate_requests_by_key_total", "counter",
           "Requests by the api_key a handler logged with ctx.log; the busiest keys per route, the rest as \"other\".");
  for (const auto& [route, counts] : key_counts) {
    auto u = untracked.find(route);
    KeyRanking::Result ranked = rankings()[route].rank(counts, u == untracked.end() ? 0 : u->second);
    // "other" sorts among the keys like any label value.
    std::vector<std::pair<std::string, uint64_t>> series = std::move(ranked.shown);
    series.emplace_back(std::string(kOtherKey), ranked.other);
    std::sort(series.begin(), series.end());
    for (const auto& [key, value] : series) {
      w.sample("isogate_requests_by_key_total", {{"route", route}, {"key", key}}, value);
    }
  }

  writeCounter(w, merged, Kind::kRequests, "isogate_requests_total", "route", "status",
               "Client requests by route and response status (route=\"\" when no route matched).");

  w.family("isogate_script_cpu_seconds_total", "counter", "JavaScript CPU time spent producing responses.");
  forKind(merged, Kind::kScriptCpu, [&](const std::string& route, auto&, const Aggregate& a) {
    w.sample("isogate_script_cpu_seconds_total", {{"route", route}}, a.sum);
  });

  writeCounter(w, merged, Kind::kScriptErrors, "isogate_script_errors_total", "route", "kind",
               "Requests that ended in a script error or an exceeded limit, by kind.");

  w.family("isogate_tls_handshake_errors_total", "counter",
           "Client TLS handshakes that failed or timed out (header_timeout_ms), by reason.");
  w.sample("isogate_tls_handshake_errors_total", {{"reason", "failed"}},
           g_tls_handshake_failed.load(std::memory_order_relaxed));
  w.sample("isogate_tls_handshake_errors_total", {{"reason", "timeout"}},
           g_tls_handshake_timeout.load(std::memory_order_relaxed));

  writeHistogram(w, merged, Kind::kUpstreamDuration, "isogate_upstream_duration_seconds", "origin",
                 "Time from sending a request to an origin to the end of its response.");

  writeCounter(w, merged, Kind::kUpstreamRequests, "isogate_upstream_requests_total", "origin", "status",
               "Requests to origins by response status (status=\"0\": no response).");
  return w.take();
}

namespace {
// The window starts with the oldest slot it covers, or at start-up.
double windowSecondsAt(uint64_t now) {
  const uint64_t current_slot = now / LatencyWindow::kSlotMs;
  const uint64_t first_slot = current_slot >= LatencyWindow::kSlots - 1 ? current_slot - (LatencyWindow::kSlots - 1) : 0;
  const uint64_t window_start = std::max(first_slot * LatencyWindow::kSlotMs, g_start_ms);
  return static_cast<double>(std::max<uint64_t>(now - std::min(now, window_start), 1)) / 1000.0;
}
}  // namespace

double statsWindowSeconds() { return windowSecondsAt(monotonicMs()); }

std::vector<RouteStats> routeStats() {
  const uint64_t now = monotonicMs();
  std::map<std::string, RouteStats> stats;
  std::map<std::string, LatencyWindow::Totals> windows;
  for (ThreadCells* t = g_threads.load(std::memory_order_acquire); t; t = t->next) {
    for (Cell* c = t->head.load(std::memory_order_acquire); c; c = c->next) {
      if (c->kind == Kind::kRequests) {
        RouteStats& s = stats[c->label1];
        const uint64_t n = static_cast<CounterCell*>(c)->value.load(std::memory_order_relaxed);
        s.requests_total += n;
        if (statusOf(c->label2) >= 500) s.errors_total += n;
      } else if (c->kind == Kind::kRequestWindow) {
        static_cast<WindowCell*>(c)->window.addTo(&windows[c->label1], now);
      }
    }
  }
  const double window_seconds = windowSecondsAt(now);
  std::vector<RouteStats> out;
  for (auto& [route, s] : stats) {
    s.route = route;
    s.window_seconds = window_seconds;
    auto w = windows.find(route);
    if (w != windows.end()) {
      s.window_requests = w->second.requests;
      s.window_errors = w->second.errors;
      s.p50_seconds = w->second.quantile(0.50);
      s.p95_seconds = w->second.quantile(0.95);
      s.p99_seconds = w->second.quantile(0.99);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace isogate::metrics
