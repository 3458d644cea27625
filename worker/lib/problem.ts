/**
 * The one error shape: RFC 9457 problem details. Code throws `ProblemError`; the app's error
 * handler renders it (and anything unexpected, as a 500 that reveals nothing).
 */

import type { Problem } from "@contract/api";
import type { Context } from "hono";

export type FieldError = { path: string; message: string };
/** The limit a 429 or quota 403 is about. */
export type LimitInfo = { name: string; max: number; used: number; resetsAt: string };

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly options: { errors?: FieldError[]; retryAfterSeconds?: number; title?: string; limit?: LimitInfo } = {},
  ) {
    super(detail);
    this.name = "ProblemError";
  }
}

export const notFound = (what = "resource"): ProblemError => new ProblemError(404, `No such ${what}.`);

export function problemBody(
  status: number,
  detail: string,
  errors?: FieldError[],
  title?: string,
  limit?: LimitInfo,
): Problem {
  return {
    type:
      status === 400 && errors
        ? "https://imagestudio.dev/problems/validation"
        : limit
          ? "https://imagestudio.dev/problems/limit"
          : "about:blank",
    title: title ?? TITLES[status] ?? "Error",
    status,
    detail,
    ...(errors ? { errors } : {}),
    ...(limit ? { limit } : {}),
  };
}

export function problemResponse(error: ProblemError): Response {
  const headers = new Headers({ "Content-Type": "application/problem+json" });
  if (error.options.retryAfterSeconds !== undefined) {
    headers.set("Retry-After", String(Math.max(1, Math.ceil(error.options.retryAfterSeconds))));
  }
  return new Response(
    JSON.stringify(
      problemBody(error.status, error.detail, error.options.errors, error.options.title, error.options.limit),
    ),
    { status: error.status, headers },
  );
}

export const respondProblem = (_c: Context, error: ProblemError): Response => problemResponse(error);

/**
 * A route whose contract is published before its implementation: typed as answering `T`, it
 * answers 501 until it is built.
 */
export function notYetImplemented<T>(): T {
  throw new ProblemError(501, "This endpoint is part of the contract but not available yet.");
}
