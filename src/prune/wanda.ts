/**
 * Wanda (Sun et al. 2023; locuslab/wanda `prune_wanda`): score S = |W| * sqrt(scaler_row)[None, :],
 * comparison group = each output row. Unstructured ratio r prunes exactly floor(K * r) entries per
 * row, lowest score first, ties by lower column (torch.sort stable); N:M prunes the m - n lowest of
 * every m consecutive inputs of a row. Pruned entries become exactly 0, kept entries are unchanged.
 */
import type { Gpu, Tensor } from '../gpu/device';
import type { ChunkedMatrix } from '../gpu/ops';
import { rowSelect, nmSelect } from '../gpu/prune';
import { type PruneOptions, validatePruneOptions } from './method';

/** Prune W (N, K) in place on the GPU with Wanda's score; `scaler` (K) from a WandaAccumulator. */
export async function wandaPrune(gpu: Gpu, W: ChunkedMatrix, scaler: Tensor, opts: PruneOptions): Promise<void> {
  validatePruneOptions(opts, W.cols);
  // sqrt on the CPU: Math.sqrt in float64 then rounding to f32 is the correctly rounded f32 sqrt that
  // torch computes; WGSL's sqrt may be off by an ulp.
  const s = await gpu.readF32(scaler, 0, W.cols);
  const sq = new Float32Array(W.cols);
  for (let c = 0; c < W.cols; c++) sq[c] = Math.sqrt(s[c]);
  const scale = gpu.upload(sq, [W.cols], 'wanda.sqrt_scaler');
  wandaSelect(gpu, W, scale, opts);
  scale.destroy();
}

/** Wanda's selection on W (N, K) in place from sqrt(scaler) (K) already on the GPU (the mixer computes it once per input group). */
export function wandaSelect(gpu: Gpu, W: ChunkedMatrix, sqrtScaler: Tensor, opts: PruneOptions): void {
  for (const ch of W.chunks) {
    if (opts.nm) nmSelect(gpu, ch.tensor, sqrtScaler, ch.rows, W.cols, opts.nm.n, opts.nm.m);
    else rowSelect(gpu, ch.tensor, sqrtScaler, ch.rows, W.cols, Math.floor(W.cols * (opts.sparsity as number)));
  }
}

// ---------------------------------------------------------------------------------------------
// Plain-TS reference (tests)

/** Keep-mask (1 kept, 0 pruned) of per-row selection on scores (N, K): row-wise or N:M. */
export function refRowMask(score: ArrayLike<number>, N: number, K: number, opts: PruneOptions): Uint8Array {
  const mask = new Uint8Array(N * K).fill(1);
  for (let r = 0; r < N; r++) {
    if (opts.nm) {
      const { n, m } = opts.nm;
      for (let g = 0; g < K; g += m) {
        const idx = Array.from({ length: m }, (_, j) => g + j).sort((a, b) => score[r * K + a] - score[r * K + b] || a - b);
        for (let j = 0; j < m - n; j++) mask[r * K + idx[j]] = 0;
      }
    } else {
      const k = Math.floor(K * (opts.sparsity as number));
      const idx = Array.from({ length: K }, (_, c) => c).sort((a, b) => score[r * K + a] - score[r * K + b] || a - b);
      for (let j = 0; j < k; j++) mask[r * K + idx[j]] = 0;
    }
  }
  return mask;
}

/** Wanda scores |W| * sqrt(scaler) (N, K) in f32. */
export function refWandaScore(W: Float32Array, scaler: Float32Array, N: number, K: number): Float32Array {
  const out = new Float32Array(N * K);
  for (let r = 0; r < N; r++) for (let c = 0; c < K; c++) out[r * K + c] = Math.abs(W[r * K + c]) * Math.fround(Math.sqrt(scaler[c]));
  return out;
}
