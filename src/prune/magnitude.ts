/**
 * Magnitude pruning (locuslab/wanda `prune_magnitude`): no calibration, not sequential.
 * Unstructured ratio r: comparison group = the whole matrix; thresh = sort(|W|.flatten())[floor(numel*r)]
 * and every |W| <= thresh is pruned (floor(numel * r) + 1 weights when there are no ties). The
 * threshold is found exactly on the GPU by a 4-pass radix select over all row chunks (atomic
 * histograms), without reading the matrix back. On SwiftShader (Chromium's software adapter) a matrix
 * of at most {@link CPU_SELECT_MAX_ELEMENTS} is instead read back once and its threshold key selected
 * on the CPU (the same key, so the same mask): SwiftShader's contended workgroup atomics made the radix
 * histograms take about 5 s per layer of the bundled model in the page (under 0.2 s on the CPU).
 * lavapipe keeps the GPU select, which is faster there. N:M: per row, the m - n smallest |W| of every
 * group.
 */
import type { Gpu } from '../gpu/device';
import type { ChunkedMatrix } from '../gpu/ops';
import { magHistogram, magRefine, magApply, nmSelect } from '../gpu/prune';
import { type PruneOptions, validatePruneOptions } from './method';

/** Largest matrix (elements) whose threshold SwiftShader's runs select on the CPU (64 MiB read back). */
export const CPU_SELECT_MAX_ELEMENTS = 2 ** 24;

/** Where the unstructured threshold is selected: 'auto' = the CPU on SwiftShader for matrices up to CPU_SELECT_MAX_ELEMENTS. */
export type MagnitudeSelect = 'auto' | 'gpu' | 'cpu';

/** Prune W (N, K) in place on the GPU by magnitude. `_stats` is unused (shared method signature). */
export async function magnitudePrune(gpu: Gpu, W: ChunkedMatrix, _stats: null, opts: PruneOptions, select: MagnitudeSelect = 'auto'): Promise<void> {
  validatePruneOptions(opts, W.cols);
  if (opts.nm) {
    for (const ch of W.chunks) nmSelect(gpu, ch.tensor, null, ch.rows, W.cols, opts.nm.n, opts.nm.m);
    return;
  }
  const numel = W.rows * W.cols;
  const k = Math.floor(numel * (opts.sparsity as number));
  const onCpu = select === 'cpu' || (select === 'auto' && gpu.info.cpu && /swiftshader/i.test(gpu.info.description) && numel <= CPU_SELECT_MAX_ELEMENTS);
  const state = onCpu ? gpu.upload(new Uint32Array([await cpuThresholdKey(gpu, W, k), 0xffffffff, 0]), [3], 'magnitude.state') : gpu.upload(new Uint32Array([0, 0, k]), [3], 'magnitude.state');
  if (!onCpu) {
    const hist = gpu.upload(new Uint32Array(256), [256], 'magnitude.hist');
    for (let shift = 24; shift >= 0; shift -= 8) {
      for (const ch of W.chunks) magHistogram(gpu, ch.tensor, ch.rows * W.cols, state, hist, shift);
      magRefine(gpu, hist, state, shift);
    }
    hist.destroy();
  }
  for (const ch of W.chunks) magApply(gpu, ch.tensor, ch.rows * W.cols, state);
  state.destroy();
}

/**
 * The key (bit pattern of |w|, which orders like the value) of 0-based rank k in ascending order over
 * all chunks: what the GPU radix select leaves in state.prefix. One readback per chunk.
 */
async function cpuThresholdKey(gpu: Gpu, W: ChunkedMatrix, k: number): Promise<number> {
  const keys = new Uint32Array(W.rows * W.cols);
  for (const ch of W.chunks) {
    const n = ch.rows * W.cols;
    const bits = new Uint32Array((await gpu.readF32(ch.tensor, 0, n)).buffer, 0, n);
    const at = ch.rowStart * W.cols;
    for (let i = 0; i < n; i++) keys[at + i] = bits[i] & 0x7fffffff;
  }
  return keys.sort()[k];
}

/** Plain-TS reference: keep-mask (1 kept) of whole-matrix magnitude pruning. */
export function refMagnitudeMask(W: Float32Array, sparsity: number): Uint8Array {
  const a = Float32Array.from(W, Math.abs).sort();
  const thresh = a[Math.floor(W.length * sparsity)];
  return Uint8Array.from(W, (v) => (Math.abs(v) <= thresh ? 0 : 1));
}
