// A small notes API on the KV store (Workers KV API):
//   PUT    /notes/:id   body = the note (kept for a day)   -> 204
//   GET    /notes/:id                                      -> the note, or 404
//   DELETE /notes/:id                                      -> 204
//   GET    /notes?prefix=&cursor=                          -> the ids, 100 per page
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const id = url.pathname.slice("/notes/".length);
    if (url.pathname === "/notes" && request.method === "GET") {
      const page = await env.NOTES.list({
        prefix: url.searchParams.get("prefix") ?? "",
        cursor: url.searchParams.get("cursor") ?? undefined,
        limit: 100,
      });
      return Response.json({ ids: page.keys.map((k) => k.name), next: page.list_complete ? null : page.cursor });
    }
    if (!id) return Response.json({ error: "missing_id" }, { status: 400 });
    switch (request.method) {
      case "PUT":
        await env.NOTES.put(id, await request.text(), {
          expirationTtl: 86400,
          metadata: { author: request.headers.get("X-User-ID") ?? "anonymous" },
        });
        return new Response(null, { status: 204 });
      case "GET": {
        const { value, metadata } = await env.NOTES.getWithMetadata(id);
        if (value === null) return Response.json({ error: "not_found" }, { status: 404 });
        return new Response(value, { headers: { "X-Author": metadata?.author ?? "" } });
      }
      case "DELETE":
        await env.NOTES.delete(id);
        return new Response(null, { status: 204 });
      default:
        return Response.json({ error: "method_not_allowed" }, { status: 405, headers: { Allow: "GET, PUT, DELETE" } });
    }
  },
};
