import type { GalleryItem } from "@contract/gallery";
import { createRoot, type JSX } from "solid-js";
import { FavoriteButton, thumbnailSrcset } from "../images";
import { ImageIcon } from "../ui/icons";

/**
 * One image of the grid: its thumbnail (the width `srcset` picks for the tile's size and the
 * screen's density; never the full image), a shimmer until it arrives, and a star in the corner.
 *
 * Tiles come and go by the dozen while a list is flung, so one is cheap to make: what it shows is
 * read once (an image's id, prompt and thumbnails never change; another image is another tile), and
 * it holds no state or listener of its own for its thumbnail: `watchThumbnails` marks it loaded or
 * failed from one listener on the page.
 */
export function GalleryTile(props: { item: GalleryItem; width: number; onOpen: (id: string) => void }): JSX.Element {
  const { id, prompt, thumbnailUrl, favorite } = props.item;
  const label = `Open image: ${prompt}`;
  const srcset = thumbnailSrcset(props.item);
  const sizes = `${Math.ceil(props.width)}px`;
  const onOpen = props.onOpen;
  return (
    <div class="gtile is-loading" data-testid="gallery-item" data-id={id}>
      <button type="button" class="gtile__open" aria-label={label} onClick={[onOpen, id]}>
        <img
          class="gtile__image"
          src={thumbnailUrl}
          srcset={srcset}
          sizes={sizes}
          alt=""
          loading="lazy"
          decoding="async"
          draggable={false}
        />
      </button>
      <FavoriteButton assetId={id} favorite={favorite} variant="overlay" class="gtile__star" />
    </div>
  );
}

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
