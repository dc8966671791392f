/**
 * One decoder layer over the calibration activations, in calls sized by time (src/common/pace.ts).
 *
 * The activations are kept as chunks of whole windows (up to 4096 tokens each). On a CPU adapter one
 * chunk through one layer, with its statistics (Wanda norms, Hessians), takes tens of seconds, and a
 * call queued on the GPU cannot be interrupted: so each chunk goes through the layer in calls of as
 * many whole windows as the pacer allows (about half a second each at the last call's rate), with the
 * abort signal checked and progress reported after every call. On a fast GPU the calls reach the
 * whole chunk at once and nothing is copied.
 *
 * Every window's rows are computed by the same kernels with the same fma chains whatever the call's
 * size (the forward's rows are independent, the statistics are updated window by window in window
 * order), so the outputs and statistics are bitwise those of one call per chunk.
 */
import { throwIfAborted } from '../common/errors';
import type { Pacer } from '../common/pace';
import type { Tensor } from '../gpu/device';
import type { LinearName, LlamaModel } from '../model/llama';

/** Calibration activations: a chunk of `windows` whole windows, (windows * seqlen, hidden). */
export interface ActChunk {
  x: Tensor;
  windows: number;
}

export interface LayerPassOptions {
  signal?: AbortSignal;
  /** Sizes the calls (default: the first chunk whole, as before pacing). */
  pacer?: Pacer;
  /**
   * The input (rows, cols) of a linear for windows w0 .. w0 + windows of the whole batch (w0 counts
   * from the first window of the first chunk; rows = windows * seqlen, from row 0 of `input`).
   */
  capture?: (name: LinearName, input: Tensor, rows: number, cols: number, w0: number, windows: number) => void;
  /** Keep the layer's output as each chunk's activations (the next layer's input); else drop it. */
  replace: boolean;
  /** After each call's GPU work is done: windows of the whole batch through this layer so far. */
  onCall?: (windowsDone: number) => void;
}

/** Rows (tokens) of `src` from `row0` into a new (rows, cols) tensor. */
function sliceRows(model: LlamaModel, src: Tensor, row0: number, rows: number, cols: number): Tensor {
  const t = model.gpu.tensor([rows, cols], 'f32', 'calib.slice');
  model.gpu.copy(src, row0 * cols, t, 0, rows * cols);
  return t;
}

/**
 * Layer `i` over every chunk of `acts` (windows of `S` tokens), in paced calls (see the file
 * comment). With `replace`, each chunk's `x` becomes the layer's output. Waits for the GPU after each
 * call; throws CANCELLED (after the call in flight) once the signal is aborted, having freed what it
 * allocated (the caller frees `acts`).
 */
export async function layerPass(model: LlamaModel, i: number, acts: ActChunk[], S: number, o: LayerPassOptions): Promise<void> {
  const gpu = model.gpu;
  const C = model.cfg.hiddenSize;
  let w0 = 0;
  for (const a of acts) {
    throwIfAborted(o.signal);
    const T = a.windows * S;
    const per = o.pacer ? Math.max(1, Math.floor(o.pacer.tokens(T) / S)) : a.windows;
    if (per >= a.windows) {
      // the whole chunk in one call (always on a fast GPU): no copies
      const t0 = performance.now();
      const first = w0;
      const out = await model.forwardLayer(i, a.x, T, S, o.capture && ((name, input, rows, cols) => o.capture!(name, input, rows, cols, first, a.windows)));
      if (o.replace) {
        a.x.destroy();
        a.x = out;
      } else out.destroy();
      await gpu.sync();
      o.pacer?.took(T, performance.now() - t0);
      w0 += a.windows;
      o.onCall?.(w0);
      throwIfAborted(o.signal);
      continue;
    }
    const next = o.replace ? gpu.tensor([T, C], 'f32', 'x') : null;
    try {
      for (let k = 0; k < a.windows; ) {
        const n = Math.min(a.windows - k, Math.max(1, Math.floor((o.pacer?.tokens(T) ?? T) / S)));
        const t0 = performance.now();
        const first = w0 + k;
        const x = sliceRows(model, a.x, k * S, n * S, C);
        const out = await model.forwardLayer(i, x, n * S, S, o.capture && ((name, input, rows, cols) => o.capture!(name, input, rows, cols, first, n))).finally(() => x.destroy());
        if (next) gpu.copy(out, 0, next, k * S * C, n * S * C);
        out.destroy();
        await gpu.sync();
        o.pacer?.took(n * S, performance.now() - t0);
        k += n;
        o.onCall?.(w0 + k);
        if (k < a.windows) throwIfAborted(o.signal);
      }
    } catch (e) {
      next?.destroy();
      throw e;
    }
    if (next) {
      a.x.destroy();
      a.x = next;
    }
    w0 += a.windows;
    throwIfAborted(o.signal);
  }
}
