// runtime/admin_api.cc: endpoints, readiness, methods, and the token rules
// (absent → /admin/* does not exist; wrong or missing → 401).

#include "runtime/admin_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/config.h"
#include "runtime/deployment.h"
#include "runtime/prometheus_text.h"

namespace isogate {
namespace {

std::shared_ptr<const Deployment> proxyDeployment() {
  const char* text = R"({
    "listen": ["127.0.0.1:0"],
    "origins": {"o": {"url": "http://127.0.0.1:9"}},
    "routes": [
      {"name": "api", "match": {"path": "/api/*", "methods": ["GET"]}, "proxy": {"origin": "o"}},
      {"match": {"path": "/other"}, "proxy": {"origin": "o"}}
    ]})";
  return std::make_shared<const Deployment>(parseConfig(text, "/srv/gw/isogate.json"), Deployment::Use::kCheck);
}

class AdminApiTest : public ::testing::Test {
 protected:
  AdminResponse get(const std::string& target, const char* authorization = nullptr) {
    std::string auth = authorization ? authorization : "";
    return api_.handle("GET", target, authorization ? &auth : nullptr);
  }
  AdminApi api_;
};

TEST_F(AdminApiTest, HealthzIsAlwaysOk) {
  AdminResponse r = get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(AdminApiTest, ReadyzFollowsStartAndDrain) {
  EXPECT_EQ(get("/readyz").status, 503) << "not ready before the first deployment is serving";
  api_.setDeployment(proxyDeployment(), 1700000000000, "");
  api_.setReady();
  EXPECT_EQ(get("/readyz").status, 200);
  api_.setDraining();
  AdminResponse r = get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "draining\n");
  EXPECT_EQ(get("/healthz").status, 200) << "alive while draining";
}

TEST_F(AdminApiTest, MetricsNeedNoTokenAndUseTheTextFormat) {
  AdminResponse r = get("/metrics?x=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, kPrometheusContentType);
  EXPECT_NE(r.body.find("# TYPE isogate_requests_total counter"), std::string::npos);
}

TEST_F(AdminApiTest, OnlyGetAndHead) {
  std::string none;
  AdminResponse r = api_.handle("POST", "/metrics", nullptr);
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "Allow");
  EXPECT_EQ(r.headers[0].value, "GET, HEAD");
  EXPECT_EQ(api_.handle("HEAD", "/healthz", nullptr).status, 200);
}

TEST_F(AdminApiTest, UnknownPathsAre404Json) {
  AdminResponse r = get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "not_found");
}

TEST_F(AdminApiTest, AdminEndpointsDoNotExistWithoutAToken) {
  api_.setDeployment(proxyDeployment(), 0, "");
  EXPECT_EQ(get("/admin/config").status, 404);
  EXPECT_EQ(get("/admin/stats", "Bearer ").status, 404);
}

TEST_F(AdminApiTest, AdminEndpointsNeedTheBearerToken) {
  api_.setDeployment(proxyDeployment(), 0, "s3cret-token");
  for (const char* wrong : {static_cast<const char*>(nullptr), "", "Bearer", "Bearer ", "Bearer s3cret",
                            "Bearer s3cret-token2", "Basic s3cret-token", "s3cret-token"}) {
    AdminResponse r = get("/admin/stats", wrong);
    EXPECT_EQ(r.status, 401) << (wrong ? wrong : "(no header)");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].name, "WWW-Authenticate");
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "unauthorized");
  }
  EXPECT_EQ(get("/admin/stats", "Bearer s3cret-token").status, 200);
  EXPECT_EQ(get("/admin/stats", "bearer  s3cret-token").status, 200) << "the scheme is case-insensitive";
  EXPECT_EQ(get("/admin/nope", "Bearer s3cret-token").status, 404);
}

TEST_F(AdminApiTest, ConfigDescribesTheRunningDeployment) {
  auto deployment = proxyDeployment();
  api_.setDeployment(deployment, 1700000000123, "t");
  AdminResponse r = get("/admin/config", "Bearer t");
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["id"], deployment->id());
  EXPECT_EQ(j["loaded_at_ms"], 1700000000123);
  EXPECT_EQ(j["loaded_at"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["config_file"], "/srv/gw/isogate.json");
  ASSERT_EQ(j["routes"].size(), 2u);
  EXPECT_EQ(j["routes"][0]["name"], "api");
  EXPECT_EQ(j["routes"][0]["kind"], "proxy");
  EXPECT_EQ(j["routes"][0]["match"]["path"], "/api/*");
  EXPECT_EQ(j["routes"][0]["match"]["methods"], nlohmann::json::array({"GET"}));
  EXPECT_EQ(j["routes"][1]["name"], "/other");
}

TEST_F(AdminApiTest, StatsListConfiguredRoutesBeforeTraffic) {
  api_.setDeployment(proxyDeployment(), 0, "t");
  auto j = nlohmann::json::parse(get("/admin/stats", "Bearer t").body);
  ASSERT_TRUE(j["routes"].is_array());
  ASSERT_GE(j["routes"].size(), 2u);
  EXPECT_EQ(j["routes"][0]["route"], "api");
  EXPECT_EQ(j["routes"][0]["requests"], 0);
  EXPECT_TRUE(j["routes"][0]["p99_ms"].is_null());
  EXPECT_GT(j["window_seconds"].get<double>(), 0);
}

}  // namespace
}  // namespace isogate
