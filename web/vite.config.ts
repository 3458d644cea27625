import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

const webRoot = fileURLToPath(new URL(".", import.meta.url));
// The HTTP and WebSocket contract shared with the Worker (`@contract/...`, as in the tsconfigs).
const contract = fileURLToPath(new URL("../contract", import.meta.url));
// Where `/api` lives in development: `wrangler dev` (npm run dev) unless API_ORIGIN says otherwise.
const apiOrigin = process.env.API_ORIGIN ?? "http://127.0.0.1:8787";
const apiProxy = { "/api": { target: apiOrigin, ws: true } };

// The built app is served by the Worker as static assets, at the same origin as `/api`.
// In development, Vite serves the app and forwards `/api` (HTTP and the live WebSocket) to `wrangler dev`.
export default defineConfig({
  root: webRoot,
  plugins: [solid()],
  resolve: { alias: { "@contract": contract } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    rollupOptions: {
      // The service worker is its own entry, at the root so its scope is the whole app.
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        sw: fileURLToPath(new URL("sw/sw.ts", import.meta.url)),
      },
      output: { entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js") },
    },
  },
  server: {
    proxy: apiProxy,
  },
  preview: {
    proxy: apiProxy,
  },
});
