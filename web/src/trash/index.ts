/** The trash: what was deleted, restorable for 30 days (the page loads on first visit). */
import { lazy } from "solid-js";

export { preloadTrash } from "./preload";

export const TrashPage = lazy(() => import("./TrashPage").then((m) => ({ default: m.TrashPage })));
