/**
 * SparseGPT (Frantar & Alistarh 2023; IST-DASLab/sparsegpt `SparseGPT.fasterprune`, as vendored in
 * locuslab/wanda `lib/sparsegpt.py`) with all O(d^3) and O(rows * d^2) work in WGSL.
 *
 * Steps for a weight W (rows, d) and its Hessian H (d, d) = (2/N) sum_j X_j^T X_j:
 *  1. dead = diag(H) == 0: H[dead, dead] = 1, W[:, dead] = 0; H += percdamp * mean(diag(H)) * I
 *     (prune/linalg_damp, prune/linalg_prep, prune/sparsegpt_dead).
 *  2. U = the upper Cholesky factor of H^-1 (H^-1 = U^T U; torch: cholesky(cholesky_inverse(cholesky(H)),
 *     upper=True)). We use an equivalent route with two O(d^3) steps instead of three: with J the reversal
 *     permutation, write H = V V^T with V upper triangular; then J H J = (J V J)(J V J)^T with J V J lower, so
 *     J V J = chol_lower(J H J), and H^-1 = (V^-1)^T V^-1 with V^-1 upper and a positive diagonal, so
 *     U = V^-1 = J chol_lower(J H J)^-1 J. Blocked right-looking Cholesky (per panel of 32 columns:
 *     prune/cholesky_diag, prune/cholesky_panel, prune/linalg_gemm), blocked triangular inverse (per block
 *     row: prune/linalg_trinv_diag, prune/linalg_gemm), both with the updates beyond a super-block of 128
 *     columns deferred to one product per super-block (FACTOR_SB), then prune/linalg_reverse.
 *  3. Column blocks of `blocksize`: unstructured scores + exact k-th smallest by radix select
 *     (prune/sparsegpt_score, 4 x prune/sparsegpt_hist + prune/sparsegpt_select), the fused column loop
 *     (prune/sparsegpt_block: one dispatch per block and row chunk), and W[:, after] -= Err1 @ U[block, after]
 *     (prune/linalg_gemm).
 *  4. Exact zero count (prune/sparsegpt_count).
 *
 * Dispatches per matrix, with P = ceil(d / 32) panels, B = ceil(d / blocksize) blocks and c row chunks:
 *   unstructured 5P + c + B (3c + 8),   N:M 5P + c (2B + 1);
 * plus two 4-byte readbacks (the Cholesky status, before W is touched, and the zero count).
 * E.g. d = 64: 22 / 13; d = 172: 53 / 35; d = 4096 in one chunk: 993 / 705.
 * Scratch: two (d, d) f32 matrices and two (rows, blocksize) f32 buffers.
 */
import { PolyPruneError, assertArg } from '../common/errors';
import { type Gpu, Tensor, type Work, u32, f32 } from '../gpu/device';
import { fmtBytes } from '../common/format';
import { type ChunkedMatrix, forRowSlices, grid1d, rowSlice, rowsWithin, tilesPerGroup } from '../gpu/ops';
import { foldGroups, foldRows } from '../gpu/fold';
import { type PanelMatrix, allocPanels, asPanels, destroyPanels, panelOf, panelRows, panelRowsFor, panelStart } from './panels';
import type { GptqResult } from './gptq';
import { validateGptqOptions } from './methods/gptq';

/** SparseGPT options; defaults as in the reference (blocksize 128, percdamp 0.01, sparsity 0.5). */
export interface SparseGptOptions {
  /** Unstructured ratio r in [0, 1): each block prunes the floor(numel * r) + 1 smallest scores (ties: more). */
  sparsity?: number;
  /** N:M: keep n of every m consecutive input weights per row (2:4 -> { n: 2, m: 4 }); overrides sparsity. */
  nm?: { n: number; m: number };
  blocksize?: number;
  percdamp?: number;
  /**
   * Joint mode (the SparseGPT paper's joint sparsification and quantization; IST-DASLab/sparsegpt
   * `fasterprune` with a quantizer): every kept weight is quantized to `bits` with asymmetric min-max
   * parameters per row (per channel, found on W before the dead columns are zeroed, as the reference),
   * and its quantization error joins the pruning error in the OBS update. Pruned weights stay exactly 0.
   */
  quantize?: { bits: number };
}

/** Control block layout (u32 words), shared by the prune/ kernels. */
/** PARTIAL: linalg_damp's per-invocation partial sums carried across the panels of a split Hessian. */
export const CTL = { STATUS: 0, DAMP: 1, ZEROS: 2, PREFIX: 4, K: 5, HIST: 16, PARTIAL: 272, SIZE: 528 } as const;
const STATUS_OK = 0xffffffff;

/** Panel width of the blocked factorizations (workgroup memory: NB^2 + WG (NB + 1) floats). */
const NB = 32;
const PANEL_WG = 64;
const BLOCK_WG = 128;

/** A fresh control block (ctl[STATUS] = no failure). linalg_damp also resets it. */
export function controlBlock(gpu: Gpu): Tensor {
  const init = new Uint32Array(CTL.SIZE);
  init[CTL.STATUS] = STATUS_OK;
  return gpu.upload(init, [CTL.SIZE], 'sparsegpt.ctl');
}

/**
 * C -= op(A) op(B) on sub-blocks (shaders/prune/linalg_gemm.wgsl). An operand given as 'c' is read from C
 * itself (a writable buffer may be bound only once per dispatch); its binding slot then takes the other
 * operand or `spare`, any read-only tensor. kChunk (a multiple of 16): subtract the sum over K in chunks
 * of kChunk, in k order, bitwise as K / kChunk calls of K = kChunk one after the other.
 */
export function gemmSub(
  gpu: Gpu,
  a: Tensor | 'c',
  b: Tensor | 'c',
  c: Tensor,
  g: { M: number; N: number; K: number; lda: number; ldb: number; ldc: number; aOff: number; bOff: number; cOff: number; bTrans?: boolean; lower?: boolean; kChunk?: number },
  spare?: Tensor,
): void {
  if (g.M === 0 || g.N === 0 || g.K === 0) return;
  const kChunk = g.kChunk ?? 0;
  if (kChunk % 16 !== 0) throw new PolyPruneError('INTERNAL', `gemmSub: kChunk ${kChunk} is not a multiple of the kernel's K step (16)`);
  const flags = (g.bTrans ? 1 : 0) | (a === 'c' ? 2 : 0) | (b === 'c' ? 4 : 0) | (g.lower ? 8 : 0);
  const aT = a !== 'c' ? a : b !== 'c' ? b : spare;
  const bT = b !== 'c' ? b : aT;
  if (!aT || !bT) throw new PolyPruneError('INTERNAL', 'gemmSub: both operands read from C; pass a spare tensor for the bindings');
  // Over the submit budget: row slices of C (and A), each its own dispatch with the same per-output
  // fma chain (bitwise the same); a lower-triangular slice tests j <= i + its first row. Slices are
  // sized by the widest rows (all N columns); each dispatch counts its own columns (j <= i when LOWER).
  const work = (m: number, cols = g.N): Work => ({ flops: 2 * m * cols * g.K, bytes: 4 * (m * g.K + g.K * cols + 2 * m * cols) });
  const per = rowsWithin(gpu, g.M, work);
  for (let i0 = 0; i0 < g.M; i0 += per) {
    const m = Math.min(per, g.M - i0);
    // a lower slice's columns end at its last row
    const n = g.lower ? Math.min(g.N, i0 + m) : g.N;
    const nt = tilesPerGroup(gpu, Math.ceil(n / 64), Math.ceil(m / 64));
    gpu.dispatch('prune/linalg_gemm', [true, true, false], {
      params: [u32(m), u32(n), u32(g.K), u32(g.lda), u32(g.ldb), u32(g.ldc), u32(g.aOff + i0 * g.lda), u32(g.bOff), u32(g.cOff + i0 * g.ldc), u32(flags), u32(kChunk), u32(i0)],
      bindings: [aT, bT, c],
      workgroups: [Math.ceil(n / (64 * nt)), Math.ceil(m / 64), 1],
      constants: { NT: nt },
      work: work(m, g.lower ? Math.min(n, i0 + (m + 1) / 2) : n),
    });
  }
}

/** Work of sparsegpt_dead / its GPTQ use: the rows' columns of one H panel, tested against its diagonal. */
export function deadWork(rows: number, cols: number): Work {
  return { flops: rows * cols, bytes: 4 * (rows * cols + cols) };
}

/**
 * Work of the fused column loop (sparsegpt_block, gptq_block) over `rows` rows and a block of `count`
 * columns: each column's error updates the columns after it (rows * count^2 fma halves), the block of W
 * read and written, the scores/codes and errors, and the block of U.
 */
export function blockWork(rows: number, count: number): Work {
  return { flops: rows * count * (count + 8), bytes: 4 * (5 * rows * count + count * count) };
}

/** A (d, d) tensor or a row-panel matrix, as a row-panel matrix (no copy). */
function panelsOf(a: Tensor | PanelMatrix, d: number): PanelMatrix {
  return a instanceof Tensor ? asPanels(a, d) : a;
}

/** Panels q whose rows intersect [r0, d), with the intersection's first row. */
function* panelsFrom(m: PanelMatrix, r0: number): Generator<{ q: number; start: number; lo: number; hi: number }> {
  for (let q = panelOf(m, r0); q < m.panels.length && r0 < m.d; q++) {
    const start = panelStart(m, q);
    yield { q, start, lo: Math.max(r0, start), hi: start + panelRows(m, q) };
  }
}

/**
 * Columns per deferred update of the blocked factorizations: the rank-32 updates of a super-block of SB
 * columns reach the matrix beyond it as one product with K = SB, subtracted chunk by chunk (kChunk 32),
 * so every element receives the same subtractions in the same order as with SB = 32 (bitwise the same
 * factor; test/prune/sparsegpt.test.ts), in a quarter of the dispatches and workgroups (each output
 * tile stays in one workgroup across the chunks; C is still read and written once per chunk). The
 * inverse factor of a 2048-wide Hessian: 8.55 -> 7.07 s on SwiftShader, 1.44 s either way on lavapipe
 * (BENCHMARKS.md, eighth session).
 */
export const FACTOR_SB = 128;

/**
 * In place: the lower Cholesky factor L of the SPD matrix a (d, d) (only the lower triangle is read and
 * written). A non-positive or non-finite pivot lowers ctl[STATUS] to its index (checkCholeskyStatus).
 * Right-looking, per panel of 32 columns: factor the diagonal block, solve the panel below it, and
 * update the rest of the panel's super-block of `sb` columns; after each super-block, one update of the
 * trailing matrix with K = sb (in chunks of 32, see FACTOR_SB). Row panels (rowsPer a multiple of 32):
 * the same operations per element in the same order, split into one dispatch per panel (solve) and per
 * pair of panels (update), so the factor is bitwise the same.
 */
export function choleskyLower(gpu: Gpu, a: Tensor | PanelMatrix, d: number, ctl: Tensor, sb = FACTOR_SB): void {
  const m = panelsOf(a, d);
  if (m.panels.length > 1 && m.rowsPer % NB !== 0) throw new PolyPruneError('INTERNAL', `choleskyLower: ${m.rowsPer} rows per panel is not a multiple of ${NB}`);
  if (sb % NB !== 0) throw new PolyPruneError('INTERNAL', `choleskyLower: super-block ${sb} is not a multiple of ${NB}`);
  const lkk = gpu.tensor([NB * NB], 'f32', 'cholesky.lkk');
  for (let s0 = 0; s0 < d; s0 += sb) {
    const se = Math.min(s0 + sb, d);
    for (let k0 = s0; k0 < se; k0 += NB) {
      const nb = Math.min(NB, d - k0);
      const pk = panelOf(m, k0);
      gpu.dispatch('prune/cholesky_diag', [false, false, false], {
        params: [u32(d), u32(k0), u32(nb), u32(panelStart(m, pk))],
        bindings: [m.panels[pk], ctl, lkk],
        workgroups: [1, 1, 1],
        constants: { NB, WG: 256 },
        // one workgroup: nb^3 / 3 fmas on the block in workgroup memory (cannot be split)
        work: { flops: (2 * nb * nb * nb) / 3, bytes: 4 * 3 * nb * nb },
      });
      const t0 = k0 + nb;
      for (const { q, start, lo, hi } of panelsFrom(m, t0)) {
        gpu.dispatch('prune/cholesky_panel', [false, true], {
          params: [u32(d), u32(k0), u32(nb), u32(start), u32(lo), u32(hi)],
          bindings: [m.panels[q], lkk],
          workgroups: [Math.ceil((hi - lo) / PANEL_WG), 1, 1],
          constants: { NB, WG: PANEL_WG },
          // forward substitution of nb columns per row
          work: { flops: (hi - lo) * nb * nb, bytes: 4 * (2 * (hi - lo) * nb + nb * nb) },
        });
      }
      syrkLowerSub(gpu, m, t0, se, k0, t0, ctl);
    }
    syrkLowerSub(gpu, m, se, d, s0, se, ctl);
  }
  lkk.destroy();
}

/**
 * A[i, j] -= sum_{k0 <= k < k1} A[i, k] A[j, k] for rows i >= t and columns t <= j < c1, j <= i, in chunks
 * of 32 k: rows of panel q against columns of panel p <= q.
 */
function syrkLowerSub(gpu: Gpu, m: PanelMatrix, t: number, c1: number, k0: number, k1: number, ctl: Tensor): void {
  const d = m.d;
  if (t >= c1 || k1 <= k0) return;
  for (const r of panelsFrom(m, t)) {
    const M = r.hi - r.lo;
    for (const c of panelsFrom(m, t)) {
      const hi = Math.min(c.hi, c1);
      if (c.q > r.q || c.lo >= hi) break;
      const base = { M, N: hi - c.lo, K: k1 - k0, kChunk: NB, lda: d, ldb: d, ldc: d, aOff: (r.lo - r.start) * d + k0, bTrans: true };
      // the same panel: r.lo = c.lo = max(t, its first row), so the kernel's j <= i is the global one
      if (c.q === r.q) gemmSub(gpu, 'c', 'c', m.panels[r.q], { ...base, bOff: base.aOff, cOff: (r.lo - r.start) * d + r.lo, lower: true }, ctl);
      else gemmSub(gpu, 'c', m.panels[c.q], m.panels[r.q], { ...base, bOff: (c.lo - c.start) * d + k0, cOff: (r.lo - r.start) * d + c.lo });
    }
  }
}

/**
 * x <- L^-1 for a lower-triangular l (d, d); x must hold the identity on entry. The strict upper triangle
 * of x stays 0. Per block row of 32: the diagonal block's solve, then the rest of its super-block's rows;
 * after each super-block of `sb` rows (when its rows lie in one panel; else 32), the rows below it in one
 * update with K = sb in chunks of 32 (the extra terms multiply the zero upper triangle of x: bitwise the
 * same result). Row panels (same layout for l and x, rowsPer a multiple of 32): one update dispatch per
 * panel, bitwise the same result.
 */
export function triangularInverseLower(gpu: Gpu, l: Tensor | PanelMatrix, x: Tensor | PanelMatrix, d: number, sb = FACTOR_SB): void {
  const L = panelsOf(l, d);
  const X = panelsOf(x, d);
  if (L.rowsPer !== X.rowsPer || (L.panels.length > 1 && L.rowsPer % NB !== 0)) throw new PolyPruneError('INTERNAL', 'triangularInverseLower: l and x need the same panels of a multiple of 32 rows');
  if (sb % NB !== 0) throw new PolyPruneError('INTERNAL', `triangularInverseLower: super-block ${sb} is not a multiple of ${NB}`);
  // the deferred update reads the super-block's rows of x from one panel
  const SB = X.panels.length === 1 || X.rowsPer % sb === 0 ? sb : NB;
  // X[r0:r1, 0:t0] -= L[r0:r1, k0:t0] X[k0:t0, 0:t0] (rows k0..t0 of x in one panel), chunks of 32 k
  const update = (r0: number, r1: number, k0: number, t0: number): void => {
    const pk = panelOf(X, k0);
    const base = panelStart(X, pk);
    for (const { q, start, lo, hi } of panelsFrom(L, r0)) {
      if (lo >= r1) break;
      const g = { M: Math.min(hi, r1) - lo, N: t0, K: t0 - k0, kChunk: NB, lda: d, ldb: d, ldc: d, aOff: (lo - start) * d + k0, bOff: (k0 - base) * d, cOff: (lo - start) * d };
      gemmSub(gpu, L.panels[q], q === pk ? 'c' : X.panels[pk], X.panels[q], g);
    }
  };
  for (let s0 = 0; s0 < d; s0 += SB) {
    const se = Math.min(s0 + SB, d);
    for (let k0 = s0; k0 < se; k0 += NB) {
      const nb = Math.min(NB, d - k0);
      const pk = panelOf(L, k0);
      gpu.dispatch('prune/linalg_trinv_diag', [true, false], {
        params: [u32(d), u32(k0), u32(nb), u32(panelStart(L, pk))],
        bindings: [L.panels[pk], X.panels[pk]],
        workgroups: [Math.ceil((k0 + nb) / PANEL_WG), 1, 1],
        constants: { NB, WG: PANEL_WG },
        // forward substitution of nb rows per column, for k0 + nb columns
        work: { flops: (k0 + nb) * nb * nb, bytes: 4 * (2 * (k0 + nb) * nb + nb * nb) },
      });
      update(k0 + nb, se, k0, k0 + nb);
    }
    update(se, d, s0, se);
  }
}

/** Throws BAD_ARGUMENT when the Cholesky factorization recorded a failing pivot in ctl. */
export async function checkCholeskyStatus(gpu: Gpu, ctl: Tensor, what: string): Promise<void> {
  const s = (await gpu.read(ctl, CTL.STATUS, 1))[0] >>> 0;
  if (s !== STATUS_OK) {
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `${what}: the dampened Hessian is not positive definite (Cholesky pivot ${s} is not a finite positive number). ` +
        'The calibration activations contain NaN/Inf or are degenerate; check the calibration data, or raise percdamp (default 0.01).',
    );
  }
}

/**
 * U (d, d), the upper Cholesky factor of (dampened H)^-1 with dead columns handled as in SparseGPT.
 * Leaves ctl[DAMP] = damp. The caller destroys the result. Throws BAD_ARGUMENT if the dampened H is not
 * positive definite. A tensor H gives a tensor U; a row-panel H gives U in row panels of `rowsPer` rows
 * (a multiple of 32; default: as many as one binding holds), computed with the same arithmetic. `sb`:
 * the factorizations' super-block (FACTOR_SB; any multiple of 32 gives bitwise the same U).
 */
export async function inverseHessianFactor(gpu: Gpu, h: Tensor, d: number, percdamp: number, ctl: Tensor, what?: string, rowsPer?: undefined, sb?: number): Promise<Tensor>;
export async function inverseHessianFactor(gpu: Gpu, h: PanelMatrix, d: number, percdamp: number, ctl: Tensor, what?: string, rowsPer?: number): Promise<PanelMatrix>;
export async function inverseHessianFactor(gpu: Gpu, h: Tensor | PanelMatrix, d: number, percdamp: number, ctl: Tensor, what = 'SparseGPT', rowsPer?: number, sb = FACTOR_SB): Promise<Tensor | PanelMatrix> {
  const H = panelsOf(h, d);
  const rp = h instanceof Tensor ? d : (rowsPer ?? panelRowsFor(gpu, d, NB, `${what}: the Hessian's Cholesky factor`));
  const a = allocPanels(gpu, d, rp, 'sparsegpt.chol');
  let x: PanelMatrix | undefined;
  try {
    x = allocPanels(gpu, d, rp, 'sparsegpt.trinv');
    H.panels.forEach((t, p) => {
      const flags = (p === 0 ? 1 : 0) | (p === H.panels.length - 1 ? 2 : 0);
      gpu.dispatch('prune/linalg_damp', [true, false], { params: [u32(d), f32(percdamp), u32(panelStart(H, p)), u32(panelRows(H, p)), u32(flags)], bindings: [t, ctl], workgroups: [1, 1, 1], constants: { WG: 256 }, work: { flops: panelRows(H, p), bytes: 4 * (panelRows(H, p) + CTL.SIZE) } });
    });
    const tiles = Math.ceil(d / 16);
    // a = J H J + damp I (reversed order), x = I; then a = L, x = L^-1, a = U = J L^-1 J.
    forReversedPairs(H, a, (hp, ap) => {
      gpu.dispatch('prune/linalg_prep', [true, true, false, false], {
        params: [u32(d), u32(panelStart(H, hp)), u32(panelRows(H, hp)), u32(panelStart(a, ap)), u32(panelRows(a, ap))],
        bindings: [H.panels[hp], ctl, a.panels[ap], x!.panels[ap]],
        workgroups: [tiles, Math.ceil(panelRows(a, ap) / 16), 1],
        constants: { TILE: 16 },
        work: { flops: panelRows(a, ap) * d, bytes: 4 * 3 * panelRows(a, ap) * d },
      });
    });
    choleskyLower(gpu, a, d, ctl, sb);
    await checkCholeskyStatus(gpu, ctl, what);
    triangularInverseLower(gpu, a, x, d, sb);
    forReversedPairs(x, a, (xp, ap) => {
      gpu.dispatch('prune/linalg_reverse', [true, false], {
        params: [u32(d), u32(panelStart(x!, xp)), u32(panelRows(x!, xp)), u32(panelStart(a, ap)), u32(panelRows(a, ap))],
        bindings: [x!.panels[xp], a.panels[ap]],
        workgroups: [tiles, Math.ceil(panelRows(a, ap) / 16), 1],
        constants: { TILE: 16 },
        work: { flops: panelRows(a, ap) * d, bytes: 4 * 2 * panelRows(a, ap) * d },
      });
    });
  } catch (e) {
    destroyPanels(a);
    destroyPanels(x);
    throw e;
  }
  destroyPanels(x);
  return h instanceof Tensor ? a.panels[0] : a;
}

/** Calls f(sp, dp) for every source panel sp holding a row d-1-i for some row i of destination panel dp. */
function forReversedPairs(src: PanelMatrix, dst: PanelMatrix, f: (sp: number, dp: number) => void): void {
  const d = dst.d;
  for (let dp = 0; dp < dst.panels.length; dp++) {
    const lo = d - (panelStart(dst, dp) + panelRows(dst, dp));
    const hi = d - 1 - panelStart(dst, dp);
    for (let sp = panelOf(src, lo); sp <= panelOf(src, hi); sp++) f(sp, dp);
  }
}

/**
 * Records the radix select of the k-th smallest (0-based) of n u32 keys; the result lands in
 * ctl[CTL.PREFIX]. Bins ctl[HIST..] must be zero on entry (they are again on exit). 8 dispatches.
 */
export function selectKth(gpu: Gpu, keys: Tensor, n: number, k: number, ctl: Tensor): void {
  assertArg(k >= 0 && k < n, `selectKth: rank ${k} out of range for ${n} keys`);
  for (const shift of [24, 16, 8, 0]) {
    gpu.dispatch('prune/sparsegpt_hist', [true, false], { params: [u32(n), u32(shift)], bindings: [keys, ctl], workgroups: grid1d(n, 256 * 16), constants: { WG: 256, PER_THREAD: 16 }, work: { flops: 4 * n, bytes: 4 * n } });
    gpu.dispatch('prune/sparsegpt_select', [false], { params: [u32(k), u32(shift)], bindings: [ctl], workgroups: [1, 1, 1], work: { flops: 1024, bytes: 4 * CTL.SIZE } });
  }
}

function validate(W: ChunkedMatrix, H: PanelMatrix, opts: SparseGptOptions): { sparsity: number; nm?: { n: number; m: number }; blocksize: number; percdamp: number } {
  const sparsity = opts.sparsity ?? 0.5;
  const blocksize = opts.blocksize ?? 128;
  const percdamp = opts.percdamp ?? 0.01;
  const d = W.cols;
  const rowsSeen = H.panels.reduce((n, t) => n + (t.shape.length === 2 && t.shape[1] === H.d ? t.shape[0] : NaN), 0);
  assertArg(H.d === d && rowsSeen === d, `SparseGPT: Hessian shape [${H.panels.length > 1 ? `${rowsSeen} rows in ${H.panels.length} panels` : H.panels[0].shape}] does not match the weight's ${d} input columns; expected [${d}, ${d}].`);
  assertArg(H.panels.every((t) => t.dtype === 'f32'), `SparseGPT: the Hessian must be f32, got ${H.panels[0].dtype}.`);
  assertArg(Number.isInteger(blocksize) && blocksize >= 1, `SparseGPT: blocksize must be a positive integer, got ${blocksize}.`);
  assertArg(Number.isFinite(percdamp) && percdamp >= 0, `SparseGPT: percdamp must be a finite number >= 0, got ${percdamp}.`);
  if (opts.nm) {
    const { n, m } = opts.nm;
    assertArg(Number.isInteger(n) && Number.isInteger(m) && m >= 1 && m <= 32 && n >= 0 && n < m, `SparseGPT: N:M must keep n of m with 0 <= n < m <= 32 (e.g. { n: 2, m: 4 } for 2:4), got ${n}:${m}.`);
  } else {
    assertArg(Number.isFinite(sparsity) && sparsity >= 0 && sparsity < 1, `SparseGPT: sparsity must be in [0, 1), got ${sparsity}.`);
  }
  let covered = 0;
  for (const ch of W.chunks) {
    assertArg(ch.rowStart === covered && ch.rows > 0 && ch.tensor.numel >= ch.rows * d, `SparseGPT: weight chunks must tile the rows in order (chunk at row ${ch.rowStart}, ${ch.rows} rows).`);
    covered += ch.rows;
  }
  assertArg(covered === W.rows, `SparseGPT: weight chunks cover ${covered} of ${W.rows} rows.`);
  return { sparsity, nm: opts.nm, blocksize, percdamp };
}

/**
 * Prune W (rows, d) in place with SparseGPT, given its Hessian H (d, d) = (2/N) sum_j X_j^T X_j (f32).
 * Kept weights receive the OBS compensation, pruned ones are exactly 0. Returns the number of zeros in W.
 * H may be one (d, d) tensor or row panels (src/prune/panels.ts). When d * d * 4 bytes exceed one storage
 * binding (d > 5792 at the WebGPU default of 128 MiB), the Cholesky factor, the inverse and U are kept in
 * row panels of a multiple of lcm(32, blocksize) rows, each within one binding, and every kernel runs per
 * panel (or pair of panels) with the same arithmetic: masks and weights are bitwise those of the one-binding
 * path. rows * blocksize * 4 bytes must fit one binding - else GPU_LIMITS.
 */
export async function sparsegptPrune(gpu: Gpu, W: ChunkedMatrix, H: Tensor | PanelMatrix, opts: SparseGptOptions = {}): Promise<{ zeros: number; quantized?: GptqResult }> {
  const Hm = panelsOf(H, W.cols);
  const { sparsity, nm, blocksize, percdamp } = validate(W, Hm, opts);
  const d = W.cols;
  const rows = W.rows;
  const maxBind = gpu.info.limits.maxStorageBufferBindingSize;
  const bs = Math.min(blocksize, d);
  const rowsPer = panelRowsFor(gpu, d, lcm(NB, bs), `SparseGPT on a weight with ${d} input columns: the inverse Hessian factor`);
  if (rows * bs * 4 > maxBind) {
    throw new PolyPruneError('GPU_LIMITS', `SparseGPT: ${rows} rows x block ${bs} scratch (${fmtBytes(rows * bs * 4)}) exceeds maxStorageBufferBindingSize ${fmtBytes(maxBind)}; use a smaller blocksize.`);
  }
  // Rows per workgroup of the column loop: R rows x BS floats in workgroup memory.
  const wgBytes = gpu.info.limits.maxComputeWorkgroupStorageSize;
  const R = Math.min(16, Math.floor((wgBytes - 256) / (4 * (bs + 1))));
  if (R < 1) throw new PolyPruneError('GPU_LIMITS', `SparseGPT: blocksize ${blocksize} needs more than the ${wgBytes} bytes of workgroup memory this adapter offers; use blocksize 128.`);

  const bits = opts.quantize?.bits;
  if (bits !== undefined) validateGptqOptions({ bits });
  const maxq = bits === undefined ? 0 : 2 ** bits - 1;
  const ctl = controlBlock(gpu);
  // joint mode: per-row (scale, zero); otherwise a placeholder for the kernel's binding
  const qp = gpu.tensor([bits === undefined ? 1 : rows, 2], 'f32', 'sparsegpt.qparams');
  const scratch: Tensor[] = [qp];
  let U: PanelMatrix | undefined;
  try {
    U = await inverseHessianFactor(gpu, Hm, d, percdamp, ctl, 'SparseGPT', rowsPer);
    if (bits !== undefined) {
      // the quantizer's parameters from the whole W, before the dead columns are zeroed (as the reference)
      for (const ch of W.chunks) {
        gpu.dispatch('prune/gptq_params', [true, false], {
          params: [u32(ch.rows), u32(d), u32(d), u32(0), u32(1), u32(1), u32(ch.rowStart), f32(maxq)],
          bindings: [ch.tensor, qp],
          workgroups: foldGroups(Math.max(1, Math.ceil(ch.rows / 64))),
          work: { flops: 2 * ch.rows * d, bytes: 4 * ch.rows * d + 8 * ch.rows },
        });
      }
    }
    for (const ch of W.chunks) {
      Hm.panels.forEach((hp, p) => {
        gpu.dispatch('prune/sparsegpt_dead', [true, false], { params: [u32(ch.rows), u32(d), u32(panelStart(Hm, p)), u32(panelRows(Hm, p))], bindings: [hp, ch.tensor], workgroups: foldRows(Math.ceil(d / 64), ch.rows), work: deadWork(ch.rows, panelRows(Hm, p)) });
      });
    }
    const tmp = gpu.tensor([rows, bs], 'f32', 'sparsegpt.scores');
    const err = gpu.tensor([rows, bs], 'f32', 'sparsegpt.err');
    scratch.push(tmp, err);
    for (let i1 = 0; i1 < d; i1 += bs) {
      const i2 = Math.min(i1 + bs, d);
      const count = i2 - i1;
      // The block's rows of U lie in one panel (rowsPer is a multiple of bs).
      const pu = panelOf(U, i1);
      const uRow0 = panelStart(U, pu);
      const Up = U.panels[pu];
      if (!nm) {
        for (const ch of W.chunks) {
          gpu.dispatch('prune/sparsegpt_score', [true, true, false], {
            params: [u32(ch.rows), u32(d), u32(i1), u32(count), u32(ch.rowStart), u32(uRow0)],
            bindings: [Up, ch.tensor, tmp],
            workgroups: grid1d(ch.rows * count, 256),
            work: { flops: 3 * ch.rows * count, bytes: 4 * (2 * ch.rows * count + count) },
          });
        }
        // torch: thresh = sort(tmp.flatten())[int(tmp.numel() * sparsity)]
        selectKth(gpu, tmp, rows * count, Math.floor(rows * count * sparsity), ctl);
      }
      for (const ch of W.chunks) {
        // Rows are independent: over the submit budget, slices of rows (bitwise the same weights).
        forRowSlices(gpu, ch.rows, (m) => blockWork(m, count), (r0, m) =>
          gpu.dispatch('prune/sparsegpt_block', [true, true, true, false, false, true], {
            params: [u32(m), u32(d), u32(i1), u32(count), u32(ch.rowStart + r0), u32(nm ? 1 : 0), u32(nm?.m ?? 1), u32(nm ? nm.m - nm.n : 0), u32(uRow0), f32(maxq)],
            bindings: [Up, tmp, ctl, rowSlice(ch.tensor, r0, m, d), err, qp],
            workgroups: grid1dSlabs(Math.ceil(m / R)),
            constants: { R, BS: bs, WG: BLOCK_WG },
            work: blockWork(m, count),
          }),
        );
      }
      if (i2 < d) {
        for (const ch of W.chunks) {
          // W[:, i2:] -= Err1 @ U[i1:i2, i2:]
          gemmSub(gpu, err, Up, ch.tensor, { M: ch.rows, N: d - i2, K: count, lda: count, ldb: d, ldc: d, aOff: ch.rowStart * count, bOff: (i1 - uRow0) * d + i2, cOff: i2 });
        }
      }
    }
    for (const ch of W.chunks) {
      const n = ch.rows * d;
      gpu.dispatch('prune/sparsegpt_count', [true, false], { params: [u32(n)], bindings: [ch.tensor, ctl], workgroups: grid1d(n, 4096), work: { flops: n, bytes: 4 * n } });
    }
    const zeros = (await gpu.read(ctl, CTL.ZEROS, 1))[0];
    if (bits === undefined) return { zeros };
    // the integer codes, read back from the dequantized weights: q = scale * (code - zero) in f32, so
    // round(q / scale) + zero is the code exactly (|code - zero| < 256)
    const p = await gpu.readF32(qp);
    const out: GptqResult = { bits, groupSize: d, codes: new Uint8Array(rows * d), scales: new Float32Array(rows), zeros: new Float32Array(rows), gIdx: new Int32Array(d) };
    for (let r = 0; r < rows; r++) {
      out.scales[r] = p[2 * r];
      out.zeros[r] = p[2 * r + 1];
    }
    for (const ch of W.chunks) {
      const w = await gpu.readF32(ch.tensor);
      for (let r = 0; r < ch.rows; r++) {
        const row = ch.rowStart + r;
        for (let c = 0; c < d; c++) out.codes[row * d + c] = Math.round(w[r * d + c] / out.scales[row]) + out.zeros[row];
      }
    }
    return { zeros, quantized: out };
  } finally {
    destroyPanels(U);
    for (const t of scratch) t.destroy();
    ctl.destroy();
  }
}


function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return (a / x) * b;
}

/** `n` workgroups folded into (x, y); unlike foldGroups, zero stays zero (nothing to dispatch). */
function grid1dSlabs(n: number): [number, number] {
  return n === 0 ? [0, 1] : foldGroups(n);
}
