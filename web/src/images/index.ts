/**
 * One output as a person acts on it, wherever it is shown: its star, deleting it into the trash with
 * "Undo", its addresses, the actions on it, and the full-size viewer (loaded when first opened).
 */
import { lazy } from "solid-js";

export { FavoriteButton } from "./FavoriteButton";
export { isFavorite, toggleFavorite } from "./favorites";
export { IMAGE_ACTIONS, type ImageAction } from "./ImageActions";
export { isVideoImage, iterateHref, sessionHref, thumbnailSrcset, type ViewerImage } from "./image";
export { trashImage } from "./trash";

export const Lightbox = lazy(() => import("./Lightbox").then((m) => ({ default: m.Lightbox })));
