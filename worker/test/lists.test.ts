/**
 * Every list the API answers is one page of the contract's envelope, `{ items, nextCursor }`,
 * parsed here with the same named schemas the web app is typed with.
 */

import { apiTokenPageSchema, modelPageSchema, referencePageSchema, sessionPageSchema } from "@contract/api";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { MODELS } from "../models/catalog";
import { api, createSession, expectProblem, signUp, upload } from "./helpers";
import { makePng } from "./images";

async function pageOf<S extends z.ZodType>(response: Response, schema: S): Promise<z.output<S>> {
  expect(response.status).toBe(200);
  const body = await response.json<Record<string, unknown>>();
  expect(Object.keys(body).sort()).toEqual(["items", "nextCursor"]);
  const parsed = schema.safeParse(body);
  expect(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues)).toBe(true);
  return parsed.data as z.output<S>;
}

describe("list envelopes", () => {
  it("GET /api/models: the whole catalog as one page, signed in only", async () => {
    const user = await signUp();
    const page = await pageOf(await api(user, "GET", "/api/models"), modelPageSchema);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((model) => model.id)).toEqual(MODELS.map((model) => model.id));
    expect(page.items[0]).toMatchObject({
      id: MODELS[0]!.id,
      kind: MODELS[0]!.kind,
      description: MODELS[0]!.description,
      capabilities: MODELS[0]!.capabilities,
      name: "flux-schnell",
      official: true,
      source: "catalog",
      pricing: { per: "output", usd: 0.003 },
      limits: { references: 0, outputs: 4 },
    });
    await expectProblem(await api(null, "GET", "/api/models"), 401);
  });

  it("GET /api/tokens: one page of the caller's own tokens, without their secrets", async () => {
    const user = await signUp("lister");
    const other = await signUp("other");
    const created = await api(user, "POST", "/api/tokens", { name: "deploy" });
    expect(created.status).toBe(201);
    const { token } = await created.json<{ token: string }>();
    await api(other, "POST", "/api/tokens", { name: "not yours" });

    const page = await pageOf(await api(user, "GET", "/api/tokens"), apiTokenPageSchema);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((item) => item.name).sort()).toEqual(["deploy", "tests"]);
    expect(JSON.stringify(page)).not.toContain(token);
  });

  it("GET /api/sessions and GET /api/references: pages whose cursor leads to the next one", async () => {
    const user = await signUp();
    for (const title of ["one", "two", "three"]) await createSession(user, title);
    const first = await pageOf(await api(user, "GET", "/api/sessions?limit=2"), sessionPageSchema);
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = await pageOf(
      await api(user, "GET", `/api/sessions?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`),
      sessionPageSchema,
    );
    expect(rest.nextCursor).toBeNull();
    expect([...first.items, ...rest.items].map((session) => session.title).sort()).toEqual(["one", "three", "two"]);

    const stored = await upload(user, "/api/references", [
      { name: "a.png", bytes: await makePng(8, 8, () => [200, 10, 10]) },
    ]);
    expect(stored.status).toBe(201);
    const references = await pageOf(await api(user, "GET", "/api/references"), referencePageSchema);
    expect(references.items.map((reference) => reference.originalName)).toEqual(["a.png"]);
    expect(references.nextCursor).toBeNull();
  });
});
