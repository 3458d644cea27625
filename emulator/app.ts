/**
 * `createEmulator()`: the Replicate emulator as a Hono app plus its clock and state.
 * Serve it with `startEmulator()` (server.ts), or call `app.fetch` / `app.request` in-process.
 */
import { Hono } from "hono";
import { registerApiRoutes } from "./api";
import { createClock, type EmulatorClock } from "./clock";
import type { AppEnv, EmulatorContext, EmulatorState } from "./context";
import { registerControlRoutes } from "./control";
import { registerDeliveryRoutes } from "./delivery";
import { FaultStore } from "./faults";
import { FileStore } from "./files";
import { ModelRegistry } from "./models";
import { PredictionService } from "./predictions";
import { RequestLog } from "./requests";
import { DEFAULT_WEBHOOK_SECRET, WebhookDispatcher } from "./webhooks";

export interface EmulatorOptions {
  /** Public origin the emulator is served at, e.g. `http://127.0.0.1:8788` (builds every URL it returns). */
  baseUrl: string;
  /** `whsec_…` signing secret; defaults to DEFAULT_WEBHOOK_SECRET. */
  webhookSecret?: string;
  /** POST webhooks (true, the default) or only record them (false: e.g. when the target is unreachable). */
  deliverWebhooks?: boolean;
  /** Emulator time per real time; 0 freezes the clock (only `advance` moves it). Default 1. */
  speed?: number;
  /** Which bearer tokens are valid. Default: any non-empty token. */
  acceptToken?: (token: string) => boolean;
  /** Scale applied to nominal output sizes (default 0.25: 1024×1024 renders as 256×256). */
  imageScale?: number;
  /** Real milliseconds between background ticks that emit due webhooks. Default 50. */
  tickIntervalMs?: number;
}

export interface Emulator {
  app: Hono<AppEnv>;
  clock: EmulatorClock;
  state: EmulatorState;
  baseUrl: string;
  webhookSecret: string;
  /** Emits due webhooks and runs due sends/retries; resolves when they're done. */
  tick(): Promise<void>;
  /** Advances the clock by `ms`, then ticks; resolves to the new `now`. */
  advance(ms: number): Promise<number>;
  /** Clears predictions, files, deliveries, request log, faults, configured models and the clock offset. */
  reset(): void;
  /** Stops the background ticker. */
  close(): void;
}

export function createEmulator(options: EmulatorOptions): Emulator {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const webhookSecret = options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET;
  if (!webhookSecret.startsWith("whsec_")) throw new Error("webhookSecret must start with whsec_");
  const clock = createClock(options.speed ?? 1);
  const faults = new FaultStore();
  const files = new FileStore(clock, baseUrl);
  const webhooks = new WebhookDispatcher(options.deliverWebhooks ?? true);
  const requests = new RequestLog();
  const models = new ModelRegistry();
  const predictions = new PredictionService({
    clock,
    baseUrl,
    files,
    faults,
    dispatcher: webhooks,
    webhookSecret,
    imageScale: options.imageScale ?? 0.25,
  });
  const state: EmulatorState = { predictions, files, faults, webhooks, requests, models };

  // Ticks run one at a time. A stepped tick (`tick`, `advance`) emits what became due, then sends
  // (each prediction's in order) until nothing more is due and every send has been answered. The
  // background ticker only emits and starts the sends, each on its own, as Replicate sends them: a
  // receiver slow to answer one webhook must not hold back any other.
  let chain: Promise<void> = Promise.resolve();
  let busy = false;
  const runTick = async (waitForSends: boolean): Promise<void> => {
    busy = true;
    try {
      await predictions.emitDueWebhooks();
      if (!waitForSends) {
        void webhooks.dispatchDue(clock.now(), "independent");
        return;
      }
      for (let round = 0; round < 100; round++) {
        // Retries that fell due during this tick (the clock may have jumped) run in the next round.
        await webhooks.idle();
        if (!(await webhooks.flushDue(clock.now()))) break;
      }
    } catch (error) {
      console.error("[replicate-emulator] tick failed:", error);
    } finally {
      busy = false;
    }
  };
  const tick = (): Promise<void> => {
    chain = chain.then(() => runTick(true));
    return chain;
  };
  const advance = async (ms: number): Promise<number> => {
    clock.advance(ms);
    await tick();
    return clock.now();
  };
  const reset = (): void => {
    predictions.clear();
    files.clear();
    webhooks.clear();
    requests.clear();
    faults.clear();
    models.clear();
    clock.reset();
  };

  const ticker = setInterval(() => {
    if (!busy) chain = chain.then(() => runTick(false));
  }, options.tickIntervalMs ?? 50);
  ticker.unref();

  const ctx: EmulatorContext = {
    clock,
    baseUrl,
    webhookSecret,
    acceptToken: options.acceptToken ?? ((token) => token.length > 0),
    state,
    advance,
    reset,
  };
  const app = new Hono<AppEnv>();
  registerApiRoutes(app, ctx);
  registerDeliveryRoutes(app, ctx);
  registerControlRoutes(app, ctx);
  app.notFound((c) => c.json({ detail: "Not found", status: 404 }, 404));
  app.onError((error, c) => {
    console.error("[replicate-emulator] request failed:", error);
    return c.json({ title: "Internal Server Error", detail: error.message, status: 500 }, 500);
  });

  return {
    app,
    clock,
    state,
    baseUrl,
    webhookSecret,
    tick,
    advance,
    reset,
    close: () => clearInterval(ticker),
  };
}
