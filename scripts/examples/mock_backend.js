// A stand-in backend so the other examples work without a real service:
// GET /mock/users/:id returns a user record with internal fields, and
// /mock/echo describes the request it received.
const users = {
  1: { id: 1, name: "Ada Lovelace", email: "ada@example.com", plan: "pro",
       _internal_notes: "VIP", password_hash: "$2b$10$abc" },
  2: { id: 2, name: "Alan Turing", email: "alan@example.com", plan: "free",
       _internal_notes: "", password_hash: "$2b$10$def" },
};

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/mock/echo") {
      return Response.json({ method: request.method, headers: Object.fromEntries(request.headers) });
    }
    const match = pathname.match(/^\/mock\/users\/(\d+)$/);
    if (match && users[match[1]]) return Response.json(users[match[1]]);
    return Response.json({ error: "not_found" }, { status: 404 });
  },
};
