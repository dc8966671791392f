import { defineConfig } from 'vite';

// The Node CLI, built by the same bundler as the app so shaders load the same way.
export default defineConfig({
  publicDir: false,
  build: {
    ssr: 'src/cli/main.ts',
    outDir: 'dist-cli',
    target: 'node20',
    sourcemap: true,
    emptyOutDir: true,
    rollupOptions: { output: { entryFileNames: 'polyprune.mjs' } },
  },
});
