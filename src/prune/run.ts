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
import { prunable } from '../gpu/ops';
import { countZeros, reconstructionError } from '../gpu/prune';
import { checkTokenIds } from '../io/tokenizer';
import { FiniteCheck, describeIndex, type NonFinite } from '../gpu/finite';
import { type LlamaModel, type LinearName, LINEAR_NAMES, linearShape } from '../model/llama';
import { type NM, validatePruneOptions } from './method';
import { METHODS, methodSpec, type PruneMethod } from './methods';
import { parsePruneSettings, type PruneSettings } from './methods/settings';
import { PRUNE_STEPS } from './methods/steps';
import { OutlierCounter, layerAchieved, owlLayerSparsity, sourceRanges, type SparsityProfile } from './owl';
import { WandaAccumulator, HessianAccumulator } from './stats';
import { panelRows, panelStart, readPanels } from './panels';
import { layerPass, type ActChunk } from './pass';
import { Pacer } from '../common/pace';
import type { GptqResult } from './gptq';

/** Calibration windows: n windows of seqlen token ids, row-major (n * seqlen), no BOS added. */
export interface CalibrationBatch {
  readonly ids: Int32Array;
  readonly n: number;
  readonly seqlen: number;
  /** Where the windows came from (a file name), for messages. */
  readonly name?: string;
  /**
   * The calibration sources (the texts of a mix) in window order: source g owns the next
   * `samples` windows. Language-aware Wanda keeps one statistic per source; absent = one source.
   */
  readonly sources?: readonly { name: string; language?: string; samples: number }[];
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
  /**
   * Sizes the calibration passes' calls by time (src/prune/pass.ts), so the signal is seen within
   * about a second on any adapter; default: a new one per run aiming at 0.5 s per call.
   */
  pacer?: Pacer;
  /** Called once per matrix, right after it was pruned, with its pruned weights (N, K) (a copy). */
  onMatrixPruned?: (layer: number, name: LinearName, weight: Float32Array) => void | Promise<void>;
  /**
   * Measure each matrix's relative reconstruction error ||WX - W'X||^2 / ||WX||^2 on its calibration
   * inputs X (the dense layer's inputs in the sequential run), via the Gram matrix of X (calibrated
   * methods only; reported in MatrixReport.reconError and `layerDone` events).
   */
  reconstructionError?: boolean;
  /** Layer-wise sparsity profile (default 'uniform'); 'owl' for outlier-weighed layer-wise sparsity (src/prune/owl.ts). */
  profile?: SparsityProfile;
  /** OWL's outlier threshold M (default 5). */
  owlM?: number;
  /** OWL's lambda (default 0.08): the layer sparsities spread over 2 lambda. */
  owlLambda?: number;
  /** wanda-lang: weight of the spread of the per-source statistics (default 1). */
  langBeta?: number;
  /** SparseGPT only: the in-run Hessian (K, K) of each input group (its lead linear: q_proj, o_proj, gate_proj, down_proj), before pruning. */
  onHessian?: (layer: number, group: LinearName, values: Float32Array) => void | Promise<void>;
  /** Quantizing methods (GPTQ, src/prune/gptq.ts): bits (2, 3, 4, 8), columns per group (default 128; -1 per channel), act-order, static groups. */
  quantize?: { bits: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean };
  /** Quantizing methods: each matrix's integer codes and parameters, right after it was quantized. */
  onQuantized?: (layer: number, name: LinearName, q: GptqResult) => void | Promise<void>;
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
  /** The layer-wise profile used: 'uniform', or OWL with its outlier ratios (%) and the target sparsity of each layer. */
  layerProfile: { profile: 'uniform' } | { profile: 'owl'; m: number; lambda: number; outlierRatio: number[]; target: number[] };
  /** wanda-lang: beta and the sources whose statistics were combined (name, language, windows). */
  languageAware?: { beta: number; sources: { name: string; language?: string; samples: number }[] };
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

/** The last linear of each input group to read the group's statistic. */
const LAST_USERS: ReadonlySet<LinearName> = new Set(['self_attn.v_proj', 'self_attn.o_proj', 'mlp.up_proj', 'mlp.down_proj']);

/**
 * Parse the run's settings once (src/prune/methods/settings.ts) and check them against this model
 * and calibration batch; BAD_ARGUMENT otherwise. Returns the resolved settings the run takes.
 */
export function validatePruneArgs(model: LlamaModel, calib: CalibrationBatch | null, opts: PruneModelOptions): PruneSettings {
  const settings = parsePruneSettings(opts);
  if (!methodSpec(settings.method).quantizes) for (const name of LINEAR_NAMES) validatePruneOptions(opts, linearShape(model.cfg, name)[1], `${name} (${linearShape(model.cfg, name).join('x')})`);
  if (!METHODS[settings.method].calibrated) return settings;
  if (!calib) throw new PolyPruneError('BAD_ARGUMENT', `${settings.method} needs calibration windows; give calibration text or token windows.`);
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
  if (calib.sources) {
    const total = calib.sources.reduce((a, s) => a + s.samples, 0);
    if (total !== n || calib.sources.some((s) => !Number.isInteger(s.samples) || s.samples < 0)) {
      throw new PolyPruneError('BAD_ARGUMENT', `The calibration sources own ${total} windows in all, but there are ${n}.`);
    }
  }
  return settings;
}

/** The calibration sources that own windows (one unnamed source when none are given). */
function windowSources(calib: CalibrationBatch): { name: string; language?: string; samples: number }[] {
  const all = calib.sources ?? [{ name: calib.name ?? 'calibration windows', samples: calib.n }];
  return all.filter((s) => s.samples > 0);
}

/**
 * Prune every linear of every decoder layer of `model` in place (see the file comment). `calib` may
 * be null for magnitude. Returns zero counts per matrix and timings.
 */
export async function pruneModel(model: LlamaModel, calib: CalibrationBatch | null, opts: PruneModelOptions): Promise<PruneReport> {
  const settings = validatePruneArgs(model, calib, opts);
  throwIfAborted(opts.signal);
  const gpu = model.gpu;
  const L = model.cfg.numLayers;
  const t0 = now();
  await gpu.sync();
  gpu.resetPeak();
  const report: PruneReport = {
    method: settings.method,
    structure: settings.quantize ? `${methodSpec(settings.method).quantizes ? '' : `${settings.nm ? `${settings.nm.n}:${settings.nm.m}` : 'unstructured'} + `}${settings.quantize.bits}-bit, ${settings.quantize.groupSize === -1 ? 'per channel' : `group ${settings.quantize.groupSize}`}${settings.quantize.actOrder ? ', act-order' : ''}${settings.quantize.staticGroups ? ', static groups' : ''}` : settings.nm ? `${settings.nm.n}:${settings.nm.m}` : 'unstructured',
    perMatrix: [],
    overall: 0,
    timings: { forwardMs: 0, scoringMs: 0, perLayerMs: [], totalMs: 0 },
    peakGpuBytes: 0,
    layerProfile: { profile: 'uniform' },
  };
  const prof = settings.layers;
  const target = settings.sparsity;
  /** The sparsity of each layer (unstructured; N:M ignores it). */
  let layerSparsity: number[] = Array.from({ length: L }, () => target);
  const spec = methodSpec(settings.method);
  const lang = spec.perSource && calib ? windowSources(calib) : null;
  if (lang) report.languageAware = { beta: prof.langBeta as number, sources: lang.map((s) => ({ ...s })) };
  const usesWandaStats = spec.statistic === 'norms';
  const modified: number[] = [];
  const acts: ActChunk[] = [];
  const pacer = opts.pacer ?? new Pacer(500);
  const live: ({ free(): void } | { destroy(): void })[] = [];
  const measure = !!opts.reconstructionError && spec.calibrated;
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
    const sequential = spec.calibrated;
    if (sequential) embedCalibration(model, calib!, opts, acts);
    const S = calib?.seqlen ?? 1;
    if (prof.owl) {
      // OWL's first pass over the dense model, then the calibration windows again from the start.
      const outlierRatio = await owlOutlierRatios(model, acts, S, prof.owl.m, opts, pacer, check, live, report);
      for (const a of acts) a.x.destroy();
      acts.length = 0;
      embedCalibration(model, calib!, opts, acts);
      layerSparsity = owlLayerSparsity(outlierRatio, target, prof.owl.lambda);
      report.layerProfile = { profile: 'owl', m: prof.owl.m, lambda: prof.owl.lambda, outlierRatio, target: layerSparsity };
    }
    for (let i = 0; i < L; i++) {
      throwIfAborted(opts.signal);
      const tl = now();
      // 1. dense forward with statistics
      const stats = new Map<LinearName, WandaAccumulator | HessianAccumulator>();
      // wanda-lang: one more Wanda statistic per calibration source and input group
      const perSource = new Map<LinearName, WandaAccumulator[]>();
      // Gram matrices of the inputs for the reconstruction error (SparseGPT's Hessian is one already).
      const grams = new Map<LinearName, HessianAccumulator>();
      if (sequential) {
        progress(i, 'forward', 0);
        const tf = now();
        for (const name of new Set(Object.values(INPUT_GROUP))) {
          const K = linearShape(model.cfg, name)[1];
          const acc = usesWandaStats ? new WandaAccumulator(gpu, K) : new HessianAccumulator(gpu, K);
          stats.set(name, acc);
          live.push(acc);
          if (lang && lang.length > 1) {
            const accs = lang.map(() => new WandaAccumulator(gpu, K));
            perSource.set(name, accs);
            live.push(...accs);
          }
          if (measure) {
            const g = acc instanceof HessianAccumulator ? acc : new HessianAccumulator(gpu, K);
            grams.set(name, g);
            if (g !== acc) live.push(g);
          }
        }
        const ranges = lang ? sourceRanges(lang.map((s) => s.samples)) : [];
        await layerPass(model, i, acts, S, {
          signal: opts.signal,
          pacer,
          replace: false,
          capture: (name, input, rows, _cols, first, windows) => {
            if (INPUT_GROUP[name] !== name) return;
            stats.get(name)!.addBatch(input, rows, windows);
            const g = grams.get(name);
            if (g && g !== stats.get(name)) g.addBatch(input, rows, windows);
            // the windows of this call that belong to each source, in window order
            perSource.get(name)?.forEach((acc, k) => {
              const lo = Math.max(ranges[k].start, first);
              const hi = Math.min(ranges[k].end, first + windows);
              if (hi > lo) acc.addBatch(input, (hi - lo) * S, hi - lo, (lo - first) * S);
            });
          },
        });
        report.timings.forwardMs += now() - tf;
        for (const [name, acc] of stats) {
          const K = linearShape(model.cfg, name)[1];
          const what = `${usesWandaStats ? 'Wanda input norms' : 'SparseGPT Hessian'} of layer ${i} ${name}${name === 'self_attn.q_proj' ? ' (shared by q/k/v)' : name === 'mlp.gate_proj' ? ' (shared by gate/up)' : ''}`;
          if (acc instanceof WandaAccumulator) check.add(what, acc.scaler, acc.scaler.numel, {});
          // A Hessian too wide for one binding is in row panels: check each, with its row offset.
          else acc.matrix.panels.forEach((t, p) => check.add(what, t, t.numel, { base: panelStart(acc.matrix, p) * K, cols: K }));
        }
        throwNonFiniteRun(await check.read(), i);
        if (opts.onHessian) for (const [name, acc] of stats) if (acc instanceof HessianAccumulator) await opts.onHessian(i, name, await readPanels(gpu, acc.matrix));
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
        // 16-bit weights are pruned in an f32 working copy (the reference prunes in f32) and written
        // back rounded to the checkpoint's dtype; the copy is then refreshed from the stored weights
        // so that zeros, checks and the reconstruction error see exactly what the model keeps.
        const stored = layer.linears[name];
        const work = prunable(gpu, stored, stored);
        const W = work.W;
        live.push(...work.tensors);
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
        const ratio = settings.nm ? undefined : layerSparsity[i];
        await PRUNE_STEPS[settings.method]({
          gpu,
          layer: i,
          name,
          weight: W,
          scaler: acc instanceof WandaAccumulator ? acc.scaler : null,
          perSource: perSource.get(INPUT_GROUP[name])?.map((x) => x.scaler),
          hessian: acc instanceof HessianAccumulator ? acc.matrix : null,
          // q/k (gate) share their input group's statistic with v (up), the group's last user; with
          // the reconstruction error measured, it must stay intact for every user.
          keepStatistic: !!gram || !LAST_USERS.has(name),
          sparsity: ratio,
          nm: settings.nm,
          settings: { blocksize: settings.blocksize, percdamp: settings.percdamp, langBeta: prof.langBeta, quantize: settings.quantize },
          onStatistic: opts.onStatistic,
          onQuantized: opts.onQuantized,
        });
        work.store();
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
        work.free();
        for (const t of work.tensors) live.splice(live.indexOf(t), 1);
        opts.onProgress?.({ kind: 'prune', matrix: `model.layers.${i}.${name}.weight`, done: i * LINEAR_NAMES.length + j + 1, total: L * LINEAR_NAMES.length });
      }
      const zeros = await gpu.read(counter);
      throwNonFiniteRun(await check.read(), i);
      report.timings.scoringMs += now() - tp;
      for (const acc of new Set([...stats.values(), ...grams.values(), ...[...perSource.values()].flat()])) {
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
        layerSparsity: layerAchieved(report.perMatrix.filter((m) => m.layer === i))[i],
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
        await layerPass(model, i, acts, S, { signal: opts.signal, pacer, replace: true });
        for (const a of acts) check.add(`output of layer ${i} (input of layer ${i + 1})`, a.x, a.x.numel, { cols: model.cfg.hiddenSize });
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

/**
 * OWL's first pass (src/prune/owl.ts): every layer over the DENSE activations of the calibration
 * windows (each layer's output is the next layer's input, nothing pruned), Wanda's statistic of
 * its four input groups, and the outlier ratio of the Wanda scores of its seven linears. `acts`
 * hold the embeddings on entry and the last layer's outputs on return.
 */
async function owlOutlierRatios(
  model: LlamaModel,
  acts: ActChunk[],
  S: number,
  m: number,
  opts: PruneModelOptions,
  pacer: Pacer,
  check: FiniteCheck,
  live: ({ free(): void } | { destroy(): void })[],
  report: PruneReport,
): Promise<number[]> {
  const gpu = model.gpu;
  const L = model.cfg.numLayers;
  const ratios: number[] = [];
  for (let i = 0; i < L; i++) {
    throwIfAborted(opts.signal);
    const t = now();
    opts.onProgress?.({ kind: 'calibrate', message: `OWL: outlier ratio of layer ${i + 1} of ${L} (dense pass)`, done: i, total: L });
    const stats = new Map<LinearName, WandaAccumulator>();
    for (const name of new Set(Object.values(INPUT_GROUP))) {
      const acc = new WandaAccumulator(gpu, linearShape(model.cfg, name)[1]);
      stats.set(name, acc);
      live.push(acc);
    }
    await layerPass(model, i, acts, S, {
      signal: opts.signal,
      pacer,
      replace: true,
      capture: (name, input, rows, _cols, _first, windows) => {
        if (INPUT_GROUP[name] === name) stats.get(name)!.addBatch(input, rows, windows);
      },
    });
    for (const a of acts) check.add(`dense output of layer ${i} (OWL's first pass)`, a.x, a.x.numel, { cols: model.cfg.hiddenSize });
    for (const [name, acc] of stats) check.add(`Wanda input norms of layer ${i} ${name} (OWL's first pass)`, acc.scaler, acc.scaler.numel, {});
    throwNonFiniteRun(await check.read(), i);
    const scalers = new Map<LinearName, Float32Array>();
    for (const [name, acc] of stats) {
      scalers.set(name, await gpu.readF32(acc.scaler));
      acc.free();
      live.splice(live.indexOf(acc), 1);
    }
    report.timings.forwardMs += now() - t;
    // The layer's mean score needs every matrix, so each is read twice (one matrix on the CPU at a time).
    const counter = new OutlierCounter(m);
    for (const pass of ['sum', 'count'] as const) {
      for (const name of LINEAR_NAMES) {
        const K = linearShape(model.cfg, name)[1];
        counter[pass](await model.readLinear(i, name), scalers.get(INPUT_GROUP[name])!, K);
      }
    }
    ratios.push(counter.ratio);
    model.releaseLayer(i);
  }
  return ratios;
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
function embedCalibration(model: LlamaModel, calib: CalibrationBatch, opts: PruneModelOptions, acts: ActChunk[]): void {
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
