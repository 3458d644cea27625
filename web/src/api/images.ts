/** The gallery (every output across sessions), favourites, and deleting one output into the trash. */
import type { GalleryPage, ListImagesParams } from "@contract/gallery";
import { api, type CallOptions, callInit, done, idParam, readJson } from "./client";
import { apiQuery } from "./query";

/** A page of the gallery, newest first; every filter narrows the others. */
export async function listImages(params: ListImagesParams, options?: CallOptions): Promise<GalleryPage> {
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query[name] = String(value);
  }
  return readJson(await api.images.$get({ query }, callInit(options)));
}

/** The gallery's first page, for the route to preload and the page to load. */
export const imageListQuery = apiQuery(listImages, "imageList");

export async function setFavorite(assetId: string, favorite: boolean): Promise<void> {
  const target = api.assets[":id"].favorite;
  await done(await (favorite ? target.$put : target.$delete)({ param: idParam(assetId) }));
}

/** One output to the trash (restorable: trash.ts). */
export async function deleteAsset(assetId: string): Promise<void> {
  await done(await api.assets[":id"].$delete({ param: idParam(assetId) }));
}

/** The ids of a session's favourite images (a session has few; at most a few pages are read). */
export async function favoriteIdsOf(sessionId: string, options?: CallOptions): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < 5; page += 1) {
    const result = await listImages({ sessionId, favorite: "true", limit: 100, cursor }, options);
    for (const item of result.items) ids.add(item.id);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return ids;
}
