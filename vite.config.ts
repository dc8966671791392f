import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * `vite preview` (what `npm start` runs) gzips every text-like answer, ranged ones included, with a
 * Content-Range of the uncompressed bytes; a browser that caches such a compressed copy of
 * tokenizer.json later answers Range reads from the encoded bytes, and the export's byte-range reads
 * break. Model files are served as they are on disk: no compression for any request under /models/,
 * for any Range request, or for binary weights. Registered before vite's own middlewares, so the
 * compression middleware finds no Accept-Encoding to honour.
 */
function uncompressedModelFiles(): Plugin {
  const binary = /\.(safetensors|onnx|onnx_data|bin|gguf|model)$/i;
  return {
    name: 'polyprune-uncompressed-model-files',
    configurePreviewServer(server) {
      server.middlewares.use((req, _res, next) => {
        const path = (req.url ?? '').split('?')[0];
        if (req.headers.range !== undefined || path.includes('/models/') || binary.test(path)) {
          delete req.headers['accept-encoding'];
        }
        next();
      });
    },
  };
}

// The web app. The engine runs in a Web Worker (src/engine/worker.ts); shaders are
// imported as raw strings through import.meta.glob in src/gpu/shaders.ts.
export default defineConfig({
  plugins: [react(), uncompressedModelFiles()],
  server: { host: '127.0.0.1', fs: { allow: ['.'] } },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es' },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
});
