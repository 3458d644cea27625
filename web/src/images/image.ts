/** An output as the gallery and the viewer show it, and the addresses that go with it. */
import type { GalleryItem } from "@contract/gallery";

export type ViewerImage = GalleryItem;

/** `srcset` over the image's thumbnail widths (never the full image). */
export const thumbnailSrcset = (image: Pick<ViewerImage, "thumbnails">): string =>
  image.thumbnails.map((thumb) => `${thumb.url} ${thumb.width}w`).join(", ");

/** The session page with this image selected. */
export const sessionHref = (image: Pick<ViewerImage, "sessionId" | "generationId" | "outputIndex">): string => {
  const query = new URLSearchParams({ g: image.generationId });
  if (image.outputIndex > 0) query.set("o", String(image.outputIndex));
  return `/sessions/${encodeURIComponent(image.sessionId)}?${query}`;
};

/** The session page with this image selected as the source of the next generation, the prompt focused. */
export const iterateHref = (image: Pick<ViewerImage, "sessionId" | "generationId" | "outputIndex">): string =>
  `${sessionHref(image)}&iterate=1`;

export const isVideoImage = (image: Pick<ViewerImage, "mimeType">): boolean => image.mimeType.startsWith("video/");
