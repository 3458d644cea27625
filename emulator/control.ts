/**
 * Control API under `/__control` (no auth), for tests in other processes. JSON in, JSON out.
 *
 *   GET  /__control/clock                    → { now, speed }
 *   POST /__control/clock/advance { ms }     → { now }   (runs everything that became due, sends included)
 *   POST /__control/clock/sync               → { now }   (catch up to wall-clock time if behind; never back)
 *   GET  /__control/webhooks?predictionId=&event=  → { items: WebhookDelivery[] } in send order
 *   POST /__control/webhooks/origin { origin }      → { origin }  (send webhooks there, path kept; null: as addressed)
 *   GET  /__control/requests?predictionId=&path=   → { items: RequestLogEntry[] } in arrival order
 *   GET  /__control/faults                   → { items }
 *   POST /__control/faults  <rule>           → 201 { id }
 *   DELETE /__control/faults                 → { cleared: n }
 *   DELETE /__control/faults/:id             → 204 | 404
 *   GET  /__control/models                   → { items: [{ id, official, versionId, kind }] }
 *   POST /__control/models <model config>    → 201 { id, versionId }  (any public owner/name to serve)
 *   POST /__control/reset                    → { ok: true }
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, EmulatorContext } from "./context";
import { faultRuleInputSchema } from "./faults";
import { modelConfigSchema } from "./models";

const advanceSchema = z.object({ ms: z.number().finite().nonnegative() });
const webhookOriginSchema = z.object({
  origin: z
    .string()
    .url()
    .refine((value) => /^https?:$/.test(new URL(value).protocol))
    .nullable(),
});

function badRequest(detail: string, issues?: unknown): Response {
  return new Response(JSON.stringify({ title: "Bad request", status: 400, detail, ...(issues ? { issues } : {}) }), {
    status: 400,
    headers: { "content-type": "application/problem+json" },
  });
}

async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) return {};
  return JSON.parse(text);
}

export function registerControlRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const { state, clock } = ctx;

  app.get("/__control/clock", (c) => c.json({ now: clock.now(), speed: clock.speed }));

  app.post("/__control/clock/advance", async (c) => {
    let body: unknown;
    try {
      body = await jsonBody(c.req.raw);
    } catch {
      return badRequest("Body must be JSON");
    }
    const parsed = advanceSchema.safeParse(body);
    if (!parsed.success) return badRequest("Expected { ms: number >= 0 }", parsed.error.issues);
    return c.json({ now: await ctx.advance(parsed.data.ms) });
  });

  // A frozen clock (speed 0) falls behind real time during a long test run, and webhook timestamps
  // with it; receivers reject stale timestamps, so tests can catch the clock up first.
  app.post("/__control/clock/sync", async (c) => {
    clock.catchUpToRealTime();
    // Running what became due on the way, like an advance.
    return c.json({ now: await ctx.advance(0) });
  });

  app.get("/__control/webhooks", (c) =>
    c.json({ items: state.webhooks.list({ predictionId: c.req.query("predictionId"), event: c.req.query("event") }) }),
  );

  app.post("/__control/webhooks/origin", async (c) => {
    let body: unknown;
    try {
      body = await jsonBody(c.req.raw);
    } catch {
      return badRequest("Body must be JSON");
    }
    const parsed = webhookOriginSchema.safeParse(body);
    if (!parsed.success) return badRequest("Expected { origin: an http(s) origin, or null }", parsed.error.issues);
    const origin = parsed.data.origin === null ? null : new URL(parsed.data.origin).origin;
    state.webhooks.deliverTo(origin);
    return c.json({ origin });
  });

  app.get("/__control/requests", (c) =>
    c.json({ items: state.requests.list({ predictionId: c.req.query("predictionId"), path: c.req.query("path") }) }),
  );

  app.get("/__control/faults", (c) => c.json({ items: state.faults.list() }));

  app.post("/__control/faults", async (c) => {
    let body: unknown;
    try {
      body = await jsonBody(c.req.raw);
    } catch {
      return badRequest("Body must be JSON");
    }
    const parsed = faultRuleInputSchema.safeParse(body);
    if (!parsed.success) return badRequest("Invalid fault rule", parsed.error.issues);
    try {
      return c.json({ id: state.faults.add(parsed.data).id }, 201);
    } catch (error) {
      return badRequest(`Invalid match.path: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  app.delete("/__control/faults", (c) => {
    const cleared = state.faults.list().length;
    state.faults.clear();
    return c.json({ cleared });
  });

  app.delete("/__control/faults/:id", (c) =>
    state.faults.remove(c.req.param("id")) ? c.body(null, 204) : c.json({ detail: "No such fault" }, 404),
  );

  app.get("/__control/models", (c) =>
    c.json({
      items: state.models
        .all()
        .map((model) => ({ id: model.id, official: model.official, versionId: model.versionId, kind: model.kind })),
    }),
  );

  app.post("/__control/models", async (c) => {
    let body: unknown;
    try {
      body = await jsonBody(c.req.raw);
    } catch {
      return badRequest("Body must be JSON");
    }
    const parsed = modelConfigSchema.safeParse(body);
    if (!parsed.success) return badRequest("Invalid model", parsed.error.issues);
    try {
      const model = state.models.configure(parsed.data);
      return c.json({ id: model.id, versionId: model.versionId }, 201);
    } catch (error) {
      return badRequest(error instanceof Error ? error.message : String(error));
    }
  });

  app.post("/__control/reset", (c) => {
    ctx.reset();
    return c.json({ ok: true });
  });
}
