/** Sessions: what other features use of them (the pages load on first visit, from `./pages`). */
export { type AwaitedOutcomes, AwaitedOutcomesProvider, useAwaitedOutcomes } from "./outcomes";
export { SessionThumb } from "./SessionThumb";
