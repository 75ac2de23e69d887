#include "runtime/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace isogate {
namespace {

using Kind = RouteMatchResult::Kind;
using Params = std::vector<std::pair<std::string, std::string>>;

RouteConfig makeRoute(std::string path, std::vector<std::string> methods = {},
                      std::optional<std::string> host = std::nullopt) {
  RouteConfig route;
  route.name = path;
  route.match.path = std::move(path);
  route.match.methods = std::move(methods);
  route.match.host = std::move(host);
  return route;
}

// True when `path` routes to route 0 of a router holding only `pattern`.
bool pathMatches(const std::string& pattern, std::string_view path) {
  Router router({makeRoute(pattern)});
  return router.match("GET", "example.com", path).kind == Kind::kMatched;
}

bool hostMatches(const std::string& route_host, std::string_view host) {
  Router router({makeRoute("/*", {}, route_host)});
  return router.match("GET", host, "/").kind == Kind::kMatched;
}

// ---------------------------------------------------------------- paths

TEST(RouterExactPath, MatchesOnlyThatPath) {
  EXPECT_TRUE(pathMatches("/v1/health", "/v1/health"));
  EXPECT_FALSE(pathMatches("/v1/health", "/v1/health/"));  // no trailing-slash variant
  EXPECT_FALSE(pathMatches("/v1/health", "/v1/healthz"));
  EXPECT_FALSE(pathMatches("/v1/health", "/v1/health/x"));
  EXPECT_FALSE(pathMatches("/v1/health", "/v1/Health"));  // paths are case-sensitive
  EXPECT_FALSE(pathMatches("/v1/health", "/v1"));
  EXPECT_FALSE(pathMatches("/v1/health", "/"));
}

TEST(RouterExactPath, RootAndTrailingSlashPatterns) {
  EXPECT_TRUE(pathMatches("/", "/"));
  EXPECT_FALSE(pathMatches("/", "/a"));
  EXPECT_TRUE(pathMatches("/v1/dir/", "/v1/dir/"));
  EXPECT_FALSE(pathMatches("/v1/dir/", "/v1/dir"));
}

TEST(RouterExactPath, PercentEncodingIsNotDecoded) {
  EXPECT_FALSE(pathMatches("/v1/users", "/v1/%75sers"));
  EXPECT_TRUE(pathMatches("/v1/a%20b", "/v1/a%20b"));
}

TEST(RouterPrefixPath, MatchesBaseTrailingSlashAndBelow) {
  EXPECT_TRUE(pathMatches("/v1/users/*", "/v1/users"));
  EXPECT_TRUE(pathMatches("/v1/users/*", "/v1/users/"));
  EXPECT_TRUE(pathMatches("/v1/users/*", "/v1/users/42"));
  EXPECT_TRUE(pathMatches("/v1/users/*", "/v1/users/42/orders/7"));
  EXPECT_TRUE(pathMatches("/v1/users/*", "/v1/users//x"));
}

TEST(RouterPrefixPath, StopsAtSegmentBoundary) {
  EXPECT_FALSE(pathMatches("/v1/users/*", "/v1/usersX"));
  EXPECT_FALSE(pathMatches("/v1/users/*", "/v1/users-admin/x"));
  EXPECT_FALSE(pathMatches("/v1/users/*", "/v1/user"));
  EXPECT_FALSE(pathMatches("/v1/users/*", "/v1"));
  EXPECT_FALSE(pathMatches("/v1/users/*", "/v2/users/1"));
  EXPECT_FALSE(pathMatches("/v1/users/*", "/V1/users/1"));
}

TEST(RouterPrefixPath, RootWildcardMatchesEverything) {
  EXPECT_TRUE(pathMatches("/*", "/"));
  EXPECT_TRUE(pathMatches("/*", "/a"));
  EXPECT_TRUE(pathMatches("/*", "/a/b/c/"));
  EXPECT_TRUE(pathMatches("/*", "//"));
}

TEST(RouterParamPath, SingleParam) {
  Router router({makeRoute("/v1/users/:id")});
  RouteMatchResult r = router.match("GET", "h", "/v1/users/42");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.route_index, 0u);
  EXPECT_EQ(r.params, (Params{{"id", "42"}}));
}

TEST(RouterParamPath, ExactlyOneNonEmptySegment) {
  EXPECT_FALSE(pathMatches("/v1/users/:id", "/v1/users"));
  EXPECT_FALSE(pathMatches("/v1/users/:id", "/v1/users/"));
  EXPECT_FALSE(pathMatches("/v1/users/:id", "/v1/users/42/"));
  EXPECT_FALSE(pathMatches("/v1/users/:id", "/v1/users/42/orders"));
  EXPECT_FALSE(pathMatches("/v1/users/:id", "/v1/usersX/42"));
  EXPECT_FALSE(pathMatches("/v1/users/:id", "/v1/users//42"));
}

TEST(RouterParamPath, SeveralParamsInPatternOrder) {
  Router router({makeRoute("/v1/:tenant/users/:id/orders/:order")});
  RouteMatchResult r = router.match("GET", "h", "/v1/acme/users/7/orders/99");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.params, (Params{{"tenant", "acme"}, {"id", "7"}, {"order", "99"}}));
  EXPECT_EQ(router.match("GET", "h", "/v1/acme/people/7/orders/99").kind, Kind::kNoRoute);
  EXPECT_EQ(router.match("GET", "h", "/v1/acme/users/7/orders").kind, Kind::kNoRoute);
}

TEST(RouterParamPath, AdjacentParamsAndLeadingParam) {
  Router router({makeRoute("/:a/:b")});
  RouteMatchResult r = router.match("GET", "h", "/x/y");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.params, (Params{{"a", "x"}, {"b", "y"}}));
  EXPECT_EQ(router.match("GET", "h", "/x").kind, Kind::kNoRoute);
  EXPECT_EQ(router.match("GET", "h", "/x/y/z").kind, Kind::kNoRoute);
  EXPECT_EQ(router.match("GET", "h", "//y").kind, Kind::kNoRoute);
}

TEST(RouterParamPath, ValuesStayPercentEncoded) {
  Router router({makeRoute("/files/:name")});
  RouteMatchResult r = router.match("GET", "h", "/files/a%2Fb%20c");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.params, (Params{{"name", "a%2Fb%20c"}}));
}

TEST(RouterParamPath, ParamsWithWildcardTail) {
  Router router({makeRoute("/v1/:tenant/files/*")});
  for (std::string_view path : {"/v1/acme/files", "/v1/acme/files/", "/v1/acme/files/a/b.txt"}) {
    RouteMatchResult r = router.match("GET", "h", path);
    ASSERT_EQ(r.kind, Kind::kMatched) << path;
    EXPECT_EQ(r.params, (Params{{"tenant", "acme"}})) << path;
  }
  EXPECT_EQ(router.match("GET", "h", "/v1/acme/filesX").kind, Kind::kNoRoute);
  EXPECT_EQ(router.match("GET", "h", "/v1/acme/filesX/a").kind, Kind::kNoRoute);
  EXPECT_EQ(router.match("GET", "h", "/v1//files/a").kind, Kind::kNoRoute);
  EXPECT_EQ(router.match("GET", "h", "/v1/acme").kind, Kind::kNoRoute);
}

TEST(RouterParamPath, ParamThenWildcardTail) {
  Router router({makeRoute("/u/:id/*")});
  RouteMatchResult r = router.match("GET", "h", "/u/5/x/y");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.params, (Params{{"id", "5"}}));
  EXPECT_EQ(router.match("GET", "h", "/u/5").kind, Kind::kMatched);
  EXPECT_EQ(router.match("GET", "h", "/u/").kind, Kind::kNoRoute);
}

TEST(RouterParamPath, NoParamsOnOtherKinds) {
  Router router({makeRoute("/a/*"), makeRoute("/b")});
  EXPECT_TRUE(router.match("GET", "h", "/a/x").params.empty());
  EXPECT_TRUE(router.match("GET", "h", "/b").params.empty());
}

TEST(RouterParamPath, FailedParamRouteLeavesNoParamsBehind) {
  // The first route's ":id" segment matches but its "orders" literal does
  // not; the params reported must be the winning route's only.
  Router router({makeRoute("/v1/:id/orders"), makeRoute("/v1/:name/*")});
  RouteMatchResult r = router.match("GET", "h", "/v1/bob/profile");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.route_index, 1u);
  EXPECT_EQ(r.params, (Params{{"name", "bob"}}));
}

// ---------------------------------------------------------------- order

TEST(RouterOrder, FirstMatchWins) {
  Router router({makeRoute("/v1/users/me"), makeRoute("/v1/users/:id"), makeRoute("/v1/users/*"),
                 makeRoute("/*")});
  EXPECT_EQ(router.match("GET", "h", "/v1/users/me").route_index, 0u);
  EXPECT_EQ(router.match("GET", "h", "/v1/users/42").route_index, 1u);
  EXPECT_EQ(router.match("GET", "h", "/v1/users/42/x").route_index, 2u);
  EXPECT_EQ(router.match("GET", "h", "/v1/users").route_index, 2u);
  EXPECT_EQ(router.match("GET", "h", "/other").route_index, 3u);
}

TEST(RouterOrder, EarlierBroadRouteShadowsLaterSpecificOne) {
  Router router({makeRoute("/*"), makeRoute("/v1/health")});
  RouteMatchResult r = router.match("GET", "h", "/v1/health");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.route_index, 0u);
}

TEST(RouterOrder, MethodMismatchFallsThroughToLaterRoute) {
  Router router({makeRoute("/v1/items", {"GET"}), makeRoute("/v1/items", {"POST"}),
                 makeRoute("/*")});
  EXPECT_EQ(router.match("GET", "h", "/v1/items").route_index, 0u);
  EXPECT_EQ(router.match("POST", "h", "/v1/items").route_index, 1u);
  RouteMatchResult r = router.match("DELETE", "h", "/v1/items");
  ASSERT_EQ(r.kind, Kind::kMatched);  // the catch-all beats a 405
  EXPECT_EQ(r.route_index, 2u);
}

TEST(RouterOrder, HostMismatchFallsThroughToLaterRoute) {
  Router router({makeRoute("/*", {}, "api.example.com"), makeRoute("/*")});
  EXPECT_EQ(router.match("GET", "api.example.com", "/").route_index, 0u);
  EXPECT_EQ(router.match("GET", "www.example.com", "/").route_index, 1u);
}

TEST(RouterOrder, EmptyRouterHasNoRoute) {
  Router router({});
  RouteMatchResult r = router.match("GET", "h", "/");
  EXPECT_EQ(r.kind, Kind::kNoRoute);
  EXPECT_TRUE(r.allow.empty());
  EXPECT_TRUE(r.params.empty());
}

// ---------------------------------------------------------------- host

TEST(RouterHost, EmptyMatchesAnyHost) {
  Router router({makeRoute("/x")});
  EXPECT_EQ(router.match("GET", "anything.test", "/x").kind, Kind::kMatched);
  EXPECT_EQ(router.match("GET", "", "/x").kind, Kind::kMatched);
  EXPECT_EQ(router.match("GET", "[::1]:80", "/x").kind, Kind::kMatched);
}

TEST(RouterHost, ExactIsCaseInsensitive) {
  EXPECT_TRUE(hostMatches("api.example.com", "api.example.com"));
  EXPECT_TRUE(hostMatches("api.example.com", "API.Example.COM"));
  EXPECT_FALSE(hostMatches("api.example.com", "www.example.com"));
  EXPECT_FALSE(hostMatches("api.example.com", "api.example.com.evil"));
  EXPECT_FALSE(hostMatches("api.example.com", "xapi.example.com"));
  EXPECT_FALSE(hostMatches("api.example.com", ""));
}

TEST(RouterHost, IgnoresPort) {
  EXPECT_TRUE(hostMatches("api.example.com", "api.example.com:8080"));
  EXPECT_TRUE(hostMatches("api.example.com", "API.example.com:443"));
  EXPECT_TRUE(hostMatches("api.example.com", "api.example.com:"));
  EXPECT_TRUE(hostMatches("127.0.0.1", "127.0.0.1:8787"));
  EXPECT_FALSE(hostMatches("api.example.com", "api.example.co:8080"));
}

TEST(RouterHost, Ipv6Literal) {
  EXPECT_TRUE(hostMatches("::1", "[::1]:8080"));
  EXPECT_TRUE(hostMatches("::1", "[::1]"));
  EXPECT_TRUE(hostMatches("[::1]", "[::1]:8080"));
  EXPECT_TRUE(hostMatches("2001:db8::1", "[2001:DB8::1]:443"));
  EXPECT_FALSE(hostMatches("::1", "[::2]:8080"));
  EXPECT_FALSE(hostMatches("::1", "[::1"));  // malformed
}

TEST(RouterHost, WildcardMatchesSubdomainsOnly) {
  EXPECT_TRUE(hostMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(hostMatches("*.example.com", "a.b.example.com"));
  EXPECT_TRUE(hostMatches("*.example.com", "A.Example.Com"));
  EXPECT_TRUE(hostMatches("*.example.com", "a.example.com:8443"));
  EXPECT_FALSE(hostMatches("*.example.com", "example.com"));
  EXPECT_FALSE(hostMatches("*.example.com", "example.com:80"));
  EXPECT_FALSE(hostMatches("*.example.com", ".example.com"));
  EXPECT_FALSE(hostMatches("*.example.com", "aexample.com"));
  EXPECT_FALSE(hostMatches("*.example.com", "a.example.com.evil"));
  EXPECT_FALSE(hostMatches("*.example.com", "a.example.org"));
  EXPECT_FALSE(hostMatches("*.example.com", ""));
}

TEST(RouterHost, UpperCaseConfigHostStillMatches) {
  // Config lower-cases hosts, but the router does not rely on it.
  EXPECT_TRUE(hostMatches("API.Example.com", "api.example.com"));
  EXPECT_TRUE(hostMatches("*.Example.COM", "a.example.com"));
}

// ---------------------------------------------------------------- methods

TEST(RouterMethod, EmptyListAcceptsAnyMethod) {
  Router router({makeRoute("/x")});
  for (std::string_view m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE"}) {
    EXPECT_EQ(router.match(m, "h", "/x").kind, Kind::kMatched) << m;
  }
}

TEST(RouterMethod, ExactUpperCaseMatch) {
  Router router({makeRoute("/x", {"POST", "PUT"})});
  EXPECT_EQ(router.match("POST", "h", "/x").kind, Kind::kMatched);
  EXPECT_EQ(router.match("PUT", "h", "/x").kind, Kind::kMatched);
  EXPECT_EQ(router.match("post", "h", "/x").kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(router.match("POSTX", "h", "/x").kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(router.match("GET", "h", "/x").kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(router.match("HEAD", "h", "/x").kind, Kind::kMethodNotAllowed);
}

TEST(RouterMethod, GetAlsoAcceptsHead) {
  Router router({makeRoute("/x", {"GET"})});
  EXPECT_EQ(router.match("GET", "h", "/x").kind, Kind::kMatched);
  EXPECT_EQ(router.match("HEAD", "h", "/x").kind, Kind::kMatched);
  EXPECT_EQ(router.match("POST", "h", "/x").kind, Kind::kMethodNotAllowed);
}

TEST(RouterMethod, HeadDoesNotImplyGet) {
  Router router({makeRoute("/x", {"HEAD"})});
  EXPECT_EQ(router.match("HEAD", "h", "/x").kind, Kind::kMatched);
  EXPECT_EQ(router.match("GET", "h", "/x").kind, Kind::kMethodNotAllowed);
}

// ---------------------------------------------------------------- 404 / 405

TEST(RouterNotFound, NoPathMatchIsNoRoute) {
  Router router({makeRoute("/v1/users/*", {"GET"})});
  RouteMatchResult r = router.match("POST", "h", "/v2/users");
  EXPECT_EQ(r.kind, Kind::kNoRoute);
  EXPECT_TRUE(r.allow.empty());
}

TEST(RouterNotFound, PathMatchOnOtherHostIsNoRoute) {
  // A path that matches only on a route for another host is a 404, not a 405.
  Router router({makeRoute("/x", {"GET"}, "api.example.com")});
  EXPECT_EQ(router.match("POST", "www.example.com", "/x").kind, Kind::kNoRoute);
  EXPECT_EQ(router.match("POST", "api.example.com", "/x").kind, Kind::kMethodNotAllowed);
}

TEST(RouterMethodNotAllowed, AllowListsMethodsWithHeadAfterGet) {
  Router router({makeRoute("/v1/users/*", {"GET", "POST"})});
  RouteMatchResult r = router.match("DELETE", "h", "/v1/users/1");
  ASSERT_EQ(r.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(r.allow, "GET, HEAD, POST");
  EXPECT_TRUE(r.params.empty());
}

TEST(RouterMethodNotAllowed, HeadNotDuplicatedWhenListed) {
  Router router({makeRoute("/x", {"HEAD", "GET"})});
  EXPECT_EQ(router.match("PUT", "h", "/x").allow, "HEAD, GET");
  Router router2({makeRoute("/x", {"GET", "POST", "HEAD"})});
  EXPECT_EQ(router2.match("PUT", "h", "/x").allow, "GET, POST, HEAD");
}

TEST(RouterMethodNotAllowed, NoHeadWithoutGet) {
  Router router({makeRoute("/x", {"POST", "PUT"})});
  EXPECT_EQ(router.match("GET", "h", "/x").allow, "POST, PUT");
}

TEST(RouterMethodNotAllowed, UnionOverRoutesInFirstSeenOrder) {
  Router router({
      makeRoute("/v1/items/:id", {"PUT", "GET"}),
      makeRoute("/v1/other", {"TRACE"}),            // path does not match
      makeRoute("/v1/items/*", {"POST", "PUT"}),
      makeRoute("/v1/items/*", {"DELETE", "GET"}, "other.example.com"),  // host does not match
      makeRoute("/*", {"PATCH", "DELETE"}),
  });
  RouteMatchResult r = router.match("OPTIONS", "api.example.com", "/v1/items/5");
  ASSERT_EQ(r.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(r.allow, "PUT, GET, HEAD, POST, PATCH, DELETE");
}

TEST(RouterMethodNotAllowed, HeadFromAnyRouteCountsAsListed) {
  Router router({makeRoute("/x", {"GET"}), makeRoute("/*", {"POST", "HEAD"})});
  EXPECT_EQ(router.match("PUT", "h", "/x").allow, "GET, POST, HEAD");
}

TEST(RouterMethodNotAllowed, DuplicateMethodsListedOnce) {
  Router router({makeRoute("/x", {"GET", "GET"}), makeRoute("/x", {"GET", "POST"})});
  EXPECT_EQ(router.match("PUT", "h", "/x").allow, "GET, HEAD, POST");
}

TEST(RouterMethodNotAllowed, DoesNotConfuseMethodPrefixes) {
  // "GET" is already in the list as part of "GETX"; it must still be added.
  Router router({makeRoute("/x", {"GETX"}), makeRoute("/x", {"GET"})});
  EXPECT_EQ(router.match("PUT", "h", "/x").allow, "GETX, GET, HEAD");
}

TEST(RouterMethodNotAllowed, LaterFullMatchBeats405) {
  Router router({makeRoute("/x", {"GET"}), makeRoute("/x", {"POST"})});
  RouteMatchResult r = router.match("POST", "h", "/x");
  ASSERT_EQ(r.kind, Kind::kMatched);
  EXPECT_EQ(r.route_index, 1u);
  EXPECT_TRUE(r.allow.empty());
}

TEST(RouterMethodNotAllowed, ParamRouteContributes) {
  Router router({makeRoute("/v1/users/:id", {"GET"})});
  RouteMatchResult r = router.match("POST", "h", "/v1/users/7");
  ASSERT_EQ(r.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(r.allow, "GET, HEAD");
  EXPECT_TRUE(r.params.empty());
  EXPECT_EQ(router.match("POST", "h", "/v1/users/").kind, Kind::kNoRoute);
}

TEST(RouterMethodNotAllowed, WildcardHostRouteContributes) {
  Router router({makeRoute("/x", {"POST"}, "*.example.com")});
  EXPECT_EQ(router.match("GET", "a.example.com:8080", "/x").allow, "POST");
  EXPECT_EQ(router.match("GET", "example.com", "/x").kind, Kind::kNoRoute);
}

TEST(RouterConcurrency, RouterIsUsableThroughConstReference) {
  const Router router({makeRoute("/v1/:id")});
  const Router& ref = router;
  EXPECT_EQ(ref.match("GET", "h", "/v1/1").params, (Params{{"id", "1"}}));
}

// ---------------------------------------------------------------- normalizePath

std::string normalized(std::string_view raw) {
  std::string out = "garbage";
  EXPECT_TRUE(normalizePath(raw, &out)) << raw;
  return out;
}

TEST(NormalizePath, RejectsPathsNotStartingWithSlash) {
  std::string out = "unchanged";
  EXPECT_FALSE(normalizePath("", &out));
  EXPECT_FALSE(normalizePath("a/b", &out));
  EXPECT_FALSE(normalizePath("*", &out));
  EXPECT_FALSE(normalizePath("http://a/b", &out));
  EXPECT_FALSE(normalizePath("./a", &out));
  EXPECT_FALSE(normalizePath("%2F", &out));
  EXPECT_EQ(out, "unchanged");
}

TEST(NormalizePath, FastPathCopiesAsIs) {
  EXPECT_EQ(normalized("/"), "/");
  EXPECT_EQ(normalized("/a/b/c"), "/a/b/c");
  EXPECT_EQ(normalized("/a//b///"), "/a//b///");
  EXPECT_EQ(normalized("//"), "//");
}

TEST(NormalizePath, KeepsOtherBytes) {
  EXPECT_EQ(normalized("/a%20b/c%2Fd"), "/a%20b/c%2Fd");
  EXPECT_EQ(normalized("/file.txt"), "/file.txt");
  EXPECT_EQ(normalized("/.hidden/x"), "/.hidden/x");
  EXPECT_EQ(normalized("/a../b"), "/a../b");
  EXPECT_EQ(normalized("/..a/b"), "/..a/b");
  EXPECT_EQ(normalized("/.../b"), "/.../b");
  EXPECT_EQ(normalized("/a/%2e%2e%2e/b"), "/a/%2e%2e%2e/b");
  EXPECT_EQ(normalized("/a/%2ex/b"), "/a/%2ex/b");
  EXPECT_EQ(normalized("/a/%2/b"), "/a/%2/b");
  EXPECT_EQ(normalized("/a/%2"), "/a/%2");
  EXPECT_EQ(normalized("/a/%"), "/a/%");
  EXPECT_EQ(normalized("/a/%252e%252e/b"), "/a/%252e%252e/b");  // double-encoded: not a dot
  EXPECT_EQ(normalized("/a//./b"), "/a//b");
}

TEST(NormalizePath, SingleDotSegments) {
  EXPECT_EQ(normalized("/a/./b"), "/a/b");
  EXPECT_EQ(normalized("/./a"), "/a");
  EXPECT_EQ(normalized("/a/."), "/a/");
  EXPECT_EQ(normalized("/."), "/");
  EXPECT_EQ(normalized("/./"), "/");
  EXPECT_EQ(normalized("/a/././b/./"), "/a/b/");
}

TEST(NormalizePath, DoubleDotSegments) {
  EXPECT_EQ(normalized("/a/b/../c"), "/a/c");
  EXPECT_EQ(normalized("/a/b/.."), "/a/");
  EXPECT_EQ(normalized("/a/b/../"), "/a/");
  EXPECT_EQ(normalized("/a/b/../../c"), "/c");
  EXPECT_EQ(normalized("/.."), "/");
  EXPECT_EQ(normalized("/../"), "/");
  EXPECT_EQ(normalized("/../../a"), "/a");
  EXPECT_EQ(normalized("/a/../../../b"), "/b");
  EXPECT_EQ(normalized("/public/../admin"), "/admin");
}

TEST(NormalizePath, PercentEncodedDots) {
  EXPECT_EQ(normalized("/a/%2e%2e/b"), "/b");
  EXPECT_EQ(normalized("/a/%2E%2E/b"), "/b");
  EXPECT_EQ(normalized("/a/.%2e/b"), "/b");
  EXPECT_EQ(normalized("/a/%2E./b"), "/b");
  EXPECT_EQ(normalized("/a/%2e/b"), "/a/b");
  EXPECT_EQ(normalized("/a/%2E"), "/a/");
  EXPECT_EQ(normalized("/a/b/%2e%2e"), "/a/");
  EXPECT_EQ(normalized("/public/%2e%2e/admin"), "/admin");
}

TEST(NormalizePath, RfcExamples) {
  // RFC 3986 5.2.4 and 5.4.2.
  EXPECT_EQ(normalized("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(normalized("/b/c/d;p/../g"), "/b/c/g");
  EXPECT_EQ(normalized("/b/c/./g"), "/b/c/g");
  EXPECT_EQ(normalized("/b/c/g/."), "/b/c/g/");
  EXPECT_EQ(normalized("/b/c/g/.."), "/b/c/");
  EXPECT_EQ(normalized("/b/c/../../../g"), "/g");
}

TEST(NormalizePath, RepeatedSlashesAroundDotSegments) {
  // An empty segment is a segment: ".." removes it, as RFC 3986 does.
  EXPECT_EQ(normalized("//a/../b"), "//b");
  EXPECT_EQ(normalized("/a//../b"), "/a/b");
  EXPECT_EQ(normalized("/a/..//b"), "//b");
}

TEST(NormalizePath, ReusesOutput) {
  std::string out = "something long that must be replaced entirely";
  ASSERT_TRUE(normalizePath("/a/../b", &out));
  EXPECT_EQ(out, "/b");
  ASSERT_TRUE(normalizePath("/c", &out));
  EXPECT_EQ(out, "/c");
}

TEST(NormalizePath, TraversalCannotReachProtectedRoute) {
  Router router({makeRoute("/public/*", {"GET"})});
  std::string path;
  ASSERT_TRUE(normalizePath("/public/%2e%2e/admin", &path));
  EXPECT_EQ(router.match("GET", "h", path).kind, Kind::kNoRoute);
  ASSERT_TRUE(normalizePath("/public/./a/../b", &path));
  EXPECT_EQ(path, "/public/b");
  EXPECT_EQ(router.match("GET", "h", path).kind, Kind::kMatched);
}

}  // namespace
}  // namespace isogate
