/**
 * Test helpers: real sign-ups through the API, requests as a given user, the emulator's control
 * API, and replaying the webhooks the emulator recorded.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  SELF,
} from "cloudflare:test";
import type { Generation, Problem } from "@contract/api";
import type { LiveServerMessage } from "@contract/live";
import { expect } from "vitest";
import type { CompletionMessage } from "../completions/messages";
import worker from "../index";
import { signWebhook } from "../replicate/webhook-signature";
import { TEST_PUBLIC_URL, TEST_WEBHOOK_SECRET } from "./constants";

export const ORIGIN = TEST_PUBLIC_URL;

export type TestUser = { id: string; email: string; token: string; cookie: string };

export async function signUp(label = "user"): Promise<TestUser> {
  const email = `${label}-${crypto.randomUUID()}@example.com`;
  const response = await SELF.fetch(`${ORIGIN}/api/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: ORIGIN },
    body: JSON.stringify({ email, password: "correct horse battery" }),
  });
  expect(response.status).toBe(201);
  const { user } = await response.json<{ user: { id: string; email: string } }>();
  const cookie = (response.headers.get("Set-Cookie") ?? "").split(";")[0]!;
  const tokenResponse = await SELF.fetch(`${ORIGIN}/api/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Cookie: cookie, Origin: ORIGIN },
    body: JSON.stringify({ name: "tests" }),
  });
  expect(tokenResponse.status).toBe(201);
  const { token } = await tokenResponse.json<{ token: string }>();
  return { id: user.id, email: user.email, token, cookie };
}

/** A request as `user` with their bearer token (or anonymously with `null`). */
export function api(
  user: TestUser | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(user ? { Authorization: `Bearer ${user.token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function expectProblem(response: Response, status: number): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toContain("application/problem+json");
  const problem = await response.json<Problem>();
  expect(problem).toMatchObject({
    status,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
  return problem;
}

export async function createSession(user: TestUser, title?: string): Promise<{ id: string }> {
  const response = await api(user, "POST", "/api/sessions", title ? { title } : {});
  expect(response.status).toBe(201);
  return response.json<{ id: string }>();
}

export async function createGeneration(
  user: TestUser,
  sessionId: string,
  body: Record<string, unknown>,
): Promise<Generation> {
  const response = await api(user, "POST", `/api/sessions/${sessionId}/generations`, {
    model: "black-forest-labs/flux-schnell",
    ...body,
  });
  expect(response.status).toBe(202);
  return response.json<Generation>();
}

export async function getGeneration(user: TestUser, id: string): Promise<Generation> {
  const response = await api(user, "GET", `/api/generations/${id}`);
  expect(response.status).toBe(200);
  return response.json<Generation>();
}

export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 50, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const waitForGeneration = (
  user: TestUser,
  id: string,
  predicate: (generation: Generation) => boolean,
  what = "generation state",
) =>
  waitFor(
    async () => {
      const generation = await getGeneration(user, id);
      return predicate(generation) ? generation : null;
    },
    { what },
  );

export const isTerminal = (generation: Generation) =>
  ["succeeded", "failed", "canceled", "timed_out"].includes(generation.status);

/** Per-user limits other than the configured defaults (what `account_limits` is for), e.g. for a load test. */
export async function setLimits(
  user: TestUser,
  limits: { generationsPerMinute?: number; dailyGenerations?: number; dailyCostUsd?: number },
): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO account_limits (user_id, generations_per_minute, daily_generations, daily_cost_usd) VALUES (?, ?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET generations_per_minute = excluded.generations_per_minute,
       daily_generations = excluded.daily_generations, daily_cost_usd = excluded.daily_cost_usd`,
  )
    .bind(user.id, limits.generationsPerMinute ?? null, limits.dailyGenerations ?? null, limits.dailyCostUsd ?? null)
    .run();
}

/** A token unique to one test, put in prompts so emulator faults match only that test's predictions. */
export const uniqueTag = (): string => `t${crypto.randomUUID().slice(0, 8)}`;

// -----------------------------------------------------------------------------------------------
// The emulator's control API
// -----------------------------------------------------------------------------------------------

export type RecordedWebhook = {
  seq: number;
  predictionId: string;
  event: string;
  webhookId: string;
  headers: Record<string, string>;
  body: string;
  status: string;
};

export type RecordedRequest = {
  seq: number;
  at: number;
  method: string;
  path: string;
  status: number;
  /** When the answer's last byte went, counted with `seq`. */
  endSeq: number | null;
  predictionId?: string;
};

async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${env.EMULATOR_URL}/__control${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`Emulator control ${method} ${path} failed: ${response.status} ${await response.text()}`);
  return response.json<T>();
}

export const emulator = {
  advance: (ms: number) => control<{ now: number }>("POST", "/clock/advance", { ms }),
  webhooks: async (predictionId: string) =>
    (await control<{ items: RecordedWebhook[] }>("GET", `/webhooks?predictionId=${encodeURIComponent(predictionId)}`))
      .items,
  requests: async (query = "") => (await control<{ items: RecordedRequest[] }>("GET", `/requests${query}`)).items,
  addFault: (rule: Record<string, unknown>) => control<{ id: string }>("POST", "/faults", rule),
  /** A fault rule as it stands: how often it applied, and how many uses it has left. */
  fault: async (id: string) => {
    const { items } = await control<{ items: { id: string; hits: number; remaining: number | null }[] }>(
      "GET",
      "/faults",
    );
    const rule = items.find((item) => item.id === id);
    if (!rule) throw new Error(`No fault rule ${id} at the emulator`);
    return rule;
  },
};

/** A recorded webhook as a request to `path`, exactly as the emulator signed it. */
export function webhookRequest(webhook: RecordedWebhook, path = "/api/webhooks/replicate") {
  return new Request<unknown, IncomingRequestCfProperties>(`${ORIGIN}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "webhook-id": webhook.headers["webhook-id"]!,
      "webhook-timestamp": webhook.headers["webhook-timestamp"]!,
      "webhook-signature": webhook.headers["webhook-signature"]!,
    },
    body: webhook.body,
  });
}

/** Delivers one recorded webhook to the Worker exactly as the emulator signed it. */
export function deliver(webhook: RecordedWebhook): Promise<Response> {
  return SELF.fetch(webhookRequest(webhook));
}

/** Waits until the emulator has recorded the prediction's terminal webhook, and returns them all. */
export const terminalWebhooks = (predictionId: string) =>
  waitFor(
    async () => {
      const webhooks = await emulator.webhooks(predictionId);
      return webhooks.some((webhook) => ["succeeded", "failed", "canceled"].includes(webhook.status)) ? webhooks : null;
    },
    { what: `terminal webhook of ${predictionId}` },
  );

/** A multipart upload as `user`: each file under `field`, plus plain fields. */
export function upload(
  user: TestUser,
  path: string,
  files: { name: string; bytes: Uint8Array; type?: string }[],
  fields: Record<string, string> = {},
  field = "file",
): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files)
    form.append(field, new File([file.bytes], file.name, { type: file.type ?? "application/octet-stream" }));
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${user.token}` },
    body: form,
  });
}

/** Runs a generation to success by replaying its webhooks; returns it as stored. */
export async function completeGeneration(user: TestUser, generationId: string): Promise<Generation> {
  const running = await waitForGeneration(
    user,
    generationId,
    (g) => g.predictionId !== null,
    "submission to Replicate",
  );
  for (const webhook of await terminalWebhooks(running.predictionId!)) await deliver(webhook);
  return waitForGeneration(user, generationId, (g) => isTerminal(g), "a terminal status");
}

/** The input the emulator received for a prediction (from its recorded terminal webhook). */
export async function predictionInput(predictionId: string): Promise<Record<string, unknown>> {
  const webhooks = await terminalWebhooks(predictionId);
  return (JSON.parse(webhooks.at(-1)!.body) as { input: Record<string, unknown> }).input;
}

/** Delivers a prediction body signed now with the test secret, under a fresh webhook-id. */
export async function deliverSigned(body: string): Promise<Response> {
  const id = `msg_${crypto.randomUUID()}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  return SELF.fetch(`${ORIGIN}/api/webhooks/replicate`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${await signWebhook(TEST_WEBHOOK_SECRET, id, timestamp, body)}`,
    },
    body,
  });
}

/**
 * Hands `messages` straight to the completions consumer as one batch of `queue` (delivered
 * `attempts` times so far), and says how many it retried and acknowledged.
 */
export async function consumeBatch(
  queue: string,
  messages: CompletionMessage[],
  attempts = 1,
): Promise<{ retried: number; acked: number }> {
  const batch = createMessageBatch(
    queue,
    messages.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, ctx);
  return { retried: result.retryMessages.length, acked: result.explicitAcks.length };
}

/** A prediction's state as the webhook endpoint puts it on the completions queue. */
export const completionOf = (prediction: unknown): CompletionMessage => ({
  type: "prediction",
  source: "webhook",
  prediction,
  receivedAt: Date.now(),
});

/** Runs the Worker's cron handler (every job) as the platform would at `scheduledTime`. */
export async function runScheduled(scheduledTime = Date.now()): Promise<void> {
  await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime }), env);
}

/** Opens a session's live socket as `user`, collecting every message it receives. */
export async function openLiveSocket(
  user: TestUser,
  sessionId: string,
): Promise<{ socket: WebSocket; messages: LiveServerMessage[] }> {
  const response = await SELF.fetch(`${ORIGIN}/api/sessions/${sessionId}/live`, {
    headers: { Upgrade: "websocket", Authorization: `Bearer ${user.token}` },
  });
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  const messages: LiveServerMessage[] = [];
  socket.addEventListener("message", (event) => {
    messages.push(JSON.parse(String(event.data)) as LiveServerMessage);
  });
  socket.accept();
  return { socket, messages };
}
