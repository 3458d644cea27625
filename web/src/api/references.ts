/** Reference images: list, upload (with progress), delete. */

import type { ReferencePage, ReferenceUploadResult } from "@contract/api";
import type { InferResponseType } from "hono/client";
import { api, type CallOptions, callInit, done, idParam, readJson } from "./client";
import { apiQuery } from "./query";
import { type UploadOptions, uploadForm } from "./upload";

export async function listReferences(
  listQuery: { limit: number; cursor?: string },
  options?: CallOptions,
): Promise<ReferencePage> {
  const response = await api.references.$get(
    { query: { limit: String(listQuery.limit), cursor: listQuery.cursor } },
    callInit(options),
  );
  return readJson(response);
}

/** A page of references, for a route to preload and its page to load. */
export const referenceListQuery = apiQuery(listReferences, "referenceList");

type UploadedReferences = InferResponseType<typeof api.references.$post>;

/** Stores files as references (each judged on its own: some may come back in `errors`). */
export function uploadReferences(files: readonly Blob[], options: UploadOptions = {}): Promise<ReferenceUploadResult> {
  const form = new FormData();
  for (const file of files) form.append("file", file);
  return uploadForm<UploadedReferences>(api.references.$url(), form, options);
}

/** Hides the reference; the generations that used it keep it. */
export async function deleteReference(id: string): Promise<void> {
  await done(await api.references[":id"].$delete({ param: idParam(id) }));
}
