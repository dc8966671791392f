/**
 * onnxruntime-web in a Chromium page (browser tests and `npm run bench`): the page imports
 * `<base>/ort/ort.all.min.mjs` (served from node_modules/onnxruntime-web/dist), creates a session on
 * the wasm or WebGPU execution provider, and runs one sequence with an empty KV cache.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';

/** Static-server roots for the ORT files. */
export const ORT_DIST = path.resolve(process.cwd(), 'node_modules/onnxruntime-web/dist');

export interface OrtPageRun {
  /** Logits (S * V) of the last run, or null when the session could not be created (see error). */
  logits: number[] | null;
  /** Milliseconds per run after one warm-up (when reps > 0). */
  msPerRun: number | null;
  error: string | null;
}

/** Run `model` (URL of an .onnx file) on `ids` with execution provider `ep`; `reps` timed runs after a warm-up. */
// Plain JavaScript, sent as a string: a function literal would be rewritten by the test transform
// (its dynamic import() would not survive into the page).
const PAGE_FN = `async (a) => {
  try {
    const ort = await import(a.ortBase + '/ort.all.min.mjs');
    ort.env.wasm.wasmPaths = a.ortBase + '/';
    ort.env.wasm.numThreads = 1;
    const bytes = new Uint8Array(await (await fetch(a.model)).arrayBuffer());
    const session = await ort.InferenceSession.create(bytes, { executionProviders: [a.ep] });
    const S = a.ids.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(a.ids, (x) => BigInt(x)), [1, S]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(i)), [1, S]),
    };
    for (let i = 0; i < a.layers; i++) for (const kv of ['key', 'value']) feeds['past_key_values.' + i + '.' + kv] = new ort.Tensor('float32', new Float32Array(0), [1, a.kvHeads, 0, a.headDim]);
    let out = await session.run(feeds);
    let msPerRun = null;
    if (a.reps) {
      const t0 = performance.now();
      for (let r = 0; r < a.reps; r++) out = await session.run(feeds);
      msPerRun = (performance.now() - t0) / a.reps;
    }
    const logits = a.wantLogits === false ? null : Array.from(out.logits.data);
    await session.release();
    return { logits, msPerRun, error: null };
  } catch (e) {
    return { logits: null, msPerRun: null, error: String((e && e.message) || e).split('\\n')[0] };
  }
}`;

/** Run `model` (URL of an .onnx file) on `ids` with execution provider `ep`; `reps` timed runs after a warm-up. */
export async function runOrtInPage(page: Page, args: { ortBase: string; model: string; ep: 'wasm' | 'webgpu'; ids: number[]; layers: number; kvHeads: number; headDim: number; reps?: number; wantLogits?: boolean }): Promise<OrtPageRun> {
  return (await page.evaluate(`(${PAGE_FN})(${JSON.stringify(args)})`)) as OrtPageRun;
}
