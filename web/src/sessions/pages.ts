/** The sessions list and one live session, loaded when first visited (see app/App.tsx). */
export { preloadSession, SessionPage } from "./SessionPage";
export { preloadSessions, SessionsPage } from "./SessionsPage";
