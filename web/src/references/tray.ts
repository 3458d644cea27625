/**
 * The reference images attached to the next generation: a tray of chips, each either uploading (with
 * its own progress), ready (a stored reference), or failed (with its own reason, the others unharmed).
 *
 * Every file goes up in its own request (one `file` per upload of references), so each has its own
 * progress bar and its own error. A file the server already has comes back `deduplicated`: the stored
 * reference is reused, and if it is already in the tray the new chip folds into the old one.
 */

import type { Reference } from "@contract/api";
import { onCleanup } from "solid-js";
import { createStore, produce } from "solid-js/store";
import { ApiError, errorMessage } from "../api/errors";
import { uploadReferences } from "../api/references";
import { isAbortError } from "../api/upload";
import { announce } from "../ui/announcer";

/** The contract's `referenceImageIds` takes at most 8. */
export const MAX_REFERENCES = 8;

export type TrayItem = {
  key: string;
  name: string;
  /** An object URL of the picked file while it uploads, then the stored thumbnail. */
  previewUrl: string;
  status: "uploading" | "ready" | "failed";
  progress: number;
  reference: Reference | null;
  deduplicated: boolean;
  error: string | null;
  /** The failure may pass on a second try (network, 5xx, 429); a refused file won't. */
  retryable: boolean;
};

/** The model the references go to, and how many it takes (0: none). */
export type TrayLimit = { limit: number; modelName: string };

export type ReferenceTray = {
  items: readonly TrayItem[];
  /** How many the chosen model takes, shown before anything is uploaded. */
  limit: () => number;
  /** The model that limit belongs to, when one is chosen. */
  limitedBy: () => string | undefined;
  /** Uploads each file on its own; returns how many were taken (the tray holds at most 8). */
  add: (files: readonly File[]) => number;
  remove: (key: string) => void;
  retry: (key: string) => void;
  /** Replaces the tray with stored references ("Use this batch"). */
  load: (references: readonly Reference[]) => void;
  clear: () => void;
  /** Ids of the ready references, in tray order, without repeats. */
  ids: () => string[];
  uploading: () => boolean;
};

let counter = 0;
const nextKey = () => {
  counter += 1;
  return `ref-${Date.now().toString(36)}-${counter}`;
};

export function uploadReference(
  file: File,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<{ reference: Reference & { deduplicated: boolean } } | { error: string }> {
  return uploadReferences([file], { onProgress, signal }).then((result) => {
    const reference = result.items[0];
    if (reference) return { reference };
    return { error: result.errors[0]?.detail ?? "The file was refused." };
  });
}

export function createReferenceTray(model: () => TrayLimit | undefined = () => undefined): ReferenceTray {
  const limit = () => Math.min(MAX_REFERENCES, model()?.limit ?? MAX_REFERENCES);
  const [state, setState] = createStore<{ items: TrayItem[] }>({ items: [] });
  const files = new Map<string, File>();
  const controllers = new Map<string, AbortController>();
  const objectUrls = new Map<string, string>();

  const releaseUrl = (key: string) => {
    const url = objectUrls.get(key);
    if (url) URL.revokeObjectURL(url);
    objectUrls.delete(key);
  };

  const update = (key: string, patch: Partial<TrayItem>) => setState("items", (item) => item.key === key, patch);

  const drop = (key: string) => {
    controllers.get(key)?.abort();
    controllers.delete(key);
    files.delete(key);
    releaseUrl(key);
    setState("items", (items) => items.filter((item) => item.key !== key));
  };

  const start = (key: string, file: File) => {
    const controller = new AbortController();
    controllers.set(key, controller);
    update(key, { status: "uploading", progress: 0, error: null });
    uploadReference(file, (progress) => update(key, { progress }), controller.signal)
      .then((outcome) => {
        controllers.delete(key);
        if ("error" in outcome) {
          update(key, { status: "failed", error: outcome.error, retryable: false });
          announce(`${file.name} was not added: ${outcome.error}`);
          return;
        }
        const { reference } = outcome;
        const twin = state.items.find((item) => item.key !== key && item.reference?.id === reference.id);
        if (twin) {
          drop(key);
          announce(`${file.name} is already in the tray.`);
          return;
        }
        files.delete(key);
        releaseUrl(key);
        update(key, {
          status: "ready",
          progress: 1,
          reference,
          deduplicated: reference.deduplicated,
          previewUrl: reference.thumbnailUrl,
          name: reference.originalName || file.name,
        });
        announce(reference.deduplicated ? `${file.name} was uploaded before; reusing it.` : `${file.name} added.`);
      })
      .catch((error: unknown) => {
        controllers.delete(key);
        if (isAbortError(error)) return;
        const message = errorMessage(error);
        const retryable =
          !(error instanceof ApiError) || error.status === 0 || error.status === 429 || error.status >= 500;
        update(key, { status: "failed", error: message, retryable });
        announce(`${file.name} was not added: ${message}`);
      });
  };

  const add = (picked: readonly File[]): number => {
    const room = Math.max(0, limit() - state.items.length);
    const taken = picked.slice(0, room);
    if (picked.length > taken.length) {
      const who = model()?.modelName ?? "A generation";
      announce(
        `${who} takes at most ${limit()} reference image${limit() === 1 ? "" : "s"}; ${picked.length - taken.length} not added.`,
      );
    }
    const fresh: TrayItem[] = taken.map((file) => {
      const key = nextKey();
      const url = URL.createObjectURL(file);
      objectUrls.set(key, url);
      files.set(key, file);
      return {
        key,
        name: file.name || "Photo",
        previewUrl: url,
        status: "uploading",
        progress: 0,
        reference: null,
        deduplicated: false,
        error: null,
        retryable: false,
      };
    });
    setState(
      "items",
      produce((items) => void items.push(...fresh)),
    );
    for (const item of fresh) {
      const file = files.get(item.key);
      if (file) start(item.key, file);
    }
    return taken.length;
  };

  const clear = () => {
    for (const item of state.items) drop(item.key);
  };

  onCleanup(clear);

  return {
    get items() {
      return state.items;
    },
    limit,
    limitedBy: () => model()?.modelName,
    add,
    remove: drop,
    retry: (key) => {
      const file = files.get(key);
      if (file) start(key, file);
    },
    load: (references) => {
      clear();
      setState(
        "items",
        references.slice(0, MAX_REFERENCES).map((reference) => ({
          key: nextKey(),
          name: reference.originalName,
          previewUrl: reference.thumbnailUrl,
          status: "ready" as const,
          progress: 1,
          reference,
          deduplicated: false,
          error: null,
          retryable: false,
        })),
      );
    },
    clear,
    ids: () => [
      ...new Set(state.items.flatMap((item) => (item.status === "ready" && item.reference ? [item.reference.id] : []))),
    ],
    uploading: () => state.items.some((item) => item.status === "uploading"),
  };
}
