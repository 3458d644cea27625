import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import solid from "vite-plugin-solid";

const webRoot = fileURLToPath(new URL(".", import.meta.url));
// The HTTP and WebSocket contract shared with the Worker (`@contract/...`, as in the tsconfigs).
const contract = fileURLToPath(new URL("../contract", import.meta.url));
// Where `/api` lives in development: `wrangler dev` (npm run dev) unless API_ORIGIN says otherwise.
const apiOrigin = process.env.API_ORIGIN ?? "http://127.0.0.1:8787";
const apiProxy = { "/api": { target: apiOrigin, ws: true } };

/**
 * Source maps are made (for reading stack traces) but never served: they are moved out of the
 * served directory to `sourcemaps/` beside it (web/sourcemaps, .deploy/sourcemaps), and the bundles
 * do not name them.
 */
function keepSourceMapsPrivate(): Plugin {
  let outDir = "";
  return {
    name: "keep-source-maps-private",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const kept = join(dirname(outDir), "sourcemaps");
      rmSync(kept, { recursive: true, force: true });
      mkdirSync(kept, { recursive: true });
      // The bundles under assets/, and the service worker at the root.
      for (const dir of [join(outDir, "assets"), outDir])
        for (const name of readdirSync(dir)) if (name.endsWith(".map")) renameSync(join(dir, name), join(kept, name));
    },
  };
}

// The built app is served by the Worker as static assets, at the same origin as `/api`.
// In development, Vite serves the app and forwards `/api` (HTTP and the live WebSocket) to `wrangler dev`.
export default defineConfig({
  root: webRoot,
  plugins: [solid(), keepSourceMapsPrivate()],
  resolve: { alias: { "@contract": contract } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Written, but not linked from the bundles (see keepSourceMapsPrivate).
    sourcemap: "hidden",
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
