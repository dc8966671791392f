/**
 * The calibration mixer's statistics kept in the browser (IndexedDB through `idb`) for reuse after a
 * reload: `engine.readStats` after a collection, `engine.loadStats` instead of a calibration pass.
 *
 * Database `polyprune-mixstats` (version 1), both stores keyed by `key` (statsKey):
 *   meta  { key, savedAt, modelSha256, method, sources: [{ name, windows, sha256 }], nsamples, seqlen, seed, bytes }
 *   data  { key, data: StatsData }   (the numbers; read only when reused)
 *
 * The key is the model's content hash, every source's name and SHA-256, nsamples, seqlen, seed and (for
 * SparseGPT's Hessians) the method: the same collection again overwrites its entry. SparseGPT's
 * statistics are larger (one K x K Hessian per source, layer and input group): a full quota is the same
 * STORAGE_FULL message, with the size. Each save is one transaction over both stores: when the
 * quota runs out it aborts, nothing stored before is touched, and the caller gets STORAGE_FULL.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { PolyPruneError } from '../../../common/errors';
import { fmtBytes } from '../../../common/format';
import { METHODS, MIX_METHODS, mixStatisticsOwner, type MixMethod, type StatsData } from '../../../engine';

export interface StoredStatsMeta {
  key: string;
  savedAt: string;
  modelSha256: string;
  /** Absent in entries saved before SparseGPT statistics were kept: Wanda. */
  method?: MixMethod;
  sources: { name: string; windows: number; sha256: string }[];
  nsamples: number;
  seqlen: number;
  seed: number | null;
  /** Bytes of the statistics and windows. */
  bytes: number;
}

interface Schema extends DBSchema {
  meta: { key: string; value: StoredStatsMeta; indexes: { model: string } };
  data: { key: string; value: { key: string; data: StatsData } };
}

export const MIX_STATS_DB = 'polyprune-mixstats';

export function statsKey(d: Pick<StatsData, 'modelSha256' | 'sources' | 'nsamples' | 'seqlen' | 'seed'> & { method?: StatsData['method'] }): string {
  const parts = [d.modelSha256, d.sources.map((s) => `${s.name}:${s.sha256}`).join(','), `n${d.nsamples}`, `t${d.seqlen}`, `seed${d.seed ?? '-'}`];
  // The first mixer method's (Wanda's) keys are those of the entries saved before other methods existed.
  // Methods that share a statistic share the entry (GPTQ's collection is SparseGPT's Hessians: filed
  // under 'sparsegpt', so collecting for either replaces it and either method reuses it).
  const owner = d.method !== undefined ? mixStatisticsOwner(d.method) : undefined;
  if (owner !== undefined && owner !== MIX_METHODS[0]) parts.push(owner);
  return parts.join('|');
}

let dbp: Promise<IDBPDatabase<Schema>> | null = null;

function db(): Promise<IDBPDatabase<Schema>> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new PolyPruneError('STORAGE_UNAVAILABLE', 'This browser offers no IndexedDB: the mixer statistics cannot be kept for a later visit.'));
  dbp ??= openDB<Schema>(MIX_STATS_DB, 1, {
    upgrade(d) {
      const meta = d.createObjectStore('meta', { keyPath: 'key' });
      meta.createIndex('model', 'modelSha256');
      d.createObjectStore('data', { keyPath: 'key' });
    },
  }).catch((e: unknown) => {
    dbp = null;
    throw new PolyPruneError('STORAGE_UNAVAILABLE', `The browser's storage (IndexedDB) cannot be opened: ${(e as Error)?.message ?? String(e)}. The mixer statistics are not kept for a later visit.`);
  });
  return dbp;
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** Store statistics read with engine.readStats (replacing an entry with the same key). */
export async function saveMixStats(data: StatsData): Promise<StoredStatsMeta> {
  const bytes = data.values.reduce((a, v) => a + v.byteLength, 0) + data.ids.byteLength;
  const meta: StoredStatsMeta = {
    key: statsKey(data),
    savedAt: new Date().toISOString(),
    modelSha256: data.modelSha256,
    method: data.method,
    sources: data.sources.map((s) => ({ name: s.name, windows: s.windows, sha256: s.sha256 })),
    nsamples: data.nsamples,
    seqlen: data.seqlen,
    seed: data.seed,
    bytes,
  };
  const d = await db();
  const tx = d.transaction(['meta', 'data'], 'readwrite');
  try {
    await Promise.all([tx.objectStore('data').put({ key: meta.key, data }), tx.objectStore('meta').put(meta), tx.done]);
  } catch (e) {
    // the put may fail with AbortError while the transaction's own error says why
    await tx.done.catch(() => undefined);
    if (isQuotaError(e) || isQuotaError(tx.error)) {
      throw new PolyPruneError('STORAGE_FULL', `The mixer statistics (${METHODS[data.method].statistic === 'hessian' ? `${METHODS[data.method].label}'s Hessians, ` : ''}${fmtBytes(bytes, { unit: 'MiB' })}) could not be kept for a later visit: the browser's storage for this page is full. They stay usable in this tab; nothing stored before was changed. Free space (History, Weight cache) to keep them.`);
    }
    throw new PolyPruneError('STORAGE_UNAVAILABLE', `The mixer statistics could not be stored: ${(e as Error)?.message ?? String(e)}. They stay usable in this tab.`);
  }
  return meta;
}

/** Stored statistics of a model (by content hash), newest first. */
export async function listMixStats(modelSha256: string): Promise<StoredStatsMeta[]> {
  const d = await db();
  const all = await d.getAllFromIndex('meta', 'model', modelSha256);
  return all.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}

export async function loadMixStats(key: string): Promise<StatsData> {
  const d = await db();
  const v = await d.get('data', key);
  if (!v) throw new PolyPruneError('BAD_ARGUMENT', 'These stored statistics are gone (deleted in another tab, or the browser cleared its storage); collect them again.');
  return v.data;
}

export async function deleteMixStats(key: string): Promise<void> {
  const d = await db();
  const tx = d.transaction(['meta', 'data'], 'readwrite');
  await Promise.all([tx.objectStore('meta').delete(key), tx.objectStore('data').delete(key), tx.done]);
}

/** Close the connection (tests). */
export async function closeMixStatsDb(): Promise<void> {
  const p = dbp;
  dbp = null;
  if (p) (await p.catch(() => null))?.close();
}
