/**
 * Typed dispatch wrappers for the pruning kernels in shaders/prune/ (statistics, selection, masks).
 * Shapes: K in_features (columns), N out_features (rows), B windows of S tokens.
 */
import { PolyPruneError } from '../common/errors';
import { type Binding, type Gpu, type Tensor, type Work, u32, f32, workCost } from './device';
import { forRowSlices, matmul, rowSlice, rowsWithin, tilesPerGroup } from './ops';
import { MAX_WORKGROUPS, foldRows as rowGrid, grid1d } from './fold';

/** scaler (K) <- Wanda running update over B windows of S rows of x (.., K) from row row0; coef (2B) = (n/(n+1), n+1). */
export function wandaStats(gpu: Gpu, x: Tensor, coef: Tensor, scaler: Tensor, K: number, B: number, S: number, row0 = 0): void {
  gpu.dispatch('prune/wanda_stats', [true, true, false], { params: [u32(K), u32(B), u32(S), u32(row0)], bindings: [x, coef, scaler], workgroups: grid1d(K, 256), work: { flops: 3 * B * S * K, bytes: 4 * (B * S * K + 2 * K + 2 * B) } });
}

/** out (.., K) rows w0 .. w0+B <- Wanda's per-window statistic sqrt(sum_t x^2)^2 of B windows of S rows of x (.., K) from row row0. */
export function wandaWindowNorms(gpu: Gpu, x: Tensor, out: Tensor, K: number, B: number, S: number, row0: number, w0: number): void {
  gpu.dispatch('prune/wanda_window_norms', [true, false], { params: [u32(K), u32(B), u32(S), u32(row0), u32(w0)], bindings: [x, out], workgroups: grid1d(K, 256), work: { flops: 2 * B * S * K, bytes: 4 * (B * S * K + B * K) } });
}

/** scaler (K) <- weighted running mean of rows idx[u] of v (.., K), u < U; coef (2U) = (decay, divisor) per used window. */
export function wandaMix(gpu: Gpu, v: Tensor, idx: Tensor, coef: Tensor, scaler: Tensor, K: number, U: number): void {
  gpu.dispatch('prune/wanda_mix', [true, true, true, false], { params: [u32(K), u32(U)], bindings: [v, idx, coef, scaler], workgroups: grid1d(K, 256), work: { flops: 3 * U * K, bytes: 4 * (U * K + 3 * U + K) } });
}

/** H (K, K) <- SparseGPT running update over B windows of S rows of x (.., K) from row row0; coef (2B) = (n/(n+1), sqrt(2/(n+1))). */
export function hessianUpdate(gpu: Gpu, x: Tensor, coef: Tensor, H: Tensor, K: number, B: number, S: number, row0 = 0, panel?: { hRow0: number; hRows: number }): void {
  const tiles = Math.ceil(K / 64);
  if (tiles > MAX_WORKGROUPS) throw new PolyPruneError('GPU_LIMITS', `Hessian of ${K} columns exceeds the dispatch grid`);
  // rows of H a dispatch updates: the whole (symmetric: half the tiles) or a panel (every tile)
  const work = (rows: number, whole: boolean): Work => ({ flops: 2 * rows * K * B * S * (whole ? 0.5 : 1), bytes: 4 * (B * S * K + 2 * rows * K) });
  const dispatch = (h: Binding, pn: { hRow0: number; hRows: number } | undefined, w: Work) =>
    gpu.dispatch('prune/hessian', [true, true, false], {
      params: [u32(K), u32(B), u32(S), u32(row0), u32(pn ? 1 : 0), u32(pn?.hRow0 ?? 0), u32(pn?.hRows ?? K)],
      bindings: [x, coef, h],
      workgroups: [tiles, pn ? Math.ceil(pn.hRows / 64) : tiles, 1],
      work: w,
    });
  const rows = panel?.hRows ?? K;
  // Over the submit budget: the same update in 64-row-aligned panels (the kernel's panel mode, bitwise
  // the same values), each its own dispatch, bound at its row offset inside H.
  if (workCost(work(rows, !panel)) <= gpu.submitBudget) return dispatch(H, panel, work(rows, !panel));
  const per = rowsWithin(gpu, rows, (r) => work(r, false));
  const base = panel?.hRow0 ?? 0;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const r = Math.min(per, rows - r0);
    dispatch({ tensor: H, offsetElems: r0 * K, numElems: r * K }, { hRow0: base + r0, hRows: r }, work(r, false));
  }
}

/** out (n) <- w * h (first) or out + w * h: one source's term of the mixer's Hessian sum_s w_s H_s. */
export function hessianMix(gpu: Gpu, h: Tensor, out: Tensor, n: number, w: number, first: boolean): void {
  gpu.dispatch('prune/hessian_mix', [true, false], { params: [u32(n), f32(w), u32(first ? 1 : 0)], bindings: [h, out], workgroups: grid1d(n, 256), work: { flops: 2 * n, bytes: 12 * n } });
}

/** Rows up to this many columns are selected by row_select_short.wgsl. */
export const ROW_SELECT_SHORT_MAX_K = 256;

/**
 * Per-row unstructured selection on w (rows, K) in place: score = |w| * scale[c] (scale = 1 when
 * `scale` is null); zero the `k` lowest-scoring entries of each row, ties by lower column first.
 */
export function rowSelect(gpu: Gpu, w: Tensor, scale: Tensor | null, rows: number, K: number, k: number): void {
  if (k <= 0) return;
  const s = scale ?? gpu.tensor([1], 'f32', 'no_scale');
  // short rows: rank by counting after one barrier (row_select_short.wgsl), the same masks.
  // Rows are independent: over the submit budget, slices of rows (bitwise the same masks).
  forRowSlices(gpu, rows, (m) => rowSelectWork(m, K, false), (r0, m) => dispatchRowSelect(gpu, s, rowSlice(w, r0, m, K), m, K, k, scale ? 1 : 0));
  if (!scale) s.destroy();
}

/**
 * Work of row_select over rows x K: a radix select of 4 passes plus the write pass, each reading the row
 * (and its whole-matrix score when `scoreMatrix`); row_select_short ranks by counting (K^2 per row).
 */
function rowSelectWork(rows: number, K: number, scoreMatrix: boolean): Work {
  if (K <= ROW_SELECT_SHORT_MAX_K) return { flops: 2 * rows * K * K, bytes: 4 * rows * K * (scoreMatrix ? 3 : 2) };
  return { flops: 40 * rows * K, bytes: 4 * rows * K * (scoreMatrix ? 11 : 6) + 4 * K };
}

/** Work of nm_select over rows x K in groups of m: rank within each group, read and write w (and the score). */
function nmSelectWork(rows: number, K: number, m: number, scoreMatrix: boolean): Work {
  return { flops: 2 * rows * K * m, bytes: 4 * rows * K * (scoreMatrix ? 3 : 2) + 4 * K };
}

/** N:M on w (rows, K) in place: in each group of m consecutive columns of a row zero the m-n lowest scores (ties: lower column first). */
export function nmSelect(gpu: Gpu, w: Tensor, scale: Tensor | null, rows: number, K: number, n: number, m: number): void {
  if (m > 32) throw new PolyPruneError('BAD_ARGUMENT', `N:M with M = ${m} > 32 is not supported.`);
  const s = scale ?? gpu.tensor([1], 'f32', 'no_scale'); // a writable buffer may be bound only once
  forRowSlices(gpu, rows, (r) => nmSelectWork(r, K, m, false), (r0, r) =>
    gpu.dispatch('prune/nm_select', [true, false], {
      params: [u32(r), u32(K), u32(n), u32(m), u32(scale ? 1 : 0)],
      bindings: [s, rowSlice(w, r0, r, K)],
      workgroups: grid1d(r * (K / m), 256),
      work: nmSelectWork(r, K, m, false),
    }),
  );
  if (!scale) s.destroy();
}

/** Per-row selection on w (rows, K) in place by a whole score matrix (rows, K) (RIA): row_select / nm_select with hasScale 2. */
export function selectByScore(gpu: Gpu, w: Tensor, score: Tensor, rows: number, K: number, opts: { k: number } | { n: number; m: number }): void {
  if ('m' in opts) {
    if (opts.m > 32) throw new PolyPruneError('BAD_ARGUMENT', `N:M with M = ${opts.m} > 32 is not supported.`);
    const { n, m } = opts;
    forRowSlices(gpu, rows, (r) => nmSelectWork(r, K, m, true), (r0, r) =>
      gpu.dispatch('prune/nm_select', [true, false], { params: [u32(r), u32(K), u32(n), u32(m), u32(2)], bindings: [rowSlice(score, r0, r, K), rowSlice(w, r0, r, K)], workgroups: grid1d(r * (K / m), 256), work: nmSelectWork(r, K, m, true) }),
    );
    return;
  }
  const k = opts.k;
  if (k <= 0) return;
  forRowSlices(gpu, rows, (r) => rowSelectWork(r, K, true), (r0, r) => dispatchRowSelect(gpu, rowSlice(score, r0, r, K), rowSlice(w, r0, r, K), r, K, k, 2));
}

/**
 * One row_select (or row_select_short) dispatch over `rows` rows of w: the k lowest scores of each row
 * zeroed. On a CPU adapter a workgroup of row_select takes several rows in turn (RPW, the rule of
 * ops.tilesPerGroup): the same selection per row.
 */
function dispatchRowSelect(gpu: Gpu, scale: Binding, w: Binding, rows: number, K: number, k: number, hasScale: 0 | 1 | 2): void {
  const short = K <= ROW_SELECT_SHORT_MAX_K;
  const rpw = short ? 1 : tilesPerGroup(gpu, rows, 1);
  gpu.dispatch(short ? 'prune/row_select_short' : 'prune/row_select', [true, false], {
    params: [u32(rows), u32(K), u32(k), u32(hasScale)],
    bindings: [scale, w],
    workgroups: rowGrid(1, Math.ceil(rows / rpw)),
    ...(short ? {} : { constants: { RPW: rpw } }),
    work: rowSelectWork(rows, K, hasScale === 2),
  });
}

/** colsum (K) <- (accumulate ? colsum : 0) + sum over the rows of |w| (rows, K): RIA's column sums over one row chunk. */
export function riaColSums(gpu: Gpu, w: Tensor, colsum: Tensor, rows: number, K: number, accumulate: boolean): void {
  gpu.dispatch('prune/ria_col_sums', [true, false], { params: [u32(rows), u32(K), u32(accumulate ? 1 : 0)], bindings: [w, colsum], workgroups: grid1d(K, 256), work: { flops: 2 * rows * K, bytes: 4 * (rows * K + 2 * K) } });
}

/** score (rows, K) <- (|w| / colsum[c] + |w| / rowsum[r]) * act[c]: RIA's score of one row chunk. */
export function riaScore(gpu: Gpu, colsum: Tensor, act: Tensor, w: Tensor, score: Tensor, rows: number, K: number): void {
  // per row: its |w| sum, then the score of each entry; rows are independent (slices over the budget)
  const work = (r: number): Work => ({ flops: 7 * r * K, bytes: 4 * (3 * r * K + 2 * K) });
  forRowSlices(gpu, rows, work, (r0, r) =>
    gpu.dispatch('prune/ria_score', [true, true, true, false], { params: [u32(r), u32(K)], bindings: [colsum, act, rowSlice(w, r0, r, K), rowSlice(score, r0, r, K)], workgroups: rowGrid(1, r), work: work(r) }),
  );
}

/** hist (256) += histogram of byte `shift` of |w| keys whose higher bytes match state.prefix. */
export function magHistogram(gpu: Gpu, w: Tensor, n: number, state: Tensor, hist: Tensor, shift: number): void {
  gpu.dispatch('prune/mag_histogram', [true, true, false], { params: [u32(n), u32(shift)], bindings: [w, state, hist], workgroups: grid1d(n, 256), work: { flops: 4 * n, bytes: 4 * n } });
}

/** Pick the bin holding rank state.remaining in hist, narrow state.prefix; clears hist. One workgroup. */
export function magRefine(gpu: Gpu, hist: Tensor, state: Tensor, shift: number): void {
  gpu.dispatch('prune/mag_refine', [false, false], { params: [u32(shift)], bindings: [hist, state], workgroups: [1, 1, 1], work: { flops: 1024, bytes: 2048 } });
}

/** Zero every entry of w (n) with |w| key <= state.prefix (the selected threshold). */
export function magApply(gpu: Gpu, w: Tensor, n: number, state: Tensor): void {
  gpu.dispatch('prune/mag_apply', [true, false], { params: [u32(n)], bindings: [state, w], workgroups: grid1d(n, 256), work: { flops: 2 * n, bytes: 8 * n } });
}

/** counter[slot] += number of exact zeros in w (n). */
export function countZeros(gpu: Gpu, w: Tensor, n: number, counter: Tensor, slot: number): void {
  gpu.dispatch('prune/count_zeros', [true, false], { params: [u32(n), u32(slot)], bindings: [w, counter], workgroups: grid1d(n, 256), work: { flops: n, bytes: 4 * n } });
}

/** d (n) = a - b. */
export function reconDiff(gpu: Gpu, a: Tensor, b: Tensor, d: Tensor, n: number): void {
  gpu.dispatch('prune/recon_diff', [true, true, false], { params: [u32(n)], bindings: [a, b, d], workgroups: grid1d(n, 256), work: { flops: n, bytes: 12 * n } });
}

/** partial (ceil(n / 1024)) = per-workgroup sums of x * y; returns the number of partials. */
export function dotPartial(gpu: Gpu, x: Tensor, y: Tensor, partial: Tensor, n: number): number {
  const groups = Math.ceil(n / 1024);
  if (partial.numel < groups) throw new PolyPruneError('INTERNAL', `dot_partial: ${partial.numel} partial slots for ${groups} groups`);
  gpu.dispatch('prune/dot_partial', [true, true, false], { params: [u32(n)], bindings: [x, y, partial], workgroups: grid1d(Math.ceil(n / 4), 256), work: { flops: 2 * n, bytes: 8 * n } });
  return groups;
}

/**
 * Relative reconstruction error of a pruned matrix on the calibration inputs X, from their Gram
 * matrix H ∝ X^T X (K, K, symmetric): ||(W - W')X||^2 / ||WX||^2 = sum_r d_r^T H d_r / sum_r w_r^T H w_r.
 * `dense` and `pruned` are the same row chunks ({tensor, rows}) of W and W' (K columns). Null when
 * ||WX|| = 0.
 */
export async function reconstructionError(
  gpu: Gpu,
  dense: readonly { tensor: Tensor; rows: number }[],
  pruned: readonly { tensor: Tensor; rows: number }[],
  H: Tensor | readonly { tensor: Tensor; rowStart: number; rows: number }[],
  K: number,
): Promise<number | null> {
  // H (K, K) symmetric: one tensor, or row panels (a large Hessian split over several bindings).
  const hm = { rows: K, cols: K, chunks: 'shape' in H ? [{ tensor: H, rowStart: 0, rows: K }] : [...H] };
  let num = 0;
  let den = 0;
  for (let c = 0; c < dense.length; c++) {
    const rows = dense[c].rows;
    const n = rows * K;
    const d = gpu.tensor([rows, K], 'f32', 'recon.diff');
    const prod = gpu.tensor([rows, K], 'f32', 'recon.prod');
    const partD = gpu.tensor([Math.ceil(n / 1024)], 'f32', 'recon.partial.diff');
    const partW = gpu.tensor([Math.ceil(n / 1024)], 'f32', 'recon.partial.dense');
    try {
      reconDiff(gpu, dense[c].tensor, pruned[c].tensor, d, n);
      matmul(gpu, d, rows, hm, prod);
      const g = dotPartial(gpu, d, prod, partD, n);
      matmul(gpu, dense[c].tensor, rows, hm, prod);
      dotPartial(gpu, dense[c].tensor, prod, partW, n);
      const pd = await gpu.readF32(partD, 0, g);
      const pw = await gpu.readF32(partW, 0, g);
      for (let i = 0; i < g; i++) {
        num += pd[i];
        den += pw[i];
      }
    } finally {
      d.destroy();
      prod.destroy();
      partD.destroy();
      partW.destroy();
    }
  }
  return den > 0 ? Math.max(0, num) / den : null;
}
