/**
 * GPTQ (Frantar, Ashkboos, Hoefler & Alistarh 2023; IST-DASLab/gptq `GPTQ.fasterquant` and quant.py
 * `Quantizer`): quantize a weight W (rows, d) to `bits`-bit integer codes with asymmetric min-max
 * parameters per row and group of columns, each column's rounding error spread over the columns not yet
 * quantized through U, the upper Cholesky factor of the dampened H^-1 (the same damped factor as
 * SparseGPT: src/prune/sparsegpt.ts `inverseHessianFactor`). W is replaced by the dequantized weights.
 *
 * Steps, as the reference orders them (tools/gptq-reference/gptq_ref.py restates them):
 *  1. per channel: the parameters of each row from the whole W (before the dead columns are zeroed);
 *  2. dead = diag(H) == 0: W[:, dead] = 0 (prune/sparsegpt_dead; H[dead, dead] = 1 in the factor);
 *  3. static groups: every group's parameters from W now, in the original column order;
 *  4. act-order (desc_act): W's columns and H permuted by diag(H) descending (on the CPU: one read of W
 *     and H, a stable sort);
 *  5. U = the upper Cholesky factor of (H + percdamp mean(diag H) I)^-1;
 *  6. per block of `blocksize` columns: the parameters of the (dynamic) groups starting in the block from
 *     W as it stands before the block (prune/gptq_params: the reference reads W, not the block copy
 *     W1), the fused column loop (prune/gptq_block), then W[:, i2:] -= Err1 @ U[block, i2:];
 *  7. act-order: the dequantized weights and codes back in the original column order.
 * A group size that does not divide d leaves a shorter last group, as the reference's slice does.
 */
import { PolyPruneError, assertArg } from '../common/errors';
import { GPTQ_BITS, validateGptqOptions, type GptqBits } from './methods/gptq';
export { GPTQ_BITS, validateGptqOptions, type GptqBits };
import { type Gpu, Tensor, u32, f32 } from '../gpu/device';
import { fmtBytes } from '../common/format';
import { type ChunkedMatrix, forRowSlices, rowSlice } from '../gpu/ops';
import { type PanelMatrix, asPanels, destroyPanels, panelOf, panelRows, panelRowsFor, panelStart, readPanels } from './panels';
import { blockWork, controlBlock, deadWork, gemmSub, inverseHessianFactor } from './sparsegpt';

/** The bit widths GPTQ quantizes to here. */

export interface GptqOptions {
  bits: number;
  /** Columns per group; -1 = per channel (one group of all d columns). Default 128. */
  groupSize?: number;
  /** Quantize the columns in order of decreasing diag(H) (desc_act). */
  actOrder?: boolean;
  /** All group parameters from the weights before any update (the reference's static_groups). */
  staticGroups?: boolean;
  blocksize?: number;
  percdamp?: number;
}

/** One matrix's quantization: codes (rows, d) in the original column order, parameters per row and group. */
export interface GptqResult {
  bits: number;
  /** The group size used (d for per channel). */
  groupSize: number;
  /** (rows, d) integer codes in [0, 2^bits). */
  codes: Uint8Array;
  /** (rows, groups) */
  scales: Float32Array;
  /** (rows, groups) */
  zeros: Float32Array;
  /** (d) the group of every original column (HF GPTQ's g_idx). */
  gIdx: Int32Array;
}

const NB = 32;
const BLOCK_WG = 128;


/** (x, y) grid of ceil(n / 64) workgroups, x <= 65535. */
function grid64(n: number): [number, number, number] {
  const g = Math.max(1, Math.ceil(n / 64));
  return g <= 65535 ? [g, 1, 1] : [65535, Math.ceil(g / 65535), 1];
}

/**
 * Quantize W (rows, d) in place with GPTQ from its Hessian H (d, d) = (2/N) sum_j X_j^T X_j (f32): W holds
 * the dequantized weights afterwards. H is left as the factorization leaves it (the caller copies it
 * when it is read again). Returns the codes and parameters.
 */
export async function gptqQuantize(gpu: Gpu, W: ChunkedMatrix, H: Tensor | PanelMatrix, opts: GptqOptions): Promise<GptqResult> {
  validateGptqOptions(opts);
  const d = W.cols;
  const rows = W.rows;
  const Hm = H instanceof Tensor ? asPanels(H, d) : H;
  assertArg(Hm.d === d, `GPTQ: the Hessian is ${Hm.d} x ${Hm.d}, the weight has ${d} input columns.`);
  const bits = opts.bits;
  const maxq = 2 ** bits - 1;
  const perChannel = opts.groupSize === -1;
  const gs = perChannel ? d : (opts.groupSize ?? 128);
  const groups = Math.ceil(d / gs);
  const staticGroups = !!opts.staticGroups && !perChannel;
  const actOrder = !!opts.actOrder;
  const blocksize = opts.blocksize ?? 128;
  const percdamp = opts.percdamp ?? 0.01;
  const bs = Math.min(blocksize, d);
  const maxBind = gpu.info.limits.maxStorageBufferBindingSize;
  if (rows * d * 4 > maxBind) throw new PolyPruneError('GPU_LIMITS', `GPTQ: the codes of a ${rows} x ${d} matrix (${fmtBytes(rows * d * 4)}) exceed one storage binding (${fmtBytes(maxBind)}).`);
  const wgBytes = gpu.info.limits.maxComputeWorkgroupStorageSize;
  const R = Math.min(16, Math.floor((wgBytes - 256) / (4 * (bs + 1))));
  if (R < 1) throw new PolyPruneError('GPU_LIMITS', `GPTQ: blocksize ${blocksize} needs more workgroup memory than this adapter's ${wgBytes} bytes; use blocksize 128.`);
  const rowsPer = panelRowsFor(gpu, d, lcm(NB, bs), `GPTQ on a weight with ${d} input columns: the inverse Hessian factor`);

  const params = (gFirst: number, gCount: number): void => {
    for (const ch of W.chunks) {
      gpu.dispatch('prune/gptq_params', [true, false], {
        params: [u32(ch.rows), u32(d), u32(gs), u32(gFirst), u32(gCount), u32(groups), u32(ch.rowStart), f32(maxq)],
        bindings: [ch.tensor, qp],
        workgroups: grid64(ch.rows * gCount),
        // min and max over each group's columns of each row
        work: { flops: 2 * ch.rows * Math.min(gCount * gs, d), bytes: 4 * ch.rows * Math.min(gCount * gs, d) + 8 * ch.rows * gCount },
      });
    }
  };
  const ctl = controlBlock(gpu);
  const qp = gpu.tensor([rows, groups, 2], 'f32', 'gptq.params');
  const codes = gpu.tensor([rows, d], 'u32', 'gptq.codes');
  const scratch: Tensor[] = [ctl, qp, codes];
  let U: PanelMatrix | undefined;
  let Hp: PanelMatrix | undefined;
  try {
    if (perChannel) params(0, 1);
    for (const ch of W.chunks) {
      Hm.panels.forEach((hp, p) => {
        gpu.dispatch('prune/sparsegpt_dead', [true, false], { params: [u32(ch.rows), u32(d), u32(panelStart(Hm, p)), u32(panelRows(Hm, p))], bindings: [hp, ch.tensor], workgroups: foldRows(Math.ceil(d / 64), ch.rows), work: deadWork(ch.rows, panelRows(Hm, p)) });
      });
    }
    if (staticGroups) params(0, groups);
    // gidx: the group of each (permuted) column
    let perm: Int32Array | null = null;
    const gidx = new Uint32Array(d);
    if (actOrder) {
      if (rowsPer < d) throw new PolyPruneError('GPU_LIMITS', `GPTQ act-order permutes the Hessian of ${d} columns in one storage binding, which this adapter does not hold (${fmtBytes(maxBind)}); quantize without --act-order.`);
      const h = await readPanels(gpu, Hm);
      const diag = Array.from({ length: d }, (_, j) => (h[j * d + j] === 0 ? 1 : h[j * d + j]));
      perm = Int32Array.from(Array.from({ length: d }, (_, j) => j).sort((a, b) => diag[b] - diag[a] || a - b));
      const hpData = new Float32Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) hpData[i * d + j] = h[perm[i] * d + perm[j]];
      const t = gpu.upload(hpData, [d, d], 'gptq.H.perm');
      Hp = asPanels(t, d);
      for (const ch of W.chunks) {
        const w = await gpu.readF32(ch.tensor);
        const out = new Float32Array(ch.rows * d);
        for (let r = 0; r < ch.rows; r++) for (let c = 0; c < d; c++) out[r * d + c] = w[r * d + perm[c]];
        gpu.write(ch.tensor, out);
      }
    }
    for (let c = 0; c < d; c++) gidx[c] = perChannel ? 0 : Math.floor((staticGroups && perm ? perm[c] : c) / gs);
    const gidxT = gpu.upload(gidx, [d], 'gptq.gidx');
    scratch.push(gidxT);
    U = await inverseHessianFactor(gpu, Hp ?? Hm, d, percdamp, ctl, 'GPTQ', rowsPer);
    const Ups = U;
    const err = gpu.tensor([rows, bs], 'f32', 'gptq.err');
    scratch.push(err);
    for (let i1 = 0; i1 < d; i1 += bs) {
      const i2 = Math.min(i1 + bs, d);
      const count = i2 - i1;
      if (!perChannel && !staticGroups) {
        const gFirst = Math.ceil(i1 / gs);
        const gEnd = Math.ceil(i2 / gs);
        if (gEnd > gFirst) params(gFirst, gEnd - gFirst);
      }
      const pu = panelOf(Ups, i1);
      const uRow0 = panelStart(Ups, pu);
      const Up = Ups.panels[pu];
      for (const ch of W.chunks) {
        // Rows are independent: over the submit budget, slices of rows (bitwise the same codes and weights).
        forRowSlices(gpu, ch.rows, (m) => blockWork(m, count), (r0, m) =>
          gpu.dispatch('prune/gptq_block', [true, true, true, false, false, false], {
            params: [u32(m), u32(d), u32(i1), u32(count), u32(ch.rowStart + r0), u32(groups), u32(uRow0), f32(maxq)],
            bindings: [Up, gidxT, qp, rowSlice(ch.tensor, r0, m, d), codes, err],
            workgroups: grid1dSlabs(Math.ceil(m / R)),
            constants: { R, BS: bs, WG: BLOCK_WG },
            work: blockWork(m, count),
          }),
        );
      }
      if (i2 < d) {
        for (const ch of W.chunks) {
          gemmSub(gpu, err, Up, ch.tensor, { M: ch.rows, N: d - i2, K: count, lda: count, ldb: d, ldc: d, aOff: ch.rowStart * count, bOff: (i1 - uRow0) * d + i2, cOff: i2 });
        }
      }
    }
    const rawCodes = await gpu.read(codes);
    const p = await gpu.readF32(qp);
    const out: GptqResult = { bits, groupSize: gs, codes: new Uint8Array(rows * d), scales: new Float32Array(rows * groups), zeros: new Float32Array(rows * groups), gIdx: new Int32Array(d) };
    for (let k = 0; k < rows * groups; k++) {
      out.scales[k] = p[2 * k];
      out.zeros[k] = p[2 * k + 1];
    }
    const col = (c: number): number => (perm ? perm[c] : c); // permuted column c holds original column col(c)
    for (let c = 0; c < d; c++) out.gIdx[col(c)] = gidx[c];
    for (let r = 0; r < rows; r++) for (let c = 0; c < d; c++) out.codes[r * d + col(c)] = rawCodes[r * d + c];
    if (perm) {
      for (const ch of W.chunks) {
        const w = await gpu.readF32(ch.tensor);
        const back = new Float32Array(ch.rows * d);
        for (let r = 0; r < ch.rows; r++) for (let c = 0; c < d; c++) back[r * d + perm[c]] = w[r * d + c];
        gpu.write(ch.tensor, back);
      }
    }
    return out;
  } finally {
    destroyPanels(U);
    destroyPanels(Hp);
    for (const t of scratch) t.destroy();
  }
}

function foldRows(x: number, rows: number): [number, number, number] {
  if (rows <= 65535) return [x, Math.max(rows, 1), 1];
  return [x, 65535, Math.ceil(rows / 65535)];
}

function grid1dSlabs(n: number): [number, number] {
  return n <= 65535 ? [n, 1] : [65535, Math.ceil(n / 65535)];
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return (a / x) * b;
}
