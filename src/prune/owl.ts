/**
 * Layer-wise sparsity and the language-aware score: the math, on the CPU in float64.
 *
 * OWL, outlier-weighed layer-wise sparsity (Yin et al. 2023, "Outlier Weighed Layerwise Sparsity";
 * reference luuyin/OWL `lib/prune_all.py` `prune_wanda_outlier` / `prune_sparsegpt_outlier` with
 * `check_outlier_mean`, and llm-compressor `sparsity_profile="owl"`, `owl_m`, `owl_lmbda`):
 *
 *   1. a first pass over the DENSE model (every layer sees dense activations, nothing is pruned):
 *      for decoder layer l, A = the Wanda scores |W| * sqrt(scaler_row) of all its linears
 *      (q, k, v, o, gate, up, down) put together;
 *   2. D_l = 100 * #{a in A : a > M * mean(A)} / |A|            (outlier ratio in %, M e.g. 5);
 *   3. D'_l = (D_l - min D) / (max D - min D) * 2 * lambda      (into [0, 2 lambda], lambda e.g. 0.08);
 *   4. sparsity_l = 1 - (D'_l - mean(D') + (1 - target))  =  target + mean(D') - D'_l.
 *
 * So the layer with the most outliers is pruned least, the spread of the ratios is exactly
 * 2 * lambda, and the UNWEIGHTED mean over layers is exactly the target. The reference uses the
 * unweighted mean because all decoder layers of a Llama have the same size; so does PolyPrune (every
 * layer of one model has the same parameter count, so the unweighted mean is also the parameter-weighted
 * one). When all outlier ratios are equal (max = min; the reference divides by zero) every layer
 * gets the target. Then the usual sequential Wanda / SparseGPT run prunes layer l at sparsity_l.
 *
 * PolyPrune follows the OWL repository for the statistic: scaler_row is wanda's
 * (mean over windows of the squared input norms), its square root taken per feature; llm-compressor
 * instead averages per-window norms (mean of ||x||, not sqrt of mean ||x||^2). The scores are formed
 * and counted in float64 here (the reference does it in float32 torch; only a score within float32
 * rounding of the threshold could be counted differently).
 *
 * Language-aware Wanda (`wanda-lang`), in the spirit of M-Wanda (Choenni & Titov 2025, arXiv
 * 2505.21171: keep the weights that matter to any calibration language, not only on average). With
 * G calibration sources (the texts of a mix, each usually one language) and s_g[c] wanda's
 * scaler_row computed from the windows of source g only:
 *
 *   s[c]  = mean_g s_g[c] + beta * std_g s_g[c]     (population std over the G sources, beta >= 0)
 *   score = |W[r, c]| * sqrt(s[c])                  (then wanda's per-row selection)
 *
 * Each source counts once, however many windows it got. An input feature that is strong in one
 * language but weak in the others gets a larger spread and so more weight than its plain average.
 * With one source (or beta = 0 and equal window counts) it is plain Wanda. This exact formula is
 * PolyPrune's; M-Wanda's paper also reweights layers, which OWL covers here.
 */
import { PolyPruneError } from '../common/errors';

/** The layer-wise sparsity profiles. */
export type SparsityProfile = 'uniform' | 'owl';
export const SPARSITY_PROFILES: readonly SparsityProfile[] = ['uniform', 'owl'];

/** OWL's defaults: M = 5 (the paper's outlier threshold), lambda = 0.08 (the paper's LLaMA-7B setting). */
export const OWL_DEFAULT_M = 5;
export const OWL_DEFAULT_LAMBDA = 0.08;
/** Language-aware Wanda's default weight of the spread across sources. */
export const LANG_DEFAULT_BETA = 1;

export interface OwlOptions {
  /** Outlier threshold: a score is an outlier when above M x the layer's mean score. */
  readonly m: number;
  /** Half-width of the band of layer sparsities (their spread is 2 lambda). */
  readonly lambda: number;
}

export function parseSparsityProfile(name: unknown): SparsityProfile {
  if (typeof name === 'string' && (SPARSITY_PROFILES as readonly string[]).includes(name)) return name as SparsityProfile;
  throw new PolyPruneError('BAD_ARGUMENT', `Unknown sparsity profile '${String(name)}'. Supported: ${SPARSITY_PROFILES.join(', ')}.`);
}

/** Check OWL's M and lambda (and that the band fits the target). Throws BAD_ARGUMENT. */
export function validateOwl(owl: OwlOptions, target: number): void {
  if (typeof owl.m !== 'number' || !Number.isFinite(owl.m) || owl.m <= 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `OWL's outlier threshold M must be a positive number (the paper uses 5), got ${owl.m}.`);
  }
  if (typeof owl.lambda !== 'number' || !Number.isFinite(owl.lambda) || owl.lambda <= 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `OWL's lambda must be a positive number (the paper uses 0.08), got ${owl.lambda}.`);
  }
  // Worst case, one layer sits 2 lambda below or above the target.
  if (target - 2 * owl.lambda <= 0 || target + 2 * owl.lambda >= 1) {
    const max = Math.min(target, 1 - target) / 2;
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `OWL lambda ${owl.lambda} is too large for sparsity ${target}: layer sparsities can lie up to 2 x lambda from the target and must stay between 0 and 1. Use a lambda below ${+max.toFixed(4)}.`,
    );
  }
}

/** Check language-aware Wanda's beta. */
export function validateLangBeta(beta: number): void {
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `The language-aware weight beta must be a number >= 0 (default ${LANG_DEFAULT_BETA}), got ${beta}.`);
  }
}

/**
 * Running outlier count of one layer's Wanda scores, one matrix at a time: call `sum` for every
 * matrix, then `count` for every matrix (the threshold needs the mean of the whole layer).
 */
export class OutlierCounter {
  private total = 0;
  private n = 0;
  private outliers = 0;
  constructor(readonly m: number) {}

  /** Add |W| * sqrt(scaler) of one matrix W (N, K) to the layer's sum. */
  sum(W: Float32Array, scaler: Float32Array, K: number): void {
    const sq = sqrtScaler(scaler, K);
    let s = 0;
    for (let i = 0; i < W.length; i++) s += Math.abs(W[i]) * sq[i % K];
    this.total += s;
    this.n += W.length;
  }

  /** Count the scores above M x mean of one matrix (after every matrix was summed). */
  count(W: Float32Array, scaler: Float32Array, K: number): void {
    const threshold = (this.total / this.n) * this.m;
    const sq = sqrtScaler(scaler, K);
    let c = 0;
    for (let i = 0; i < W.length; i++) if (Math.abs(W[i]) * sq[i % K] > threshold) c++;
    this.outliers += c;
  }

  /** The outlier ratio in percent (check_outlier_mean). */
  get ratio(): number {
    return this.n ? (100 * this.outliers) / this.n : 0;
  }
}

function sqrtScaler(scaler: Float32Array, K: number): Float64Array {
  const sq = new Float64Array(K);
  for (let c = 0; c < K; c++) sq[c] = Math.sqrt(scaler[c]);
  return sq;
}

/** OWL step 3-4: per-layer sparsity from the outlier ratios (see the file comment). */
export function owlLayerSparsity(outlierRatios: readonly number[], target: number, lambda: number): number[] {
  const L = outlierRatios.length;
  if (L === 0) return [];
  const lo = Math.min(...outlierRatios);
  const hi = Math.max(...outlierRatios);
  if (!(hi > lo)) return outlierRatios.map(() => target);
  const d = outlierRatios.map((r) => (r - lo) * ((1 / (hi - lo)) * lambda * 2));
  const mean = d.reduce((a, b) => a + b, 0) / L;
  return d.map((v) => 1 - (v - mean + (1 - target)));
}

/**
 * Language-aware scaler: s[c] = mean_g s_g[c] + beta * std_g s_g[c] (population std), float64, rounded
 * to float32 at the end (it feeds wanda's f32 selection).
 */
export function langAwareScaler(perSource: readonly Float32Array[], beta: number): Float32Array {
  const G = perSource.length;
  if (G === 0) throw new PolyPruneError('INTERNAL', 'langAwareScaler: no sources');
  const K = perSource[0].length;
  const out = new Float32Array(K);
  for (let c = 0; c < K; c++) {
    let mean = 0;
    for (let g = 0; g < G; g++) mean += perSource[g][c];
    mean /= G;
    let v = 0;
    for (let g = 0; g < G; g++) v += (perSource[g][c] - mean) ** 2;
    out[c] = mean + beta * Math.sqrt(v / G);
  }
  return out;
}

/** Window ranges [start, end) of each calibration source, from per-source window counts (windows are concatenated source by source). */
export function sourceRanges(samples: readonly number[]): { start: number; end: number }[] {
  let s = 0;
  return samples.map((k) => {
    const r = { start: s, end: s + k };
    s += k;
    return r;
  });
}

/** Sparsity reached per decoder layer: zeros over weights of its matrices (the mean of the matrix sparsities where counts are missing). */
export function layerAchieved(perMatrix: readonly { layer: number; sparsity: number; zeros?: number; numel?: number }[]): number[] {
  const z: number[] = [];
  const n: number[] = [];
  for (const m of perMatrix) {
    const numel = m.numel ?? 1;
    z[m.layer] = (z[m.layer] ?? 0) + (m.zeros ?? m.sparsity * numel);
    n[m.layer] = (n[m.layer] ?? 0) + numel;
  }
  return Array.from(n, (k, i) => (k ? z[i] / k : 0));
}
