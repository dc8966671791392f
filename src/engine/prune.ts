import { PolyPruneError } from '../common/errors';
import { VERSION } from '../common/version';
import { fmtBytes } from '../common/format';
import type { ProgressCallback } from '../common/progress';
import { buildCalibration, type Calibration } from '../calib/text';
import { pruneModel, type PruneReport } from '../prune/run';
import { METHODS, parsePruneSettings } from '../prune/method';
import { LlamaModel } from '../model/llama';
import { PrunedTensors, pruningRecord, type PruningRecord } from '../export/hf';
import { overlayCheckpoint } from './overlay';
import type { Checkpoint } from '../io/safetensors';
import type { TensorStore } from '../io/spill';
import { packMask, type ModelMask } from '../prune/mask';
import { LINEAR_NAMES } from '../model/names';
import type { LoadedModel } from './loaded';
import type { PruneRequest } from './api';
import { QuantizedTensors } from '../export/gptq';
import { Pacer } from '../common/pace';

const calibPacers = new WeakMap<LlamaModel, Pacer>();

/**
 * The pacer of a model's calibration passes (src/prune/pass.ts: prune and mixer collection, calls of
 * about half a second, so Cancel acts within seconds on a CPU adapter); kept per base model, so each
 * prune of an experiment starts at the rate the last one measured.
 */
export function calibrationPacer(model: LlamaModel): Pacer {
  let p = calibPacers.get(model);
  if (!p) calibPacers.set(model, (p = new Pacer(500)));
  return p;
}

export interface PruneOutcome {
  loaded: Omit<LoadedModel, 'summary'>;
  mask: ModelMask;
  pruned: PrunedTensors;
  /** GPTQ: every quantized matrix's integer codes and parameters (for the hf-gptq and ONNX q exports). */
  quantized: QuantizedTensors | null;
  report: PruneReport;
  record: PruningRecord;
  /** The calibration windows used (null for magnitude). */
  calibration: { ids: Int32Array; n: number; seqlen: number } | null;
  name: string;
}

/**
 * Prune a fresh copy of a loaded model (the original stays as it is). The pruned weights are kept in
 * the source dtype; the returned model is loaded from them, so evaluation sees exactly what an export
 * writes.
 */
/** Default GPU memory assumed for calibration activations when the engine is given no figure (WebGPU does not report it). */
export const DEFAULT_GPU_MEMORY_BYTES = 16 * 2 ** 30;

/**
 * Refuses a calibration request too large to hold before any work: the token ids must fit one
 * typed array in this process (< 2 GiB) and the activations (n x seqlen x hidden f32, kept on the
 * GPU for the whole run) must fit `gpuMemoryBytes`. The message gives both numbers.
 */
export function checkCalibrationMemory(n: number, seqlen: number, hidden: number, gpuMemoryBytes = DEFAULT_GPU_MEMORY_BYTES): void {
  if (!(Number.isSafeInteger(n) && n >= 1 && Number.isSafeInteger(seqlen) && seqlen >= 1)) return; // validated later with its own message
  const idBytes = n * seqlen * 4;
  const actBytes = n * seqlen * hidden * 4;
  if (idBytes >= 2 ** 31 || actBytes > gpuMemoryBytes) {
    const maxN = Math.max(1, Math.floor(Math.min((2 ** 31 - 1) / (seqlen * 4), gpuMemoryBytes / (seqlen * hidden * 4))));
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `${n} calibration windows of ${seqlen} tokens need ${fmtBytes(actBytes)} of GPU memory for the activations (${n} x ${seqlen} x ${hidden} floats)${idBytes >= 2 ** 31 ? ` and ${fmtBytes(idBytes)} of token ids in this process (at most 2 GiB)` : ''}; this engine allows ${fmtBytes(gpuMemoryBytes)}. Use at most ${maxN} samples (--nsamples) at this sequence length.`,
    );
  }
}

/** Bytes of the `layers` decoder layers' linear weights as stored in `checkpoint` (what a prune's PrunedTensors holds at most). */
export function linearBytes(checkpoint: Checkpoint, layers: number): number {
  let bytes = 0;
  for (let i = 0; i < layers; i++) {
    for (const n of LINEAR_NAMES) {
      const name = `model.layers.${i}.${n}.weight`;
      if (checkpoint.has(name)) bytes += checkpoint.info(name).byteLength;
    }
  }
  return bytes;
}

/**
 * `openStore`: where the pruned matrices go, given their bytes (memory or a spill file; default memory).
 * A cancelled or failed prune frees the store (a spill file is deleted).
 */
export async function prunedCopy(base: LoadedModel, req: PruneRequest, opts: { signal: AbortSignal; onProgress?: ProgressCallback; gpuMemoryBytes?: number; openStore?: (bytes: number) => Promise<TensorStore> }): Promise<PruneOutcome> {
  const gpu = base.model.gpu;
  // Settings first, before any text is read or weights are copied.
  const settings = parsePruneSettings(req);
  const calibrated = METHODS[settings.method].calibrated;
  if (settings.quantize) {
    const prior = (base.pruning?.record ?? base.record)?.quantization;
    if (prior) throw new PolyPruneError('BAD_ARGUMENT', `${base.summary.name} is already quantized (${prior.method} ${prior.bits}-bit); quantize the original checkpoint instead.`);
  }
  const c0 = req.calibration;
  if (calibrated && c0) {
    if ('windows' in c0) checkCalibrationMemory(c0.windows.n, c0.windows.seqlen, base.cfg.hiddenSize, opts.gpuMemoryBytes);
    else checkCalibrationMemory(c0.nsamples, c0.seqlen, base.cfg.hiddenSize, opts.gpuMemoryBytes);
  }
  let calib: Calibration | { ids: Int32Array; n: number; seqlen: number; name?: string } | null = null;
  if (calibrated) {
    const c = req.calibration;
    if (!c) throw new PolyPruneError('BAD_ARGUMENT', `${req.method} needs calibration text or token windows.`);
    if ('windows' in c) {
      calib = c.windows;
    } else {
      const enc = new TextEncoder();
      calib = await buildCalibration({
        texts: c.texts.map((t) => ({ name: t.name, bytes: t.bytes ?? enc.encode(t.text ?? ''), language: t.language, weight: t.weight, ...(t.generated ? { generated: t.generated } : {}) })),
        tokenizer: base.tokenizer,
        nsamples: c.nsamples,
        seqlen: c.seqlen,
        seed: c.seed ?? 0,
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
    }
  }
  const work = await LlamaModel.load(gpu, base.cfg, base.checkpoint, { resident: base.model.resident, signal: opts.signal, shareFrom: base.model });
  let pruned: PrunedTensors;
  try {
    pruned = new PrunedTensors(base.checkpoint, opts.openStore ? await opts.openStore(linearBytes(base.checkpoint, base.cfg.numLayers)) : undefined);
  } catch (e) {
    work.destroy();
    throw e;
  }
  try {
    return await prunedInto(base, req, { ...opts, work, pruned, calib, calibrated, settings });
  } catch (e) {
    await pruned.dispose().catch(() => undefined);
    throw e;
  }
}

async function prunedInto(
  base: LoadedModel,
  req: PruneRequest,
  opts: { signal: AbortSignal; onProgress?: ProgressCallback; work: LlamaModel; pruned: PrunedTensors; calib: Calibration | { ids: Int32Array; n: number; seqlen: number; name?: string } | null; calibrated: boolean; settings: ReturnType<typeof parsePruneSettings> },
): Promise<PruneOutcome> {
  const { work, pruned, calib, calibrated, settings } = opts;
  const gpu = base.model.gpu;
  const mask: ModelMask = { matrices: [...LINEAR_NAMES], layers: [] };
  const sq = settings.quantize;
  const quantized = sq ? new QuantizedTensors({ bits: sq.bits, groupSize: sq.groupSize, actOrder: sq.actOrder, staticGroups: sq.staticGroups }) : null;
  let report: PruneReport;
  try {
    const sources = calib && 'files' in calib ? calib.files.map((f) => ({ name: f.name, ...(f.language !== undefined ? { language: f.language } : {}), samples: f.samples })) : undefined;
    report = await pruneModel(work, calib ? { ...calib, ...(sources ? { sources } : {}) } : null, {
      method: req.method,
      sparsity: req.sparsity,
      nm: req.nm,
      profile: req.profile,
      owlM: req.owlM,
      owlLambda: req.owlLambda,
      langBeta: req.langBeta,
      quantize: req.quantize,
      signal: opts.signal,
      pacer: calibrationPacer(base.model),
      onProgress: opts.onProgress,
      reconstructionError: req.reconstructionError,
      ...(quantized ? { onQuantized: (i: number, n: (typeof LINEAR_NAMES)[number], q: Parameters<QuantizedTensors['add']>[2]) => quantized.add(i, n, q) } : {}),
      onMatrixPruned: (i, n, w) => {
        (mask.layers[i] ??= [])[LINEAR_NAMES.indexOf(n)] = packMask(w);
        return pruned.add(`model.layers.${i}.${n}.weight`, w);
      },
    });
  } finally {
    work.destroy();
  }
  const checkpoint = overlayCheckpoint(base.checkpoint, pruned);
  const model = await LlamaModel.load(gpu, base.cfg, checkpoint, { resident: base.model.resident, signal: opts.signal, shareFrom: base.model });
  const record = await pruningRecord({
    report,
    options: { method: req.method, sparsity: req.sparsity, nm: req.nm, quantize: req.quantize },
    calibration: calib,
    modelSource: base.summary.source,
    modelSha256: base.summary.sha256,
    modelType: base.cfg.modelType,
    toolVersion: VERSION,
  });
  const q = req.quantize;
  const structure = q ? `${q.bits}bit-g${q.groupSize === -1 ? 'channel' : (q.groupSize ?? 128)}${q.actOrder ? '-actorder' : ''}` : (req.nm ? `${req.nm.n}of${req.nm.m}` : `${req.sparsity}`) + (report.layerProfile.profile === 'owl' ? '-owl' : '');
  const langs = req.calibration && 'texts' in req.calibration ? `-${req.calibration.texts.map((t) => t.language ?? t.name).join('+')}` : '';
  return {
    loaded: { cfg: base.cfg, folder: base.folder, checkpoint, tokenizer: base.tokenizer, model },
    mask,
    pruned,
    quantized,
    report,
    record,
    calibration: calib ? { ids: calib.ids, n: calib.n, seqlen: calib.seqlen } : null,
    name: req.name ?? `${base.summary.name}-${req.method}-${structure}${calibrated ? langs : ''}`,
  };
}
