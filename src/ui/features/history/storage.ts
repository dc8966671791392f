/**
 * History storage: the IndexedDB database of kept runs (experiment/history.ts) and of experiments in
 * progress (`partial`, for resume), share links in and out, export / import, and the list the History
 * panel shows. Imports no feature action, so every feature may keep its records through it (records.ts).
 */
import { newId, requestPersistence, RunHistory, storageInfo } from '../../../experiment/history';
import { parseResultRecord, type ExperimentRecord, type ResultRecord } from '../../../experiment/records';
import { decodeRecordLink, recordShareLink, sharePayload } from '../../../experiment/share';
import { saveBlob } from '../../download';
import { distinctName, recordTitle } from './names';
import { cellProgress, recordToRun } from './recordRun';
import { errorText, reportError, store } from '../../store/actions/core';

let db: RunHistory<ResultRecord> | null = null;
let persistAsked = false;

/** The database, or null while it is not open (or not available in this browser). */
export function historyDb(): RunHistory<ResultRecord> | null {
  return db;
}

export const historyInfo = (text: string): void => store().pushMessage({ panel: 'history', level: 'info', text });

/** An experiment in progress as stored for resume (the texts it needs are stored beside it under `texts:<id>`). */
export interface PartialData {
  label: string;
  record: ExperimentRecord;
}

export { newId };

// ------------------------------------------------------------------ start-up

/** Open a share link in the URL, open the history database, look for an experiment to resume. */
export async function initHistory(): Promise<void> {
  openSharedFromLocation();
  window.addEventListener('hashchange', openSharedFromLocation);
  try {
    db = await RunHistory.open(parseResultRecord);
    store().setHistory({ historyStatus: { state: 'ready' } });
    await refreshHistory();
    await findResumable();
  } catch (e) {
    store().setHistory({ historyStatus: { state: 'unavailable', message: errorText(e) } });
  }
}

/** `#r=...` in the address: show that result (no recomputing); a bad link says why, the page goes on. */
export function openSharedFromLocation(): void {
  if (sharePayload(location.hash) === null) return;
  store().clearMessages('app');
  try {
    const shared = decodeRecordLink(location.hash);
    store().setHistory({ shared });
  } catch (e) {
    store().setHistory({ shared: null });
    reportError('app', e);
  }
}

export function closeShared(): void {
  store().setHistory({ shared: null });
  history.replaceState(null, '', location.pathname + location.search);
}

export async function refreshHistory(): Promise<void> {
  if (!db) return;
  const { entries, unreadable } = await db.list();
  store().setHistory({ historyEntries: entries, historyUnreadable: unreadable, historyStorage: await storageInfo() });
}

// ------------------------------------------------------------------ kept runs

/** A name no other entry has: `name`, or it with what differs from the entries of that name. */
export function entryName(rec: ResultRecord, name = recordTitle(rec), except?: string): string {
  return distinctName(
    name,
    rec,
    store().historyEntries.filter((e) => e.id !== except),
  );
}

/** Store a record in history (asks once for persistent storage). Undefined when it could not be stored. */
export async function saveRecord(rec: ResultRecord, name = recordTitle(rec)): Promise<string | undefined> {
  if (!db) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'STORAGE_UNAVAILABLE', text: 'History is not available in this browser, so this result was not kept.' });
    return undefined;
  }
  store().clearMessages('history');
  try {
    await refreshHistory();
    const entry = await db.add(rec, entryName(rec, name));
    if (!persistAsked) {
      persistAsked = true;
      await requestPersistence();
    }
    await refreshHistory();
    return entry.id;
  } catch (e) {
    reportError('history', e);
    await refreshHistory().catch(() => undefined);
    return undefined;
  }
}

export async function renameEntry(id: string, name: string): Promise<void> {
  try {
    await db?.rename(id, name);
    await refreshHistory();
  } catch (e) {
    reportError('history', e);
  }
}

export async function deleteEntry(id: string): Promise<void> {
  try {
    await db?.remove(id);
    store().setHistory({ historyShown: store().historyShown.filter((x) => x !== id) });
    await refreshHistory();
  } catch (e) {
    reportError('history', e);
  }
}

/** Show an entry below the list; a second one is shown beside it (compare); a third replaces the older. */
export function toggleShown(id: string): void {
  const shown = store().historyShown;
  store().setHistory({ historyShown: shown.includes(id) ? shown.filter((x) => x !== id) : [...shown, id].slice(-2) });
}

export async function exportHistory(): Promise<void> {
  if (!db) return;
  try {
    const text = await db.exportAll();
    const name = `polyprune-history-${new Date().toISOString().slice(0, 10)}.json`;
    saveBlob(new Blob([text], { type: 'application/json' }), name);
    historyInfo(`Saved ${name} (${store().historyEntries.length} runs).`);
  } catch (e) {
    reportError('history', e);
  }
}

export async function importHistory(file: File): Promise<void> {
  if (!db) return;
  store().clearMessages('history');
  try {
    const { added, skipped } = await db.importAll(await file.text());
    await refreshHistory();
    historyInfo(`Imported ${added} run${added === 1 ? '' : 's'} from ${file.name}${skipped ? ` (${skipped} already in history)` : ''}.`);
  } catch (e) {
    reportError('history', e);
  }
}

/** Make the share link of a record, copy it to the clipboard and show it. */
export async function copyShareLink(key: string, rec: ResultRecord): Promise<void> {
  store().clearMessages('history');
  let made: ReturnType<typeof recordShareLink>;
  try {
    made = recordShareLink(rec, location.href.replace(/#.*$/, ''));
  } catch (e) {
    reportError('history', e);
    return;
  }
  let copied = false;
  try {
    await navigator.clipboard.writeText(made.link);
    copied = true;
  } catch {
    /* no clipboard permission: the link is shown to copy by hand */
  }
  store().setHistory({ lastLink: { key, link: made.link, omitted: made.omitted, copied } });
}

// ------------------------------------------------------------------ experiments in progress

/** Offer the newest interrupted experiment for resume (cells counted as the Experiment panel counts them). */
export async function findResumable(): Promise<void> {
  if (!db) return;
  const all = await db.listPartial<PartialData | Record<string, string>>();
  const p = all.find((x) => !x.id.startsWith('texts:') && (x.data as PartialData).record);
  if (!p) {
    store().setHistory({ resumeOffer: null });
    return;
  }
  const d = p.data as PartialData;
  const m = cellProgress(recordToRun(d.record));
  store().setHistory({ resumeOffer: { id: p.id, label: d.label, done: m.done, total: m.total, updatedAt: p.updatedAt } });
}

/** The stored run in progress and its texts (undefined when gone). */
export async function loadPartial(id: string): Promise<{ data: PartialData; texts: Record<string, string> } | undefined> {
  if (!db) return undefined;
  const all = await db.listPartial<PartialData | Record<string, string>>();
  const data = all.find((x) => x.id === id)?.data as PartialData | undefined;
  const texts = all.find((x) => x.id === `texts:${id}`)?.data as Record<string, string> | undefined;
  return data && texts ? { data, texts } : undefined;
}

export async function discardPartial(id: string): Promise<void> {
  await db?.removePartial(id).catch(() => undefined);
  await db?.removePartial(`texts:${id}`).catch(() => undefined);
}
