/** The gallery: every image made, across sessions (App.tsx loads it on first visit, with its virtualiser). */

export { GalleryPage } from "./GalleryPage";
export { preloadGallery } from "./view";
