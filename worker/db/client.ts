import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

const build = (d1: D1Database) => drizzle(d1, { schema });

export type Database = ReturnType<typeof build>;

/**
 * One per binding, made once: building drizzle's picture of the schema costs every request that
 * would make it again (the webhook route, answered a few hundred times a second in a burst, never
 * even touches D1). The instance holds no state of its own between calls.
 */
const databases = new WeakMap<D1Database, Database>();

export function createDb(d1: D1Database): Database {
  const known = databases.get(d1);
  if (known) return known;
  const db = build(d1);
  databases.set(d1, db);
  return db;
}

/** The one row a statement that must produce exactly one (an insert or update … returning) produced. */
export function onlyRow<T>(rows: readonly T[]): T {
  const [row] = rows;
  if (row === undefined) throw new Error("The statement returned no row.");
  return row;
}

/** D1 refuses a statement with more bound parameters than this. */
export const D1_MAX_BOUND_PARAMETERS = 100;
