/** Sessions: the list, one live session, and the thumbnail other pages show them by. */

export { type AwaitedOutcomes, AwaitedOutcomesProvider, useAwaitedOutcomes } from "./outcomes";
export { SessionThumb } from "./SessionThumb";
