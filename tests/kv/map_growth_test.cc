// Map growth: a store opened with a tiny map grows it on MDB_MAP_FULL.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kv/store.h"
#include "tests/kv/kv_test_util.h"

namespace isogate::kv {
namespace {

using testing::TempDir;

std::string valueFor(int i) { return std::string(64 * 1024, char('a' + i % 26)) + std::to_string(i); }

TEST(MapGrowthTest, TinyMapGrowsAndEverythingStaysReadable) {
  TempDir dir;
  StoreOptions options;
  options.path = dir.path();
  options.map_size_mb = 1;
  options.sync = false;
  options.sweep_interval = std::chrono::seconds(0);
  std::shared_ptr<Store> store;
  ASSERT_TRUE(Store::open(options, &store).isOk());
  const Namespace* ns;
  ASSERT_TRUE(store->openNamespace("main", &ns).isOk());
  EXPECT_EQ(store->mapSizeBytes(), 1u << 20);

  // Readers keep reading while the writer remaps underneath them.
  ASSERT_TRUE(store->putSync(*ns, "probe", "p").isOk());
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::thread reader([&] {
    while (!stop.load()) {
      Entry entry;
      if (!store->get(*ns, "probe", 0, &entry).isOk()) ++errors;
    }
  });
  constexpr int kValues = 160;  // 10 MiB
  for (int i = 0; i < kValues; ++i) {
    Status status = store->putSync(*ns, "k" + std::to_string(i), valueFor(i));
    ASSERT_TRUE(status.isOk()) << i << ": " << status.message();
  }
  stop = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GE(store->mapSizeBytes(), 10u << 20);

  store.reset();
  ASSERT_TRUE(Store::open(options, &store).isOk());
  ASSERT_TRUE(store->openNamespace("main", &ns).isOk());
  for (int i = 0; i < kValues; ++i) {
    Entry entry;
    ASSERT_TRUE(store->get(*ns, "k" + std::to_string(i), 0, &entry).isOk()) << i;
    EXPECT_EQ(entry.value, valueFor(i));
  }
}

TEST(MapGrowthTest, OneValueLargerThanTheMap) {
  TempDir dir;
  StoreOptions options;
  options.path = dir.path();
  options.map_size_mb = 1;
  options.sync = false;
  options.sweep_interval = std::chrono::seconds(0);
  std::shared_ptr<Store> store;
  ASSERT_TRUE(Store::open(options, &store).isOk());
  const Namespace* ns;
  ASSERT_TRUE(store->openNamespace("main", &ns).isOk());
  std::string value(kMaxValueBytes, 'x');
  ASSERT_TRUE(store->putSync(*ns, "big", value).isOk());
  Entry entry;
  ASSERT_TRUE(store->get(*ns, "big", 0, &entry).isOk());
  EXPECT_EQ(entry.value, value);
}

TEST(MapGrowthTest, AtTheCapWritesFailCleanlyAndTheStoreStaysUsable) {
  TempDir dir;
  StoreOptions options;
  options.path = dir.path();
  options.map_size_mb = 1;
  options.max_map_size_mb = 2;
  options.sync = false;
  options.sweep_interval = std::chrono::seconds(0);
  std::shared_ptr<Store> store;
  ASSERT_TRUE(Store::open(options, &store).isOk());
  const Namespace* ns;
  ASSERT_TRUE(store->openNamespace("main", &ns).isOk());
  int written = 0;
  Status status;
  for (; written < 100; ++written) {
    status = store->putSync(*ns, "k" + std::to_string(written), valueFor(written));
    if (!status.isOk()) break;
  }
  ASSERT_LT(written, 100);
  EXPECT_EQ(status.code(), Status::Code::kStoreFull);
  EXPECT_EQ(status.message(), "write: the store is full: its map reached the cap of 2 MiB");
  EXPECT_EQ(store->mapSizeBytes(), 2u << 20);
  for (int i = 0; i < written; ++i) {
    Entry entry;
    ASSERT_TRUE(store->get(*ns, "k" + std::to_string(i), 0, &entry).isOk());
    EXPECT_EQ(entry.value, valueFor(i));
  }
  // Deleting makes room again.
  for (int i = 0; i < written; ++i) ASSERT_TRUE(store->removeSync(*ns, "k" + std::to_string(i)).isOk());
  EXPECT_TRUE(store->putSync(*ns, "again", valueFor(1)).isOk());
}

}  // namespace
}  // namespace isogate::kv
