/** Chaos: live sockets under load and abuse, each event reaching only its owner (see support.ts). */
import { SELF } from "cloudflare:test";
import type { LiveServerMessage } from "@contract/live";
import { describe, expect, it } from "vitest";
import {
  createGeneration,
  createSession,
  deliver,
  ORIGIN,
  signUp,
  terminalWebhooks,
  uniqueTag,
  waitFor,
  waitForGeneration,
} from "../helpers";
import { inBatches } from "./support";

describe("live sockets under load", () => {
  it("sends every event only to its owner: 50 users × 3 sockets", async () => {
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => signUp(`live${i}`)));
    const sessions = await Promise.all(users.map((user) => createSession(user)));
    const sockets: { user: number; sessionId: string; messages: LiveServerMessage[]; socket: WebSocket }[] = [];
    for (const [index, user] of users.entries()) {
      for (let tab = 0; tab < 3; tab++) {
        const response = await SELF.fetch(`${ORIGIN}/api/sessions/${sessions[index]!.id}/live`, {
          headers: { Upgrade: "websocket", Authorization: `Bearer ${user.token}` },
        });
        const socket = response.webSocket!;
        const entry = { user: index, sessionId: sessions[index]!.id, messages: [] as LiveServerMessage[], socket };
        socket.addEventListener("message", (event) => {
          entry.messages.push(JSON.parse(String(event.data)) as LiveServerMessage);
        });
        socket.accept();
        sockets.push(entry);
      }
    }
    const tag = uniqueTag();
    const created = await Promise.all(
      users.map((user, i) => createGeneration(user, sessions[i]!.id, { prompt: `crowd ${tag} ${i}` })),
    );
    const ownerOf = new Map(created.map((generation, i) => [generation.id, i]));
    await inBatches(created, 10, async (generation) => {
      const user = users[ownerOf.get(generation.id)!]!;
      const running = await waitForGeneration(user, generation.id, (g) => g.predictionId !== null);
      for (const webhook of await terminalWebhooks(running.predictionId!)) await deliver(webhook);
    });
    await waitFor(
      async () =>
        sockets.every((s) =>
          s.messages.some((m) => m.type === "generation.updated" && m.generation.status === "succeeded"),
        ),
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: "every socket to see its generation succeed",
      },
    );
    let events = 0;
    let misdirected = 0;
    for (const entry of sockets) {
      for (const message of entry.messages) {
        events++;
        const generationId =
          message.type === "generation.updated"
            ? message.generation.id
            : message.type === "generation.progress"
              ? message.generationId
              : null;
        const sessionId =
          message.type === "snapshot" || message.type === "session.updated"
            ? message.session.id
            : message.type === "generation.updated"
              ? message.generation.sessionId
              : entry.sessionId;
        if (sessionId !== entry.sessionId || (generationId && ownerOf.get(generationId) !== entry.user)) misdirected++;
      }
      entry.socket.close(1000, "done");
    }
    expect(events).toBeGreaterThan(600);
    expect(misdirected).toBe(0);
  }, 180_000);

  it("closes a connection that sends oversized messages or floods", async () => {
    const user = await signUp();
    const session = await createSession(user);
    const open = async () => {
      const response = await SELF.fetch(`${ORIGIN}/api/sessions/${session.id}/live`, {
        headers: { Upgrade: "websocket", Authorization: `Bearer ${user.token}` },
      });
      const socket = response.webSocket!;
      const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
      socket.accept();
      return { socket, closed };
    };
    const big = await open();
    big.socket.send("x".repeat(10_000));
    expect(await big.closed).toBe(1009);
    const flood = await open();
    for (let i = 0; i < 40; i++) flood.socket.send(JSON.stringify({ type: "hello", i }));
    expect(await flood.closed).toBe(1008);
  });
});
