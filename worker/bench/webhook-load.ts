/**
 * Load on the webhook endpoint, on loopback only: the app runs as `npm run dev` runs it; 100 real
 * predictions complete; then their signed bodies are replayed, each under a fresh webhook-id, at a
 * fixed rate for a fixed time. Reports status codes, latency, how long the queue takes to drain,
 * whether every accepted message was processed, and whether any effect happened twice.
 *
 *   npm run bench -- --rate 200 --seconds 60
 */
import { createHmac, randomUUID } from "node:crypto";
import { startStack } from "../../web/e2e/stack";

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const RATE = arg("rate", 200);
const SECONDS = arg("seconds", 60);
const PREDICTIONS = arg("predictions", 100);

const sign = (secret: string, id: string, timestamp: string, body: string) =>
  `v1,${createHmac("sha256", Buffer.from(secret.replace(/^whsec_/, ""), "base64")).update(`${id}.${timestamp}.${body}`).digest("base64")}`;

/** Messages the consumer has acknowledged so far, from its one log line per batch. */
const acknowledgedIn = (output: string): number => {
  let total = 0;
  for (const match of output.matchAll(/"event":"completion\.batch","messages":(\d+),"repeats":\d+,"retried":(\d+)/g)) {
    total += Number(match[1]) - Number(match[2]);
  }
  return total;
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function main(): Promise<void> {
  const stack = await startStack();
  try {
    const email = `bench-${Date.now()}@example.com`;
    const signup = await fetch(`${stack.url}/api/auth/signup`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: "benchmark password" }) });
    const cookie = (signup.headers.get("set-cookie") ?? "").split(";")[0]!;
    const { token } = await json<{ token: string }>(
      await fetch(`${stack.url}/api/tokens`, { method: "POST", headers: { "Content-Type": "application/json", Cookie: cookie }, body: JSON.stringify({ name: "bench" }) }),
    );
    const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };

    // 100 real predictions, completed by the emulator's own webhooks.
    const ids: string[] = [];
    for (let s = 0; s < PREDICTIONS / 4; s++) {
      const session = await json<{ id: string }>(await fetch(`${stack.url}/api/sessions`, { method: "POST", headers: auth, body: "{}" }));
      for (let g = 0; g < 4; g++) {
        const generation = await json<{ id: string }>(
          await fetch(`${stack.url}/api/sessions/${session.id}/generations`, { method: "POST", headers: auth, body: JSON.stringify({ model: "black-forest-labs/flux-schnell", prompt: `bench ${s}.${g}` }) }),
        );
        ids.push(generation.id);
      }
    }
    const generationsNow = () => Promise.all(ids.map(async (id) => json<{ status: string; predictionId: string; outputs: { id: string }[] }>(await fetch(`${stack.url}/api/generations/${id}`, { headers: auth }))));
    for (;;) {
      const all = await generationsNow();
      if (all.every((g) => g.status === "succeeded")) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const before = await generationsNow();
    const { key: secret } = await json<{ key: string }>(await fetch(`${stack.emulatorUrl}/v1/webhooks/default/secret`, { headers: { Authorization: "Bearer r8_local_emulator" } }));
    const bodies: string[] = [];
    for (const generation of before) {
      const { items } = await json<{ items: { body: string }[] }>(await fetch(`${stack.emulatorUrl}/__control/webhooks?predictionId=${generation.predictionId}`));
      bodies.push(...items.map((item) => item.body));
    }
    const processedBefore = acknowledgedIn(stack.output());

    // Open-loop load: a request every 1/RATE s, whatever the answers.
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < SECONDS * 1000) {
      const due = started + (sent * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const body = bodies[sent % bodies.length]!;
      const id = `msg_${randomUUID()}`;
      const timestamp = String(Math.floor(Date.now() / 1000));
      const t0 = performance.now();
      const request = fetch(`${stack.url}/api/webhooks/replicate`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": sign(secret, id, timestamp, body) },
        body,
      })
        .then(async (response) => {
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        })
        .catch(() => {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
        })
        .finally(() => {
          latencies.push(performance.now() - t0);
          inFlight.delete(request);
        });
      inFlight.add(request);
      sent++;
    }
    await Promise.all(inFlight);
    const loadSeconds = (performance.now() - started) / 1000;
    const accepted = statuses.get(200) ?? 0;

    // Drain: every accepted delivery is one queue message, processed once.
    const drainStart = performance.now();
    let processed = 0;
    while (performance.now() - drainStart < 600_000) {
      processed = acknowledgedIn(stack.output()) - processedBefore;
      if (processed >= accepted) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const after = await generationsNow();
    const changed = after.filter((g, i) => g.status !== before[i]!.status || g.outputs.map((o) => o.id).join() !== before[i]!.outputs.map((o) => o.id).join()).length;

    const report = {
      rate: RATE,
      seconds: SECONDS,
      sent,
      achievedRate: Math.round(sent / loadSeconds),
      statuses: Object.fromEntries(statuses),
      latencyMs: { p50: Math.round(percentile(latencies, 50)), p95: Math.round(percentile(latencies, 95)), p99: Math.round(percentile(latencies, 99)), max: Math.round(Math.max(...latencies)) },
      queue: { accepted, processed, lost: Math.max(0, accepted - processed), drainSecondsAfterLoad: Math.round(drainSeconds) },
      duplicateEffects: changed,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
