import { describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_SECRET, signMessage, signWebhook } from "../webhooks";
import { verifyWebhook } from "./helpers";

describe("webhook signing (Standard Webhooks, replicate-api.md §3.2)", () => {
  it("reproduces the published known-answer vector", () => {
    const signature = signWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("default secret is whsec_ + base64 of 24 bytes", () => {
    expect(DEFAULT_WEBHOOK_SECRET).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(DEFAULT_WEBHOOK_SECRET.slice(6), "base64")).toHaveLength(24);
  });

  it("signed messages validate with the replicate client, and tampering is detected", async () => {
    const message = signMessage(DEFAULT_WEBHOOK_SECRET, {
      predictionId: "p1",
      event: "completed",
      url: "http://127.0.0.1:1/hook",
      webhookId: "msg_abc",
      eventAt: 1_700_000_000_123,
      body: '{"id":"p1","status":"succeeded"}',
      status: "succeeded",
      terminal: true,
    });
    expect(message.headers["webhook-timestamp"]).toBe("1700000000");
    expect(await verifyWebhook({ ...message.headers }, message.body, DEFAULT_WEBHOOK_SECRET)).toBe(true);
    expect(
      await verifyWebhook({ ...message.headers }, message.body.replace("succeeded", "failed"), DEFAULT_WEBHOOK_SECRET),
    ).toBe(false);
  });
});
