/** The landing page: one prompt box that starts a session. */
export { preloadRecentSessions, StudioPage } from "./StudioPage";
