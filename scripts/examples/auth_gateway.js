// The seed's auth gateway: services behind it trust X-User-ID and X-Scopes
// because only verified tokens get through.
//   Authorization: Bearer <JWT>  ->  verified against the route's JWKS
//   X-User-ID  <- sub
//   X-Scopes   <- scope (space-separated) or scp (array), comma-joined
//   Authorization is not forwarded.
// Anything else gets 401 with WWW-Authenticate (RFC 6750 §3).
export default {
  async fetch(request, env) {
    const auth = await env.AUTH.verify(request);
    if (!auth.valid) {
      return Response.json(
        { error: auth.error },
        { status: 401, headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${auth.error}"` } },
      );
    }
    const { sub, scope, scp } = auth.claims;
    const scopes = Array.isArray(scp) ? scp : typeof scope === "string" ? scope.split(" ").filter(Boolean) : [];

    // /secure/echo -> the backend's /mock/echo (BACKEND keeps path and query).
    const url = new URL(request.url);
    const forwarded = new Request(`http://backend/mock${url.pathname.slice("/secure".length)}${url.search}`, request);
    forwarded.headers.delete("Authorization");
    forwarded.headers.set("X-User-ID", String(sub));
    forwarded.headers.set("X-Scopes", scopes.join(","));
    return env.BACKEND.fetch(forwarded);
  },
};
