/**
 * Named byte blobs (a pruned model's weight matrices, in the checkpoint's dtype) kept in host memory
 * or appended to one spill file: the browser's origin private file system (./opfs.ts, in the engine's
 * worker) or a temporary file (./node.ts, the CLI). Reads are by range, so a reader of a spilled
 * tensor holds only the slice it asked for. Which backing a run gets: {@link openTensorStore}.
 */
import { PolyPruneError } from '../common/errors';
import { fmtBytes } from '../common/format';

/** Bytes by name, in memory or in a spill file, behind one async interface. */
export interface TensorStore {
  /** 'memory': JavaScript heap; 'disk': a spill file. */
  readonly kind: 'memory' | 'disk';
  /** Where a spill file is (a path, or the OPFS file's name); '' in memory. */
  readonly location: string;
  /** Add (or replace) `name`'s bytes; the memory store keeps `bytes` itself: do not change them afterwards. */
  add(name: string, bytes: Uint8Array): Promise<void>;
  /** `length` bytes of `name` from `start` (a fresh array). */
  read(name: string, start: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
  /** All of `name`'s bytes (in memory: the stored array, not a copy). */
  readAll(name: string): Promise<Uint8Array<ArrayBuffer>>;
  has(name: string): boolean;
  /** Names, sorted. */
  names(): string[];
  readonly size: number;
  /** Bytes of every tensor held. */
  readonly bytes: number;
  /** Of those, the bytes on the JavaScript heap (0 when spilled). */
  readonly memoryBytes: number;
  /** Whether the store moved to memory because its spill file failed (a one-line reason), else undefined. */
  readonly warning?: string;
  /** Free what it holds; a spill file is deleted. */
  dispose(): Promise<void>;
}

/** One spill file, written and read at byte offsets. */
export interface SpillFile {
  /** A path or the OPFS file's name, for messages and tests. */
  readonly location: string;
  write(at: number, bytes: Uint8Array): Promise<void>;
  read(at: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
  /** Close and delete the file (errors are swallowed: nothing can be done about them). */
  delete(): Promise<void>;
}

/** Where spill files go: a temporary folder (Node) or the origin private file system (browser worker). */
export interface SpillBacking {
  /** For messages: 'a temporary file in /tmp', "the browser's private file system". */
  readonly where: string;
  /** A new, empty spill file; rejects when the place is unavailable or not writable. */
  create(): Promise<SpillFile>;
  /** Bytes free for spill files there, when known (Node statfs, the browser's storage estimate). */
  freeBytes(): Promise<number | undefined>;
}

function missing(name: string): PolyPruneError {
  return new PolyPruneError('INTERNAL', `No pruned tensor '${name}' in the store`);
}

function checkRange(name: string, size: number, start: number, length: number): void {
  if (!(start >= 0 && length >= 0 && start + length <= size)) throw new PolyPruneError('INTERNAL', `tensor '${name}': range ${start}+${length} outside its ${size} bytes`);
}

/** The in-memory store (what pruned models used before spilling existed). */
export function memoryStore(): TensorStore {
  const map = new Map<string, Uint8Array<ArrayBuffer>>();
  let total = 0;
  return {
    kind: 'memory',
    location: '',
    async add(name, bytes) {
      total += bytes.byteLength - (map.get(name)?.byteLength ?? 0);
      map.set(name, bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice());
    },
    async read(name, start, length) {
      const b = map.get(name);
      if (!b) throw missing(name);
      checkRange(name, b.byteLength, start, length);
      return b.slice(start, start + length);
    },
    async readAll(name) {
      const b = map.get(name);
      if (!b) throw missing(name);
      return b;
    },
    has: (name) => map.has(name),
    names: () => [...map.keys()].sort(),
    get size() {
      return map.size;
    },
    get bytes() {
      return total;
    },
    get memoryBytes() {
      return total;
    },
    async dispose() {
      map.clear();
      total = 0;
    },
  };
}

/**
 * A store over one spill file: each tensor is appended at the file's end and its offset kept here (a
 * replaced tensor's old bytes stay unused in the file). Nothing of the tensors stays on the heap.
 */
export function fileStore(file: SpillFile): TensorStore {
  const at = new Map<string, { offset: number; length: number }>();
  let end = 0;
  let total = 0;
  let disposed = false;
  const entry = (name: string) => {
    const e = at.get(name);
    if (!e) throw missing(name);
    return e;
  };
  return {
    kind: 'disk',
    location: file.location,
    async add(name, bytes) {
      if (disposed) throw new PolyPruneError('INTERNAL', `The spill file ${file.location} was already deleted`);
      const offset = end;
      end += bytes.byteLength; // reserved before the write, so concurrent adds never overlap
      await file.write(offset, bytes);
      total += bytes.byteLength - (at.get(name)?.length ?? 0);
      at.set(name, { offset, length: bytes.byteLength });
    },
    async read(name, start, length) {
      const e = entry(name);
      checkRange(name, e.length, start, length);
      return file.read(e.offset + start, length);
    },
    async readAll(name) {
      const e = entry(name);
      return file.read(e.offset, e.length);
    },
    has: (name) => at.has(name),
    names: () => [...at.keys()].sort(),
    get size() {
      return at.size;
    },
    get bytes() {
      return total;
    },
    memoryBytes: 0,
    async dispose() {
      if (disposed) return;
      disposed = true;
      at.clear();
      total = 0;
      await file.delete();
    },
  };
}

/**
 * A spill-file store that moves to memory when a write fails (a full disk, the browser's quota): what
 * was spilled is read back, the file deleted, and `warning` says so. Reads from it are not retried.
 */
function fallbackStore(disk: TensorStore, where: string): TensorStore {
  let cur = disk;
  let warning: string | undefined;
  const store: TensorStore = {
    get kind() {
      return cur.kind;
    },
    get location() {
      return cur.location;
    },
    async add(name, bytes) {
      try {
        await cur.add(name, bytes);
      } catch (e) {
        if (cur.kind === 'memory') throw e;
        const mem = memoryStore();
        for (const n of cur.names()) await mem.add(n, await cur.readAll(n));
        const held = cur.bytes + bytes.byteLength;
        await cur.dispose();
        cur = mem;
        warning = `Writing the pruned matrices to ${where} failed (${firstLine(e)}); they are kept in memory instead (${fmtBytes(held)} so far).`;
        await cur.add(name, bytes);
      }
    },
    read: (name, start, length) => cur.read(name, start, length),
    readAll: (name) => cur.readAll(name),
    has: (name) => cur.has(name),
    names: () => cur.names(),
    get size() {
      return cur.size;
    },
    get bytes() {
      return cur.bytes;
    },
    get memoryBytes() {
      return cur.memoryBytes;
    },
    get warning() {
      return warning;
    },
    dispose: () => cur.dispose(),
  };
  return store;
}

/** The default of EngineOptions.spillPrunedAboveBytes: pruned matrices above 1 GiB go to a spill file. */
export const DEFAULT_SPILL_ABOVE_BYTES = 2 ** 30;

/**
 * Where `bytes` of pruned matrices go: to disk when they exceed `aboveBytes`, a backing exists and its
 * free space (when known) holds them; otherwise host memory, with `note` saying why when a spill was
 * wanted. Shared by the run plan and the engine, so the plan says what the run will do.
 */
export function spillPlacement(bytes: number, opts: { aboveBytes: number; backing: boolean; freeBytes?: number }): { onDisk: boolean; note?: string } {
  if (!opts.backing || !(bytes > opts.aboveBytes)) return { onDisk: false };
  if (opts.freeBytes !== undefined && opts.freeBytes < bytes) {
    return { onDisk: false, note: `Not enough free disk space to spill the pruned matrices (${fmtBytes(bytes)}; ${fmtBytes(opts.freeBytes)} free): they are kept in host memory.` };
  }
  return { onDisk: true };
}

/**
 * The store for a run's `bytes` of pruned matrices (see {@link spillPlacement}): a spill file when they
 * are big, else memory. A spill file that cannot be created gives memory with a `warning`; one whose
 * writes fail later moves to memory with a warning too (never a failed run, never a crash).
 */
export async function openTensorStore(bytes: number, opts: { aboveBytes?: number; backing?: SpillBacking }): Promise<TensorStore> {
  const { backing } = opts;
  const aboveBytes = opts.aboveBytes ?? DEFAULT_SPILL_ABOVE_BYTES;
  if (!backing || !(bytes > aboveBytes)) return memoryStore();
  const free = await backing.freeBytes().catch(() => undefined);
  const place = spillPlacement(bytes, { aboveBytes, backing: true, freeBytes: free });
  if (!place.onDisk) return withWarning(memoryStore(), place.note);
  try {
    return fallbackStore(fileStore(await backing.create()), backing.where);
  } catch (e) {
    return withWarning(memoryStore(), `Could not create a spill file in ${backing.where} (${firstLine(e)}); the pruned matrices (${fmtBytes(bytes)}) are kept in memory.`);
  }
}

/** An error's message as a clause: its first line, without the closing full stop. */
function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].replace(/\.$/, '');
}

function withWarning(s: TensorStore, warning: string | undefined): TensorStore {
  return warning === undefined ? s : Object.defineProperty(s, 'warning', { value: warning, enumerable: true });
}
