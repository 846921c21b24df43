import { defineConfig } from "vite";

// The build lands in the Go tree so `go build` embeds it (internal/server/ui.go).
// Everything is bundled: the UI must work offline, with no CDN.
export default defineConfig({
  base: "./",
  build: {
    outDir: "../internal/server/ui/dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:7474", "/login": "http://127.0.0.1:7474" },
  },
});
