// CacheWait: a waiter on one uv loop woken by a fill's leader on another
// thread, timing out, and going away before the wake-up.

#include "runtime/cache_wait.h"

#include <gtest/gtest.h>

#include <thread>

namespace isogate {
namespace {

class CacheWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    mailbox_ = LoopMailbox::create(&loop_);
  }
  void TearDown() override {
    mailbox_->close();
    mailbox_.reset();
    // Let every handle close, then check the loop ends cleanly.
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  // Runs the loop until `done` or for `max_ms` (about).
  void runUntil(const bool& done, int max_ms = 2000) {
    for (int i = 0; i < max_ms && !done; ++i) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  uv_loop_t loop_;
  std::shared_ptr<LoopMailbox> mailbox_;
  cache::Store store_{cache::StoreOptions{}};
};

TEST_F(CacheWaitTest, LeaderOnAnotherThreadWakesTheWaiter) {
  cache::Join lead = store_.join("k");
  cache::Join wait = store_.join("k");
  ASSERT_TRUE(lead.leader);
  ASSERT_TRUE(wait.wait);
  bool done = false;
  std::optional<CacheWait::Result> got;
  std::thread::id ran_on;
  auto w = std::make_unique<CacheWait>(&loop_, mailbox_, wait.wait, 2000, [&](CacheWait::Result r) {
    got = r;
    done = true;
    ran_on = std::this_thread::get_id();
  });
  std::thread leader([&] { lead.leader.finish(cache::FillOutcome::kStored); });
  leader.join();
  EXPECT_FALSE(done);  // never inline on the leader's thread
  runUntil(done);
  EXPECT_EQ(got, CacheWait::Result::kStored);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(CacheWaitTest, TimesOutAndDeregisters) {
  cache::Join lead = store_.join("k");
  cache::Join wait = store_.join("k");
  bool done = false;
  std::optional<CacheWait::Result> got;
  auto w = std::make_unique<CacheWait>(&loop_, mailbox_, wait.wait, 20, [&](CacheWait::Result r) {
    got = r;
    done = true;
  });
  runUntil(done);
  EXPECT_EQ(got, CacheWait::Result::kTimedOut);
  EXPECT_EQ(wait.wait->waiterCount(), 0u);
  lead.leader.finish(cache::FillOutcome::kStored);  // nobody left to wake
  w.reset();
}

TEST_F(CacheWaitTest, DestroyedWaiterIsNeverCalled) {
  cache::Join lead = store_.join("k");
  cache::Join wait = store_.join("k");
  bool called = false;
  auto w = std::make_unique<CacheWait>(&loop_, mailbox_, wait.wait, 2000, [&](CacheWait::Result) { called = true; });
  lead.leader.finish(cache::FillOutcome::kNotStored);  // posts the wake-up...
  w.reset();                                           // ...then the client goes away
  bool never = false;
  runUntil(never, 50);  // runs the posted task: it must find nothing
  EXPECT_FALSE(called);
}

TEST_F(CacheWaitTest, AlreadyFinishedFillAnswersOnTheNextTurn) {
  cache::Join lead = store_.join("k");
  cache::Join wait = store_.join("k");
  lead.leader.finish(cache::FillOutcome::kNotStored);
  bool done = false;
  std::optional<CacheWait::Result> got;
  auto w = std::make_unique<CacheWait>(&loop_, mailbox_, wait.wait, 2000, [&](CacheWait::Result r) {
    got = r;
    done = true;
  });
  EXPECT_FALSE(done);
  runUntil(done);
  EXPECT_EQ(got, CacheWait::Result::kNotStored);
}

TEST(CacheWaitMsTest, BoundedByTheOriginTimeoutAndFiveSeconds) {
  EXPECT_EQ(cacheWaitMs(10000), 5000u);
  EXPECT_EQ(cacheWaitMs(300), 300u);
}

}  // namespace
}  // namespace isogate
