/**
 * In-thread implementation of the Engine API (the CLI and tests use it directly; the web app runs it
 * inside a Web Worker, see worker.ts).
 */
import { PolyPruneError } from '../common/errors';
import { Gpu, type GpuInfo } from '../gpu/device';
import { urlFolder, fileListFolder, type ModelFolder } from '../io/source';
import { hubFolder } from '../io/hub';
import { cachingFetch, type WeightCache } from '../io/cache';
import { openCheckpoint, type Checkpoint } from '../io/safetensors';
import { loadModelConfig, parameterCount, validateCheckpoint, type ModelConfig } from '../io/config';
import { dtypeSize } from '../io/dtypes';
import { planRun, type RunPlan } from '../prune/plan';
import { loadTokenizerFromFolder, type TextTokenizer } from '../io/tokenizer';
import { LlamaModel } from '../model/llama';
import { runTask } from '../eval/run';
import type { Engine, ModelSpec, ModelSummary, OpOptions, PlanQuery, WeightCacheInfo, PerplexityRequest, PerplexityResult, TaskRequest, TaskResult } from './api';
import { computePerplexity, gpuScorer } from './perplexity';
import { prunedCopy, type PruneRequest } from './prune';
import { exportHfCheckpoint, memorySink, PrunedTensors, type OutputSink, type PruningRecord } from '../export/hf';
import type { ExportedFile, PruneResult } from './api';

export interface EngineOptions {
  /** navigator.gpu in the browser, nodeGpu() in Node. */
  gpu: () => Promise<GPU | undefined>;
  /** Node only: sleep between event-loop turns while waiting for the GPU. */
  politeWait?: boolean;
  /** Force resident (true) or streamed (false) layers; default decides by size. */
  resident?: boolean;
  /** Browser cache of downloaded weights for URL and Hub models (the worker passes the Cache API). */
  weightCache?: WeightCache;
}

export interface LoadedModel {
  summary: ModelSummary;
  cfg: ModelConfig;
  folder: ModelFolder;
  checkpoint: Checkpoint;
  tokenizer: TextTokenizer;
  model: LlamaModel;
  /** Set for pruned models: the pruned tensors (source dtype) and the pruning record. */
  pruning?: { pruned: PrunedTensors; record: PruningRecord; base: Checkpoint };
}

export class LocalEngine implements Engine {
  private gpuPromise: Promise<Gpu> | null = null;
  private models = new Map<string, LoadedModel>();
  private ops = new Map<string, AbortController>();
  private nextId = 1;

  constructor(private readonly options: EngineOptions) {}

  /** The device, created on first use. */
  async device(): Promise<Gpu> {
    this.gpuPromise ??= this.options.gpu().then((g) => Gpu.create(g, { politeWait: this.options.politeWait }));
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

  /** Run `fn` with an AbortSignal registered under opts.opId. */
  protected async op<T>(opts: OpOptions | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctrl = new AbortController();
    const id = opts?.opId;
    if (id) this.ops.set(id, ctrl);
    try {
      return await fn(ctrl.signal);
    } finally {
      if (id) this.ops.delete(id);
    }
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
        return urlFolder(spec.url, fetchFn);
      case 'hub':
        return hubFolder(spec.id, { token: spec.token, endpoint: spec.endpoint, signal, fetchFn });
      case 'files':
        return fileListFolder(spec.files);
      case 'folder':
        return spec.folder;
    }
  }

  async plan(spec: ModelSpec, query: PlanQuery): Promise<RunPlan> {
    const folder = await this.folderOf(spec);
    const cfg = await loadModelConfig(folder);
    const checkpoint = await openCheckpoint(folder);
    try {
      validateCheckpoint(cfg, checkpoint);
      let stored = 0;
      let asF32 = 0;
      for (const n of checkpoint.names()) {
        const i = checkpoint.info(n);
        stored += i.byteLength;
        asF32 += (i.byteLength / dtypeSize(i.dtype)) * 4;
      }
      const gpu = await this.device();
      return planRun(cfg, query, {
        limits: gpu.info.limits,
        checkpointBytes: stored,
        f32Bytes: asF32,
        remote: spec.kind === 'url' || spec.kind === 'hub',
        gpuMemoryBytes: query.gpuMemoryBytes,
        hostMemoryBytes: query.hostMemoryBytes,
        resident: this.options.resident,
      });
    } finally {
      await checkpoint.close();
    }
  }

  async loadModel(spec: ModelSpec, opts?: OpOptions): Promise<ModelSummary> {
    return this.op(opts, async (signal) => {
      let cacheFull = false;
      const folder = await this.folderOf(spec, signal, () => (cacheFull = true));
      const cfg = await loadModelConfig(folder);
      const tokenizer = await loadTokenizerFromFolder(folder);
      const checkpoint = await openCheckpoint(folder);
      const gpu = await this.device();
      const model = await LlamaModel.load(gpu, cfg, checkpoint, { resident: this.options.resident, onProgress: opts?.onProgress, signal });
      const id = `m${this.nextId++}`;
      const summary = summarize(id, spec.name ?? nameOf(folder.location), folder.location, cfg, checkpoint, model.resident);
      if (cacheFull) summary.cacheNote = "The browser's storage for downloaded weights is full: part of this model was not cached and will be downloaded again next time. Clear cached weights in the Model panel to make room.";
      const loaded: LoadedModel = { summary, cfg, folder, checkpoint, tokenizer, model };
      this.models.set(id, loaded);
      return loaded.summary;
    });
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
  register(loaded: Omit<LoadedModel, 'summary'>, name: string, prunedFrom?: string): ModelSummary {
    const id = `m${this.nextId++}`;
    const summary = { ...summarize(id, name, loaded.folder.location, loaded.cfg, loaded.checkpoint, loaded.model.resident), prunedFrom };
    this.models.set(id, { ...loaded, summary });
    return summary;
  }

  async unloadModel(id: string): Promise<void> {
    const m = this.get(id);
    m.model.destroy();
    this.models.delete(id);
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
      const out = await prunedCopy(base, req, { signal, onProgress: opts?.onProgress });
      const summary = this.register({ ...out.loaded, pruning: { pruned: out.pruned, record: out.record, base: base.checkpoint } }, out.name, id);
      return { model: summary, report: out.report, record: out.record };
    });
  }

  /** Write a pruned model's Hugging Face folder into `sink` (in-thread callers: the CLI writes to disk). */
  async exportTo(id: string, sink: OutputSink, opts?: OpOptions): Promise<{ files: string[]; bytes: number }> {
    const m = this.get(id);
    if (!m.pruning) throw new PolyPruneError('BAD_ARGUMENT', `Model '${m.summary.name}' is not a pruned model; there is nothing new to export.`);
    const { pruned, record, base } = m.pruning;
    return this.op(opts, (signal) => exportHfCheckpoint({ source: m.folder, checkpoint: base, pruned, record, sink, signal }));
  }

  async exportModel(id: string, opts?: OpOptions): Promise<ExportedFile[]> {
    const sink = memorySink();
    await this.exportTo(id, sink, opts);
    return [...sink.files].map(([name, data]) => ({ name, data }));
  }

  async evalTask(id: string, req: TaskRequest, opts?: OpOptions): Promise<TaskResult> {
    const m = this.get(id);
    return this.op(opts, (signal) =>
      runTask({ task: req.task, language: req.language, text: req.text, limit: req.limit, tokenizer: m.tokenizer, scorer: gpuScorer(m.model), signal, onProgress: opts?.onProgress }),
    );
  }

  async logits(id: string, ids: Int32Array): Promise<Float32Array> {
    const { model } = this.get(id);
    const x = await model.forwardHidden(ids, ids.length);
    const lt = model.logits(x, ids.length);
    x.destroy();
    try {
      return await model.gpu.readF32(lt);
    } finally {
      lt.destroy();
    }
  }

  async dispose(): Promise<void> {
    for (const id of [...this.models.keys()]) await this.unloadModel(id);
    if (this.gpuPromise) (await this.gpuPromise).destroy();
    this.gpuPromise = null;
  }
}

function nameOf(location: string): string {
  const parts = location.replace(/\/+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] || location;
}

export function summarize(id: string, name: string, source: string, cfg: ModelConfig, ckpt: Checkpoint, resident: boolean): ModelSummary {
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
    source,
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
  };
}
