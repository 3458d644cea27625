/**
 * Every listing query walks an index in its own order: a page costs the same at 100 images and at
 * 100,000. Checked on the real local D1 (SQLite's EXPLAIN QUERY PLAN), not by timing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { explain, queryShapes } from "../bench/query-shapes";
import { createDb } from "../db/client";

describe("query plans", () => {
  it.each(queryShapes(createDb(env.DB), "usr_plan").map((shape) => [shape.name, shape] as const))(
    "%s",
    async (_name, shape) => {
      const plan = await explain(env.DB, shape);
      const text = plan.join("\n");
      expect(text, text).toContain(shape.index);
      // Never a sort of the whole result, never a full scan of a table.
      expect(text, text).not.toMatch(/USE TEMP B-TREE FOR (LAST TERM OF )?ORDER BY/);
      expect(text, text).not.toMatch(/^SCAN (assets|a|image_sessions|generations)$/m);
    },
  );
});
