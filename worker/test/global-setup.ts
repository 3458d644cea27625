/**
 * Starts one Replicate emulator on Node for the whole Worker test run. The Worker under test reaches
 * it over loopback; webhooks are recorded instead of sent, because the test pool's Worker has no
 * port the emulator could call, and tests replay them through the Worker.
 */
import type { TestProject } from "vitest/node";
import { startEmulator } from "../../emulator/server";
import { TEST_WEBHOOK_SECRET } from "./constants";

declare module "vitest" {
  export interface ProvidedContext {
    emulatorUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulator = await startEmulator({ port: 0, deliverWebhooks: false, webhookSecret: TEST_WEBHOOK_SECRET });
  project.provide("emulatorUrl", emulator.url);
  return () => emulator.close();
}
