// A test-only front worker, run as the primary worker of the same `wrangler dev` session as the
// bridge (tests/harness.mjs `startWorker({ front: true })`): it forwards every request to the
// bridge through a service binding, except `POST /__test/dead-letter`, which puts its JSON body
// on the bridge's dead-letter queue exactly as Cloudflare Queues does when the `DELIVERIES`
// consumer has given up on a message (wrangler.toml `max_retries`). Local queues are shared by
// the workers of one session, so the bridge's own DLQ consumer receives it.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/__test/dead-letter") {
      await env.DLQ.send(await request.json(), { contentType: "json" });
      return new Response(JSON.stringify({ queued: true }), { headers: { "content-type": "application/json" } });
    }
    return env.BRIDGE.fetch(request);
  },
};
