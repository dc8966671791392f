import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The web app. The engine runs in a Web Worker (src/engine/worker.ts); shaders are
// imported as raw strings through import.meta.glob in src/gpu/shaders.ts.
export default defineConfig({
  plugins: [react()],
  server: { host: '127.0.0.1', fs: { allow: ['.'] } },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es' },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
});
