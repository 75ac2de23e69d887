// runtime/metrics micro-benchmarks: what one request costs to record (the
// calls a script request makes: recordRequest + recordScriptCpu, and
// recordApiKey), on 1 and 2 threads (each thread has its own cells, so two
// threads should cost the same per call), and a scrape of 20 routes.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "runtime/metrics.h"

namespace {

using namespace isogate::metrics;

void BM_RecordScriptRequest(benchmark::State& state) {
  const std::string route = "route-" + std::to_string(state.thread_index());
  double seconds = 0.0003;
  for (auto _ : state) {
    recordRequest(route, 200, seconds);
    recordScriptCpu(route, 0.00005);
    seconds += 1e-9;  // not a constant the compiler could fold
  }
}
BENCHMARK(BM_RecordScriptRequest)->Threads(1)->Threads(2)->UseRealTime();

void BM_RecordApiKey(benchmark::State& state) {
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("customer-" + std::to_string(i));
  size_t i = 0;
  for (auto _ : state) recordApiKey("keyed", keys[i++ % keys.size()]);
}
BENCHMARK(BM_RecordApiKey)->Threads(1)->Threads(2)->UseRealTime();

void BM_Scrape20Routes(benchmark::State& state) {
  for (int r = 0; r < 20; ++r) {
    for (int status : {200, 404, 500}) recordRequest("scrape-" + std::to_string(r), status, 0.001);
  }
  size_t bytes = 0;
  for (auto _ : state) bytes = prometheusText().size();
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape20Routes);

}  // namespace

BENCHMARK_MAIN();
