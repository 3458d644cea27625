import type { GalleryItem } from "@contract/gallery";
import { createRenderEffect, createRoot, type JSX, on } from "solid-js";
import { FavoriteButton, thumbnailSrcset } from "../images";
import { ImageIcon } from "../ui/icons";

/**
 * One place in the grid: an image's thumbnail (the width `srcset` picks for the tile's size and the
 * screen's density; never the full image), a shimmer until it arrives, and a star in the corner.
 *
 * The grid makes a tile once and shows it another image as the list scrolls (`props.item`
 * changes): its attributes follow, and what the last image's thumbnail did to it (loaded, failed)
 * is undone. It holds no listener of its own for its thumbnail: `watchThumbnails` marks it loaded
 * or failed from one listener on the page.
 */
export function GalleryTile(props: { item: GalleryItem; width: number; onOpen: (id: string) => void }): JSX.Element {
  let tile: HTMLDivElement | undefined;
  createRenderEffect(
    on(
      () => props.item.id,
      () => {
        tile?.classList.remove("is-failed");
        tile?.classList.add("is-loading");
        tile?.querySelector(".gtile__failed")?.remove();
      },
      { defer: true },
    ),
  );
  return (
    <div ref={tile} class="gtile is-loading" data-testid="gallery-item" data-id={props.item.id}>
      <button
        type="button"
        class="gtile__open"
        aria-label={`Open image: ${props.item.prompt}`}
        onClick={() => props.onOpen(props.item.id)}
      >
        {thumbnail(props.item, props.width)}
      </button>
      <FavoriteButton assetId={props.item.id} favorite={props.item.favorite} variant="overlay" class="gtile__star" />
    </div>
  );
}

/**
 * A new <img> for each image the tile shows, its attributes set before it is in the page: changing
 * `src` and `srcset` of an image already in the page costs several times more (measured), and a
 * new element also starts without the last image's `is-loaded`.
 */
const thumbnail = (item: GalleryItem, width: number) => (
  <img
    class="gtile__image"
    src={item.thumbnailUrl}
    srcset={thumbnailSrcset(item)}
    sizes={`${Math.ceil(width)}px`}
    alt=""
    loading="lazy"
    decoding="async"
    draggable={false}
  />
);

let failedIcon: Node | undefined;
/** The icon a tile shows when its thumbnail could not be loaded (made once, copied). */
const failedIconCopy = (): Node => {
  failedIcon ??= createRoot(() => ImageIcon({ class: "icon gtile__failed" }) as Node);
  return failedIcon.cloneNode(true);
};

const onThumbnail = (event: Event) => {
  const image = event.target;
  if (!(image instanceof HTMLImageElement) || !image.classList.contains("gtile__image")) return;
  const tile = image.closest(".gtile");
  if (!tile || tile.classList.contains("is-failed")) return;
  tile.classList.remove("is-loading");
  if (event.type === "load") {
    image.classList.add("is-loaded");
  } else {
    tile.classList.add("is-failed");
    image.after(failedIconCopy());
  }
};

/**
 * Marks the tiles under `root` as their thumbnails arrive (`is-loaded` on the image, the shimmer
 * gone) or fail (`is-failed`, an icon instead). `load` and `error` don't bubble, so they are caught
 * on their way down. Returns what stops it.
 */
export function watchThumbnails(root: HTMLElement): () => void {
  root.addEventListener("load", onThumbnail, true);
  root.addEventListener("error", onThumbnail, true);
  return () => {
    root.removeEventListener("load", onThumbnail, true);
    root.removeEventListener("error", onThumbnail, true);
  };
}
