/**
 * Multipart uploads with progress. `fetch` cannot report upload progress, so each file goes in its
 * own `XMLHttpRequest`, whose `upload.onprogress` moves a progress bar. Failures become the same
 * `ApiError`s as every other call; the answer is typed by the route it is sent to.
 */
import { notifyUnauthorized } from "./client";
import { ApiError, problemFromParts, unreadableAnswer } from "./errors";

export type UploadOptions = {
  /** 0..1 as the bytes leave the browser. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
};

/** POSTs `form` to `url` (built by the typed client's `$url()`); resolves with the answer's JSON. */
export function uploadForm<T>(url: URL, form: FormData, options: UploadOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");

    const abort = () => xhr.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    const settle = () => options.signal?.removeEventListener("abort", abort);

    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) options.onProgress?.(Math.min(1, event.loaded / event.total));
    };

    xhr.onload = () => {
      settle();
      if (xhr.status < 200 || xhr.status >= 300) {
        if (xhr.status === 401) notifyUnauthorized();
        void problemFromParts({
          status: xhr.status,
          statusText: xhr.statusText,
          contentType: xhr.getResponseHeader("Content-Type") ?? "",
          body: xhr.responseText,
          retryAfter: xhr.getResponseHeader("Retry-After"),
        }).then(reject);
        return;
      }
      options.onProgress?.(1);
      try {
        // Typed by the route's own answer (`InferResponseType` at the call site), as `fetch` answers are.
        resolve(JSON.parse(xhr.responseText) as T);
      } catch (cause) {
        console.error(`Unreadable response from ${url.pathname}`, cause);
        reject(unreadableAnswer(xhr.status, url.href));
      }
    };

    xhr.onerror = () => {
      settle();
      reject(new ApiError({ kind: "network", status: 0, title: "Network error", detail: "The upload failed." }));
    };
    xhr.onabort = () => {
      settle();
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
