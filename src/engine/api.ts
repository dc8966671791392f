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
  | { kind: 'url'; url: string; name?: string; /** Fail a download that receives nothing for this long (default: the engine's, 30 s). */ stallTimeoutMs?: number }
  /** A Hugging Face Hub id `org/name[@revision]`; `endpoint` defaults to https://huggingface.co. */
  | { kind: 'hub'; id: string; token?: string; endpoint?: string; name?: string; stallTimeoutMs?: number }
  | { kind: 'files'; files: File[]; name?: string }
  | { kind: 'folder'; folder: ModelFolder; name?: string };

export interface ModelSummary {
  id: string;
  name: string;
  /**
   * Where it came from, portable (it goes into records, share links and exports): Hub id and
   * revision, URL, dropped folder name, or `local folder '<name>'` (see portableSource).
   */
  source: string;
  /** The absolute path of a model loaded from a local folder: shown on this machine only, never written. */
  localPath?: string;
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
  /** The BOS token id (config.json's, else the tokenizer's) that starts a generation prompt; absent when there is none. */
  bosTokenId?: number;
  /** Things worth a look that did not stop the load (unused layers or tensors, an ignored file) or the prune (pruned matrices kept in memory because their spill file failed). */
  warnings?: string[];
  /** Set for pruned models: made by `prune`, or loaded from a PolyPrune export (its pruning.json). */
  pruning?: PruningSummary;
  /** Set when downloaded weights could not be cached in the browser (storage full). */
  cacheNote?: string;
}

/** Mask overlap of two pruned models: iou[layer][matrix] (null where neither prunes anything). */
export interface MaskOverlap {
  matrices: string[];
  iou: (number | null)[][];
}

export type { PruningSummary } from '../export/provenance';
import type { PruningSummary } from '../export/provenance';

/**
 * Export formats: a Hugging Face folder (a quantized model's dequantized weights), a Hugging Face
 * folder in the GPTQ format (a GPTQ model's integer codes: qweight/qzeros/scales/g_idx), or ONNX in
 * the layout transformers.js loads (a GPTQ model as MatMulNBits: onnx/model_q4.onnx).
 */
export type ExportFormat = 'hf' | 'hf-gptq' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['hf', 'hf-gptq', 'onnx'];

/** ONNX graphs: fp32, fp16 (float weights); q4, q8, q2 (a GPTQ model's codes in MatMulNBits). */
export type OnnxVariantName = 'fp32' | 'fp16' | 'q4' | 'q8' | 'q2';
export const ONNX_VARIANT_NAMES: readonly OnnxVariantName[] = ['fp32', 'fp16', 'q4', 'q8', 'q2'];

/** The bytes of a model's files in each export format (`exportedBytes`), or why the format cannot hold it. */
/** GPTQ settings for {@link Engine.exportSizes}: bits, columns per group (-1 per channel), act-order, static groups. */
export interface ExportQuantSettings {
  bits: number;
  groupSize: number;
  actOrder: boolean;
  staticGroups: boolean;
}

export type ExportSizes = Record<ExportFormat, { bytes: number; files: Record<string, number> } | { refused: string }>;

export interface ExportRequest {
  format: ExportFormat;
  /** ONNX graphs to write (default: q<bits> for a GPTQ model quantized in this session, else fp32 and fp16). */
  onnxVariants?: OnnxVariantName[];
  /** HF: shard the weights above this many bytes (default 5 GB, as the Hub). */
  maxShardBytes?: number;
  /** ONNX: weights above this many bytes go to external data files (default 2 GB). */
  externalDataThreshold?: number;
}

export interface ExportSummary {
  files: string[];
  bytes: number;
}

/** What the browser's cache of downloaded weights holds. */
export interface WeightCacheInfo {
  /** False where there is no cache (Node, insecure pages). */
  available: boolean;
  entries: number;
  bytes: number;
}

/** Options of every long operation. `opId` lets `cancel(opId)` stop it. */
export interface OpOptions {
  opId?: string;
  onProgress?: (e: ProgressEvent) => void;
  /**
   * Idle-time work that must not share the GPU with anything else (the page's speed measurement): it
   * is refused (CANCELLED) while another operation runs, and any other operation that starts meanwhile
   * cancels it and waits until its buffers are freed, so another run's time and peak GPU memory never
   * include it.
   */
  background?: boolean;
}

export interface PerplexityRequest {
  /** Raw text (tokenized without BOS) or explicit windows. */
  text?: string;
  /** File name of the text or windows, for messages (binary text or bad ids are refused naming it). */
  textName?: string;
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
  /** E.g. a text shorter than one full window. */
  warnings?: string[];
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

/** The one registry of pruning methods and the one validator of sparsity / N:M (src/prune/method.ts). */
export { PRUNE_METHODS, PRUNE_METHOD_INFO, METHODS, MIX_METHODS, isMixMethod, sharesMixStatistics, mixStatisticsOwner, mixMethodsServedBy, lookupMethod, needsCalibration, methodSpec, methodsWhere, orList, andList, parsePruneMethod, parseNm, parseSparsity, resolvePattern, validatePruneOptions, assertNoDuplicates } from '../prune/method';
/** GPTQ's bit widths and the check of its settings (the page's mixer fields). */
export { GPTQ_BITS, validateGptqOptions } from '../prune/methods/gptq';
export type { NM, PruneMethod, PruneMethodInfo, LayerProfileSpec, MethodSpec, MixMethod, PruneSettings, PruneSettingsInput } from '../prune/method';
/** The prune settings' one schema and parse (the same messages in the engine, the CLI and the page). */
export { parsePruneSettings, pruneSettingsSchema } from '../prune/method';
import type { MixMethod, NM, PruneMethod } from '../prune/method';
export { SPARSITY_PROFILES, OWL_DEFAULT_M, OWL_DEFAULT_LAMBDA, LANG_DEFAULT_BETA, parseSparsityProfile } from '../prune/owl';
export type { SparsityProfile } from '../prune/owl';
export { resolveLayerProfile } from '../prune/method';
/** The pruned matrices of a decoder layer, in wanda's find_layers order (the inner index of per-matrix results). */
export { LINEAR_NAMES as LINEAR_MATRICES } from '../model/names';
export type { PruneReport } from '../prune/run';
import type { PruneReport } from '../prune/run';
export type { PruningRecord } from '../export/hf';
import type { PruningRecord } from '../export/hf';
import type { SparsityProfile } from '../prune/owl';
import type { CalibrationFileProvenance } from '../calib/text';

/** Calibration text: raw bytes (checked as UTF-8) or a string. */
export interface CalibrationText {
  name: string;
  text?: string;
  bytes?: Uint8Array;
  language?: string;
  /** Share of the windows drawn from this text, relative to the others (default 1). */
  weight?: number;
  /** Set for text the model wrote itself (generateCalibration): kept in the result record. */
  generated?: GeneratedSource;
}

export interface PruneRequest {
  method: PruneMethod;
  /** Unstructured ratio in (0, 1); omit with `nm`. */
  sparsity?: number;
  /** Keep n of every m consecutive inputs per row (2:4 = {n: 2, m: 4}). */
  nm?: NM;
  /** Text to sample windows from, or explicit windows; not used by magnitude. */
  calibration?: { texts: CalibrationText[]; nsamples: number; seqlen: number; seed?: number } | { windows: { ids: Int32Array; n: number; seqlen: number; name?: string } };
  /** Name of the pruned model (default derived from the method). */
  name?: string;
  /**
   * Measure each matrix's relative reconstruction error ||WX - W'X||^2 / ||WX||^2 on the calibration
   * activations (reported per matrix and in `layerDone` events). Costs one K x K Gram matrix per
   * input group and layer (Wanda: extra work; SparseGPT has it anyway). Default false.
   */
  reconstructionError?: boolean;
  /**
   * Layer-wise sparsity: 'uniform' (default) or 'owl' (outlier-weighed layer-wise sparsity, Yin et
   * al. 2023; Wanda, wanda-lang and SparseGPT, unstructured only). See src/prune/owl.ts.
   */
  profile?: SparsityProfile;
  /** OWL's outlier threshold M (default 5). */
  owlM?: number;
  /** OWL's lambda (default 0.08). */
  owlLambda?: number;
  /** wanda-lang: weight of the spread of the per-source statistics (default 1). */
  langBeta?: number;
  /** Quantizing methods (GPTQ): bits 2/3/4/8, columns per group (default 128, -1 per channel), act-order, static groups. */
  quantize?: { bits: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean };
}


/** One side of `compareModels`: a loaded model (its mask when it is a pruned copy, else its checkpoint's zero weights), or a checkpoint read matrix by matrix without loading it. */
export type CompareSide = { modelId: string } | { model: ModelSpec };

export interface CompareRequest {
  /** Held-out text: both models' perplexity on the same windows (a checkpoint side is loaded for it, then freed). */
  text?: string;
  textName?: string;
  /** Perplexity window length (default 128) and windows (default 8). */
  seqlen?: number;
  maxWindows?: number;
  language?: string;
}

/** Mask IoU of two models per layer and matrix (zero weights = pruned), their zero fractions, and both perplexities on one text. */
export interface CompareResult extends MaskOverlap {
  /** Where each side came from (a loaded model's name, a checkpoint's location). */
  names: [string, string];
  /** Zeros over weights of the compared matrices, per side. */
  sparsity: [number, number];
  /** Mean IoU of each layer's matrices, and over all matrices (null where no matrix prunes anything). */
  layerIou: (number | null)[];
  meanIou: number | null;
  ppl?: [PerplexityResult, PerplexityResult];
}

export interface PruneResult {
  model: ModelSummary;
  report: PruneReport;
  record: PruningRecord;
}

export interface ExportedFile {
  name: string;
  data: Uint8Array;
}

export type { RunPlan, PlanItem } from '../prune/plan';
import type { RunPlan } from '../prune/plan';

/** What `plan` is asked about: a pruning run (method, calibration size) or evaluation only. */
export interface PlanQuery {
  method: PruneMethod | 'evaluate';
  nsamples?: number;
  seqlen?: number;
  blocksize?: number;
  /** GPU memory available, if the caller knows it (WebGPU does not report it). */
  gpuMemoryBytes?: number;
  /** Host memory available (the CLI passes os.totalmem()). */
  hostMemoryBytes?: number;
}

/** One calibration source of a mixer: text (windows are drawn as for `prune`) or explicit windows. */
export interface MixSourceRequest {
  name: string;
  language?: string;
  text?: string;
  bytes?: Uint8Array;
  /** Explicit token windows (n x seqlen, seqlen = the request's). */
  windows?: { ids: Int32Array; n: number; seqlen: number };
  /** How the model wrote this text (a `gen:` source): kept in the provenance, so a statistics file keeps it too. */
  generated?: GeneratedSource;
}

export interface CollectStatsRequest {
  /** 'wanda' (per-window input norms), 'sparsegpt' or 'gptq' (the same per-source Hessians, either serves both; refused with a message when they do not fit). */
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
  /**
   * The method that derives the model (default: the statistics' method). It must keep the same
   * statistic (`sharesMixStatistics`): SparseGPT's per-source Hessians serve GPTQ and back.
   */
  method?: MixMethod;
  /** Quantizing methods (GPTQ): bits 2/3/4/8, columns per group (default 128, -1 per channel), act-order, static groups, as `prune`'s `quantize`. */
  quantize?: { bits: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean };
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
  /** The mixer's pruned (GPTQ: quantized) model: the SAME id on every call for one statistics handle (unless unloaded). */
  model: import('./api').ModelSummary;
  /** The method that derived it (the request's, else the statistics'). */
  method: MixMethod;
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
  /**
   * What `overlap` and `layerIou` measure: 'mask-iou' (pruning methods: IoU of the pruned positions)
   * or 'codes-equal' (quantizing methods, the registry's `quantizes`: the share of integer codes
   * that are equal, instant vs exact).
   */
  agreement: 'mask-iou' | 'codes-equal';
  /** Instant vs exact per layer and matrix: mask IoU, or the share of equal integer codes (`agreement`). */
  overlap: import('./api').MaskOverlap;
  /** Mean over the matrices of each layer. */
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


/**
 * Text generation from a prompt (docs/generate.md). The prompt is tokenized as the model's BOS token
 * followed by the prompt's tokens (no other special tokens); an empty prompt is the BOS token alone
 * (refused for a model without one). Greedy by default (temperature 0).
 */
export interface GenerateRequest {
  /** Text to continue ('' = BOS only). Ignored when `promptIds` is given. */
  prompt?: string;
  /** Explicit prompt ids, used as given (no BOS added); at least one. */
  promptIds?: Int32Array;
  /** New tokens at most (1 .. the model's context minus the prompt). */
  maxNewTokens: number;
  /** 0 (default) = greedy; sampling above 0 (at most 100). */
  temperature?: number;
  /** Sampling: keep the k most likely tokens (0 = all, default). */
  topK?: number;
  /** Sampling: nucleus, in (0, 1] (1 = all, default). */
  topP?: number;
  /** Sampling seed, 0 .. 2^53 - 1 (default 0): the same seed gives the same tokens. */
  seed?: number;
  /** Repetition penalty as transformers' (1 = off, default; at most 10). */
  repetitionPenalty?: number;
  /** Stop after an EOS token (default true; the EOS token is the last of `tokens`). */
  stopAtEos?: boolean;
  /** Only check the request and tokenize the prompt: no tokens are generated (`tokens` empty). */
  checkOnly?: boolean;
}

export interface GenerateResult {
  promptIds: Int32Array;
  /** The new tokens (an EOS that stopped the run included). */
  tokens: Int32Array;
  /** The new tokens decoded (without a final EOS). */
  text: string;
  /** Per new token: log p(token | all before) under the model (temperature 1, before top-k/top-p), nats. */
  logprobs: number[];
  stopReason: 'eos' | 'length';
  /** The settings used (defaults filled in). */
  settings: { maxNewTokens: number; temperature: number; topK: number; topP: number; seed: number; repetitionPenalty: number; stopAtEos: boolean };
}

export type { GeneratedSource } from '../calib/genSource';
import type { GeneratedSource } from '../calib/genSource';
export { DEFAULT_GEN_CALIBRATION, GEN_PROMPTS, genSourceName, isGenSource, parseGenSource } from '../calib/genSource';

/**
 * Self-generated calibration text (docs/generate.md): the model writes `windows` windows of `tokens`
 * new tokens after its BOS token and `prompt` (null = BOS alone), sampling with the given settings
 * (seeded: window j draws from PyRandom(seed * 2^32 + j)); with `keep` < 1 it writes
 * ceil(windows / keep) and keeps the `windows` it finds most likely (lowest perplexity).
 */
export interface GenerateCalibrationRequest {
  language: string | null;
  prompt: string | null;
  windows: number;
  tokens: number;
  keep: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
}

export interface GeneratedCalibration {
  /** The kept windows decoded, in the order written, separated by blank lines. */
  text: string;
  /** UTF-8 bytes and SHA-256 of `text`. */
  bytes: number;
  sha256: string;
  /** How it was written (goes into the source's record entry). */
  generated: GeneratedSource;
  /** Windows written before the filter. */
  written: number;
  /** The kept windows' perplexity under the model (exp of their mean per-token NLL). */
  perplexity: number;
}

/** Decoding helpers shared by the engine and other runtimes (the CLI's transformers.js path): the same warpers and seeded draws. */
export { DEFAULT_SAMPLING, argmax, logSoftmax, pickToken, resolveSampling, type Rng, type SamplingSettings } from '../model/generate';
export { PyRandom } from '../calib/random';

export interface Engine {
  gpuInfo(): Promise<GpuInfo>;
  /**
   * What a run on this model would need (GPU memory per buffer kind, biggest binding, bytes to
   * download) against this adapter's limits, from config.json and the checkpoint headers only: no
   * weights are read. `problems` lists what cannot work; callers refuse the run when it is not empty.
   * A loaded model's id instead of a spec: the plan of a run on that model (nothing to download).
   * What the engine already holds on the GPU (other loaded models, kept statistics) counts as
   * 'already on the GPU': the run adds to it.
   */
  plan(spec: ModelSpec | string, query: PlanQuery): Promise<RunPlan>;
  /** The browser cache of downloaded weights (URL and Hub models): size, and a way to empty it. */
  cacheInfo(): Promise<WeightCacheInfo>;
  clearCache(): Promise<void>;
  loadModel(spec: ModelSpec, opts?: OpOptions): Promise<ModelSummary>;
  listModels(): Promise<ModelSummary[]>;
  /**
   * Free a model. `keepMask` (pruned models): keep its pruning mask (1 bit per weight) for
   * `maskOverlap` until `releaseMask(id)` or dispose.
   */
  unloadModel(id: string, opts?: { keepMask?: boolean }): Promise<void>;
  /** Per layer and matrix IoU of the pruned positions of two pruned models (loaded or with kept masks). */
  maskOverlap(idA: string, idB: string): Promise<MaskOverlap>;
  /**
   * Mask IoU per layer and matrix of two models of the same architecture (zero weights = pruned),
   * streamed matrix by matrix: a checkpoint side (e.g. a published pruned model on the Hub) is never
   * loaded whole for it; with `text`, both models' perplexity on the same windows.
   */
  compareModels(a: CompareSide, b: CompareSide, req?: CompareRequest, opts?: OpOptions): Promise<CompareResult>;
  /** Drop a mask kept by `unloadModel(id, { keepMask: true })`; no-op when there is none. */
  releaseMask(id: string): Promise<void>;
  tokenize(id: string, text: string): Promise<Int32Array>;
  perplexity(id: string, req: PerplexityRequest, opts?: OpOptions): Promise<PerplexityResult>;
  /**
   * Prune a copy of a loaded model layer by layer with calibration text (Wanda, SparseGPT) or without
   * (magnitude). The pruned copy becomes a new loaded model; the original is unchanged.
   */
  prune(id: string, req: PruneRequest, opts?: OpOptions): Promise<PruneResult>;
  /**
   * The calibration mixer (docs/mixer.md), step 1: ONE dense forward pass over the windows of every
   * source collects Wanda's statistic per window, layer and input group (method 'wanda'), or each
   * source's SparseGPT Hessian per layer and input group (method 'sparsegpt'; refused with the sizes
   * when they exceed the GPU budget), kept on the GPU until `releaseStats`.
   */
  collectStats(id: string, req: CollectStatsRequest, opts?: OpOptions): Promise<StatsSummary>;
  /**
   * Step 2, instant: masks from the statistics mixed with `weights` (no forward pass), in the
   * handle's one pruned model (the same model id on every call; its dense weights are restored on the
   * GPU and re-masked). Needs a model resident on the GPU.
   */
  mixPrune(statsId: string, req: MixRequest, opts?: OpOptions): Promise<MixResult>;
  /**
   * Step 3, confirm: the exact sequential prune of that mix (windows drawn in its proportions from the
   * collected ones, as many as one source's), a new pruned model, and the per-layer mask IoU against
   * the instant masks.
   */
  confirmMix(statsId: string, req: MixRequest, opts?: OpOptions): Promise<ConfirmMixResult>;
  /**
   * Keep the handle's current mixer model (the last `mixPrune`) as an ordinary pruned model: it is not
   * re-masked again (the next `mixPrune` makes a new one), so it can be exported or measured as is.
   */
  keepMix(statsId: string): Promise<ModelSummary>;
  /** A statistics handle's numbers as host arrays (one read-back), to keep them (the page's IndexedDB, `polyprune mix --save-stats`). */
  readStats(statsId: string): Promise<StatsData>;
  /**
   * Statistics from `readStats` (e.g. stored in the browser) onto the GPU as a new handle for the
   * loaded model `id`, WITHOUT a calibration pass. Refused (BAD_ARGUMENT) when they belong to another
   * model (content hash) or do not fit it; damaged values end in NON_FINITE.
   */
  loadStats(id: string, data: StatsData, opts?: OpOptions): Promise<StatsSummary>;
  /** Free a statistics handle's GPU memory (its mixer model stays loaded until unloaded). */
  releaseStats(statsId: string): Promise<void>;
  /** Calibration passes and layer forwards done so far (the mixer does none). */
  counters(): Promise<EngineCounters>;
  /** A model as Hugging Face files held in memory (small models, tests): config.json, model.safetensors, tokenizer files, pruning.json. */
  exportModel(id: string, opts?: OpOptions): Promise<ExportedFile[]>;
  /**
   * The exact bytes of the model files each export format would write (nothing is written), or why a
   * format cannot hold this model. `as.quantize`: the sizes of this model quantized with those settings
   * (the grid's size column, before the row is made); hf and hf-gptq are exact for it, ONNX to within
   * the few bytes of its pruning.json summary in the graph's metadata.
   */
  exportSizes(id: string, as?: { quantize?: ExportQuantSettings | null }): Promise<ExportSizes>;
  /** A model exported as a zip, streamed into a Blob one tensor at a time (browser downloads; under 4 GiB). */
  exportZip(id: string, req: ExportRequest, opts?: OpOptions): Promise<Blob>;
  /** A model exported into a new subfolder `name` of a folder the user picked (File System Access API). */
  exportToDirectory(id: string, dir: FileSystemDirectoryHandle, name: string, req: ExportRequest, opts?: OpOptions): Promise<ExportSummary>;
  /** Multiple-choice task scored as lm-evaluation-harness does: acc, acc_norm, acc_bytes with stderr. */
  evalTask(id: string, req: TaskRequest, opts?: OpOptions): Promise<TaskResult>;
  /**
   * Continue a prompt with the K/V cache (greedy or seeded sampling), streaming each token as a
   * `token` progress event; see GenerateRequest. Cancel with `cancel(opId)`.
   */
  generate(id: string, req: GenerateRequest, opts?: OpOptions): Promise<GenerateResult>;
  /** Calibration text written by the model itself (see GenerateCalibrationRequest); `calibrate` progress events, cancellable. */
  generateCalibration(id: string, req: GenerateCalibrationRequest, opts?: OpOptions): Promise<GeneratedCalibration>;
  /** Logits (T, V) of one sequence; for checks on small inputs (reads all logits back). */
  logits(id: string, ids: Int32Array): Promise<Float32Array>;
  /** Stop a running operation; it ends with a CANCELLED error and leaves nothing half-done. */
  cancel(opId: string): Promise<void>;
  dispose(): Promise<void>;
}
