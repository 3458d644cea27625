import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      projects: [
        {
          // Worker tests run inside workerd against the real local D1, R2, Durable Objects and Queues.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: { bindings: { TEST_MIGRATIONS: migrations } },
            }),
          ],
          test: { name: "worker", include: ["worker/test/**/*.test.ts"] },
        },
        {
          // The Replicate emulator runs on Node, as it does under `npm run dev`.
          test: { name: "emulator", environment: "node", include: ["emulator/test/**/*.test.ts"] },
        },
      ],
    },
  };
});
