/** Pieces the benchmarks share: the Worker's own socket behind wrangler's dev proxy, percentiles, test images. */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import sharp from "sharp";
import type { Stack } from "../../web/e2e/stack";

/**
 * `wrangler dev` answers through a proxy (a second workerd) that now and then drops a POST with a 503
 * "Your worker restarted mid-request" when kj's two 5-second idle timeouts collide on a pooled
 * connection (cloudflare/workers-sdk#14641; fixed in wrangler releases that need Node 22). By default
 * the load goes to the Worker's own socket behind that proxy, as Cloudflare's edge would call it.
 */
export async function workerSocket(stack: Stack): Promise<string> {
  const publicPort = new URL(stack.url).port;
  const listening = execFileSync("ss", ["-Hltnp"], { encoding: "utf8" });
  const ports = [...listening.matchAll(/127\.0\.0\.1:(\d+)\s.*"workerd"/g)]
    .map((match) => match[1]!)
    .filter((port) => port !== publicPort);
  for (const port of ports) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(5_000) });
      // This stack's Worker, not another one on the machine: it names this stack's emulator.
      if (
        response.ok &&
        ((await response.json()) as { replicateBaseUrl?: unknown }).replicateBaseUrl === `${stack.emulatorUrl}/v1`
      ) {
        return `http://127.0.0.1:${port}`;
      }
    } catch {
      // Not an HTTP socket of ours (the inspector, the runtime's control ports).
    }
  }
  throw new Error("Could not find the Worker's own socket behind wrangler's dev proxy; try --via proxy");
}

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** A PNG of random pixels (incompressible) of about `bytes` bytes. */
export async function noisePng(bytes: number): Promise<Buffer> {
  const side = Math.round(Math.sqrt(bytes / 3));
  const pixels = randomBytes(side * side * 3);
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

/**
 * `wrangler dev` always connects its DevTools proxy to the local runtime and turns on the Network
 * domain, so the runtime reports every subrequest's body as it streams (one event per 4 KB chunk:
 * about 1,300 for a 5 MB download, each one the Worker's own thread's work) and every call to D1.
 * Nothing of it exists in production. Wrangler skips that connection when it runs under VS Code's
 * JavaScript debugger, which it recognises by this variable; every wrangler the run starts after
 * this (the app and the bare baseline Worker) inherits it. Off only when asked (`--devtools off`):
 * the figures recorded are with it on unless they say otherwise, as `npm run dev` runs.
 */
export function applyDevtoolsSwitch(value: string | undefined): "on" | "off" {
  const devtools = value ?? "on";
  if (devtools !== "on" && devtools !== "off") throw new Error("--devtools takes on or off");
  if (devtools === "off") process.env.VSCODE_INSPECTOR_OPTIONS = "{}";
  return devtools;
}
