/**
 * A single output file of the CLI (grid --out): checked before any work, under the rule `prune`
 * follows for its folder (an existing path is refused; nothing is replaced), and written through
 * `<out>.partial-<pid>` + rename, so a failed or interrupted write leaves the old state.
 */
import { constants } from 'node:fs';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PolyPruneError } from '../common/errors';
import { outputError } from '../export/node';

const partialOf = (out: string): string => `${resolve(out)}.partial-${process.pid}`;

/**
 * Refuses `out` before anything runs: empty, an existing file or folder (except `sameAs`, the record
 * being resumed, which is extended in place), a parent that is missing, not a folder or not writable.
 */
export async function checkOutFile(out: string, flag: string, sameAs?: string): Promise<void> {
  if (out.trim() === '') throw new PolyPruneError('BAD_ARGUMENT', `${flag}: the output path is empty; give a file name (e.g. ${flag} experiment.json).`);
  const dest = resolve(out);
  let st;
  try {
    st = await stat(dest);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new PolyPruneError('BAD_ARGUMENT', `${flag} ${out}: cannot be used (${code ?? (e as Error).message}); nothing was run.`);
  }
  if (st?.isDirectory()) throw new PolyPruneError('BAD_ARGUMENT', `${flag} ${out} is a folder; give a file name (e.g. ${out.replace(/\/+$/, '')}/experiment.json). Nothing was run.`);
  if (st && !(sameAs !== undefined && resolve(sameAs) === dest)) {
    throw new PolyPruneError('OUTPUT_EXISTS', `${flag} ${out} already exists; choose another file or remove it first (as prune does for its folder, nothing is replaced). Nothing was run.`);
  }
  const dir = dirname(dest);
  let dst;
  try {
    dst = await stat(dir);
  } catch {
    throw new PolyPruneError('BAD_ARGUMENT', `${flag} ${out}: the folder ${dir} does not exist; create it first. Nothing was run.`);
  }
  if (!dst.isDirectory()) throw new PolyPruneError('BAD_ARGUMENT', `${flag} ${out}: ${dir} is a file, not a folder. Nothing was run.`);
  // a real probe: create (and remove) the partial file the write will use
  const probe = partialOf(out);
  try {
    const fh = await open(probe, 'wx');
    await fh.close();
    await rm(probe, { force: true });
    if (st) await access(dest, constants.W_OK);
  } catch (e) {
    await rm(probe, { force: true }).catch(() => undefined);
    throw new PolyPruneError('BAD_ARGUMENT', `${flag} ${out} cannot be written (${(e as { code?: string }).code ?? (e as Error).message}); choose a place you can write to. Nothing was run.`);
  }
}

/** Writes `text` to `out` through a partial file and a rename; OUTPUT_FAILED (one line) on failure. */
export async function writeOutFile(out: string, text: string): Promise<void> {
  const tmp = partialOf(out);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
    await rename(tmp, resolve(out));
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PolyPruneError('OUTPUT_FAILED', `Cannot write ${out}: its folder ${dirname(resolve(out))} no longer exists. Nothing was kept.`, { cause: e });
    throw outputError(e, out);
  }
}

export { partialOf };
