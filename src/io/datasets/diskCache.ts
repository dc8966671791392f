/**
 * The CLI's dataset cache on disk (`--cache-dir`, default `$XDG_CACHE_HOME/polyprune/datasets` or
 * `~/.cache/polyprune/datasets`). One entry = `<sha256(key)>.bin` (the bytes) and `<sha256(key)>.json`
 * (the key, byte count and SHA-256 of the bytes). Both are written to a temporary name and renamed;
 * the `.json` last, so an entry is trusted only once its bytes are complete, and a read checks the
 * bytes against the recorded SHA-256 (a damaged entry is dropped and read again from the Hub). A full
 * disk (ENOSPC, EDQUOT) removes the temporary files and throws STORAGE_FULL.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PolyPruneError } from '../../common/errors';
import type { DatasetCache } from './cache';

export function defaultDatasetCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || (process.platform === 'win32' ? env.LOCALAPPDATA : undefined) || join(homedir(), '.cache');
  return join(base, 'polyprune', 'datasets');
}

export interface DiskCacheFs {
  writeFile: typeof writeFile;
}

const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface DiskDatasetCache extends DatasetCache {
  readonly dir: string;
  info(): Promise<{ entries: number; bytes: number }>;
  clear(): Promise<void>;
}

export function diskDatasetCache(dir: string, fs: DiskCacheFs = { writeFile }): DiskDatasetCache {
  let seq = 0;
  const paths = (key: string) => {
    const h = sha(key);
    return { bin: join(dir, `${h}.bin`), meta: join(dir, `${h}.json`) };
  };
  return {
    dir,
    async get(key) {
      const p = paths(key);
      let meta: { key?: string; bytes?: number; sha256?: string };
      try {
        meta = JSON.parse(await readFile(p.meta, 'utf8')) as typeof meta;
      } catch {
        return undefined;
      }
      try {
        const bytes = new Uint8Array(await readFile(p.bin));
        if (meta.key === key && meta.bytes === bytes.byteLength && meta.sha256 === sha(bytes)) return bytes;
      } catch {
        /* missing bytes: drop the entry below */
      }
      await rm(p.meta, { force: true });
      await rm(p.bin, { force: true });
      return undefined;
    },
    async put(key, bytes) {
      const p = paths(key);
      const tmp = `.tmp-${process.pid}-${++seq}`;
      try {
        await mkdir(dir, { recursive: true });
        await rm(p.meta, { force: true }); // an old entry is untrusted until the new one is complete
        await fs.writeFile(p.bin + tmp, bytes);
        await rename(p.bin + tmp, p.bin);
        await fs.writeFile(p.meta + tmp, JSON.stringify({ key, bytes: bytes.byteLength, sha256: sha(bytes) }));
        await rename(p.meta + tmp, p.meta);
      } catch (e) {
        await rm(p.bin + tmp, { force: true });
        await rm(p.meta + tmp, { force: true });
        const code = (e as NodeJS.ErrnoException)?.code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          await rm(p.bin, { force: true });
          throw new PolyPruneError('STORAGE_FULL', `no space left in ${dir} (${code})`);
        }
        throw new PolyPruneError('OUTPUT_FAILED', `Cannot write the dataset cache in ${dir}: ${(e as Error)?.message ?? String(e)}. Give another --cache-dir, or --no-cache.`);
      }
    },
    async info() {
      let entries = 0;
      let bytes = 0;
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return { entries: 0, bytes: 0 };
      }
      for (const n of names) {
        if (n.endsWith('.json')) entries++;
        try {
          bytes += (await stat(join(dir, n))).size;
        } catch {
          /* removed meanwhile */
        }
      }
      return { entries, bytes };
    },
    async clear() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
