/**
 * The deployment builds without a Cloudflare account: `npm run deploy -- <env> --dry-run` bundles
 * the API Worker with every binding of that environment and compiles the Pages project (the web
 * app with its security headers, and the Function that forwards /api/* to the Worker).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// No credentials of any kind: an empty home (wrangler keeps its login there) and no API token.
const home = mkdtempSync(join(tmpdir(), "studio-deploy-home-"));
const noCredentials: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  CI: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: noCredentials, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

/** The binding table `wrangler deploy --dry-run` prints, as `binding → resource` lines. */
const bindingLines = (output: string): string[] =>
  output
    .split("\n")
    .filter((line) => line.startsWith("env."))
    .map((line) => line.replace(/\s+/g, " ").trim());

let production: { code: number | null; output: string };

beforeAll(async () => {
  production = await run("node_modules/.bin/tsx", ["scripts/deploy.ts", "production", "--dry-run"]);
}, 240_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("npm run deploy -- production --dry-run", () => {
  it("succeeds without credentials and bundles the Worker with production's bindings", () => {
    expect(production.code, production.output.slice(-3000)).toBe(0);
    expect(production.output).toContain("--dry-run: exiting now.");
    expect(bindingLines(production.output)).toEqual(
      expect.arrayContaining([
        "env.SESSION_ROOM (SessionRoom) Durable Object",
        "env.COMPLETIONS (image-studio-production-completions) Queue",
        "env.DB (image-studio-production) D1 Database",
        "env.BUCKET (image-studio-production-assets) R2 Bucket",
        "env.IMAGES Images",
        'env.PUBLIC_URL ("https://image-studio-web.pages.dev") Environment Variable',
      ]),
    );
    // Secrets are never in the configuration.
    expect(production.output).not.toMatch(/env\.(REPLICATE_API_TOKEN|REPLICATE_WEBHOOK_SECRET|PASSWORD_PEPPER)\b/);
    expect(existsSync(".deploy/worker/index.js")).toBe(true);
  });

  it("builds the Pages project: the app with its headers, and a Function that serves only /api/*", () => {
    expect(existsSync(".deploy/web/index.html")).toBe(true);
    const headers = readFileSync(".deploy/web/_headers", "utf8");
    expect(headers).toContain("frame-ancestors 'none'");
    expect(headers).toContain("script-src 'self';");
    // Hashed files are kept for a year; their source maps are not published.
    expect(headers).toMatch(/\/assets\/\*\n\s+Cache-Control: public, max-age=31536000, immutable/);
    expect(readdirSync(".deploy/web/assets").filter((name) => name.endsWith(".map"))).toEqual([]);
    expect(JSON.parse(readFileSync(".deploy/pages/_routes.json", "utf8"))).toMatchObject({
      include: ["/api/*"],
      exclude: [],
    });
    const proxy = readFileSync(".deploy/pages/index.js", "utf8");
    expect(proxy).toContain("env.API.fetch(context.request)");
  });
});

describe("staging", () => {
  it("bundles with resources of its own, none shared with production", async () => {
    const staging = await run("node_modules/.bin/wrangler", [
      "deploy",
      "--env",
      "staging",
      "--assets",
      ".deploy/web",
      "--dry-run",
      "--outdir",
      join(home, "staging-worker"),
    ]);
    expect(staging.code, staging.output.slice(-3000)).toBe(0);
    const stagingBindings = bindingLines(staging.output);
    expect(stagingBindings).toEqual(
      expect.arrayContaining([
        "env.COMPLETIONS (image-studio-staging-completions) Queue",
        "env.DB (image-studio-staging) D1 Database",
        "env.BUCKET (image-studio-staging-assets) R2 Bucket",
      ]),
    );
    const resources = (lines: string[]) =>
      lines.flatMap((line) => line.match(/^env\.\w+ \((image-studio[^)]*)\)/)?.[1] ?? []);
    const shared = resources(stagingBindings).filter((name) =>
      resources(bindingLines(production.output)).includes(name),
    );
    expect(shared).toEqual([]);
  }, 120_000);
});
