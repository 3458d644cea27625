/**
 * A request straight into the Worker with its D1 binding recorded: every statement still runs on
 * the local D1. In production every call to D1 is a round trip, so the counts are latency.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../index";
import { ORIGIN } from "./helpers";

/**
 * The SQL of every statement prepared (or executed directly) through the binding, in order, and
 * the size of every batch (a batch is one call to D1, however many statements it carries).
 */
export function recordingD1(db: D1Database, statements: string[], batches: number[] = []): D1Database {
  return new Proxy(db, {
    get(target, property) {
      if (property === "prepare" || property === "exec") {
        return (query: string) => {
          statements.push(query);
          return property === "prepare" ? target.prepare(query) : target.exec(query);
        };
      }
      if (property === "batch") {
        return (prepared: D1PreparedStatement[]) => {
          batches.push(prepared.length);
          return target.batch(prepared);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** One request straight into the Worker with the recording binding; the statements it ran. */
export async function statementsOf(
  path: string,
  init: RequestInit = {},
): Promise<{ response: Response; statements: string[]; body: string; calls: number }> {
  const statements: string[] = [];
  const batches: number[] = [];
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, { ...env, DB: recordingD1(env.DB, statements, batches) }, ctx);
  const body = await response.text();
  await waitOnExecutionContext(ctx);
  // Calls to D1: each statement on its own, and each batch once.
  const inBatches = batches.reduce((sum, size) => sum + size, 0);
  return { response, statements, body, calls: statements.length - inBatches + batches.length };
}
