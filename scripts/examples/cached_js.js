// The seed's "cache GET responses for 60 s", in JavaScript (the declarative
// form is the "cached" proxy route in isogate.json).
//
// GET /cached-js/users/1 fetches /mock/users/1 through the "self" origin
// with { cacheTtl: 60 }: the gateway's shared response cache answers for 60
// seconds, whatever the backend's own Cache-Control says (unless it says
// no-store or private), and concurrent misses make one backend request.
//
// GET /cached-js/report builds a response in JavaScript and keeps it with the
// Workers Cache API (caches.default) for 30 seconds.
//
//   curl -i localhost:8787/cached-js/users/1   # Cache-Status: isogate; fwd=miss; stored
//   curl -i localhost:8787/cached-js/users/1   # Cache-Status: isogate; hit  (and Age)
//   curl -i localhost:8787/cached-js/report    # built; again within 30 s: Cache-Status: isogate; hit
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/cached-js/report") return report(request, ctx);
    const path = url.pathname.slice("/cached-js".length);
    // The origin binding keeps path and query; the host name is ignored.
    return env.API.fetch(`http://self/mock${path}${url.search}`, {
      headers: { Accept: request.headers.get("Accept") ?? "application/json" },
      cacheTtl: 60,
    });
  },
};

async function report(request, ctx) {
  const cache = caches.default;
  const key = new Request(new URL("/cached-js/report", request.url));
  const cached = await cache.match(key);
  if (cached) return cached;

  const body = JSON.stringify({ generated_at: new Date().toISOString(), rows: [1, 2, 3] });
  const response = new Response(body, {
    headers: { "Content-Type": "application/json", "Cache-Control": "max-age=30", "X-Report": "built" },
  });
  // put() consumes the body it stores, so store a clone; waitUntil lets the
  // response go out without waiting for the store.
  ctx.waitUntil(cache.put(key, response.clone()));
  return response;
}
