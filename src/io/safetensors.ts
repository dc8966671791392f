/**
 * safetensors reader (strict header validation, range reads of single tensors), sharded HF
 * checkpoints (model.safetensors.index.json) and a writer that reproduces the Rust `safetensors`
 * crate's layout byte for byte.
 *
 * Format: u64 little-endian header length N, N bytes of UTF-8 JSON
 * `{"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...}`,
 * then the data region; offsets are relative to the data region (byte 8 + N of the file).
 * Like the reference reader, tensors must tile the data region exactly: no overlaps, no gaps, no
 * trailing bytes.
 */
import { PolyPruneError } from '../common/errors';
import {
  bytesToF32,
  bytesToI32,
  dtypeRank,
  dtypeSize,
  isSafetensorsDtype,
  numel,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
} from './dtypes';
import { concatBytes, looksLikeHtml, type ByteSource, type ModelFolder } from './source';

export type { SafetensorsDtype } from './dtypes';

/** Where one tensor's bytes are. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset in the file (data region start + data_offsets[0]). */
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface SafetensorsFile {
  readonly name: string;
  readonly source: ByteSource;
  /** File size in bytes. */
  readonly size: number;
  /** N, the JSON header length (including padding). */
  readonly headerLength: number;
  /** 8 + N: where the data region starts. */
  readonly dataOffset: number;
  /** Tensors in file order (ascending offset). */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** `__metadata__` (string values only); empty when absent. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The tensor's raw little-endian bytes (reads only that range). */
  readRaw(name: string): Promise<Uint8Array<ArrayBuffer>>;
  /** Bytes [start, start + length) of the tensor's raw bytes (a load reads big tensors in slices). */
  readRawRange(name: string, start: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
  /** The tensor converted to float32 on the CPU (F32/F16/BF16 exactly; see bytesToF32). */
  readF32(name: string): Promise<Float32Array<ArrayBuffer>>;
  /** An integer tensor as int32 (I32, I64 in range, U8, ...). */
  readI32(name: string): Promise<Int32Array<ArrayBuffer>>;
  close(): Promise<void>;
}

/** The reference reader refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

const FORMAT_HINT = 'The file is not a valid safetensors file or is truncated; re-download or re-export it.';

function formatError(file: string, message: string): PolyPruneError {
  return new PolyPruneError('SAFETENSORS_FORMAT', `${file}: ${message} ${FORMAT_HINT}`);
}

function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** The `k` candidates closest to `name` by edit distance (for "did you mean" hints). */
export function closestNames(name: string, candidates: Iterable<string>, k = 3): string[] {
  const scored: [number, string][] = [];
  for (const c of candidates) scored.push([levenshtein(name, c), c]);
  scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  return scored.slice(0, k).map((s) => s[1]);
}

/** CHECKPOINT_MISMATCH for a tensor that is not there, listing the closest names that are. */
export function missingTensorError(name: string, available: Iterable<string>, where: string): PolyPruneError {
  const all = [...available];
  const close = closestNames(name, all);
  const hint = close.length ? ` Closest names: ${close.map((c) => `'${c}'`).join(', ')}.` : ' It has no tensors.';
  return new PolyPruneError(
    'CHECKPOINT_MISMATCH',
    `Missing tensor '${name}' in ${where} (${all.length} tensors).${hint} Is this a Hugging Face Llama-family checkpoint (LlamaForCausalLM layout)?`,
  );
}

interface RawEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(file: string, name: string, v: unknown): RawEntry {
  const where = `tensor '${name}'`;
  if (!isPlainObject(v)) throw formatError(file, `${where}: header entry must be an object, got ${show(v)}.`);
  const { dtype, shape, data_offsets: offsets } = v;
  if (!isSafetensorsDtype(dtype)) {
    throw formatError(file, `${where}: unknown dtype ${show(dtype)}. Known dtypes: ${SAFETENSORS_DTYPES.join(', ')}.`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw formatError(file, `${where}: shape must be an array of non-negative integers, got ${show(shape)}.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isIndex(offsets[0]) || !isIndex(offsets[1])) {
    throw formatError(file, `${where}: data_offsets must be [begin, end] (non-negative integers), got ${show(offsets)}.`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw formatError(file, `${where}: data_offsets [${begin}, ${end}] end before they begin.`);
  const n = numel(shape);
  const expected = n * dtypeSize(dtype);
  if (!Number.isSafeInteger(expected)) throw formatError(file, `${where}: shape ${show(shape)} is too large.`);
  if (end - begin !== expected) {
    throw formatError(
      file,
      `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} ${show(shape)} needs ${n} x ${dtypeSize(dtype)} = ${expected} bytes.`,
    );
  }
  return { name, dtype, shape, begin, end };
}

function parseMetadata(file: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) throw formatError(file, `__metadata__ must be an object of strings, got ${show(v)}.`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') {
      throw formatError(file, `__metadata__['${k}'] must be a string, got ${show(val)}.`);
    }
    out[k] = val;
  }
  return out;
}

/**
 * Reads and validates the header of a safetensors file. Only the 8-byte prefix and the header are
 * read; tensor data is read on demand. Every format problem is SAFETENSORS_FORMAT naming the file,
 * the tensor and the numbers involved.
 */
export async function openSafetensors(src: ByteSource): Promise<SafetensorsFile> {
  try {
    return await readSafetensorsHeader(src);
  } catch (e) {
    await src.close?.().catch(() => undefined); // a bad file never leaves its handle open
    throw e;
  }
}

async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsFile> {
  const file = src.name;
  const size = await src.size();
  if (size < 8) {
    throw formatError(file, `file is ${size} bytes, shorter than the 8-byte header-length prefix.`);
  }
  const prefix = await src.read(0, 8);
  if (looksLikeHtml(prefix)) {
    throw formatError(file, 'is an HTML page, not a safetensors file (a web server answered with a page in place of the file; check the URL).');
  }
  const dv = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const headerLength = hi * 2 ** 32 + lo;
  if (headerLength > MAX_HEADER_BYTES) {
    const past = 8 + headerLength > size ? ` and past the end of the ${size}-byte file` : '';
    throw formatError(
      file,
      `header length (bytes 0-7) is ${headerLength}, larger than the ${MAX_HEADER_BYTES}-byte limit${past}.`,
    );
  }
  if (8 + headerLength > size) {
    throw formatError(
      file,
      `header length (bytes 0-7) is ${headerLength}, so the header would end at byte ${8 + headerLength}, past the end of the ${size}-byte file.`,
    );
  }
  const headerBytes = await src.read(8, headerLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw formatError(file, `header (bytes 8-${8 + headerLength}) is not valid UTF-8.`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw formatError(file, `header (bytes 8-${8 + headerLength}) is not valid JSON: ${(e as Error).message}.`);
  }
  if (!isPlainObject(header)) {
    throw formatError(file, `header must be a JSON object, got ${show(header)}.`);
  }

  const dataOffset = 8 + headerLength;
  const dataLength = size - dataOffset;
  let metadata: Record<string, string> = {};
  const entries: RawEntry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') metadata = parseMetadata(file, v);
    else entries.push(parseEntry(file, name, v));
  }
  for (const e of entries) {
    if (e.end > dataLength) {
      throw formatError(
        file,
        `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] reach past the data region, which has ${dataLength} bytes (file bytes ${dataOffset}-${size}); the file should be at least ${dataOffset + e.end} bytes.`,
      );
    }
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: RawEntry | null = null;
  for (const e of entries) {
    const prevEnd = prev ? prev.end : 0;
    if (prev && e.begin < prevEnd) {
      throw formatError(
        file,
        `tensors '${prev.name}' data_offsets [${prev.begin}, ${prev.end}] and '${e.name}' [${e.begin}, ${e.end}] overlap.`,
      );
    }
    if (e.begin > prevEnd) {
      throw formatError(
        file,
        `${e.begin - prevEnd} unused bytes before tensor '${e.name}' (data_offsets [${e.begin}, ${e.end}], previous tensor ends at ${prevEnd}); tensors must be contiguous.`,
      );
    }
    prev = e;
  }
  const used = prev ? prev.end : 0;
  if (used !== dataLength) {
    throw formatError(
      file,
      `the data region has ${dataLength} bytes (file bytes ${dataOffset}-${size}) but the tensors cover only ${used}: ${dataLength - used} trailing bytes.`,
    );
  }

  const tensors = new Map<string, TensorInfo>();
  for (const e of entries) {
    tensors.set(
      e.name,
      Object.freeze({
        name: e.name,
        dtype: e.dtype,
        shape: Object.freeze(e.shape),
        byteOffset: dataOffset + e.begin,
        byteLength: e.end - e.begin,
      }),
    );
  }
  const info = (name: string): TensorInfo => {
    const t = tensors.get(name);
    if (!t) throw missingTensorError(name, tensors.keys(), file);
    return t;
  };
  const readRaw = async (name: string): Promise<Uint8Array<ArrayBuffer>> => {
    const t = info(name);
    return src.read(t.byteOffset, t.byteLength);
  };
  return {
    name: file,
    source: src,
    size,
    headerLength,
    dataOffset,
    tensors,
    metadata: Object.freeze(metadata),
    readRaw,
    async readRawRange(name, start, length) {
      const t = info(name);
      checkPart(t, start, length, file);
      return src.read(t.byteOffset + start, length);
    },
    async readF32(name) {
      const t = info(name);
      return bytesToF32(await readRaw(name), t.dtype, `tensor '${name}' in ${file}`);
    },
    async readI32(name) {
      const t = info(name);
      return bytesToI32(await readRaw(name), t.dtype, `tensor '${name}' in ${file}`);
    },
    close: () => src.close?.() ?? Promise.resolve(),
  };
}

function checkPart(t: TensorInfo, start: number, length: number, file: string): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > t.byteLength) {
    throw new PolyPruneError('BAD_ARGUMENT', `Invalid byte range [${start}, ${start + length}) of tensor '${t.name}' in ${file}: it has ${t.byteLength} bytes.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints

export interface CheckpointTensorInfo extends TensorInfo {
  /** The (shard) file that holds the tensor; byteOffset is within this file. */
  readonly file: string;
}

/** All weights of one model, from one model.safetensors or from shards listed in an index. */
export interface Checkpoint {
  readonly location: string;
  /** The safetensors files read (one, or the shards in index order). */
  readonly files: readonly string[];
  /** `__metadata__` of the (first) file. */
  readonly metadata: Readonly<Record<string, string>>;
  names(): string[];
  has(name: string): boolean;
  /** Throws CHECKPOINT_MISMATCH "Missing tensor 'x'" listing the closest names. */
  info(name: string): CheckpointTensorInfo;
  readRaw(name: string): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Bytes [start, start + length) of a tensor's raw bytes, read alone: a load reads big tensors in
   * slices so that it never holds one whole (src/model/llama.ts uploadMatrix). Optional: a
   * checkpoint without it is read whole.
   */
  readRawRange?(name: string, start: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
  readF32(name: string): Promise<Float32Array<ArrayBuffer>>;
  readI32(name: string): Promise<Int32Array<ArrayBuffer>>;
  close(): Promise<void>;
}

export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
export const SAFETENSORS_SINGLE_FILE = 'model.safetensors';

function parseIndex(text: string, where: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PolyPruneError('SAFETENSORS_FORMAT', `${where} is not valid JSON: ${(e as Error).message}.`);
  }
  const wm = isPlainObject(json) ? json.weight_map : undefined;
  if (!isPlainObject(wm) || Object.keys(wm).length === 0) {
    throw new PolyPruneError(
      'SAFETENSORS_FORMAT',
      `${where} must be an object with a non-empty "weight_map": {tensor name: shard file name}.`,
    );
  }
  const out = new Map<string, string>();
  for (const [name, f] of Object.entries(wm)) {
    if (typeof f !== 'string' || f === '') {
      throw new PolyPruneError(
        'SAFETENSORS_FORMAT',
        `${where}: weight_map['${name}'] must be a shard file name, got ${show(f)}.`,
      );
    }
    out.set(name, f);
  }
  return out;
}

async function openAll(folder: ModelFolder, names: string[]): Promise<SafetensorsFile[]> {
  const results = await Promise.allSettled(names.map((n) => openSafetensors(folder.open(n))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(
      results.map((r) => (r.status === 'fulfilled' ? r.value.close().catch(() => undefined) : undefined)),
    );
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<SafetensorsFile>).value);
}

function makeCheckpoint(
  location: string,
  files: SafetensorsFile[],
  owner: Map<string, SafetensorsFile>,
): Checkpoint {
  const where = files.length === 1 ? files[0].name : `the checkpoint in ${location} (${files.length} shards)`;
  const info = (name: string): CheckpointTensorInfo => {
    const f = owner.get(name);
    const t = f?.tensors.get(name);
    if (!f || !t) throw missingTensorError(name, owner.keys(), where);
    return { ...t, file: f.name };
  };
  const fileOf = (name: string): SafetensorsFile => {
    info(name);
    return owner.get(name) as SafetensorsFile;
  };
  return {
    location,
    files: files.map((f) => f.name),
    metadata: files[0]?.metadata ?? {},
    names: () => [...owner.keys()],
    has: (name) => owner.has(name),
    info,
    readRaw: (name) => Promise.resolve().then(() => fileOf(name).readRaw(name)),
    readRawRange: (name, start, length) => Promise.resolve().then(() => fileOf(name).readRawRange(name, start, length)),
    readF32: (name) => Promise.resolve().then(() => fileOf(name).readF32(name)),
    readI32: (name) => Promise.resolve().then(() => fileOf(name).readI32(name)),
    async close() {
      await Promise.all(files.map((f) => f.close()));
    },
  };
}

/**
 * Opens the weights of a model folder: `model.safetensors.index.json` (its `weight_map` names the
 * shard of every tensor) if present, else `model.safetensors`. Shard headers are validated; a
 * tensor the index maps to a shard that lacks it, or a tensor in two shards, is an error.
 */
export async function openCheckpoint(folder: ModelFolder): Promise<Checkpoint> {
  if (await folder.exists(SAFETENSORS_INDEX_FILE)) {
    const where = `${SAFETENSORS_INDEX_FILE} in ${folder.location}`;
    const weightMap = parseIndex(await folder.readText(SAFETENSORS_INDEX_FILE), where);
    const shardNames = [...new Set(weightMap.values())];
    const shards = await openAll(folder, shardNames);
    const byName = new Map(shardNames.map((n, i) => [n, shards[i]]));
    const owner = new Map<string, SafetensorsFile>();
    try {
      for (const [name, shardName] of weightMap) {
        const shard = byName.get(shardName) as SafetensorsFile;
        if (!shard.tensors.has(name)) {
          throw new PolyPruneError(
            'CHECKPOINT_MISMATCH',
            `${where} maps tensor '${name}' to ${shardName}, but that file has no such tensor (it has ${shard.tensors.size}). The index and the shards come from different exports; re-download them together.`,
          );
        }
        owner.set(name, shard);
      }
      // Tensors a shard holds beyond the index are loaded too (as transformers does), once.
      for (const shard of shards) {
        for (const name of shard.tensors.keys()) {
          const other = owner.get(name);
          if (other === undefined) owner.set(name, shard);
          else if (other !== shard && !weightMap.has(name)) {
            throw new PolyPruneError(
              'CHECKPOINT_MISMATCH',
              `Tensor '${name}' is stored in two shards, ${other.name} and ${shard.name}, and ${SAFETENSORS_INDEX_FILE} does not say which to use.`,
            );
          }
        }
      }
    } catch (e) {
      await Promise.all(shards.map((s) => s.close().catch(() => undefined)));
      throw e;
    }
    return makeCheckpoint(folder.location, shards, owner);
  }
  if (await folder.exists(SAFETENSORS_SINGLE_FILE)) {
    const [f] = await openAll(folder, [SAFETENSORS_SINGLE_FILE]);
    return makeCheckpoint(folder.location, [f], new Map([...f.tensors.keys()].map((n) => [n, f])));
  }
  if (await folder.exists('onnx/model.onnx').catch(() => false)) {
    throw new PolyPruneError('FILE_NOT_FOUND', `${folder.location} holds an ONNX export (onnx/model.onnx), which runs in onnxruntime and transformers.js; PolyPrune loads safetensors weights: use the Hugging Face export of the model (polyprune export --format hf).`);
  }
  const hasBin = await folder.exists('pytorch_model.bin').catch(() => false);
  throw new PolyPruneError(
    'FILE_NOT_FOUND',
    `No weights in ${folder.location}: neither ${SAFETENSORS_SINGLE_FILE} nor ${SAFETENSORS_INDEX_FILE} exists.` +
      (hasBin
        ? ' The folder has pytorch_model.bin, which is not supported: convert it to safetensors (e.g. with the Hugging Face "convert to safetensors" space or model.save_pretrained(..., safe_serialization=True)).'
        : ' Point to a Hugging Face model folder with safetensors weights.'),
  );
}

// ---------------------------------------------------------------------------------------------
// Writer

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Little-endian element bytes, numel(shape) * dtypeSize(dtype) of them. */
  readonly data: ArrayBufferView;
}

function compareUtf8(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Serialises tensors the way the Rust `safetensors` crate (and so Python `safetensors`) does:
 * tensors sorted by dtype descending in the crate's dtype order (F64/I64 first, then F32, U32, I32,
 * BF16, F16, 16-bit ints, then 1-byte types), then by name (UTF-8 byte order); compact JSON header
 * with `__metadata__` first (in the insertion order of `metadata`), padded with spaces so the data
 * starts at a multiple of 8. Returns chunks without copying tensor data: chunk 0 is the 8-byte length
 * plus header, then one chunk per tensor in file order.
 */
export function serializeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array<ArrayBuffer>[] {
  const byName = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const t of tensors) {
    if (!isSafetensorsDtype(t.dtype) || !t.shape.every(isIndex)) continue; // reported by safetensorsLayout
    const expected = numel(t.shape) * dtypeSize(t.dtype);
    if (t.data.byteLength !== expected) {
      throw new PolyPruneError(
        'BAD_ARGUMENT',
        `Tensor '${t.name}': ${t.dtype} ${show(t.shape)} needs ${expected} bytes, but the data has ${t.data.byteLength}.`,
      );
    }
    const view = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    // Chunks must be plain ArrayBuffer-backed to go into a Blob; copy only SharedArrayBuffer data.
    byName.set(t.name, view.buffer instanceof ArrayBuffer ? (view as Uint8Array<ArrayBuffer>) : view.slice());
  }
  const layout = safetensorsLayout(tensors, metadata);
  return [layout.header, ...layout.order.map((o) => byName.get(o.name)!)];
}

/** A tensor's name, dtype and shape, without data. */
export interface TensorMeta {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
}

/**
 * The layout {@link serializeSafetensors} writes, computed from names, dtypes and shapes only, so a
 * file can be streamed one tensor at a time: `header` (8-byte length plus JSON) and the tensors in
 * file order with their byte lengths. Total file size: header.length + sum of byteLength.
 */
export function safetensorsLayout(
  tensors: readonly TensorMeta[],
  metadata?: Readonly<Record<string, string>>,
): { header: Uint8Array<ArrayBuffer>; order: { name: string; byteLength: number }[] } {
  const enc = new TextEncoder();
  const seen = new Set<string>();
  const items = tensors.map((t) => {
    if (t.name === '__metadata__' || seen.has(t.name)) {
      throw new PolyPruneError('BAD_ARGUMENT', `Cannot write tensor name '${t.name}': reserved or duplicate.`);
    }
    seen.add(t.name);
    if (!isSafetensorsDtype(t.dtype)) {
      throw new PolyPruneError('BAD_ARGUMENT', `Tensor '${t.name}': unknown dtype ${show(t.dtype)}.`);
    }
    if (!t.shape.every(isIndex)) {
      throw new PolyPruneError('BAD_ARGUMENT', `Tensor '${t.name}': shape ${show(t.shape)} is not a list of non-negative integers.`);
    }
    return { t, key: enc.encode(t.name), byteLength: numel(t.shape) * dtypeSize(t.dtype) };
  });
  items.sort((a, b) => dtypeRank(b.t.dtype) - dtypeRank(a.t.dtype) || compareUtf8(a.key, b.key));

  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new PolyPruneError('BAD_ARGUMENT', `__metadata__['${k}'] must be a string, got ${show(v)}.`);
      }
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const { t, byteLength } of items) {
    const end = offset + byteLength;
    parts.push(
      `${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = enc.encode(`{${parts.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + n);
  new DataView(head.buffer).setUint32(0, n, true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length);
  return { header: head, order: items.map((i) => ({ name: i.t.name, byteLength: i.byteLength })) };
}

/** {@link serializeSafetensors} concatenated into one buffer. */
export function safetensorsBytes(
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array<ArrayBuffer> {
  return concatBytes(serializeSafetensors(tensors, metadata));
}
