// The `kv` binding (Workers KV API) and the `isogate kv` CLI end to end:
// a script route does put/get/getWithMetadata/delete/list driven by query
// parameters; values, metadata and expirations round-trip; the limits
// reject; list() pages with a cursor in sorted order; data survives a
// restart and a kill -9 (every acknowledged put is there); the CLI reads
// and writes the same store as a running gateway, and after it stopped.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

// GET/POST /kv/OP?key=...: one KV operation each. Errors thrown by the
// binding become 400 {"error": message, "name": error class}.
constexpr char kKvScript[] = R"JS(
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const p = url.searchParams;
    const op = url.pathname.split("/")[2] ?? "";
    const key = p.get("key");
    try {
      switch (op) {
        case "put": {
          const opts = {};
          if (p.has("ttl")) opts.expirationTtl = Number(p.get("ttl"));
          if (p.has("exp")) opts.expiration = Number(p.get("exp"));
          if (p.has("meta")) opts.metadata = JSON.parse(p.get("meta"));
          const as = p.get("as") ?? "text";
          let value;
          if (as === "buffer") value = await request.arrayBuffer();
          else value = p.has("value") ? p.get("value") : await request.text();
          await env.KV.put(key, value, opts);
          return new Response("stored");
        }
        case "get": {
          const type = p.get("type");
          const v = type === null ? await env.KV.get(key) : await env.KV.get(key, type);
          if (v === null) return new Response("null", { status: 404 });
          if (type === "json") return Response.json({ value: v });
          return new Response(v, { headers: { "X-Kind": Object.prototype.toString.call(v) } });
        }
        case "meta": {
          const r = await env.KV.getWithMetadata(key, p.get("type") ?? "text");
          return Response.json({ value: r.value, metadata: r.metadata });
        }
        case "delete": {
          const r = await env.KV.delete(key);
          return new Response(r === undefined ? "deleted" : "delete resolved to " + String(r));
        }
        case "list": {
          const opts = {};
          if (p.has("prefix")) opts.prefix = p.get("prefix");
          if (p.has("limit")) opts.limit = Number(p.get("limit"));
          if (p.has("cursor")) opts.cursor = p.get("cursor");
          return Response.json(await env.KV.list(opts));
        }
        case "fill": {
          const n = Number(p.get("n"));
          const prefix = p.get("prefix");
          for (let i = 0; i < n; i += 100) {
            const batch = [];
            for (let j = i; j < Math.min(n, i + 100); j++) {
              batch.push(env.KV.put(prefix + String(j).padStart(5, "0"), "v" + j));
            }
            await Promise.all(batch);
          }
          return new Response("filled " + n);
        }
        case "dump": {
          const out = {};
          let cursor;
          for (let guard = 0; guard < 50; guard++) {
            const page = await env.KV.list({ prefix: p.get("prefix") ?? "", cursor });
            for (const k of page.keys) out[k.name] = await env.KV.get(k.name);
            if (page.list_complete) break;
            cursor = page.cursor;
          }
          return Response.json(out);
        }
        case "types": {
          const r = {};
          await env.KV.put("t:str", "h\u00e9llo \u2713");
          r.text = await env.KV.get("t:str");
          r.textType = await env.KV.get("t:str", "text");
          r.textObj = await env.KV.get("t:str", { type: "text" });
          const ab = await env.KV.get("t:str", "arrayBuffer");
          r.abIsArrayBuffer = ab instanceof ArrayBuffer;
          r.abBytes = ab instanceof ArrayBuffer ? Array.from(new Uint8Array(ab)) : null;
          const abObj = await env.KV.get("t:str", { type: "arrayBuffer" });
          r.abObjBytes = abObj instanceof ArrayBuffer ? Array.from(new Uint8Array(abObj)) : null;
          await env.KV.put("t:json", JSON.stringify({ a: [1, 2], b: "x" }));
          r.json = await env.KV.get("t:json", "json");
          r.jsonObj = await env.KV.get("t:json", { type: "json" });
          try { await env.KV.get("t:str", "json"); r.badJson = "resolved"; }
          catch (e) { r.badJson = e.name; }
          const src = new Uint8Array([0, 1, 2, 250, 255, 10, 13, 0]);
          await env.KV.put("t:buf", src.buffer);
          r.buf = Array.from(new Uint8Array(await env.KV.get("t:buf", "arrayBuffer")));
          const whole = new Uint8Array(16);
          for (let i = 0; i < 16; i++) whole[i] = 100 + i;
          await env.KV.put("t:view", whole.subarray(4, 8));
          r.view = Array.from(new Uint8Array(await env.KV.get("t:view", "arrayBuffer")));
          r.missing = await env.KV.get("t:none");
          r.missingJson = await env.KV.get("t:none", "json");
          const mm = await env.KV.getWithMetadata("t:none");
          r.missingMeta = { value: mm.value, metadata: mm.metadata };
          const nm = await env.KV.getWithMetadata("t:str");
          r.noMeta = { value: nm.value, metadata: nm.metadata };
          return Response.json(r);
        }
        case "limits": {
          const r = {};
          const attempt = async (name, fn) => {
            try { await fn(); r[name] = "ok"; } catch (e) { r[name] = "rejected: " + (e && e.message); }
          };
          await attempt("key512", () => env.KV.put("k".repeat(512), "v"));
          await attempt("key513", () => env.KV.put("k".repeat(513), "v"));
          await attempt("meta1000", () => env.KV.put("m", "v", { metadata: { pad: "x".repeat(980) } }));
          await attempt("meta1100", () => env.KV.put("m2", "v", { metadata: { pad: "x".repeat(1100) } }));
          await attempt("value25MiB", () => env.KV.put("big", new Uint8Array(25 * 1024 * 1024)));
          const big = await env.KV.get("big", "arrayBuffer");
          r.value25MiBLength = big === null ? null : big.byteLength;
          await env.KV.delete("big");
          await attempt("value25MiBPlus1", () => env.KV.put("big2", new Uint8Array(25 * 1024 * 1024 + 1)));
          const stored = async (k) => {
            try { return (await env.KV.get(k)) !== null; } catch (e) { return false; }
          };
          r.key513Stored = await stored("k".repeat(513));
          r.meta1100Stored = await stored("m2");
          r.big2Stored = await stored("big2");
          return Response.json(r);
        }
      }
      return new Response("unknown op " + op, { status: 404 });
    } catch (e) {
      return Response.json({ error: String((e && e.message) || e), name: e && e.name }, { status: 400 });
    }
  }
};
)JS";

std::string urlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int64_t epochNow() { return static_cast<int64_t>(std::time(nullptr)); }

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

class KvTest : public GatewayTest {
 protected:
  std::string kvDir() const { return dir_.path() + "/data/kv"; }

  nlohmann::json kvConfig() const {
    auto cfg = baseConfig();
    cfg["workers"] = 1;
    cfg["kv"] = {{"path", "data/kv"}, {"map_size_mb", 256}};  // relative to the config file
    cfg["limits"]["header_bytes"] = 65536;
    cfg["limits"]["body_bytes"] = 32 * kMiB;
    cfg["limits"]["cpu_ms"] = 5000;
    cfg["limits"]["memory_mb"] = 256;
    cfg["limits"]["subrequests"] = 10000;  // KV calls are not fetch() subrequests, but be generous
    cfg["routes"] = nlohmann::json::array({{{"name", "kv"},
                                            {"match", {{"path", "/kv/*"}}},
                                            {"script", "kv.js"},
                                            {"bindings", {{"KV", {{"type", "kv"}, {"namespace", "main"}}}}}}});
    return cfg;
  }

  bool startKv() {
    dir_.write("kv.js", kKvScript);
    return startGateway(kvConfig());
  }

  // Stops the running gateway with SIGTERM and starts a new one on the same config.
  bool restartKv() {
    gateway_->signal(SIGTERM);
    auto st = gateway_->waitExit(Millis(15000));
    EXPECT_TRUE(st && st->exited && st->code == 0) << "SIGTERM should stop the gateway with exit 0";
    gateway_.reset();
    return startGateway(kvConfig());
  }

  HttpResponse put(const std::string& key, const std::string& value, const std::string& extra_query = "") {
    return request("POST", "/kv/put?key=" + urlEncode(key) + extra_query, {{"Content-Type", "text/plain"}}, value);
  }
  HttpResponse kvGet(const std::string& key, const std::string& type = "") {
    return get("/kv/get?key=" + urlEncode(key) + (type.empty() ? "" : "&type=" + type));
  }
  nlohmann::json list(const std::string& query) {
    auto r = get("/kv/list?" + query, {}, Millis(20000));
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_TRUE(j.is_object() && j.contains("keys") && j["keys"].is_array()) << r.body.substr(0, 500);
    return j;
  }

  CommandResult cli(std::vector<std::string> args, StdinSource input = {}) {
    std::vector<std::string> argv = {isogateBinary(), "kv"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, Millis(20000), std::move(input), dir_.path());
  }
  CommandResult cliKv(const std::string& verb, std::vector<std::string> rest, const std::string& ns = "main",
                      StdinSource input = {}) {
    std::vector<std::string> args = {verb, "--path", kvDir(), "--namespace", ns};
    args.insert(args.end(), rest.begin(), rest.end());
    return cli(args, std::move(input));
  }
};

std::vector<std::string> keyNames(const nlohmann::json& list_result) {
  std::vector<std::string> names;
  if (!list_result.contains("keys")) return names;
  for (const auto& k : list_result["keys"]) names.push_back(k.value("name", "(no name)"));
  return names;
}

// ---------------------------------------------------------------------------

TEST_F(KvTest, PutGetDeleteRoundTripAndStoreIsCreatedRelativeToConfig) {
  ASSERT_FALSE(std::filesystem::exists(dir_.path() + "/data"));
  ASSERT_TRUE(startKv());
  auto missing = kvGet("greeting");
  EXPECT_EQ(missing.status, 404) << "get of a missing key resolves to null: " << missing.body;

  ASSERT_EQ(put("greeting", "hello, kv").status, 200);
  EXPECT_TRUE(std::filesystem::is_directory(kvDir())) << "kv.path is relative to the config file's directory";
  auto got = kvGet("greeting");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, "hello, kv");
  EXPECT_EQ(got.header("x-kind").value_or(""), "[object String]") << "get(key) resolves to a string";

  ASSERT_EQ(put("greeting", "replaced").status, 200);
  EXPECT_EQ(kvGet("greeting").body, "replaced");

  // Keys are opaque bytes: slashes, spaces, unicode.
  const std::string odd = "users/42 \xE2\x9C\x93/profile?x=1";
  ASSERT_EQ(put(odd, "odd-value").status, 200);
  EXPECT_EQ(kvGet(odd).body, "odd-value");

  auto del = get("/kv/delete?key=greeting");
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(del.body, "deleted") << "delete() resolves to undefined";
  EXPECT_EQ(kvGet("greeting").status, 404);
  EXPECT_EQ(get("/kv/delete?key=never-existed").status, 200) << "deleting a missing key is not an error";
  EXPECT_EQ(kvGet(odd).status, 200) << "delete removed only its key";
}

TEST_F(KvTest, ValueTypesRoundTrip) {
  ASSERT_TRUE(startKv());
  auto r = get("/kv/types");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  const std::string text = "h\xC3\xA9llo \xE2\x9C\x93";
  EXPECT_EQ(j["text"], text);
  EXPECT_EQ(j["textType"], text);
  EXPECT_EQ(j["textObj"], text) << "get(key, {type: \"text\"})";
  EXPECT_EQ(j["abIsArrayBuffer"], true);
  auto utf8 = nlohmann::json::array({104, 195, 169, 108, 108, 111, 32, 226, 156, 147});
  EXPECT_EQ(j["abBytes"], utf8) << "strings are stored as UTF-8";
  EXPECT_EQ(j["abObjBytes"], utf8) << "get(key, {type: \"arrayBuffer\"})";
  auto obj = nlohmann::json::parse(R"({"a": [1, 2], "b": "x"})");
  EXPECT_EQ(j["json"], obj);
  EXPECT_EQ(j["jsonObj"], obj);
  EXPECT_EQ(j["badJson"], "SyntaxError") << "get(key, \"json\") of a non-JSON value rejects like JSON.parse";
  EXPECT_EQ(j["buf"], nlohmann::json::array({0, 1, 2, 250, 255, 10, 13, 0})) << "ArrayBuffer values keep every byte";
  EXPECT_EQ(j["view"], nlohmann::json::array({104, 105, 106, 107}))
      << "a typed-array view stores only the bytes it views, not its whole buffer";
  EXPECT_TRUE(j["missing"].is_null());
  EXPECT_TRUE(j["missingJson"].is_null());
  EXPECT_EQ(j["missingMeta"], nlohmann::json::parse(R"({"value": null, "metadata": null})"));
  EXPECT_EQ(j["noMeta"], (nlohmann::json{{"value", text}, {"metadata", nullptr}}));

  // Binary through HTTP: the body bytes in, the same bytes out.
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  bytes += bytes;
  auto p = request("POST", "/kv/put?key=bin&as=buffer", {{"Content-Type", "application/octet-stream"}}, bytes);
  ASSERT_EQ(p.status, 200) << p.body;
  auto back = kvGet("bin", "arrayBuffer");
  ASSERT_EQ(back.status, 200);
  EXPECT_EQ(back.header("x-kind").value_or(""), "[object ArrayBuffer]");
  EXPECT_EQ(back.body, bytes);
}

TEST_F(KvTest, MetadataAndExpirationRoundTrip) {
  ASSERT_TRUE(startKv());
  int64_t now = epochNow();
  int64_t exp = now + 3600;
  const std::string meta = R"({"owner":"ana","n":3,"tags":["a","b"]})";
  ASSERT_EQ(put("m:1", "one", "&exp=" + std::to_string(exp) + "&meta=" + urlEncode(meta)).status, 200);
  ASSERT_EQ(put("m:2", "two", "&ttl=60").status, 200);
  ASSERT_EQ(put("m:3", "three").status, 200);

  auto gm = get("/kv/meta?key=m%3A1");
  ASSERT_EQ(gm.status, 200) << gm.body;
  auto g = gm.json();
  EXPECT_EQ(g["value"], "one");
  EXPECT_EQ(g["metadata"], nlohmann::json::parse(meta));

  auto l = list("prefix=m%3A");
  ASSERT_EQ(keyNames(l), (std::vector<std::string>{"m:1", "m:2", "m:3"}));
  EXPECT_EQ(l.value("list_complete", false), true);
  const auto& k1 = l["keys"][0];
  EXPECT_EQ(k1.value("expiration", int64_t{0}), exp) << "expiration is epoch seconds: " << k1.dump();
  EXPECT_EQ(k1["metadata"], nlohmann::json::parse(meta));
  const auto& k2 = l["keys"][1];
  ASSERT_TRUE(k2.contains("expiration") && k2["expiration"].is_number_integer()) << k2.dump();
  EXPECT_GE(k2["expiration"].get<int64_t>(), now + 60 - 2) << "expirationTtl 60 → now + 60";
  EXPECT_LE(k2["expiration"].get<int64_t>(), epochNow() + 60 + 2);
  EXPECT_FALSE(k2.contains("metadata") && !k2["metadata"].is_null()) << k2.dump();
  const auto& k3 = l["keys"][2];
  EXPECT_FALSE(k3.contains("expiration") && !k3["expiration"].is_null()) << "no expiration: " << k3.dump();
  EXPECT_FALSE(k3.contains("metadata") && !k3["metadata"].is_null()) << "no metadata: " << k3.dump();

  // A put replaces the whole entry: value, metadata and expiration.
  ASSERT_EQ(put("m:1", "uno").status, 200);
  auto g2 = get("/kv/meta?key=m%3A1").json();
  EXPECT_EQ(g2["value"], "uno");
  EXPECT_TRUE(g2["metadata"].is_null()) << g2.dump();
  auto l2 = list("prefix=m%3A1");
  ASSERT_EQ(keyNames(l2), std::vector<std::string>{"m:1"});
  EXPECT_FALSE(l2["keys"][0].contains("expiration") && !l2["keys"][0]["expiration"].is_null()) << l2.dump();
}

TEST_F(KvTest, ExpirationTtlBelow60Rejects) {
  ASSERT_TRUE(startKv());
  auto r = put("short", "v", "&ttl=30");
  EXPECT_EQ(r.status, 400) << "expirationTtl 30 must reject (Workers minimum is 60): " << r.body;
  auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_FALSE(j.value("error", "").empty()) << "the rejection should carry a message: " << r.body;
  EXPECT_EQ(kvGet("short").status, 404) << "a rejected put stores nothing";
  EXPECT_EQ(put("ok60", "v", "&ttl=60").status, 200);
}

TEST_F(KvTest, LimitsRejectOversizedKeyMetadataAndValue) {
  ASSERT_TRUE(startKv());
  auto r = get("/kv/limits", {}, Millis(60000));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["key512"], "ok") << "a 512-byte key is allowed";
  EXPECT_NE(j.value("key513", "").rfind("rejected", 0), std::string::npos) << j["key513"];
  EXPECT_EQ(j["meta1000"], "ok") << "metadata under 1024 bytes is allowed";
  EXPECT_NE(j.value("meta1100", "").rfind("rejected", 0), std::string::npos) << j["meta1100"];
  EXPECT_EQ(j["value25MiB"], "ok") << "a value of exactly 25 MiB is allowed";
  EXPECT_EQ(j["value25MiBLength"], 25 * 1024 * 1024);
  EXPECT_NE(j.value("value25MiBPlus1", "").rfind("rejected", 0), std::string::npos) << j["value25MiBPlus1"];
  EXPECT_EQ(j["key513Stored"], false);
  EXPECT_EQ(j["meta1100Stored"], false);
  EXPECT_EQ(j["big2Stored"], false);
  EXPECT_TRUE(gateway_->running());
}

TEST_F(KvTest, ValuesSurviveARestart) {
  ASSERT_TRUE(startKv());
  ASSERT_EQ(put("keep:a", "alpha").status, 200);
  ASSERT_EQ(put("keep:b", "beta", "&meta=" + urlEncode(R"({"v":2})")).status, 200);
  ASSERT_EQ(put("keep:gone", "x").status, 200);
  ASSERT_EQ(get("/kv/delete?key=keep%3Agone").status, 200);

  ASSERT_TRUE(restartKv());
  EXPECT_EQ(kvGet("keep:a").body, "alpha");
  auto m = get("/kv/meta?key=keep%3Ab").json();
  EXPECT_EQ(m["value"], "beta");
  EXPECT_EQ(m["metadata"], nlohmann::json::parse(R"({"v":2})"));
  EXPECT_EQ(kvGet("keep:gone").status, 404) << "a delete survives a restart too";
  EXPECT_EQ(keyNames(list("prefix=keep%3A")), (std::vector<std::string>{"keep:a", "keep:b"}));
}

TEST_F(KvTest, ListIsSortedAndPagesWithACursor) {
  ASSERT_TRUE(startKv());
  auto fill = get("/kv/fill?n=1200&prefix=page%3A", {}, Millis(60000));
  ASSERT_EQ(fill.status, 200) << fill.body;
  // Neighbours of the prefix, to check prefix matching and byte order.
  for (const char* k : {"pag", "pagf", "page", "pagea", "other"}) ASSERT_EQ(put(k, "n").status, 200);

  std::vector<std::string> want;
  for (int i = 0; i < 1200; ++i) {
    char buf[16];
    snprintf(buf, sizeof buf, "page:%05d", i);
    want.emplace_back(buf);
  }

  auto first = list("prefix=page%3A&limit=1000");
  auto names1 = keyNames(first);
  ASSERT_EQ(names1.size(), 1000u);
  EXPECT_EQ(names1, std::vector<std::string>(want.begin(), want.begin() + 1000));
  EXPECT_EQ(first.value("list_complete", true), false);
  ASSERT_TRUE(first.contains("cursor") && first["cursor"].is_string() && !first["cursor"].get<std::string>().empty())
      << "an incomplete page needs a cursor";
  auto second = list("prefix=page%3A&limit=1000&cursor=" + urlEncode(first["cursor"].get<std::string>()));
  auto names2 = keyNames(second);
  EXPECT_EQ(names2, std::vector<std::string>(want.begin() + 1000, want.end()));
  EXPECT_EQ(second.value("list_complete", false), true);

  // The default limit is 1000, as in Workers.
  auto dflt = list("prefix=page%3A");
  EXPECT_EQ(keyNames(dflt).size(), 1000u);
  EXPECT_EQ(dflt.value("list_complete", true), false);

  // Walking pages of 100 visits every key exactly once, in order.
  std::vector<std::string> walked;
  std::string cursor;
  int pages = 0;
  for (; pages < 30; ++pages) {
    auto page = list("prefix=page%3A&limit=100" + (cursor.empty() ? "" : "&cursor=" + urlEncode(cursor)));
    auto names = keyNames(page);
    EXPECT_LE(names.size(), 100u);
    walked.insert(walked.end(), names.begin(), names.end());
    if (page.value("list_complete", true)) break;
    cursor = page.value("cursor", "");
    ASSERT_FALSE(cursor.empty());
  }
  EXPECT_EQ(walked, want) << "after " << pages + 1 << " pages";

  // Without a prefix: byte order across all keys.
  std::vector<std::string> all;
  cursor.clear();
  for (int guard = 0; guard < 5; ++guard) {
    auto page = list(cursor.empty() ? "" : "cursor=" + urlEncode(cursor));
    auto names = keyNames(page);
    all.insert(all.end(), names.begin(), names.end());
    if (page.value("list_complete", true)) break;
    cursor = page.value("cursor", "");
  }
  std::vector<std::string> expect_all = {"other", "pag", "page"};
  expect_all.insert(expect_all.end(), want.begin(), want.end());
  expect_all.push_back("pagea");
  expect_all.push_back("pagf");
  EXPECT_EQ(all, expect_all);

  auto pe = list("prefix=page");
  EXPECT_EQ(keyNames(pe).size(), 1000u) << "prefix \"page\" matches page, page:*, pagea";
  auto none = list("prefix=zzz");
  EXPECT_TRUE(keyNames(none).empty());
  EXPECT_EQ(none.value("list_complete", false), true);
}

TEST_F(KvTest, CliSharesTheStoreWithARunningGatewayAndAfterItStops) {
  ASSERT_TRUE(startKv());
  ASSERT_EQ(put("srv:b", "from-server").status, 200);

  // CLI → gateway.
  auto p = cliKv("put", {"cli:a", "from-cli"});
  ASSERT_TRUE(p.exited) << p.err;
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto g = kvGet("cli:a");
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body, "from-cli");

  // Gateway → CLI: the raw value on stdout.
  auto cg = cliKv("get", {"srv:b"});
  EXPECT_EQ(cg.exit_code, 0) << cg.err;
  EXPECT_EQ(cg.out, "from-server") << "kv get prints the raw value";

  // put without a value argument reads stdin: binary-safe.
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  bool sent = false;
  auto pin = cliKv("put", {"cli:bin"}, "main", [&](std::string& chunk) {
    if (sent) return false;
    chunk = bytes;
    sent = true;
    return true;
  });
  ASSERT_EQ(pin.exit_code, 0) << pin.err;
  auto gb = kvGet("cli:bin", "arrayBuffer");
  EXPECT_EQ(gb.status, 200);
  EXPECT_EQ(gb.body, bytes) << "stdin bytes stored exactly";
  auto cgb = cliKv("get", {"cli:bin"});
  EXPECT_EQ(cgb.out, bytes) << "kv get prints binary values unchanged";

  auto ls = cliKv("list", {});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(splitLines(ls.out), (std::vector<std::string>{"cli:a", "cli:bin", "srv:b"}));

  auto d = cliKv("delete", {"srv:b"});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(kvGet("srv:b").status, 404) << "a CLI delete is seen by the running gateway";
  auto gone = cliKv("get", {"srv:b"});
  EXPECT_EQ(gone.exit_code, 1) << "get of a missing key exits 1";
  EXPECT_TRUE(gone.out.empty()) << gone.out;

  // After the gateway stops.
  gateway_->signal(SIGTERM);
  ASSERT_TRUE(gateway_->waitExit(Millis(15000)));
  auto after = cliKv("get", {"cli:a"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, "from-cli");
  ASSERT_EQ(cliKv("put", {"offline", "written while stopped"}).exit_code, 0);
  gateway_.reset();
  ASSERT_TRUE(startGateway(kvConfig()));
  EXPECT_EQ(kvGet("offline").body, "written while stopped");
}

TEST_F(KvTest, CliMissingKeyExits1AndUsageErrorsExit2) {
  ASSERT_TRUE(startKv());  // creates the store
  ASSERT_EQ(put("present", "yes").status, 200);

  auto miss = cliKv("get", {"absent"});
  ASSERT_TRUE(miss.exited);
  EXPECT_EQ(miss.exit_code, 1);
  EXPECT_TRUE(miss.out.empty());
  EXPECT_FALSE(miss.err.empty()) << "say why on stderr";

  auto ok = cliKv("get", {"present"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "yes");

  EXPECT_EQ(cli({}).exit_code, 2) << "isogate kv without a subcommand";
  EXPECT_EQ(cli({"frobnicate", "--path", kvDir(), "--namespace", "main"}).exit_code, 2);
  EXPECT_EQ(cliKv("get", {}).exit_code, 2) << "get without a key";
  EXPECT_EQ(cliKv("put", {"a", "b", "c"}).exit_code, 2) << "put with an extra argument";
  EXPECT_EQ(cli({"get", "--path", kvDir(), "--namespace", "main", "present", "--no-such-flag"}).exit_code, 2);
}

TEST_F(KvTest, NamespacesAreIsolated) {
  ASSERT_TRUE(startKv());
  ASSERT_EQ(put("shared-name", "in-main").status, 200);
  auto other = cliKv("get", {"shared-name"}, "other");
  EXPECT_EQ(other.exit_code, 1) << "namespace \"other\" must not see main's key: " << other.out;
  ASSERT_EQ(cliKv("put", {"shared-name", "in-other"}, "other").exit_code, 0);
  EXPECT_EQ(kvGet("shared-name").body, "in-main");
  EXPECT_EQ(cliKv("get", {"shared-name"}, "other").out, "in-other");
  EXPECT_EQ(splitLines(cliKv("list", {}, "other").out), std::vector<std::string>{"shared-name"});
  EXPECT_EQ(keyNames(list("")), std::vector<std::string>{"shared-name"});
}

TEST_F(KvTest, AcknowledgedPutsSurviveKill9) {
  ASSERT_TRUE(startKv());
  const int kTotal = 200;
  const int kKillAfter = 60;
  std::vector<int> status(kTotal, 0);
  std::atomic<int> acked{0};
  std::atomic<int> sent{0};
  uint16_t port = port_;
  auto valueFor = [](int i) { return "value-" + std::to_string(i) + "-" + std::string(2048, 'a' + i % 26); };
  auto keyFor = [](int i) {
    char buf[32];
    snprintf(buf, sizeof buf, "crash:%03d", i);
    return std::string(buf);
  };
  auto start = Clock::now();
  std::thread client([&] {
    for (int i = 0; i < kTotal && elapsedMs(start) < 30000; ++i) {
      auto resp = roundTrip(port,
                            buildRequest("POST", "/kv/put?key=" + urlEncode(keyFor(i)),
                                         {{"Connection", "close"}, {"Content-Type", "text/plain"}}, valueFor(i)),
                            Millis(5000));
      status[i] = resp.status;
      sent = i + 1;
      if (resp.status == 200 && resp.body == "stored") ++acked;
    }
  });
  bool reached = pollUntil([&] { return acked.load() >= kKillAfter || sent.load() >= kTotal; }, Millis(25000));
  gateway_->signal(SIGKILL);
  client.join();
  ASSERT_TRUE(reached) << "only " << acked.load() << " puts acknowledged before the deadline";
  auto st = gateway_->waitExit(Millis(5000));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->term_signal, SIGKILL);
  int n_acked = acked.load();
  ASSERT_LT(n_acked, kTotal) << "test problem: the burst finished before the kill";
  RecordProperty("acknowledged_before_kill", n_acked);

  std::set<std::string> acked_keys;
  for (int i = 0; i < kTotal; ++i) {
    if (status[i] == 200) acked_keys.insert(keyFor(i));
  }
  // Offline, with the CLI: every acknowledged key is listed.
  auto ls = cliKv("list", {});
  ASSERT_EQ(ls.exit_code, 0) << "the store must open after kill -9: " << ls.err;
  std::set<std::string> listed;
  for (const auto& k : splitLines(ls.out)) listed.insert(k);
  for (const auto& k : acked_keys) EXPECT_TRUE(listed.count(k)) << k << " was acknowledged but is gone";

  // And a restarted gateway reads every acknowledged value intact.
  gateway_.reset();
  ASSERT_TRUE(startGateway(kvConfig()));
  auto dump = get("/kv/dump?prefix=crash%3A", {}, Millis(30000));
  ASSERT_EQ(dump.status, 200) << dump.body.substr(0, 300);
  auto values = dump.json();
  ASSERT_TRUE(values.is_object());
  int checked = 0;
  for (int i = 0; i < kTotal; ++i) {
    if (status[i] != 200) continue;
    ASSERT_TRUE(values.contains(keyFor(i))) << keyFor(i) << " was acknowledged but is gone after restart";
    EXPECT_EQ(values[keyFor(i)], valueFor(i)) << keyFor(i);
    ++checked;
  }
  EXPECT_EQ(checked, n_acked);
  // Writes still work after recovery.
  EXPECT_EQ(put("after-crash", "fine").status, 200);
  EXPECT_EQ(kvGet("after-crash").body, "fine");
}

}  // namespace
}  // namespace isogate::e2e
