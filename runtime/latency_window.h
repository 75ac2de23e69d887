#pragma once
// Request counts, 5xx counts and a latency distribution over the last
// minute, for /admin/stats. A ring of 12 five-second slots; each slot holds
// log-linear latency buckets (8 per power of two, from 1 µs to about two
// minutes), so a percentile is within about 6 % of the true value.
//
// Threads: one thread records (the owner of the per-thread metric cells);
// any thread may read with addTo() at the same time. A slot being reused is
// guarded by a sequence number (a seqlock), so a reader skips a slot that is
// being cleared rather than see it half-cleared. Readers see counts that
// may lag by the increments in flight, which is fine for statistics.

#include <array>
#include <atomic>
#include <cstdint>

namespace isogate {

class LatencyWindow {
 public:
  static constexpr int kSlots = 12;
  static constexpr uint64_t kSlotMs = 5000;
  static constexpr uint64_t kWindowMs = kSlots * kSlotMs;
  // Bucket 0: below 1 µs; then 8 buckets per power of two of microseconds.
  static constexpr int kSubBuckets = 8;
  static constexpr int kOctaves = 27;  // up to 2^27 µs ≈ 134 s; longer lands in the last bucket
  static constexpr int kBuckets = 1 + kOctaves * kSubBuckets;

  struct Totals {
    uint64_t requests = 0;
    uint64_t errors = 0;
    std::array<uint64_t, kBuckets> buckets{};
    // The latency (seconds) below which a fraction `q` of the requests fell:
    // the middle of the bucket holding that rank. 0 without requests.
    double quantile(double q) const;
  };

  // Owner thread. `now_ms` is a monotonic clock in milliseconds.
  void record(uint64_t now_ms, double seconds, bool error);

  // Any thread: adds the slots inside the window that ends at `now_ms`
  // (the current slot and the 11 before it, 55 to 60 s).
  void addTo(Totals* totals, uint64_t now_ms) const;

  // The bucket of a latency, and the bounds of a bucket (seconds).
  static int bucketOf(double seconds);
  static double bucketLower(int bucket);
  static double bucketUpper(int bucket);

 private:
  struct Slot {
    // Slot number (now_ms / kSlotMs + 1) of the data held; 0 while empty or
    // being cleared.
    std::atomic<uint64_t> epoch{0};
    std::atomic<uint32_t> requests{0};
    std::atomic<uint32_t> errors{0};
    std::array<std::atomic<uint32_t>, kBuckets> buckets{};
  };
  std::array<Slot, kSlots> slots_;
};

}  // namespace isogate
