import type { ServerResponse } from "node:http";
import type { EmulatorClock } from "./clock";
import type { FaultStore } from "./faults";
import type { FileStore } from "./files";
import type { ModelRegistry } from "./models";
import type { PredictionService } from "./predictions";
import type { RequestLog } from "./requests";
import type { WebhookDispatcher } from "./webhooks";

/** Everything the emulator holds; cleared by `POST /__control/reset`. */
export interface EmulatorState {
  predictions: PredictionService;
  files: FileStore;
  faults: FaultStore;
  webhooks: WebhookDispatcher;
  requests: RequestLog;
  /** Built-in models plus those configured over the control API. */
  models: ModelRegistry;
}

/** What route modules need from the emulator. */
export interface EmulatorContext {
  clock: EmulatorClock;
  baseUrl: string;
  webhookSecret: string;
  acceptToken: (token: string) => boolean;
  state: EmulatorState;
  /** Moves the clock and runs everything that became due (webhook sends included). */
  advance(ms: number): Promise<number>;
  reset(): void;
}

/** Hono environment: request-scoped values set by handlers for the request log. */
export interface AppEnv {
  /** Set when served by server.ts (Node): lets a download fault cut the connection itself. */
  Bindings: { outgoing?: ServerResponse | undefined } | undefined;
  Variables: {
    predictionId: string | undefined;
  };
}
