/**
 * Multipart uploads with progress. `fetch` cannot report upload progress, so each file goes in its
 * own `XMLHttpRequest`, whose `upload.onprogress` moves a progress bar. Answers are parsed with the
 * shared contract schemas and failures become the same `ApiError`s as everywhere else.
 */
import type { z } from "zod";
import { ApiError, notifyUnauthorized, problemFromParts } from "./api";

export type UploadOptions = {
  /** 0..1 as the bytes leave the browser. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
};

export function uploadForm<S extends z.ZodType>(
  path: string,
  form: FormData,
  schema: S,
  options: UploadOptions = {},
): Promise<z.output<S>> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");

    const abort = () => xhr.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    const done = () => options.signal?.removeEventListener("abort", abort);

    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) options.onProgress?.(Math.min(1, event.loaded / event.total));
    };

    xhr.onload = () => {
      done();
      const contentType = xhr.getResponseHeader("Content-Type") ?? "";
      if (xhr.status < 200 || xhr.status >= 300) {
        if (xhr.status === 401) notifyUnauthorized();
        reject(
          problemFromParts({
            status: xhr.status,
            statusText: xhr.statusText,
            contentType,
            body: xhr.responseText,
            retryAfter: xhr.getResponseHeader("Retry-After"),
          }),
        );
        return;
      }
      options.onProgress?.(1);
      let raw: unknown;
      try {
        raw = JSON.parse(xhr.responseText);
      } catch {
        raw = undefined;
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        console.error(`Unexpected response from ${path}`, parsed.error.issues, raw);
        reject(
          new ApiError({
            kind: "contract",
            status: xhr.status,
            title: "Unexpected response",
            detail: `The response of ${path} doesn't match the contract.`,
          }),
        );
        return;
      }
      resolve(parsed.data);
    };

    xhr.onerror = () => {
      done();
      reject(new ApiError({ kind: "network", status: 0, title: "Network error", detail: "The upload failed." }));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException("The upload was canceled.", "AbortError"));
    };

    if (options.signal?.aborted) {
      reject(new DOMException("The upload was canceled.", "AbortError"));
      return;
    }
    xhr.send(form);
  });
}

export const isAbortError = (error: unknown): boolean => error instanceof DOMException && error.name === "AbortError";
