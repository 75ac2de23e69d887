// kv/ micro-benchmarks: Store get and put (group commit, sync on and off,
// many puts in flight) and RateCounters hit / hitBatch, on 1 and 2 threads.
// Each store lives in a fresh directory under $TMPDIR (default /tmp),
// removed at exit.
#include <benchmark/benchmark.h>
#include <ftw.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "kv/rate_counters.h"
#include "kv/store.h"

namespace {

using namespace isogate::kv;

constexpr int kKeys = 100000;
constexpr size_t kValueBytes = 100;
constexpr int kInFlight = 1024;  // per benchmark thread
constexpr uint64_t kNowMs = 1'700'000'040'000;

struct Fixture {
  std::string dir;
  std::shared_ptr<Store> stores[2];  // [0]: sync = false, [1]: sync = true
  const Namespace* namespaces[2] = {};
  std::shared_ptr<RateCounters> counters;
};
Fixture* g_fixture = nullptr;

std::string keyFor(uint64_t i) { return "key-" + std::to_string(i % kKeys); }

bool setUp(Fixture* f) {
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/kv-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return false;
  f->dir = tmpl;
  for (int sync = 0; sync < 2; ++sync) {
    StoreOptions options;
    options.path = f->dir + (sync ? "/kv-sync" : "/kv-nosync");
    options.sync = sync != 0;
    options.sweep_interval = std::chrono::seconds(0);
    Status status = Store::open(options, &f->stores[sync]);
    if (!status.isOk() || !f->stores[sync]->openNamespace("bench", &f->namespaces[sync]).isOk()) {
      fprintf(stderr, "open: %s\n", status.message().c_str());
      return false;
    }
  }
  // Preload the keys that BM_Get reads (one big group commit).
  std::mutex mu;
  std::condition_variable cv;
  int left = kKeys;
  for (int i = 0; i < kKeys; ++i) {
    f->stores[0]->put(*f->namespaces[0], keyFor(i), std::string(kValueBytes, 'v'), {}, [&](Status) {
      std::lock_guard<std::mutex> lock(mu);
      if (--left == 0) cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  RateCountersOptions counters;
  counters.path = f->dir + "/counters";
  counters.sweep_interval = std::chrono::seconds(0);
  return RateCounters::open(counters, &f->counters).isOk();
}

void tearDown(Fixture* f) {
  f->stores[0].reset();
  f->stores[1].reset();
  f->counters.reset();
  nftw(
      f->dir.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return remove(p); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

void BM_Get(benchmark::State& state) {
  Store& store = *g_fixture->stores[0];
  const Namespace& ns = *g_fixture->namespaces[0];
  std::mt19937_64 rng(state.thread_index());
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i) keys.push_back(keyFor(rng()));
  Entry entry;
  size_t i = 0;
  for (auto _ : state) {
    Status status = store.get(ns, keys[i++ & 4095], 0, &entry);
    if (!status.isOk()) state.SkipWithError(status.message().c_str());
    benchmark::DoNotOptimize(entry.value.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Get)->Threads(1)->Threads(2)->UseRealTime();

// Puts with up to kInFlight per thread outstanding; the writer group-commits.
void BM_Put(benchmark::State& state) {
  int sync = int(state.range(0));
  Store& store = *g_fixture->stores[sync];
  const Namespace& ns = *g_fixture->namespaces[sync];
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  std::atomic<int> failures{0};
  auto done = [&](Status result) {
    if (!result.isOk()) ++failures;
    std::lock_guard<std::mutex> lock(mu);
    if (--in_flight == kInFlight / 2 || in_flight == 0) cv.notify_one();
  };
  std::mt19937_64 rng(state.thread_index() + 100);
  const std::string value(kValueBytes, 'p');
  for (auto _ : state) {
    {
      std::unique_lock<std::mutex> lock(mu);
      if (in_flight >= kInFlight) cv.wait(lock, [&] { return in_flight <= kInFlight / 2; });
      ++in_flight;
    }
    if (!store.put(ns, keyFor(rng()), value, {}, done).isOk()) {
      done(Status(Status::Code::kInternal, "put refused"));
    }
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  if (failures.load() != 0) state.SkipWithError("put failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Put)->ArgName("sync")->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterHit(benchmark::State& state) {
  RateCounters& counters = *g_fixture->counters;
  RateRule rule{1000000, 60, RateAlgorithm::kSliding};
  std::mt19937_64 rng(state.thread_index() + 200);
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i) keys.push_back("client-" + std::to_string(rng() % 10000));
  size_t i = 0;
  RateDecision decision;
  for (auto _ : state) {
    Status status = counters.hit(keys[i++ & 4095], rule, kNowMs, &decision);
    if (!status.isOk()) state.SkipWithError(status.message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterHit)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterHitBatch(benchmark::State& state) {
  RateCounters& counters = *g_fixture->counters;
  const size_t batch = size_t(state.range(0));
  RateRule rule{1000000, 60, RateAlgorithm::kSliding};
  std::mt19937_64 rng(state.thread_index() + 300);
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i) keys.push_back("client-" + std::to_string(rng() % 10000));
  std::vector<HitRequest> requests(batch);
  std::vector<RateDecision> decisions;
  size_t i = 0;
  for (auto _ : state) {
    for (HitRequest& request : requests) request = {keys[i++ & 4095], rule};
    Status status = counters.hitBatch(requests, kNowMs, &decisions);
    if (!status.isOk()) state.SkipWithError(status.message().c_str());
  }
  state.SetItemsProcessed(int64_t(state.iterations() * batch));
}
BENCHMARK(BM_CounterHitBatch)->ArgName("batch")->Arg(64)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Fixture fixture;
  g_fixture = &fixture;
  if (!setUp(&fixture)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  tearDown(&fixture);
  return 0;
}
