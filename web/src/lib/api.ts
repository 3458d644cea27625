/**
 * The one HTTP client of the web app. Same-origin, cookie-authenticated, JSON in and out.
 *
 * - Successful bodies are parsed with the shared contract schemas (`worker/contract/api.ts`), so a
 *   drift between the Worker and the app fails loudly in one place instead of deep in the UI.
 * - Every failure becomes an `ApiError`: `application/problem+json` bodies (RFC 9457) are parsed into
 *   `status`, `title`, `detail` and field `errors`; network failures and unexpected bodies get their
 *   own `kind` so callers can word them.
 * - A 401 on an authenticated call notifies the auth layer (which sends the person to sign in and
 *   back); calls that expect a 401 as an answer (`/api/me`, sign in) opt out with `expectUnauthorized`.
 */
import type { z } from "zod";
import { problemSchema } from "../../../worker/contract/api";

export type FieldIssue = { path: string; message: string };
export type ApiErrorKind = "http" | "network" | "contract";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  /** HTTP status; 0 when the request never got an answer. */
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: readonly FieldIssue[];
  /** Seconds from `Retry-After`, when the server sent one (429, 503). */
  readonly retryAfter: number | null;

  constructor(init: {
    kind: ApiErrorKind;
    status: number;
    type?: string;
    title: string;
    detail: string;
    errors?: readonly FieldIssue[];
    retryAfter?: number | null;
  }) {
    super(init.detail || init.title);
    this.name = "ApiError";
    this.kind = init.kind;
    this.status = init.status;
    this.type = init.type ?? "about:blank";
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.retryAfter = init.retryAfter ?? null;
  }

  /**
   * The message for a form field, matched by its dotted path (`"params.width"`). Server paths may
   * carry a prefix (`"body.params.width"`) or use JSON-pointer slashes (`"/params/width"`).
   */
  fieldError(...paths: string[]): string | undefined {
    for (const issue of this.errors) {
      const normalized = normalizePath(issue.path);
      if (paths.some((p) => normalized === p || normalized.endsWith(`.${p}`))) return issue.message;
    }
    return undefined;
  }

  /** Field issues that match none of the given paths: shown at form level so nothing is lost. */
  unmatchedErrors(known: readonly string[]): FieldIssue[] {
    return this.errors.filter((issue) => {
      const normalized = normalizePath(issue.path);
      return !known.some((p) => normalized === p || normalized.endsWith(`.${p}`));
    });
  }

  /** A sentence fit to show a person. */
  get userMessage(): string {
    if (this.kind === "network") return "Can't reach Image Studio. Check your connection and try again.";
    if (this.kind === "contract") return "The server sent an answer this page doesn't understand. Try reloading.";
    if (this.status === 429 && this.retryAfter !== null) {
      return `${this.detail || "Too many requests."} Try again in ${formatSeconds(this.retryAfter)}.`;
    }
    return this.detail || this.title || `Request failed (${this.status}).`;
  }
}

export const isApiError = (value: unknown): value is ApiError => value instanceof ApiError;

/** Any thrown value, as a sentence fit to show a person. */
export function errorMessage(value: unknown): string {
  if (value instanceof ApiError) return value.userMessage;
  if (value instanceof Error && value.message) return value.message;
  return "Something went wrong.";
}

function normalizePath(path: string): string {
  return path.replace(/^\//, "").replaceAll("/", ".");
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.ceil(seconds / 60)} min`;
}

// ---------------------------------------------------------------------------------------------
// Session expiry hook
// ---------------------------------------------------------------------------------------------

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever an authenticated request answers 401. Returns an unsubscribe function. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** For transports other than `fetch` (the XHR uploads): an authenticated call answered 401. */
export function notifyUnauthorized(): void {
  for (const listener of unauthorizedListeners) listener();
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

export type RequestOptions = {
  signal?: AbortSignal;
  /** The caller handles 401 itself (sign in, `GET /api/me`): don't treat it as an expired session. */
  expectUnauthorized?: boolean;
};

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
type Query = Record<string, string | number | boolean | null | undefined>;

/** `/api/sessions` + `{ q: "cat", cursor: undefined }` → `/api/sessions?q=cat`. */
export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function send(method: Method, path: string, body: unknown, options: RequestOptions): Promise<Response> {
  const headers = new Headers({ Accept: "application/json, application/problem+json" });
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (options.signal) init.signal = options.signal;
  if (body !== undefined) {
    headers.set("Content-Type", "application/json");
    init.body = JSON.stringify(body);
  }

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError({
      kind: "network",
      status: 0,
      title: "Network error",
      detail: cause instanceof Error ? cause.message : "The request failed.",
    });
  }

  if (!response.ok) {
    const error = await problemFrom(response);
    if (response.status === 401 && !options.expectUnauthorized) {
      for (const listener of unauthorizedListeners) listener();
    }
    throw error;
  }
  return response;
}

async function problemFrom(response: Response): Promise<ApiError> {
  const contentType = response.headers.get("Content-Type") ?? "";
  const body = contentType.includes("json") ? await response.text().catch(() => "") : "";
  return problemFromParts({
    status: response.status,
    statusText: response.statusText,
    contentType,
    body,
    retryAfter: response.headers.get("Retry-After"),
  });
}

/** An `ApiError` from the pieces of a failed answer, whatever transport carried it. */
export function problemFromParts(parts: {
  status: number;
  statusText: string;
  contentType: string;
  body: string;
  retryAfter: string | null;
}): ApiError {
  const retryAfter = parseRetryAfter(parts.retryAfter);
  if (parts.contentType.includes("json") && parts.body) {
    let raw: unknown;
    try {
      raw = JSON.parse(parts.body);
    } catch {
      raw = undefined;
    }
    const parsed = problemSchema.safeParse(raw);
    if (parsed.success) {
      return new ApiError({ kind: "http", ...parsed.data, retryAfter });
    }
  }
  return new ApiError({
    kind: "http",
    status: parts.status,
    title: parts.statusText || `HTTP ${parts.status}`,
    detail: fallbackDetail(parts.status),
    retryAfter,
  });
}

function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

function fallbackDetail(status: number): string {
  switch (status) {
    case 401:
      return "Please sign in.";
    case 403:
      return "You're not allowed to do that.";
    case 404:
      return "Not found.";
    case 413:
      return "That's too large.";
    case 415:
      return "That kind of file isn't supported.";
    case 429:
      return "Too many requests.";
    default:
      return status >= 500 ? "The server had a problem. Try again in a moment." : `Request failed (${status}).`;
  }
}

async function parseBody<S extends z.ZodType>(response: Response, schema: S, path: string): Promise<z.output<S>> {
  const raw: unknown = await response.json().catch(() => undefined);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    console.error(`Unexpected response from ${path}`, parsed.error.issues, raw);
    throw new ApiError({
      kind: "contract",
      status: response.status,
      title: "Unexpected response",
      detail: `The response of ${path} doesn't match the contract.`,
    });
  }
  return parsed.data;
}

export const api = {
  async get<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<z.output<S>> {
    return parseBody(await send("GET", path, undefined, options), schema, path);
  },
  async post<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    return parseBody(await send("POST", path, body, options), schema, path);
  },
  async patch<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    return parseBody(await send("PATCH", path, body, options), schema, path);
  },
  /** A request whose answer has no body we need (204, or one we ignore). */
  async call(method: Method, path: string, body?: unknown, options: RequestOptions = {}): Promise<void> {
    const response = await send(method, path, body, options);
    await response.body?.cancel();
  },
};
