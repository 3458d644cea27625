import { env, SELF } from "cloudflare:test";
import { expect, it } from "vitest";
it("works", async () => {
  const r = await SELF.fetch("http://x/api/health");
  expect(await r.text()).toBe("ok");
  expect(await env.SESSION_ROOM.getByName("a").hi()).toBe("hi");
});
