/**
 * In-thread implementation of the Engine API (the CLI and tests use it directly; the web app runs it
 * inside a Web Worker, see worker.ts).
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { Gpu, type GpuInfo, type SubmitStats, parseSubmitBudget } from '../gpu/device';

export { DEFAULT_SUBMIT_BUDGET, parseSubmitBudget } from '../gpu/device';
import { urlFolder, fileListFolder, portableSource, type ModelFolder } from '../io/source';
import { hubFolder, hubFolderUrl, parseHubId } from '../io/hub';
import { cachingFetch, type WeightCache } from '../io/cache';
import { openCheckpoint, SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE, type Checkpoint } from '../io/safetensors';
import { checkpointWarnings, loadModelConfig, parameterCount, validateCheckpoint, type ModelConfig } from '../io/config';
import { dtypeSize } from '../io/dtypes';
import { DEFAULT_SPILL_ABOVE_BYTES, openTensorStore, type SpillBacking, type TensorStore } from '../io/spill';
import { planRun, type RunPlan } from '../prune/plan';
import { METHODS, MIX_METHODS, isMixMethod, lookupMethod, methodSpec, mixMethodsServedBy, orList, parsePruneSettings, sharesMixStatistics, type MixMethod } from '../prune/method';
import { QuantizedTensors } from '../export/gptq';
import { checkTokenIds, checkTokenizerFits, loadTokenizerFromFolder } from '../io/tokenizer';
import { LlamaModel } from '../model/llama';
import { runTask } from '../eval/run';
import type { Engine, ModelSpec, ModelSummary, OpOptions, PlanQuery, WeightCacheInfo, PerplexityRequest, PerplexityResult, TaskRequest, TaskResult } from './api';
import { computePerplexity, gpuScorer, pacerOf } from './perplexity';
import { calibrationPacer, linearBytes, prunedCopy } from './prune';
import { exportHfCheckpoint, PrunedTensors } from '../export/hf';
import { blobZipSink, memorySink, type ExportSink } from '../export/sink';
import { exportOnnx } from '../export/onnx';
import { directorySink } from '../export/fsaccess';
import { readPruningRecord, summarizePruning } from '../export/provenance';
import type { ExportedFile, ExportQuantSettings, ExportRequest, ExportSizes, ExportSummary, MaskOverlap, PruneResult } from './api';
import { validateGptqOptions } from '../prune/methods/gptq';
import { EXPORT_FORMATS } from './api';
import { checkpointTensors, exportedBytes } from '../export/size';
import type { PruningRecord } from '../export/hf';
import { sha256Hex } from '../calib/text';
import { modelMaskIou, packMask, type ModelMask } from '../prune/mask';
import { normaliseWeights } from '../prune/mix';
import { MIXERS } from '../prune/mixer';
import { LINEAR_NAMES } from '../model/names';
import { overlayCheckpoint } from './overlay';
import { checkpointMaskSource, compareMaskSources, heldMaskSource, iouMeans, type MaskSource } from './compare';
import type { LoadedModel } from './loaded';
import { checkCalibrationMemory, DEFAULT_GPU_MEMORY_BYTES } from './prune';
import { mixCalibration, confirmWindows, instantRecord, mixInfo, mixStructure, codesAgreement, type StatsHandle } from './mix';
import type { CompareRequest, CompareResult, CompareSide } from './api';
import { generate as generateText } from './generate';
import type { GenerateRequest, GenerateResult, GenerateCalibrationRequest, GeneratedCalibration } from './api';
import { generateCalibration as generateCalibrationText } from './genCalib';
import type { CollectStatsRequest, StatsSummary, MixRequest, MixResult, ConfirmMixResult, EngineCounters, StatsData, PruneRequest } from './api';

export interface EngineOptions {
  /** navigator.gpu in the browser, nodeGpu() in Node. */
  gpu: () => Promise<GPU | undefined>;
  /** Node only: sleep between event-loop turns while waiting for the GPU. */
  politeWait?: boolean;
  /** Force resident (true) or streamed (false) layers; default decides by size. */
  resident?: boolean;
  /** Model URLs: fail a download that receives no bytes for this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Model URLs: fail a download slower than this many bytes/s over a stall-timeout span (default 1 KiB/s; src/io/limits.ts). */
  minRateBytesPerS?: number;
  /** GPU memory a prune's calibration activations may use (WebGPU does not report it; default 16 GiB). */
  gpuMemoryBytes?: number;
  /** Browser cache of downloaded weights for URL and Hub models (the worker passes the Cache API). */
  weightCache?: WeightCache;
  /**
   * Most GPU work per submitted command buffer, in flops (default 1e12: a 2 TFLOP/s integrated GPU for
   * 0.5 s); a positive number (docs/models.md, "Work per submit").
   */
  gpuSubmitBudget?: number;
  /** Fault injection for tests: the device is lost after this many submits. */
  loseDeviceAfterSubmits?: number;
  /**
   * Where a pruned model's matrices spill when they are big (src/io/spill.ts): the worker passes the
   * origin private file system (opfsSpill), the CLI a temporary file (nodeSpill). None: host memory.
   */
  spill?: SpillBacking;
  /** Pruned matrices above this many bytes (in the checkpoint's dtype) go to `spill` (default 1 GiB; 0: always, as tests do). */
  spillPrunedAboveBytes?: number;
}

export type { LoadedModel } from './loaded';

/**
 * The model's content identity: SHA-256 over config.json, the canonical tensor listing (name, dtype,
 * shape, byte length, file name, offset) and the bytes of up to 8 small tensors (<= 64 KiB, e.g.
 * norm weights) spread over the listing, so that two checkpoints with the same shapes but different
 * weights differ in practice, without reading gigabytes. Stable across reloads, sessions and machines.
 */
export async function modelContentHash(folder: ModelFolder, checkpoint: Checkpoint): Promise<string> {
  const enc = new TextEncoder();
  const names = checkpoint.names().sort();
  const base = (f: string) => f.split(/[\\/]/).pop() ?? f;
  const listing = names.map((n) => {
    const i = checkpoint.info(n);
    return [n, i.dtype, i.shape.join('x'), i.byteLength, base(i.file), i.byteOffset].join(' ');
  });
  const parts: Uint8Array[] = [enc.encode(await folder.readText('config.json')), enc.encode('\n--tensors--\n' + listing.join('\n'))];
  // Up to 8 small tensors (norm weights and the like, <= 64 KiB) spread over the listing, whole.
  const small = names.filter((n) => checkpoint.info(n).byteLength <= 65536);
  const picks = small.length <= 8 ? small : Array.from({ length: 8 }, (_, k) => small[Math.floor((k * (small.length - 1)) / 7)]);
  for (const n of picks) parts.push(await checkpoint.readRaw(n));
  const all = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return sha256Hex(all);
}

export class LocalEngine implements Engine {
  private gpuPromise: Promise<Gpu> | null = null;
  private models = new Map<string, LoadedModel>();
  private ops = new Map<string, AbortController>();
  private nextId = 1;
  /** Masks of unloaded pruned models kept for maskOverlap. */
  private keptMasks = new Map<string, ModelMask>();
  /** Mixer models whose masks and pruned tensors are still only on the GPU: how to read them back. */
  private pendingReadback = new Map<string, () => Promise<void>>();
  /** Calibration mixer statistics handles (collectStats). */
  private statsHandles = new Map<string, StatsHandle>();
  private nextStatsId = 1;
  private counts: EngineCounters = { calibrationRuns: 0, calibrationForwards: 0 };
  /** Open checkpoints by the number of loaded models that read them (a pruned copy shares its base's). */
  private checkpointRefs = new Map<Checkpoint, number>();
  /** Background operations in flight (OpOptions.background): their controllers and when they have settled. */
  private background = new Map<AbortController, Promise<void>>();
  /** Other operations in flight that use the GPU; a background operation starts only when there are none. */
  private foreground = 0;
  /** GPU bytes live when the background operations in flight started (null: none in flight). */
  private backgroundBaseBytes: number | null = null;

  constructor(private readonly options: EngineOptions) {
    if (options.gpuSubmitBudget !== undefined) parseSubmitBudget(options.gpuSubmitBudget);
    const spill = options.spillPrunedAboveBytes;
    if (spill !== undefined && !(spill >= 0)) throw new PolyPruneError('BAD_ARGUMENT', `The spill threshold for pruned matrices must be a number of bytes >= 0 (got ${String(spill)}).`);
  }

  /** The store for `bytes` of a new pruned model's matrices: memory, or a spill file when they are big (EngineOptions.spill). */
  private openPrunedStore(bytes: number): Promise<TensorStore> {
    return openTensorStore(bytes, { aboveBytes: this.options.spillPrunedAboveBytes ?? DEFAULT_SPILL_ABOVE_BYTES, backing: this.options.spill });
  }

  /** The device, created on first use. */
  async device(): Promise<Gpu> {
    const { politeWait, gpuSubmitBudget: submitBudget, loseDeviceAfterSubmits } = this.options;
    // A lost device stays lost: models loaded on it fail with GPU_DEVICE_LOST, new loads get a new device.
    if (this.gpuPromise && (await this.gpuPromise.catch(() => null))?.isLost) this.gpuPromise = null;
    this.gpuPromise ??= this.options.gpu().then((g) => Gpu.create(g, { politeWait, submitBudget, loseDeviceAfterSubmits }));
    try {
      return await this.gpuPromise;
    } catch (e) {
      this.gpuPromise = null;
      throw e;
    }
  }

  async gpuInfo(): Promise<GpuInfo> {
    return (await this.device()).info;
  }

  /**
   * Run `fn` with an AbortSignal registered under opts.opId. `gpu` false: it allocates nothing on the
   * GPU (a plan) and neither waits for nor cancels background operations (OpOptions.background).
   */
  protected async op<T>(opts: OpOptions | undefined, fn: (signal: AbortSignal) => Promise<T>, gpu = true): Promise<T> {
    const ctrl = new AbortController();
    const id = opts?.opId;
    if (id) this.ops.set(id, ctrl);
    try {
      if (!gpu) return await fn(ctrl.signal);
      if (opts?.background) return await this.inBackground(ctrl, fn);
      this.foreground++;
      try {
        // Background work yields: cancelled, and its buffers freed before this operation allocates any.
        for (const c of this.background.keys()) c.abort();
        await Promise.all(this.background.values());
        return await fn(ctrl.signal);
      } finally {
        this.foreground--;
      }
    } finally {
      if (id) this.ops.delete(id);
    }
  }

  /** A background operation: refused while another operation runs, cancelled when one starts. */
  private async inBackground<T>(ctrl: AbortController, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const g = this.gpuPromise ? await this.gpuPromise.catch(() => null) : null;
    // (checked after the await: from here to the registration below nothing else runs)
    if (this.foreground > 0) throw new PolyPruneError('CANCELLED', 'Background work is not started while another operation runs; try again when it has finished.');
    if (this.background.size === 0) this.backgroundBaseBytes = g?.memory().liveBytes ?? 0;
    const run = fn(ctrl.signal);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.background.set(ctrl, settled);
    try {
      return await run;
    } finally {
      this.background.delete(ctrl);
      if (this.background.size === 0) this.backgroundBaseBytes = null;
    }
  }

  /**
   * GPU bytes the engine holds between operations (loaded models, kept statistics): the live bytes,
   * without the temporaries of background work in flight (it yields to the run being planned).
   */
  private async heldBytes(): Promise<number> {
    const g = this.gpuPromise ? await this.gpuPromise.catch(() => null) : null;
    if (!g) return 0;
    const live = g.memory().liveBytes;
    return this.backgroundBaseBytes === null ? live : Math.min(live, this.backgroundBaseBytes);
  }

  async cancel(opId: string): Promise<void> {
    this.ops.get(opId)?.abort();
  }

  async cacheInfo(): Promise<WeightCacheInfo> {
    const c = this.options.weightCache;
    if (!c) return { available: false, entries: 0, bytes: 0 };
    return { available: true, ...(await c.info()) };
  }

  async clearCache(): Promise<void> {
    await this.options.weightCache?.clear();
  }

  /** The files behind a model spec; URL and Hub reads go through the weight cache when there is one. */
  private async folderOf(spec: ModelSpec, signal?: AbortSignal, onCacheFull?: () => void): Promise<ModelFolder> {
    const cache = this.options.weightCache;
    const fetchFn = cache ? cachingFetch((input, init) => fetch(input, init), cache, () => onCacheFull?.()) : undefined;
    switch (spec.kind) {
      case 'url':
        return urlFolder(spec.url, fetchFn, { signal, stallTimeoutMs: spec.stallTimeoutMs ?? this.options.stallTimeoutMs, minRateBytesPerS: this.options.minRateBytesPerS });
      case 'hub':
        return hubFolder(spec.id, { token: spec.token, endpoint: spec.endpoint, signal, fetchFn, stallTimeoutMs: this.options.stallTimeoutMs, minRateBytesPerS: this.options.minRateBytesPerS });
      case 'files':
        return fileListFolder(spec.files);
      case 'folder':
        return spec.folder;
    }
  }

  async plan(spec: ModelSpec | string, query: PlanQuery): Promise<RunPlan> {
    return this.op(undefined, (signal) => (typeof spec === 'string' ? this.planOf(this.get(spec).cfg, this.get(spec).checkpoint, query, false, 0, true, this.get(spec).tokenizer.jsonBytes) : this.planIn(spec, query, signal)), false);
  }

  private async planIn(spec: ModelSpec, query: PlanQuery, signal: AbortSignal): Promise<RunPlan> {
    const folder = await this.folderOf(spec, signal);
    const cfg = await loadModelConfig(folder);
    // What the browser's weight cache holds of this folder, asked before the plan's own header reads land there.
    const prefix = this.cachePrefix(spec);
    const cachedBytes = prefix ? ((await this.options.weightCache?.cachedBytesUnder?.(prefix).catch(() => 0)) ?? 0) : 0;
    // tokenizer.json's size (stat, Blob or HEAD; the file itself is read by the load): the tokenizer the
    // load builds from it is part of the load's host memory. Unknown (no such file, no size): from the vocabulary.
    const tokenizerSource = folder.open('tokenizer.json');
    const tokenizerJsonBytes = await tokenizerSource.size().catch(() => undefined);
    await tokenizerSource.close?.().catch(() => undefined);
    const checkpoint = await openCheckpoint(folder);
    try {
      validateCheckpoint(cfg, checkpoint);
      return await this.planOf(cfg, checkpoint, query, spec.kind === 'url' || spec.kind === 'hub', cachedBytes, false, tokenizerJsonBytes);
    } finally {
      await checkpoint.close();
    }
  }

  /**
   * The plan of a run on a model of this config and checkpoint (headers only) against this adapter,
   * beside what the engine already holds (`loaded`: this model is one of them).
   */
  private async planOf(cfg: ModelConfig, checkpoint: Checkpoint, query: PlanQuery, remote: boolean, cachedBytes: number, loaded = false, tokenizerJsonBytes?: number): Promise<RunPlan> {
    let stored = 0;
    let asF32 = 0;
    let largest = 0;
    for (const n of checkpoint.names()) {
      const i = checkpoint.info(n);
      stored += i.byteLength;
      asF32 += (i.byteLength / dtypeSize(i.dtype)) * 4;
      largest = Math.max(largest, i.byteLength);
    }
    const gpu = await this.device();
    return planRun(cfg, query, {
      limits: gpu.info.limits,
      checkpointBytes: stored,
      f32Bytes: asF32,
      packed: LlamaModel.keepsPacked(checkpoint),
      gpuWeightBytes: LlamaModel.gpuWeightBytes(checkpoint),
      largestTensorBytes: largest,
      linearBytes: linearBytes(checkpoint, cfg.numLayers),
      tokenizerJsonBytes,
      remote,
      cachedBytes,
      gpuMemoryBytes: query.gpuMemoryBytes,
      hostMemoryBytes: query.hostMemoryBytes,
      ...(this.options.spill ? { spillAboveBytes: this.options.spillPrunedAboveBytes ?? DEFAULT_SPILL_ABOVE_BYTES, spillFreeBytes: await this.options.spill.freeBytes().catch(() => undefined) } : {}),
      resident: this.options.resident,
      heldBytes: await this.heldBytes(),
      heldIncludesModel: loaded,
    });
  }

  /** The URL prefix of a remote model's files, as the weight cache keys them (null: not remote, or no URL). */
  private cachePrefix(spec: ModelSpec): string | null {
    try {
      if (spec.kind === 'url') return new URL(`${spec.url.split('?')[0].replace(/\/+$/, '')}/`).href;
      if (spec.kind === 'hub') return new URL(`${hubFolderUrl(parseHubId(spec.id), spec.endpoint)}/`).href;
    } catch {
      /* not a URL: nothing is cached under it */
    }
    return null;
  }

  async loadModel(spec: ModelSpec, opts?: OpOptions): Promise<ModelSummary> {
    return this.op(opts, (signal) => this.loadIn(spec, signal, opts));
  }

  private async loadIn(spec: ModelSpec, signal: AbortSignal, opts?: OpOptions): Promise<ModelSummary> {
    {
      let cacheFull = false;
      const folder = await this.folderOf(spec, signal, () => (cacheFull = true));
      const cfg = await loadModelConfig(folder);
      const record = await readPruningRecord(folder);
      const tokenizer = await loadTokenizerFromFolder(folder);
      checkTokenizerFits(tokenizer, cfg.vocabSize, folder.location);
      const checkpoint = await openCheckpoint(folder);
      try {
        const warnings = [...checkpointWarnings(cfg, checkpoint)];
        if (!checkpoint.files.some((f) => /(^|[\\/])model\.safetensors$/.test(f)) && (await folder.exists(SAFETENSORS_SINGLE_FILE).catch(() => false))) {
          warnings.push(`${folder.location} has both ${SAFETENSORS_INDEX_FILE} and ${SAFETENSORS_SINGLE_FILE}; the shards listed in the index are used and ${SAFETENSORS_SINGLE_FILE} is ignored. Remove one of them if that is not what you want.`);
        }
        const gpu = await this.device();
        const model = await LlamaModel.load(gpu, cfg, checkpoint, { resident: this.options.resident, onProgress: opts?.onProgress, signal });
        let sha: string;
        try {
          sha = await modelContentHash(folder, checkpoint);
          throwIfAborted(signal);
        } catch (e) {
          model.destroy();
          throw e;
        }
        const id = `m${this.nextId++}`;
        const summary = summarize(id, spec.name ?? nameOf(folder.location), folder, cfg, checkpoint, model.resident, sha, tokenizer.bosTokenId);
        if (warnings.length) summary.warnings = warnings;
        if (record) summary.pruning = summarizePruning(record);
        if (cacheFull) summary.cacheNote = "The browser's storage for downloaded weights is full: part of this model was not cached and will be downloaded again next time. Clear cached downloads in the Model panel to make room.";
        const loaded: LoadedModel = { summary, cfg, folder, checkpoint, tokenizer, model, ...(record ? { record } : {}) };
        this.models.set(id, loaded);
        this.checkpointRefs.set(checkpoint, 1);
        return loaded.summary;
      } catch (e) {
        await checkpoint.close().catch(() => undefined);
        throw e;
      }
    }
  }

  async listModels(): Promise<ModelSummary[]> {
    return [...this.models.values()].map((m) => m.summary);
  }

  /** The loaded model behind an id (in-thread callers only). */
  get(id: string): LoadedModel {
    const m = this.models.get(id);
    if (!m) throw new PolyPruneError('BAD_ARGUMENT', `No loaded model '${id}'. Loaded: ${[...this.models.keys()].join(', ') || 'none'}.`);
    return m;
  }

  /** Register a model built in-thread (e.g. a pruned copy). */
  register(loaded: Omit<LoadedModel, 'summary'>, name: string, sha256: string, prunedFrom?: string, reuseId?: string): ModelSummary {
    const existed = reuseId !== undefined && this.models.has(reuseId);
    const id = existed ? reuseId : `m${this.nextId++}`;
    const record = loaded.pruning?.record ?? loaded.record;
    const summary = { ...summarize(id, name, loaded.folder, loaded.cfg, loaded.checkpoint, loaded.model.resident, sha256, loaded.tokenizer.bosTokenId), prunedFrom, ...(record ? { pruning: summarizePruning(record) } : {}) };
    this.models.set(id, { ...loaded, summary });
    if (existed) return summary;
    const root = loaded.pruning?.base ?? loaded.checkpoint;
    this.checkpointRefs.set(root, (this.checkpointRefs.get(root) ?? 0) + 1);
    return summary;
  }

  async unloadModel(id: string, opts?: { keepMask?: boolean }): Promise<void> {
    if (opts?.keepMask && this.models.has(id)) await this.materialize(id);
    this.pendingReadback.delete(id);
    const m = this.get(id);
    m.model.destroy();
    this.models.delete(id);
    // a spilled pruned model's file is deleted here
    await m.pruning?.pruned.dispose().catch(() => undefined);
    for (const [sid, h] of this.statsHandles) if (h.summary.modelId === id) await this.releaseStats(sid);
    if (opts?.keepMask && m.pruning?.mask) this.keptMasks.set(id, m.pruning.mask);
    const root = m.pruning?.base ?? m.checkpoint;
    const refs = (this.checkpointRefs.get(root) ?? 1) - 1;
    if (refs > 0) this.checkpointRefs.set(root, refs);
    else {
      this.checkpointRefs.delete(root);
      await root.close().catch(() => undefined);
    }
  }

  /** Read a mixer model's masks and pruned tensors back from the GPU if not done yet. */
  private async materialize(id: string): Promise<void> {
    const f = this.pendingReadback.get(id);
    if (!f) return;
    await f();
    this.pendingReadback.delete(id);
  }

  private async maskOf(id: string): Promise<ModelMask> {
    if (!this.keptMasks.has(id) && this.models.has(id)) await this.materialize(id);
    const kept = this.keptMasks.get(id);
    if (kept) return kept;
    const m = this.get(id);
    if (!m.pruning?.mask) throw new PolyPruneError('BAD_ARGUMENT', `Model '${m.summary.name}' is not a pruned model; it has no mask to compare.`);
    return m.pruning.mask;
  }

  async maskOverlap(idA: string, idB: string): Promise<MaskOverlap> {
    const a = await this.maskOf(idA);
    const b = await this.maskOf(idB);
    return { matrices: [...a.matrices], iou: modelMaskIou(a, b) };
  }

  async compareModels(a: CompareSide, b: CompareSide, req: CompareRequest = {}, opts?: OpOptions): Promise<CompareResult> {
    return this.op(opts, async (signal) => {
      const open: Checkpoint[] = [];
      const side = async (s: CompareSide): Promise<{ name: string; source: MaskSource }> => {
        if ('modelId' in s) {
          if (this.models.has(s.modelId)) await this.materialize(s.modelId);
          const m = this.get(s.modelId);
          const mask = m.pruning?.mask ?? this.keptMasks.get(s.modelId);
          return { name: m.summary.name, source: mask ? heldMaskSource(mask, m.checkpoint, m.summary.name) : checkpointMaskSource(m.checkpoint, m.summary.name) };
        }
        const folder = await this.folderOf(s.model, signal);
        const ckpt = await openCheckpoint(folder);
        open.push(ckpt);
        return { name: s.model.name ?? portableSource(folder), source: checkpointMaskSource(ckpt, portableSource(folder)) };
      };
      let overlap;
      let names: [string, string];
      try {
        const sa = await side(a);
        const sb = await side(b);
        names = [sa.name, sb.name];
        overlap = await compareMaskSources(sa.source, sb.source, {
          signal,
          onMatrix: (l, m, _v, done, total) => opts?.onProgress?.({ kind: 'eval', message: `mask IoU: layer ${l + 1}, ${m}`, done, total }),
        });
      } finally {
        for (const c of open) await c.close().catch(() => undefined);
      }
      const { layers, mean } = iouMeans(overlap.iou);
      const out: CompareResult = { ...overlap, names, layerIou: layers, meanIou: mean };
      if (req.text !== undefined) {
        const pr: PerplexityRequest = { text: req.text, textName: req.textName, seqlen: req.seqlen ?? 128, maxWindows: req.maxWindows ?? 8, ...(req.language ? { language: req.language } : {}) };
        const ppl = async (s: CompareSide): Promise<PerplexityResult> => {
          if ('modelId' in s) return computePerplexity(this.get(s.modelId), pr, { signal, onProgress: opts?.onProgress });
          const m = await this.loadIn(s.model, signal, { onProgress: opts?.onProgress });
          try {
            return await computePerplexity(this.get(m.id), pr, { signal, onProgress: opts?.onProgress });
          } finally {
            await this.unloadModel(m.id);
          }
        };
        out.ppl = [await ppl(a), await ppl(b)];
      }
      return out;
    });
  }

  async releaseMask(id: string): Promise<void> {
    this.keptMasks.delete(id);
  }

  async tokenize(id: string, text: string): Promise<Int32Array> {
    return this.get(id).tokenizer.encode(text, { addSpecialTokens: false });
  }

  async perplexity(id: string, req: PerplexityRequest, opts?: OpOptions): Promise<PerplexityResult> {
    const m = this.get(id);
    return this.op(opts, (signal) => computePerplexity(m, req, { signal, onProgress: opts?.onProgress }));
  }

  async prune(id: string, req: PruneRequest, opts?: OpOptions): Promise<PruneResult> {
    const base = this.get(id);
    return this.op(opts, async (signal) => {
      if (lookupMethod(req.method)?.calibrated) this.counts.calibrationRuns++;
      const onProgress = (e: Parameters<NonNullable<OpOptions['onProgress']>>[0]): void => {
        if (e.kind === 'layer' && e.phase === 'forward') this.counts.calibrationForwards++;
        opts?.onProgress?.(e);
      };
      const out = await prunedCopy(base, req, { signal, onProgress, gpuMemoryBytes: this.options.gpuMemoryBytes, openStore: (bytes) => this.openPrunedStore(bytes) });
      // The pruned model's identity: the base's hash and what pruning did to it.
      const sha = await sha256Hex(new TextEncoder().encode(`${base.summary.sha256}\n${JSON.stringify({ ...out.record, created_at: undefined })}`));
      const summary = this.register({ ...out.loaded, pruning: { pruned: out.pruned, record: out.record, base: base.checkpoint, calibration: out.calibration, mask: out.mask, quantized: out.quantized } }, out.name, sha, id);
      if (out.pruned.store.warning) summary.warnings = [...(summary.warnings ?? []), out.pruned.store.warning];
      return { model: summary, report: out.report, record: out.record };
    });
  }

  async counters(): Promise<EngineCounters> {
    return { ...this.counts };
  }

  async collectStats(id: string, req: CollectStatsRequest, opts?: OpOptions): Promise<StatsSummary> {
    const base = this.get(id);
    return this.op(opts, async (signal) => {
      const t0 = performance.now();
      const calib = await mixCalibration(base, req, signal);
      const n = calib.counts.reduce((a, b) => a + b, 0);
      const budget = this.options.gpuMemoryBytes ?? DEFAULT_GPU_MEMORY_BYTES;
      checkCalibrationMemory(n, req.seqlen, base.cfg.hiddenSize, budget);
      const mixer = MIXERS[req.method];
      mixer.checkFits(base.model, calib.counts, n * req.seqlen * base.cfg.hiddenSize * 4, budget);
      const model = base.model;
      if (req.seqlen > model.cfg.maxPositionEmbeddings || req.seqlen > model.maxChunkTokens()) {
        throw new PolyPruneError('BAD_ARGUMENT', `Calibration sequence length ${req.seqlen} exceeds what this model takes (${Math.min(model.cfg.maxPositionEmbeddings, model.maxChunkTokens())} tokens); use a shorter one.`);
      }
      this.counts.calibrationRuns++;
      const collectOpts = { signal, onProgress: opts?.onProgress, pacer: calibrationPacer(model), onLayerForward: () => void this.counts.calibrationForwards++ };
      const stats = await mixer.collect(model, calib.ids, calib.counts, req.seqlen, collectOpts);
      const sid = `s${this.nextStatsId++}`;
      const summary: StatsSummary = {
        id: sid,
        modelId: id,
        method: req.method,
        sources: req.sources.map((s, k) => ({ name: s.name, language: s.language ?? null, windows: calib.counts[k], bytes: calib.files[k].bytes, sha256: calib.files[k].sha256 })),
        nsamples: Math.max(...calib.counts),
        seqlen: req.seqlen,
        seed: req.sources.some((s) => !s.windows) ? (req.seed ?? 0) : null,
        layers: model.cfg.numLayers,
        gpuBytes: stats.bytes,
        collectMs: performance.now() - t0,
      };
      this.statsHandles.set(sid, { summary, stats, ids: calib.ids, files: calib.files });
      return summary;
    });
  }

  async keepMix(statsId: string): Promise<ModelSummary> {
    const h = this.statsHandle(statsId);
    const id = h.slotId;
    if (!id || !this.models.has(id)) throw new PolyPruneError('BAD_ARGUMENT', 'There is no mix to keep: derive the masks of a mix first (mixPrune, a slider move).');
    h.slotId = undefined;
    return this.get(id).summary;
  }

  async readStats(statsId: string): Promise<StatsData> {
    const h = this.statsHandle(statsId);
    const base = this.get(h.summary.modelId);
    const values = await MIXERS[h.summary.method].serialise(base.model.gpu, h.stats);
    const { sources, nsamples, seqlen, seed, layers } = h.summary;
    return { format: 'polyprune-mix-stats', version: 1, modelSha256: base.summary.sha256, method: h.summary.method, sources: sources.map((s) => ({ ...s })), nsamples, seqlen, seed, layers, ids: h.ids.slice(), files: h.files.map((f) => ({ ...f })), values };
  }

  async loadStats(id: string, data: StatsData, opts?: OpOptions): Promise<StatsSummary> {
    const base = this.get(id);
    return this.op(opts, async () => {
      const t0 = performance.now();
      if (!data || data.format !== 'polyprune-mix-stats' || data.version !== 1) throw new PolyPruneError('BAD_ARGUMENT', `Not mixer statistics of a version this PolyPrune reads (format ${String(data?.format)}, version ${String(data?.version)}); collect them again.`);
      if (!isMixMethod(data.method)) throw new PolyPruneError('BAD_ARGUMENT', `Stored mixer statistics of method '${String(data.method)}'; supported: ${MIX_METHODS.join(', ')}.`);
      if (data.modelSha256 !== base.summary.sha256) throw new PolyPruneError('BAD_ARGUMENT', `These statistics were collected on another model (content hash ${String(data.modelSha256).slice(0, 12)}…, this one is ${base.summary.sha256.slice(0, 12)}…); load that model or collect them again.`);
      if (data.layers !== base.cfg.numLayers) throw new PolyPruneError('BAD_ARGUMENT', `Stored statistics have ${data.layers} layers, the model ${base.cfg.numLayers}; collect them again.`);
      const S = data.seqlen;
      if (!Number.isInteger(S) || S < 1 || S > base.cfg.maxPositionEmbeddings) throw new PolyPruneError('BAD_ARGUMENT', `Stored statistics have window length ${S}; this model takes 1..${base.cfg.maxPositionEmbeddings}.`);
      if (!Array.isArray(data.sources) || data.sources.length < 1 || !Array.isArray(data.files) || data.files.length !== data.sources.length) throw new PolyPruneError('BAD_ARGUMENT', 'Stored statistics list no calibration sources (or their provenance does not match); collect them again.');
      const counts = data.sources.map((s) => s.windows);
      if (counts.some((n) => !Number.isInteger(n) || n < 0)) throw new PolyPruneError('BAD_ARGUMENT', `Stored statistics have invalid window counts ${counts.join(', ')}; collect them again.`);
      const n = counts.reduce((a, b) => a + b, 0);
      if (!(data.ids instanceof Int32Array) || data.ids.length !== n * S) throw new PolyPruneError('BAD_ARGUMENT', `Stored statistics: ${n} windows of ${S} tokens need ${n * S} token ids, got ${data.ids instanceof Int32Array ? data.ids.length : typeof data.ids}; collect them again.`);
      checkTokenIds(data.ids, base.cfg.vocabSize, 'Stored calibration windows');
      const budget = this.options.gpuMemoryBytes ?? DEFAULT_GPU_MEMORY_BYTES;
      const mixer = MIXERS[data.method];
      mixer.checkFits(base.model, counts, 0, budget);
      const stats = mixer.deserialise(base.model, counts, S, data.values);
      const sid = `s${this.nextStatsId++}`;
      const summary: StatsSummary = { id: sid, modelId: id, method: data.method, sources: data.sources.map((s) => ({ ...s })), nsamples: data.nsamples, seqlen: S, seed: data.seed, layers: data.layers, gpuBytes: stats.bytes, collectMs: performance.now() - t0 };
      this.statsHandles.set(sid, { summary, stats, ids: data.ids.slice(), files: data.files.map((f) => ({ ...f })) });
      return summary;
    });
  }

  private statsHandle(statsId: string): StatsHandle {
    const h = this.statsHandles.get(statsId);
    if (!h) throw new PolyPruneError('BAD_ARGUMENT', `No calibration statistics '${statsId}' (released, or their model was unloaded). Held: ${[...this.statsHandles.keys()].join(', ') || 'none'}; collect them again.`);
    return h;
  }

  async releaseStats(statsId: string): Promise<void> {
    const h = this.statsHandles.get(statsId);
    if (!h) return;
    this.statsHandles.delete(statsId);
    MIXERS[h.summary.method].free(h.stats);
  }

  /** The method a mix request derives with (the request's, else the statistics'), checked against the statistics and its settings. */
  private mixMethodOf(h: StatsHandle, req: MixRequest): { method: MixMethod; quantize?: { bits: number; groupSize: number; actOrder: boolean; staticGroups: boolean } } {
    const method = req.method ?? h.summary.method;
    if (!isMixMethod(method)) throw new PolyPruneError('BAD_ARGUMENT', `Unknown mixer method '${String(method)}'. Supported: ${MIX_METHODS.join(', ')}.`);
    if (!sharesMixStatistics(h.summary.method, method)) {
      const have = METHODS[h.summary.method].mixer;
      const need = METHODS[method].mixer;
      throw new PolyPruneError('BAD_ARGUMENT', `These statistics are ${have.supported ? have.statistics : h.summary.method}, which serve ${orList(mixMethodsServedBy(h.summary.method))}; ${method} needs ${need.supported ? need.statistics : method}: collect them with method ${method}.`);
    }
    const spec = methodSpec(method);
    if (req.quantize && !spec.quantizes) throw new PolyPruneError('BAD_ARGUMENT', `The mixer's ${method} prunes and takes no bits; quantize with ${orList(MIX_METHODS.filter((m) => methodSpec(m).quantizes))}, or prune and quantize together with polyprune prune --method ${method} --bits 4.`);
    const settings = parsePruneSettings({ method, sparsity: req.sparsity, nm: req.nm, quantize: req.quantize });
    return { method, ...(settings.quantize ? { quantize: { ...settings.quantize } } : {}) };
  }

  async mixPrune(statsId: string, req: MixRequest, opts?: OpOptions): Promise<MixResult> {
    const h = this.statsHandle(statsId);
    const base = this.get(h.summary.modelId);
    return this.op(opts, async (signal) => {
      const t0 = performance.now();
      const { method, quantize } = this.mixMethodOf(h, req);
      if (quantize) {
        const prior = (base.pruning?.record ?? base.record)?.quantization;
        if (prior) throw new PolyPruneError('BAD_ARGUMENT', `${base.summary.name} is already quantized (${prior.method} ${prior.bits}-bit); quantize the original checkpoint instead.`);
      }
      const weights = normaliseWeights(req.weights, h.stats.counts, h.summary.sources.map((s) => s.name));
      if (!base.model.resident) throw new PolyPruneError('BAD_ARGUMENT', 'The instant mixer needs the model resident on the GPU; this model streams its layers. Use Confirm (the sequential prune) instead.');
      const gpu = base.model.gpu;
      const slot = h.slotId ? this.models.get(h.slotId) : undefined;
      const slotModel = slot ? slot.model : await LlamaModel.load(gpu, base.cfg, base.checkpoint, { resident: true, signal, shareFrom: base.model });
      let r;
      const quantized = quantize ? new QuantizedTensors(quantize) : null;
      try {
        const o = { sparsity: req.sparsity, nm: req.nm, signal, ...(quantize ? { quantize, onQuantized: (i: number, n: (typeof LINEAR_NAMES)[number], q: Parameters<QuantizedTensors['add']>[2]) => quantized!.add(i, n, q) } : {}) };
        r = await MIXERS[method].mix(slotModel, base.model, h.stats, weights, o);
      } catch (e) {
        if (!slot) slotModel.destroy();
        else {
          // the slot's weights are half re-masked: drop it rather than show a wrong model
          await this.unloadModel(h.slotId!);
          h.slotId = undefined;
        }
        throw e;
      }
      const { record, windows } = await instantRecord(base, h, weights, r, { method, sparsity: req.sparsity, nm: req.nm, quantize });
      const sha = await sha256Hex(new TextEncoder().encode(`${base.summary.sha256}\n${JSON.stringify({ ...record, created_at: undefined })}`));
      const name = `${base.summary.name}-${method}-${mixStructure({ sparsity: req.sparsity, nm: req.nm, quantize })}-mix`;
      // The masks and the pruned tensors (for maskOverlap and export) are read back from the GPU only
      // when asked for (materialize): a slider move reads nothing but the zero counts.
      // the slot's matrices read back before this move are stale (a spill file is deleted)
      await slot?.pruning?.pruned.dispose().catch(() => undefined);
      const summary = this.register({ cfg: base.cfg, folder: base.folder, checkpoint: base.checkpoint, tokenizer: base.tokenizer, model: slotModel, pruning: { pruned: new PrunedTensors(base.checkpoint), record, base: base.checkpoint, calibration: windows, quantized } }, name, sha, h.summary.modelId, h.slotId);
      this.pendingReadback.set(summary.id, async () => {
        const pruned = new PrunedTensors(base.checkpoint, await this.openPrunedStore(linearBytes(base.checkpoint, base.cfg.numLayers)));
        const mask: ModelMask = { matrices: [...LINEAR_NAMES], layers: [] };
        try {
          for (let i = 0; i < base.cfg.numLayers; i++) {
            for (const [j, n] of LINEAR_NAMES.entries()) {
              const w = await slotModel.readLinear(i, n);
              (mask.layers[i] ??= [])[j] = packMask(w);
              await pruned.add(`model.layers.${i}.${n}.weight`, w);
            }
          }
        } catch (e) {
          await pruned.dispose().catch(() => undefined);
          throw e;
        }
        const m = this.get(summary.id);
        const warn = pruned.store.warning;
        this.models.set(summary.id, { ...m, summary: warn ? { ...m.summary, warnings: [...(m.summary.warnings ?? []), warn] } : m.summary, checkpoint: overlayCheckpoint(base.checkpoint, pruned), pruning: { ...m.pruning!, pruned, mask } });
      });
      h.slotId = summary.id;
      const tEnd = performance.now();
      return {
        model: summary,
        method,
        weights,
        overall: r.overall,
        sparsity: r.zeros.map((row) => row.map((z, j) => z / r.numel[j])),
        updateMs: tEnd - t0,
        phases: { ...r.phases, recordMs: tEnd - t0 - r.ms },
        record,
        mix: record.mix!,
      };
    });
  }

  async confirmMix(statsId: string, req: MixRequest, opts?: OpOptions): Promise<ConfirmMixResult> {
    const h = this.statsHandle(statsId);
    const { method, quantize } = this.mixMethodOf(h, req);
    const instant = await this.mixPrune(statsId, req, opts);
    const total = h.summary.nsamples;
    const { ids, counts } = confirmWindows(h, instant.weights, total);
    const base = this.get(h.summary.modelId);
    // the exact sequential run of the same method: SparseGPT's prune, or GPTQ's quantize on the
    // quantized outputs of the previous layers
    const exact = await this.prune(
      h.summary.modelId,
      {
        method,
        sparsity: req.sparsity,
        nm: req.nm,
        ...(quantize ? { quantize } : {}),
        calibration: { windows: { ids, n: total, seqlen: h.summary.seqlen, name: 'the mixed calibration windows' } },
        name: `${base.summary.name}-${method}-${mixStructure({ sparsity: req.sparsity, nm: req.nm, quantize })}-mix-exact`,
      },
      opts,
    );
    const mix = mixInfo(h, 'confirm', instant.weights, counts);
    (exact.record as typeof exact.record & { mix?: typeof mix }).mix = mix;
    const quantizes = !!methodSpec(method).quantizes;
    let overlap: MaskOverlap;
    if (quantizes) {
      const a = this.get(instant.model.id).pruning?.quantized;
      const b = this.get(exact.model.id).pruning?.quantized;
      if (!a || !b) throw new PolyPruneError('INTERNAL', 'confirmMix: the codes of the instant or the exact GPTQ model are missing');
      overlap = codesAgreement(a, b, base.cfg.numLayers);
    } else overlap = await this.maskOverlap(instant.model.id, exact.model.id);
    const layerIou = overlap.iou.map((row) => {
      const v = row.filter((x): x is number => x !== null);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    });
    return { instant, exact, windows: counts, agreement: quantizes ? 'codes-equal' : 'mask-iou', overlap, layerIou };
  }

  /**
   * Stream a loaded model (pruned or not) into `sink` as a Hugging Face folder or ONNX (in-thread
   * callers: the CLI writes to disk). One tensor is in memory at a time; cancel with opts.opId.
   */
  async exportTo(id: string, sink: ExportSink, req: ExportRequest = { format: 'hf' }, opts?: OpOptions): Promise<ExportSummary> {
    let m: LoadedModel;
    try {
      if (this.models.has(id)) await this.materialize(id);
      m = this.get(id);
    } catch (e) {
      await sink.abort();
      throw e;
    }
    const quantized = m.pruning?.quantized ?? null;
    const record = exportRecord(m, req, quantized !== null);
    const calibration = m.pruning ? m.pruning.calibration : undefined;
    return this.op(opts, async (signal) => {
      if (req.format === 'onnx') {
        return exportOnnx({ source: m.folder, cfg: m.cfg, checkpoint: m.checkpoint, record, calibration, sink, signal, onProgress: opts?.onProgress, variants: req.onnxVariants, externalDataThreshold: req.externalDataThreshold, quantized });
      }
      if (req.format === 'hf-gptq' && !quantized) {
        await sink.abort().catch(() => undefined);
        throw new PolyPruneError('BAD_ARGUMENT', record?.quantization ? 'The hf-gptq format stores GPTQ\'s integer codes, and this model holds only its dequantized weights (it was loaded from a folder); quantize it again in this session (polyprune quantize ... --format hf-gptq).' : 'The hf-gptq format stores a GPTQ model\'s integer codes; quantize the model first (polyprune quantize --method gptq --bits 4 ... --format hf-gptq).');
      }
      if (req.format !== 'hf' && req.format !== 'hf-gptq') {
        await sink.abort().catch(() => undefined);
        throw new PolyPruneError('BAD_ARGUMENT', `Unknown export format '${String(req.format)}'. Supported: ${EXPORT_FORMATS.join(', ')}.`);
      }
      return exportHfCheckpoint({ source: m.folder, checkpoint: m.checkpoint, record, calibration, sink, signal, onProgress: opts?.onProgress, maxShardBytes: req.maxShardBytes, gptq: req.format === 'hf-gptq' ? quantized : null });
    });
  }

  async exportSizes(id: string, as?: { quantize?: ExportQuantSettings | null }): Promise<ExportSizes> {
    const m = this.get(id);
    if (as?.quantize) validateGptqOptions(as.quantize);
    return exportSizesOf(m, undefined, as?.quantize ?? undefined);
  }

  async exportModel(id: string, opts?: OpOptions): Promise<ExportedFile[]> {
    const sink = memorySink();
    await this.exportTo(id, sink, { format: 'hf' }, opts);
    return [...sink.files].map(([name, data]) => ({ name, data }));
  }

  async exportZip(id: string, req: ExportRequest, opts?: OpOptions): Promise<Blob> {
    this.get(id);
    const sink = blobZipSink();
    await this.exportTo(id, sink, req, opts);
    return sink.result();
  }

  async exportToDirectory(id: string, dir: FileSystemDirectoryHandle, name: string, req: ExportRequest, opts?: OpOptions): Promise<ExportSummary> {
    this.get(id);
    const sink = await directorySink(dir, name);
    return this.exportTo(id, sink, req, opts);
  }

  async evalTask(id: string, req: TaskRequest, opts?: OpOptions): Promise<TaskResult> {
    const m = this.get(id);
    return this.op(opts, (signal) =>
      runTask({ task: req.task, language: req.language, text: req.text, limit: req.limit, tokenizer: m.tokenizer, scorer: gpuScorer(m.model), signal, onProgress: opts?.onProgress, pace: pacerOf(m.model) }),
    );
  }

  async generate(id: string, req: GenerateRequest, opts?: OpOptions): Promise<GenerateResult> {
    const m = this.get(id);
    return this.op(opts, (signal) => generateText(m, req, { signal, onProgress: opts?.onProgress }));
  }

  async generateCalibration(id: string, req: GenerateCalibrationRequest, opts?: OpOptions): Promise<GeneratedCalibration> {
    const m = this.get(id);
    return this.op(opts, (signal) => generateCalibrationText(m, req, { signal, onProgress: opts?.onProgress }));
  }

  async logits(id: string, ids: Int32Array): Promise<Float32Array> {
    const { model } = this.get(id);
    checkTokenIds(ids, model.cfg.vocabSize, 'logits');
    const x = await model.forwardHidden(ids, ids.length);
    const lt = model.logits(x, ids.length);
    x.destroy();
    try {
      return await model.gpu.readF32(lt);
    } finally {
      lt.destroy();
    }
  }

  /** GPU memory (live and peak bytes allocated through the engine) and submit counts; null before the device exists. */
  async gpuStats(): Promise<{ peakBytes: number; liveBytes: number; submits: SubmitStats } | null> {
    const g = this.gpuPromise ? await this.gpuPromise.catch(() => null) : null;
    if (!g) return null;
    const m = g.memory();
    return { peakBytes: m.peakBytes, liveBytes: m.liveBytes, submits: g.submits() };
  }

  async dispose(): Promise<void> {
    for (const sid of [...this.statsHandles.keys()]) await this.releaseStats(sid);
    for (const id of [...this.models.keys()]) await this.unloadModel(id);
    this.keptMasks.clear();
    if (this.gpuPromise) (await this.gpuPromise).destroy();
    this.gpuPromise = null;
  }
}

function nameOf(location: string): string {
  const parts = location.replace(/\/+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] || location;
}

/** `folder`: where it was loaded from; the summary's `source` is its portable form (portableSource), a local folder's path goes to `localPath`. */
/** Each format's model-file bytes for a loaded model (exportedBytes), or the format's one-line refusal. */
function exportSizesOf(m: LoadedModel, req?: ExportRequest, as?: ExportQuantSettings): ExportSizes {
  const quantized = m.pruning?.quantized ?? null;
  const quant = as ?? quantized?.settings ?? null;
  const tensors = checkpointTensors(m.checkpoint);
  const out = {} as ExportSizes;
  for (const format of EXPORT_FORMATS) {
    try {
      if (format === 'hf-gptq' && !quant) throw new PolyPruneError('BAD_ARGUMENT', 'hf-gptq needs a GPTQ model quantized in this session.');
      const record = exportRecord(m, { ...req, format }, quant !== null, false);
      const s = exportedBytes({ cfg: m.cfg, tensors, format, quant, record, onnxVariants: format === req?.format ? req.onnxVariants : undefined, maxShardBytes: req?.maxShardBytes, externalDataThreshold: req?.externalDataThreshold });
      out[format] = { bytes: s.total, files: s.files };
    } catch (e) {
      out[format] = { refused: (e as Error).message };
    }
  }
  return out;
}

/**
 * The record an export carries: for a quantized model, `quantization.weights` says what the files hold
 * (dequantized floats, or the integer codes) and `quantization.export_bytes` the model files' bytes in
 * each format that can hold it.
 */
function exportRecord(m: LoadedModel, req: ExportRequest, holdsCodes: boolean, withSizes = true): PruningRecord | null {
  const record = m.pruning?.record ?? m.record ?? null;
  const q = record?.quantization;
  if (!record || !q) return record;
  const codes = holdsCodes && (req.format === 'hf-gptq' || (req.format === 'onnx' && (req.onnxVariants ?? ['q']).some((v) => v.startsWith('q'))));
  const weights = codes ? (req.format === 'hf-gptq' ? 'gptq-v1' : 'matmulnbits') : 'dequantized';
  const next: PruningRecord = { ...record, quantization: { ...q, weights } };
  if (withSizes) {
    const sizes = exportSizesOf({ ...m, pruning: m.pruning ? { ...m.pruning, record: next } : undefined, record: next }, req);
    next.quantization = { ...next.quantization!, export_bytes: Object.fromEntries(Object.entries(sizes).flatMap(([f, v]) => ('bytes' in v ? [[f, v.bytes]] : []))) };
  }
  return next;
}

/** `tokenizerBos`: the tokenizer's BOS id, used when config.json names none. */
export function summarize(id: string, name: string, folder: Pick<ModelFolder, 'location' | 'localDir'>, cfg: ModelConfig, ckpt: Checkpoint, resident: boolean, sha256: string, tokenizerBos?: number): ModelSummary {
  const dtypes = new Set<string>();
  let bytes = 0;
  for (const n of ckpt.names()) {
    const i = ckpt.info(n);
    dtypes.add(i.dtype);
    bytes += i.byteLength;
  }
  return {
    id,
    name,
    source: portableSource(folder),
    ...(folder.localDir ? { localPath: folder.location } : {}),
    modelType: cfg.modelType,
    numLayers: cfg.numLayers,
    hiddenSize: cfg.hiddenSize,
    intermediateSize: cfg.intermediateSize,
    numHeads: cfg.numHeads,
    numKvHeads: cfg.numKvHeads,
    headDim: cfg.headDim,
    vocabSize: cfg.vocabSize,
    maxPositionEmbeddings: cfg.maxPositionEmbeddings,
    tieWordEmbeddings: cfg.tieWordEmbeddings,
    parameters: parameterCount(cfg),
    dtype: [...dtypes].sort().join('+'),
    checkpointBytes: bytes,
    resident,
    sha256,
    ...((cfg.bosTokenId ?? tokenizerBos) !== undefined ? { bosTokenId: cfg.bosTokenId ?? tokenizerBos } : {}),
  };
}
