/**
 * Layer-by-layer pruning of a whole model, in the reference's sequential shape (wanda `prune_wanda`,
 * `prune_sparsegpt`; magnitude `prune_magnitude` is neither calibrated nor sequential):
 *
 *   X = embeddings of the calibration windows (kept on the GPU as chunks of whole windows)
 *   for each decoder layer i:
 *     1. one DENSE forward of layer i over X, capturing the inputs of all 7 linears into statistics
 *        (Wanda scaler_row or SparseGPT Hessian; q/k/v and gate/up share one accumulator as they
 *        share one input);
 *     2. prune the 7 matrices, each from its own statistic;
 *     3. X = layer_i_PRUNED(X): the next layer sees the outputs of the pruned layer.
 *
 * Only layer i's weights, its statistics and the activations are on the GPU at a time when the model
 * streams its layers (`LlamaModel.releaseLayer`). A resident model keeps the pruned weights; a
 * streamed one hands them out through `onMatrixPruned` (export) only.
 *
 * Cancellation (AbortSignal) or any error restores the layers already modified from the checkpoint
 * (so the model is dense again, a consistent state), frees everything, and throws.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import type { Tensor } from '../gpu/device';
import { countZeros, reconstructionError } from '../gpu/prune';
import { checkTokenIds } from '../io/tokenizer';
import { FiniteCheck, describeIndex, type NonFinite } from '../gpu/finite';
import { type LlamaModel, type LinearName, LINEAR_NAMES, linearShape } from '../model/llama';
import { type NM, type PruneMethod, parsePruneMethod, resolvePattern, validatePruneOptions } from './method';
import { WandaAccumulator, HessianAccumulator } from './stats';
import { wandaPrune } from './wanda';
import { magnitudePrune } from './magnitude';
import { sparsegptPrune } from './sparsegpt';
import { copyPanels, destroyPanels, panelRows, panelStart } from './panels';

/** Calibration windows: n windows of seqlen token ids, row-major (n * seqlen), no BOS added. */
export interface CalibrationBatch {
  readonly ids: Int32Array;
  readonly n: number;
  readonly seqlen: number;
  /** Where the windows came from (a file name), for messages. */
  readonly name?: string;
}

export interface PruneModelOptions {
  method: PruneMethod;
  /** Fraction pruned in (0, 1); implied by `nm` for N:M. */
  sparsity?: number;
  /** N:M: keep n of every m consecutive input weights of each row (2:4 keeps 2 of 4). */
  nm?: NM;
  /** SparseGPT column block size (default 128). */
  blocksize?: number;
  /** SparseGPT dampening as a fraction of mean(diag(H)) (default 0.01). */
  percdamp?: number;
  /** Most tokens per forward chunk (default min(4096, model.maxChunkTokens()), whole windows per chunk). */
  maxChunkTokens?: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Called once per matrix, right after it was pruned, with its pruned weights (N, K) (a copy). */
  onMatrixPruned?: (layer: number, name: LinearName, weight: Float32Array) => void | Promise<void>;
  /**
   * Measure each matrix's relative reconstruction error ||WX - W'X||^2 / ||WX||^2 on its calibration
   * inputs X (the dense layer's inputs in the sequential run), via the Gram matrix of X (calibrated
   * methods only; reported in MatrixReport.reconError and `layerDone` events).
   */
  reconstructionError?: boolean;
  /** Wanda only: the in-run statistic scaler_row (K) of each linear (wanda `WrappedGPT.scaler_row`). */
  onStatistic?: (layer: number, name: LinearName, values: Float32Array) => void | Promise<void>;
}

export interface MatrixReport {
  layer: number;
  /** wanda `find_layers` name, e.g. 'self_attn.q_proj'. */
  name: LinearName;
  /** HF tensor name, e.g. 'model.layers.0.self_attn.q_proj.weight'. */
  tensor: string;
  shape: [number, number];
  zeros: number;
  numel: number;
  sparsity: number;
  /** Relative reconstruction error on the calibration inputs; null/absent when not measured. */
  reconError?: number | null;
}

export interface PruneReport {
  method: PruneMethod;
  /** 'unstructured' or 'n:m'. */
  structure: string;
  perMatrix: MatrixReport[];
  /** Zeros over all pruned matrices / their total size. */
  overall: number;
  timings: {
    /** Dense statistics forwards plus recomputation with pruned weights. */
    forwardMs: number;
    /** Scoring, selection and weight updates. */
    scoringMs: number;
    perLayerMs: number[];
    totalMs: number;
  };
  /** Peak GPU bytes allocated through the Gpu during the run. */
  peakGpuBytes: number;
}

const now = (): number => performance.now();

/** Which linears share an input (and so one accumulator): q/k/v, gate/up. */
const INPUT_GROUP: Record<LinearName, LinearName> = {
  'self_attn.q_proj': 'self_attn.q_proj',
  'self_attn.k_proj': 'self_attn.q_proj',
  'self_attn.v_proj': 'self_attn.q_proj',
  'self_attn.o_proj': 'self_attn.o_proj',
  'mlp.gate_proj': 'mlp.gate_proj',
  'mlp.up_proj': 'mlp.gate_proj',
  'mlp.down_proj': 'mlp.down_proj',
};

/** Throw BAD_ARGUMENT for options that cannot work with this model and calibration batch. */
export function validatePruneArgs(model: LlamaModel, calib: CalibrationBatch | null, opts: PruneModelOptions): void {
  parsePruneMethod(opts.method);
  resolvePattern(opts);
  for (const name of LINEAR_NAMES) validatePruneOptions(opts, linearShape(model.cfg, name)[1], `${name} (${linearShape(model.cfg, name).join('x')})`);
  if (opts.blocksize !== undefined && (!Number.isInteger(opts.blocksize) || opts.blocksize < 1)) {
    throw new PolyPruneError('BAD_ARGUMENT', `SparseGPT block size must be a positive integer, got ${opts.blocksize}.`);
  }
  if (opts.nm && opts.blocksize !== undefined && opts.blocksize % opts.nm.m !== 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `SparseGPT block size ${opts.blocksize} must be a multiple of the N:M group size ${opts.nm.m}.`);
  }
  if (opts.percdamp !== undefined && !(opts.percdamp >= 0 && Number.isFinite(opts.percdamp))) {
    throw new PolyPruneError('BAD_ARGUMENT', `percdamp must be a non-negative number, got ${opts.percdamp}.`);
  }
  if (opts.method === 'magnitude') return;
  if (!calib) throw new PolyPruneError('BAD_ARGUMENT', `${opts.method} needs calibration windows; give calibration text or token windows.`);
  const { ids, n, seqlen } = calib;
  if (!Number.isInteger(n) || n < 1) throw new PolyPruneError('BAD_ARGUMENT', `The number of calibration samples must be at least 1, got ${n}.`);
  if (!Number.isInteger(seqlen) || seqlen < 1) throw new PolyPruneError('BAD_ARGUMENT', `The calibration sequence length must be at least 1 token, got ${seqlen}.`);
  const maxPos = model.cfg.maxPositionEmbeddings;
  if (seqlen > maxPos) {
    throw new PolyPruneError('BAD_ARGUMENT', `Calibration sequence length ${seqlen} exceeds this model's max_position_embeddings (${maxPos}); use --seqlen ${maxPos} or less.`);
  }
  if (seqlen > model.maxChunkTokens()) {
    throw new PolyPruneError('BAD_ARGUMENT', `Calibration sequence length ${seqlen} exceeds what one forward can hold on this GPU (${model.maxChunkTokens()} tokens); use a shorter sequence length.`);
  }
  if (ids.length !== n * seqlen) throw new PolyPruneError('BAD_ARGUMENT', `Calibration ids hold ${ids.length} tokens, expected nsamples x seqlen = ${n} x ${seqlen} = ${n * seqlen}.`);
  checkTokenIds(ids, model.cfg.vocabSize, calib.name ? `Calibration windows ${calib.name}` : 'Calibration windows');
}

/**
 * Prune every linear of every decoder layer of `model` in place (see the file comment). `calib` may
 * be null for magnitude. Returns zero counts per matrix and timings.
 */
export async function pruneModel(model: LlamaModel, calib: CalibrationBatch | null, opts: PruneModelOptions): Promise<PruneReport> {
  validatePruneArgs(model, calib, opts);
  throwIfAborted(opts.signal);
  const gpu = model.gpu;
  const L = model.cfg.numLayers;
  const t0 = now();
  await gpu.sync();
  gpu.resetPeak();
  const report: PruneReport = {
    method: opts.method,
    structure: opts.nm ? `${opts.nm.n}:${opts.nm.m}` : 'unstructured',
    perMatrix: [],
    overall: 0,
    timings: { forwardMs: 0, scoringMs: 0, perLayerMs: [], totalMs: 0 },
    peakGpuBytes: 0,
  };
  const modified: number[] = [];
  const acts: { x: Tensor; windows: number }[] = [];
  const live: ({ free(): void } | { destroy(): void })[] = [];
  const measure = !!opts.reconstructionError && opts.method !== 'magnitude';
  const counter = gpu.tensor([LINEAR_NAMES.length], 'u32', 'prune.zero_counts');
  const check = new FiniteCheck(gpu);
  const progress = (layer: number, phase: 'forward' | 'prune' | 'recompute', frac: number): void => {
    if (!opts.onProgress) return;
    const elapsedMs = now() - t0;
    const done = layer + frac;
    const etaMs = done > 0 ? (elapsedMs / done) * (L - done) : 0;
    opts.onProgress({ kind: 'layer', layer, layers: L, phase, elapsedMs, etaMs });
  };
  try {
    const sequential = opts.method !== 'magnitude';
    if (sequential) embedCalibration(model, calib!, opts, acts);
    const S = calib?.seqlen ?? 1;
    for (let i = 0; i < L; i++) {
      throwIfAborted(opts.signal);
      const tl = now();
      // 1. dense forward with statistics
      const stats = new Map<LinearName, WandaAccumulator | HessianAccumulator>();
      // Gram matrices of the inputs for the reconstruction error (SparseGPT's Hessian is one already).
      const grams = new Map<LinearName, HessianAccumulator>();
      if (sequential) {
        progress(i, 'forward', 0);
        const tf = now();
        for (const name of new Set(Object.values(INPUT_GROUP))) {
          const K = linearShape(model.cfg, name)[1];
          const acc = opts.method === 'wanda' ? new WandaAccumulator(gpu, K) : new HessianAccumulator(gpu, K);
          stats.set(name, acc);
          live.push(acc);
          if (measure) {
            const g = acc instanceof HessianAccumulator ? acc : new HessianAccumulator(gpu, K);
            grams.set(name, g);
            if (g !== acc) live.push(g);
          }
        }
        for (const a of acts) {
          const T = a.windows * S;
          const out = await model.forwardLayer(i, a.x, T, S, (name, input, rows) => {
            if (INPUT_GROUP[name] !== name) return;
            stats.get(name)!.addBatch(input, rows, rows / S);
            const g = grams.get(name);
            if (g && g !== stats.get(name)) g.addBatch(input, rows, rows / S);
          });
          out.destroy();
          await gpu.sync();
          throwIfAborted(opts.signal);
        }
        report.timings.forwardMs += now() - tf;
        for (const [name, acc] of stats) {
          const K = linearShape(model.cfg, name)[1];
          const what = `${opts.method === 'wanda' ? 'Wanda input norms' : 'SparseGPT Hessian'} of layer ${i} ${name}${name === 'self_attn.q_proj' ? ' (shared by q/k/v)' : name === 'mlp.gate_proj' ? ' (shared by gate/up)' : ''}`;
          if (acc instanceof WandaAccumulator) check.add(what, acc.scaler, acc.scaler.numel, {});
          // A Hessian too wide for one binding is in row panels: check each, with its row offset.
          else acc.matrix.panels.forEach((t, p) => check.add(what, t, t.numel, { base: panelStart(acc.matrix, p) * K, cols: K }));
        }
        throwNonFiniteRun(await check.read(), i);
      }
      // 2. prune the 7 linears
      progress(i, 'prune', sequential ? 0.4 : 0);
      const tp = now();
      const layer = await model.layer(i);
      gpu.write(counter, new Uint32Array(LINEAR_NAMES.length));
      modified.push(i);
      const recon: (number | null)[] = LINEAR_NAMES.map(() => null);
      for (let j = 0; j < LINEAR_NAMES.length; j++) {
        throwIfAborted(opts.signal);
        const name = LINEAR_NAMES[j];
        const W = layer.linears[name];
        const acc = stats.get(INPUT_GROUP[name]);
        const gram = grams.get(INPUT_GROUP[name]);
        // the dense weights, kept until the reconstruction error is measured
        const dense = gram
          ? W.chunks.map((ch) => {
              const t = gpu.tensor([ch.rows, W.cols], 'f32', 'recon.dense');
              gpu.copy(ch.tensor, 0, t, 0, ch.rows * W.cols);
              live.push(t);
              return { tensor: t, rows: ch.rows };
            })
          : null;
        if (opts.method === 'wanda') {
          const scaler = (acc as WandaAccumulator).scaler;
          if (opts.onStatistic) await opts.onStatistic(i, name, await gpu.readF32(scaler));
          await wandaPrune(gpu, W, scaler, { sparsity: opts.sparsity, nm: opts.nm });
        } else if (opts.method === 'sparsegpt') {
          const H = (acc as HessianAccumulator).matrix;
          // q/k (gate) share their Hessian with v (up); give all but the last user a copy in case
          // the solver works in place.
          // With the reconstruction error measured, H must stay intact for every user.
          const lastUser = !gram && (name === 'self_attn.v_proj' || name === 'self_attn.o_proj' || name === 'mlp.up_proj' || name === 'mlp.down_proj');
          const Huse = lastUser ? H : copyPanels(gpu, H, 'sparsegpt.H.copy');
          try {
            await sparsegptPrune(gpu, W, Huse, { sparsity: opts.sparsity, nm: opts.nm, blocksize: opts.blocksize ?? 128, percdamp: opts.percdamp ?? 0.01 });
          } finally {
            if (Huse !== H) destroyPanels(Huse);
          }
        } else {
          await magnitudePrune(gpu, W, null, { sparsity: opts.sparsity, nm: opts.nm });
        }
        for (const ch of W.chunks) {
          countZeros(gpu, ch.tensor, ch.rows * W.cols, counter, j);
          check.add(`pruned weights of layer ${i} ${name}`, ch.tensor, ch.rows * W.cols, { base: ch.rowStart * W.cols, cols: W.cols });
        }
        if (gram && dense) {
          recon[j] = await reconstructionError(gpu, dense, W.chunks, gram.matrix.panels.map((t, p) => ({ tensor: t, rowStart: panelStart(gram.matrix, p), rows: panelRows(gram.matrix, p) })), W.cols);
          for (const d of dense) {
            d.tensor.destroy();
            live.splice(live.indexOf(d.tensor), 1);
          }
        }
        opts.onProgress?.({ kind: 'prune', matrix: `model.layers.${i}.${name}.weight`, done: i * LINEAR_NAMES.length + j + 1, total: L * LINEAR_NAMES.length });
      }
      const zeros = await gpu.read(counter);
      throwNonFiniteRun(await check.read(), i);
      report.timings.scoringMs += now() - tp;
      for (const acc of new Set([...stats.values(), ...grams.values()])) {
        acc.free();
        live.splice(live.indexOf(acc), 1);
      }
      LINEAR_NAMES.forEach((name, j) => {
        const [N, K] = linearShape(model.cfg, name);
        report.perMatrix.push({ layer: i, name, tensor: `model.layers.${i}.${name}.weight`, shape: [N, K], zeros: zeros[j], numel: N * K, sparsity: zeros[j] / (N * K), ...(measure ? { reconError: recon[j] } : {}) });
      });
      opts.onProgress?.({
        kind: 'layerDone',
        layer: i,
        layers: L,
        matrices: [...LINEAR_NAMES],
        sparsity: LINEAR_NAMES.map((name, j) => zeros[j] / linearShape(model.cfg, name).reduce((a, b) => a * b, 1)),
        recon,
      });
      if (opts.onMatrixPruned) {
        for (const name of LINEAR_NAMES) {
          throwIfAborted(opts.signal);
          await opts.onMatrixPruned(i, name, await model.readLinear(i, name));
        }
      }
      // 3. the next layer's input: this layer's output with pruned weights
      if (sequential && i + 1 < L) {
        throwIfAborted(opts.signal);
        progress(i, 'recompute', 0.7);
        const tr = now();
        for (const a of acts) {
          const nx = await model.forwardLayer(i, a.x, a.windows * S, S);
          a.x.destroy();
          a.x = nx;
          check.add(`output of layer ${i} (input of layer ${i + 1})`, nx, nx.numel, { cols: model.cfg.hiddenSize });
        }
        throwNonFiniteRun(await check.read(), i);
        report.timings.forwardMs += now() - tr;
      }
      model.releaseLayer(i);
      report.timings.perLayerMs.push(now() - tl);
    }
    await gpu.sync();
  } catch (e) {
    check.dispose();
    for (const a of acts) a.x.destroy();
    acts.length = 0;
    for (const s of live) {
      if ('free' in s) s.free();
      else s.destroy();
    }
    counter.destroy();
    await restoreLayers(model, modified);
    throw e;
  }
  for (const a of acts) a.x.destroy();
  counter.destroy();
  let z = 0;
  let n = 0;
  for (const m of report.perMatrix) {
    z += m.zeros;
    n += m.numel;
  }
  report.overall = n ? z / n : 0;
  report.timings.totalMs = now() - t0;
  report.peakGpuBytes = gpu.memory().peakBytes;
  return report;
}

/** NON_FINITE naming where NaN/Inf first appeared in a pruning run (statistics, updated weights, activations). */
function throwNonFiniteRun(bad: NonFinite[], layer: number): void {
  if (bad.length === 0) return;
  const [b] = bad;
  throw new PolyPruneError(
    'NON_FINITE',
    `Pruning stopped at layer ${layer}: ${b.count} non-finite value${b.count === 1 ? '' : 's'} (NaN/Inf) in the ${b.what}, the first at ${describeIndex(b)}. The calibration activations overflow float32 with this model (or its Hessian is degenerate); nothing was written.`,
  );
}

/** Upload the calibration ids and embed them, in chunks of whole windows. */
function embedCalibration(model: LlamaModel, calib: CalibrationBatch, opts: PruneModelOptions, acts: { x: Tensor; windows: number }[]): void {
  const { ids, n, seqlen } = calib;
  const cap = Math.min(opts.maxChunkTokens ?? 4096, model.maxChunkTokens());
  const per = Math.max(1, Math.floor(cap / seqlen));
  for (let w0 = 0; w0 < n; w0 += per) {
    const windows = Math.min(per, n - w0);
    const T = windows * seqlen;
    const t = model.gpu.upload(ids.subarray(w0 * seqlen, w0 * seqlen + T), [T], 'calib.ids');
    acts.push({ x: model.embedTokens(t, T), windows });
    t.destroy();
  }
}

/** Bring modified layers back to the checkpoint's weights (after cancellation or an error). */
async function restoreLayers(model: LlamaModel, layers: number[]): Promise<void> {
  try {
    await model.gpu.sync();
  } catch {
    /* the original error is what matters */
  }
  for (const i of layers) {
    try {
      model.releaseLayer(i, true);
      if (model.resident) await model.layer(i);
    } catch {
      /* a lost device cannot be restored; the caller reloads */
    }
  }
}
