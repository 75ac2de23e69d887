// HostBody delivery and SharedBytesBody (a cached response's bytes served as
// a host body): chunks follow the sink's backpressure, the bytes are the
// owner's (not copies), an abandoned body stops, an empty one just ends.

#include "runtime/host_body.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace isogate {
namespace {

class RecordingSink : public BodySink {
 public:
  void onBodyData(const char* data, size_t len) override {
    chunks.push_back(data);
    received.append(data, len);
    if (on_data) on_data(len);
  }
  void onBodyEnd() override { ++ends; }
  void onBodyError() override { ++errors; }

  std::vector<const char*> chunks;
  std::string received;
  int ends = 0;
  int errors = 0;
  std::function<void(size_t)> on_data;
};

std::shared_ptr<const std::string> bytes(size_t n) {
  auto s = std::make_shared<std::string>(n, '\0');
  for (size_t i = 0; i < n; ++i) (*s)[i] = static_cast<char>(i * 31 + 7);
  return s;
}

TEST(SharedBytesBodyTest, DeliversEverythingOnStartWithoutCopying) {
  auto data = bytes(1000);
  SharedBytesBody body(data, *data);
  EXPECT_EQ(body.knownLength(), 1000u);
  RecordingSink sink;
  body.start(&sink);
  EXPECT_EQ(sink.received, *data);
  EXPECT_EQ(sink.ends, 1);
  ASSERT_EQ(sink.chunks.size(), 1u);
  EXPECT_EQ(sink.chunks[0], data->data());  // the owner's bytes themselves
}

TEST(SharedBytesBodyTest, FollowsBackpressureInChunks) {
  auto data = bytes(1 << 20);
  SharedBytesBody body(data, *data);
  RecordingSink sink;
  sink.on_data = [&](size_t) { body.pause(); };
  body.start(&sink);
  EXPECT_EQ(sink.chunks.size(), 1u);
  EXPECT_LT(sink.received.size(), data->size());
  EXPECT_EQ(sink.ends, 0);
  while (sink.ends == 0) {
    size_t before = sink.received.size();
    body.resume();
    ASSERT_GT(sink.received.size(), before);
  }
  EXPECT_EQ(sink.received, *data);
  EXPECT_EQ(sink.ends, 1);
  body.resume();  // nothing more after the end
  EXPECT_EQ(sink.ends, 1);
}

TEST(SharedBytesBodyTest, AResumeFromInsideDeliveryDoesNotRecurse) {
  auto data = bytes(600 * 1024);
  SharedBytesBody body(data, *data);
  RecordingSink sink;
  sink.on_data = [&](size_t) {
    body.pause();
    body.resume();
  };
  body.start(&sink);
  EXPECT_EQ(sink.received, *data);
  EXPECT_EQ(sink.ends, 1);
}

TEST(SharedBytesBodyTest, AbandonStopsDelivery) {
  auto data = bytes(1 << 20);
  SharedBytesBody body(data, *data);
  RecordingSink sink;
  sink.on_data = [&](size_t) { body.abandon(); };
  body.start(&sink);
  EXPECT_EQ(sink.chunks.size(), 1u);
  EXPECT_EQ(sink.ends, 0);
  EXPECT_TRUE(body.started());
}

TEST(SharedBytesBodyTest, EmptyBodyEndsAtOnce) {
  auto data = bytes(0);
  SharedBytesBody body(data, *data);
  RecordingSink sink;
  body.start(&sink);
  EXPECT_TRUE(sink.chunks.empty());
  EXPECT_EQ(sink.ends, 1);
}

TEST(SharedBytesBodyTest, KeepsItsOwnerAlive) {
  auto data = bytes(10);
  std::weak_ptr<const std::string> weak = data;
  auto body = std::make_unique<SharedBytesBody>(data, *data);
  data.reset();
  EXPECT_FALSE(weak.expired());
  RecordingSink sink;
  body->start(&sink);
  EXPECT_EQ(sink.received.size(), 10u);
  body.reset();
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace isogate
