import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../index";
import { signWebhook } from "../replicate/webhook-signature";
import { TEST_WEBHOOK_SECRET } from "./constants";
import {
  createGeneration,
  createSession,
  deliver,
  deliverSigned,
  expectProblem,
  getGeneration,
  ORIGIN,
  signUp,
  terminalWebhooks,
  uniqueTag,
  waitForGeneration,
} from "./helpers";

async function post(body: string, headers: Record<string, string>): Promise<Response> {
  const merged = new Headers(headers);
  merged.set("Content-Type", "application/json");
  return SELF.fetch(`${ORIGIN}/api/webhooks/replicate`, { method: "POST", headers: merged, body });
}

async function signed(
  body: string,
  timestamp: number,
  id = `msg_${crypto.randomUUID()}`,
): Promise<Record<string, string>> {
  const ts = String(timestamp);
  return {
    "webhook-id": id,
    "webhook-timestamp": ts,
    "webhook-signature": `v1,${await signWebhook(TEST_WEBHOOK_SECRET, id, ts, body)}`,
  };
}

describe("POST /api/webhooks/replicate", () => {
  it("rejects forged, stale, future, unsigned and tampered deliveries with 401 and no effect", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `webhook auth ${uniqueTag()}` });
    const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
    const webhooks = await terminalWebhooks(running.predictionId!);
    const terminal = webhooks.find((webhook) => webhook.status === "succeeded")!;
    const now = Math.floor(Date.now() / 1000);

    // The exact ±300/±301 s boundary is tested on the verifier itself; here the margin absorbs a slow run.
    const tampered = terminal.body.replace('"succeeded"', '"failed"');
    const attempts = [
      post(tampered, terminal.headers),
      post(terminal.body, {
        ...terminal.headers,
        "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      }),
      post(terminal.body, await signed(terminal.body, now - 400)),
      post(terminal.body, await signed(terminal.body, now + 400)),
      post(terminal.body, {}),
      post(terminal.body, { "webhook-id": "msg_1", "webhook-timestamp": String(now) }),
    ];
    for (const response of await Promise.all(attempts)) await expectProblem(response, 401);

    // Give any (wrongly) queued message time to be consumed, then check nothing moved.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await getGeneration(user, created.id)).status).not.toBe("succeeded");
    expect((await getGeneration(user, created.id)).outputs).toEqual([]);

    // The genuine delivery, at the edge of the window, is accepted and takes effect.
    const fresh = Math.floor(Date.now() / 1000);
    expect((await post(terminal.body, await signed(terminal.body, fresh - 290))).status).toBe(200);
    await waitForGeneration(user, created.id, (g) => g.status === "succeeded");
  });

  it("accepts duplicates of one delivery and answers 400 for a signed body that is not a prediction", async () => {
    const body = JSON.stringify({ hello: "world" });
    await expectProblem(await post(body, await signed(body, Math.floor(Date.now() / 1000))), 400);

    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `webhook dupes ${uniqueTag()}` });
    const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
    const [start] = await terminalWebhooks(running.predictionId!);
    const responses = await Promise.all(Array.from({ length: 5 }, () => deliver(start!)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it("accepts a prediction larger than a queue message (long logs, data-URI inputs) and completes it", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `long logs ${uniqueTag()}` });
    const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
    const terminal = (await terminalWebhooks(running.predictionId!)).find((webhook) => webhook.status === "succeeded")!;
    const prediction = JSON.parse(terminal.body) as Record<string, unknown>;
    const body = JSON.stringify({
      ...prediction,
      logs: `${"step\n".repeat(60_000)}100%|██████████| 4/4 [00:01<00:00,  3.2it/s]\n`,
      input: { ...(prediction.input as object), image: `data:image/png;base64,${"A".repeat(200_000)}` },
    });
    expect(body.length).toBeGreaterThan(500_000);
    expect((await deliverSigned(body)).status).toBe(200);
    const done = await waitForGeneration(user, created.id, (g) => g.status === "succeeded");
    expect(done.outputs).toHaveLength(1);
  });
});

describe("rotating the webhook secret", () => {
  it("accepts deliveries signed with the new or the previous secret, and nothing else", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const created = await createGeneration(user, session.id, { prompt: `rotation ${uniqueTag()}` });
    const running = await waitForGeneration(user, created.id, (g) => g.predictionId !== null);
    // The emulator signs with the test secret: here it is the one being rotated out.
    const terminal = (await terminalWebhooks(running.predictionId!)).find((w) => w.status === "succeeded")!;
    const newSecret = "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbi0wMQ==";
    const rotating = {
      ...env,
      REPLICATE_WEBHOOK_SECRET: newSecret,
      REPLICATE_WEBHOOK_SECRET_PREVIOUS: TEST_WEBHOOK_SECRET,
    };
    const rotated = { ...env, REPLICATE_WEBHOOK_SECRET: newSecret };
    const now = Math.floor(Date.now() / 1000);
    const signedWith = async (secret: string) => {
      const id = `msg_${crypto.randomUUID()}`;
      return {
        "Content-Type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(now),
        "webhook-signature": `v1,${await signWebhook(secret, id, String(now), terminal.body)}`,
      };
    };
    const postWith = async (bindings: Env, headers: Record<string, string>) => {
      const ctx = createExecutionContext();
      const request = new Request(`${ORIGIN}/api/webhooks/replicate`, {
        method: "POST",
        headers,
        body: terminal.body,
      }) as Request<unknown, IncomingRequestCfProperties>;
      const response = await worker.fetch(request, bindings, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };

    // Neither secret: refused during the rotation and after it.
    const stranger = await signedWith("whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtMDEyMzQ1Ng==");
    await expectProblem(await postWith(rotating, stranger), 401);
    // After the rotation, the old secret no longer verifies.
    await expectProblem(await postWith(rotated, await signedWith(TEST_WEBHOOK_SECRET)), 401);
    expect((await getGeneration(user, created.id)).status).not.toBe("succeeded");

    // During it, both do: the new one, and the delivery exactly as Replicate signed it with the old.
    expect((await postWith(rotating, await signedWith(newSecret))).status).toBe(200);
    expect((await postWith(rotating, terminal.headers)).status).toBe(200);
    await waitForGeneration(user, created.id, (g) => g.status === "succeeded");
  });
});
