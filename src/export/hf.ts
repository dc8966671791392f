/**
 * A model in Hugging Face layout, streamed through an {@link ExportSink}:
 *   tokenizer files      copied byte for byte when the source has them (tokenizer.json, ...)
 *   model.safetensors    every tensor of the checkpoint, same names, shapes and dtypes, the pruned
 *                        linears replaced; f32 results are rounded to the source dtype on the CPU
 *                        (BF16/F16: round to nearest even). Above `maxShardBytes` (5 GB by default,
 *                        as the Hub) the weights are split into model-0000k-of-0000n.safetensors
 *                        plus model.safetensors.index.json.
 *   pruning.json         method, structure, ratio, per-matrix sparsity, calibration provenance
 *                        (seed, nsamples, seqlen, SHA-256 of every text file and of the windows),
 *                        model source, tool version (see ./provenance.ts for reading it back).
 *   config.json          the source's, byte for byte, written last.
 * The same inputs give bitwise identical files: no timestamps unless `createdAt` is given, fixed
 * key order, the Rust crate's safetensors layout.
 *
 * Memory: the pruned linears are kept in the source dtype (PrunedTensors) while the pruned model is
 * loaded, in host memory or, for big models, in a spill file on disk (src/io/spill.ts); the export
 * itself reads and writes one tensor at a time, in slices (EXPORT_SLICE_BYTES), a spilled one by range.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { memoryStore, type TensorStore } from '../io/spill';
import { dtypeSize, f32ToBf16Bits, f32ToF16Bits, numel, type SafetensorsDtype } from '../io/dtypes';
import { LOAD_SLICE_BYTES } from '../io/limits';
import { CALIBRATION_FILE, llmCompressorExport, RECIPE_FILE } from './recipe';
import { safetensorsLayout, serializeSafetensors, SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE, type Checkpoint, type TensorMeta } from '../io/safetensors';
import type { ProgressCallback } from '../common/progress';
import type { ExportSink } from './sink';
import { isLocalPath, localFolderName, type ModelFolder } from '../io/source';
import { sha256Hex, type CalibrationFileProvenance } from '../calib/text';
import type { PruneReport } from '../prune/run';
import { METHODS, methodSpec, type NM, type PruneMethod } from '../prune/method';
import { layerAchieved } from '../prune/owl';
import { checkQuantizedExport, gptqFolderMetas, gptqQuantizationConfig, packGptqV1, quantizedShapes, type QuantizedTensors } from './gptq';
import { VERSION } from '../common/version';

export type { ExportSink } from './sink';
export { memorySink } from './sink';

/** Files copied verbatim from the source folder when present. */
export const COPIED_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  'generation_config.json',
  'LICENSE',
  'LICENSE.txt',
  'LICENSE.md',
] as const;

// ---------------------------------------------------------------------------------------------
// f32 -> 16-bit floats, round to nearest even: src/io/dtypes.ts (the engine packs weights with them too)
export { f32ToBf16Bits, f32ToF16Bits };

/** f32 values as little-endian bytes of `dtype` (F32, BF16 or F16). */
export function encodeFloats(w: Float32Array, dtype: SafetensorsDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  if (dtype === 'BF16' || dtype === 'F16') {
    const out = new Uint16Array(w.length);
    const f = dtype === 'BF16' ? f32ToBf16Bits : f32ToF16Bits;
    for (let i = 0; i < w.length; i++) out[i] = f(w[i]);
    return new Uint8Array(out.buffer);
  }
  throw new PolyPruneError('UNSUPPORTED_MODEL', `Cannot write pruned weights as ${dtype}; weights must be F32, F16 or BF16.`);
}

/**
 * Pruned weights by HF tensor name, stored in the source checkpoint's dtype as they arrive, in a
 * {@link TensorStore}: host memory by default, a spill file for big models (src/io/spill.ts).
 */
export class PrunedTensors {
  constructor(
    private readonly checkpoint: Checkpoint,
    /** Where the bytes go (default: memory). */
    readonly store: TensorStore = memoryStore(),
  ) {}

  /** Add (or replace) the pruned f32 weights of `tensor`, e.g. 'model.layers.0.mlp.up_proj.weight'. */
  async add(tensor: string, weight: Float32Array): Promise<void> {
    const info = this.checkpoint.info(tensor);
    if (numel(info.shape) !== weight.length) {
      throw new PolyPruneError('INTERNAL', `Pruned '${tensor}' has ${weight.length} values, the checkpoint's has shape [${info.shape.join(', ')}]`);
    }
    const enc = encodeFloats(weight, info.dtype);
    await this.store.add(tensor, enc.buffer === weight.buffer ? enc.slice() : enc);
  }
  has(tensor: string): boolean {
    return this.store.has(tensor);
  }
  /** The whole tensor's bytes (from memory, or read from the spill file). */
  get(tensor: string): Promise<Uint8Array<ArrayBuffer>> {
    return this.store.readAll(tensor);
  }
  /** `length` bytes of `tensor` from `start`. */
  read(tensor: string, start: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    return this.store.read(tensor, start, length);
  }
  get size(): number {
    return this.store.size;
  }
  names(): string[] {
    return this.store.names();
  }
  /** Free the bytes (a spill file is deleted). */
  dispose(): Promise<void> {
    return this.store.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// pruning.json

export type { PruningRecord } from './pruningRecord';
import type { PruningRecord } from './pruningRecord';

export interface PruningRecordInput {
  report: PruneReport;
  options: { method: PruneMethod; sparsity?: number; nm?: NM; blocksize?: number; percdamp?: number; quantize?: { bits: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean } };
  /** The windows used (null for magnitude); `files` and `seed` from buildCalibration when text was used. */
  calibration?: { ids: Int32Array; n: number; seqlen: number; seed?: number; files?: readonly CalibrationFileProvenance[] } | null;
  /** Where the model came from, portable (ModelSummary.source: Hub id, URL or `local folder '<name>'`). */
  modelSource: string;
  /** The model's content hash (ModelSummary.sha256). */
  modelSha256?: string;
  modelType?: string;
  toolVersion: string;
  /** ISO time to record; omitted by default so identical runs give identical files. */
  createdAt?: string;
}

export async function pruningRecord(input: PruningRecordInput): Promise<PruningRecord> {
  const { report, options: o, calibration: c } = input;
  const solver = METHODS[o.method].solver;
  const rec: PruningRecord = {
    format: 'polyprune-pruning/1',
    tool: { name: 'polyprune', version: input.toolVersion },
    model: { source: input.modelSource, ...(input.modelSha256 ? { sha256: input.modelSha256 } : {}), ...(input.modelType ? { model_type: input.modelType } : {}) },
    method: o.method,
    structure: o.quantize ? report.structure : o.nm ? `${o.nm.n}:${o.nm.m}` : 'unstructured',
    sparsity_ratio: methodSpec(o.method).quantizes ? 0 : o.nm ? (o.nm.m - o.nm.n) / o.nm.m : (o.sparsity as number),
    nm: o.nm ? { n: o.nm.n, m: o.nm.m } : null,
    ...(solver ? { sparsegpt: { blocksize: o.blocksize ?? solver.blocksize, percdamp: o.percdamp ?? solver.percdamp } } : {}),
    overall_sparsity: report.overall,
    calibration: c
      ? {
          seed: c.seed ?? null,
          nsamples: c.n,
          seqlen: c.seqlen,
          ids_sha256: await sha256Hex(new Uint8Array(c.ids.buffer, c.ids.byteOffset, c.ids.byteLength)),
          files: (c.files ?? []).map((f) => ({ ...f, offsets: [...f.offsets] })),
        }
      : null,
    per_matrix: report.perMatrix.map((m) => ({ tensor: m.tensor, shape: m.shape, zeros: m.zeros, numel: m.numel, sparsity: m.sparsity })),
  };
  const lp = report.layerProfile;
  if (lp && lp.profile === 'owl') {
    rec.layer_sparsity = { profile: 'owl', m: lp.m, lambda: lp.lambda, outlier_ratio: [...lp.outlierRatio], target: [...lp.target], achieved: layerAchieved(report.perMatrix) };
  }
  if (o.quantize) {
    const q = o.quantize;
    rec.quantization = { method: o.method, bits: q.bits, group_size: q.groupSize ?? (methodSpec(o.method).quantizes ? 128 : -1), act_order: !!q.actOrder, static_groups: !!q.staticGroups, sym: false, weights: 'dequantized' };
  }
  if (report.languageAware) rec.language_aware = { beta: report.languageAware.beta, sources: report.languageAware.sources.map((s) => ({ ...s })) };
  rec.llm_compressor = llmCompressorExport(rec).status;
  if (input.createdAt) rec.created_at = input.createdAt;
  return rec;
}

// ---------------------------------------------------------------------------------------------
// the export

/** transformers' default `max_shard_size` of save_pretrained / push_to_hub. */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface HfExportOptions {
  /** The source model folder (config.json and tokenizer files are copied from it). */
  source: ModelFolder;
  /** The checkpoint to write: every tensor is written (a pruned model's overlay, or the source's). */
  checkpoint: Checkpoint;
  /** Pruned tensors replacing the checkpoint's (optional: `checkpoint` may already be an overlay). */
  pruned?: PrunedTensors;
  /** pruning.json; omitted for a model that was never pruned. */
  record?: PruningRecord | null;
  sink: ExportSink;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Split the weights into `model-0000k-of-0000n.safetensors` shards of at most this many bytes (default 5 GB, as the Hub). */
  maxShardBytes?: number;
  /** The most bytes of one tensor read and written at a time (default EXPORT_SLICE_BYTES; tests use less). */
  sliceBytes?: number;
  /** The calibration windows of this pruning (written as calibration.safetensors beside recipe.yaml). */
  calibration?: CalibrationWindows | null;
  /** Write the GPTQ format (hf-gptq): these codes replace the quantized linears' weights, config.json gets quantization_config. */
  gptq?: QuantizedTensors | null;
}

export interface CalibrationWindows {
  ids: Int32Array; // (n * seqlen)
  n: number;
  seqlen: number;
}

/**
 * The record with a portable `model.source`: pruning.json written by older versions held the absolute
 * path of a local model folder; it becomes `local folder '<name>'` (the content hash, when recorded, stays).
 */
export function portableRecord(record: PruningRecord): PruningRecord {
  if (!isLocalPath(record.model.source)) return record;
  return { ...record, model: { ...record.model, source: `local folder '${localFolderName(record.model.source)}'` } };
}

/**
 * pruning.json, the llm-compressor recipe.yaml and calibration.safetensors (the exact windows). With
 * `calibration` undefined (a pruning loaded from the source folder) the source's file is copied.
 */
export async function writeProvenanceFiles(w: ExportWriter, source: ModelFolder, record: PruningRecord | null | undefined, calibration: CalibrationWindows | null | undefined): Promise<void> {
  if (!record) return;
  // Re-derived on every export: a record read back from an older export gets today's answer and loses any local path.
  const portable = portableRecord(record);
  const { recipe, status } = llmCompressorExport(portable);
  await w.json('pruning.json', { ...portable, llm_compressor: status });
  if (recipe) await w.whole(RECIPE_FILE, [new TextEncoder().encode(recipe)]);
  if (calibration) {
    await w.whole(CALIBRATION_FILE, serializeSafetensors([{ name: 'input_ids', dtype: 'I32', shape: [calibration.n, calibration.seqlen], data: calibration.ids }]));
  } else if (calibration === undefined && (await source.exists(CALIBRATION_FILE).catch(() => false))) {
    await w.whole(CALIBRATION_FILE, [await readAll(source, CALIBRATION_FILE)]);
  }
}

export interface ExportResult {
  files: string[];
  bytes: number;
}

export async function readAll(folder: ModelFolder, name: string): Promise<Uint8Array> {
  const src = folder.open(name);
  try {
    return await src.read(0, await src.size());
  } finally {
    await src.close?.();
  }
}

/** Counts what goes through a sink, for the result and for progress. */
export class ExportWriter {
  readonly files: string[] = [];
  bytes = 0;
  constructor(
    readonly sink: ExportSink,
    private readonly signal?: AbortSignal,
  ) {}
  async begin(name: string, size?: number): Promise<void> {
    throwIfAborted(this.signal);
    await this.sink.beginFile(name, size);
    this.files.push(name);
  }
  async write(chunk: Uint8Array): Promise<void> {
    throwIfAborted(this.signal);
    await this.sink.write(chunk);
    this.bytes += chunk.byteLength;
  }
  async end(): Promise<void> {
    await this.sink.endFile();
  }
  async whole(name: string, chunks: readonly Uint8Array[]): Promise<void> {
    await this.begin(name, chunks.reduce((a, c) => a + c.byteLength, 0));
    for (const c of chunks) await this.write(c);
    await this.end();
  }
  json(name: string, value: unknown): Promise<void> {
    return this.whole(name, [new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n')]);
  }
}

/**
 * Run `body` against `sink` and commit; on any error or cancellation the sink is aborted (nothing is
 * left at the destination) and the error rethrown.
 */
export async function withSink(sink: ExportSink, signal: AbortSignal | undefined, body: (w: ExportWriter) => Promise<void>): Promise<ExportResult> {
  const w = new ExportWriter(sink, signal);
  try {
    await body(w);
    throwIfAborted(signal);
    await sink.commit();
  } catch (e) {
    try {
      await sink.abort();
    } catch {
      /* report the original error */
    }
    throw e;
  }
  return { files: w.files, bytes: w.bytes };
}

/** Tensors split into shards of at most `max` bytes each (a larger tensor gets a shard of its own), in name order. */
export function planShards(tensors: readonly TensorMeta[], max: number): TensorMeta[][] {
  const shards: TensorMeta[][] = [];
  let cur: TensorMeta[] = [];
  let size = 0;
  for (const t of tensors) {
    const b = numel(t.shape) * dtypeSize(t.dtype);
    if (cur.length && size + b > max) {
      shards.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(t);
    size += b;
  }
  if (cur.length || !shards.length) shards.push(cur);
  return shards;
}

/**
 * The most bytes of one tensor an export reads and writes at a time (the load's slice,
 * LOAD_SLICE_BYTES): a 2 GiB embedding is never whole in memory, and a browser's zip Blob gets it in
 * parts of this size.
 */
export const EXPORT_SLICE_BYTES = LOAD_SLICE_BYTES;

/** Reads bytes [start, start + length) of one tensor. */
export type TensorRange = (start: number, length: number) => Promise<Uint8Array>;

/** A checkpoint tensor's bytes by range: ranged reads where the checkpoint has them, else read whole once. */
export function checkpointRange(checkpoint: Checkpoint, name: string): TensorRange {
  if (checkpoint.readRawRange) return (start, length) => checkpoint.readRawRange!(name, start, length);
  let whole: Promise<Uint8Array> | null = null;
  return async (start, length) => (await (whole ??= checkpoint.readRaw(name))).subarray(start, start + length);
}

/** A tensor's bytes in slices of at most `sliceBytes`, each read alone through `read`. */
export async function* tensorSlices(name: string, byteLength: number, read: TensorRange, sliceBytes = EXPORT_SLICE_BYTES): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < byteLength; start += sliceBytes) {
    const len = Math.min(sliceBytes, byteLength - start);
    const part = await read(start, len);
    if (part.byteLength !== len) throw new PolyPruneError('INTERNAL', `tensor '${name}': read ${part.byteLength} bytes at ${start}, expected ${len}`);
    yield part;
  }
}

/** Stream one safetensors file: header, then each tensor from `slices` (at most one slice of a checkpoint tensor in memory). */
async function writeSafetensorsFile(w: ExportWriter, name: string, tensors: readonly TensorMeta[], slices: (n: string, byteLength: number) => AsyncIterable<Uint8Array>, progress: () => void): Promise<number> {
  const { header, order } = safetensorsLayout(tensors, { format: 'pt' });
  const total = header.byteLength + order.reduce((a, o) => a + o.byteLength, 0);
  await w.begin(name, total);
  await w.write(header);
  for (const o of order) {
    for await (const part of slices(o.name, o.byteLength)) await w.write(part);
    progress();
  }
  await w.end();
  return total - header.byteLength;
}

/**
 * Write a model in Hugging Face layout through `sink` and commit it: config.json, tokenizer files,
 * model.safetensors (or shards plus model.safetensors.index.json), pruning.json. Tensors are read
 * one at a time, in slices of at most EXPORT_SLICE_BYTES, so peak memory is about one slice beyond
 * the pruned tensors already held. Returns the files written.
 */
export async function exportHfCheckpoint(opts: HfExportOptions): Promise<ExportResult> {
  const { source, checkpoint, pruned, record, sink, signal, onProgress, gptq } = opts;
  const srcMetas: TensorMeta[] = checkpoint.names().map((name) => ({ name, dtype: checkpoint.info(name).dtype, shape: checkpoint.info(name).shape }));
  if (gptq) {
    try {
      checkQuantizedExport('hf-gptq', gptq.settings, quantizedShapes(srcMetas));
      for (const [name] of quantizedShapes(srcMetas)) if (!gptq.has(name)) throw new PolyPruneError('INTERNAL', `No GPTQ codes for '${name}'`);
    } catch (e) {
      await sink.abort().catch(() => undefined);
      throw e;
    }
  }
  return withSink(sink, signal, async (w) => {
    if (pruned) {
      for (const name of pruned.names()) {
        if (!checkpoint.has(name)) throw new PolyPruneError('INTERNAL', `Pruned tensor '${name}' is not in the source checkpoint`);
      }
    }
    let packed: { weight: string; p: ReturnType<typeof packGptqV1> } | null = null;
    const readGptq = (name: string): Uint8Array | null => {
      const m = gptq ? /^(.*)\.(qweight|qzeros|scales|g_idx)$/.exec(name) : null;
      if (!m || !gptq) return null;
      const weight = `${m[1]}.weight`;
      if (packed?.weight !== weight) {
        const [N, K] = checkpoint.info(weight).shape;
        packed = { weight, p: packGptqV1(gptq.get(weight)!, N, K, gptq.settings) };
      }
      return m[2] === 'qweight' ? packed.p.qweight : m[2] === 'qzeros' ? packed.p.qzeros : m[2] === 'scales' ? packed.p.scales : packed.p.gIdx;
    };
    // where each tensor's bytes come from: GPTQ codes (memory), the pruned store (memory or its spill
    // file) or the checkpoint (by range; whole once where it has no ranges)
    const rangeOf = (name: string): TensorRange => {
      const codes = readGptq(name);
      if (codes) return (start, length) => Promise.resolve(codes.subarray(start, start + length));
      if (pruned?.has(name)) return (start, length) => pruned.read(name, start, length);
      return checkpointRange(checkpoint, name);
    };
    const slices = (name: string, byteLength: number) => tensorSlices(name, byteLength, rangeOf(name), opts.sliceBytes);
    const metas: TensorMeta[] = gptq ? gptqFolderMetas(srcMetas, gptq.settings) : srcMetas;
    let done = 0;
    const progress = () => onProgress?.({ kind: 'export', message: 'writing tensors', done: ++done, total: metas.length });
    for (const name of COPIED_FILES) {
      if (await source.exists(name)) await w.whole(name, [await readAll(source, name)]);
    }
    const shards = planShards([...metas].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
    if (shards.length === 1) {
      await writeSafetensorsFile(w, SAFETENSORS_SINGLE_FILE, metas, slices, progress);
    } else {
      const n = shards.length;
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      for (const [k, shard] of shards.entries()) {
        const file = `model-${String(k + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
        totalSize += await writeSafetensorsFile(w, file, shard, slices, progress);
        for (const t of shard) weightMap[t.name] = file;
      }
      const sorted = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
      await w.json(SAFETENSORS_INDEX_FILE, { metadata: { total_size: totalSize }, weight_map: sorted });
    }
    await writeProvenanceFiles(w, source, record, opts.calibration);
    // config.json last: a folder without it is never mistaken for a complete model.
    if (gptq) {
      const config = JSON.parse(await source.readText('config.json')) as Record<string, unknown>;
      config.quantization_config = gptqQuantizationConfig(gptq.settings, VERSION);
      await w.json('config.json', config);
    } else {
      await w.whole('config.json', [await readAll(source, 'config.json')]);
    }
  });
}
