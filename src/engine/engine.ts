/**
 * In-thread implementation of the Engine API (the CLI and tests use it directly; the web app runs it
 * inside a Web Worker, see worker.ts).
 */
import { PolyPruneError } from '../common/errors';
import { Gpu, type GpuInfo } from '../gpu/device';
import { urlFolder, fileListFolder, type ModelFolder } from '../io/source';
import { openCheckpoint, type Checkpoint } from '../io/safetensors';
import { loadModelConfig, parameterCount, type ModelConfig } from '../io/config';
import { loadTokenizerFromFolder, type TextTokenizer } from '../io/tokenizer';
import { LlamaModel } from '../model/llama';
import { runTask } from '../eval/run';
import type { Engine, ModelSpec, ModelSummary, OpOptions, PerplexityRequest, PerplexityResult, TaskRequest, TaskResult } from './api';
import { computePerplexity, gpuScorer } from './perplexity';
import { prunedCopy, type PruneRequest } from './prune';
import { exportHfCheckpoint, PrunedTensors, type PruningRecord } from '../export/hf';
import { blobZipSink, memorySink, type ExportSink } from '../export/sink';
import { exportOnnx } from '../export/onnx';
import { directorySink } from '../export/fsaccess';
import { readPruningRecord, summarizePruning } from '../export/provenance';
import type { ExportedFile, ExportRequest, ExportSummary, PruneResult } from './api';

export interface EngineOptions {
  /** navigator.gpu in the browser, nodeGpu() in Node. */
  gpu: () => Promise<GPU | undefined>;
  /** Node only: sleep between event-loop turns while waiting for the GPU. */
  politeWait?: boolean;
  /** Force resident (true) or streamed (false) layers; default decides by size. */
  resident?: boolean;
}

export interface LoadedModel {
  summary: ModelSummary;
  cfg: ModelConfig;
  folder: ModelFolder;
  checkpoint: Checkpoint;
  tokenizer: TextTokenizer;
  model: LlamaModel;
  /** Set for pruned models: the pruned tensors (source dtype) and the pruning record. */
  pruning?: { pruned: PrunedTensors; record: PruningRecord; base: Checkpoint; calibration: { ids: Int32Array; n: number; seqlen: number } | null };
  /** pruning.json of a model loaded from a PolyPrune export (carried into its re-exports). */
  record?: PruningRecord;
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

  async loadModel(spec: ModelSpec, opts?: OpOptions): Promise<ModelSummary> {
    return this.op(opts, async (signal) => {
      const folder = spec.kind === 'url' ? urlFolder(spec.url) : spec.kind === 'files' ? fileListFolder(spec.files) : spec.folder;
      const cfg = await loadModelConfig(folder);
      const record = await readPruningRecord(folder);
      const tokenizer = await loadTokenizerFromFolder(folder);
      const checkpoint = await openCheckpoint(folder);
      const gpu = await this.device();
      const model = await LlamaModel.load(gpu, cfg, checkpoint, { resident: this.options.resident, onProgress: opts?.onProgress, signal });
      const id = `m${this.nextId++}`;
      const summary = summarize(id, spec.name ?? nameOf(folder.location), folder.location, cfg, checkpoint, model.resident);
      if (record) summary.pruning = summarizePruning(record);
      const loaded: LoadedModel = { summary, cfg, folder, checkpoint, tokenizer, model, ...(record ? { record } : {}) };
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
    const record = loaded.pruning?.record ?? loaded.record;
    const summary = { ...summarize(id, name, loaded.folder.location, loaded.cfg, loaded.checkpoint, loaded.model.resident), prunedFrom, ...(record ? { pruning: summarizePruning(record) } : {}) };
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
      const summary = this.register({ ...out.loaded, pruning: { pruned: out.pruned, record: out.record, base: base.checkpoint, calibration: out.calibration } }, out.name, id);
      return { model: summary, report: out.report, record: out.record };
    });
  }

  /**
   * Stream a loaded model (pruned or not) into `sink` as a Hugging Face folder or ONNX (in-thread
   * callers: the CLI writes to disk). One tensor is in memory at a time; cancel with opts.opId.
   */
  async exportTo(id: string, sink: ExportSink, req: ExportRequest = { format: 'hf' }, opts?: OpOptions): Promise<ExportSummary> {
    let m: LoadedModel;
    try {
      m = this.get(id);
    } catch (e) {
      await sink.abort();
      throw e;
    }
    const record = m.pruning?.record ?? m.record ?? null;
    const calibration = m.pruning ? m.pruning.calibration : undefined;
    return this.op(opts, (signal) => {
      if (req.format === 'onnx') {
        return exportOnnx({ source: m.folder, cfg: m.cfg, checkpoint: m.checkpoint, record, calibration, sink, signal, onProgress: opts?.onProgress, variants: req.onnxVariants, externalDataThreshold: req.externalDataThreshold });
      }
      if (req.format !== 'hf') throw new PolyPruneError('BAD_ARGUMENT', `Unknown export format '${String(req.format)}'. Supported: hf, onnx.`);
      return exportHfCheckpoint({ source: m.folder, checkpoint: m.checkpoint, record, calibration, sink, signal, onProgress: opts?.onProgress, maxShardBytes: req.maxShardBytes });
    });
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
