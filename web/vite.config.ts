import { defineConfig } from 'vite';

// The dashboard is built into web/dist (root `web/`, given on the command line) and served by
// `livestats serve` at `/`. For front-end work with hot reload, run a server on :8080, then
// `npx vite web --config web/vite.config.ts`: the API and the demo config are proxied to it.
export default defineConfig({
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/v2': 'http://127.0.0.1:8080',
      '/dashboard': 'http://127.0.0.1:8080',
    },
  },
});
