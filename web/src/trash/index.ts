/** The trash: what was deleted, restorable for 30 days (App.tsx loads it on first visit). */
export { preloadTrash } from "./preload";

export { TrashPage } from "./TrashPage";
