/** The trash: what was deleted in the last 30 days, and bringing it back. */
import type { Restored, TrashPage } from "@contract/trash";
import { api, type CallOptions, callInit, idParam, readJson } from "./client";
import { apiQuery } from "./query";

export async function listTrash(
  listQuery: { limit: number; cursor?: string },
  options?: CallOptions,
): Promise<TrashPage> {
  const query = { limit: String(listQuery.limit), cursor: listQuery.cursor };
  return readJson(await api.trash.$get({ query }, callInit(options)));
}

export const trashListQuery = apiQuery(listTrash, "trashList");

/** Brings a session, a generation or one output back from the trash (by its own id). */
export async function restoreFromTrash(id: string): Promise<Restored> {
  return readJson(await api.trash[":id"].restore.$post({ param: idParam(id) }));
}
