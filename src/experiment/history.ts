/**
 * Run history in the browser: every result record kept in IndexedDB (through `idb`), plus the finished
 * cells of experiments still running, so that a reload, a closed tab or a lost GPU device can resume.
 *
 * Database `polyprune` (version 1):
 *   runs     keyPath id: { id, name, savedAt (ISO), record }    one finished result each
 *   partial  keyPath id: { id, startedAt, updatedAt, data }     an experiment in progress (resume)
 *
 * Every write is one transaction: when the browser's quota runs out the transaction aborts, nothing
 * already stored is touched, and the caller gets STORAGE_FULL with what is used and available.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { PolyPruneError } from '../common/errors';
import { fmtBytes } from '../common/format';
import type { RecordParser } from './share';

export interface HistoryEntry<R> {
  id: string;
  /** Name shown in the list; the user can rename it. */
  name: string;
  /** When it was stored (ISO 8601). */
  savedAt: string;
  record: R;
}

export interface PartialRun<P> {
  id: string;
  startedAt: string;
  updatedAt: string;
  data: P;
}

interface Schema extends DBSchema {
  runs: { key: string; value: HistoryEntry<unknown> };
  partial: { key: string; value: PartialRun<unknown> };
}

export const HISTORY_DB = 'polyprune';
/** The export file: `{ format, version, exportedAt, entries }`. */
export const HISTORY_FORMAT = 'polyprune-history';
export const HISTORY_VERSION = 1;

const exportEntrySchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().max(500),
  savedAt: z.string().min(1).max(100),
  record: z.unknown(),
});
const exportFileSchema = z.object({
  format: z.literal(HISTORY_FORMAT),
  version: z.number().int().min(1),
  exportedAt: z.string().optional(),
  entries: z.array(exportEntrySchema),
});

export interface StorageInfo {
  /** Bytes used by this origin (navigator.storage.estimate), null when the browser does not say. */
  usage: number | null;
  /** Bytes this origin may use, null when unknown. */
  quota: number | null;
  /** Whether the browser promised not to evict this origin's data (navigator.storage.persisted). */
  persisted: boolean | null;
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

export function newId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export async function storageInfo(): Promise<StorageInfo> {
  const st = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  let usage: number | null = null;
  let quota: number | null = null;
  let persisted: boolean | null = null;
  try {
    const est = await st?.estimate?.();
    usage = est?.usage ?? null;
    quota = est?.quota ?? null;
  } catch {
    /* not offered: unknown */
  }
  try {
    persisted = (await st?.persisted?.()) ?? null;
  } catch {
    /* unknown */
  }
  return { usage, quota, persisted };
}

/** Ask the browser to keep this origin's data (navigator.storage.persist); false when refused or not offered. */
export async function requestPersistence(): Promise<boolean> {
  try {
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}

/** History of result records of type R (validated by `parse` on import and on read). */
export class RunHistory<R> {
  private constructor(
    private readonly db: IDBPDatabase<Schema>,
    private readonly parse: RecordParser<R>,
  ) {}

  static async open<R>(parse: RecordParser<R>, dbName = HISTORY_DB): Promise<RunHistory<R>> {
    if (typeof indexedDB === 'undefined') throw new PolyPruneError('STORAGE_UNAVAILABLE', 'This browser offers no IndexedDB, so results cannot be kept after the tab closes.');
    try {
      const db = await openDB<Schema>(dbName, 1, {
        upgrade(d) {
          if (!d.objectStoreNames.contains('runs')) d.createObjectStore('runs', { keyPath: 'id' });
          if (!d.objectStoreNames.contains('partial')) d.createObjectStore('partial', { keyPath: 'id' });
        },
      });
      return new RunHistory(db, parse);
    } catch (e) {
      throw new PolyPruneError('STORAGE_UNAVAILABLE', `The browser's storage (IndexedDB) cannot be opened: ${(e as Error)?.message ?? String(e)}. Results will not be kept after the tab closes (private windows often block storage).`);
    }
  }

  close(): void {
    this.db.close();
  }

  /** Runs one write; a full quota becomes STORAGE_FULL (the transaction aborted, nothing else changed). */
  private async write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isQuotaError(e)) {
        const info = await storageInfo();
        const used = info.usage !== null && info.quota !== null ? ` (${fmtBytes(info.usage)} of ${fmtBytes(info.quota)} used)` : '';
        throw new PolyPruneError('STORAGE_FULL', `The browser's storage for this page is full${used}, so ${what} was not saved. Everything saved before is kept; export and delete old runs in History to make room.`);
      }
      if (e instanceof PolyPruneError) throw e;
      throw new PolyPruneError('STORAGE_UNAVAILABLE', `Could not save ${what}: ${(e as Error)?.message ?? String(e)}.`);
    }
  }

  /** Store a record as a new run; returns its entry. */
  async add(record: R, name: string, opts: { id?: string; savedAt?: string } = {}): Promise<HistoryEntry<R>> {
    const entry: HistoryEntry<R> = { id: opts.id ?? newId(), name, savedAt: opts.savedAt ?? new Date().toISOString(), record };
    await this.write('this result', async () => {
      const tx = this.db.transaction('runs', 'readwrite');
      await Promise.all([tx.store.put(entry as HistoryEntry<unknown>), tx.done]);
    });
    return entry;
  }

  /** Every run, newest first. Entries whose record no longer parses are left out (and counted). */
  async list(): Promise<{ entries: HistoryEntry<R>[]; unreadable: number }> {
    const all = await this.db.getAll('runs');
    const entries: HistoryEntry<R>[] = [];
    let unreadable = 0;
    for (const e of all) {
      try {
        entries.push({ ...e, record: this.parse(e.record) });
      } catch {
        unreadable++;
      }
    }
    entries.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.id.localeCompare(b.id)));
    return { entries, unreadable };
  }

  async get(id: string): Promise<HistoryEntry<R> | undefined> {
    const e = await this.db.get('runs', id);
    return e ? { ...e, record: this.parse(e.record) } : undefined;
  }

  async rename(id: string, name: string): Promise<void> {
    const trimmed = name.trim();
    if (!trimmed) throw new PolyPruneError('BAD_ARGUMENT', 'A run needs a name; enter at least one character.');
    await this.write('the new name', async () => {
      const tx = this.db.transaction('runs', 'readwrite');
      const e = await tx.store.get(id);
      if (!e) throw new PolyPruneError('BAD_ARGUMENT', 'That run is no longer in History (deleted in another tab?).');
      await tx.store.put({ ...e, name: trimmed });
      await tx.done;
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.delete('runs', id);
  }

  /** All of history as one JSON document (the export file). */
  async exportAll(): Promise<string> {
    const { entries } = await this.list();
    return JSON.stringify({ format: HISTORY_FORMAT, version: HISTORY_VERSION, exportedAt: new Date().toISOString(), entries }, null, 1);
  }

  /**
   * Import an export file. The whole file is validated first (wrong shape: HISTORY_INVALID naming the
   * first problem, nothing stored); runs whose id is already in history are skipped.
   */
  async importAll(text: string): Promise<{ added: number; skipped: number }> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PolyPruneError('HISTORY_INVALID', 'This file is not JSON, so it is not a PolyPrune history export.');
    }
    if ((json as { format?: unknown })?.format !== HISTORY_FORMAT) throw new PolyPruneError('HISTORY_INVALID', `This JSON file is not a PolyPrune history export (no "format": "${HISTORY_FORMAT}").`);
    const parsed = exportFileSchema.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new PolyPruneError('HISTORY_INVALID', `This history file has the wrong shape at ${i.path.join('.') || 'the top level'}: ${i.message}. Nothing was imported.`);
    }
    if (parsed.data.version > HISTORY_VERSION) throw new PolyPruneError('HISTORY_INVALID', `This history file was written by a newer PolyPrune (version ${parsed.data.version}; this one reads ${HISTORY_VERSION}). Nothing was imported.`);
    const entries: HistoryEntry<R>[] = parsed.data.entries.map((e, i) => {
      try {
        return { ...e, record: this.parse(e.record) };
      } catch (err) {
        throw new PolyPruneError('HISTORY_INVALID', `Run ${i + 1} ('${e.name}') of this history file is not a valid result: ${(err as Error).message} Nothing was imported.`);
      }
    });
    return this.write('the imported runs', async () => {
      const tx = this.db.transaction('runs', 'readwrite');
      let added = 0;
      let skipped = 0;
      for (const e of entries) {
        if (await tx.store.getKey(e.id)) skipped++;
        else {
          await tx.store.put(e as HistoryEntry<unknown>);
          added++;
        }
      }
      await tx.done;
      return { added, skipped };
    });
  }

  // ---------------------------------------------------------------- experiments in progress

  /** Create or replace an experiment in progress (its finished cells so far). */
  async savePartial<P>(id: string, data: P, startedAt?: string): Promise<void> {
    await this.write('the finished cells of the running experiment', async () => {
      const tx = this.db.transaction('partial', 'readwrite');
      const old = await tx.store.get(id);
      const now = new Date().toISOString();
      await tx.store.put({ id, startedAt: startedAt ?? old?.startedAt ?? now, updatedAt: now, data });
      await tx.done;
    });
  }

  async listPartial<P>(): Promise<PartialRun<P>[]> {
    const all = (await this.db.getAll('partial')) as PartialRun<P>[];
    return all.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
  }

  async removePartial(id: string): Promise<void> {
    await this.db.delete('partial', id);
  }
}
