// isogate side of the in-process micro-benchmarks (tools/bench/micro.sh):
// one request runs a loop of n calls and answers how long the loop took,
// timed with performance.now() around it.
//   GET /?mode=uncached&alg=RS256&n=1000  await env.AUTH.verify(token), a
//        different token each call, taken in turn from tokens.js (more tokens
//        than the worker's 4096-entry verification cache holds, so an LRU
//        never hits)
//   GET /?mode=cached&alg=ES256&n=100000  the same token every call (cache hits)
//   GET /?mode=limit&n=50000              await env.LIMITER.limit({ key }), 8 keys in turn
//   GET /?mode=await&n=100000             await of an already resolved promise
//                                          (the loop's own cost)
// Answers { n, ok, ms }: ok counts valid tokens / successful limits.
import { RS256, ES256 } from "./tokens.js";

const TOKENS = { RS256, ES256 };
const next = { RS256: 0, ES256: 0 };
const KEYS = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
const DONE = Promise.resolve({ valid: true });

export default {
  async fetch(request, env) {
    const params = new URL(request.url).searchParams;
    const mode = params.get("mode");
    const n = Number(params.get("n"));
    const alg = params.get("alg");
    let ok = 0;
    let t0;
    let t1;
    if (mode === "uncached") {
      const tokens = TOKENS[alg];
      let i = next[alg];
      t0 = performance.now();
      for (let k = 0; k < n; k++) {
        if ((await env.AUTH.verify(tokens[i])).valid) ok++;
        i = i + 1 === tokens.length ? 0 : i + 1;
      }
      t1 = performance.now();
      next[alg] = i;
    } else if (mode === "cached") {
      const token = TOKENS[alg][0];
      await env.AUTH.verify(token); // make sure it is cached
      t0 = performance.now();
      for (let k = 0; k < n; k++) {
        if ((await env.AUTH.verify(token)).valid) ok++;
      }
      t1 = performance.now();
    } else if (mode === "limit") {
      t0 = performance.now();
      for (let k = 0; k < n; k++) {
        if ((await env.LIMITER.limit({ key: KEYS[k & 7] })).success) ok++;
      }
      t1 = performance.now();
    } else if (mode === "await") {
      t0 = performance.now();
      for (let k = 0; k < n; k++) {
        if ((await DONE).valid) ok++;
      }
      t1 = performance.now();
    } else {
      return new Response("unknown mode\n", { status: 400 });
    }
    return Response.json({ n, ok, ms: t1 - t0 });
  },
};
