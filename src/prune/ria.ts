/**
 * RIA, Relative Importance and Activations (Zhang et al., "Plug-and-Play: An Efficient Post-training
 * Pruning Method for Large Language Models", ICLR 2024; reference code
 * biomedical-cybernetics/Relative-importance-and-activation-pruning, lib/prune.py `prune_ria`):
 *
 *   score[r, c] = (|W[r, c]| / sum_r' |W[r', c]| + |W[r, c]| / sum_c' |W[r, c']|) * sqrt(scaler_row[c])^a
 *
 * with Wanda's statistic scaler_row (the reference's WrappedGPT.scaler_row: mean over windows of the
 * squared L2 norm of each input feature) and a = 0.5 (the reference's `--a` default). Selection as
 * Wanda's (the reference's `--per_outneuron`, which it calls "Wanda's tactic"): unstructured prunes the
 * floor(K * ratio) lowest scores of every output row, ties by lower column first (torch.sort stable);
 * N:M prunes the m - n lowest of every m consecutive inputs of a row. The reference's default
 * unstructured mode (one threshold per matrix) and its channel permutation for N:M (`--reallocation`,
 * `--lsa`) are not implemented (docs/ria.md).
 */
import type { Gpu, Tensor } from '../gpu/device';
import type { ChunkedMatrix } from '../gpu/ops';
import { riaColSums, riaScore, selectByScore } from '../gpu/prune';
import { type PruneOptions, validatePruneOptions } from './method';

/** The reference's default exponent of the activation term. */
export const RIA_DEFAULT_ALPHA = 0.5;

/** act[c] = sqrt(scaler[c])^alpha in float64, rounded once to f32 (as Wanda's sqrt is formed on the CPU). */
export function riaActivation(scaler: Float32Array, alpha: number): Float32Array {
  const out = new Float32Array(scaler.length);
  for (let c = 0; c < scaler.length; c++) out[c] = Math.pow(Math.sqrt(scaler[c]), alpha);
  return out;
}

/** Prune W (N, K) in place on the GPU with RIA's score; `scaler` (K) from a WandaAccumulator. */
export async function riaPrune(gpu: Gpu, W: ChunkedMatrix, scaler: Tensor, opts: PruneOptions, alpha = RIA_DEFAULT_ALPHA): Promise<void> {
  validatePruneOptions(opts, W.cols);
  const K = W.cols;
  const act = gpu.upload(riaActivation(await gpu.readF32(scaler, 0, K), alpha), [K], 'ria.act');
  const colsum = gpu.tensor([K], 'f32', 'ria.colsum');
  try {
    W.chunks.forEach((ch, i) => riaColSums(gpu, ch.tensor, colsum, ch.rows, K, i > 0));
    for (const ch of W.chunks) {
      const score = gpu.tensor([ch.rows, K], 'f32', 'ria.score');
      riaScore(gpu, colsum, act, ch.tensor, score, ch.rows, K);
      selectByScore(gpu, ch.tensor, score, ch.rows, K, opts.nm ? { n: opts.nm.n, m: opts.nm.m } : { k: Math.floor(K * (opts.sparsity as number)) });
      score.destroy();
    }
  } finally {
    act.destroy();
    colsum.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Plain-TS reference (tests): the score in float64, as tools/ria-reference/ria_ref.py forms it.

/** RIA scores (N, K) in float64 of W (N, K) and scaler (K). */
export function refRiaScore(W: Float32Array, scaler: Float32Array, N: number, K: number, alpha = RIA_DEFAULT_ALPHA): Float64Array {
  const col = new Float64Array(K);
  const row = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < K; c++) {
      const a = Math.abs(W[r * K + c]);
      col[c] += a;
      row[r] += a;
    }
  }
  const out = new Float64Array(N * K);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < K; c++) {
      const a = Math.abs(W[r * K + c]);
      const rel = (col[c] > 0 ? a / col[c] : 0) + (row[r] > 0 ? a / row[r] : 0);
      out[r * K + c] = rel * Math.pow(Math.sqrt(scaler[c]), alpha);
    }
  }
  return out;
}
