/**
 * Magnitude pruning (locuslab/wanda `prune_magnitude`): no calibration, not sequential.
 * Unstructured ratio r: comparison group = the whole matrix; thresh = sort(|W|.flatten())[floor(numel*r)]
 * and every |W| <= thresh is pruned (floor(numel * r) + 1 weights when there are no ties). The
 * threshold is found exactly on the GPU by a 4-pass radix select over all row chunks (atomic
 * histograms), without reading the matrix back. N:M: per row, the m - n smallest |W| of every group.
 */
import type { Gpu } from '../gpu/device';
import type { ChunkedMatrix } from '../gpu/ops';
import { magHistogram, magRefine, magApply, nmSelect } from '../gpu/prune';
import { type PruneOptions, validatePruneOptions } from './method';

/** Prune W (N, K) in place on the GPU by magnitude. `_stats` is unused (shared method signature). */
export async function magnitudePrune(gpu: Gpu, W: ChunkedMatrix, _stats: null, opts: PruneOptions): Promise<void> {
  validatePruneOptions(opts, W.cols);
  if (opts.nm) {
    for (const ch of W.chunks) nmSelect(gpu, ch.tensor, null, ch.rows, W.cols, opts.nm.n, opts.nm.m);
    return;
  }
  const numel = W.rows * W.cols;
  const k = Math.floor(numel * (opts.sparsity as number));
  const state = gpu.upload(new Uint32Array([0, 0, k]), [3], 'magnitude.state');
  const hist = gpu.upload(new Uint32Array(256), [256], 'magnitude.hist');
  for (let shift = 24; shift >= 0; shift -= 8) {
    for (const ch of W.chunks) magHistogram(gpu, ch.tensor, ch.rows * W.cols, state, hist, shift);
    magRefine(gpu, hist, state, shift);
  }
  for (const ch of W.chunks) magApply(gpu, ch.tensor, ch.rows * W.cols, state);
  state.destroy();
  hist.destroy();
}

/** Plain-TS reference: keep-mask (1 kept) of whole-matrix magnitude pruning. */
export function refMagnitudeMask(W: Float32Array, sparsity: number): Uint8Array {
  const a = Float32Array.from(W, Math.abs).sort();
  const thresh = a[Math.floor(W.length * sparsity)];
  return Uint8Array.from(W, (v) => (Math.abs(v) <= thresh ? 0 : 1));
}
