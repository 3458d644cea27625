/** The sessions list and one live session, loaded when first visited (see app/App.tsx). */
export { preloadSession, preloadSessions } from "./listQuery";
export { SessionPage } from "./SessionPage";
export { SessionsPage } from "./SessionsPage";
