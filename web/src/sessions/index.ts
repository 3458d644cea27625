/**
 * Sessions: the list, one live session, and the thumbnail other pages show them by. The pages load
 * on first visit (their own chunks); the preloads are small and start the data with the navigation.
 */
import { lazy } from "solid-js";

export { preloadSession, preloadSessions } from "./listQuery";
export { type AwaitedOutcomes, AwaitedOutcomesProvider, useAwaitedOutcomes } from "./outcomes";
export { SessionThumb } from "./SessionThumb";

export const SessionsPage = lazy(() => import("./SessionsPage").then((m) => ({ default: m.SessionsPage })));
export const SessionPage = lazy(() => import("./SessionPage").then((m) => ({ default: m.SessionPage })));
