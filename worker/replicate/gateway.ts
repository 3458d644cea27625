/**
 * The Replicate gateway: every call the app makes to Replicate goes through here, using the official
 * client pointed at REPLICATE_BASE_URL (Replicate itself, or the local emulator).
 *
 * The client retries 429s (and GET 5xx) up to six times without waiting. We hand it a fetch that
 * waits between attempts (honouring Retry-After) within a small budget and, once that budget is
 * spent, replays the last answer instead of calling again, so a struggling Replicate is not hammered.
 */
import Replicate, { type ApiError } from "replicate";
import { z } from "zod";
import type { AppConfig } from "../lib/config";
import { PipelineError } from "../lib/retryable";
import { withinTime } from "../lib/time-limit";
import { type Prediction, predictionSchema } from "./prediction";

export type GatewayErrorKind =
  | "rate_limited"
  | "unavailable"
  | "rejected"
  | "not_found"
  | "network"
  | "invalid_response";

const RETRYABLE_KINDS: ReadonlySet<GatewayErrorKind> = new Set(["rate_limited", "unavailable", "network"]);

/** Retryable when worth trying again later: throttling, outages and network trouble. */
export class GatewayError extends PipelineError {
  constructor(
    readonly kind: GatewayErrorKind,
    message: string,
    readonly status: number | null = null,
    retryAfterMs: number | null = null,
  ) {
    super(message, { retryable: RETRYABLE_KINDS.has(kind), retryAfterMs });
    this.name = "GatewayError";
  }
}

/** How one call to Replicate asks: how often, how long between asks, how long each ask may wait. */
export type RetryBudget = { attempts: number; baseDelayMs: number; maxDelayMs: number; timeoutMs: number };
/**
 * A create answers in about a second and a file upload in a few: an ask still unanswered after 30 s
 * is a Replicate that has stopped answering, and the session's queue must not wait on it for ever.
 */
export const DEFAULT_RETRY_BUDGET: RetryBudget = {
  attempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  timeoutMs: 30_000,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function retryAfterMs(response: Response): number | null {
  const header = response.headers.get("Retry-After");
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

const jitterMs = () => Math.random() * 50;
const backoffMs = (budget: RetryBudget, attempt: number) =>
  Math.min(budget.maxDelayMs, budget.baseDelayMs * 2 ** (attempt - 1)) + jitterMs();

/** `fetch`, given up when no answer has begun within `ms`. */
function fetchWithin(ms: number, ...[input, init]: Parameters<typeof fetch>): Promise<Response> {
  return withinTime(ms, async (signal) => {
    try {
      return await fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
    } catch (error) {
      if (signal.aborted) throw new GatewayError("network", `Replicate did not answer within ${ms / 1000} s`);
      throw error;
    }
  });
}

/**
 * The fetch one client call runs on, so that our budget is the only retry policy. The client asks
 * again at once, up to 5 times, after a throttled answer or a request that threw, whatever the
 * method: a create whose answer was lost on the way back would make a billed prediction each time.
 * So the answer that used up the budget, or the error a request threw, is what every later ask of
 * the same call gets, without asking Replicate again. Within the budget, reads that threw are asked
 * again here, with backoff; beyond it, the caller's own retries decide.
 */
function politeFetch(budget: RetryBudget): typeof fetch {
  let spent: Response | null = null;
  let thrown: { error: unknown } | null = null;
  return async (input, init) => {
    if (spent) return spent.clone();
    if (thrown) throw thrown.error;
    const method = (init?.method ?? "GET").toUpperCase();
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetchWithin(budget.timeoutMs, input, init);
      } catch (error) {
        // A read asked again changes nothing; a create asked again may make a second prediction.
        if (method === "GET" && attempt < budget.attempts) {
          await sleep(backoffMs(budget, attempt));
          continue;
        }
        thrown = { error };
        throw error;
      }
      const retryable = response.status === 429 || (response.status >= 500 && (method === "GET" || method === "POST"));
      if (!retryable) return response;
      if (attempt >= budget.attempts) {
        spent = response;
        return response.clone();
      }
      const hinted = retryAfterMs(response);
      await response.body?.cancel();
      await sleep(hinted === null ? backoffMs(budget, attempt) : Math.min(budget.maxDelayMs, hinted) + jitterMs());
    }
  };
}

/** The client's ApiError is not exported as a value, so it is recognised by shape. */
const isApiError = (error: unknown): error is ApiError =>
  error instanceof Error && error.name === "ApiError" && "response" in error && error.response instanceof Response;

async function toGatewayError(error: unknown): Promise<GatewayError> {
  if (error instanceof GatewayError) return error;
  if (isApiError(error)) {
    const status = error.response.status;
    const detail = await describeApiError(error);
    if (status === 429)
      return new GatewayError(
        "rate_limited",
        `Replicate is rate limiting requests: ${detail}`,
        status,
        retryAfterMs(error.response),
      );
    if (status >= 500)
      return new GatewayError(
        "unavailable",
        `Replicate is unavailable (${status}): ${detail}`,
        status,
        retryAfterMs(error.response),
      );
    if (status === 404) return new GatewayError("not_found", `Replicate could not find it: ${detail}`, status);
    return new GatewayError("rejected", `Replicate rejected the request (${status}): ${detail}`, status);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError("network", `Could not reach Replicate: ${message}`);
}

/** The `detail` of Replicate's problem+json error, or the raw message. */
async function describeApiError(error: ApiError): Promise<string> {
  const match = error.message.match(/failed with status \d+[^:]*: (.*)\.$/s);
  const body = match?.[1] ?? error.message;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && "detail" in parsed && typeof parsed.detail === "string") {
      return parsed.detail.trim();
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.slice(0, 500);
}

function parsePrediction(value: unknown): Prediction {
  const parsed = predictionSchema.safeParse(value);
  if (!parsed.success)
    throw new GatewayError("invalid_response", "Replicate answered with something that is not a prediction");
  return parsed.data;
}

const replicateFileSchema = z.looseObject({
  id: z.string().min(1),
  expires_at: z.string().nullish(),
  created_at: z.string().nullish(),
  checksums: z.looseObject({ sha256: z.string().optional(), md5: z.string().optional() }).nullish(),
  urls: z.looseObject({ get: z.string().min(1) }),
});
export type ReplicateFile = z.infer<typeof replicateFileSchema>;

function parseFile(value: unknown): ReplicateFile {
  const parsed = replicateFileSchema.safeParse(value);
  if (!parsed.success)
    throw new GatewayError("invalid_response", "Replicate answered with something that is not a file");
  return parsed.data;
}

const modelVersionSchema = z.looseObject({ id: z.string().min(1), openapi_schema: z.unknown() });

const modelSchema = z.looseObject({
  owner: z.string().min(1),
  name: z.string().min(1),
  description: z.string().nullish(),
  cover_image_url: z.string().nullish(),
  is_official: z.boolean().nullish(),
  latest_version: modelVersionSchema.nullish(),
});
export type ReplicateModel = z.infer<typeof modelSchema>;
export type ReplicateModelVersion = z.infer<typeof modelVersionSchema>;

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new GatewayError("invalid_response", `Replicate answered with something that is not ${what}`);
  return parsed.data;
}

export type CreatePredictionRequest = {
  model: string;
  version?: string;
  input: Record<string, unknown>;
  webhook?: string;
};

export class ReplicateGateway {
  private static cachedSecrets = new Map<string, string>();

  constructor(
    private readonly config: AppConfig,
    private readonly budget: RetryBudget = DEFAULT_RETRY_BUDGET,
  ) {}

  private client(): Replicate {
    return new Replicate({
      auth: this.config.replicateToken,
      baseUrl: this.config.replicateBaseUrl,
      fetch: politeFetch(this.budget),
      useFileOutput: false,
    });
  }

  private async call<T>(operation: (client: Replicate) => Promise<T>): Promise<T> {
    try {
      return await operation(this.client());
    } catch (error) {
      throw await toGatewayError(error);
    }
  }

  createPrediction(request: CreatePredictionRequest): Promise<Prediction> {
    return this.call(async (client) => {
      const webhook = request.webhook
        ? {
            webhook: request.webhook,
            webhook_events_filter: ["start", "logs", "completed"] as ("start" | "logs" | "completed")[],
          }
        : {};
      const prediction = request.version
        ? await client.predictions.create({ version: request.version, input: request.input, ...webhook })
        : await client.predictions.create({ model: request.model, input: request.input, ...webhook });
      return parsePrediction(prediction);
    });
  }

  getPrediction(id: string): Promise<Prediction> {
    return this.call(async (client) => parsePrediction(await client.predictions.get(id)));
  }

  cancelPrediction(id: string): Promise<Prediction> {
    return this.call(async (client) => parsePrediction(await client.predictions.cancel(id)));
  }

  /** Uploads a file to Replicate's Files API (kept there for 24 hours). */
  uploadFile(
    bytes: Uint8Array,
    options: { fileName: string; contentType: string; metadata: Record<string, unknown> },
  ): Promise<ReplicateFile> {
    return this.call(async (client) => {
      const file = await client.files.create(
        new File([bytes], options.fileName, { type: options.contentType }),
        options.metadata,
      );
      return parseFile(file);
    });
  }

  /** The file's record, or a `not_found` GatewayError once Replicate has deleted it. */
  getFile(id: string): Promise<ReplicateFile> {
    return this.call(async (client) => parseFile(await client.files.get(id)));
  }

  /** A public model (`GET /v1/models/{owner}/{name}`); a `not_found` GatewayError when Replicate does not know it. */
  getModel(owner: string, name: string): Promise<ReplicateModel> {
    return this.call(async (client) => parseWith(modelSchema, await client.models.get(owner, name), "a model"));
  }

  /** One version of a model, with its OpenAPI schema. */
  getModelVersion(owner: string, name: string, versionId: string): Promise<ReplicateModelVersion> {
    return this.call(async (client) =>
      parseWith(modelVersionSchema, await client.models.versions.get(owner, name, versionId), "a model version"),
    );
  }

  /** Deletes one of our files from the Files API; a file already gone counts as deleted. */
  async deleteFile(id: string): Promise<void> {
    try {
      await this.call((client) => client.files.delete(id));
    } catch (error) {
      if (error instanceof GatewayError && error.kind === "not_found") return;
      throw error;
    }
  }

  /**
   * The secrets webhooks may be signed with: REPLICATE_WEBHOOK_SECRET (or the account's default
   * secret, fetched once and cached), and during a rotation REPLICATE_WEBHOOK_SECRET_PREVIOUS.
   */
  async webhookSecrets(): Promise<string[]> {
    const previous = this.config.previousWebhookSecret ? [this.config.previousWebhookSecret] : [];
    if (this.config.webhookSecret) return [this.config.webhookSecret, ...previous];
    const cacheKey = `${this.config.replicateBaseUrl}|${this.config.replicateToken}`;
    let current = ReplicateGateway.cachedSecrets.get(cacheKey);
    if (!current) {
      const { key } = await this.call((client) => client.webhooks.default.secret.get());
      ReplicateGateway.cachedSecrets.set(cacheKey, key);
      current = key;
    }
    return [current, ...previous];
  }

  /** Whether the API answers at all (for the health endpoint). */
  async ping(): Promise<boolean> {
    try {
      await this.call((client) => client.models.get("black-forest-labs", "flux-schnell"));
      return true;
    } catch {
      return false;
    }
  }
}
