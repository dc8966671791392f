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
 *     row: prune/linalg_trinv_diag, prune/linalg_gemm), then prune/linalg_reverse.
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
import { type Gpu, type Tensor, u32, f32, fmtBytes } from '../gpu/device';
import { type ChunkedMatrix, grid1d } from '../gpu/ops';

/** SparseGPT options; defaults as in the reference (blocksize 128, percdamp 0.01, sparsity 0.5). */
export interface SparseGptOptions {
  /** Unstructured ratio r in [0, 1): each block prunes the floor(numel * r) + 1 smallest scores (ties: more). */
  sparsity?: number;
  /** N:M: keep n of every m consecutive input weights per row (2:4 -> { n: 2, m: 4 }); overrides sparsity. */
  nm?: { n: number; m: number };
  blocksize?: number;
  percdamp?: number;
}

/** Control block layout (u32 words), shared by the prune/ kernels. */
export const CTL = { STATUS: 0, DAMP: 1, ZEROS: 2, PREFIX: 4, K: 5, HIST: 16, SIZE: 272 } as const;
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
 * operand or `spare`, any read-only tensor.
 */
export function gemmSub(
  gpu: Gpu,
  a: Tensor | 'c',
  b: Tensor | 'c',
  c: Tensor,
  g: { M: number; N: number; K: number; lda: number; ldb: number; ldc: number; aOff: number; bOff: number; cOff: number; bTrans?: boolean; lower?: boolean },
  spare?: Tensor,
): void {
  if (g.M === 0 || g.N === 0 || g.K === 0) return;
  const flags = (g.bTrans ? 1 : 0) | (a === 'c' ? 2 : 0) | (b === 'c' ? 4 : 0) | (g.lower ? 8 : 0);
  const aT = a !== 'c' ? a : b !== 'c' ? b : spare;
  const bT = b !== 'c' ? b : aT;
  if (!aT || !bT) throw new PolyPruneError('INTERNAL', 'gemmSub: both operands read from C; pass a spare tensor for the bindings');
  gpu.dispatch('prune/linalg_gemm', [true, true, false], {
    params: [u32(g.M), u32(g.N), u32(g.K), u32(g.lda), u32(g.ldb), u32(g.ldc), u32(g.aOff), u32(g.bOff), u32(g.cOff), u32(flags)],
    bindings: [aT, bT, c],
    workgroups: [Math.ceil(g.N / 64), Math.ceil(g.M / 64), 1],
  });
}

/**
 * In place: the lower Cholesky factor L of the SPD matrix a (d, d) (only the lower triangle is read and
 * written). A non-positive or non-finite pivot lowers ctl[STATUS] to its index (checkCholeskyStatus).
 * 3 ceil(d / 32) - 2 dispatches (factor the diagonal block, solve the panel, update the trailing matrix).
 */
export function choleskyLower(gpu: Gpu, a: Tensor, d: number, ctl: Tensor): void {
  for (let k0 = 0; k0 < d; k0 += NB) {
    const nb = Math.min(NB, d - k0);
    const rest = d - k0 - nb;
    gpu.dispatch('prune/cholesky_diag', [false, false], { params: [u32(d), u32(k0), u32(nb)], bindings: [a, ctl], workgroups: [1, 1, 1], constants: { NB, WG: 256 } });
    if (rest > 0) {
      gpu.dispatch('prune/cholesky_panel', [false], {
        params: [u32(d), u32(k0), u32(nb)],
        bindings: [a],
        workgroups: [Math.ceil(rest / PANEL_WG), 1, 1],
        constants: { NB, WG: PANEL_WG },
      });
    }
    const t0 = k0 + nb;
    gemmSub(gpu, 'c', 'c', a, { M: rest, N: rest, K: nb, lda: d, ldb: d, ldc: d, aOff: t0 * d + k0, bOff: t0 * d + k0, cOff: t0 * d + t0, bTrans: true, lower: true }, ctl);
  }
}

/**
 * x <- L^-1 for a lower-triangular l (d, d); x must hold the identity on entry. The strict upper triangle
 * of x stays 0. 2 ceil(d / 32) - 1 dispatches.
 */
export function triangularInverseLower(gpu: Gpu, l: Tensor, x: Tensor, d: number): void {
  for (let k0 = 0; k0 < d; k0 += NB) {
    const nb = Math.min(NB, d - k0);
    gpu.dispatch('prune/linalg_trinv_diag', [true, false], {
      params: [u32(d), u32(k0), u32(nb)],
      bindings: [l, x],
      workgroups: [Math.ceil((k0 + nb) / PANEL_WG), 1, 1],
      constants: { NB, WG: PANEL_WG },
    });
    const t0 = k0 + nb;
    // X[t0:, 0:t0] -= L[t0:, k0:t0] X[k0:t0, 0:t0]
    gemmSub(gpu, l, 'c', x, { M: d - t0, N: t0, K: nb, lda: d, ldb: d, ldc: d, aOff: t0 * d + k0, bOff: k0 * d, cOff: t0 * d });
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
 * Leaves ctl[DAMP] = damp. The caller destroys the returned tensor. Throws BAD_ARGUMENT if the dampened H
 * is not positive definite.
 */
export async function inverseHessianFactor(gpu: Gpu, h: Tensor, d: number, percdamp: number, ctl: Tensor, what = 'SparseGPT'): Promise<Tensor> {
  const a = gpu.tensor([d, d], 'f32', 'sparsegpt.chol');
  const x = gpu.tensor([d, d], 'f32', 'sparsegpt.trinv');
  try {
    gpu.dispatch('prune/linalg_damp', [true, false], { params: [u32(d), f32(percdamp)], bindings: [h, ctl], workgroups: [1, 1, 1], constants: { WG: 256 } });
    const tiles = Math.ceil(d / 16);
    gpu.dispatch('prune/linalg_prep', [true, true, false, false], { params: [u32(d)], bindings: [h, ctl, a, x], workgroups: [tiles, tiles, 1], constants: { TILE: 16 } });
    choleskyLower(gpu, a, d, ctl);
    await checkCholeskyStatus(gpu, ctl, what);
    triangularInverseLower(gpu, a, x, d);
    gpu.dispatch('prune/linalg_reverse', [true, false], { params: [u32(d)], bindings: [x, a], workgroups: [tiles, tiles, 1], constants: { TILE: 16 } });
  } catch (e) {
    a.destroy();
    x.destroy();
    throw e;
  }
  x.destroy();
  return a;
}

/**
 * Records the radix select of the k-th smallest (0-based) of n u32 keys; the result lands in
 * ctl[CTL.PREFIX]. Bins ctl[HIST..] must be zero on entry (they are again on exit). 8 dispatches.
 */
export function selectKth(gpu: Gpu, keys: Tensor, n: number, k: number, ctl: Tensor): void {
  assertArg(k >= 0 && k < n, `selectKth: rank ${k} out of range for ${n} keys`);
  for (const shift of [24, 16, 8, 0]) {
    gpu.dispatch('prune/sparsegpt_hist', [true, false], { params: [u32(n), u32(shift)], bindings: [keys, ctl], workgroups: grid1d(n, 256 * 16), constants: { WG: 256, PER_THREAD: 16 } });
    gpu.dispatch('prune/sparsegpt_select', [false], { params: [u32(k), u32(shift)], bindings: [ctl], workgroups: [1, 1, 1] });
  }
}

function validate(W: ChunkedMatrix, H: Tensor, opts: SparseGptOptions): { sparsity: number; nm?: { n: number; m: number }; blocksize: number; percdamp: number } {
  const sparsity = opts.sparsity ?? 0.5;
  const blocksize = opts.blocksize ?? 128;
  const percdamp = opts.percdamp ?? 0.01;
  const d = W.cols;
  assertArg(H.shape.length === 2 && H.shape[0] === d && H.shape[1] === d, `SparseGPT: Hessian shape [${H.shape}] does not match the weight's ${d} input columns; expected [${d}, ${d}].`);
  assertArg(H.dtype === 'f32', `SparseGPT: the Hessian must be f32, got ${H.dtype}.`);
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
 * Limits: d * d * 4 bytes and rows * blocksize * 4 bytes must each fit one storage binding
 * (maxStorageBufferBindingSize; d <= 5792 at the WebGPU default of 128 MiB) - else GPU_LIMITS.
 */
export async function sparsegptPrune(gpu: Gpu, W: ChunkedMatrix, H: Tensor, opts: SparseGptOptions = {}): Promise<{ zeros: number }> {
  const { sparsity, nm, blocksize, percdamp } = validate(W, H, opts);
  const d = W.cols;
  const rows = W.rows;
  const maxBind = gpu.info.limits.maxStorageBufferBindingSize;
  if (d * d * 4 > maxBind) {
    throw new PolyPruneError(
      'GPU_LIMITS',
      `SparseGPT on a weight with ${d} input columns needs ${fmtBytes(d * d * 4)} matrices (Hessian and its inverse factor) in one storage binding, but this adapter allows ${fmtBytes(maxBind)} (maxStorageBufferBindingSize). Use Wanda or magnitude pruning for this model, or a GPU with larger binding limits.`,
    );
  }
  const bs = Math.min(blocksize, d);
  if (rows * bs * 4 > maxBind) {
    throw new PolyPruneError('GPU_LIMITS', `SparseGPT: ${rows} rows x block ${bs} scratch (${fmtBytes(rows * bs * 4)}) exceeds maxStorageBufferBindingSize ${fmtBytes(maxBind)}; use a smaller blocksize.`);
  }
  // Rows per workgroup of the column loop: R rows x BS floats in workgroup memory.
  const wgBytes = gpu.info.limits.maxComputeWorkgroupStorageSize;
  const R = Math.min(16, Math.floor((wgBytes - 256) / (4 * (bs + 1))));
  if (R < 1) throw new PolyPruneError('GPU_LIMITS', `SparseGPT: blocksize ${blocksize} needs more than the ${wgBytes} bytes of workgroup memory this adapter offers; use blocksize 128.`);

  const ctl = controlBlock(gpu);
  const scratch: Tensor[] = [];
  let U: Tensor | undefined;
  try {
    U = await inverseHessianFactor(gpu, H, d, percdamp, ctl);
    for (const ch of W.chunks) {
      gpu.dispatch('prune/sparsegpt_dead', [true, false], { params: [u32(ch.rows), u32(d)], bindings: [H, ch.tensor], workgroups: foldRows(Math.ceil(d / 64), ch.rows) });
    }
    const tmp = gpu.tensor([rows, bs], 'f32', 'sparsegpt.scores');
    const err = gpu.tensor([rows, bs], 'f32', 'sparsegpt.err');
    scratch.push(tmp, err);
    for (let i1 = 0; i1 < d; i1 += bs) {
      const i2 = Math.min(i1 + bs, d);
      const count = i2 - i1;
      if (!nm) {
        for (const ch of W.chunks) {
          gpu.dispatch('prune/sparsegpt_score', [true, true, false], {
            params: [u32(ch.rows), u32(d), u32(i1), u32(count), u32(ch.rowStart)],
            bindings: [U, ch.tensor, tmp],
            workgroups: grid1d(ch.rows * count, 256),
          });
        }
        // torch: thresh = sort(tmp.flatten())[int(tmp.numel() * sparsity)]
        selectKth(gpu, tmp, rows * count, Math.floor(rows * count * sparsity), ctl);
      }
      for (const ch of W.chunks) {
        gpu.dispatch('prune/sparsegpt_block', [true, true, true, false, false], {
          params: [u32(ch.rows), u32(d), u32(i1), u32(count), u32(ch.rowStart), u32(nm ? 1 : 0), u32(nm?.m ?? 1), u32(nm ? nm.m - nm.n : 0)],
          bindings: [U, tmp, ctl, ch.tensor, err],
          workgroups: grid1dSlabs(Math.ceil(ch.rows / R)),
          constants: { R, BS: bs, WG: BLOCK_WG },
        });
      }
      if (i2 < d) {
        for (const ch of W.chunks) {
          // W[:, i2:] -= Err1 @ U[i1:i2, i2:]
          gemmSub(gpu, err, U, ch.tensor, { M: ch.rows, N: d - i2, K: count, lda: count, ldb: d, ldc: d, aOff: ch.rowStart * count, bOff: i1 * d + i2, cOff: i2 });
        }
      }
    }
    for (const ch of W.chunks) {
      const n = ch.rows * d;
      gpu.dispatch('prune/sparsegpt_count', [true, false], { params: [u32(n)], bindings: [ch.tensor, ctl], workgroups: grid1d(n, 4096) });
    }
    const zeros = (await gpu.read(ctl, CTL.ZEROS, 1))[0];
    return { zeros };
  } finally {
    U?.destroy();
    for (const t of scratch) t.destroy();
    ctl.destroy();
  }
}

/** (x, y, z) grid with x columns and `rows` folded into y + z * 65535. */
function foldRows(x: number, rows: number): [number, number, number] {
  if (rows <= 65535) return [x, Math.max(rows, 1), 1];
  return [x, 65535, Math.ceil(rows / 65535)];
}

function grid1dSlabs(n: number): [number, number] {
  return n <= 65535 ? [n, 1] : [65535, Math.ceil(n / 65535)];
}
