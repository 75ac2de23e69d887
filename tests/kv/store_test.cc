#include "kv/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "kv/list_cursor.h"
#include "tests/kv/kv_test_util.h"

namespace isogate::kv {
namespace {

using testing::TempDir;
using Code = Status::Code;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(bool sync = false) {
    StoreOptions options;
    options.path = dir_.sub("kv");
    options.sync = sync;
    options.map_size_mb = 16;
    options.sweep_interval = std::chrono::seconds(0);
    Status status = Store::open(options, &store_);
    ASSERT_TRUE(status.isOk()) << status.message();
    ASSERT_TRUE(store_->openNamespace("main", &ns_).isOk());
  }

  // Waits for many async puts: the group-commit path.
  void putMany(const std::vector<std::string>& keys, const std::string& value = "v") {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = keys.size();
    size_t failures = 0;
    for (const std::string& key : keys) {
      Status status = store_->put(*ns_, key, value, {}, [&](Status result) {
        std::lock_guard<std::mutex> lock(mu);
        if (!result.isOk()) ++failures;
        if (--left == 0) cv.notify_one();
      });
      ASSERT_TRUE(status.isOk()) << status.message();
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return left == 0; });
    EXPECT_EQ(failures, 0u);
  }

  Status get(std::string_view key, uint64_t now = 0, Entry* out = nullptr) {
    Entry entry;
    return store_->get(*ns_, key, now, out != nullptr ? out : &entry);
  }

  TempDir dir_;
  std::shared_ptr<Store> store_;
  const Namespace* ns_ = nullptr;
};

TEST_F(StoreTest, PutGetDeleteRoundTrip) {
  PutOptions options;
  options.metadata = R"({"a":1})";
  options.expiration = 2'000'000'000;
  ASSERT_TRUE(store_->putSync(*ns_, "k", std::string("v\0al", 4), options).isOk());
  Entry entry;
  ASSERT_TRUE(get("k", 1'000, &entry).isOk());
  EXPECT_EQ(entry.value, std::string("v\0al", 4));
  EXPECT_EQ(entry.metadata, R"({"a":1})");
  EXPECT_EQ(entry.expiration, 2'000'000'000u);

  ASSERT_TRUE(store_->putSync(*ns_, "k", "second").isOk());
  ASSERT_TRUE(get("k", 1'000, &entry).isOk());
  EXPECT_EQ(entry.value, "second");
  EXPECT_FALSE(entry.metadata.has_value());
  EXPECT_FALSE(entry.expiration.has_value());

  ASSERT_TRUE(store_->removeSync(*ns_, "k").isOk());
  EXPECT_EQ(get("k").code(), Code::kNotFound);
  EXPECT_TRUE(store_->removeSync(*ns_, "k").isOk());  // absent: still ok
}

TEST_F(StoreTest, EmptyValueAndBinaryKeys) {
  std::string key("\0\xff\x01", 3);
  ASSERT_TRUE(store_->putSync(*ns_, key, "").isOk());
  Entry entry;
  entry.value = "stale";
  ASSERT_TRUE(get(key, 0, &entry).isOk());
  EXPECT_EQ(entry.value, "");
}

TEST_F(StoreTest, UnknownNamespaceAndNamespacesAreSeparate) {
  const Namespace* other;
  ASSERT_TRUE(store_->openNamespace("other", &other).isOk());
  Entry entry;
  EXPECT_EQ(store_->get(*other, "k", 0, &entry).code(), Code::kNotFound);
  ListResult list;
  ASSERT_TRUE(store_->list(*other, {}, 0, &list).isOk());
  EXPECT_TRUE(list.keys.empty());
  EXPECT_TRUE(list.list_complete);

  ASSERT_TRUE(store_->putSync(*ns_, "k", "main").isOk());
  ASSERT_TRUE(store_->putSync(*other, "k", "other").isOk());
  ASSERT_TRUE(store_->get(*other, "k", 0, &entry).isOk());
  EXPECT_EQ(entry.value, "other");
  ASSERT_TRUE(get("k", 0, &entry).isOk());
  EXPECT_EQ(entry.value, "main");

  EXPECT_EQ(store_->openNamespace("", &other).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->openNamespace(std::string(201, 'n'), &other).code(), Code::kInvalidArgument);
}

TEST_F(StoreTest, CallbackRunsAfterCommit) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status seen;
  ASSERT_TRUE(store_->put(*ns_, "k", "v", {}, [&](Status result) {
    Entry entry;
    Status read = result.isOk() ? store_->get(*ns_, "k", 0, &entry) : result;
    std::lock_guard<std::mutex> lock(mu);
    seen = read;
    done = true;
    cv.notify_one();
  }).isOk());
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_TRUE(seen.isOk()) << seen.message();
}

TEST_F(StoreTest, InvalidPutDoesNotCallBack) {
  bool called = false;
  Status status = store_->put(*ns_, "", "v", {}, [&](Status) { called = true; });
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  store_.reset();  // drains the writer
  EXPECT_FALSE(called);
}

TEST_F(StoreTest, ExpiredEntriesAreInvisibleAtOnce) {
  PutOptions options;
  options.expiration = 1'000;
  ASSERT_TRUE(store_->putSync(*ns_, "e", "v", options).isOk());
  ASSERT_TRUE(store_->putSync(*ns_, "live", "v").isOk());
  EXPECT_TRUE(get("e", 999).isOk());
  EXPECT_EQ(get("e", 1'000).code(), Code::kNotFound);

  ListResult list;
  ASSERT_TRUE(store_->list(*ns_, {}, 999, &list).isOk());
  ASSERT_EQ(list.keys.size(), 2u);
  EXPECT_EQ(list.keys[0].name, "e");
  EXPECT_EQ(list.keys[0].expiration, 1'000u);
  ASSERT_TRUE(store_->list(*ns_, {}, 1'000, &list).isOk());
  ASSERT_EQ(list.keys.size(), 1u);
  EXPECT_EQ(list.keys[0].name, "live");
}

TEST_F(StoreTest, SweepDeletesExpiredEntries) {
  PutOptions expiring;
  expiring.expiration = 100;
  std::string long_key(kMaxKeyBytes, 'L');
  for (const std::string& key : {std::string("a"), std::string("b"), long_key}) {
    ASSERT_TRUE(store_->putSync(*ns_, key, "v", expiring).isOk());
  }
  const Namespace* other;
  ASSERT_TRUE(store_->openNamespace("other", &other).isOk());
  ASSERT_TRUE(store_->putSync(*other, "c", "v", expiring).isOk());
  PutOptions later;
  later.expiration = 500;
  ASSERT_TRUE(store_->putSync(*ns_, "later", "v", later).isOk());
  ASSERT_TRUE(store_->putSync(*ns_, "forever", "v").isOk());

  size_t removed = 0;
  ASSERT_TRUE(store_->sweepExpired(200, &removed).isOk());
  EXPECT_EQ(removed, 4u);
  // Gone from the file: even a read "before" the expiration misses them.
  EXPECT_EQ(get("a", 0).code(), Code::kNotFound);
  EXPECT_EQ(get(long_key, 0).code(), Code::kNotFound);
  Entry entry;
  EXPECT_EQ(store_->get(*other, "c", 0, &entry).code(), Code::kNotFound);
  EXPECT_TRUE(get("later", 0).isOk());
  EXPECT_TRUE(get("forever", 0).isOk());
}

TEST_F(StoreTest, SweeperThreadPurgesPeriodically) {
  store_.reset();
  StoreOptions options;
  options.path = dir_.sub("kv");
  options.sync = false;
  options.sweep_interval = std::chrono::seconds(1);
  ASSERT_TRUE(Store::open(options, &store_).isOk());
  ASSERT_TRUE(store_->openNamespace("main", &ns_).isOk());
  PutOptions past;
  past.expiration = testing::unixSeconds() - 10;
  ASSERT_TRUE(store_->putSync(*ns_, "old", "v", past).isOk());
  EXPECT_TRUE(get("old", 0).isOk());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (get("old", 0).isOk() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(get("old", 0).code(), Code::kNotFound);
}

TEST_F(StoreTest, ListPagesThrough2500Keys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) keys.push_back("key-" + std::to_string(i * 7919 % 2500));
  putMany(keys);
  std::vector<std::string> listed;
  ListOptions options;
  std::vector<size_t> pages;
  for (int page = 0; page < 10; ++page) {
    ListResult result;
    ASSERT_TRUE(store_->list(*ns_, options, 0, &result).isOk());
    pages.push_back(result.keys.size());
    for (auto& key : result.keys) listed.push_back(key.name);
    if (result.list_complete) {
      EXPECT_TRUE(result.cursor.empty());
      break;
    }
    EXPECT_FALSE(result.cursor.empty());
    options.cursor = result.cursor;
  }
  EXPECT_EQ(pages, (std::vector<size_t>{1000, 1000, 500}));
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(listed, keys);  // sorted, complete, no duplicates
}

TEST_F(StoreTest, ListCursorResumesAfterDeletes) {
  std::vector<std::string> keys;
  for (char c = 'a'; c <= 'z'; ++c) keys.push_back(std::string(1, c));
  putMany(keys);
  ListOptions options;
  options.limit = 5;
  ListResult first;
  ASSERT_TRUE(store_->list(*ns_, options, 0, &first).isOk());
  ASSERT_EQ(first.keys.size(), 5u);
  EXPECT_EQ(first.keys.back().name, "e");
  EXPECT_FALSE(first.list_complete);
  // Delete the page's last key and the next one; the cursor still works.
  ASSERT_TRUE(store_->removeSync(*ns_, "e").isOk());
  ASSERT_TRUE(store_->removeSync(*ns_, "f").isOk());
  options.cursor = first.cursor;
  ListResult second;
  ASSERT_TRUE(store_->list(*ns_, options, 0, &second).isOk());
  ASSERT_EQ(second.keys.size(), 5u);
  EXPECT_EQ(second.keys[0].name, "g");
}

TEST_F(StoreTest, ListPrefixAndMetadata) {
  PutOptions with_metadata;
  with_metadata.metadata = R"({"v":2})";
  ASSERT_TRUE(store_->putSync(*ns_, "a/1", "v").isOk());
  ASSERT_TRUE(store_->putSync(*ns_, "a/2", "v", with_metadata).isOk());
  ASSERT_TRUE(store_->putSync(*ns_, "a", "v").isOk());
  ASSERT_TRUE(store_->putSync(*ns_, "ab", "v").isOk());
  ASSERT_TRUE(store_->putSync(*ns_, "b/1", "v").isOk());
  ListOptions options;
  options.prefix = "a/";
  ListResult result;
  ASSERT_TRUE(store_->list(*ns_, options, 0, &result).isOk());
  ASSERT_EQ(result.keys.size(), 2u);
  EXPECT_EQ(result.keys[0].name, "a/1");
  EXPECT_FALSE(result.keys[0].metadata.has_value());
  EXPECT_EQ(result.keys[1].name, "a/2");
  EXPECT_EQ(result.keys[1].metadata, R"({"v":2})");
  EXPECT_TRUE(result.list_complete);

  // Paging inside a prefix; a cursor from before the prefix is ignored.
  options.limit = 1;
  ASSERT_TRUE(store_->list(*ns_, options, 0, &result).isOk());
  ASSERT_EQ(result.keys.size(), 1u);
  options.cursor = result.cursor;
  ASSERT_TRUE(store_->list(*ns_, options, 0, &result).isOk());
  ASSERT_EQ(result.keys.size(), 1u);
  EXPECT_EQ(result.keys[0].name, "a/2");
  options.cursor = encodeListCursor("0");
  ASSERT_TRUE(store_->list(*ns_, options, 0, &result).isOk());
  EXPECT_EQ(result.keys[0].name, "a/1");

  options.prefix = "zzz";
  options.cursor.clear();
  ASSERT_TRUE(store_->list(*ns_, options, 0, &result).isOk());
  EXPECT_TRUE(result.keys.empty());
  EXPECT_TRUE(result.list_complete);
}

TEST_F(StoreTest, ListRejectsBadLimitAndCursor) {
  ListResult result;
  ListOptions options;
  options.limit = 0;
  EXPECT_EQ(store_->list(*ns_, options, 0, &result).code(), Code::kInvalidArgument);
  options.limit = 1001;
  EXPECT_EQ(store_->list(*ns_, options, 0, &result).code(), Code::kInvalidArgument);
  options.limit = 10;
  options.cursor = "not a cursor!";
  EXPECT_EQ(store_->list(*ns_, options, 0, &result).code(), Code::kInvalidArgument);
}

TEST_F(StoreTest, KeyLimits) {
  std::string max_key(kMaxKeyBytes, 'k');
  ASSERT_TRUE(store_->putSync(*ns_, max_key, "v").isOk());
  EXPECT_TRUE(get(max_key).isOk());
  Status too_long = store_->putSync(*ns_, max_key + "k", "v");
  EXPECT_EQ(too_long.code(), Code::kTooLarge);
  EXPECT_EQ(too_long.message(), "key is 513 bytes; the limit is 512");
  EXPECT_EQ(get(max_key + "k").code(), Code::kTooLarge);
  EXPECT_EQ(store_->putSync(*ns_, "", "v").code(), Code::kInvalidArgument);
  EXPECT_EQ(get("").code(), Code::kInvalidArgument);
  ASSERT_TRUE(store_->removeSync(*ns_, max_key).isOk());
  EXPECT_EQ(get(max_key).code(), Code::kNotFound);
}

TEST_F(StoreTest, ValueAndMetadataLimits) {
  std::string value(kMaxValueBytes, 'v');
  ASSERT_TRUE(store_->putSync(*ns_, "big", value).isOk());
  Entry entry;
  ASSERT_TRUE(get("big", 0, &entry).isOk());
  EXPECT_EQ(entry.value.size(), kMaxValueBytes);
  value.push_back('v');
  Status too_big = store_->putSync(*ns_, "bigger", value);
  EXPECT_EQ(too_big.code(), Code::kTooLarge);
  EXPECT_EQ(too_big.message(), "value is 26214401 bytes; the limit is 26214400");

  PutOptions options;
  options.metadata = "\"" + std::string(kMaxMetadataBytes - 2, 'm') + "\"";
  ASSERT_TRUE(store_->putSync(*ns_, "meta", "v", options).isOk());
  options.metadata->push_back(' ');
  EXPECT_EQ(store_->putSync(*ns_, "meta2", "v", options).code(), Code::kTooLarge);
}

// 512-byte keys exceed LMDB's 511-byte key limit (namespace_db.h): they
// must behave like any other key, including order and sharing a stem.
TEST_F(StoreTest, LongKeysKeepOrderAndIdentity) {
  std::string stem(kMaxKeyBytes - 1, 's');
  std::vector<std::string> keys = {stem, stem + "a", stem + "b", stem + std::string(1, '\0'), stem + "\xff",
                                   std::string(kMaxKeyBytes - 1, 'r'), "t", std::string(kMaxKeyBytes, 'a')};
  for (const std::string& key : keys) ASSERT_TRUE(store_->putSync(*ns_, key, "value of " + key).isOk());
  for (const std::string& key : keys) {
    Entry entry;
    ASSERT_TRUE(get(key, 0, &entry).isOk());
    EXPECT_EQ(entry.value, "value of " + key);
  }
  EXPECT_EQ(get(stem + "c").code(), Code::kNotFound);

  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  ListOptions options;
  options.limit = 3;
  std::vector<std::string> listed;
  for (;;) {
    ListResult result;
    ASSERT_TRUE(store_->list(*ns_, options, 0, &result).isOk());
    for (auto& key : result.keys) listed.push_back(key.name);
    if (result.list_complete) break;
    options.cursor = result.cursor;
  }
  EXPECT_EQ(listed, sorted);

  options.prefix = stem;
  options.limit = 1000;
  options.cursor.clear();
  ListResult with_prefix;
  ASSERT_TRUE(store_->list(*ns_, options, 0, &with_prefix).isOk());
  EXPECT_EQ(with_prefix.keys.size(), 5u);

  ASSERT_TRUE(store_->removeSync(*ns_, stem + "a").isOk());
  EXPECT_EQ(get(stem + "a").code(), Code::kNotFound);
  EXPECT_TRUE(get(stem + "b").isOk());
  EXPECT_TRUE(get(stem).isOk());
  ASSERT_TRUE(store_->putSync(*ns_, stem + "b", "new").isOk());
  Entry entry;
  ASSERT_TRUE(get(stem + "b", 0, &entry).isOk());
  EXPECT_EQ(entry.value, "new");
}

TEST_F(StoreTest, OpenReturnsTheSameStoreAndSurvivesReopen) {
  ASSERT_TRUE(store_->putSync(*ns_, "k", "v").isOk());
  std::shared_ptr<Store> again;
  StoreOptions options;
  options.path = dir_.sub("kv/../kv");
  options.sync = false;
  ASSERT_TRUE(Store::open(options, &again).isOk());
  EXPECT_EQ(again.get(), store_.get());
  options.sync = true;
  std::shared_ptr<Store> other_settings;
  EXPECT_EQ(Store::open(options, &other_settings).code(), Code::kInvalidArgument);
  again.reset();
  store_.reset();
  open(true);
  EXPECT_TRUE(get("k").isOk());
}

TEST_F(StoreTest, PathIsCreatedWithParentsAndMustBeADirectory) {
  std::shared_ptr<Store> nested;
  StoreOptions options;
  options.path = dir_.sub("a/b/c");
  options.sweep_interval = std::chrono::seconds(0);
  ASSERT_TRUE(Store::open(options, &nested).isOk());
  struct stat st;
  EXPECT_EQ(stat(dir_.sub("a/b/c/data.mdb").c_str(), &st), 0);

  std::ofstream(dir_.sub("file")) << "x";
  std::shared_ptr<Store> bad;
  options.path = dir_.sub("file");
  Status status = Store::open(options, &bad);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("Not a directory"), std::string::npos) << status.message();
}

TEST_F(StoreTest, ReadersOnManyThreadsWhileWriting) {
  putMany({"a", "b", "c"});
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        Entry entry;
        if (!store_->get(*ns_, "b", 0, &entry).isOk() || entry.value != "v") ++errors;
      }
    });
  }
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("w" + std::to_string(i));
  putMany(keys, std::string(200, 'x'));
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(errors.load(), 0);
}

}  // namespace
}  // namespace isogate::kv
