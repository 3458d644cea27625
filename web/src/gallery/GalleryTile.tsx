import type { GalleryItem } from "@contract/gallery";
import { createSignal, type JSX } from "solid-js";
import { FavoriteButton, thumbnailSrcset } from "../images";
import { ImageIcon } from "../ui/icons";

/**
 * One image of the grid: its thumbnail (the width `srcset` picks for the tile's size and the
 * screen's density; never the full image), a shimmer until it arrives, and a star in the corner.
 */
export function GalleryTile(props: { item: GalleryItem; width: number; onOpen: () => void }): JSX.Element {
  const [state, setState] = createSignal<"loading" | "loaded" | "failed">("loading");
  return (
    <div
      class="gtile"
      classList={{ "is-loading": state() === "loading" }}
      data-testid="gallery-item"
      data-id={props.item.id}
    >
      <button
        type="button"
        class="gtile__open"
        aria-label={`Open image: ${props.item.prompt}`}
        onClick={() => props.onOpen()}
      >
        {state() === "failed" ? (
          <ImageIcon class="icon gtile__failed" />
        ) : (
          <img
            class="gtile__image"
            classList={{ "is-loaded": state() === "loaded" }}
            src={props.item.thumbnailUrl}
            srcset={thumbnailSrcset(props.item)}
            sizes={`${Math.ceil(props.width)}px`}
            alt=""
            loading="lazy"
            decoding="async"
            draggable={false}
            onLoad={() => setState("loaded")}
            onError={() => setState("failed")}
          />
        )}
      </button>
      <FavoriteButton assetId={props.item.id} favorite={props.item.favorite} variant="overlay" class="gtile__star" />
    </div>
  );
}
