/**
 * The calibration mixer behind the Engine API (collectStats, mixPrune, confirmMix; see
 * src/prune/mix.ts for the statistic and docs/mixer.md for the whole feature). Types crossing the API
 * and the engine-side bookkeeping of a statistics handle.
 */
import { PolyPruneError } from '../common/errors';
import { VERSION } from '../common/version';
import { buildCalibration, allocateSamples, sha256Hex, type CalibrationFileProvenance } from '../calib/text';
import { checkTokenIds } from '../io/tokenizer';
import { pruningRecord } from '../export/hf';
import { LINEAR_NAMES, linearShape } from '../model/llama';
import { MIX_METHODS, isMixMethod, type MixMethod, type NM } from '../prune/method';
import type { QuantizedTensors } from '../export/gptq';
import type { MixStats } from '../prune/mixer';
import type { MixPruneReport } from '../prune/mix';
import type { PruneReport } from '../prune/run';
import type { LoadedModel } from './loaded';
import type { CollectStatsRequest, MaskOverlap, MixInfo, MixedPruningRecord, StatsSummary } from './api';

/** Engine-side state of a statistics handle. */
export interface StatsHandle {
  summary: StatsSummary;
  /** The statistics of the summary's method (its mixer, src/prune/mixer.ts: Wanda's per-window norms, SparseGPT's per-source Hessians). */
  stats: MixStats;
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
        texts: [{ name: s.name, bytes: s.bytes ?? enc.encode(s.text ?? ''), language: s.language, ...(s.generated ? { generated: s.generated } : {}) }],
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

type MixQuantize = { bits: number; groupSize: number; actOrder: boolean; staticGroups: boolean };

/** The structure part of a mix model's name: '0.5', '2of4', '4bit-g128' (as `prune` names its models). */
export function mixStructure(o: { sparsity?: number; nm?: NM; quantize?: MixQuantize }): string {
  const q = o.quantize;
  if (q) return `${q.bits}bit-g${q.groupSize === -1 ? 'channel' : q.groupSize}${q.actOrder ? '-actorder' : ''}`;
  return o.nm ? `${o.nm.n}of${o.nm.m}` : `${o.sparsity}`;
}

/** The report's structure text of a quantized mix ('4-bit, group 128, act-order'), as the sequential run writes it. */
function quantStructure(q: MixQuantize): string {
  return `${q.bits}-bit, ${q.groupSize === -1 ? 'per channel' : `group ${q.groupSize}`}${q.actOrder ? ', act-order' : ''}${q.staticGroups ? ', static groups' : ''}`;
}

/**
 * Instant vs exact GPTQ: per layer and matrix, the share of integer codes that are equal (1 = the
 * same codes). The codes alone: equal codes with different scales or zeros are counted equal.
 */
export function codesAgreement(a: QuantizedTensors, b: QuantizedTensors, layers: number): MaskOverlap {
  const iou = Array.from({ length: layers }, (_, i) =>
    LINEAR_NAMES.map((name) => {
      const t = `model.layers.${i}.${name}.weight`;
      const x = a.get(t);
      const y = b.get(t);
      if (!x || !y || x.codes.length !== y.codes.length || !x.codes.length) return null;
      let same = 0;
      for (let k = 0; k < x.codes.length; k++) if (x.codes[k] === y.codes[k]) same++;
      return same / x.codes.length;
    }),
  );
  return { matrices: [...LINEAR_NAMES], iou };
}

/** pruning.json of an instant mix: the windows of the used sources, their weights, the zero counts (GPTQ: the quantizer's settings). */
export async function instantRecord(base: LoadedModel, h: StatsHandle, weights: number[], r: MixPruneReport, opts: { method: MixMethod; sparsity?: number; nm?: NM; quantize?: MixQuantize }): Promise<{ record: MixedPruningRecord; windows: { ids: Int32Array; n: number; seqlen: number } }> {
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
  const method = opts.method;
  const report: PruneReport = { method, structure: opts.quantize ? quantStructure(opts.quantize) : opts.nm ? `${opts.nm.n}:${opts.nm.m}` : 'unstructured', layerProfile: { profile: 'uniform' }, perMatrix, overall: r.overall, timings: { forwardMs: 0, scoringMs: r.ms, perLayerMs: [], totalMs: r.ms }, peakGpuBytes: 0 };
  const files = h.files.flatMap((f, s) => (weights[s] > 0 ? [{ ...f, weight: weights[s] }] : []));
  const rec: MixedPruningRecord = await pruningRecord({
    report,
    options: { method, sparsity: opts.sparsity, nm: opts.nm, ...(opts.quantize ? { quantize: opts.quantize } : {}) },
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
