/**
 * `npm run deploy -- <staging|production> [--dry-run]`: ships one environment, API first so the web
 * app never meets an older API than it was built for.
 *
 *   1. builds the web app (into .deploy/web);
 *   2. applies the D1 migrations to the environment's remote database;
 *   3. deploys the API Worker (Durable Objects, queues, cron, R2, D1, Images) with `wrangler deploy`;
 *   4. deploys the web app and its /api proxy Function to the Pages project (pages/wrangler.toml):
 *      branch `main` is its production deployment, `staging` a preview bound to the staging Worker.
 *
 * `--dry-run` needs no Cloudflare account: it builds everything, bundles the Worker
 * (`wrangler deploy --dry-run`) and compiles the Pages Function, and uploads nothing (npm test runs it).
 * Secrets are set beforehand with `wrangler secret put NAME --env <environment>` (docs/operations.md).
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";

const ENVIRONMENTS = { staging: { pagesBranch: "staging" }, production: { pagesBranch: "main" } } as const;
type Environment = keyof typeof ENVIRONMENTS;

const isEnvironment = (value: string | undefined): value is Environment =>
  value !== undefined && Object.hasOwn(ENVIRONMENTS, value);

const root = resolve(import.meta.dirname, "..");
const out = resolve(root, ".deploy");
const wrangler = resolve(root, "node_modules/.bin/wrangler");

function run(command: string, args: string[], cwd = root): Promise<void> {
  console.log(`\n$ ${[command, ...args].map((part) => part.replace(root, ".")).join(" ")}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: "inherit",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    child.on("exit", (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

async function deploy(environment: Environment, dryRun: boolean): Promise<void> {
  const web = resolve(out, "web");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  await run(resolve(root, "node_modules/.bin/vite"), ["build", "--config", "web/vite.config.ts", "--outDir", web]);

  if (!dryRun) await run(wrangler, ["d1", "migrations", "apply", "DB", "--remote", "--env", environment]);

  const worker = ["deploy", "--env", environment, "--assets", web];
  await run(wrangler, dryRun ? [...worker, "--dry-run", "--outdir", resolve(out, "worker")] : worker);

  const pages = resolve(root, "pages");
  if (dryRun) {
    mkdirSync(resolve(out, "pages"), { recursive: true });
    await run(
      wrangler,
      [
        "pages",
        "functions",
        "build",
        "--outdir",
        resolve(out, "pages"),
        "--output-routes-path",
        resolve(out, "pages/_routes.json"),
      ],
      pages,
    );
  } else {
    await run(wrangler, ["pages", "deploy", web, "--branch", ENVIRONMENTS[environment].pagesBranch], pages);
  }
  console.log(
    dryRun ? `\nDry run of ${environment}: built and bundled, nothing uploaded.` : `\n${environment} deployed.`,
  );
}

const args = process.argv.slice(2);
const environment = args.find((arg) => !arg.startsWith("--"));
if (!isEnvironment(environment)) {
  console.error("Usage: npm run deploy -- <staging|production> [--dry-run]");
  process.exit(2);
}
deploy(environment, args.includes("--dry-run")).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
