import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The live demo page: `npm run build:web` → web/dist/ (relative paths), `npm run web` serves it. */
export default defineConfig({
  root,
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // the .wasm binaries stay separate files (tfjs fetches them), never inlined as data: URLs
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
  },
  preview: { host: '127.0.0.1', port: 5180, strictPort: false },
  server: { host: '127.0.0.1' },
});
