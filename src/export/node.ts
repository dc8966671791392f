/**
 * Node export sink: files stream into `<out>.partial-<pid>` beside the destination and the folder is
 * renamed to `<out>` on commit, so a cancelled or failed run leaves nothing at `<out>` (abort removes
 * the partial folder). An existing `<out>` is refused up front with OUTPUT_EXISTS; file system errors
 * (no permission, disk full) become OUTPUT_FAILED with a one-line message.
 * Node only (CLI, tests); the browser never imports this file.
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PolyPruneError } from '../common/errors';
import { SinkState, type ExportSink } from './sink';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return false;
    throw e;
  }
}

function outputExists(out: string): PolyPruneError {
  return new PolyPruneError('OUTPUT_EXISTS', `Output folder '${out}' already exists. Choose another output path or remove it first; nothing was written.`);
}

/** A file system error as a one-line OUTPUT_FAILED message. */
export function outputError(e: unknown, what: string): PolyPruneError {
  if (e instanceof PolyPruneError) return e;
  const code = (e as { code?: string }).code;
  const why =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? 'permission denied (choose a folder you can write to)'
      : code === 'ENOSPC' || code === 'EDQUOT'
        ? 'no space left on the device (free some space or choose another disk)'
        : code === 'EFBIG'
          ? 'the file is larger than this file system allows'
          : ((e as Error)?.message ?? String(e));
  return new PolyPruneError('OUTPUT_FAILED', `Cannot write ${what}: ${why}. Nothing was kept.`, { cause: e });
}

/**
 * Throw OUTPUT_EXISTS if `out` exists, and BAD_ARGUMENT if it cannot be created: an empty path, a
 * parent that is a regular file, or a folder that cannot be written (read-only, /proc, no permission).
 * Call before any long work, so a long prune never ends in a write error.
 */
export async function checkOutputFree(out: string): Promise<void> {
  if (out.trim() === '') throw new PolyPruneError('BAD_ARGUMENT', 'The output path is empty; give a folder name that does not exist yet (e.g. --out pruned-model).');
  const dest = resolve(out);
  try {
    await stat(dest);
    throw outputExists(dest);
  } catch (e) {
    if (e instanceof PolyPruneError) throw e;
    const code = (e as { code?: string }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new PolyPruneError('BAD_ARGUMENT', `Cannot use '${dest}' as the output folder (${code ?? (e as Error).message}); nothing was run.`);
  }
  // the nearest existing ancestor must be a folder we can create entries in
  let dir = dirname(dest);
  for (;;) {
    let st;
    try {
      st = await stat(dir);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' && dirname(dir) !== dir) {
        dir = dirname(dir);
        continue;
      }
      if (code === 'ENOTDIR') {
        dir = dirname(dir);
        continue;
      }
      throw new PolyPruneError('BAD_ARGUMENT', `Cannot write the output folder '${dest}': ${dir} is not accessible (${code ?? (e as Error).message}); nothing was run.`);
    }
    if (!st.isDirectory()) throw new PolyPruneError('BAD_ARGUMENT', `Cannot write the output folder '${dest}': ${dir} is a file, not a folder; nothing was run.`);
    break;
  }
  const probe = join(dir, `.polyprune-write-test-${process.pid}`);
  try {
    await mkdir(probe);
    await rm(probe, { recursive: true, force: true });
  } catch (e) {
    throw new PolyPruneError('BAD_ARGUMENT', `Cannot write the output folder '${dest}': creating a folder in ${dir} fails (${(e as { code?: string }).code ?? (e as Error).message}); choose a writable place. Nothing was run.`);
  }
}

export interface NodeSinkOptions {
  /** Called after each chunk is written (tests simulate a full disk by throwing an ENOSPC error here). */
  afterWrite?: (file: string, written: number) => void;
}

/** A sink writing into a fresh folder `out` (see the file comment). */
export async function nodeOutputSink(out: string, options: NodeSinkOptions = {}): Promise<ExportSink & { readonly path: string; readonly partialPath: string }> {
  const dest = resolve(out);
  if (await exists(dest)) throw outputExists(dest);
  const partial = join(dirname(dest), `${basename(dest)}.partial-${process.pid}`);
  try {
    await mkdir(dirname(dest), { recursive: true });
    await rm(partial, { recursive: true, force: true }); // a leftover of a crashed run with this pid
    await mkdir(partial);
  } catch (e) {
    throw outputError(e, `into '${dirname(dest)}'`);
  }
  const st = new SinkState();
  let fh: FileHandle | null = null;
  const fail = async (e: unknown, what: string): Promise<never> => {
    const err = outputError(e, what);
    await sink.abort();
    throw err;
  };
  const sink = {
    path: dest,
    partialPath: partial,
    async beginFile(name: string, size?: number) {
      st.begin(name, size);
      try {
        const p = join(partial, ...name.split('/'));
        await mkdir(dirname(p), { recursive: true });
        fh = await open(p, 'wx');
      } catch (e) {
        await fail(e, `'${name}' in '${dirname(dest)}'`);
      }
    },
    async write(chunk: Uint8Array) {
      const name = st.wrote(chunk.byteLength);
      try {
        let off = 0;
        while (off < chunk.byteLength) off += (await fh!.write(chunk, off, chunk.byteLength - off)).bytesWritten;
        options.afterWrite?.(name, st.file!.written);
      } catch (e) {
        await fail(e, `'${name}' in '${dirname(dest)}'`);
      }
    },
    async endFile() {
      const name = st.end();
      try {
        await fh!.sync();
        await fh!.close();
        fh = null;
      } catch (e) {
        await fail(e, `'${name}' in '${dirname(dest)}'`);
      }
    },
    async commit() {
      st.commitCheck();
      if (await exists(dest)) {
        await sink.abort();
        throw outputExists(dest);
      }
      try {
        await rename(partial, dest);
      } catch (e) {
        await fail(e, `'${dest}'`);
      }
      st.state = 'committed';
    },
    async abort() {
      if (st.state === 'committed') return;
      st.state = 'aborted';
      const h = fh;
      fh = null;
      await h?.close().catch(() => undefined);
      await rm(partial, { recursive: true, force: true });
    },
  };
  return sink;
}
