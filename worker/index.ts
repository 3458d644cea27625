/**
 * The Worker's entry: wires HTTP, the completions queue and the cron jobs. Nothing else lives here.
 */
import { app } from "./app";
import { consumeCompletions } from "./completions/consumer";
import { runScheduled } from "./cron/index";

export { SessionRoom } from "./durable-objects/session-room";

const worker: ExportedHandler<Env> = {
  fetch: app.fetch,
  queue: consumeCompletions,
  scheduled: runScheduled,
};

export default worker;
