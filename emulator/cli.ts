/**
 * `npx tsx emulator/cli.ts` — runs the emulator for `npm run dev`, delivering webhooks.
 * Env: PORT (default 8788), HOST (127.0.0.1), EMULATOR_SPEED (1), EMULATOR_IMAGE_SCALE (0.25),
 * EMULATOR_WEBHOOK_SECRET (whsec_…; default: the emulator's fixed secret).
 */
import { startEmulator } from "./server";

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${raw}`);
  return value;
}

const running = await startEmulator({
  port: numberFromEnv("PORT", 8788),
  host: process.env.HOST || "127.0.0.1",
  deliverWebhooks: true,
  speed: numberFromEnv("EMULATOR_SPEED", 1),
  imageScale: numberFromEnv("EMULATOR_IMAGE_SCALE", 0.25),
  ...(process.env.EMULATOR_WEBHOOK_SECRET ? { webhookSecret: process.env.EMULATOR_WEBHOOK_SECRET } : {}),
});
console.log(`Replicate emulator listening on ${running.url} (API base ${running.url}/v1)`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  running.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
