import { defineConfig } from "vite";

// The build lands inside the Python package, so that pip installs carry it and
// `heron server` serves it from `/` (src/heron/server/ui.py).
export default defineConfig({
  build: {
    outDir: "../src/heron/server/ui_dist",
    emptyOutDir: true,
    // Under the CSP (no inline script) the module-preload polyfill must not be inlined.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:5000" },
  },
});
