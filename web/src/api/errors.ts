/**
 * The one error of the web app's API calls. `application/problem+json` answers (RFC 9457) become
 * `status`, `title`, `detail` and field `errors`; network failures and unreadable answers get their
 * own `kind` so callers can word them.
 */

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

/**
 * An `ApiError` from the pieces of a failed answer, whatever transport carried it. The problem
 * schema (and the validation library under it) is loaded with the first failed answer, not with
 * the first page.
 */
export async function problemFromParts(parts: {
  status: number;
  statusText: string;
  contentType: string;
  body: string;
  retryAfter: string | null;
}): Promise<ApiError> {
  const retryAfter = parseRetryAfter(parts.retryAfter);
  if (parts.contentType.includes("json") && parts.body) {
    let raw: unknown;
    try {
      raw = JSON.parse(parts.body);
    } catch {
      raw = undefined;
    }
    const { problemSchema } = await import("@contract/problem");
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

/** The `ApiError` of a failed `fetch` answer. */
export async function problemFrom(response: Response): Promise<ApiError> {
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

/** An answer that should have been JSON but could not be read as such. */
export const unreadableAnswer = (status: number, url: string): ApiError =>
  new ApiError({
    kind: "contract",
    status,
    title: "Unexpected response",
    detail: `The response of ${new URL(url, window.location.origin).pathname} could not be read.`,
  });

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
