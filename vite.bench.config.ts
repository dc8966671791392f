import { defineConfig } from 'vite';

// `npm run bench`: builds bench/main.ts for Node (same shader loading as app and CLI) and runs it.
export default defineConfig({
  publicDir: false,
  build: {
    ssr: 'bench/main.ts',
    outDir: 'dist-bench',
    target: 'node20',
    emptyOutDir: true,
    rollupOptions: { output: { entryFileNames: 'bench.mjs' } },
  },
});
