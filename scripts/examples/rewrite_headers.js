// A header-rewriting proxy: forwards to the backend with a gateway header
// added and the client's cookies removed, and hides backend details from the
// response.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const forwarded = new Request(`http://self/mock/echo${url.search}`, request);
    forwarded.headers.set("X-Gateway", "isogate");
    forwarded.headers.delete("Cookie");
    const upstream = await env.API.fetch(forwarded);

    // Taking over upstream.body keeps it streaming; only the headers change.
    const response = new Response(upstream.body, upstream);
    response.headers.delete("Server");
    response.headers.set("X-Content-Type-Options", "nosniff");
    return response;
  },
};
