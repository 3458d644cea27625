/** Sessions: the list, one live session, and the thumbnail other pages show them by. */

export { watchGeneration } from "./liveSession";
export { preloadSession, SessionPage } from "./SessionPage";
export { preloadSessions, SessionsPage } from "./SessionsPage";
export { SessionThumb } from "./SessionThumb";
