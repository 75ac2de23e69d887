// The isogate command line: version, check, usage errors, serve/dev start-up.

#include <gtest/gtest.h>

#include <regex>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

CommandResult isogate(const std::vector<std::string>& args, const std::string& cwd = "") {
  std::vector<std::string> argv = {isogateBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, Millis(20000), {}, cwd);
}

// A minimal valid config whose origin nobody needs to reach.
nlohmann::json validConfig() {
  return {{"listen", {"127.0.0.1:0"}},
          {"origins", {{"o", {{"url", "http://127.0.0.1:9"}}}}},
          {"routes", {{{"match", {{"path", "/api/*"}}}, {"proxy", {{"origin", "o"}}}}}}};
}

// True if some stderr line starts with "FILE: PATH: " followed by a message.
bool hasConfigErrorLine(const std::string& err, const std::string& file, const std::string& json_path) {
  std::string prefix = file + ": " + json_path + ": ";
  size_t pos = 0;
  while (pos < err.size()) {
    size_t end = err.find('\n', pos);
    std::string line = err.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size()) return true;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return false;
}

TEST(CliTest, VersionPrintsNameAndSemver) {
  auto r = isogate({"version"});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(r.out, std::regex(R"(isogate \d+\.\d+\.\d+\n?)"))) << "stdout: '" << r.out << "'";
}

TEST(CliTest, UnknownSubcommandExits2) {
  auto r = isogate({"frobnicate"});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_FALSE(r.err.empty()) << "a usage error should say something on stderr";
}

TEST(CliTest, UnknownOptionExits2) {
  TempDir dir;
  std::string cfg = dir.write("isogate.json", validConfig().dump());
  auto r = isogate({"check", "-c", cfg, "--no-such-option"});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(CliTest, CheckAcceptsValidConfig) {
  TempDir dir;
  std::string cfg = dir.write("isogate.json", validConfig().dump(2));
  auto r = isogate({"check", "-c", cfg});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliTest, CheckDefaultsToIsogateJsonInWorkingDirectory) {
  TempDir dir;
  dir.write("isogate.json", validConfig().dump(2));
  auto ok = isogate({"check"}, dir.path());
  ASSERT_TRUE(ok.exited);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  TempDir empty;
  auto missing = isogate({"check"}, empty.path());
  ASSERT_TRUE(missing.exited);
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
}

TEST(CliTest, CheckReportsUnknownOriginWithJsonPath) {
  TempDir dir;
  auto cfg = validConfig();
  cfg["routes"][0]["proxy"]["origin"] = "ordrs";
  std::string file = dir.write("bad.json", cfg.dump(2));
  auto r = isogate({"check", "-c", file});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(hasConfigErrorLine(r.err, file, "routes[0].proxy.origin")) << "stderr: " << r.err;
}

TEST(CliTest, CheckReportsWrongTypeWithJsonPath) {
  TempDir dir;
  auto cfg = validConfig();
  cfg["limits"] = {{"header_bytes", "lots"}};
  std::string file = dir.write("bad.json", cfg.dump(2));
  auto r = isogate({"check", "-c", file});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(hasConfigErrorLine(r.err, file, "limits.header_bytes")) << "stderr: " << r.err;
}

TEST(CliTest, CheckReportsUnknownKeyWithJsonPath) {
  TempDir dir;
  auto cfg = validConfig();
  cfg["origins"]["o"]["timeout_msec"] = 5;
  std::string file = dir.write("bad.json", cfg.dump(2));
  auto r = isogate({"check", "-c", file});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(hasConfigErrorLine(r.err, file, "origins.o.timeout_msec")) << "stderr: " << r.err;
}

TEST(CliTest, CheckRejectsInvalidJsonSyntax) {
  TempDir dir;
  std::string file = dir.write("bad.json", "{\"listen\": [\"127.0.0.1:0\"],,}");
  auto r = isogate({"check", "-c", file});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind(file, 0), 0u) << "the error line should start with the file name; stderr: " << r.err;
}

TEST(CliTest, ServeWithBadConfigExits1WithoutListening) {
  TempDir dir;
  auto cfg = validConfig();
  cfg["routes"][0]["proxy"]["origin"] = "missing";
  std::string file = dir.write("bad.json", cfg.dump(2));
  GatewayProcess gw({"serve", "-c", file}, dir.path());
  ASSERT_TRUE(gw.started());
  auto status = gw.waitExit(Millis(15000));
  ASSERT_TRUE(status) << "serve with a bad config should exit";
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 1);
  EXPECT_TRUE(gw.listeningPorts().empty());
  EXPECT_TRUE(hasConfigErrorLine(gw.stderrText(), file, "routes[0].proxy.origin")) << gw.stderrText();
}

TEST(CliTest, ServeWithMissingConfigFileExits1) {
  TempDir dir;
  std::string file = dir.path() + "/does-not-exist.json";
  auto r = isogate({"serve", "-c", file});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does-not-exist.json"), std::string::npos) << r.err;
}

class CliServeTest : public GatewayTest {};

TEST_F(CliServeTest, ServePrintsListeningLineAndServes) {
  ASSERT_TRUE(startGateway(baseConfig()));
  EXPECT_NE(gateway_->stderrText().find("isogate: listening on http://127.0.0.1:" + std::to_string(port_)),
            std::string::npos);
  auto resp = get("/api/hello");
  EXPECT_EQ(resp.status, 200);
  // Nothing but access-log JSON on stdout.
  ASSERT_TRUE(gateway_->waitForStdoutLines(1, Millis(3000)));
  for (const auto& line : gateway_->stdoutLines()) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(!j.is_discarded() && j.is_object()) << "non-JSON stdout line: " << line;
  }
}

TEST_F(CliServeTest, DevListensOnGivenPort) {
  uint16_t port = unusedPort();
  ASSERT_TRUE(startGatewayWithArgs(baseConfig(), {"dev", "-c", "CONFIG", "--port", std::to_string(port)}));
  EXPECT_EQ(port_, port);
  EXPECT_NE(gateway_->stderrText().find("isogate: listening on http://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << gateway_->stderrText();
  auto resp = get("/api/dev");
  EXPECT_EQ(resp.status, 200);
  gateway_->signal(SIGTERM);
  auto status = gateway_->waitExit(Millis(10000));
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);
}

}  // namespace
}  // namespace isogate::e2e
