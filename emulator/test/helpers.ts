import { validateWebhook } from "replicate";
import { type RunningEmulator, type StartEmulatorOptions, startEmulator } from "../server";

export const TOKEN = "r8_test";
export const SDXL = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc";

export interface Harness {
  running: RunningEmulator;
  url: string;
  /** Authenticated JSON request to the emulator. */
  api(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** Creates a prediction, expecting 201; returns its JSON. */
  create(path: string, body: unknown, headers?: Record<string, string>): Promise<PredictionBody>;
  get(id: string): Promise<PredictionBody>;
  advance(ms: number): Promise<number>;
  control<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  close(): Promise<void>;
}

export interface PredictionBody {
  id: string;
  status: string;
  output: unknown;
  logs: string;
  error: string | null;
  data_removed: boolean;
  metrics: Record<string, number>;
  [key: string]: unknown;
}

export function isPrediction(value: unknown): value is PredictionBody {
  return typeof value === "object" && value !== null && "id" in value && "status" in value;
}

/** Starts an emulator with a frozen clock (speed 0) unless told otherwise. */
export async function startHarness(options: StartEmulatorOptions = {}): Promise<Harness> {
  const running = await startEmulator({ speed: 0, deliverWebhooks: false, ...options });
  const url = running.url;
  const api: Harness["api"] = (path, init = {}) =>
    fetch(url + path, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...init.headers },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const asPrediction = async (response: Response, expected: number): Promise<PredictionBody> => {
    const json: unknown = await response.json();
    if (response.status !== expected || !isPrediction(json)) {
      throw new Error(`expected ${expected} prediction, got ${response.status}: ${JSON.stringify(json)}`);
    }
    return json;
  };
  return {
    running,
    url,
    api,
    create: async (path, body, headers) =>
      asPrediction(await api(path, { body, ...(headers ? { headers } : {}) }), 201),
    get: async (id) => asPrediction(await api(`/v1/predictions/${id}`), 200),
    advance: (ms) => running.emulator.advance(ms),
    control: async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
      const response = await fetch(url + path, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers: { "content-type": "application/json" },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      if (!response.ok) throw new Error(`control ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    close: () => running.close(),
  };
}

export function outputUrls(prediction: PredictionBody): string[] {
  const { output } = prediction;
  if (typeof output === "string") return [output];
  if (Array.isArray(output)) return output.filter((item): item is string => typeof item === "string");
  return [];
}

export async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`download ${url}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** A unique token to put in prompts, so faults match only this test's predictions. */
export function uniqueTag(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Verifies a recorded/received webhook the way a receiver would: a Request through validateWebhook. */
export async function verifyWebhook(headers: Record<string, string>, body: string, secret: string): Promise<boolean> {
  return validateWebhook(new Request("http://receiver.test/webhook", { method: "POST", headers, body }), secret);
}
