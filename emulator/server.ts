/** Serves the emulator over HTTP on Node (`@hono/node-server`); Node's parser accepts `QUERY`. */
import { createServer, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { createEmulator, type Emulator, type EmulatorOptions } from "./app";

export interface StartEmulatorOptions extends Partial<EmulatorOptions> {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningEmulator {
  /** e.g. `http://127.0.0.1:8788`; the Replicate API base is `${url}/v1`. */
  url: string;
  port: number;
  emulator: Emulator;
  close(): Promise<void>;
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? "127.0.0.1";
  // The app needs its public URL, which needs the port: listen first, then plug the app in.
  let emulator: Emulator | undefined;
  const listener = getRequestListener((request, env) => {
    if (!emulator) return new Response("starting", { status: 503 });
    return emulator.app.fetch(
      request,
      "outgoing" in env && env.outgoing instanceof ServerResponse ? { outgoing: env.outgoing } : undefined,
    );
  });
  const server = createServer(listener);
  // Clients (workerd, Node's fetch) keep idle connections for reuse; closing them sooner than the
  // client expects races its next request into "connection lost". Outlive them instead.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("emulator server has no TCP address");
  const { port } = address;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const { port: _port, host: _host, ...emulatorOptions } = options;
  emulator = createEmulator({ ...emulatorOptions, baseUrl: options.baseUrl ?? url });
  const running = emulator;
  return {
    url,
    port,
    emulator: running,
    close: async () => {
      running.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
