// Serves a JSON backend as XML to clients that ask for it
// (Accept: application/xml); others get the JSON unchanged.
import { stripInternal } from "./lib/json_fields.js";

function escapeXml(text) {
  return String(text).replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]);
}

function toXml(name, value) {
  if (Array.isArray(value)) return value.map((item) => toXml(name, item)).join("");
  if (value !== null && typeof value === "object") {
    const inner = Object.entries(value).map(([k, v]) => toXml(k, v)).join("");
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(value ?? "")}</${name}>`;
}

export default {
  async fetch(request, env) {
    const id = new URL(request.url).pathname.split("/").pop();
    const upstream = await env.API.fetch(`http://self/mock/users/${id}`);
    const data = stripInternal(await upstream.json());
    const accept = request.headers.get("Accept") ?? "";
    if (!accept.includes("application/xml")) return Response.json(data, { status: upstream.status });
    return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${toXml("user", data)}\n`, {
      status: upstream.status,
      headers: { "Content-Type": "application/xml; charset=utf-8" },
    });
  },
};
