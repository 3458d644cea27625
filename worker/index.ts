/**
 * The Worker's entry: wires HTTP, the completions queue and the cron jobs. Nothing else lives here.
 */
import { app } from "./app";
import { consumeCompletions } from "./completions/consumer";
import type { CompletionMessage } from "./completions/messages";
import { runScheduled } from "./cron/index";

export { SessionRoom } from "./durable-objects/session-room";

// `satisfies` keeps the handlers' own (defined) types, so callers such as tests need no `!`.
const worker = {
  fetch: app.fetch,
  queue: consumeCompletions,
  scheduled: runScheduled,
} satisfies ExportedHandler<Env, CompletionMessage>;

export default worker;
