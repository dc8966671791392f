/**
 * A pruned checkpoint in Hugging Face layout, written through an {@link OutputSink}:
 *   config.json          the source's, byte for byte
 *   tokenizer files      copied byte for byte when the source has them (tokenizer.json, ...)
 *   model.safetensors    every tensor of the source checkpoint (one file even for sharded sources),
 *                        same names, shapes and dtypes, the pruned linears replaced; f32 results are
 *                        rounded to the source dtype on the CPU (BF16/F16: round to nearest even)
 *   pruning.json         method, structure, ratio, per-matrix sparsity, calibration provenance
 *                        (seed, nsamples, seqlen, SHA-256 of every text file and of the windows),
 *                        model source, tool version.
 * The same inputs give bitwise identical files: no timestamps unless `createdAt` is given, fixed
 * key order, the Rust crate's safetensors layout.
 *
 * Memory: the pruned linears are kept in the source dtype (PrunedTensors) until the export, and the
 * file is assembled from views without further copies (about one model size of CPU memory).
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { dtypeSize, numel, type SafetensorsDtype } from '../io/dtypes';
import { serializeSafetensors, type Checkpoint, type TensorToWrite } from '../io/safetensors';
import type { ModelFolder } from '../io/source';
import { sha256Hex, type CalibrationFileProvenance } from '../calib/text';
import type { PruneReport } from '../prune/run';
import type { NM, PruneMethod } from '../prune/method';

/** Where exported files go. Nothing is visible at the destination before `commit()`. */
export interface OutputSink {
  /** Write one file (a flat name such as 'model.safetensors') from consecutive byte chunks. */
  writeFile(name: string, chunks: readonly Uint8Array[]): Promise<void>;
  /** Make everything written visible at the destination at once. */
  commit(): Promise<void>;
  /** Discard everything written; the destination is left as it was. */
  abort(): Promise<void>;
}

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
// f32 -> 16-bit floats, round to nearest even

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** bfloat16 bits of x (round to nearest even; NaN stays a quiet NaN). */
export function f32ToBf16Bits(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE half bits of x (round to nearest even, overflow to infinity, subnormals exact). */
export function f32ToF16Bits(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  const sign = (u >>> 16) & 0x8000;
  const e = (u >>> 23) & 0xff;
  let m = u & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 | (m >>> 13) : 0);
  const exp = e - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    m |= 0x800000;
    const shift = 14 - exp;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

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

/** Pruned weights by HF tensor name, stored in the source checkpoint's dtype as they arrive. */
export class PrunedTensors {
  private readonly bytes = new Map<string, Uint8Array>();
  constructor(private readonly checkpoint: Checkpoint) {}

  /** Add (or replace) the pruned f32 weights of `tensor`, e.g. 'model.layers.0.mlp.up_proj.weight'. */
  add(tensor: string, weight: Float32Array): void {
    const info = this.checkpoint.info(tensor);
    if (numel(info.shape) !== weight.length) {
      throw new PolyPruneError('INTERNAL', `Pruned '${tensor}' has ${weight.length} values, the checkpoint's has shape [${info.shape.join(', ')}]`);
    }
    const enc = encodeFloats(weight, info.dtype);
    this.bytes.set(tensor, enc.buffer === weight.buffer ? enc.slice() : enc);
  }
  has(tensor: string): boolean {
    return this.bytes.has(tensor);
  }
  get(tensor: string): Uint8Array | undefined {
    return this.bytes.get(tensor);
  }
  get size(): number {
    return this.bytes.size;
  }
  names(): string[] {
    return [...this.bytes.keys()].sort();
  }
}

// ---------------------------------------------------------------------------------------------
// pruning.json

export interface PruningRecord {
  format: 'polyprune-pruning/1';
  tool: { name: string; version: string };
  model: { source: string; model_type?: string };
  method: PruneMethod;
  structure: string;
  sparsity_ratio: number;
  nm: NM | null;
  sparsegpt?: { blocksize: number; percdamp: number };
  overall_sparsity: number;
  calibration: null | {
    seed: number | null;
    nsamples: number;
    seqlen: number;
    /** SHA-256 of the window ids as little-endian int32 (nsamples x seqlen). */
    ids_sha256: string;
    files: CalibrationFileProvenance[];
  };
  per_matrix: { tensor: string; shape: [number, number]; zeros: number; numel: number; sparsity: number }[];
  created_at?: string;
}

export interface PruningRecordInput {
  report: PruneReport;
  options: { method: PruneMethod; sparsity?: number; nm?: NM; blocksize?: number; percdamp?: number };
  /** The windows used (null for magnitude); `files` and `seed` from buildCalibration when text was used. */
  calibration?: { ids: Int32Array; n: number; seqlen: number; seed?: number; files?: readonly CalibrationFileProvenance[] } | null;
  /** Where the model came from: a path, URL or Hub id. */
  modelSource: string;
  modelType?: string;
  toolVersion: string;
  /** ISO time to record; omitted by default so identical runs give identical files. */
  createdAt?: string;
}

export async function pruningRecord(input: PruningRecordInput): Promise<PruningRecord> {
  const { report, options: o, calibration: c } = input;
  const rec: PruningRecord = {
    format: 'polyprune-pruning/1',
    tool: { name: 'polyprune', version: input.toolVersion },
    model: { source: input.modelSource, ...(input.modelType ? { model_type: input.modelType } : {}) },
    method: o.method,
    structure: o.nm ? `${o.nm.n}:${o.nm.m}` : 'unstructured',
    sparsity_ratio: o.nm ? (o.nm.m - o.nm.n) / o.nm.m : (o.sparsity as number),
    nm: o.nm ? { n: o.nm.n, m: o.nm.m } : null,
    ...(o.method === 'sparsegpt' ? { sparsegpt: { blocksize: o.blocksize ?? 128, percdamp: o.percdamp ?? 0.01 } } : {}),
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
  if (input.createdAt) rec.created_at = input.createdAt;
  return rec;
}

// ---------------------------------------------------------------------------------------------
// the export

export interface HfExportOptions {
  /** The source model folder (config.json and tokenizer files are copied from it). */
  source: ModelFolder;
  /** The source checkpoint: every tensor is written, pruned ones replaced. */
  checkpoint: Checkpoint;
  pruned: PrunedTensors;
  record: PruningRecord;
  sink: OutputSink;
  signal?: AbortSignal;
}

async function readAll(folder: ModelFolder, name: string): Promise<Uint8Array> {
  const src = folder.open(name);
  try {
    return await src.read(0, await src.size());
  } finally {
    await src.close?.();
  }
}

/**
 * Write the pruned model through `sink` and commit it; on any error or cancellation the sink is
 * aborted (nothing is left at the destination) and the error rethrown. Returns the files written.
 */
export async function exportHfCheckpoint(opts: HfExportOptions): Promise<{ files: string[]; bytes: number }> {
  const { source, checkpoint, pruned, record, sink, signal } = opts;
  const files: string[] = [];
  let bytes = 0;
  const write = async (name: string, chunks: readonly Uint8Array[]): Promise<void> => {
    throwIfAborted(signal);
    await sink.writeFile(name, chunks);
    files.push(name);
    for (const c of chunks) bytes += c.byteLength;
  };
  try {
    for (const name of pruned.names()) {
      if (!checkpoint.has(name)) throw new PolyPruneError('INTERNAL', `Pruned tensor '${name}' is not in the source checkpoint`);
    }
    await write('config.json', [await readAll(source, 'config.json')]);
    for (const name of COPIED_FILES) {
      if (await source.exists(name)) await write(name, [await readAll(source, name)]);
    }
    const tensors: TensorToWrite[] = [];
    for (const name of checkpoint.names()) {
      throwIfAborted(signal);
      const info = checkpoint.info(name);
      const data = pruned.get(name) ?? (await checkpoint.readRaw(name));
      if (data.byteLength !== numel(info.shape) * dtypeSize(info.dtype)) throw new PolyPruneError('INTERNAL', `tensor '${name}': ${data.byteLength} bytes for ${info.dtype} [${info.shape.join(', ')}]`);
      tensors.push({ name, dtype: info.dtype, shape: info.shape, data });
    }
    await write('model.safetensors', serializeSafetensors(tensors, { format: 'pt' }));
    await write('pruning.json', [new TextEncoder().encode(JSON.stringify(record, null, 2) + '\n')]);
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
  return { files, bytes };
}

/** An in-memory sink (tests, browser downloads): `files` fills on commit. */
export function memorySink(): OutputSink & { files: Map<string, Uint8Array>; state: 'open' | 'committed' | 'aborted' } {
  const pending = new Map<string, Uint8Array>();
  const sink = {
    files: new Map<string, Uint8Array>(),
    state: 'open' as 'open' | 'committed' | 'aborted',
    async writeFile(name: string, chunks: readonly Uint8Array[]) {
      if (sink.state !== 'open') throw new PolyPruneError('INTERNAL', `write after ${sink.state}`);
      const total = chunks.reduce((a, c) => a + c.byteLength, 0);
      const out = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.byteLength;
      }
      pending.set(name, out);
    },
    async commit() {
      for (const [k, v] of pending) sink.files.set(k, v);
      pending.clear();
      sink.state = 'committed';
    },
    async abort() {
      pending.clear();
      sink.state = 'aborted';
    },
  };
  return sink;
}
