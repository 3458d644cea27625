/**
 * Which outputs are favourites, app-wide: a star set in the viewer shows at once in the grid and on
 * the session page. What a list said is the default; a toggle here overrides it until reload.
 */
import { createRoot, createSignal } from "solid-js";
import { setFavorite } from "../api/images";
import { announce } from "../ui/announcer";

const overrides = createRoot(() => {
  const [map, setMap] = createSignal<ReadonlyMap<string, boolean>>(new Map());
  return { map, setMap };
});

/** Whether the asset is a favourite: this tab's last toggle, else what the server said. */
export const isFavorite = (assetId: string, listed: boolean): boolean => overrides.map().get(assetId) ?? listed;

const put = (assetId: string, value: boolean) => overrides.setMap((map) => new Map(map).set(assetId, value));

/** Stars or unstars at once; put back (and the error thrown) if the server refuses. */
export async function toggleFavorite(assetId: string, listed: boolean): Promise<void> {
  const next = !isFavorite(assetId, listed);
  put(assetId, next);
  try {
    await setFavorite(assetId, next);
    announce(next ? "Added to favourites" : "Removed from favourites");
  } catch (error) {
    put(assetId, !next);
    throw error;
  }
}
