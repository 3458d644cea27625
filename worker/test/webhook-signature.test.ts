import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook } from "../replicate/webhook-signature";

// Standard Webhooks' published test vector (also used by Replicate's client tests).
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: "1614265330",
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const at = Number(VECTOR.timestamp);
const headers = (
  overrides: Partial<{ id: string | null; timestamp: string | null; signature: string | null }> = {},
) => ({
  id: VECTOR.id,
  timestamp: VECTOR.timestamp,
  signature: VECTOR.signature,
  ...overrides,
});

describe("webhook signature verification", () => {
  it("reproduces the known-answer vector", async () => {
    expect(`v1,${await signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)}`).toBe(VECTOR.signature);
    expect(await verifyWebhook(VECTOR.secret, headers(), VECTOR.body, at)).toEqual({
      ok: true,
      webhookId: VECTOR.id,
      sentAt: Number(VECTOR.timestamp) * 1000,
    });
  });

  it("accepts timestamps up to 300 s away and rejects 301 s, both directions", async () => {
    expect((await verifyWebhook(VECTOR.secret, headers(), VECTOR.body, at + 300)).ok).toBe(true);
    expect((await verifyWebhook(VECTOR.secret, headers(), VECTOR.body, at - 300)).ok).toBe(true);
    expect(await verifyWebhook(VECTOR.secret, headers(), VECTOR.body, at + 301)).toEqual({
      ok: false,
      reason: "stale",
    });
    expect(await verifyWebhook(VECTOR.secret, headers(), VECTOR.body, at - 301)).toEqual({
      ok: false,
      reason: "stale",
    });
  });

  it("rejects missing headers, malformed timestamps, other secrets and tampered bodies", async () => {
    for (const missing of ["id", "timestamp", "signature"] as const) {
      expect(await verifyWebhook(VECTOR.secret, headers({ [missing]: null }), VECTOR.body, at)).toEqual({
        ok: false,
        reason: "missing_headers",
      });
    }
    for (const timestamp of ["1614265330.5", "-1614265330", "abc", "1e9"]) {
      expect((await verifyWebhook(VECTOR.secret, headers({ timestamp }), VECTOR.body, at)).ok).toBe(false);
    }
    expect((await verifyWebhook("whsec_QkFEU0VDUkVUQkFEU0VDUkVU", headers(), VECTOR.body, at)).ok).toBe(false);
    expect(await verifyWebhook(VECTOR.secret, headers(), '{"test": 2432232315}', at)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(await verifyWebhook(VECTOR.secret, headers({ id: "msg_other" }), VECTOR.body, at)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("accepts a valid v1 among several signatures, and refuses a valid MAC under another version", async () => {
    const mac = VECTOR.signature.slice(3);
    const several = `v1,Ym9ndXM= v2,${mac} ${VECTOR.signature}`;
    expect((await verifyWebhook(VECTOR.secret, headers({ signature: several }), VECTOR.body, at)).ok).toBe(true);
    expect((await verifyWebhook(VECTOR.secret, headers({ signature: `v2,${mac}` }), VECTOR.body, at)).ok).toBe(false);
    expect((await verifyWebhook(VECTOR.secret, headers({ signature: mac }), VECTOR.body, at)).ok).toBe(false);
  });
});

describe("webhook signature properties", () => {
  it("rejects any single-byte change to the body, id, timestamp or signature", async () => {
    const { default: fc } = await import("fast-check");
    const secret = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5";
    const now = 1_800_000_000;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.constantFrom("body", "id", "timestamp", "signature"),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (body, part, position, delta) => {
          const id = "msg_property";
          const timestamp = String(now);
          const signature = `v1,${await signWebhook(secret, id, timestamp, body)}`;
          const original = { body, id, timestamp, signature };
          const bytes = new TextEncoder().encode(original[part as keyof typeof original]);
          const index = position % bytes.length;
          // Stay within printable ASCII for header parts, so the change is a real, transmittable byte.
          const changed = new Uint8Array(bytes);
          changed[index] =
            part === "body" ? (bytes[index]! + delta) % 256 : 33 + ((bytes[index]! - 33 + (delta % 93) + 93) % 94);
          if (changed[index] === bytes[index]) return;
          const mutated = { ...original, [part]: new TextDecoder().decode(changed) };
          if (mutated[part as keyof typeof mutated] === original[part as keyof typeof original]) return;
          const verdict = await verifyWebhook(
            secret,
            { id: mutated.id, timestamp: mutated.timestamp, signature: mutated.signature },
            mutated.body,
            now,
          );
          expect(verdict.ok).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });
});
