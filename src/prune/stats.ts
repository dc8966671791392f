/**
 * Calibration statistics accumulators in the reference repos' shape (`addBatch` / `free`):
 * - {@link WandaAccumulator}: wanda `WrappedGPT.scaler_row`, the per-input-feature mean over windows of
 *   the squared L2 norm of the feature's activations: scaler[c] = (1/N) sum_j sum_t x[j,t,c]^2.
 * - {@link HessianAccumulator}: SparseGPT's `H = (2/N) sum_j X_j^T X_j` ([K, K], fp32).
 *
 * Both reproduce the reference's per-window running update (`*= n/(n+1); n += 1; += ... / n`) on the
 * GPU, with the per-window factors rounded to f32 exactly as torch does (Python float -> f32 scalar).
 * N counts windows (sequences), not tokens.
 */
import { PolyPruneError } from '../common/errors';
import type { Gpu, Tensor } from '../gpu/device';
import { wandaStats, hessianUpdate } from '../gpu/prune';
import { type PanelMatrix, allocPanels, destroyPanels, panelRows, panelRowsFor, panelStart, zeroPanels } from './panels';

function checkBatch(what: string, cols: number, x: Tensor, rows: number, windows: number, rowOffset: number): void {
  if (!Number.isInteger(windows) || windows <= 0 || rows % windows !== 0) {
    throw new PolyPruneError('INTERNAL', `${what}.addBatch: ${rows} rows are not ${windows} windows of equal length`);
  }
  if ((rowOffset + rows) * cols > x.numel) throw new PolyPruneError('INTERNAL', `${what}.addBatch: rows ${rowOffset}..${rowOffset + rows} x ${cols} but the tensor holds ${x.numel} values`);
}

/** Wanda's activation statistic for one linear layer with `cols` inputs. */
export class WandaAccumulator {
  /** scaler_row (K): running mean over windows of sum_t x[t, c]^2. */
  readonly scaler: Tensor;
  /** Windows seen so far. */
  nsamples = 0;

  constructor(
    private readonly gpu: Gpu,
    readonly cols: number,
  ) {
    this.scaler = gpu.tensor([cols], 'f32', 'wanda.scaler_row');
    gpu.write(this.scaler, new Float32Array(cols));
  }

  /**
   * Add `windows` windows of equal length (rows / windows tokens each) whose activations are rows
   * rowOffset .. rowOffset + rows of x (.., cols), in window order.
   */
  addBatch(x: Tensor, rows: number, windows: number, rowOffset = 0): void {
    checkBatch('WandaAccumulator', this.cols, x, rows, windows, rowOffset);
    const coef = new Float32Array(2 * windows);
    for (let j = 0; j < windows; j++) {
      const n = this.nsamples + j;
      coef[2 * j] = n / (n + 1);
      coef[2 * j + 1] = n + 1;
    }
    const tc = this.gpu.upload(coef, [2 * windows], 'wanda.coef');
    wandaStats(this.gpu, x, tc, this.scaler, this.cols, windows, rows / windows, rowOffset);
    tc.destroy();
    this.nsamples += windows;
  }

  free(): void {
    this.scaler.destroy();
  }
}

/**
 * SparseGPT's Hessian H = (2/N) sum_j X_j^T X_j for one linear layer with `cols` inputs. H is one
 * (K, K) tensor when it fits one storage binding, else row panels that each fit one (bitwise the same
 * values; src/prune/panels.ts).
 */
export class HessianAccumulator {
  /** H (K, K), symmetric, in row panels. */
  readonly matrix: PanelMatrix;
  /** Windows seen so far. */
  nsamples = 0;

  constructor(
    private readonly gpu: Gpu,
    readonly cols: number,
  ) {
    this.matrix = allocPanels(gpu, cols, panelRowsFor(gpu, cols, 1, 'SparseGPT: the Hessian'), 'sparsegpt.H');
    zeroPanels(gpu, this.matrix);
  }

  /** H as one (K, K) tensor; only when it fits one binding (see `matrix`). */
  get H(): Tensor {
    if (this.matrix.panels.length !== 1) throw new PolyPruneError('INTERNAL', `The ${this.cols}x${this.cols} Hessian is split into ${this.matrix.panels.length} panels; use .matrix`);
    return this.matrix.panels[0];
  }

  /**
   * Add `windows` windows of equal length (rows / windows tokens each) whose activations are rows
   * rowOffset .. rowOffset + rows of x (.., cols), in window order.
   */
  addBatch(x: Tensor, rows: number, windows: number, rowOffset = 0): void {
    checkBatch('HessianAccumulator', this.cols, x, rows, windows, rowOffset);
    const coef = new Float32Array(2 * windows);
    for (let j = 0; j < windows; j++) {
      const n = this.nsamples + j;
      coef[2 * j] = n / (n + 1);
      coef[2 * j + 1] = Math.sqrt(2 / (n + 1));
    }
    const tc = this.gpu.upload(coef, [2 * windows], 'hessian.coef');
    const m = this.matrix;
    if (m.panels.length === 1) hessianUpdate(this.gpu, x, tc, m.panels[0], this.cols, windows, rows / windows, rowOffset);
    else m.panels.forEach((t, p) => hessianUpdate(this.gpu, x, tc, t, this.cols, windows, rows / windows, rowOffset, { hRow0: panelStart(m, p), hRows: panelRows(m, p) }));
    tc.destroy();
    this.nsamples += windows;
  }

  free(): void {
    destroyPanels(this.matrix);
  }
}

// ---------------------------------------------------------------------------------------------
// Plain-TS references (tests)

/** CPU reference of the Wanda statistic, mirroring the reference's fp32 running update. */
export function refWandaScaler(x: Float32Array, windows: number, S: number, K: number): Float32Array {
  const out = new Float32Array(K);
  for (let j = 0; j < windows; j++) {
    const f = Math.fround(j / (j + 1));
    for (let c = 0; c < K; c++) {
      let s = 0;
      for (let t = 0; t < S; t++) {
        const v = Math.fround(x[(j * S + t) * K + c] * x[(j * S + t) * K + c]);
        s += v;
      }
      const norm = Math.fround(Math.sqrt(Math.fround(s)));
      out[c] = Math.fround(Math.fround(out[c] * f) + Math.fround(Math.fround(norm * norm) / (j + 1)));
    }
  }
  return out;
}

/** CPU reference of the SparseGPT Hessian (float64 sums, fp32 running update). */
export function refHessian(x: Float32Array, windows: number, S: number, K: number): Float32Array {
  const H = new Float32Array(K * K);
  for (let j = 0; j < windows; j++) {
    const f = Math.fround(j / (j + 1));
    const a = Math.fround(Math.sqrt(2 / (j + 1)));
    for (let p = 0; p < K; p++) {
      for (let q = 0; q < K; q++) {
        let s = 0;
        for (let t = 0; t < S; t++) {
          const r = (j * S + t) * K;
          s += Math.fround(a * x[r + p]) * Math.fround(a * x[r + q]);
        }
        H[p * K + q] = Math.fround(Math.fround(H[p * K + q] * f) + Math.fround(s));
      }
    }
  }
  return H;
}
