// The seed's rate limit: 100 requests per minute per API key (X-API-Key),
// or per client address when there is no key. Request 101 gets 429 with
// Retry-After; every answer carries the IETF RateLimit headers. Counters
// live in the KV store, so all workers and processes on kv.path share them.
export default {
  async fetch(request, env) {
    const key = request.headers.get("X-API-Key") ?? `ip:${request.headers.get("CF-Connecting-IP")}`;
    const rl = await env.LIMITER.limit({ key });
    if (!rl.success) {
      return Response.json(
        { error: "rate_limited", message: `limit of ${rl.limit} requests per minute reached` },
        { status: 429, headers: { "Retry-After": String(rl.reset), ...rl.headers() } },
      );
    }
    const response = await env.BACKEND.fetch(new Request("http://backend/mock/echo", request));
    const out = new Response(response.body, response);
    for (const [name, value] of Object.entries(rl.headers())) out.headers.set(name, value);
    return out;
  },
};
