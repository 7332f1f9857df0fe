// Multi-page build: index.html (the list, served at /) and detail.html (served at /d/<id>).
// Every asset lands in /assets/, which the collector serves from dist/assets/.
// The output folder is given on the command line by the CMake target (--outDir).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    // Every asset is a file under /assets/: the pages' Content-Security-Policy (default-src
    // 'self') refuses data: URLs.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 200,
    rollupOptions: {
      input: {
        index: here('./index.html'),
        detail: here('./detail.html'),
      },
    },
  },
});
