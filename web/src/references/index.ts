/** Reference images: their page, and the tray that attaches them to the next generation. */

export { preloadReferences, ReferencesPage } from "./ReferencesPage";
export { REPLICATE_STATUS_LABEL, ReferenceTrayView } from "./ReferenceTray";
export { createReferenceTray, type ReferenceTray } from "./tray";
