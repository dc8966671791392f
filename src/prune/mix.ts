/**
 * The calibration mixer: collect Wanda's statistic once, per calibration window, for every layer of
 * the DENSE model, then derive masks for any mix of the calibration sources without another forward
 * pass.
 *
 * Wanda's statistic of one linear's input c over N windows is the running mean
 *   scaler[c] = (1/N) sum_j v_j[c],   v_j[c] = sum_t x[j, t, c]^2
 * (wanda `WrappedGPT.add_batch`; src/prune/stats.ts). `collectDenseStats` keeps every v_j (N x K
 * floats per input group and layer, on the GPU). A mix gives source s (n_s windows, m_s its own mean)
 * the weight w_s (w_s >= 0, normalised to sum 1) and is defined as
 *   scaler_w[c] = sum_s w_s m_s[c]
 * i.e. the statistic of a calibration set in which source s makes up the share w_s. It is computed as
 * a weighted running mean over the windows of the sources with w_s > 0, in source order, window j of
 * source s with weight a_j = w_s * N_used / n_s (N_used = windows of those sources), in the reference's
 * update order (shaders/prune/wanda_mix.wgsl). When the weights are the window shares
 * (w_s = n_s / N_used, e.g. one source alone) every a_j is 1 and the result is bitwise the statistic
 * the reference accumulates on the concatenated windows.
 *
 * The approximation: these statistics come from the dense model (one pass). The sequential reference
 * (src/prune/run.ts) feeds layer i the outputs of the already pruned layers 0..i-1, so from layer 1 on
 * its statistics differ; layer 0 sees the embeddings in both and is exact. The engine's `confirmMix`
 * runs the sequential prune for a mix and reports the mask IoU per layer.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import { fmtBytes } from '../common/format';
import type { Gpu, Tensor } from '../gpu/device';
import { FiniteCheck, describeIndex } from '../gpu/finite';
import { countZeros, wandaMix, wandaWindowNorms } from '../gpu/prune';
import { prunable } from '../gpu/ops';
import { type LlamaModel, type LinearName, LINEAR_NAMES, linearShape } from '../model/llama';
import { layerPass, type LayerPassOptions } from './pass';
import { Pacer } from '../common/pace';
import { type PruneOptions, validatePruneOptions } from './method';
import { wandaSelect } from './wanda';
import type { Mixer } from './mixer';

/** The input groups (linears that share one input and so one statistic) and their members. */
export const INPUT_GROUPS: readonly { lead: LinearName; members: readonly LinearName[] }[] = [
  { lead: 'self_attn.q_proj', members: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'] },
  { lead: 'self_attn.o_proj', members: ['self_attn.o_proj'] },
  { lead: 'mlp.gate_proj', members: ['mlp.gate_proj', 'mlp.up_proj'] },
  { lead: 'mlp.down_proj', members: ['mlp.down_proj'] },
];

/** Per-window Wanda statistics of the dense model, every layer and input group, on the GPU. */
export interface DenseStats {
  /** Windows per source, in source order (the windows are stored source after source). */
  readonly counts: readonly number[];
  readonly seqlen: number;
  /** perWindow[layer].get(group lead) = v (N, K): row j = window j's sum_t x^2. */
  readonly perWindow: Map<LinearName, Tensor>[];
  /** GPU bytes held. */
  readonly bytes: number;
}

export function freeDenseStats(s: DenseStats): void {
  for (const m of s.perWindow) for (const t of m.values()) t.destroy();
}

/** GPU bytes the per-window statistics of `n` windows take for this model. */
export function denseStatsBytes(model: LlamaModel, n: number): number {
  return model.cfg.numLayers * INPUT_GROUPS.reduce((a, g) => a + n * linearShape(model.cfg, g.lead)[1] * 4, 0);
}

export interface CollectOptions {
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Most tokens per forward chunk (default min(4096, model.maxChunkTokens())). */
  maxChunkTokens?: number;
  /** Called once per decoder layer forwarded over the calibration activations (engine counters). */
  onLayerForward?: (layer: number) => void;
  /** Sizes the forward calls by time (src/prune/pass.ts); default: a new one aiming at 0.5 s per call. */
  pacer?: Pacer;
}

/** Embed the windows `ids` (n x seqlen) in chunks of `per` windows, appending each chunk's activations to `acts`. */
export function embedWindows(model: LlamaModel, ids: Int32Array, n: number, seqlen: number, per: number, acts: { x: Tensor; windows: number; w0: number }[]): void {
  for (let w0 = 0; w0 < n; w0 += per) {
    const windows = Math.min(per, n - w0);
    const T = windows * seqlen;
    const t = model.gpu.upload(ids.subarray(w0 * seqlen, w0 * seqlen + T), [T], 'mix.ids');
    acts.push({ x: model.embedTokens(t, T), windows, w0 });
    t.destroy();
  }
}

/** One layer of the mixers' dense pass: the capture of the linears' inputs, then the statistics to check. */
export interface DenseLayer {
  capture: NonNullable<LayerPassOptions['capture']>;
  /** After the layer's forward: registers the layer's statistics with the NaN/Inf check. */
  check: (check: FiniteCheck) => void;
}

/**
 * The mixers' ONE dense pass (Wanda's and SparseGPT's `collect`): the windows `ids` (n x seqlen)
 * embedded in chunks of whole windows, then every decoder layer over them in paced calls
 * (src/prune/pass.ts), `layer(i)` giving what captures the layer's statistics; NON_FINITE names the
 * first NaN/Inf in them. The model is not modified. Frees the activations, on error too (the caller
 * frees its statistics).
 */
export async function densePass(model: LlamaModel, ids: Int32Array, n: number, seqlen: number, opts: CollectOptions, layer: (i: number) => DenseLayer): Promise<void> {
  const L = model.cfg.numLayers;
  const cap = Math.min(opts.maxChunkTokens ?? 4096, model.maxChunkTokens());
  const acts: { x: Tensor; windows: number; w0: number }[] = [];
  const pacer = opts.pacer ?? new Pacer(500);
  const check = new FiniteCheck(model.gpu);
  const t0 = performance.now();
  try {
    embedWindows(model, ids, n, seqlen, Math.max(1, Math.floor(cap / seqlen)), acts);
    for (let i = 0; i < L; i++) {
      throwIfAborted(opts.signal);
      const elapsedMs = performance.now() - t0;
      opts.onProgress?.({ kind: 'layer', layer: i, layers: L, phase: 'forward', elapsedMs, etaMs: i > 0 ? (elapsedMs / i) * (L - i) : 0 });
      const l = layer(i);
      await layerPass(model, i, acts, seqlen, {
        signal: opts.signal,
        pacer,
        replace: true,
        capture: l.capture,
        // progress inside a layer, call by call (a layer over many windows takes minutes on a CPU adapter)
        onCall: (done) => opts.onProgress?.({ kind: 'calibrate', message: `Layer ${i + 1} of ${L} (forward): windows`, done: i * n + done, total: L * n }),
      });
      opts.onLayerForward?.(i);
      l.check(check);
      const bad = await check.read();
      if (bad.length) {
        const [b] = bad;
        throw new PolyPruneError('NON_FINITE', `Collecting statistics stopped at layer ${i}: ${b.count} non-finite value${b.count === 1 ? '' : 's'} (NaN/Inf) in the ${b.what}, the first at ${describeIndex(b)}. The calibration activations overflow float32 with this model.`);
      }
      model.releaseLayer(i);
    }
  } catch (e) {
    check.dispose();
    throw e;
  } finally {
    for (const a of acts) a.x.destroy();
  }
}

/**
 * One dense pass over the calibration windows `ids` (n x seqlen; `counts[s]` windows of source s, in
 * order), keeping each window's Wanda statistic for every layer and input group. The model is not
 * modified. Frees everything it made on error.
 */
export async function collectDenseStats(model: LlamaModel, ids: Int32Array, counts: readonly number[], seqlen: number, opts: CollectOptions = {}): Promise<DenseStats> {
  const gpu = model.gpu;
  const n = counts.reduce((a, b) => a + b, 0);
  if (ids.length !== n * seqlen) throw new PolyPruneError('INTERNAL', `collectDenseStats: ${ids.length} ids for ${n} windows of ${seqlen}`);
  const maxBinding = gpu.info.limits.maxStorageBufferBindingSize;
  for (const g of INPUT_GROUPS) {
    const K = linearShape(model.cfg, g.lead)[1];
    if (n * K * 4 > maxBinding) {
      throw new PolyPruneError('BAD_ARGUMENT', `The mixer keeps one statistic per window: ${n} windows x ${K} inputs of ${g.lead} need ${n * K * 4} bytes in one binding, more than this adapter's ${maxBinding}. Use at most ${Math.floor(maxBinding / (K * 4))} windows in all.`);
    }
  }
  const perWindow: Map<LinearName, Tensor>[] = [];
  try {
    await densePass(model, ids, n, seqlen, opts, (i) => {
      const groups = new Map<LinearName, Tensor>();
      perWindow.push(groups);
      for (const g of INPUT_GROUPS) groups.set(g.lead, gpu.tensor([n, linearShape(model.cfg, g.lead)[1]], 'f32', `mix.v.${i}.${g.lead}`));
      return {
        capture: (name, input, _rows, cols, first, windows) => {
          const v = groups.get(name);
          if (v) wandaWindowNorms(gpu, input, v, cols, windows, seqlen, 0, first);
        },
        check: (check) => {
          for (const [name, v] of groups) check.add(`Wanda input norms of layer ${i} ${name} (one per window)`, v, v.numel, { cols: v.shape[1] });
        },
      };
    });
  } catch (e) {
    for (const m of perWindow) for (const t of m.values()) t.destroy();
    throw e;
  }
  return { counts: [...counts], seqlen, perWindow, bytes: denseStatsBytes(model, n) };
}

/** Every window statistic back to the host: values[layer * groups + group] = (N, K) (INPUT_GROUPS order). */
export async function readDenseStats(gpu: Gpu, stats: DenseStats): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const m of stats.perWindow) for (const g of INPUT_GROUPS) out.push(await gpu.readF32(m.get(g.lead)!));
  return out;
}

/**
 * Statistics read back earlier (`readDenseStats`, e.g. from the browser's storage) onto the GPU again:
 * no forward pass. Checks every array's length against the model (BAD_ARGUMENT) and every value
 * (finite, >= 0: NON_FINITE / BAD_ARGUMENT).
 */
export function uploadDenseStats(model: LlamaModel, counts: readonly number[], seqlen: number, values: readonly Float32Array[]): DenseStats {
  const gpu = model.gpu;
  const L = model.cfg.numLayers;
  const G = INPUT_GROUPS.length;
  const n = counts.reduce((a, b) => a + b, 0);
  if (!Array.isArray(values) || values.length !== L * G) throw new PolyPruneError('BAD_ARGUMENT', `Stored statistics hold ${Array.isArray(values) ? values.length : 0} arrays; this model needs ${L * G} (${L} layers x ${G} input groups). They were collected for another model; collect them again.`);
  values.forEach((v, k) => {
    const g = INPUT_GROUPS[k % G];
    const K = linearShape(model.cfg, g.lead)[1];
    if (!(v instanceof Float32Array) || v.length !== n * K) throw new PolyPruneError('BAD_ARGUMENT', `Stored statistics of layer ${Math.floor(k / G)} ${g.lead}: expected ${n} x ${K} floats, got ${v instanceof Float32Array ? v.length : typeof v}. Collect them again.`);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new PolyPruneError('NON_FINITE', `Stored statistics of layer ${Math.floor(k / G)} ${g.lead} hold a non-finite value (${v[i]}) at window ${Math.floor(i / K)}, input ${i % K}; the stored copy is damaged. Collect them again.`);
      if (v[i] < 0) throw new PolyPruneError('BAD_ARGUMENT', `Stored statistics of layer ${Math.floor(k / G)} ${g.lead} hold a negative sum of squares (${v[i]}) at window ${Math.floor(i / K)}, input ${i % K}; the stored copy is damaged. Collect them again.`);
    }
  });
  const maxBinding = gpu.info.limits.maxStorageBufferBindingSize;
  for (const g of INPUT_GROUPS) {
    const K = linearShape(model.cfg, g.lead)[1];
    if (n * K * 4 > maxBinding) throw new PolyPruneError('BAD_ARGUMENT', `The stored statistics of ${n} windows x ${K} inputs of ${g.lead} need ${n * K * 4} bytes in one binding, more than this adapter's ${maxBinding}; collect at most ${Math.floor(maxBinding / (K * 4))} windows in all on this machine.`);
  }
  const perWindow: Map<LinearName, Tensor>[] = [];
  try {
    for (let i = 0; i < L; i++) {
      const m = new Map<LinearName, Tensor>();
      perWindow.push(m);
      for (const [k, g] of INPUT_GROUPS.entries()) m.set(g.lead, gpu.upload(values[i * G + k], [n, linearShape(model.cfg, g.lead)[1]], `mix.v.${i}.${g.lead}`));
    }
  } catch (e) {
    for (const m of perWindow) for (const t of m.values()) t.destroy();
    throw e;
  }
  return { counts: [...counts], seqlen, perWindow, bytes: denseStatsBytes(model, n) };
}

/**
 * Normalised mix weights: one per source, finite and >= 0, not all 0 (BAD_ARGUMENT otherwise), scaled
 * to sum 1. A source with no windows must have weight 0.
 */
export function normaliseWeights(weights: readonly number[], counts: readonly number[], labels?: readonly string[]): number[] {
  const name = (s: number) => (labels ? `'${labels[s]}'` : `${s + 1}`);
  if (weights.length !== counts.length) throw new PolyPruneError('BAD_ARGUMENT', `Give one mix weight per calibration source: ${counts.length} source${counts.length === 1 ? '' : 's'}, ${weights.length} weight${weights.length === 1 ? '' : 's'}.`);
  weights.forEach((w, s) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new PolyPruneError('BAD_ARGUMENT', `Mix weight of source ${name(s)} must be a number >= 0, got ${w}.`);
    if (w > 0 && counts[s] === 0) throw new PolyPruneError('BAD_ARGUMENT', `Source ${name(s)} has no calibration windows; its mix weight must be 0.`);
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new PolyPruneError('BAD_ARGUMENT', 'The mix weights are all 0; give at least one source a positive weight.');
  return weights.map((w) => w / sum);
}

/**
 * The windows a mix uses and their coefficients for wanda_mix: used windows in order (`idx`) and per
 * used window (decay, divisor) = (f32(W_{u-1}/W_u), f32(W_u/a_u)), a_u = w_s * N_used / n_s, snapped to
 * exactly 1 when within 1e-12 (weights equal to the window shares).
 */
export function mixCoefficients(counts: readonly number[], weights: readonly number[]): { idx: Uint32Array; coef: Float32Array } {
  const w = normaliseWeights(weights, counts);
  const used = counts.reduce((a, n, s) => a + (w[s] > 0 ? n : 0), 0);
  const idx: number[] = [];
  const coef: number[] = [];
  let W = 0;
  let start = 0;
  counts.forEach((n, s) => {
    if (w[s] > 0) {
      let a = (w[s] * used) / n;
      if (Math.abs(a - 1) < 1e-12) a = 1;
      for (let j = 0; j < n; j++) {
        const prev = W;
        W += a;
        idx.push(start + j);
        coef.push(prev / W, W / a);
      }
    }
    start += n;
  });
  return { idx: Uint32Array.from(idx), coef: Float32Array.from(coef) };
}

/** The mixed statistic (K) of one layer and input group into a new tensor (the caller destroys it). */
export function mixedStatistic(gpu: Gpu, stats: DenseStats, layer: number, group: LinearName, mix: { idx: Uint32Array; coef: Float32Array }): Tensor {
  const up = uploadMix(gpu, mix);
  try {
    return mixInto(gpu, stats, layer, group, up);
  } finally {
    up.idx.destroy();
    up.coef.destroy();
  }
}

function uploadMix(gpu: Gpu, mix: { idx: Uint32Array; coef: Float32Array }): { idx: Tensor; coef: Tensor; U: number } {
  return { idx: gpu.upload(mix.idx, [mix.idx.length], 'mix.idx'), coef: gpu.upload(mix.coef, [mix.coef.length], 'mix.coef'), U: mix.idx.length };
}

function mixInto(gpu: Gpu, stats: DenseStats, layer: number, group: LinearName, up: { idx: Tensor; coef: Tensor; U: number }): Tensor {
  const v = stats.perWindow[layer].get(group);
  if (!v) throw new PolyPruneError('INTERNAL', `No statistic for layer ${layer} ${group}`);
  const K = v.shape[1];
  const out = gpu.tensor([K], 'f32', 'mix.scaler');
  wandaMix(gpu, v, up.idx, up.coef, out, K, up.U);
  return out;
}

export interface MixPruneReport {
  /** zeros[layer][matrix] (LINEAR_NAMES order) and numel[matrix]. */
  zeros: number[][];
  numel: number[];
  overall: number;
  /** Restoring dense weights, mixing statistics and selecting masks (ms). */
  ms: number;
  /** Where `ms` went: mixing + read-back of the statistics, sqrt + upload on the CPU, restore + select + zero counts (each up to its sync point). */
  phases: { mixMs: number; sqrtMs: number; selectMs: number };
}

/**
 * Re-mask `slot` (a resident copy of `dense`, same config) with Wanda from the mixed dense
 * statistics: every linear's dense weights are copied back from `dense` on the GPU, then pruned from
 * the mixed statistic of its input group. No forward pass.
 */
export async function mixPruneModel(slot: LlamaModel, dense: LlamaModel, stats: DenseStats, weights: readonly number[], opts: PruneOptions & { signal?: AbortSignal }): Promise<MixPruneReport> {
  const gpu = slot.gpu;
  for (const name of LINEAR_NAMES) validatePruneOptions(opts, linearShape(slot.cfg, name)[1], `${name} (${linearShape(slot.cfg, name).join('x')})`);
  if (!slot.resident || !dense.resident) throw new PolyPruneError('BAD_ARGUMENT', 'The instant mixer needs the model resident on the GPU; this model streams its layers. Use Confirm (the sequential prune) instead.');
  const mix = mixCoefficients(stats.counts, weights);
  const t0 = performance.now();
  const L = slot.cfg.numLayers;
  const G = INPUT_GROUPS.length;
  const widths = INPUT_GROUPS.map((g) => linearShape(slot.cfg, g.lead)[1]);
  const per = widths.reduce((a, b) => a + b, 0);
  // 1. every mixed statistic (L x groups) into one buffer, ONE readback; sqrt on the CPU as wandaPrune
  //    does (the correctly rounded f32 sqrt that torch computes; WGSL's may be off by an ulp)
  const packed = gpu.tensor([L * per], 'f32', 'mix.scalers');
  const counter = gpu.tensor([L * LINEAR_NAMES.length], 'u32', 'mix.zero_counts');
  const scales: Tensor[] = [];
  const up = uploadMix(gpu, mix);
  let zeros: number[][];
  const at = { mix: t0, sqrt: t0 };
  try {
    for (let i = 0; i < L; i++) {
      let o = i * per;
      for (const [k, g] of INPUT_GROUPS.entries()) {
        const t = mixInto(gpu, stats, i, g.lead, up);
        gpu.copy(t, 0, packed, o, widths[k]);
        t.destroy();
        o += widths[k];
      }
    }
    const s = await gpu.readF32(packed);
    at.mix = performance.now();
    throwIfAborted(opts.signal);
    for (let i = 0; i < L; i++) {
      let o = i * per;
      for (let k = 0; k < G; k++) {
        const sq = new Float32Array(widths[k]);
        for (let c = 0; c < sq.length; c++) sq[c] = Math.sqrt(s[o + c]);
        scales.push(gpu.upload(sq, [sq.length], 'mix.sqrt_scaler'));
        o += widths[k];
      }
    }
    at.sqrt = performance.now();
    // 2. restore each linear's dense weights on the GPU, select, count zeros; ONE readback of the counts
    gpu.write(counter, new Uint32Array(L * LINEAR_NAMES.length));
    for (let i = 0; i < L; i++) {
      throwIfAborted(opts.signal);
      const src = await dense.layer(i);
      const dst = await slot.layer(i);
      for (const [k, g] of INPUT_GROUPS.entries()) {
        for (const name of g.members) {
          const work = prunable(gpu, src.linears[name], dst.linears[name]);
          const W = work.W;
          wandaSelect(gpu, W, scales[i * G + k], { sparsity: opts.sparsity, nm: opts.nm });
          work.store();
          for (const ch of W.chunks) countZeros(gpu, ch.tensor, ch.rows * W.cols, counter, i * LINEAR_NAMES.length + LINEAR_NAMES.indexOf(name));
          work.free();
        }
      }
    }
    const counts = await gpu.read(counter);
    zeros = Array.from({ length: L }, (_, i) => [...counts.subarray(i * LINEAR_NAMES.length, (i + 1) * LINEAR_NAMES.length)]);
  } finally {
    packed.destroy();
    counter.destroy();
    up.idx.destroy();
    up.coef.destroy();
    for (const t of scales) t.destroy();
  }
  const numel = LINEAR_NAMES.map((n) => linearShape(slot.cfg, n).reduce((a, b) => a * b, 1));
  let z = 0;
  let all = 0;
  for (const row of zeros) row.forEach((c, j) => ((z += c), (all += numel[j])));
  const t1 = performance.now();
  return { zeros, numel, overall: all ? z / all : 0, ms: t1 - t0, phases: { mixMs: at.mix - t0, sqrtMs: at.sqrt - at.mix, selectMs: t1 - at.sqrt } };
}

// ---------------------------------------------------------------------------------------------
// Plain-TS reference (tests)

/** CPU reference of wanda_mix: the weighted running mean of rows idx[u] of v (N, K) in f32. */
export function refMixScaler(v: Float32Array, K: number, mix: { idx: Uint32Array; coef: Float32Array }): Float32Array {
  const out = new Float32Array(K);
  for (let c = 0; c < K; c++) {
    let acc = 0;
    for (let u = 0; u < mix.idx.length; u++) acc = Math.fround(Math.fround(acc * mix.coef[2 * u]) + Math.fround(v[mix.idx[u] * K + c] / mix.coef[2 * u + 1]));
    out[c] = acc;
  }
  return out;
}

/** Wanda's mixer (src/prune/mixer.ts): per-window input norms, mixed by window coefficients. */
export const wandaMixer: Mixer<DenseStats> = {
  checkFits(model, counts, extraBytes, budget) {
    const n = counts.reduce((a, b) => a + b, 0);
    const bytes = denseStatsBytes(model, n);
    if (bytes + extraBytes <= budget) return;
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      extraBytes
        ? `The mixer's per-window statistics of ${n} windows (${fmtBytes(bytes)}) plus the activations exceed this engine's GPU budget of ${fmtBytes(budget)}; use fewer windows per source.`
        : `The stored statistics (${fmtBytes(bytes)}) exceed this engine's GPU budget of ${fmtBytes(budget)}.`,
    );
  },
  collect: collectDenseStats,
  mix: mixPruneModel,
  serialise: readDenseStats,
  deserialise: uploadDenseStats,
  free: freeDenseStats,
  tensorNames: (_sources, layers) => Array.from({ length: layers }, (_, i) => INPUT_GROUPS.map((g) => `wanda.${i}.${g.lead}`)).flat(),
  tensorShape: (length, windows) => [windows, length / Math.max(windows, 1)],
};
