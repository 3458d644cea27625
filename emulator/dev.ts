/**
 * `npm run dev`: the whole app on one URL. Starts the Replicate emulator (unless the dev vars name a
 * REPLICATE_BASE_URL), applies the D1 migrations locally, builds the web app, and runs `wrangler dev`
 * (Worker, D1, R2, Durable Objects, Queues, Cron) at http://127.0.0.1:8787.
 *
 * Reads from the environment: PORT (8787), EMULATOR_PORT (8788), INSPECTOR_PORT (9229),
 * STUDIO_STATE_DIR (.wrangler/state), STUDIO_DEV_VARS (.dev.vars), STUDIO_WEB_OUT (where the web
 * app is built and served from; default web/dist, as wrangler.toml says). A port given explicitly must be
 * free; a default one that is taken is replaced by a free one, except the app's, whose URL people
 * were told. Every name in the dev vars file goes to the Worker (see .dev.vars.example).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { startEmulator } from "./server";

const host = "127.0.0.1";
const stateDir = process.env.STUDIO_STATE_DIR ?? ".wrangler/state";
const devVarsPath = process.env.STUDIO_DEV_VARS ?? ".dev.vars";
const webOut = process.env.STUDIO_WEB_OUT;
const children = new Set<ChildProcess>();

function readDevVars(): Record<string, string> {
  if (!existsSync(devVarsPath)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(devVarsPath, "utf8").split("\n")) {
    const match = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/);
    if (match?.[1] && match[2]) vars[match[1]] = match[2].replace(/^["']|["']$/g, "");
  }
  return vars;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = address !== null && typeof address === "object" ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The port a variable names (or its default), checked before anything starts: a taken port named
 * explicitly is an error that says which variable to change; a taken default is swapped for a
 * free one when `movable`.
 */
async function choosePort(variable: string, fallback: number, what: string, movable: boolean): Promise<number> {
  const given = process.env[variable];
  const port = given ? Number(given) : fallback;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${variable}=${given} is not a port number.`);
  }
  if (await isFree(port)) return port;
  if (given || !movable) {
    throw new Error(
      `Port ${port} (${what}, ${variable}) is already in use on ${host}: stop what is using it, ` +
        `or run with ${variable}=<a free port>.`,
    );
  }
  const free = await anyFreePort();
  console.log(`Port ${port} (${what}) is in use; using ${free} instead (${variable} sets it).`);
  return free;
}

function run(command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "inherit", env: { ...process.env, ...extraEnv } });
    children.add(child);
    child.on("exit", (code) => {
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const devVars = readDevVars();
  const useEmulator = !devVars.REPLICATE_BASE_URL;
  const port = await choosePort("PORT", 8787, "the app", false);
  const inspectorPort = await choosePort("INSPECTOR_PORT", 9229, "wrangler's inspector", true);
  const emulatorPort = useEmulator ? await choosePort("EMULATOR_PORT", 8788, "the Replicate emulator", true) : 0;

  // Webhooks need an origin Replicate can reach. The emulator reaches this machine; the real
  // Replicate only reaches a PUBLIC_URL named in the dev vars: without one no webhook is asked for
  // and the session's room polls for results.
  const vars: Record<string, string> = {};
  let closeEmulator: (() => Promise<void>) | null = null;
  if (useEmulator) {
    // A fresh signing secret each run, handed to both sides so webhooks verify.
    const webhookSecret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
    const emulator = await startEmulator({ port: emulatorPort, host, deliverWebhooks: true, webhookSecret });
    closeEmulator = emulator.close;
    Object.assign(vars, {
      PUBLIC_URL: devVars.PUBLIC_URL ?? `http://${host}:${port}`,
      REPLICATE_BASE_URL: `${emulator.url}/v1`,
      REPLICATE_API_TOKEN: devVars.REPLICATE_API_TOKEN ?? "r8_local_emulator",
      // The emulator's own host, and any named in the dev vars (e.g. a benchmark's file server).
      REPLICATE_OUTPUT_HOSTS: [new URL(emulator.url).host, devVars.REPLICATE_OUTPUT_HOSTS]
        .filter((hosts) => hosts)
        .join(","),
      REPLICATE_WEBHOOK_SECRET: webhookSecret,
    });
    console.log(`Replicate emulator at ${emulator.url}`);
  } else {
    console.log(
      `Replicate at ${devVars.REPLICATE_BASE_URL}; ` +
        (devVars.PUBLIC_URL ? `webhooks to ${devVars.PUBLIC_URL}` : "no PUBLIC_URL, so results arrive by polling"),
    );
  }

  const wrangler = "node_modules/.bin/wrangler";
  const quiet = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
  await run(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], quiet);
  const outDir = webOut ? ["--outDir", webOut, "--emptyOutDir"] : [];
  // Always a production build, even when started from a test runner that sets NODE_ENV=test.
  await run("node_modules/.bin/vite", ["build", "--config", "web/vite.config.ts", "--logLevel", "warn", ...outDir], {
    NODE_ENV: "production",
  });

  const args = [
    "dev",
    "--ip",
    host,
    "--port",
    String(port),
    "--persist-to",
    stateDir,
    "--inspector-port",
    String(inspectorPort),
    "--test-scheduled",
    "--show-interactive-dev-session=false",
    ...(webOut ? ["--assets", webOut] : []),
  ];
  // wrangler reads `.dev.vars` by itself; another file is handed over by name.
  if (devVarsPath !== ".dev.vars" && existsSync(devVarsPath)) args.push("--env-file", devVarsPath);
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  console.log(`Image Studio at http://${host}:${port}`);
  try {
    await run(wrangler, args, quiet);
  } finally {
    await closeEmulator?.();
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  for (const child of children) child.kill("SIGTERM");
  process.exit(1);
});
