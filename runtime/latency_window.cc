#include "runtime/latency_window.h"

#include <cmath>
#include <cstring>

namespace isogate {

namespace {

// Single writer: a load and a store are enough, and cheaper than an atomic
// read-modify-write.
template <typename T>
void bump(std::atomic<T>& cell) {
  cell.store(cell.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace

int LatencyWindow::bucketOf(double seconds) {
  const double micros = seconds * 1e6;
  if (!(micros >= 1.0)) return 0;  // also NaN and negatives
  // The exponent and the top three mantissa bits of the double: the power
  // of two and the eighth within it, without a log().
  uint64_t bits;
  std::memcpy(&bits, &micros, sizeof bits);
  const int octave = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  const int sub = static_cast<int>((bits >> 49) & 7);
  if (octave >= kOctaves) return kBuckets - 1;
  return 1 + octave * kSubBuckets + sub;
}

double LatencyWindow::bucketLower(int bucket) {
  if (bucket <= 0) return 0;
  const int octave = (bucket - 1) / kSubBuckets;
  const int sub = (bucket - 1) % kSubBuckets;
  return std::ldexp(1.0 + sub / static_cast<double>(kSubBuckets), octave) / 1e6;
}

double LatencyWindow::bucketUpper(int bucket) {
  if (bucket <= 0) return 1e-6;
  const int octave = (bucket - 1) / kSubBuckets;
  const int sub = (bucket - 1) % kSubBuckets;
  return std::ldexp(1.0 + (sub + 1) / static_cast<double>(kSubBuckets), octave) / 1e6;
}

void LatencyWindow::record(uint64_t now_ms, double seconds, bool error) {
  const uint64_t epoch = now_ms / kSlotMs + 1;
  Slot& slot = slots_[epoch % kSlots];
  if (slot.epoch.load(std::memory_order_relaxed) != epoch) {
    // Reuse the slot: readers that see epoch 0, or a different epoch after
    // reading, ignore what they read.
    slot.epoch.store(0, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    slot.requests.store(0, std::memory_order_relaxed);
    slot.errors.store(0, std::memory_order_relaxed);
    for (auto& b : slot.buckets) b.store(0, std::memory_order_relaxed);
    slot.epoch.store(epoch, std::memory_order_release);
  }
  bump(slot.requests);
  if (error) bump(slot.errors);
  bump(slot.buckets[static_cast<size_t>(bucketOf(seconds))]);
}

void LatencyWindow::addTo(Totals* totals, uint64_t now_ms) const {
  const uint64_t current = now_ms / kSlotMs + 1;
  for (const Slot& slot : slots_) {
    const uint64_t epoch = slot.epoch.load(std::memory_order_acquire);
    if (epoch == 0 || epoch > current || current - epoch >= kSlots) continue;
    Totals part;
    part.requests = slot.requests.load(std::memory_order_relaxed);
    part.errors = slot.errors.load(std::memory_order_relaxed);
    for (int i = 0; i < kBuckets; ++i) {
      part.buckets[static_cast<size_t>(i)] = slot.buckets[static_cast<size_t>(i)].load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.epoch.load(std::memory_order_relaxed) != epoch) continue;  // reused while reading
    totals->requests += part.requests;
    totals->errors += part.errors;
    for (int i = 0; i < kBuckets; ++i) totals->buckets[static_cast<size_t>(i)] += part.buckets[static_cast<size_t>(i)];
  }
}

double LatencyWindow::Totals::quantile(double q) const {
  uint64_t count = 0;
  for (uint64_t b : buckets) count += b;
  if (count == 0) return 0;
  // The rank of the q-quantile, 1-based (nearest-rank method).
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count)));
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets[static_cast<size_t>(i)];
    if (seen >= rank) return (bucketLower(i) + bucketUpper(i)) / 2;
  }
  return bucketUpper(kBuckets - 1);
}

}  // namespace isogate
