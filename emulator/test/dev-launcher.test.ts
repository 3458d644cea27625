/**
 * `npm run dev` checks its ports before starting anything: a port someone else holds is named with
 * the variable that moves it, instead of a crash deep inside wrangler.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let holder: Server;
let takenPort: number;

beforeAll(async () => {
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const address = holder.address();
  takenPort = address !== null && typeof address === "object" ? address.port : 0;
});

afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

/** Runs the launcher until it exits; what it printed and its exit code. */
function launch(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("node_modules/.bin/tsx", ["emulator/dev.ts"], {
      // No dev vars file: the emulator would be the backend.
      env: { ...process.env, STUDIO_DEV_VARS: "/nonexistent/.dev.vars", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("npm run dev with a port already in use", () => {
  it.each([
    ["PORT", "the app"],
    ["EMULATOR_PORT", "the Replicate emulator"],
    ["INSPECTOR_PORT", "wrangler's inspector"],
  ])(
    "%s names the port, what it is for and the variable, and starts nothing",
    async (variable, what) => {
      const { code, output } = await launch({ [variable]: String(takenPort) });
      expect(code).toBe(1);
      expect(output).toContain(`Port ${takenPort} (${what}, ${variable}) is already in use`);
      expect(output).toContain(`${variable}=<a free port>`);
      // It stopped before the emulator or wrangler started.
      expect(output).not.toContain("Replicate emulator at");
      expect(output).not.toContain("Image Studio at");
    },
    30_000,
  );

  it("refuses a value that is not a port", async () => {
    const { code, output } = await launch({ PORT: "eighty" });
    expect(code).toBe(1);
    expect(output).toContain("PORT=eighty is not a port number.");
  }, 30_000);
});
