/**
 * Node output sink: files go into `<out>.partial-<pid>` beside the destination and the folder is
 * renamed to `<out>` on commit, so a cancelled or failed run leaves nothing at `<out>` (abort removes
 * the partial folder). An existing `<out>` is refused up front with OUTPUT_EXISTS.
 * Node only (CLI, tests); the browser never imports this file.
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PolyPruneError } from '../common/errors';
import type { OutputSink } from './hf';

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

/** A sink writing into a fresh folder `out` (see the file comment). */
export async function nodeOutputSink(out: string): Promise<OutputSink & { readonly path: string; readonly partialPath: string }> {
  const dest = resolve(out);
  if (await exists(dest)) throw outputExists(dest);
  await mkdir(dirname(dest), { recursive: true });
  const partial = join(dirname(dest), `${basename(dest)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true }); // a leftover of a crashed run with this pid
  await mkdir(partial);
  let state: 'open' | 'committed' | 'aborted' = 'open';
  return {
    path: dest,
    partialPath: partial,
    async writeFile(name, chunks) {
      if (state !== 'open') throw new PolyPruneError('INTERNAL', `writeFile('${name}') after ${state}`);
      if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') throw new PolyPruneError('INTERNAL', `Invalid output file name '${name}'`);
      const fh = await open(join(partial, name), 'wx');
      try {
        for (const c of chunks) {
          let off = 0;
          while (off < c.byteLength) off += (await fh.write(c, off, c.byteLength - off)).bytesWritten;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async commit() {
      if (state !== 'open') throw new PolyPruneError('INTERNAL', `commit after ${state}`);
      if (await exists(dest)) {
        await rm(partial, { recursive: true, force: true });
        state = 'aborted';
        throw outputExists(dest);
      }
      await rename(partial, dest);
      state = 'committed';
    },
    async abort() {
      if (state === 'committed') return;
      state = 'aborted';
      await rm(partial, { recursive: true, force: true });
    },
  };
}
