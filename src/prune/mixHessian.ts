/**
 * The calibration mixer for SparseGPT (docs/mixer.md): one dense pass keeps, per calibration source s,
 * layer and input group (q/k/v, o, gate/up, down), the source's Hessian
 *   H_s = (2/n_s) sum_{j in s} X_j^T X_j
 * accumulated exactly as the sequential prune does (HessianAccumulator: shaders/prune/hessian.wgsl,
 * the reference's running update over the source's windows in order). A mix with normalised weights
 * w_s is
 *   H_w = sum_s w_s H_s            (shaders/prune/hessian_mix.wgsl, in source order)
 * With w_s = n_s / N (the window shares) this is (2/N) sum_j X_j^T X_j, the Hessian of the
 * concatenated windows, up to f32 rounding (the reference's running update rounds in another order:
 * within 1e-6 of the largest diagonal entry, test/prune/mix.test.ts); with one source at
 * weight 1 it is bitwise H_s.
 *
 * Every linear is then pruned from its dense weights with `sparsegptPrune` (the sequential prune's
 * solver: dead columns, dampening, Cholesky inverse factor, blocked OBS update; unstructured or N:M)
 * and H_w. No forward pass. The approximation is larger than Wanda's: besides the dense inputs of
 * layers >= 1, the instant mode also ignores that the sequential prune feeds each layer the outputs
 * of the already pruned (and OBS-updated) earlier layers.
 *
 * Size: S sources x L layers x sum over the groups of K_g^2 floats (3 C^2 + F^2 for a Llama with
 * o_proj's input = C), each Hessian in row panels within one storage binding (src/prune/panels.ts).
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { type Gpu } from '../gpu/device';
import { fmtBytes } from '../common/format';
import { countZeros, hessianMix } from '../gpu/prune';
import { prunable } from '../gpu/ops';
import type { ModelConfig } from '../io/config';
import { type LlamaModel, type LinearName, LINEAR_NAMES, linearShape } from '../model/llama';
import { type PruneOptions, validatePruneOptions } from './method';
import { INPUT_GROUPS, denseStatsBytes, densePass, normaliseWeights, type CollectOptions, type MixPruneReport } from './mix';
import { sourceRanges } from './owl';
import type { Mixer } from './mixer';
import { type PanelMatrix, allocPanels, copyPanels, destroyPanels, panelRows, panelRowsFor, panelStart, readPanels } from './panels';
import { HessianAccumulator } from './stats';
import { sparsegptPrune } from './sparsegpt';
import { gptqQuantize, type GptqResult } from './gptq';
import type { QuantizeSettings } from './methods';

/** SparseGPT's column block and dampening in the mixer (the sequential prune's defaults). */
export const MIX_SPARSEGPT = { blocksize: 128, percdamp: 0.01 } as const;

/** Per-source dense Hessians of every layer and input group, on the GPU. */
export interface DenseHessians {
  /** Windows per source, in source order. */
  readonly counts: readonly number[];
  readonly seqlen: number;
  /** perSource[s][layer].get(group lead) = H_s (K, K) in row panels. */
  readonly perSource: Map<LinearName, PanelMatrix>[][];
  /** GPU bytes held. */
  readonly bytes: number;
}

export function freeDenseHessians(h: DenseHessians): void {
  for (const src of h.perSource) for (const m of src) for (const p of m.values()) destroyPanels(p);
}

/** Input widths K of the four input groups (INPUT_GROUPS order). */
export function groupWidths(cfg: ModelConfig): number[] {
  return INPUT_GROUPS.map((g) => linearShape(cfg, g.lead)[1]);
}

/** GPU bytes the per-source Hessians take: sources x layers x sum_g K_g^2 x 4. */
export function denseHessiansBytes(cfg: ModelConfig, sources: number): number {
  return sources * cfg.numLayers * groupWidths(cfg).reduce((a, k) => a + k * k * 4, 0);
}

/** "3 x 64^2 + 172^2" for messages. */
export function hessianShapes(cfg: ModelConfig): string {
  const w = groupWidths(cfg);
  const byK = new Map<number, number>();
  for (const k of w) byK.set(k, (byK.get(k) ?? 0) + 1);
  return [...byK].map(([k, c]) => `${c > 1 ? `${c} x ` : ''}${k}^2`).join(' + ');
}

/** The same options as Wanda's collection (src/prune/mix.ts). */
export type CollectHessianOptions = CollectOptions;

/**
 * ONE dense forward pass over the windows `ids` (n x seqlen; `counts[s]` windows of source s, in
 * order), accumulating every source's Hessian of every layer and input group. The model is not
 * modified. Frees everything it made on error.
 */
export async function collectDenseHessians(model: LlamaModel, ids: Int32Array, counts: readonly number[], seqlen: number, opts: CollectHessianOptions = {}): Promise<DenseHessians> {
  const gpu = model.gpu;
  const n = counts.reduce((a, b) => a + b, 0);
  if (ids.length !== n * seqlen) throw new PolyPruneError('INTERNAL', `collectDenseHessians: ${ids.length} ids for ${n} windows of ${seqlen}`);
  for (const g of INPUT_GROUPS) panelRowsFor(gpu, linearShape(model.cfg, g.lead)[1], 1, `the mixer's Hessian of ${g.lead}`);
  const ranges = sourceRanges(counts);
  const perSource: Map<LinearName, PanelMatrix>[][] = counts.map(() => []);
  let accs: HessianAccumulator[][] = [];
  try {
    await densePass(model, ids, n, seqlen, opts, (i) => {
      // accs[s][g]
      accs = counts.map(() => INPUT_GROUPS.map((g) => new HessianAccumulator(gpu, linearShape(model.cfg, g.lead)[1])));
      return {
        capture: (name, input, _rows, _cols, first, windows) => {
          const k = INPUT_GROUPS.findIndex((g) => g.lead === name);
          if (k < 0) return;
          ranges.forEach((r, s) => {
            const lo = Math.max(r.start, first);
            const hi = Math.min(r.end, first + windows);
            if (hi > lo) accs[s][k].addBatch(input, (hi - lo) * seqlen, hi - lo, (lo - first) * seqlen);
          });
        },
        check: (check) => {
          accs.forEach((row, s) =>
            row.forEach((acc, k) => {
              const K = acc.cols;
              acc.matrix.panels.forEach((t, p) => check.add(`Mixer Hessian of source ${s + 1}, layer ${i} ${INPUT_GROUPS[k].lead}`, t, t.numel, { base: panelStart(acc.matrix, p) * K, cols: K }));
            }),
          );
          // checked next; the statistics are the caller's from here (freed below on error)
          accs.forEach((row, s) => perSource[s].push(new Map(row.map((acc, k) => [INPUT_GROUPS[k].lead, acc.matrix]))));
          accs = [];
        },
      };
    });
  } catch (e) {
    for (const row of accs) for (const acc of row) acc.free();
    for (const src of perSource) for (const m of src) for (const p of m.values()) destroyPanels(p);
    throw e;
  }
  return { counts: [...counts], seqlen, perSource, bytes: denseHessiansBytes(model.cfg, counts.length) };
}

/** Every Hessian back to the host: values[(s * L + layer) * 4 + group] = (K, K) row-major. */
export async function readDenseHessians(gpu: Gpu, h: DenseHessians): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const src of h.perSource) for (const m of src) for (const g of INPUT_GROUPS) out.push(await readPanels(gpu, m.get(g.lead)!));
  return out;
}

/**
 * Checks one stored Hessian (K, K): finite, diagonal >= 0, symmetric, |H_pq| <= sqrt(H_pp H_qq) (a
 * positive semi-definite matrix's bound), each up to f32 rounding. Returns a message or null.
 */
export function checkStoredHessian(v: Float32Array, K: number): string | null {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return `a non-finite value (${v[i]}) at row ${Math.floor(i / K)}, column ${i % K}`;
  for (let p = 0; p < K; p++) if (v[p * K + p] < 0) return `a negative diagonal entry (${v[p * K + p]}) at ${p}`;
  for (let p = 0; p < K; p++) {
    const dp = v[p * K + p];
    for (let q = 0; q < p; q++) {
      const a = v[p * K + q];
      const b = v[q * K + p];
      const bound = Math.sqrt(dp * v[q * K + q]);
      const tol = 1e-4 * bound + 1e-30;
      if (Math.abs(a - b) > tol) return `an asymmetric pair H[${p},${q}] = ${a}, H[${q},${p}] = ${b}`;
      if (Math.abs(a) > bound * (1 + 1e-4) + 1e-30) return `an entry H[${p},${q}] = ${a} larger than sqrt(H[${p},${p}] H[${q},${q}]) = ${bound} (not a Hessian of activations)`;
    }
  }
  return null;
}

/**
 * Hessians read back earlier (`readDenseHessians`: the browser's storage, a `--save-stats` file) onto
 * the GPU again: no forward pass. Checks every array's length against the model and every matrix
 * (`checkStoredHessian`).
 */
export function uploadDenseHessians(model: LlamaModel, counts: readonly number[], seqlen: number, values: readonly Float32Array[]): DenseHessians {
  const gpu = model.gpu;
  const L = model.cfg.numLayers;
  const G = INPUT_GROUPS.length;
  const S = counts.length;
  if (!Array.isArray(values) || values.length !== S * L * G) throw new PolyPruneError('BAD_ARGUMENT', `Stored Hessian statistics (SparseGPT and GPTQ mixer) hold ${Array.isArray(values) ? values.length : 0} Hessians; this model and ${S} source${S === 1 ? '' : 's'} need ${S * L * G} (${S} x ${L} layers x ${G} input groups). They were collected for another model; collect them again.`);
  values.forEach((v, k) => {
    const g = INPUT_GROUPS[k % G];
    const layer = Math.floor(k / G) % L;
    const s = Math.floor(k / (G * L));
    const K = linearShape(model.cfg, g.lead)[1];
    const where = `Stored Hessian of source ${s + 1}, layer ${layer} ${g.lead}`;
    if (!(v instanceof Float32Array) || v.length !== K * K) throw new PolyPruneError('BAD_ARGUMENT', `${where}: expected ${K} x ${K} floats, got ${v instanceof Float32Array ? v.length : typeof v}. Collect the statistics again.`);
    const bad = checkStoredHessian(v, K);
    if (bad) throw new PolyPruneError(bad.startsWith('a non-finite') ? 'NON_FINITE' : 'BAD_ARGUMENT', `${where} holds ${bad}; the stored copy is damaged. Collect the statistics again.`);
  });
  const perSource: Map<LinearName, PanelMatrix>[][] = [];
  try {
    for (let s = 0; s < S; s++) {
      const src: Map<LinearName, PanelMatrix>[] = [];
      perSource.push(src);
      for (let i = 0; i < L; i++) {
        const m = new Map<LinearName, PanelMatrix>();
        src.push(m);
        for (const [k, g] of INPUT_GROUPS.entries()) {
          const K = linearShape(model.cfg, g.lead)[1];
          const pm = allocPanels(gpu, K, panelRowsFor(gpu, K, 1, 'the mixer: the Hessian'), `mix.H.${s}.${i}.${g.lead}`);
          m.set(g.lead, pm);
          const v = values[(s * L + i) * G + k];
          pm.panels.forEach((t, p) => gpu.write(t, v.subarray(panelStart(pm, p) * K, (panelStart(pm, p) + panelRows(pm, p)) * K)));
        }
      }
    }
  } catch (e) {
    for (const src of perSource) for (const m of src) for (const p of m.values()) destroyPanels(p);
    throw e;
  }
  return { counts: [...counts], seqlen, perSource, bytes: denseHessiansBytes(model.cfg, S) };
}

/** H_w = sum_s w_s H_s (weights as given, already normalised) of one layer and input group, into new panels (the caller destroys them). */
export function mixedHessian(gpu: Gpu, h: DenseHessians, layer: number, group: LinearName, weights: readonly number[]): PanelMatrix {
  const first = h.perSource.findIndex((_, s) => weights[s] > 0);
  if (first < 0) throw new PolyPruneError('INTERNAL', 'mixedHessian: no source with a positive weight');
  const proto = h.perSource[first][layer].get(group);
  if (!proto) throw new PolyPruneError('INTERNAL', `No Hessian for layer ${layer} ${group}`);
  const out = allocPanels(gpu, proto.d, proto.rowsPer, 'mix.H');
  let started = false;
  h.perSource.forEach((src, s) => {
    if (!(weights[s] > 0)) return;
    const hs = src[layer].get(group)!;
    hs.panels.forEach((t, p) => hessianMix(gpu, t, out.panels[p], panelRows(out, p) * out.d, weights[s], !started));
    started = true;
  });
  return out;
}

/**
 * The instant mixer's layer loop, shared by SparseGPT and GPTQ: per layer, mix the four input groups'
 * Hessians (sum_s w_s H_s), then for each linear copy its dense weights back from `dense` into `slot`
 * and hand them to `solve` with the group's mixed Hessian (`last`: the group's last member, which may
 * use the mixed Hessian in place), store them and count the weights that are exactly 0.
 */
async function mixSolveModel(
  slot: LlamaModel,
  dense: LlamaModel,
  h: DenseHessians,
  weights: readonly number[],
  signal: AbortSignal | undefined,
  solve: (W: ReturnType<typeof prunable>['W'], H: PanelMatrix, at: { layer: number; name: LinearName; last: boolean }) => Promise<void>,
): Promise<MixPruneReport> {
  const gpu = slot.gpu;
  const w = normaliseWeights(weights, h.counts);
  const t0 = performance.now();
  const L = slot.cfg.numLayers;
  const counter = gpu.tensor([L * LINEAR_NAMES.length], 'u32', 'mix.zero_counts');
  let mixMs = 0;
  let zeros: number[][];
  const live: PanelMatrix[] = [];
  try {
    gpu.write(counter, new Uint32Array(L * LINEAR_NAMES.length));
    for (let i = 0; i < L; i++) {
      throwIfAborted(signal);
      const tm = performance.now();
      const mixed = INPUT_GROUPS.map((g) => {
        const m = mixedHessian(gpu, h, i, g.lead, w);
        live.push(m);
        return m;
      });
      await gpu.sync();
      mixMs += performance.now() - tm;
      const src = await dense.layer(i);
      const dst = await slot.layer(i);
      for (const [k, g] of INPUT_GROUPS.entries()) {
        for (const [u, name] of g.members.entries()) {
          const work = prunable(gpu, src.linears[name], dst.linears[name]);
          try {
            await solve(work.W, mixed[k], { layer: i, name, last: u === g.members.length - 1 });
            work.store();
            for (const ch of work.W.chunks) countZeros(gpu, ch.tensor, ch.rows * work.W.cols, counter, i * LINEAR_NAMES.length + LINEAR_NAMES.indexOf(name));
          } finally {
            work.free();
          }
        }
      }
      for (const m of mixed) destroyPanels(m);
      live.length = 0;
    }
    const counts = await gpu.read(counter);
    zeros = Array.from({ length: L }, (_, i) => [...counts.subarray(i * LINEAR_NAMES.length, (i + 1) * LINEAR_NAMES.length)]);
  } finally {
    counter.destroy();
    for (const m of live) destroyPanels(m);
  }
  const numel = LINEAR_NAMES.map((n) => linearShape(slot.cfg, n).reduce((a, b) => a * b, 1));
  let z = 0;
  let all = 0;
  for (const row of zeros) row.forEach((c, j) => ((z += c), (all += numel[j])));
  const t1 = performance.now();
  return { zeros, numel, overall: all ? z / all : 0, ms: t1 - t0, phases: { mixMs, sqrtMs: 0, selectMs: t1 - t0 - mixMs } };
}

/**
 * Re-prune `slot` (a resident copy of `dense`, same config) with SparseGPT from the mixed per-source
 * Hessians: per layer, mix the four input groups' Hessians, then for each linear copy its dense weights
 * back from `dense` and run `sparsegptPrune` with the mixed Hessian. No forward pass.
 */
export async function mixSparsegptModel(slot: LlamaModel, dense: LlamaModel, h: DenseHessians, weights: readonly number[], opts: PruneOptions & { signal?: AbortSignal }): Promise<MixPruneReport> {
  const gpu = slot.gpu;
  for (const name of LINEAR_NAMES) validatePruneOptions(opts, linearShape(slot.cfg, name)[1], `${name} (${linearShape(slot.cfg, name).join('x')})`);
  if (opts.nm && MIX_SPARSEGPT.blocksize % opts.nm.m !== 0) throw new PolyPruneError('BAD_ARGUMENT', `SparseGPT block size ${MIX_SPARSEGPT.blocksize} must be a multiple of the N:M group size ${opts.nm.m}.`);
  if (!slot.resident || !dense.resident) throw new PolyPruneError('BAD_ARGUMENT', 'The instant mixer needs the model resident on the GPU; this model streams its layers. Use Confirm (the sequential prune) instead.');
  return mixSolveModel(slot, dense, h, weights, opts.signal, async (W, H, { last }) => {
    // the solver dampens H in place: every member but the last gets a copy (as src/prune/run.ts)
    const Huse = last ? H : copyPanels(gpu, H, 'mix.H.copy');
    try {
      await sparsegptPrune(gpu, W, Huse, { sparsity: opts.sparsity, nm: opts.nm, ...MIX_SPARSEGPT });
    } finally {
      if (!last) destroyPanels(Huse);
    }
  });
}

/** What the GPTQ mixer takes besides the weights: the quantizer's settings, and where each matrix's codes and parameters go. */
export interface MixQuantizeOptions {
  readonly quantize?: QuantizeSettings;
  readonly onQuantized?: (layer: number, name: LinearName, q: GptqResult) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

/**
 * Re-quantize `slot` (a resident copy of `dense`, same config) with GPTQ from the mixed per-source
 * Hessians: per layer, mix the four input groups' Hessians (as SparseGPT's mixer), then for each linear
 * copy its dense weights back from `dense` and run `gptqQuantize` (the sequential quantize's solver:
 * the same bits, group size, act-order, static groups, block size 128 and dampening 0.01) with the
 * mixed Hessian. GPTQ reads H without changing it (the damped factor is a new matrix), so the members
 * of an input group share one mixed Hessian. No forward pass. `zeros` counts the dequantized weights
 * that are exactly 0 (a code equal to its zero point), not a pruning mask.
 */
export async function mixGptqModel(slot: LlamaModel, dense: LlamaModel, h: DenseHessians, weights: readonly number[], opts: PruneOptions & MixQuantizeOptions): Promise<MixPruneReport> {
  const gpu = slot.gpu;
  const q = opts.quantize;
  if (!q) throw new PolyPruneError('BAD_ARGUMENT', 'GPTQ in the mixer quantizes: give the bits (e.g. 4).');
  if (opts.sparsity !== undefined || opts.nm) throw new PolyPruneError('BAD_ARGUMENT', 'GPTQ quantizes and prunes nothing: give the bits and no sparsity or N:M.');
  if (!slot.resident || !dense.resident) throw new PolyPruneError('BAD_ARGUMENT', 'The instant mixer needs the model resident on the GPU; this model streams its layers. Use Confirm (the sequential quantize) instead.');
  return mixSolveModel(slot, dense, h, weights, opts.signal, async (W, H, { layer, name }) => {
    const res = await gptqQuantize(gpu, W, H, { ...q, ...MIX_SPARSEGPT });
    if (opts.onQuantized) await opts.onQuantized(layer, name, res);
  });
}

/** CPU reference of hessian_mix over the sources (f32, source order). */
export function refMixHessian(hs: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const out = new Float32Array(hs[0].length);
  let started = false;
  hs.forEach((h, s) => {
    if (!(weights[s] > 0)) return;
    const w = Math.fround(weights[s]);
    for (let i = 0; i < out.length; i++) {
      const t = Math.fround(w * h[i]);
      out[i] = started ? Math.fround(out[i] + t) : t;
    }
    started = true;
  });
  return out;
}

/**
 * SparseGPT's mixer (src/prune/mixer.ts): per-source Hessians, mixed as sum_s w_s H_s. `checkFits`
 * refuses statistics that do not fit: S sources x L layers x (the four input groups' K^2 floats),
 * plus `extraBytes` (the calibration activations) and one mixed Hessian set of one layer with a copy
 * (the instant update's scratch), against the engine's GPU budget, with the sizes and what to do
 * instead. Each Hessian is split into row panels within one storage binding (GPU_LIMITS from the
 * accumulator when not even one row fits).
 */
export const sparsegptMixer: Mixer<DenseHessians> = {
  checkFits(model, counts, extraBytes, budget) {
    const cfg = model.cfg;
    const sources = counts.length;
    const bytes = denseHessiansBytes(cfg, sources);
    const perLayer = denseHessiansBytes(cfg, 1) / cfg.numLayers;
    const need = bytes + extraBytes + 2 * perLayer;
    if (need <= budget) return;
    const maxSources = Math.floor((budget - extraBytes - 2 * perLayer) / (bytes / sources));
    const wanda = denseStatsBytes(model, 128);
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `SparseGPT mixer statistics keep one Hessian per source, layer and input group: ${sources} source${sources === 1 ? '' : 's'} x ${cfg.numLayers} layers x (${hessianShapes(cfg)}) floats = ${fmtBytes(bytes)}` +
        `${extraBytes ? ` plus ${fmtBytes(extraBytes)} of calibration activations` : ''}, more than this engine's GPU budget of ${fmtBytes(budget)}. ` +
        `${maxSources >= 1 ? `Mix at most ${maxSources} source${maxSources === 1 ? '' : 's'} at a time, ` : ''}mix with Wanda instead (${fmtBytes(wanda)} for 128 windows), or prune with SparseGPT on a mixed calibration set (polyprune prune --method sparsegpt --calib a.txt b.txt --calib-weights 0.7,0.3).`,
    );
  },
  collect: collectDenseHessians,
  mix: mixSparsegptModel,
  serialise: readDenseHessians,
  deserialise: uploadDenseHessians,
  free: freeDenseHessians,
  tensorNames: (sources, layers) => Array.from({ length: sources }, (_, s) => Array.from({ length: layers }, (_, i) => INPUT_GROUPS.map((g) => `hessian.${s}.${i}.${g.lead}`))).flat(2),
  tensorShape: (length) => {
    const K = Math.round(Math.sqrt(length));
    return [K, K];
  },
};

/**
 * GPTQ's mixer: the SAME per-source Hessians as SparseGPT's (collected, stored and checked by the same
 * code, under the same tensor names), quantized with GPTQ instead of pruned with SparseGPT. A
 * collection made for either method serves both (the registry's `statistic`, 'hessian').
 */
export const gptqMixer: Mixer<DenseHessians> = { ...sparsegptMixer, mix: mixGptqModel };
