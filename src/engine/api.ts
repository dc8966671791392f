/**
 * The one public API of the engine. The React app talks to it through a Web Worker (client.ts), the
 * CLI and tests call the in-thread implementation (engine.ts) directly. Everything crossing this API
 * is structured-cloneable: no GPU handles, no class instances.
 */
import type { ProgressEvent } from '../common/progress';
import type { GpuInfo } from '../gpu/device';
import type { ModelFolder } from '../io/source';
import type { PerplexityRecord, TaskResult } from '../eval/results';
import type { TaskName } from '../eval/types';

export type { TaskName, TaskResult };
export { TASK_NAMES } from '../eval/types';

/** Where a model comes from. `folder` is for in-thread use (CLI, tests); it cannot cross a worker. */
export type ModelSpec =
  | { kind: 'url'; url: string; name?: string }
  | { kind: 'files'; files: File[]; name?: string }
  | { kind: 'folder'; folder: ModelFolder; name?: string };

export interface ModelSummary {
  id: string;
  name: string;
  source: string;
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  parameters: number;
  dtype: string;
  /** Bytes of the weights in the checkpoint as stored. */
  checkpointBytes: number;
  /** True when every layer stays on the GPU; false when layers stream from the checkpoint. */
  resident: boolean;
  /** Set for models made by `prune`. */
  prunedFrom?: string;
  /**
   * Content hash (SHA-256 hex) of config.json, the tensor listing (names, dtypes, shapes, offsets)
   * and the first bytes of a few tensors: the model's identity in result records, stable across
   * reloads and machines (see modelContentHash in engine.ts).
   */
  sha256: string;
}

/** Mask overlap of two pruned models: iou[layer][matrix] (null where neither prunes anything). */
export interface MaskOverlap {
  matrices: string[];
  iou: (number | null)[][];
}

/** Options of every long operation. `opId` lets `cancel(opId)` stop it. */
export interface OpOptions {
  opId?: string;
  onProgress?: (e: ProgressEvent) => void;
}

export interface PerplexityRequest {
  /** Raw text (tokenized without BOS) or explicit windows. */
  text?: string;
  /** Explicit token windows: ids (n*seqlen), each window scored on its own. */
  windows?: { ids: Int32Array; n: number; seqlen: number };
  seqlen: number;
  /** Sliding window with this stride instead of non-overlapping windows. */
  stride?: number;
  /** Score at most this many windows (from the start of the text). */
  maxWindows?: number;
  language?: string;
}

/** A perplexity record (see src/eval/results.ts) plus how it was windowed. */
export interface PerplexityResult extends PerplexityRecord {
  totalNll: number;
  windows: number;
  seqlen: number;
  stride?: number;
}

export interface TaskRequest {
  task: TaskName;
  /** The task file's text in its published format (see docs/eval-tasks.md). */
  text: string;
  /** Needed by tasks whose prompt depends on the language (xcopa, xnli, pawsx). */
  language?: string;
  /** Score only the first `limit` items. */
  limit?: number;
}

export type { PruneRequest, CalibrationText, PruneReport, PruningRecord } from './prune';
/** The one registry of pruning methods and the one validator of sparsity / N:M (src/prune/method.ts). */
export { PRUNE_METHODS, PRUNE_METHOD_INFO, parsePruneMethod, parseNm, parseSparsity, resolvePattern, validatePruneOptions, assertNoDuplicates } from '../prune/method';
export type { NM, PruneMethod, PruneMethodInfo } from '../prune/method';
/** The pruned matrices of a decoder layer, in wanda's find_layers order (the inner index of per-matrix results). */
export { LINEAR_NAMES as LINEAR_MATRICES } from '../model/llama';
import type { PruneRequest, PruneReport, PruningRecord } from './prune';

export interface PruneResult {
  model: ModelSummary;
  report: PruneReport;
  record: PruningRecord;
}

export interface ExportedFile {
  name: string;
  data: Uint8Array;
}

export interface Engine {
  gpuInfo(): Promise<GpuInfo>;
  loadModel(spec: ModelSpec, opts?: OpOptions): Promise<ModelSummary>;
  listModels(): Promise<ModelSummary[]>;
  /**
   * Free a model. `keepMask` (pruned models): keep its pruning mask (1 bit per weight) for
   * `maskOverlap` until `releaseMask(id)` or dispose.
   */
  unloadModel(id: string, opts?: { keepMask?: boolean }): Promise<void>;
  /** Per layer and matrix IoU of the pruned positions of two pruned models (loaded or with kept masks). */
  maskOverlap(idA: string, idB: string): Promise<MaskOverlap>;
  /** Drop a mask kept by `unloadModel(id, { keepMask: true })`; no-op when there is none. */
  releaseMask(id: string): Promise<void>;
  tokenize(id: string, text: string): Promise<Int32Array>;
  perplexity(id: string, req: PerplexityRequest, opts?: OpOptions): Promise<PerplexityResult>;
  /**
   * Prune a copy of a loaded model layer by layer with calibration text (Wanda, SparseGPT) or without
   * (magnitude). The pruned copy becomes a new loaded model; the original is unchanged.
   */
  prune(id: string, req: PruneRequest, opts?: OpOptions): Promise<PruneResult>;
  /** A pruned model as Hugging Face files: config.json, model.safetensors, tokenizer files, pruning.json. */
  exportModel(id: string, opts?: OpOptions): Promise<ExportedFile[]>;
  /** Multiple-choice task scored as lm-evaluation-harness does: acc, acc_norm, acc_bytes with stderr. */
  evalTask(id: string, req: TaskRequest, opts?: OpOptions): Promise<TaskResult>;
  /** Logits (T, V) of one sequence; for checks on small inputs (reads all logits back). */
  logits(id: string, ids: Int32Array): Promise<Float32Array>;
  /** Stop a running operation; it ends with a CANCELLED error and leaves nothing half-done. */
  cancel(opId: string): Promise<void>;
  dispose(): Promise<void>;
}
