/**
 * Load on the webhook endpoint, on loopback only: the app runs as `npm run dev` runs it; 100 real
 * predictions complete; then their signed bodies are replayed, each under a fresh webhook-id, at a
 * fixed rate for a fixed time, to the Worker's own socket (or, with `--via proxy`, through wrangler's
 * dev proxy). Reports status codes, latency, how long the queue takes to drain,
 * whether every accepted message was processed, and whether any effect happened twice.
 *
 *   npm run bench -- --rate 200 --seconds 60 [--via proxy]
 */
import { createHmac, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStack } from "../../web/e2e/stack";
import { percentile, workerSocket } from "./support";

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const RATE = arg("rate", 200);
const SECONDS = arg("seconds", 60);
const PREDICTIONS = arg("predictions", 100);
const VIA_PROXY = process.argv.includes("--via") && process.argv[process.argv.indexOf("--via") + 1] === "proxy";

const sign = (secret: string, id: string, timestamp: string, body: string) =>
  `v1,${createHmac("sha256", Buffer.from(secret.replace(/^whsec_/, ""), "base64"))
    .update(`${id}.${timestamp}.${body}`)
    .digest("base64")}`;

/**
 * Deliveries the consumer has acknowledged so far, from its one log line per batch. (The local D1
 * cannot be read from outside while workerd holds it.)
 */
const acknowledgedIn = (output: string): number => {
  let total = 0;
  for (const match of output.matchAll(/"event":"completion\.batch","messages":(\d+),"repeats":\d+,"retried":(\d+)/g)) {
    total += Number(match[1]) - Number(match[2]);
  }
  return total;
};

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** A bookkeeping read (not part of the load): bounded in time, tried again if the local stack stalls. */
async function read<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await json<T>(await fetch(url, { headers, signal: AbortSignal.timeout(30_000) }));
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function main(): Promise<void> {
  const stack = await startStack();
  try {
    const email = `bench-${Date.now()}@example.com`;
    const signup = await fetch(`${stack.url}/api/auth/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password: "benchmark password" }),
    });
    const cookie = (signup.headers.get("set-cookie") ?? "").split(";")[0]!;
    const { token } = await json<{ token: string }>(
      await fetch(`${stack.url}/api/tokens`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Cookie: cookie },
        body: JSON.stringify({ name: "bench" }),
      }),
    );
    const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };

    // 100 real predictions, completed by the emulator's own webhooks.
    const sessionIds: string[] = [];
    for (let s = 0; s < PREDICTIONS / 4; s++) {
      const session = await json<{ id: string }>(
        await fetch(`${stack.url}/api/sessions`, { method: "POST", headers: auth, body: "{}" }),
      );
      sessionIds.push(session.id);
      for (let g = 0; g < 4; g++) {
        await json<{ id: string }>(
          await fetch(`${stack.url}/api/sessions/${session.id}/generations`, {
            method: "POST",
            headers: auth,
            body: JSON.stringify({ model: "black-forest-labs/flux-schnell", prompt: `bench ${s}.${g}` }),
          }),
        );
      }
    }
    type Generation = { id: string; status: string; predictionId: string; outputs: { id: string }[] };
    const generationsNow = async (): Promise<Generation[]> => {
      const all: Generation[] = [];
      for (const id of sessionIds)
        all.push(...(await read<{ generations: Generation[] }>(`${stack.url}/api/sessions/${id}`, auth)).generations);
      return all;
    };
    for (;;) {
      const all = await generationsNow();
      if (all.every((g) => g.status === "succeeded")) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const before = await generationsNow();
    const { key: secret } = await read<{ key: string }>(`${stack.emulatorUrl}/v1/webhooks/default/secret`, {
      Authorization: "Bearer r8_local_emulator",
    });
    const bodies: string[] = [];
    for (const generation of before) {
      const { items } = await read<{ items: { body: string }[] }>(
        `${stack.emulatorUrl}/__control/webhooks?predictionId=${generation.predictionId}`,
      );
      bodies.push(...items.map((item) => item.body));
    }

    const processedBefore = acknowledgedIn(stack.output());
    const target = VIA_PROXY ? stack.url : await workerSocket(stack);

    // Open-loop load: a request every 1/RATE s, whatever the answers.
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    /** The first answer of each kind other than 200, to explain it. */
    const failures = new Map<number, string>();
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
      const request = fetch(`${target}/api/webhooks/replicate`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": timestamp,
          "webhook-signature": sign(secret, id, timestamp, body),
        },
        body,
      })
        .then(async (response) => {
          const text = await response.text();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status !== 200 && !failures.has(response.status))
            failures.set(response.status, text.slice(0, 300));
        })
        .catch((error: unknown) => {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          if (!failures.has(0)) failures.set(0, String(error));
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
    console.error(
      `Load done: ${sent} sent in ${loadSeconds.toFixed(1)} s, answers ${JSON.stringify(Object.fromEntries(statuses))}; draining…`,
    );

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
    const fingerprint = (g: Generation) => `${g.status} ${g.outputs.map((o) => o.id).join()}`;
    const beforeById = new Map(before.map((g) => [g.id, fingerprint(g)]));
    const changed =
      after.filter((g) => beforeById.get(g.id) !== fingerprint(g)).length + Math.abs(after.length - before.length);

    const report = {
      target: VIA_PROXY ? "wrangler dev's proxy" : "the Worker's own socket",
      rate: RATE,
      seconds: SECONDS,
      sent,
      achievedRate: Math.round(sent / loadSeconds),
      statuses: Object.fromEntries(statuses),
      firstFailures: Object.fromEntries(failures),
      latencyMs: {
        p50: Math.round(percentile(latencies, 50)),
        p95: Math.round(percentile(latencies, 95)),
        p99: Math.round(percentile(latencies, 99)),
        max: Math.round(Math.max(...latencies)),
      },
      queue: {
        accepted,
        processed,
        lost: Math.max(0, accepted - processed),
        drainSecondsAfterLoad: Math.round(drainSeconds),
      },
      duplicateEffects: changed,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    // The app's own output (wrangler, workerd, the Worker's logs), for explaining any non-2xx.
    const logPath = join(tmpdir(), `image-studio-bench-${Date.now()}.log`);
    writeFileSync(logPath, stack.output());
    console.log(`App output: ${logPath}`);
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
