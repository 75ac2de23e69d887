// Several processes on one path, and kill -9 durability. Children fork from
// the test process, open their own Store (the parent never opens that path
// before the fork: LMDB handles must not cross fork()), and _exit().
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "kv/rate_counters.h"
#include "kv/store.h"
#include "tests/kv/kv_test_util.h"

namespace isogate::kv {
namespace {

using testing::TempDir;

constexpr uint64_t kT0 = 1'700'000'040'000;

std::shared_ptr<Store> openStore(const std::string& path, bool sync) {
  StoreOptions options;
  options.path = path;
  options.sync = sync;
  options.map_size_mb = 1;  // tiny: the processes grow the map and adopt each other's growth
  options.sweep_interval = std::chrono::seconds(0);
  std::shared_ptr<Store> store;
  if (!Store::open(options, &store).isOk()) return nullptr;
  return store;
}

std::string valueFor(const std::string& key) { return "value:" + key + std::string(500, '.'); }

// Child: `count` async puts, waits for all of them; exit code 0 if all ok.
int putMany(const std::string& path, int child, int count) {
  std::shared_ptr<Store> store = openStore(path, false);
  const Namespace* ns;
  if (!store || !store->openNamespace("main", &ns).isOk()) return 2;
  std::mutex mu;
  std::condition_variable cv;
  int left = count, failures = 0;
  for (int i = 0; i < count; ++i) {
    std::string key = "c" + std::to_string(child) + "-" + std::to_string(i);
    std::string value = valueFor(key);
    Status status = store->put(*ns, std::move(key), std::move(value), {}, [&](Status result) {
      std::lock_guard<std::mutex> lock(mu);
      if (!result.isOk()) ++failures;
      if (--left == 0) cv.notify_one();
    });
    if (!status.isOk()) return 3;
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  return failures == 0 ? 0 : 1;
}

void waitForChild(pid_t pid) {
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(MultiProcessTest, TwoProcessesWriteTheSameStoreAtOnce) {
  TempDir dir;
  constexpr int kPuts = 3000;
  pid_t children[2];
  for (int c = 0; c < 2; ++c) {
    children[c] = fork();
    ASSERT_GE(children[c], 0);
    if (children[c] == 0) _exit(putMany(dir.path(), c, kPuts));
  }
  for (pid_t pid : children) waitForChild(pid);

  std::shared_ptr<Store> store = openStore(dir.path(), false);
  ASSERT_TRUE(store);
  const Namespace* ns;
  ASSERT_TRUE(store->openNamespace("main", &ns).isOk());
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < kPuts; ++i) {
      std::string key = "c" + std::to_string(c) + "-" + std::to_string(i);
      Entry entry;
      ASSERT_TRUE(store->get(*ns, key, 0, &entry).isOk()) << key;
      ASSERT_EQ(entry.value, valueFor(key));
    }
  }
  ListOptions options;
  size_t listed = 0;
  for (;;) {
    ListResult result;
    ASSERT_TRUE(store->list(*ns, options, 0, &result).isOk());
    listed += result.keys.size();
    if (result.list_complete) break;
    options.cursor = result.cursor;
  }
  EXPECT_EQ(listed, 2u * kPuts);
}

TEST(MultiProcessTest, CountersAreExactAcrossProcessesAndThreads) {
  TempDir dir;
  constexpr uint64_t kLimit = 500;
  constexpr int kHitsPerThread = 400;
  RateRule rule{kLimit, 3600, RateAlgorithm::kFixed};
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t children[2];
  for (int c = 0; c < 2; ++c) {
    children[c] = fork();
    ASSERT_GE(children[c], 0);
    if (children[c] == 0) {
      close(fds[0]);
      RateCountersOptions options;
      options.path = dir.path() + "/counters";
      std::shared_ptr<RateCounters> counters;
      if (!RateCounters::open(options, &counters).isOk()) _exit(2);
      std::atomic<uint32_t> successes{0};
      std::atomic<bool> failed{false};
      std::thread threads[2];
      for (auto& thread : threads) {
        thread = std::thread([&] {
          for (int i = 0; i < kHitsPerThread; ++i) {
            RateDecision decision;
            if (!counters->hit("one-key", rule, kT0, &decision).isOk()) failed = true;
            if (decision.success) ++successes;
          }
        });
      }
      for (auto& thread : threads) thread.join();
      uint32_t count = successes.load();
      if (write(fds[1], &count, sizeof count) != sizeof count) _exit(3);
      _exit(failed ? 1 : 0);
    }
  }
  close(fds[1]);
  uint32_t total = 0;
  for (int c = 0; c < 2; ++c) {
    uint32_t count = 0;
    ASSERT_EQ(read(fds[0], &count, sizeof count), ssize_t(sizeof count));
    total += count;
  }
  close(fds[0]);
  for (pid_t pid : children) waitForChild(pid);
  EXPECT_EQ(total, kLimit);
}

// Child: puts keys with up to 64 in flight and writes each key to `fd`
// from its callback, i.e. once acknowledged. Runs until killed.
[[noreturn]] void putUntilKilled(const std::string& path, bool sync, int fd) {
  std::shared_ptr<Store> store = openStore(path, sync);
  const Namespace* ns;
  if (!store || !store->openNamespace("main", &ns).isOk()) _exit(2);
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  for (uint64_t i = 0;; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < 64; });
      ++in_flight;
    }
    std::string key = "k" + std::to_string(i);
    std::string line = key + "\n";
    Status status = store->put(*ns, key, valueFor(key), {}, [&, line](Status result) {
      if (result.isOk() && write(fd, line.data(), line.size()) != ssize_t(line.size())) _exit(4);
      std::lock_guard<std::mutex> lock(mu);
      --in_flight;
      cv.notify_one();
    });
    if (!status.isOk()) _exit(3);
  }
}

void killMidBurstAndCheck(bool sync, size_t acknowledged_before_kill) {
  TempDir dir;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    putUntilKilled(dir.path(), sync, fds[1]);
  }
  close(fds[1]);
  std::string acked;
  char buffer[4096];
  size_t lines = 0;
  while (lines < acknowledged_before_kill) {
    ssize_t n = read(fds[0], buffer, sizeof buffer);
    ASSERT_GT(n, 0) << "child stopped early";
    acked.append(buffer, size_t(n));
    lines += size_t(std::count(buffer, buffer + n, '\n'));
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) acked.append(buffer, size_t(n));
  close(fds[0]);

  std::shared_ptr<Store> store = openStore(dir.path(), sync);
  ASSERT_TRUE(store);
  const Namespace* ns;
  ASSERT_TRUE(store->openNamespace("main", &ns).isOk());
  std::istringstream keys(acked);
  size_t checked = 0;
  for (std::string key; std::getline(keys, key);) {
    Entry entry;
    ASSERT_TRUE(store->get(*ns, key, 0, &entry).isOk()) << "acknowledged key lost: " << key;
    ASSERT_EQ(entry.value, valueFor(key));
    ++checked;
  }
  EXPECT_GE(checked, acknowledged_before_kill);
}

TEST(DurabilityTest, KillNineLosesNothingAcknowledged) { killMidBurstAndCheck(false, 5000); }

TEST(DurabilityTest, KillNineLosesNothingAcknowledgedInSyncMode) { killMidBurstAndCheck(true, 300); }

}  // namespace
}  // namespace isogate::kv
