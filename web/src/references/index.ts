/** Reference images: their page (App.tsx loads it on first visit), and the tray that attaches them to the next generation. */
export { preloadReferences } from "./preload";
export { ReferencesPage } from "./ReferencesPage";
export { REPLICATE_STATUS_LABEL, ReferenceTrayView } from "./ReferenceTray";
export { createReferenceTray, type ReferenceTray } from "./tray";
