import { defineConfig } from 'vite';

// `npm run bench:spill-page`: builds the page benches (bench/page/) for Chromium; bench/page/run.mjs serves and runs them.
export default defineConfig({
  root: 'bench/page',
  base: './',
  publicDir: false,
  worker: { format: 'es' },
  build: { outDir: '../../dist-bench-page', emptyOutDir: true, target: 'es2022' },
});
