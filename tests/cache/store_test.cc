#include "cache/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace isogate::cache {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::shared_ptr<const CachedResponse> makeEntry(Store& store, const std::string& url, const std::string& body,
                                                const Fields& response = {}, const Fields& request = {},
                                                int64_t ttl_s = 60, int64_t now = kNow) {
  RequestFacts facts = requestFacts("GET", request);
  StoreDecision d = decideStore(facts, 200, response, ttl_s, now);
  EXPECT_TRUE(d.store) << d.detail;
  EntryBuilder b("", url, 200, "", response, d, varyValues(d.vary_names, fieldReader(request)), store.maxEntryBytes(),
                 now, body.size());
  b.append(body.data(), body.size());
  return b.finish();
}

Store smallStore(size_t max_bytes, size_t max_entry = 0) {
  StoreOptions o;
  o.max_bytes = max_bytes;
  o.max_entry_bytes = max_entry;
  return Store(o);
}

TEST(StoreTest, InsertAndHit) {
  Store store(StoreOptions{});
  auto e = makeEntry(store, "http://a/x", "hello", {{"Content-Type", "text/plain"}, {"Connection", "close"}});
  ASSERT_TRUE(store.insert(e, kNow));
  Lookup l = store.lookup(e->key, Fields{}, kNow + 1000);
  ASSERT_EQ(l.result, LookupResult::kHit);
  EXPECT_EQ(l.entry->body, "hello");
  EXPECT_EQ(l.entry.get(), e.get());  // shared, not copied
  // Hop-by-hop fields are not stored.
  EXPECT_EQ(l.entry->headers.size(), 1u);
  EXPECT_EQ(store.lookup(makeKey("", "http://a/y"), Fields{}, kNow).result, LookupResult::kUriMiss);
  EXPECT_EQ(store.stats().entries, 1u);
}

TEST(StoreTest, ExpiredEntriesAreInvisibleAtOnce) {
  Store store(StoreOptions{});
  auto e = makeEntry(store, "http://a/x", "v", {}, {}, 2);
  store.insert(e, kNow);
  EXPECT_EQ(store.lookup(e->key, Fields{}, kNow + 1999).result, LookupResult::kHit);
  EXPECT_EQ(store.lookup(e->key, Fields{}, kNow + 2000).result, LookupResult::kStale);
  // Dropped: the next look-up is a plain miss and the bytes are returned.
  EXPECT_EQ(store.lookup(e->key, Fields{}, kNow + 2000).result, LookupResult::kUriMiss);
  EXPECT_EQ(store.stats().bytes, 0u);
}

TEST(StoreTest, AgeAndTtl) {
  Store store(StoreOptions{});
  auto e = makeEntry(store, "http://a/x", "v", {{"Age", "5"}}, {}, 60);
  EXPECT_EQ(e->ageSeconds(kNow), 5);
  EXPECT_EQ(e->ageSeconds(kNow + 3500), 8);
  EXPECT_EQ(e->ttlSeconds(kNow + 3500), 56);
}

TEST(StoreTest, VaryGzipAndIdentityAreNeverMixed) {
  Store store(StoreOptions{});
  Fields vary{{"Vary", "Accept-Encoding"}};
  Fields gzip_req{{"Accept-Encoding", "gzip"}};
  Fields plain_req{};
  auto gz = makeEntry(store, "http://a/x", "GZIPBYTES", {{"Vary", "Accept-Encoding"}, {"Content-Encoding", "gzip"}},
                      gzip_req);
  store.insert(gz, kNow);
  EXPECT_EQ(store.lookup(gz->key, plain_req, kNow).result, LookupResult::kVaryMiss);
  EXPECT_EQ(store.lookup(gz->key, Fields{{"Accept-Encoding", "identity"}}, kNow).result, LookupResult::kVaryMiss);
  auto plain = makeEntry(store, "http://a/x", "plain", vary, plain_req);
  store.insert(plain, kNow);
  EXPECT_EQ(store.lookup(gz->key, gzip_req, kNow).entry->body, "GZIPBYTES");
  EXPECT_EQ(store.lookup(gz->key, Fields{{"accept-encoding", " gzip "}}, kNow).entry->body, "GZIPBYTES");
  EXPECT_EQ(store.lookup(gz->key, plain_req, kNow).entry->body, "plain");
  EXPECT_EQ(store.stats().entries, 2u);
  // Same Vary values replace the variant.
  store.insert(makeEntry(store, "http://a/x", "plain2", vary, plain_req), kNow);
  EXPECT_EQ(store.lookup(gz->key, plain_req, kNow).entry->body, "plain2");
  EXPECT_EQ(store.stats().entries, 2u);
}

TEST(StoreTest, GzipWithoutVaryStillKeyedOnAcceptEncoding) {
  Store store(StoreOptions{});
  auto gz = makeEntry(store, "http://a/x", "GZ", {{"Content-Encoding", "gzip"}}, {{"Accept-Encoding", "gzip"}});
  store.insert(gz, kNow);
  EXPECT_EQ(store.lookup(gz->key, Fields{}, kNow).result, LookupResult::kVaryMiss);
}

TEST(StoreTest, LruByteBound) {
  const size_t max = 64 * 1024;
  Store store = smallStore(max);
  std::string body(2000, 'x');
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    auto e = makeEntry(store, "http://a/" + std::to_string(i), body);
    keys.push_back(e->key);
    store.insert(e, kNow + i);
    ASSERT_LE(store.stats().bytes, max);
    if (i == 5) {
      // Touch entry 0 so it survives as recently used.
      EXPECT_EQ(store.lookup(keys[0], Fields{}, kNow + 100).result, LookupResult::kHit);
    }
  }
  StoreStats s = store.stats();
  EXPECT_GT(s.evictions, 150u);
  EXPECT_GT(s.bytes, max / 2);
  EXPECT_EQ(store.lookup(keys[199], Fields{}, kNow + 300).result, LookupResult::kHit);
  EXPECT_EQ(store.lookup(keys[1], Fields{}, kNow + 300).result, LookupResult::kUriMiss);
}

TEST(StoreTest, ChargeCountsBodyAndFields) {
  Store store(StoreOptions{});
  auto e = makeEntry(store, "http://a/x", std::string(10000, 'b'), {{"X-Long", std::string(3000, 'h')}});
  EXPECT_GE(e->charge, 13000u);
  EXPECT_LT(e->charge, 15000u);
}

TEST(StoreTest, PerEntryCap) {
  Store store = smallStore(80000);  // cap 10000
  EXPECT_EQ(store.maxEntryBytes(), 10000u);
  RequestFacts facts = requestFacts("GET", Fields{});
  StoreDecision d = decideStore(facts, 200, Fields{}, 60, kNow);
  EntryBuilder known("", "http://a/big", 200, "", {}, d, {}, store.maxEntryBytes(), kNow, 20000);
  EXPECT_TRUE(known.overflowed());
  EntryBuilder streamed("", "http://a/big", 200, "", {}, d, {}, store.maxEntryBytes(), kNow);
  std::string chunk(4000, 'c');
  EXPECT_TRUE(streamed.append(chunk.data(), chunk.size()));
  EXPECT_TRUE(streamed.append(chunk.data(), chunk.size()));
  EXPECT_FALSE(streamed.append(chunk.data(), chunk.size()));
  EXPECT_TRUE(streamed.overflowed());
  EXPECT_EQ(streamed.finish(), nullptr);
}

TEST(StoreTest, StripsQualifiedPrivateFields) {
  Store store(StoreOptions{});
  auto e = makeEntry(store, "http://a/x", "v",
                     {{"Set-Cookie", "s=1"}, {"Cache-Control", "private=\"Set-Cookie\", max-age=60"}}, {}, 0 + 60);
  for (const Field& f : e->headers) EXPECT_FALSE(equalsIgnoreCase(f.name, "set-cookie"));
}

TEST(StoreTest, PurgeAndErase) {
  Store store(StoreOptions{});
  store.insert(makeEntry(store, "http://h/api/1", "1"), kNow);
  store.insert(makeEntry(store, "http://h/api/2", "2"), kNow);
  store.insert(makeEntry(store, "http://h/other", "3"), kNow);
  EXPECT_EQ(store.purgePrefix("http://h/api/"), 2u);
  EXPECT_EQ(store.stats().entries, 1u);
  EXPECT_EQ(store.erase(makeKey("", "http://h/other"), Fields{}), 1u);
  EXPECT_EQ(store.stats().entries, 0u);
  EXPECT_EQ(store.stats().bytes, 0u);
  store.insert(makeEntry(store, "http://h/x", "v"), kNow);
  EXPECT_EQ(store.eraseKey(makeKey("", "http://h/x")), 1u);
  EXPECT_EQ(store.purgePrefix(""), 0u);
}

TEST(CoalescingTest, FirstLeadsOthersWait) {
  Store store(StoreOptions{});
  std::string key = makeKey("", "http://a/x");
  Join first = store.join(key);
  ASSERT_TRUE(first.leader);
  Join second = store.join(key);
  ASSERT_FALSE(second.leader);
  ASSERT_TRUE(second.wait);
  std::vector<FillOutcome> woken;
  uint64_t id = 0;
  ASSERT_TRUE(second.wait->addWaiter([&](FillOutcome o) { woken.push_back(o); }, &id));
  uint64_t gone = 0;
  ASSERT_TRUE(second.wait->addWaiter([&](FillOutcome) { ADD_FAILURE() << "removed waiter woken"; }, &gone));
  second.wait->removeWaiter(gone);
  EXPECT_EQ(store.stats().fills_in_flight, 1u);
  store.insert(makeEntry(store, "http://a/x", "v"), kNow);
  first.leader.finish(FillOutcome::kStored);
  EXPECT_EQ(woken, std::vector<FillOutcome>{FillOutcome::kStored});
  EXPECT_EQ(store.stats().fills_in_flight, 0u);
  // A waiter arriving after the end reads the outcome instead.
  EXPECT_FALSE(second.wait->addWaiter([](FillOutcome) {}, &id));
  EXPECT_EQ(second.wait->outcome(), FillOutcome::kStored);
  // The next miss leads a new fill.
  EXPECT_TRUE(store.join(key).leader);
}

TEST(CoalescingTest, DroppedLeaderWakesWaitersWithNotStored) {
  Store store(StoreOptions{});
  std::string key = makeKey("", "http://a/x");
  std::optional<FillOutcome> got;
  {
    Join lead = store.join(key);
    Join wait = store.join(key);
    uint64_t id;
    wait.wait->addWaiter([&](FillOutcome o) { got = o; }, &id);
  }
  EXPECT_EQ(got, FillOutcome::kNotStored);
  EXPECT_EQ(store.stats().fills_in_flight, 0u);
}

TEST(CoalescingTest, ManyThreadsOneLeader) {
  Store store(StoreOptions{});
  std::string key = makeKey("", "http://a/x");
  std::atomic<int> leaders{0}, woken{0};
  std::vector<FillLeader> leads;
  std::mutex leads_mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        Join join = store.join(key);
        if (join.leader) {
          leaders++;
          std::lock_guard<std::mutex> lock(leads_mutex);
          leads.push_back(std::move(join.leader));
        } else {
          uint64_t id;
          if (join.wait->addWaiter([&](FillOutcome) { woken++; }, &id)) continue;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(leaders.load(), 1);
  for (auto& l : leads) l.finish(FillOutcome::kStored);
  EXPECT_EQ(woken.load(), 16 * 10 - 1);
}

TEST(StoreTest, ConcurrentHitsAndInserts) {
  Store store = smallStore(1 << 20);
  std::vector<std::thread> threads;
  std::atomic<int> hits{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string url = "http://a/" + std::to_string((i * 7 + t) % 300);
        std::string key = makeKey("", url);
        Lookup l = store.lookup(key, Fields{}, kNow);
        if (l.result == LookupResult::kHit) {
          hits++;
          EXPECT_EQ(l.entry->url, url);
        } else {
          store.insert(makeEntry(store, url, std::string(5000, 'z')), kNow + i);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(hits.load(), 0);
  EXPECT_LE(store.stats().bytes, size_t{1} << 20);
}

}  // namespace
}  // namespace isogate::cache
