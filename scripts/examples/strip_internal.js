// Removes internal fields from a backend's JSON before it reaches clients:
// anything starting with "_" and a deny-list of sensitive names.
import { stripInternal } from "./lib/json_fields.js";

export default {
  async fetch(request, env) {
    const id = new URL(request.url).pathname.split("/").pop();
    const upstream = await env.API.fetch(`http://self/mock/users/${id}`);
    if (!upstream.ok) return upstream;
    return Response.json(stripInternal(await upstream.json()), {
      headers: { "Cache-Control": "private, max-age=30" },
    });
  },
};
