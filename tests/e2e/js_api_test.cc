// Web API tests written in JS (tests/js/<suite>/) run inside the real
// runtime: each TEST writes one module that embeds a case file and a
// `fetch` handler running every case against globalThis, serves it with the
// real binary and asserts on the JSON report the handler returns.
//
// Case files are plain scripts shared with the node drivers next to them
// (run.mjs, run_wpt_url.mjs); the runtime has no eval, so they are pasted
// into the module source (which makes them strict-mode code).

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

const std::string kSourceDir = ISOGATE_SOURCE_DIR;

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Shared JS helpers: reports carry only printable ASCII (lone surrogates from
// the URL data would not survive a JSON parser), and a case that never
// settles fails after a bound instead of hanging the request.
constexpr const char* kRunnerPrelude = R"JS(
function __isoAscii(s) {
  return String(s).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
function __isoMessage(e) {
  if (e !== null && typeof e === 'object' && 'message' in e) return (e.name || 'Error') + ': ' + e.message;
  return 'threw ' + String(e);
}
function __isoClean(result) {
  return {
    passed: result.passed,
    total: result.total,
    failures: result.failures.map((f) => ({ name: __isoAscii(f.name), message: __isoAscii(f.message) })),
  };
}
async function __isoRunCases(cases, perCaseMs) {
  let passed = 0, skipped = 0;
  const failures = [];
  for (const c of cases) {
    // Cases that need the node driver's fake host: `host: true` (fetch_api)
    // or a non-empty `needs` list of harness members (web_basics).
    if (c.host || (Array.isArray(c.needs) && c.needs.length > 0)) { skipped++; continue; }
    let timer;
    try {
      await Promise.race([
        (async () => c.fn(globalThis, null))(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('did not settle within ' + perCaseMs + ' ms')), perCaseMs); }),
      ]);
      passed++;
    } catch (e) {
      failures.push({ name: __isoAscii(c.name), message: __isoAscii(__isoMessage(e)) });
    } finally {
      clearTimeout(timer);
    }
  }
  return { passed, failed: failures.length, skipped, total: cases.length, failures };
}
)JS";

class JsApiTest : public GatewayTest {
 protected:
  // Serves `module_source` as the route /t and returns its JSON report.
  nlohmann::json runModule(const std::string& module_source) {
    dir_.write("suite.js", module_source);
    auto cfg = baseConfig();
    cfg["limits"]["cpu_ms"] = 10000;
    cfg["limits"]["startup_ms"] = 10000;
    cfg["limits"]["wall_ms"] = 60000;
    cfg["routes"] = {{{"name", "t"}, {"match", {{"path", "/t"}}}, {"script", "suite.js"}}};
    if (!startGateway(cfg)) return nullptr;
    auto resp = get("/t", {}, Millis(90000));
    EXPECT_EQ(resp.status, 200) << resp.body;
    auto j = resp.json();
    EXPECT_TRUE(j.is_object()) << "the suite did not report JSON: " << resp.body.substr(0, 2000);
    return j.is_object() ? j : nullptr;
  }

  // A case-list suite: `file` defines `const <var> = [{ name, fn, host? }, ...]`.
  void runCaseSuite(const std::string& label, const std::string& file, const std::string& var) {
    auto source = readFile(kSourceDir + "/" + file);
    if (!source) GTEST_SKIP() << file << " does not exist (yet)";
    std::string name = var;
    if (source->find(var) == std::string::npos) {
      std::smatch m;
      if (!std::regex_search(*source, m, std::regex(R"((?:const|let|var)\s+(\w+Cases)\s*=)"))) {
        FAIL() << file << " defines neither " << var << " nor another *Cases list";
      }
      name = m[1];
    }
    // The case files may not use eval (the runtime refuses it).
    EXPECT_FALSE(std::regex_search(*source, std::regex(R"(\beval\s*\(|new\s+Function\s*\()")))
        << file << " uses eval/new Function, which the runtime refuses";
    std::string module = *source + "\n;\n" + kRunnerPrelude +
                         "export default {\n"
                         "  async fetch() {\n"
                         "    return Response.json(await __isoRunCases(" + name + ", 5000));\n"
                         "  }\n"
                         "};\n";
    auto j = runModule(module);
    ASSERT_FALSE(j.is_null());
    std::cout << label << ": " << j.value("passed", 0) << " passed, " << j.value("failed", 0) << " failed, "
              << j.value("skipped", 0) << " host-only skipped, of " << j.value("total", 0) << "\n";
    for (const auto& f : j["failures"]) {
      std::cout << "  FAIL " << f.value("name", "") << ": " << f.value("message", "") << "\n";
    }
    EXPECT_GT(j.value("passed", 0), 0) << "no case ran";
    EXPECT_EQ(j.value("failed", -1), 0) << label << ": failing cases are listed above";
    for (const auto& f : j["failures"]) ADD_FAILURE() << label << " case " << f.value("name", "") << ": " << f.value("message", "");
  }

  // One WPT URL suite: runs `js_call` (an expression over URL, URLSearchParams
  // and `data`) with `data_file` (or null) embedded, and requires a pass
  // fraction of at least `floor`.
  void runUrlSuite(const std::string& label, const std::string& data_file, const std::string& js_call, double floor) {
    auto cases = readFile(kSourceDir + "/tests/js/url/wpt_url_cases.js");
    if (!cases) GTEST_SKIP() << "tests/js/url/wpt_url_cases.js does not exist (yet)";
    std::string data = "null";
    if (!data_file.empty()) {
      auto raw = readFile(kSourceDir + "/../shared/conformance/wpt-url/" + data_file);
      if (!raw) GTEST_SKIP() << "no " << data_file << " in ../shared/conformance/wpt-url";
      data = *raw;  // JSON is a JS expression; parsing it in C++ would reject its lone surrogates
    }
    std::string fn = js_call.substr(0, js_call.find('('));
    if (cases->find("function " + fn) == std::string::npos) GTEST_SKIP() << "wpt_url_cases.js has no " << fn;
    std::string module = *cases + "\n;\n" + kRunnerPrelude + "const data = " + data + ";\n" +
                         "export default {\n"
                         "  async fetch() {\n"
                         "    return Response.json(__isoClean(" + js_call + "));\n"
                         "  }\n"
                         "};\n";
    auto j = runModule(module);
    ASSERT_FALSE(j.is_null());
    int passed = j.value("passed", 0), total = j.value("total", 0);
    std::cout << label << ": " << passed << "/" << total << "\n";
    for (const auto& f : j["failures"]) {
      std::cout << "  FAIL " << f.value("name", "") << ": " << f.value("message", "") << "\n";
    }
    RecordProperty(label, std::to_string(passed) + "/" + std::to_string(total));
    ASSERT_GT(total, 0);
    double ratio = static_cast<double>(passed) / total;
    EXPECT_GE(ratio, floor) << label << ": " << passed << "/" << total << " passed, below " << floor
                            << " (failures listed above)";
  }
};

TEST_F(JsApiTest, FetchApiCases) {
  runCaseSuite("fetch API cases", "tests/js/fetch_api/cases.js", "fetchApiCases");
}

TEST_F(JsApiTest, WebBasicsCases) {
  runCaseSuite("web basics cases", "tests/js/web_basics/cases.js", "webBasicsCases");
}

TEST_F(JsApiTest, SubtleCryptoCases) {
  runCaseSuite("crypto.subtle cases", "tests/js/subtle_crypto/cases.js", "subtleCryptoCases");
}

TEST_F(JsApiTest, UrlParseCases) {
  runUrlSuite("URL parse cases", "urltestdata.json", "runUrlTestData(URL, data)", 0.95);
}

TEST_F(JsApiTest, UrlCanParseAndParseCases) {
  runUrlSuite("URL.canParse/URL.parse cases", "urltestdata.json", "runUrlStaticsTestData(URL, data)", 0.95);
}

TEST_F(JsApiTest, UrlSetterCases) {
  runUrlSuite("URL setter cases", "setters_tests.json", "runSetterTestData(URL, data)", 0.95);
}

TEST_F(JsApiTest, UrlPercentEncodingCases) {
  runUrlSuite("URL percent-encoding cases", "percent-encoding.json", "runPercentEncodingTestData(URL, data)", 1.0);
}

TEST_F(JsApiTest, UrlToAsciiCases) {
  // IDNA through the runtime's ICU (libicu72): its Unicode data lags the
  // newest WPT cases a little, as node's does in run_wpt_url.mjs.
  runUrlSuite("URL toASCII cases", "toascii.json", "runToASCIITestData(URL, data)", 0.9);
}

TEST_F(JsApiTest, UrlSearchParamsCases) {
  runUrlSuite("URLSearchParams cases", "", "runSearchParamsTests(URL, URLSearchParams)", 1.0);
}

}  // namespace
}  // namespace isogate::e2e
