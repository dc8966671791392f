/**
 * The calibration mixer behind the Engine API (collectStats, mixPrune, confirmMix; see
 * src/prune/mix.ts for the statistic and docs/mixer.md for the whole feature). Types crossing the API
 * and the engine-side bookkeeping of a statistics handle.
 */
import { PolyPruneError } from '../common/errors';
import { VERSION } from '../common/version';
import { buildCalibration, allocateSamples, sha256Hex, type CalibrationFileProvenance } from '../calib/text';
import { checkTokenIds } from '../io/tokenizer';
import { pruningRecord, type PruningRecord } from '../export/hf';
import { LINEAR_NAMES, linearShape } from '../model/llama';
import { MIX_METHODS, isMixMethod, type MixMethod, type NM } from '../prune/method';
import { denseHessiansBytes, hessianShapes, type DenseHessians } from '../prune/mixHessian';
import { denseStatsBytes, type DenseStats, type MixPruneReport } from '../prune/mix';
import { fmtBytes } from '../gpu/device';
import type { PruneReport } from '../prune/run';
import type { LoadedModel } from './engine';

/** One calibration source of a mixer: text (windows are drawn as for `prune`) or explicit windows. */
export interface MixSourceRequest {
  name: string;
  language?: string;
  text?: string;
  bytes?: Uint8Array;
  /** Explicit token windows (n x seqlen, seqlen = the request's). */
  windows?: { ids: Int32Array; n: number; seqlen: number };
}

/** The pruning methods the mixer keeps statistics for (the registry's `mixer.supported`). */
export type { MixMethod };

export interface CollectStatsRequest {
  /** 'wanda' (per-window input norms) or 'sparsegpt' (per-source Hessians; refused with a message when they do not fit). */
  method: MixMethod;
  sources: MixSourceRequest[];
  /** Windows drawn from EACH text source (its own seed, as a one-source prune with `seed`). */
  nsamples: number;
  seqlen: number;
  seed?: number;
}

export interface StatsSourceSummary {
  name: string;
  language: string | null;
  windows: number;
  /** UTF-8 bytes and SHA-256 of the text (0 and the ids' hash for explicit windows). */
  bytes: number;
  sha256: string;
}

/** A statistics handle: per-window dense Wanda statistics, or per-source dense SparseGPT Hessians, of every layer, kept on the GPU. */
export interface StatsSummary {
  id: string;
  modelId: string;
  method: MixMethod;
  sources: StatsSourceSummary[];
  nsamples: number;
  seqlen: number;
  seed: number | null;
  layers: number;
  gpuBytes: number;
  /** Time of the one calibration pass (ms). */
  collectMs: number;
}

export interface MixRequest {
  /** One weight per source (>= 0, normalised to sum 1): the share of the calibration set. */
  weights: number[];
  sparsity?: number;
  nm?: NM;
}

/** Where a mix came from, in the pruning record (pruning.json) and the result record. */
export interface MixInfo {
  /** 'instant': masks from the mixed dense statistics; 'confirm': the sequential prune of that mix. */
  mode: 'instant' | 'confirm';
  /** Normalised weights, per source (statistics' order). */
  weights: number[];
  /** Windows per source: all collected windows of the used sources (instant), or drawn for the mix (confirm). */
  windows: number[];
  sources: { name: string; language: string | null }[];
}

export type MixedPruningRecord = PruningRecord & { mix?: MixInfo };

export interface MixResult {
  /** The mixer's pruned model: the SAME id on every call for one statistics handle (unless unloaded). */
  model: import('./api').ModelSummary;
  weights: number[];
  overall: number;
  /** sparsity[layer][matrix] (LINEAR_MATRICES order). */
  sparsity: number[][];
  /** Engine time of this update: mixing the statistics, restoring dense weights, masking, counting zeros (ms); masks are read back only for maskOverlap and export. */
  updateMs: number;
  /** Where updateMs went (ms): mixing + read-back of the statistics, sqrt + upload, restore + select + zero counts, the record (hashes) and bookkeeping. */
  phases: { mixMs: number; sqrtMs: number; selectMs: number; recordMs: number };
  record: MixedPruningRecord;
  mix: MixInfo;
}

export interface ConfirmMixResult {
  instant: MixResult;
  /** The exact sequential prune on windows drawn in the mix's proportions from the collected ones. */
  exact: import('./api').PruneResult;
  /** Windows of each source in the confirm run. */
  windows: number[];
  /** IoU of the pruned positions, instant vs exact, per layer and matrix. */
  overlap: import('./api').MaskOverlap;
  /** Mean IoU over the matrices of each layer. */
  layerIou: (number | null)[];
}

/**
 * A statistics handle as host arrays (`readStats`), to keep (the page stores it in IndexedDB) and to
 * load again without a calibration pass (`loadStats`). Structured-cloneable.
 */
export interface StatsData {
  format: 'polyprune-mix-stats';
  version: 1;
  /** Content hash of the model the statistics were collected on (ModelSummary.sha256). */
  modelSha256: string;
  method: MixMethod;
  sources: StatsSourceSummary[];
  nsamples: number;
  seqlen: number;
  seed: number | null;
  layers: number;
  /** All windows, source after source (n x seqlen). */
  ids: Int32Array;
  files: CalibrationFileProvenance[];
  /**
   * wanda: values[layer * 4 + group] = (N, K) per-window sums of squares (groups: q/k/v, o, gate/up, down);
   * sparsegpt: values[(source * layers + layer) * 4 + group] = (K, K) the source's Hessian, row-major.
   */
  values: Float32Array[];
}

/** Calibration forward work the engine has done since it started (the mixer's "no new pass" check). */
export interface EngineCounters {
  /** Calibration passes (a calibrated `prune`, a `collectStats`). */
  calibrationRuns: number;
  /** Decoder layers forwarded over calibration activations (one per layer and pass). */
  calibrationForwards: number;
}

/** Engine-side state of a statistics handle. */
export interface StatsHandle {
  summary: StatsSummary;
  /** Wanda's per-window statistics or SparseGPT's per-source Hessians (`kind: 'sparsegpt'`). */
  stats: DenseStats | DenseHessians;
  /** All windows, source after source. */
  ids: Int32Array;
  files: CalibrationFileProvenance[];
  /** The mixer's pruned model, re-masked on every mixPrune. */
  slotId?: string;
}

/** Windows of every source (source after source) and their provenance. */
export async function mixCalibration(base: LoadedModel, req: CollectStatsRequest, signal: AbortSignal): Promise<{ ids: Int32Array; counts: number[]; files: CalibrationFileProvenance[] }> {
  if (!isMixMethod(req.method)) throw new PolyPruneError('BAD_ARGUMENT', `Unknown mixer method '${String(req.method)}'. Supported: ${MIX_METHODS.join(', ')}.`);
  if (!Array.isArray(req.sources) || req.sources.length < 1) throw new PolyPruneError('BAD_ARGUMENT', 'The mixer needs at least one calibration source.');
  const names = new Set<string>();
  for (const s of req.sources) {
    if (names.has(s.name)) throw new PolyPruneError('BAD_ARGUMENT', `Calibration source '${s.name}' is listed twice.`);
    names.add(s.name);
  }
  const { seqlen } = req;
  const parts: Int32Array[] = [];
  const counts: number[] = [];
  const files: CalibrationFileProvenance[] = [];
  const enc = new TextEncoder();
  for (const s of req.sources) {
    if (s.windows) {
      const w = s.windows;
      if (w.seqlen !== seqlen || w.ids.length !== w.n * w.seqlen || !(w.n >= 1)) throw new PolyPruneError('BAD_ARGUMENT', `Calibration source '${s.name}': windows must be n x ${seqlen} tokens, got ${w.n} x ${w.seqlen} (${w.ids.length} ids).`);
      checkTokenIds(w.ids, base.cfg.vocabSize, `Calibration windows ${s.name}`);
      parts.push(w.ids);
      counts.push(w.n);
      files.push({ name: s.name, ...(s.language ? { language: s.language } : {}), weight: 1, sha256: await sha256Hex(new Uint8Array(w.ids.buffer, w.ids.byteOffset, w.ids.byteLength)), bytes: 0, paragraphs: 0, tokens: w.ids.length, samples: w.n, seed: -1, offsets: [] });
    } else {
      const c = await buildCalibration({
        texts: [{ name: s.name, bytes: s.bytes ?? enc.encode(s.text ?? ''), language: s.language }],
        tokenizer: base.tokenizer,
        nsamples: req.nsamples,
        seqlen,
        seed: req.seed ?? 0,
        signal,
      });
      parts.push(c.ids);
      counts.push(c.n);
      files.push(c.files[0]);
    }
  }
  const n = counts.reduce((a, b) => a + b, 0);
  const ids = new Int32Array(n * seqlen);
  let o = 0;
  for (const p of parts) {
    ids.set(p, o);
    o += p.length;
  }
  return { ids, counts, files };
}

/** The windows a confirm run uses: `total` windows split by the weights (largest remainder), the first ones of each source. */
export function confirmWindows(h: StatsHandle, weights: readonly number[], total: number): { ids: Int32Array; counts: number[] } {
  const S = h.summary.seqlen;
  const counts = allocateSamples(total, weights);
  const ids = new Int32Array(total * S);
  let start = 0;
  let o = 0;
  h.stats.counts.forEach((n, s) => {
    if (counts[s] > n) {
      throw new PolyPruneError('BAD_ARGUMENT', `Confirm needs ${counts[s]} windows of '${h.summary.sources[s].name}' for this mix but only ${n} were collected; collect at least ${total} windows per source.`);
    }
    ids.set(h.ids.subarray(start * S, (start + counts[s]) * S), o);
    o += counts[s] * S;
    start += n;
  });
  return { ids, counts };
}

/** pruning.json of an instant mix: the windows of the used sources, their weights, the zero counts. */
export async function instantRecord(base: LoadedModel, h: StatsHandle, weights: number[], r: MixPruneReport, opts: { sparsity?: number; nm?: NM }): Promise<{ record: MixedPruningRecord; windows: { ids: Int32Array; n: number; seqlen: number } }> {
  const S = h.summary.seqlen;
  const used: Int32Array[] = [];
  let start = 0;
  h.stats.counts.forEach((n, s) => {
    if (weights[s] > 0) used.push(h.ids.subarray(start * S, (start + n) * S));
    start += n;
  });
  const total = used.reduce((a, p) => a + p.length, 0);
  const ids = new Int32Array(total);
  let o = 0;
  for (const p of used) {
    ids.set(p, o);
    o += p.length;
  }
  const perMatrix: PruneReport['perMatrix'] = [];
  r.zeros.forEach((row, i) =>
    LINEAR_NAMES.forEach((name, j) => {
      const shape = linearShape(base.cfg, name);
      perMatrix.push({ layer: i, name, tensor: `model.layers.${i}.${name}.weight`, shape, zeros: row[j], numel: r.numel[j], sparsity: row[j] / r.numel[j] });
    }),
  );
  const method = h.summary.method;
  const report: PruneReport = { method, structure: opts.nm ? `${opts.nm.n}:${opts.nm.m}` : 'unstructured', layerProfile: { profile: 'uniform' }, perMatrix, overall: r.overall, timings: { forwardMs: 0, scoringMs: r.ms, perLayerMs: [], totalMs: r.ms }, peakGpuBytes: 0 };
  const files = h.files.flatMap((f, s) => (weights[s] > 0 ? [{ ...f, weight: weights[s] }] : []));
  const rec: MixedPruningRecord = await pruningRecord({
    report,
    options: { method, sparsity: opts.sparsity, nm: opts.nm },
    calibration: { ids, n: total / S, seqlen: S, seed: h.summary.seed ?? undefined, files },
    modelSource: base.summary.source,
    modelSha256: base.summary.sha256,
    modelType: base.cfg.modelType,
    toolVersion: VERSION,
  });
  rec.mix = mixInfo(h, 'instant', weights, h.stats.counts.map((n, s) => (weights[s] > 0 ? n : 0)));
  return { record: rec, windows: { ids, n: total / S, seqlen: S } };
}

export function mixInfo(h: StatsHandle, mode: MixInfo['mode'], weights: number[], windows: number[]): MixInfo {
  return { mode, weights: [...weights], windows: [...windows], sources: h.summary.sources.map((s) => ({ name: s.name, language: s.language })) };
}

/**
 * Refuses (BAD_ARGUMENT, with the sizes and what to do instead) SparseGPT mixer statistics that do not
 * fit: S sources x L layers x (the four input groups' K^2 floats), plus `extraBytes` (the calibration
 * activations) and one mixed Hessian set of one layer with a copy (the instant update's scratch),
 * against the engine's GPU budget. Each Hessian is split into row panels within one storage binding
 * (GPU_LIMITS from the accumulator when not even one row fits).
 */
export function checkSparsegptStatsFit(base: LoadedModel, sources: number, extraBytes: number, budget: number): void {
  const cfg = base.cfg;
  const bytes = denseHessiansBytes(cfg, sources);
  const perLayer = denseHessiansBytes(cfg, 1) / cfg.numLayers;
  const need = bytes + extraBytes + 2 * perLayer;
  if (need > budget) {
    const maxSources = Math.floor((budget - extraBytes - 2 * perLayer) / (bytes / sources));
    const wanda = denseStatsBytes(base.model, 128);
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `SparseGPT mixer statistics keep one Hessian per source, layer and input group: ${sources} source${sources === 1 ? '' : 's'} x ${cfg.numLayers} layers x (${hessianShapes(cfg)}) floats = ${fmtBytes(bytes)}` +
        `${extraBytes ? ` plus ${fmtBytes(extraBytes)} of calibration activations` : ''}, more than this engine's GPU budget of ${fmtBytes(budget)}. ` +
        `${maxSources >= 1 ? `Mix at most ${maxSources} source${maxSources === 1 ? '' : 's'} at a time, ` : ''}mix with Wanda instead (${fmtBytes(wanda)} for 128 windows), or prune with SparseGPT on a mixed calibration set (polyprune prune --method sparsegpt --calib a.txt b.txt --calib-weights 0.7,0.3).`,
    );
  }
}
