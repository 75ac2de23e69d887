// The `ratelimit` binding end to end: env.LIMITER.limit({key}) in a real
// gateway. The seed's 100-per-minute API-key limiter answering 429 with
// Retry-After and the IETF RateLimit headers; `remaining` counting down;
// `reset` telling when a request is allowed again; exact counts under
// concurrency (fixed and sliding windows, 2 workers, and two processes on
// one kv.path); failing open when the store cannot be created.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

// /<binding>/...: limits on env[<binding>] keyed by X-API-Key (else the
// forwarded client address, else "anonymous"). The result is echoed in
// X-RL (JSON) and the RateLimit headers from headers() are set; 429 with
// Retry-After when refused.
constexpr char kLimiterScript[] = R"JS(
export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.split("/")[1];
    const limiter = env[name];
    if (!limiter) return new Response("no binding " + name, { status: 404 });
    const key = request.headers.get("x-api-key") ?? request.headers.get("x-forwarded-for") ?? "anonymous";
    const rl = await limiter.limit({ key });
    const plain = { success: rl.success, limit: rl.limit, remaining: rl.remaining, reset: rl.reset };
    const headers = { "X-RL": JSON.stringify(plain) };
    const extra = typeof rl.headers === "function" ? rl.headers() : {};
    headers["X-RL-Headers"] = JSON.stringify(extra);
    for (const [k, v] of Object.entries(extra)) headers[k] = String(v);
    if (!rl.success) {
      headers["Retry-After"] = String(rl.reset);
      return Response.json({ error: "rate_limited" }, { status: 429, headers });
    }
    return Response.json({ ok: true }, { headers });
  }
};
)JS";

int64_t epochMs() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// If a window of `period_s` seconds aligned to the epoch ends within
// `need_ms`, waits until the next one has begun: fixed windows are often
// epoch-aligned, and a burst that straddles two windows may legitimately
// get twice the limit.
void avoidWindowEdge(int period_s, int64_t need_ms) {
  int64_t period_ms = int64_t{period_s} * 1000;
  int64_t into = epochMs() % period_ms;
  if (into > period_ms - need_ms) std::this_thread::sleep_for(Millis(period_ms - into + 50));
}

// Waits until an epoch-aligned window of `period_s` seconds has just begun,
// so that timing-dependent outcomes are the same on every run.
void waitForWindowStart(int period_s) {
  int64_t period_ms = int64_t{period_s} * 1000;
  int64_t into = epochMs() % period_ms;
  std::this_thread::sleep_for(Millis(period_ms - into + 30));
}

struct Rl {
  bool parsed = false;
  bool success = false;
  int64_t limit = -1, remaining = -1, reset = -1;
};

Rl parseRl(const HttpResponse& r) {
  Rl out;
  auto j = nlohmann::json::parse(r.header("x-rl").value_or(""), nullptr, false);
  if (!j.is_object()) return out;
  out.parsed = j.contains("success") && j["success"].is_boolean() && j["limit"].is_number_integer() &&
               j["remaining"].is_number_integer() && j["reset"].is_number_integer();
  if (!out.parsed) return out;
  out.success = j["success"].get<bool>();
  out.limit = j["limit"].get<int64_t>();
  out.remaining = j["remaining"].get<int64_t>();
  out.reset = j["reset"].get<int64_t>();
  return out;
}

std::string uniqueKey(const std::string& base) { return base + "-" + std::to_string(epochMs()); }

class RateLimitTest : public GatewayTest {
 protected:
  // One script route "/*" with the given bindings; kv.path "store/kv".
  nlohmann::json limiterConfig(const nlohmann::json& bindings, int workers = 1) const {
    auto cfg = baseConfig();
    cfg["workers"] = workers;
    cfg["kv"] = {{"path", "store/kv"}};
    cfg["limits"]["idle_timeout_ms"] = 30000;
    cfg["routes"] = nlohmann::json::array(
        {{{"name", "limited"}, {"match", {{"path", "/*"}}}, {"script", "limiter.js"}, {"bindings", bindings}}});
    return cfg;
  }

  bool startLimiter(const nlohmann::json& bindings, int workers = 1) {
    dir_.write("limiter.js", kLimiterScript);
    return startGateway(limiterConfig(bindings, workers));
  }

  static nlohmann::json limiter(int64_t limit, int64_t period, const std::string& algorithm = "") {
    nlohmann::json b = {{"type", "ratelimit"}, {"limit", limit}, {"period", period}};
    if (!algorithm.empty()) b["algorithm"] = algorithm;
    return b;
  }

  // Sends `total` requests for `key` to /<binding>/x over `connections`
  // keep-alive connections spread over `ports`, all at once. Returns status -> count.
  static std::map<int, int> burst(const std::vector<uint16_t>& ports, const std::string& binding,
                                  const std::string& key, int total, int connections) {
    std::atomic<int> next{0};
    std::atomic<bool> go{false};
    std::mutex mu;
    std::map<int, int> counts;
    std::vector<std::thread> threads;
    auto deadline = Clock::now() + Millis(30000);
    for (int t = 0; t < connections; ++t) {
      threads.emplace_back([&, t] {
        uint16_t port = ports[t % ports.size()];
        RawClient client;
        client.connect(port);
        while (!go.load()) std::this_thread::yield();
        std::map<int, int> local;
        while (Clock::now() < deadline) {
          int i = next.fetch_add(1);
          if (i >= total) break;
          if (!client.connected() || client.peerClosed()) client.connect(port);
          std::string req = buildRequest("GET", "/" + binding + "/x?i=" + std::to_string(i), {{"X-API-Key", key}});
          std::optional<HttpResponse> resp;
          if (client.sendAll(req)) resp = client.readResponse(Millis(15000));
          int status = resp ? resp->status : 0;
          if (!resp) client.close();
          ++local[status];
        }
        std::lock_guard<std::mutex> lock(mu);
        for (auto& [s, n] : local) counts[s] += n;
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    return counts;
  }

  static std::string describe(const std::map<int, int>& counts) {
    std::string s;
    for (auto& [status, n] : counts) s += std::to_string(status) + "×" + std::to_string(n) + " ";
    return s;
  }
};

// A case-insensitive lookup in the object headers() returned.
std::optional<std::string> rlHeader(const HttpResponse& r, const std::string& name) {
  auto j = nlohmann::json::parse(r.header("x-rl-headers").value_or(""), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  for (auto& [k, v] : j.items()) {
    if (equalsIgnoreCase(k, name) && v.is_string()) return v.get<std::string>();
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------

TEST_F(RateLimitTest, HundredPerMinutePerApiKeyThen429WithRetryAfter) {
  ASSERT_TRUE(startLimiter({{"LIMITER", limiter(100, 60)}}));
  avoidWindowEdge(60, 5000);
  std::string key_a = uniqueKey("key-a");
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(client.sendAll(buildRequest("GET", "/LIMITER/v1/users", {{"X-API-Key", key_a}})));
    auto r = client.readResponse(Millis(10000));
    ASSERT_TRUE(r) << "request " << i;
    ASSERT_EQ(r->status, 200) << "request " << i << " of 100 must pass: " << r->body;
    auto rl = parseRl(*r);
    ASSERT_TRUE(rl.parsed) << r->header("x-rl").value_or("(none)");
    EXPECT_TRUE(rl.success);
    EXPECT_EQ(rl.limit, 100);
    EXPECT_EQ(rl.remaining, 100 - i) << "remaining is what is left after this request (request " << i << ")";
    EXPECT_GE(rl.reset, 0);
    EXPECT_LE(rl.reset, 60);
    if (i == 1) {
      auto policy = r->header("ratelimit-policy");
      auto state = r->header("ratelimit");
      ASSERT_TRUE(policy && !policy->empty())
          << "headers() needs RateLimit-Policy: " << r->header("x-rl-headers").value_or("");
      ASSERT_TRUE(state && !state->empty()) << "headers() needs RateLimit: " << r->header("x-rl-headers").value_or("");
      EXPECT_TRUE(std::regex_search(*policy, std::regex(R"(\b100\b)"))) << "RateLimit-Policy: " << *policy;
      EXPECT_TRUE(std::regex_search(*policy, std::regex(R"(\b60\b)"))) << "RateLimit-Policy: " << *policy;
      EXPECT_TRUE(rlHeader(*r, "RateLimit-Policy")) << r->header("x-rl-headers").value_or("");
    }
  }
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/LIMITER/v1/users", {{"X-API-Key", key_a}})));
  auto over = client.readResponse(Millis(10000));
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429) << "request 101 must be refused";
  auto rl = parseRl(*over);
  ASSERT_TRUE(rl.parsed);
  EXPECT_FALSE(rl.success);
  EXPECT_EQ(rl.limit, 100);
  EXPECT_EQ(rl.remaining, 0);
  EXPECT_GE(rl.reset, 1) << "reset is at least 1 when refused";
  EXPECT_LE(rl.reset, 60);
  auto retry = over->header("retry-after").value_or("");
  ASSERT_TRUE(std::regex_match(retry, std::regex(R"(\d+)"))) << "Retry-After: " << retry;
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 60);
  EXPECT_TRUE(over->header("ratelimit-policy") && !over->header("ratelimit-policy")->empty());
  EXPECT_TRUE(over->header("ratelimit") && !over->header("ratelimit")->empty());

  // Another key is unaffected; requests without a key have their own bucket.
  auto other = get("/LIMITER/v1/users", {{"X-API-Key", uniqueKey("key-b")}});
  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(parseRl(other).remaining, 99);
  auto anon = get("/LIMITER/v1/users", {{"X-Forwarded-For", uniqueKey("203.0.113.7")}});
  EXPECT_EQ(anon.status, 200) << anon.body;
  // key A stays refused.
  auto again = get("/LIMITER/v1/users", {{"X-API-Key", key_a}});
  EXPECT_EQ(again.status, 429);
}

TEST_F(RateLimitTest, ResetSaysWhenARequestIsAllowedAgain) {
  ASSERT_TRUE(startLimiter({{"FIXED", limiter(3, 2, "fixed")}, {"SLIDING", limiter(3, 2, "sliding")}}));
  // Early in a window: the sliding estimate then still carries most of this
  // window's count into the next one, the case where its honest wait is longest.
  waitForWindowStart(2);
  std::map<std::string, Clock::time_point> allowed_at;
  std::map<std::string, std::string> keys;
  std::map<std::string, int64_t> resets;
  for (const char* name : {"FIXED", "SLIDING"}) {
    keys[name] = uniqueKey(std::string("reset-") + name);
    for (int i = 1; i <= 3; ++i) {
      auto r = get(std::string("/") + name + "/x", {{"X-API-Key", keys[name]}});
      ASSERT_EQ(r.status, 200) << name << " request " << i;
      EXPECT_EQ(parseRl(r).remaining, 3 - i) << name;
    }
    auto refused = get(std::string("/") + name + "/x", {{"X-API-Key", keys[name]}});
    ASSERT_EQ(refused.status, 429) << name;
    auto rl = parseRl(refused);
    EXPECT_GE(rl.reset, 1) << name;
    // Fixed: at most the period. Sliding (weighted previous window): an honest
    // wait can exceed the period by up to period/limit, because the previous
    // window's weight decays through the next one; Retry-After must not lie,
    // so allow period + ceil(period/limit) = 3 here.
    EXPECT_LE(rl.reset, std::string(name) == "FIXED" ? 2 : 3) << name << ": reset too large";
    resets[name] = rl.reset;
    allowed_at[name] = Clock::now() + Millis(rl.reset * 1000 + 300);
  }
  for (const char* name : {"FIXED", "SLIDING"}) {
    std::this_thread::sleep_until(allowed_at[name]);
    auto r = get(std::string("/") + name + "/x", {{"X-API-Key", keys[name]}});
    EXPECT_EQ(r.status, 200) << name << ": a request " << resets[name] << ".3 s after a refusal with reset "
                             << resets[name] << " must be allowed (Retry-After must not send clients back too early)";
  }
}

TEST_F(RateLimitTest, ExactCountUnderConcurrencyFixedAndSliding) {
  ASSERT_TRUE(startLimiter({{"FIXED", limiter(50, 3600, "fixed")}, {"SLIDING", limiter(50, 3600, "sliding")}},
                           /*workers=*/2));
  avoidWindowEdge(3600, 15000);
  for (const char* name : {"FIXED", "SLIDING"}) {
    auto counts = burst({port_}, name, uniqueKey(std::string("conc-") + name), 200, 64);
    EXPECT_EQ(counts[200], 50) << name << ": exactly the limit may pass; got " << describe(counts);
    EXPECT_EQ(counts[429], 150) << name << ": " << describe(counts);
    EXPECT_EQ(counts.size(), 2u) << name << ": only 200 and 429 expected: " << describe(counts);
  }
}

TEST_F(RateLimitTest, CountersAreSharedByTwoProcessesOnOneKvPath) {
  dir_.write("limiter.js", kLimiterScript);
  auto cfg = limiterConfig({{"LIMITER", limiter(50, 3600, "sliding")}, {"FIXED", limiter(50, 3600, "fixed")}},
                           /*workers=*/2);
  ASSERT_TRUE(startGateway(cfg));
  GatewayProcess second({"serve", "-c", configPath()}, dir_.path());
  uint16_t port2 = second.waitForListening(Millis(15000));
  ASSERT_NE(port2, 0) << second.stderrText();
  ASSERT_NE(port2, port_);
  avoidWindowEdge(3600, 15000);

  // Deterministic: 20 through the first process, 30 through the second, then both refuse.
  std::string k = uniqueKey("two-proc");
  for (int i = 0; i < 50; ++i) {
    uint16_t port = i < 20 ? port_ : port2;
    auto r = roundTrip(port, buildRequest("GET", "/LIMITER/x", {{"X-API-Key", k}, {"Connection", "close"}}));
    ASSERT_EQ(r.status, 200) << "request " << i;
    EXPECT_EQ(parseRl(r).remaining, 49 - i) << "request " << i << " via " << (i < 20 ? "first" : "second");
  }
  for (uint16_t port : {port_, port2}) {
    auto r = roundTrip(port, buildRequest("GET", "/LIMITER/x", {{"X-API-Key", k}, {"Connection", "close"}}));
    EXPECT_EQ(r.status, 429) << "both processes count the same key";
  }

  // Concurrent, both processes, both algorithms.
  for (const char* name : {"LIMITER", "FIXED"}) {
    auto counts = burst({port_, port2}, name, uniqueKey(std::string("two-proc-conc-") + name), 200, 64);
    EXPECT_EQ(counts[200], 50) << name << ": two processes on one kv.path share the counter; got "
                               << describe(counts);
    EXPECT_EQ(counts[429], 150) << name << ": " << describe(counts);
  }
  EXPECT_TRUE(second.running());
  if (HasFailure()) std::cerr << "---- second isogate stderr ----\n" << second.stderrText() << "\n";
}

TEST_F(RateLimitTest, FailsOpenWhenTheStoreCannotBeCreated) {
  // A regular file where the store's parent directory should be: mkdir fails
  // with ENOTDIR even for root.
  dir_.write("blocker", "not a directory\n");
  dir_.write("limiter.js", kLimiterScript);
  auto cfg = limiterConfig({{"LIMITER", limiter(2, 60)}});
  cfg["kv"]["path"] = "blocker/kv";
  ASSERT_TRUE(startGateway(cfg)) << "the gateway must start even when the rate-limit store is unusable";
  std::string k = uniqueKey("fail-open");
  for (int i = 0; i < 5; ++i) {
    auto r = get("/LIMITER/x", {{"X-API-Key", k}});
    EXPECT_EQ(r.status, 200) << "request " << i << ": the limiter fails open (success true), never 500: " << r.body;
    auto rl = parseRl(r);
    EXPECT_TRUE(rl.parsed && rl.success) << r.header("x-rl").value_or("(none)");
  }
  EXPECT_TRUE(gateway_->running());
}

}  // namespace
}  // namespace isogate::e2e
