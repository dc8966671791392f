/**
 * Node-only byte sources (local files via fs/promises). Browser code must never import this file;
 * the CLI and tests do.
 */
import { statSync } from 'node:fs';
import { open, readdir, readFile, stat, statfs, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PolyPruneError } from '../common/errors';
import type { ByteSource, ModelFolder } from './source';
import { fmtBytes } from '../common/format';
import { MAX_JSON_BYTES, jsonTooLarge } from './limits';
import type { SpillBacking, SpillFile } from './spill';
import type { Stats } from 'node:fs';

/** What a path that is not a regular file is, for messages ('a FIFO (named pipe)', 'a device'). */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export interface ReadFileOptions {
  /** Noun for messages: 'Text file', '--calib file'. */
  what?: string;
  /** The most bytes read. */
  maxBytes: number;
  /**
   * Over the cap: false (default) refuses the file; true reads its first `maxBytes`, cut after the
   * last newline (or at a UTF-8 character boundary), and reports `capped`.
   */
  head?: boolean;
}

/**
 * A local file read whole (or its head), regular files only: a FIFO, a device (/dev/zero), a socket
 * or a folder is refused before anything is opened, so nothing blocks or grows without bound.
 */
export async function readRegularFile(path: string, opts: ReadFileOptions): Promise<{ bytes: Uint8Array; size: number; capped: boolean }> {
  const what = opts.what ?? 'File';
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw fsError(path, e);
  }
  if (!st.isFile()) throw new PolyPruneError('BAD_ARGUMENT', `${what} ${path} is ${kindOf(st)}, not a regular file; give a file on disk (save a stream to a file first).`);
  if (st.size > opts.maxBytes && !opts.head) {
    throw new PolyPruneError('INPUT_TOO_LARGE', `${what} ${path} is ${fmtBytes(st.size)}; at most ${fmtBytes(opts.maxBytes)} is read. Use a smaller file (the start of it is enough).`);
  }
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fsError(path, e);
  }
  try {
    const n = Math.min(st.size, opts.maxBytes);
    let bytes: Uint8Array = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await fh.read(bytes, done, n - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    bytes = bytes.subarray(0, done);
    const capped = st.size > opts.maxBytes;
    if (capped) {
      const nl = bytes.lastIndexOf(0x0a);
      let end = nl > 0 ? nl + 1 : bytes.length;
      if (nl <= 0) {
        while (end > 0 && (bytes[end - 1] & 0xc0) === 0x80) end--;
        if (end > 0 && bytes[end - 1] >= 0xc0) end--;
      }
      bytes = bytes.subarray(0, end);
    }
    return { bytes, size: st.size, capped };
  } catch (e) {
    throw fsError(path, e);
  } finally {
    await fh.close();
  }
}

function isNoEnt(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function notFound(path: string, e: unknown): PolyPruneError {
  return new PolyPruneError('FILE_NOT_FOUND', `File not found: ${path}.`, { cause: e });
}

/** A one-line message for a file-system error on `path` (no stack, no internal function names). */
export function fsError(path: string, e: unknown): PolyPruneError {
  const code = (e as { code?: unknown } | null)?.code;
  const why =
    code === 'ELOOP'
      ? 'it is a symbolic link loop (a link that points back to itself)'
      : code === 'EISDIR'
        ? 'it is a folder, not a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOTDIR'
            ? 'a part of the path is a file, not a folder'
            : code === 'ENOENT'
              ? 'it does not exist'
              : `${typeof code === 'string' ? `${code}: ` : ''}${(e as Error)?.message ?? String(e)}`;
  return new PolyPruneError('FILE_NOT_FOUND', `Cannot read ${path}: ${why}.`, { cause: e });
}

/**
 * A local file read with positioned reads (`FileHandle.read` at an offset); the handle opens on the
 * first use and stays open until `close()`.
 */
export function pathSource(path: string, displayName: string = path): ByteSource {
  let handle: Promise<FileHandle> | null = null;
  let sizeCache: number | undefined;
  const getHandle = (): Promise<FileHandle> => {
    // stat first: opening a FIFO without a writer would block forever
    handle ??= stat(path)
      .then((st) => {
        if (!st.isFile()) throw new PolyPruneError('BAD_ARGUMENT', `${path} is ${kindOf(st)}, not a regular file; give a file on disk.`);
        return open(path, 'r');
      })
      .catch((e: unknown) => {
        handle = null;
        if (e instanceof PolyPruneError) throw e;
        if ((e as { code?: unknown }).code === 'ENOENT') throw notFound(path, e);
        throw fsError(path, e);
      });
    return handle;
  };
  return {
    name: displayName,
    async size() {
      if (sizeCache === undefined) sizeCache = (await (await getHandle()).stat()).size;
      return sizeCache;
    },
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new PolyPruneError('BAD_ARGUMENT', `Invalid byte range offset=${offset} length=${length} for ${path}.`);
      }
      const fh = await getHandle();
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new PolyPruneError(
            'BAD_ARGUMENT',
            `Cannot read bytes [${offset}, ${offset + length}) of ${path}: the file ends at byte ${offset + done}.`,
          );
        }
        done += bytesRead;
      }
      return out;
    },
    async close() {
      const h = handle;
      handle = null;
      if (h) await (await h.catch(() => null))?.close();
    },
  };
}

/** A model folder on the local disk. */
export function dirFolder(dir: string): ModelFolder {
  const location = resolve(dir);
  const pathOf = (name: string): string => {
    if (name === '' || name.startsWith('/') || name.split(/[\\/]/).includes('..')) {
      throw new PolyPruneError(
        'BAD_ARGUMENT',
        `Invalid file name '${name}' in ${location}: expected a path relative to the model folder.`,
      );
    }
    return join(location, name);
  };
  return {
    location,
    localDir: true,
    async readText(name) {
      const p = pathOf(name);
      let st: Stats;
      try {
        st = await stat(p);
      } catch (e) {
        if (isNoEnt(e)) {
          throw new PolyPruneError('FILE_NOT_FOUND', `File '${name}' not found in ${location}.`, { cause: e });
        }
        throw fsError(p, e);
      }
      if (st.isDirectory()) throw fsError(p, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
      if (!st.isFile()) throw new PolyPruneError('BAD_ARGUMENT', `${p} is ${kindOf(st)}, not a regular file; the model folder needs ${name} as a file.`);
      if (st.size > MAX_JSON_BYTES) throw jsonTooLarge(p, st.size);
      try {
        return await readFile(p, 'utf8');
      } catch (e) {
        throw fsError(p, e);
      }
    },
    open(name) {
      const p = pathOf(name);
      const src = pathSource(p);
      const wrap = async <T>(f: () => Promise<T>): Promise<T> => {
        try {
          return await f();
        } catch (e) {
          if (e instanceof PolyPruneError && e.code === 'FILE_NOT_FOUND' && isNoEnt(e.cause)) {
            throw new PolyPruneError('FILE_NOT_FOUND', `File '${name}' not found in ${location}.`, { cause: e.cause });
          }
          throw e;
        }
      };
      return {
        name: p,
        size: () => wrap(() => src.size()),
        read: (offset, length) => wrap(() => src.read(offset, length)),
        close: () => src.close?.() ?? Promise.resolve(),
      };
    },
    async exists(name) {
      const p = pathOf(name);
      let st;
      try {
        st = await stat(p);
      } catch (e) {
        if (isNoEnt(e)) return false;
        throw fsError(p, e);
      }
      if (st.isDirectory()) throw new PolyPruneError('FILE_NOT_FOUND', `${p} is a folder, not a file; the model folder needs ${name} as a file.`);
      return st.isFile();
    },
  };
}

/**
 * A local model folder, checked up front: it must exist and be a folder (a missing path, a file, a
 * symbolic link loop or an unreadable folder each get their own one-line message).
 */
export function checkedDirFolder(dir: string): ModelFolder {
  const p = resolve(dir);
  let st;
  try {
    st = statSync(p);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') throw new PolyPruneError('FILE_NOT_FOUND', `Model folder ${p} does not exist (a model folder holds config.json, tokenizer.json and *.safetensors).`, { cause: e });
    throw fsError(p, e);
  }
  if (!st.isDirectory()) throw new PolyPruneError('BAD_ARGUMENT', `${p} is a file; --model needs the model's folder (config.json, model.safetensors, tokenizer.json) or an http(s) URL.`);
  return dirFolder(p);
}

/** Whether process `pid` is running (EPERM: it is, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Spill files for pruned matrices (src/io/spill.ts) in `dir` (default os.tmpdir(), which honours
 * TMPDIR): one file per pruned model, `polyprune-pruned-<pid>-<random>.bin`, readable by its owner
 * only, deleted when the model is unloaded. Files of processes that are gone (killed mid-run) are
 * removed when the next one is made.
 */
export function nodeSpill(dir: string = tmpdir()): SpillBacking {
  return {
    where: `the temporary folder ${dir}`,
    async create(): Promise<SpillFile> {
      for (const f of await readdir(dir).catch(() => [])) {
        const m = /^polyprune-pruned-(\d+)-[0-9a-f]+\.bin$/.exec(f);
        if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await unlink(join(dir, f)).catch(() => undefined);
      }
      const path = join(dir, `polyprune-pruned-${process.pid}-${randomBytes(6).toString('hex')}.bin`);
      let fh: FileHandle;
      try {
        fh = await open(path, 'wx+', 0o600);
      } catch (e) {
        throw writeError(path, e);
      }
      let closed = false;
      return {
        location: path,
        async write(at, bytes) {
          for (let done = 0; done < bytes.byteLength; ) {
            const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, at + done).catch((e: unknown) => {
              throw writeError(path, e);
            });
            done += bytesWritten;
          }
        },
        async read(at, length) {
          const out = new Uint8Array(length);
          for (let done = 0; done < length; ) {
            const { bytesRead } = await fh.read(out, done, length - done, at + done).catch((e: unknown) => {
              throw fsError(path, e);
            });
            if (bytesRead === 0) throw new PolyPruneError('STORAGE_UNAVAILABLE', `The spill file ${path} ended at ${at + done} bytes, ${length - done} short; was it removed or truncated? Prune the model again.`);
            done += bytesRead;
          }
          return out;
        },
        async delete() {
          if (closed) return;
          closed = true;
          await fh.close().catch(() => undefined);
          await unlink(path).catch(() => undefined);
        },
      };
    },
    async freeBytes() {
      const st = await statfs(dir);
      return Number(st.bavail) * Number(st.bsize);
    },
  };
}

/** A one-line message for a failed write or create of `path` (a full disk, a read-only folder). */
function writeError(path: string, e: unknown): PolyPruneError {
  const code = (e as { code?: unknown } | null)?.code;
  const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'the folder is not writable' : code === 'ENOENT' ? 'the folder does not exist' : `${typeof code === 'string' ? `${code}: ` : ''}${(e as Error)?.message ?? String(e)}`;
  return new PolyPruneError(code === 'ENOSPC' ? 'STORAGE_FULL' : 'OUTPUT_FAILED', `Cannot write ${path}: ${why}.`, { cause: e });
}
