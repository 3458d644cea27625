/** The gallery: every image made, across sessions (loaded on first visit, with its virtualiser). */
import { lazy } from "solid-js";

export { preloadGallery } from "./view";

export const GalleryPage = lazy(() => import("./GalleryPage").then((m) => ({ default: m.GalleryPage })));
