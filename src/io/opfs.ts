/**
 * Spill files for pruned matrices (./spill.ts) in the origin private file system, for the engine's
 * Web Worker: `navigator.storage.getDirectory()`, folder `polyprune-pruned/`, one file per pruned
 * model opened with `createSyncAccessHandle()` (dedicated workers only; it locks the file, reads and
 * writes at offsets without copying the file). Deleted when the model is unloaded; files left by a
 * closed tab are removed when the next spill file is made (an open one is locked and stays).
 */
import { PolyPruneError } from '../common/errors';
import type { SpillBacking, SpillFile } from './spill';

/** The OPFS folder the spill files go in. */
export const OPFS_SPILL_DIR = 'polyprune-pruned';

/** Whether this context can make OPFS spill files (a dedicated worker with the origin private file system). */
export function opfsAvailable(): boolean {
  const fsh = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function' && !!fsh && 'createSyncAccessHandle' in fsh.prototype;
}

function storageError(what: string, e: unknown): PolyPruneError {
  const name = (e as { name?: unknown } | null)?.name;
  const msg = name === 'QuotaExceededError' ? "the browser's storage quota for this site is used up" : `${typeof name === 'string' ? `${name}: ` : ''}${(e as Error)?.message ?? String(e)}`;
  return new PolyPruneError(name === 'QuotaExceededError' ? 'STORAGE_FULL' : 'STORAGE_UNAVAILABLE', `${what}: ${msg}.`, { cause: e });
}

/** Spill files this worker has open. */
const open = new Set<string>();

export function opfsSpill(): SpillBacking {
  return {
    where: "the browser's private file system (OPFS)",
    async create(): Promise<SpillFile> {
      if (!opfsAvailable()) throw new PolyPruneError('STORAGE_UNAVAILABLE', 'This browser offers no origin private file system with sync access in the engine worker');
      let dir: FileSystemDirectoryHandle;
      let handle: FileSystemSyncAccessHandle;
      const name = `pruned-${Date.now().toString(36)}-${crypto.getRandomValues(new Uint32Array(2)).join('')}.bin`;
      try {
        dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(OPFS_SPILL_DIR, { create: true });
        // Files of closed tabs (a crash, a reload) are unlocked: remove them; open ones (locked) refuse.
        const old: string[] = [];
        for await (const k of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) if (!open.has(k)) old.push(k);
        for (const k of old) await dir.removeEntry(k).catch(() => undefined);
        handle = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
        open.add(name);
      } catch (e) {
        throw storageError(`Cannot create ${OPFS_SPILL_DIR}/${name}`, e);
      }
      let closed = false;
      const location = `${OPFS_SPILL_DIR}/${name}`;
      return {
        location,
        async write(at, bytes) {
          let n: number;
          try {
            n = handle.write(bytes, { at });
          } catch (e) {
            throw storageError(`Cannot write ${location}`, e);
          }
          if (n !== bytes.byteLength) throw new PolyPruneError('STORAGE_FULL', `Cannot write ${location}: ${n} of ${bytes.byteLength} bytes written (the storage quota?).`);
        },
        async read(at, length) {
          const out = new Uint8Array(length);
          let n: number;
          try {
            n = handle.read(out, { at });
          } catch (e) {
            throw storageError(`Cannot read ${location}`, e);
          }
          if (n !== length) throw new PolyPruneError('STORAGE_UNAVAILABLE', `The spill file ${location} gave ${n} of ${length} bytes at ${at}; prune the model again.`);
          return out;
        },
        async delete() {
          if (closed) return;
          closed = true;
          try {
            handle.close();
          } catch {
            /* already closed */
          }
          await dir.removeEntry(name).catch(() => undefined);
          open.delete(name);
        },
      };
    },
    async freeBytes() {
      const est = await navigator.storage.estimate();
      return est.quota !== undefined ? Math.max(0, est.quota - (est.usage ?? 0)) : undefined;
    },
  };
}
