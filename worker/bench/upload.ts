/**
 * Upload of a 10 MB reference next to a raw R2 put of the same bytes, in the same run on the same
 * local R2 (target: the upload ≤ 1.3 × the put).
 *
 * The baseline is a benchmark-only Worker (worker/bench/upload-baseline/) started by `wrangler dev`
 * on the app's own `--persist-to` directory, so both write to one local R2 (the baseline into a
 * bucket of its own: two runtimes writing one bucket's store at once broke connections). Both are
 * called on their Worker's own socket (behind wrangler's dev proxy), with the very same request
 * body (the multipart form the web client sends), the kinds interleaved round by round. The
 * baseline's intermediate steps (parse the form, hash, the whole cleaning) tell where the upload's
 * time goes.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { freePort, offlineWranglerEnv, type Stack, startProcess } from "../../web/e2e/stack";
import { noisePng, percentile } from "./support";

type Row = [benchmark: string, measure: string, result: string];

const fmt = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(1)} / p90 ${percentile(values, 90).toFixed(1)} ms (n=${values.length})`;

export type Baseline = { url: string; output: () => string; stop: () => Promise<void> };

/** The baseline Worker, on the stack's persisted state; resolves once its own socket answers. */
export async function startBaseline(stack: Pick<Stack, "stateDir">): Promise<Baseline> {
  const run = randomUUID();
  const port = await freePort();
  const inspectorPort = await freePort(new Set([port]));
  const { child, output, stop } = startProcess(
    "node_modules/.bin/wrangler",
    [
      "dev",
      "-c",
      "worker/bench/upload-baseline/wrangler.toml",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      stack.stateDir,
      "--var",
      `BENCH_RUN:${run}`,
      "--show-interactive-dev-session=false",
    ],
    // Its own registry: the app's Worker neither sees nor binds this one.
    { env: offlineWranglerEnv(join(stack.stateDir, "baseline-registry")) },
  );
  const names = async (url: string) => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      return response.ok && ((await response.json()) as { benchRun?: unknown }).benchRun === run;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await names(`http://127.0.0.1:${port}/`)) {
      // Its own socket behind the dev proxy, as the upload is timed on the app's.
      const listening = execFileSync("ss", ["-Hltnp"], { encoding: "utf8" });
      for (const [, socketPort] of listening.matchAll(/127\.0\.0\.1:(\d+)\s.*"workerd"/g)) {
        if (socketPort !== String(port) && (await names(`http://127.0.0.1:${socketPort}/`)))
          return { url: `http://127.0.0.1:${socketPort}`, output, stop };
      }
      return { url: `http://127.0.0.1:${port}`, output, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new Error(`The upload baseline Worker did not start:\n${output().slice(-3000)}`);
}

/**
 * `rounds` uploads of a 10 MB noise PNG (different bytes each round, as a reference already held is
 * not stored again), each next to a raw put and the baseline's steps of the same request body.
 */
export async function measureUpload(options: {
  stack: Stack;
  /** The app Worker's own socket. */
  worker: string;
  token: string;
  rounds: number;
}): Promise<Row[]> {
  const baseline = await startBaseline(options.stack);
  try {
    const kinds: [name: string, url: string, headers: Record<string, string>][] = [
      ["upload", `${options.worker}/api/references`, { Authorization: `Bearer ${options.token}` }],
      ["put", `${baseline.url}/?steps=put`, {}],
      ["parse", `${baseline.url}/?steps=parse`, {}],
      ["hash", `${baseline.url}/?steps=hash`, {}],
      ["clean", `${baseline.url}/?steps=clean`, {}],
      ["reencode", `${baseline.url}/?steps=reencode`, {}],
    ];
    const timings = new Map<string, number[]>(kinds.map(([name]) => [name, []]));
    const failures = new Map<string, number>();
    for (let round = 0; round < options.rounds; round++) {
      // New pixels each round: a valid PNG (its checksums intact) whose clean bytes are new.
      const bytes = await noisePng(10 * 1024 * 1024 - 4096);
      const form = new FormData();
      form.append("file", new File([bytes], `ref-${round}.png`, { type: "image/png" }));
      // The same bytes to every kind: the form as the web client sends it, serialized once.
      const encoded = new Request("http://localhost/", { method: "POST", body: form });
      const body = Buffer.from(await encoded.arrayBuffer());
      const contentType = encoded.headers.get("Content-Type")!;
      // Each round starts with a different kind, so no kind always follows the same one.
      const order = kinds.map((_, index) => kinds[(index + round) % kinds.length]!);
      for (const [name, url, headers] of order) {
        const start = performance.now();
        const response = await fetch(url, {
          method: "POST",
          headers: { ...headers, "Content-Type": contentType },
          body,
        }).catch((error: unknown) => {
          // The local runtime now and then drops a connection mid-upload; counted, not timed.
          console.error(`  ${name} (${url}) failed: ${String(error)}`);
          return null;
        });
        if (!response) {
          failures.set(name, (failures.get(name) ?? 0) + 1);
          continue;
        }
        const answer = await response.text();
        if (response.status >= 300) throw new Error(`${name} answered ${response.status}: ${answer.slice(0, 300)}`);
        timings.get(name)!.push(performance.now() - start);
      }
    }
    const p50 = (name: string) => percentile(timings.get(name)!, 50);
    const label = "Upload of a 10 MB reference";
    return [
      [label, "POST /api/references, end to end", fmt(timings.get("upload")!)],
      [label, "raw R2 put of the same request body (baseline Worker)", fmt(timings.get("put")!)],
      [label, "upload p50 ÷ raw put p50 (target ≤ 1.3)", (p50("upload") / p50("put")).toFixed(2)],
      [label, "baseline: parse the form, put the file", fmt(timings.get("parse")!)],
      [label, "baseline: … buffer, sniff and hash the file", fmt(timings.get("hash")!)],
      [label, "baseline: … the route's cleaning instead", fmt(timings.get("clean")!)],
      [label, "baseline: … a re-encode through the Images binding instead", fmt(timings.get("reencode")!)],
      [label, "connections dropped by the local runtime (not timed)", JSON.stringify(Object.fromEntries(failures))],
    ];
  } finally {
    await baseline.stop();
  }
}
