/** Reference images: their page (loaded on first visit), and the tray that attaches them to the next generation. */
import { lazy } from "solid-js";

export { preloadReferences } from "./preload";
export { REPLICATE_STATUS_LABEL, ReferenceTrayView } from "./ReferenceTray";
export { createReferenceTray, type ReferenceTray } from "./tray";

export const ReferencesPage = lazy(() => import("./ReferencesPage").then((m) => ({ default: m.ReferencesPage })));
