import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_PUBLIC_URL, TEST_WEBHOOK_SECRET } from "./worker/test/constants";

// The contract shared by the Worker and the web app (`@contract/...`, as in the tsconfigs).
const contractAlias = { "@contract": fileURLToPath(new URL("./contract", import.meta.url)) };

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      // Logs of passing tests are noise; a failing test shows its own.
      silent: "passed-only" as const,
      // Files run side by side (vitest's default on 2 cores is one at a time): most of a file's time
      // is spent waiting on predictions, a stack or a browser. Each file has its own state (its own
      // Miniflare, or its own stack); Worker files share only the emulator, whose faults every test
      // scopes to a tag of its own (helpers.uniqueTag). One pool for all projects, so they overlap.
      maxWorkers: 3,
      projects: [
        {
          // Worker tests run inside workerd against the real local D1, R2, Durable Objects and Queues,
          // with the Replicate emulator (started on Node by the global setup) as the backend.
          resolve: { alias: contractAlias },
          plugins: [
            cloudflareTest(({ inject }) => {
              const emulatorUrl = inject("emulatorUrl");
              return {
                wrangler: { configPath: "./wrangler.toml" },
                miniflare: {
                  bindings: {
                    TEST_MIGRATIONS: migrations,
                    EMULATOR_URL: emulatorUrl,
                    REPLICATE_API_TOKEN: "r8_test_token",
                    REPLICATE_BASE_URL: `${emulatorUrl}/v1`,
                    REPLICATE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
                    REPLICATE_OUTPUT_HOSTS: new URL(emulatorUrl).host,
                    PUBLIC_URL: TEST_PUBLIC_URL,
                    // The Worker's lines go straight to the terminal (below): warnings and errors
                    // only, unless the run asks for more (`LOG_LEVEL=debug npm test`).
                    LOG_LEVEL: process.env.LOG_LEVEL || "warn",
                  },
                },
              };
            }),
          ],
          test: {
            name: "worker",
            include: ["worker/test/**/*.test.ts"],
            globalSetup: ["worker/test/global-setup.ts"],
            setupFiles: ["worker/test/setup.ts"],
            testTimeout: 120_000,
            // vitest would relay each console line to its reporter over the test file's socket. A
            // line from another request's context (a Durable Object, a queue batch, a `waitUntil`)
            // cannot be sent from there and waits for the file's next message; written as the file
            // ends, it has none, and the whole run waits forever. So the Worker writes to the
            // terminal itself.
            disableConsoleIntercept: true,
          },
        },
        {
          // The Replicate emulator runs on Node, as it does under `npm run dev`.
          // vitest's default 5 s is too little for the busiest of these (hundreds of predictions)
          // on a loaded 2-core machine; a limit only stops a stuck test, it measures nothing.
          test: { name: "emulator", environment: "node", include: ["emulator/test/**/*.test.ts"], testTimeout: 60_000 },
        },
        {
          // The deployment, built and bundled for each environment without a Cloudflare account.
          test: { name: "deploy", environment: "node", include: ["scripts/test/**/*.test.ts"], testTimeout: 180_000 },
        },
        {
          // Headless Chromium against the app started exactly as `npm run dev` starts it.
          test: {
            name: "browser",
            environment: "node",
            include: ["web/e2e/**/*.test.ts"],
            // Files may run side by side: each stack has its own ports, state, registry and build of
            // the web app. How many at once is the pool's maxWorkers, above.
            testTimeout: 180_000,
            hookTimeout: 200_000,
          },
        },
      ],
    },
  };
});
