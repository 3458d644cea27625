/**
 * `npm run dev`: the whole app on one URL. Starts the Replicate emulator (unless `.dev.vars` names a
 * REPLICATE_BASE_URL), applies the D1 migrations locally, builds the web app, and runs `wrangler dev`
 * (Worker, D1, R2, Durable Objects, Queues, Cron) at http://127.0.0.1:8787 (PORT overrides).
 *
 * Environment: PORT (8787), EMULATOR_PORT (8788), STUDIO_STATE_DIR (where wrangler keeps local
 * state; default .wrangler/state), INSPECTOR_PORT (9229).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { startEmulator } from "./server";

const port = Number(process.env.PORT ?? 8787);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const stateDir = process.env.STUDIO_STATE_DIR ?? ".wrangler/state";
const inspectorPort = process.env.INSPECTOR_PORT ?? "9229";
const host = "127.0.0.1";
const children = new Set<ChildProcess>();

function readDevVars(): Record<string, string> {
  if (!existsSync(".dev.vars")) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
    const match = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/);
    if (match?.[1] && match[2]) vars[match[1]] = match[2].replace(/^["']|["']$/g, "");
  }
  return vars;
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
  const vars: Record<string, string> = { PUBLIC_URL: devVars.PUBLIC_URL ?? `http://${host}:${port}` };
  let closeEmulator: (() => Promise<void>) | null = null;

  if (!devVars.REPLICATE_BASE_URL) {
    // A fresh signing secret each run, handed to both sides so webhooks verify.
    const webhookSecret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
    const emulator = await startEmulator({ port: emulatorPort, host, deliverWebhooks: true, webhookSecret });
    closeEmulator = emulator.close;
    Object.assign(vars, {
      REPLICATE_BASE_URL: `${emulator.url}/v1`,
      REPLICATE_API_TOKEN: devVars.REPLICATE_API_TOKEN ?? "r8_local_emulator",
      REPLICATE_OUTPUT_HOSTS: new URL(emulator.url).host,
      REPLICATE_WEBHOOK_SECRET: webhookSecret,
    });
    console.log(`Replicate emulator at ${emulator.url}`);
  }

  const wrangler = "node_modules/.bin/wrangler";
  const quiet = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
  await run(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], quiet);
  await run("node_modules/.bin/vite", ["build", "--config", "web/vite.config.ts", "--logLevel", "warn"]);

  const args = [
    "dev",
    "--ip",
    host,
    "--port",
    String(port),
    "--persist-to",
    stateDir,
    "--inspector-port",
    inspectorPort,
    "--test-scheduled",
    "--show-interactive-dev-session=false",
  ];
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
