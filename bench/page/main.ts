/**
 * `npm run bench:spill-page` (bench/page/run.mjs): the spill measurement of bench/spillCore.ts in
 * Chromium, in a dedicated worker like the engine's, with the engine's OPFS spill file (src/io/opfs.ts)
 * against host memory. `?mib=N` sets the bytes (default 1024). The result lands in window.spillResult.
 */
const out = document.getElementById('out')!;
const mib = Number(new URLSearchParams(location.search).get('mib') ?? 1024);
const worker = new Worker(new URL('./spillWorker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (e: MessageEvent<{ lines?: string[]; error?: string }>) => {
  out.textContent = e.data.error ?? e.data.lines!.join('\n');
  (window as { spillResult?: unknown }).spillResult = e.data;
};
worker.onerror = (e) => {
  out.textContent = `worker error: ${e.message}`;
  (window as { spillResult?: unknown }).spillResult = { error: e.message };
};
worker.postMessage({ mib });
