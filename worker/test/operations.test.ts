/**
 * `GET /api/admin/stats`: for the accounts ADMIN_EMAILS names, how generations fared in the last
 * hour and day — by status, success rate, time to complete, webhook or poll, dead letters — equal
 * to what D1 holds. Everyone else is refused.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CompletionMessage } from "../completions/messages";
import worker from "../index";
import type { OperationsStats } from "../operations/stats";
import {
  api,
  completeGeneration,
  createGeneration,
  createSession,
  emulator,
  expectProblem,
  ORIGIN,
  signUp,
  type TestUser,
  terminalWebhooks,
  uniqueTag,
  waitForGeneration,
} from "./helpers";

/** A request to the Worker as deployed with ADMIN_EMAILS set to `adminEmails`. */
async function asOperator(adminEmails: string, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, { ...env, ADMIN_EMAILS: adminEmails }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const bearer = (user: TestUser | null): RequestInit => ({
  headers: user ? { Authorization: `Bearer ${user.token}` } : {},
});

const statsAs = (user: TestUser | null, adminEmails: string) =>
  asOperator(adminEmails, "/api/admin/stats", bearer(user));

async function runBatch(queue: string, body: CompletionMessage, attempts = 1): Promise<void> {
  const batch = createMessageBatch(queue, [{ id: crypto.randomUUID(), timestamp: new Date(), attempts, body }]);
  await worker.queue(batch, env);
  await getQueueResult(batch, createExecutionContext());
}

/** A prediction finished at Replicate whose completion has not reached the app yet. */
async function finishedAtReplicate(user: TestUser, prompt: string) {
  const session = await createSession(user);
  const created = await createGeneration(user, session.id, { prompt });
  const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
  const terminal = (await terminalWebhooks(running.predictionId!)).find((w) => w.status === "succeeded")!;
  const message = (source: CompletionMessage["source"]): CompletionMessage => ({
    type: "prediction",
    source,
    prediction: JSON.parse(terminal.body),
    receivedAt: Date.now(),
  });
  return { generation: running, message };
}

/** Nearest-rank percentile of what D1 holds, computed here independently. */
async function expectedPercentile(since: number, fraction: number): Promise<number | null> {
  const { results } = await env.DB.prepare(
    "SELECT completed_at - created_at AS ms FROM generations WHERE status = 'succeeded' AND completed_at >= ? ORDER BY ms",
  )
    .bind(since)
    .all<{ ms: number }>();
  if (results.length === 0) return null;
  return results[Math.max(0, Math.round(results.length * fraction) - 1)]!.ms;
}

describe("GET /api/admin/stats", () => {
  it("is for administrators only: 401 anonymous, 403 signed in but not named", async () => {
    const someone = await signUp("curious");
    await expectProblem(await statsAs(null, someone.email), 401);
    await expectProblem(await statsAs(someone, "ops@example.com"), 403);
    await expectProblem(await statsAs(someone, ""), 403);
    expect((await statsAs(someone, `ops@example.com, ${someone.email.toUpperCase()}`)).status).toBe(200);
  });

  it("counts what happened: by status, webhook or poll, dead letters, and times as D1 has them", async () => {
    const admin = await signUp("admin");
    const read = async () => {
      const response = await statsAs(admin, admin.email);
      expect(response.status).toBe(200);
      return response.json<OperationsStats>();
    };
    const before = await read();

    // One finished by its webhooks, one found by polling, one whose outputs never arrive.
    const user = await signUp("measured");
    const session = await createSession(user);
    const viaWebhook = await completeGeneration(
      user,
      (await createGeneration(user, session.id, { prompt: `webhook ${uniqueTag()}` })).id,
    );
    expect(viaWebhook.status).toBe("succeeded");
    const polled = await finishedAtReplicate(user, `polled ${uniqueTag()}`);
    await runBatch("image-studio-completions", polled.message("poll"));
    await waitForGeneration(user, polled.generation.id, (g) => g.status === "succeeded");
    const tag = uniqueTag();
    await emulator.addFault({
      match: { promptIncludes: tag },
      effect: { type: "download", mode: "error", status: 503 },
    });
    const lost = await finishedAtReplicate(user, `lost ${tag}`);
    await runBatch("image-studio-completions", lost.message("webhook"));
    await runBatch("image-studio-completions-dlq", lost.message("webhook"), 7);
    await waitForGeneration(user, lost.generation.id, (g) => g.status === "failed");

    const after = await read();
    for (const window of ["lastHour", "lastDay"] as const) {
      const [was, now] = [before[window], after[window]];
      expect(now.byStatus.succeeded - was.byStatus.succeeded, window).toBe(2);
      expect(now.byStatus.failed - was.byStatus.failed, window).toBe(1);
      expect(now.completions.webhook - was.completions.webhook, window).toBe(1);
      expect(now.completions.poll - was.completions.poll, window).toBe(1);
      expect(now.completions.other - was.completions.other, window).toBe(1);
      expect(now.deadLetters - was.deadLetters, window).toBe(1);
      expect(now.successRate).toBeGreaterThan(0);
      expect(now.successRate).toBeLessThan(1);
    }
    const hourAgo = Date.parse(after.generatedAt) - 60 * 60 * 1000;
    expect(after.lastHour.timeToCompleteMs).toEqual({
      p50: await expectedPercentile(hourAgo, 0.5),
      p95: await expectedPercentile(hourAgo, 0.95),
    });
    expect(after.lastHour.timeToCompleteMs.p50).toBeGreaterThan(0);
    expect(after.lastHour.timeToCompleteMs.p95).toBeGreaterThanOrEqual(after.lastHour.timeToCompleteMs.p50!);

    // The dead letter is on record, with why.
    const letter = await env.DB.prepare("SELECT outcome, reason, user_id FROM dead_letters WHERE generation_id = ?")
      .bind(lost.generation.id)
      .first<{ outcome: string; reason: string; user_id: string }>();
    expect(letter).toMatchObject({ outcome: "failed", user_id: user.id, reason: expect.stringContaining("503") });
  });
});

describe("DELETE /api/admin/users/:id", () => {
  it("deletes another account for an administrator; refuses everyone else and other sites", async () => {
    const admin = await signUp("admin");
    const owner = await signUp("asked-by-mail");
    const session = await createSession(owner, "to be forgotten");
    const path = `/api/admin/users/${owner.id}`;
    const remove = (user: TestUser | null, extra: Record<string, string> = {}) =>
      asOperator(admin.email, path, { method: "DELETE", headers: { ...bearer(user).headers, ...extra } });

    await expectProblem(await remove(null), 401);
    await expectProblem(await remove(owner), 403);
    await expectProblem(
      await asOperator(admin.email, path, {
        method: "DELETE",
        headers: { Cookie: admin.cookie, Origin: "https://evil.example" },
      }),
      403,
    );
    expect((await api(owner, "GET", `/api/sessions/${session.id}`)).status).toBe(200);

    expect((await remove(admin)).status).toBe(204);
    // Once gone, the id is like one that never existed.
    await expectProblem(await remove(admin), 404);
    await expectProblem(await api(owner, "GET", "/api/me"), 401);
    expect(await env.DB.prepare("SELECT id FROM users WHERE id = ?").bind(owner.id).first()).toBeNull();
    expect(await env.DB.prepare("SELECT id FROM image_sessions WHERE user_id = ?").bind(owner.id).first()).toBeNull();
    // The administrator's own account is untouched.
    expect((await api(admin, "GET", "/api/me")).status).toBe(200);
  });
});
