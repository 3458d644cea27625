import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

const webRoot = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
// Where `/api` lives in development: `wrangler dev` (npm run dev) unless API_ORIGIN says otherwise.
const apiOrigin = process.env.API_ORIGIN ?? "http://127.0.0.1:8787";
const apiProxy = { "/api": { target: apiOrigin, ws: true } };

// The built app is served by the Worker as static assets, at the same origin as `/api`.
// In development, Vite serves the app and forwards `/api` (HTTP and the live WebSocket) to `wrangler dev`.
export default defineConfig({
  root: webRoot,
  plugins: [solid()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
  },
  server: {
    // The web app imports the shared contract from ../worker/contract.
    fs: { allow: [repoRoot] },
    proxy: apiProxy,
  },
  preview: {
    proxy: apiProxy,
  },
});
