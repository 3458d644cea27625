/**
 * `npx tsx worker/bench/download.ts [--rounds 10] [--size 5242880] [--devtools on|off]`: how a bare
 * Worker (worker/bench/upload-baseline/, run by `wrangler dev` as the app is) downloads one output
 * of `--size` bytes served by this process on loopback, in each way the output download could read
 * it, next to Node downloading the same bytes. Each is timed from this process, on the Worker's own
 * socket, the ways interleaved round by round. The answer to "why is the Worker's download slow
 * locally" (see docs/benchmarks.md, *Why a Worker downloads slowly on this stack*); `--devtools off`
 * starts wrangler without its DevTools connection (see `applyDevtoolsSwitch` in support.ts).
 *
 * This file server answers `Range` requests with 206, as a CDN serving a file does; whether
 * Replicate's delivery does is not known, so only this probe asks for ranges.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyDevtoolsSwitch, noisePng, percentile } from "./support";
import { startBaseline } from "./upload";

const arg = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const rounds = Number(arg("rounds") ?? 10);
const size = Number(arg("size") ?? 5 * 1024 * 1024);
const devtools = applyDevtoolsSwitch(arg("devtools"));
const reads = ["buffer", "hashafter", "reader", "digest", "tee", "ranges"] as const;

const body = await noisePng(size);
const server = createServer((request, response) => {
  const range = request.headers.range?.match(/^bytes=(\d+)-(\d+)$/);
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), body.length - 1);
    response
      .writeHead(206, {
        "Content-Type": "image/png",
        "Content-Length": end - start + 1,
        "Content-Range": `bytes ${start}-${end}/${body.length}`,
      })
      .end(body.subarray(start, end + 1));
    return;
  }
  response.writeHead(200, { "Content-Type": "image/png", "Content-Length": body.length }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/out.png`;
const stateDir = mkdtempSync(join(tmpdir(), "studio-download-"));
const baseline = await startBaseline({ stateDir });
const timings = new Map<string, number[]>([["node", []], ...reads.map((read) => [read, []] as [string, number[]])]);
try {
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    await (await fetch(url)).arrayBuffer();
    timings.get("node")!.push(performance.now() - start);
    for (const read of reads) {
      const started = performance.now();
      const response = await fetch(
        `${baseline.url}/?steps=fetch&read=${read}&size=${body.length}&url=${encodeURIComponent(url)}`,
        { method: "POST" },
      );
      const answer = (await response.json()) as { size?: number };
      if (response.status !== 201 || answer.size !== body.length)
        throw new Error(`${read}: ${response.status} ${JSON.stringify(answer)}`);
      timings.get(read)!.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
} finally {
  await baseline.stop();
  server.close();
  rmSync(stateDir, { recursive: true, force: true });
}
console.log(`${body.length} bytes, wrangler's DevTools connection ${devtools}, ${rounds} rounds`);
for (const [name, values] of timings) {
  console.log(
    `${name.padEnd(10)} p50 ${percentile(values, 50).toFixed(1)} / p90 ${percentile(values, 90).toFixed(1)} ms`,
  );
}
