// Shared by the examples: drop fields a backend must not leak.
const DENY = new Set(["password_hash", "secret", "token"]);

export function stripInternal(value) {
  if (Array.isArray(value)) return value.map(stripInternal);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith("_") || DENY.has(key)) continue;
    out[key] = stripInternal(v);
  }
  return out;
}
