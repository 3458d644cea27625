/**
 * Runs the app exactly as `npm run dev` does (emulator, migrations, web build, wrangler dev) on free
 * ports with a fresh state directory, for browser tests. Each stack builds the web app into its own
 * state directory, so test files can run side by side.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What `npm run seed` put into the stack's database (see worker/bench/seed.ts). */
export type SeedSummary = {
  userId: string;
  email: string;
  password: string;
  /** An API token of the seeded user (`Authorization: Bearer …`). */
  token: string;
  sessions: number;
  generations: number;
  images: number;
  /** A prompt word about 1 in 40 generations use. */
  searchWord: string;
};

export type Stack = {
  url: string;
  emulatorUrl: string;
  /** Where wrangler keeps this stack's local D1, R2 and Durable Objects. */
  stateDir: string;
  /** Where this stack's web app was built, and is served from. */
  webDir: string;
  /** Set when the stack was started with `seedImages`. */
  seed: SeedSummary | null;
  /** wrangler's registry of local Workers for this stack: `wrangler pages dev` finds the Worker there. */
  registryPath: string;
  /** What `seedUsers` seeded, in their order. */
  seededUsers: SeedSummary[];
  output: () => string;
  stop: () => Promise<void>;
};

export type StackOptions = {
  /** More environment for `npm run dev` (e.g. STUDIO_DEV_VARS naming a real backend). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Seed this many images (one user, `npm run seed`) into the fresh database before the app starts. */
  seedImages?: number;
  /** More people to seed, each with their own email (and `imagesPerSession`, 40 by default). */
  seedUsers?: readonly SeedRequest[];
  /** Use this state directory (kept afterwards) instead of a fresh temporary one (removed). */
  stateDir?: string;
};

export type SeedRequest = { email?: string; images: number; imagesPerSession?: number };

/**
 * Runs `npm run seed` once into a state directory for everyone asked (the first may go without an
 * email: seed@example.com); resolves with their summaries, in order.
 */
export function seedState(stateDir: string, people: readonly SeedRequest[]): Promise<SeedSummary[]> {
  const [first, ...others] = people;
  if (!first) return Promise.resolve([]);
  const options = [
    "--images",
    String(first.images),
    ...(first.email ? ["--email", first.email] : []),
    ...(first.imagesPerSession ? ["--per-session", String(first.imagesPerSession)] : []),
    ...others.flatMap((other) => {
      if (!other.email) throw new Error("Everyone seeded after the first needs an email of their own");
      return ["--also", [other.email, other.images, other.imagesPerSession ?? ""].join(":")];
    }),
  ];
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const child = spawn(
      "node_modules/.bin/tsx",
      ["worker/bench/seed.ts", ...options, "--state-dir", stateDir, "--json"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("exit", (code) => {
      const summaries = out
        .trim()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as SeedSummary);
      if (code === 0 && summaries.length === people.length) resolve(summaries);
      else reject(new Error(`Seeding failed (${code}):\n${err.slice(-3000)}`));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below Linux's ephemeral range (32768+): the app binds it only after migrations and a
 * web build, and a port from that range could meanwhile be taken by any outgoing connection.
 */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.has(port) && (await canListen(port))) return port;
  }
}

/** A process started by a test or benchmark: its output, and how to stop it with all it started. */
export type StartedProcess = { child: ChildProcess; output: () => string; stop: () => Promise<void> };

/**
 * Starts `command` in a process group of its own, keeping its output: `stop` ends the whole group
 * (wrangler's workerd processes included), politely first, then for good after 5 s.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): StartedProcess {
  let log = "";
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || !child.pid) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (child.exitCode === null) process.kill(-child.pid, "SIGKILL");
  };
  return { child, output: () => log, stop };
}

/** A local wrangler's environment: its own dev registry, and nothing sent to or fetched from Cloudflare. */
export const offlineWranglerEnv = (registryPath: string): NodeJS.ProcessEnv => ({
  ...process.env,
  WRANGLER_REGISTRY_PATH: registryPath,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  CI: "true",
});

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const timeoutMs = options.timeoutMs ?? 150_000;
  const ports = new Set<number>();
  for (let i = 0; i < 3; i++) ports.add(await freePort(ports));
  const [port, emulatorPort, inspectorPort] = [...ports] as [number, number, number];
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "studio-e2e-"));
  // Everyone in one run of the seed: one start of the local D1 and R2, not one each.
  const people = [...(options.seedImages ? [{ images: options.seedImages }] : []), ...(options.seedUsers ?? [])];
  const seeded = await seedState(stateDir, people);
  const seed = options.seedImages ? (seeded[0] ?? null) : null;
  const seededUsers = options.seedImages ? seeded.slice(1) : seeded;
  // Its own registry, so stacks side by side never bind each other's Worker.
  const registryPath = join(stateDir, "registry");
  const webDir = join(stateDir, "web");
  const url = `http://127.0.0.1:${port}`;
  const app = startProcess("node_modules/.bin/tsx", ["emulator/dev.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      EMULATOR_PORT: String(emulatorPort),
      INSPECTOR_PORT: String(inspectorPort),
      STUDIO_STATE_DIR: stateDir,
      WRANGLER_REGISTRY_PATH: registryPath,
      STUDIO_WEB_OUT: webDir,
      CI: "true",
      ...options.env,
    },
  });
  const child = app.child;
  const stop = async () => {
    await app.stop();
    if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) {
        const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
        return { url, emulatorUrl, stateDir, webDir, seed, seededUsers, registryPath, output: app.output, stop };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new Error(`The app did not start at ${url}:\n${app.output().slice(-4000)}`);
}
