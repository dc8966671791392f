/**
 * What the dataset layer keeps between runs, by key: a revision's commit sha (`rev:`), a folder
 * listing at a sha (`tree:`), a text taken from a corpus (`text:`) and the rows of a task split
 * (`rows:`). Everything but `rev:` is addressed by a commit sha, so it never goes stale; `rev:` is
 * read only offline. The CLI keeps these on disk (src/io/datasets/diskCache.ts), the page in the
 * Cache API next to the weights (src/io/cache.ts). A store that is full throws STORAGE_FULL; the
 * caller then goes on uncached and says so once.
 */
export interface DatasetCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

export function memoryDatasetCache(): DatasetCache & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>();
  return {
    map,
    async get(key) {
      return map.get(key);
    },
    async put(key, bytes) {
      map.set(key, bytes.slice());
    },
  };
}

export async function getJson<T>(cache: DatasetCache | undefined, key: string): Promise<T | undefined> {
  if (!cache) return undefined;
  try {
    const b = await cache.get(key);
    return b ? (JSON.parse(new TextDecoder().decode(b)) as T) : undefined;
  } catch {
    return undefined; // an unreadable entry is a miss
  }
}

export async function putJson(cache: DatasetCache | undefined, key: string, value: unknown, onFull?: (e: unknown) => void): Promise<void> {
  if (!cache) return;
  try {
    await cache.put(key, new TextEncoder().encode(JSON.stringify(value)));
  } catch (e) {
    if ((e as { code?: string })?.code === 'STORAGE_FULL' || (e as { name?: string })?.name === 'QuotaExceededError') onFull?.(e);
    else throw e;
  }
}

export async function sha256HexOf(text: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
