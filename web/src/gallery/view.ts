/**
 * What the gallery shows, as the URL says it, so a reload, the back button and a shared link keep
 * it: `?q=&model=&status=&from=&to=&starred=1&minWidth=&session=` and `&view=<image id>` for the
 * image open in the viewer. Shared by the route's preload and the page.
 */
import { GENERATION_STATUSES, type GenerationStatus } from "@contract/api";
import type { ListImagesParams } from "@contract/gallery";
import type { RoutePreloadFuncArgs } from "@solidjs/router";
import { imageListQuery } from "../api/images";

export const GALLERY_PAGE_SIZE = 96;

export type GalleryView = {
  q: string;
  model?: string;
  status?: GenerationStatus;
  from?: string;
  to?: string;
  starred: boolean;
  minWidth?: number;
  session?: string;
};

type SearchParams = Partial<Record<string, string | string[]>>;
const one = (value: string | string[] | undefined): string | undefined =>
  typeof value === "string" && value.trim() ? value.trim() : undefined;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function galleryViewOf(params: SearchParams): GalleryView {
  const status = one(params.status);
  const minWidth = Number(one(params.minWidth));
  const from = one(params.from);
  const to = one(params.to);
  return {
    q: one(params.q) ?? "",
    model: one(params.model),
    status: GENERATION_STATUSES.find((s) => s === status),
    from: from && DATE.test(from) ? from : undefined,
    to: to && DATE.test(to) ? to : undefined,
    starred: one(params.starred) === "1",
    minWidth: Number.isInteger(minWidth) && minWidth > 0 ? minWidth : undefined,
    session: one(params.session),
  };
}

/** Whether anything narrows the gallery (search aside). */
export const isFiltered = (view: GalleryView): boolean =>
  Boolean(view.model || view.status || view.from || view.to || view.starred || view.minWidth || view.session);

/** The API's query for a page of what the view shows. */
export const imagesQueryOf = (view: GalleryView, cursor?: string): ListImagesParams => ({
  limit: GALLERY_PAGE_SIZE,
  cursor,
  q: view.q || undefined,
  model: view.model,
  status: view.status,
  from: view.from,
  to: view.to,
  favorite: view.starred ? "true" : undefined,
  minWidth: view.minWidth,
  sessionId: view.session,
});

/** The route's preload: the first page, fetched while the page is on its way. */
export const preloadGallery = (args: RoutePreloadFuncArgs) =>
  imageListQuery.preload(imagesQueryOf(galleryViewOf(args.location.query)));
