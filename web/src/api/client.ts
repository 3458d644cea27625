/**
 * The one HTTP client of the web app: Hono's typed client (`hc`) over the Worker's own route types
 * (`AppType`), so every path, input and answer is checked against the server when the app is
 * type-checked. Same-origin, cookie-authenticated, JSON in and out. Each resource has its module
 * next to this one; pages call those, never `fetch`.
 *
 * - Every failure becomes an `ApiError` (see errors.ts): problem+json answers with their field
 *   errors and `Retry-After`, network failures, answers that cannot be read.
 * - A 401 on an authenticated call notifies the auth layer (which sends the person to sign in and
 *   back); the calls that expect a 401 as an answer (who am I, sign in) use `authApi`, which doesn't.
 */
import type { AppType } from "@worker/app";
import { hc } from "hono/client";
import { ApiError, problemFrom, unreadableAnswer } from "./errors";

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever an authenticated request answers 401. Returns an unsubscribe function. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** An authenticated call answered 401, whatever carried it (`fetch`, an upload's XHR). */
export function notifyUnauthorized(): void {
  for (const listener of unauthorizedListeners) listener();
}

/** `fetch` as the typed client uses it: answers that are not 2xx are thrown as `ApiError`s. */
function transport(options: { notifyUnauthorized: boolean }): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("Accept", "application/json, application/problem+json");
    let response: Response;
    try {
      response = await fetch(input, { ...init, headers, credentials: "same-origin" });
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
      if (response.status === 401 && options.notifyUnauthorized) notifyUnauthorized();
      throw error;
    }
    return response;
  };
}

const origin = window.location.origin;

/** The API (`/api/...`) for signed-in calls. */
export const api = hc<AppType>(origin, { fetch: transport({ notifyUnauthorized: true }) }).api;

/** The API for calls whose 401 is an answer, not an expired session: who am I, sign in, sign out. */
export const authApi = hc<AppType>(origin, { fetch: transport({ notifyUnauthorized: false }) }).api;

/** Per-call options: an `AbortSignal` to cancel the request. */
export type CallOptions = { signal?: AbortSignal };
export const callInit = (options: CallOptions = {}) => (options.signal ? { init: { signal: options.signal } } : {});

/** A path parameter, encoded (the typed client puts parameters into the path as they are). */
export const idParam = (id: string) => ({ id: encodeURIComponent(id) });

/**
 * The body of a successful answer, typed by the route that sent it. An answer that is not JSON
 * (a proxy's error page, say) is an `ApiError` of kind `contract`.
 */
export async function readJson<T>(response: { json(): Promise<T>; status: number; url: string }): Promise<T> {
  try {
    return await response.json();
  } catch (cause) {
    console.error(`Unreadable response from ${response.url}`, cause);
    throw unreadableAnswer(response.status, response.url);
  }
}

/** A successful answer whose body (204, or one we ignore) isn't needed. */
export async function done(response: Response): Promise<void> {
  await response.body?.cancel();
}
