/** Sessions: the list, one live session, and the thumbnail other pages show them by. */

export { type AwaitedOutcomes, AwaitedOutcomesProvider, useAwaitedOutcomes } from "./outcomes";
export { preloadSession, SessionPage } from "./SessionPage";
export { preloadSessions, SessionsPage } from "./SessionsPage";
export { SessionThumb } from "./SessionThumb";
